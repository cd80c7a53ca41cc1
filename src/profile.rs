//! `ferret profile`: what normal looks like, per network, before choosing thresholds.
//!
//! For every ICMP echo payload and every DNS query it records the values the
//! default rules test (payload length and entropy, raw and normalised; query
//! name and subdomain length and entropy), grouped by network (the config's,
//! or /24 and /64 groups without one) or by host, and reports their
//! distributions: count, min, p50, p90, p99, p99.9, max, histograms, and a
//! suggested threshold per network (a percentile plus a margin) as a YAML
//! snippet ready to paste under `networks:`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

use crate::capture::{CaptureData, PacketReader};
use crate::decode::entropy;
use crate::decode::features::{Features, Field, FieldValue};
use crate::decode::Packet;
use crate::engine::defrag::{Defrag, DefragLimits, DefragStats};
use crate::engine::dns_tcp::{message_packet, DnsTcp, DnsTcpLimits, DnsTcpStats};
use crate::engine::networks::NetworkMap;
use crate::engine::LINKTYPE_RAW;

/// How packets are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// By configured network (or /24 and /64 without a config).
    Network,
    /// By source address.
    Host,
}

/// The metrics recorded, with the variable each one suggests a value for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// ICMP echo payload length (bytes).
    IcmpLen,
    /// ICMP echo payload entropy (bits per byte).
    IcmpEntropy,
    /// ICMP echo payload entropy normalised for length (0-1).
    IcmpEntropyNorm,
    /// DNS query name length.
    DnsQnameLen,
    /// DNS query name entropy.
    DnsQnameEntropy,
    /// DNS subdomain length.
    DnsSubdomainLen,
    /// DNS subdomain entropy.
    DnsSubdomainEntropy,
}

impl Metric {
    /// All metrics in report order.
    pub const ALL: [Metric; 7] = [
        Metric::IcmpLen,
        Metric::IcmpEntropy,
        Metric::IcmpEntropyNorm,
        Metric::DnsQnameLen,
        Metric::DnsQnameEntropy,
        Metric::DnsSubdomainLen,
        Metric::DnsSubdomainEntropy,
    ];

    /// A label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Metric::IcmpLen => "icmp payload length",
            Metric::IcmpEntropy => "icmp payload entropy",
            Metric::IcmpEntropyNorm => "icmp payload entropy.norm",
            Metric::DnsQnameLen => "dns qname length",
            Metric::DnsQnameEntropy => "dns qname entropy",
            Metric::DnsSubdomainLen => "dns subdomain length",
            Metric::DnsSubdomainEntropy => "dns subdomain entropy",
        }
    }

    /// The variable of the shipped rules this metric tunes, if any.
    pub fn variable(self) -> Option<&'static str> {
        match self {
            Metric::IcmpEntropy => Some("ICMP_ENTROPY"),
            Metric::IcmpEntropyNorm => Some("ICMP_ENTROPY_NORM"),
            Metric::DnsQnameEntropy => Some("DNS_ENTROPY"),
            Metric::DnsSubdomainEntropy => Some("DNS_SUBDOMAIN_ENTROPY"),
            _ => None,
        }
    }

    /// The largest value the metric can take (thresholds are capped there).
    fn ceiling(self) -> Option<f64> {
        match self {
            Metric::IcmpEntropy | Metric::DnsQnameEntropy | Metric::DnsSubdomainEntropy => Some(8.0),
            Metric::IcmpEntropyNorm => Some(1.0),
            _ => None,
        }
    }

    fn is_length(self) -> bool {
        matches!(self, Metric::IcmpLen | Metric::DnsQnameLen | Metric::DnsSubdomainLen)
    }
}

/// Values of one metric in one group.
#[derive(Clone, Debug, Default)]
pub struct Distribution {
    values: Vec<f64>,
    sorted: bool,
}

impl Distribution {
    fn push(&mut self, v: f64) {
        self.values.push(v);
        self.sorted = false;
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.values.sort_by(f64::total_cmp);
            self.sorted = true;
        }
    }

    /// Number of values.
    pub fn count(&self) -> usize {
        self.values.len()
    }

    /// The `p`th percentile (0-100), nearest rank; `None` when empty.
    pub fn percentile(&mut self, p: f64) -> Option<f64> {
        self.sort();
        if self.values.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.values.len() as f64 - 1e-9).ceil() as usize;
        self.values.get(rank.clamp(1, self.values.len()) - 1).copied()
    }

    /// Counts per bin of `bins` equal bins over `[lo, hi]`.
    pub fn histogram(&self, lo: f64, hi: f64, bins: usize) -> Vec<usize> {
        let mut out = vec![0; bins.max(1)];
        let width = (hi - lo) / bins.max(1) as f64;
        for v in &self.values {
            let i = if width > 0.0 { ((v - lo) / width).floor().max(0.0) as usize } else { 0 };
            if let Some(c) = out.get_mut(i.min(bins.max(1) - 1)) {
                *c += 1;
            }
        }
        out
    }
}

/// One group's distributions.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The CIDRs the group stands for (for the YAML snippet).
    pub cidrs: Vec<String>,
    /// Per metric.
    pub metrics: BTreeMap<Metric, Distribution>,
}

/// IP and DNS-over-TCP reassembly over one capture, created when first needed.
#[derive(Default)]
struct Reassembly {
    defrag: Option<Defrag>,
    defrag_stats: DefragStats,
    dns_tcp: Option<DnsTcp>,
    dns_tcp_stats: DnsTcpStats,
}

/// The profile of some captures.
#[derive(Debug, Default)]
pub struct Profile {
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Packets read.
    pub packets: u64,
}

/// Settings of a profile run.
#[derive(Debug)]
pub struct ProfileOptions<'n> {
    /// Grouping.
    pub by: GroupBy,
    /// Configured networks (empty without a config).
    pub networks: &'n NetworkMap,
    /// Bounds of IP reassembly (the config's `defrag`, as `scan` uses them).
    pub defrag: DefragLimits,
    /// Bounds of DNS-over-TCP reassembly (the config's `dns_tcp`).
    pub dns_tcp: DnsTcpLimits,
}

impl Profile {
    /// Reads one capture into the profile. Returns the capture error, if any,
    /// after keeping what was read before it.
    pub fn add_capture(
        &mut self,
        data: &CaptureData,
        opts: &ProfileOptions<'_>,
    ) -> Result<(), crate::capture::CaptureError> {
        let reader = PacketReader::new(data.bytes())?;
        // Fragments and DNS-over-TCP streams are put back together as `scan`
        // does, so a network is profiled by what the rules will judge: whole
        // ping payloads beyond its MTU, whole DNS messages however segmented.
        let mut whole = Reassembly::default();
        for raw in reader {
            let raw = raw?;
            self.packets += 1;
            let pkt = Packet::decode(raw.link_type, raw.data, self.packets, raw.ts_nanos, raw.orig_len);
            let Some(frag) = &pkt.fragment else {
                self.add_whole(&pkt, &mut whole, opts);
                continue;
            };
            let d = whole.defrag.get_or_insert_with(|| Defrag::new(opts.defrag));
            if d.insert(&pkt, frag, &mut whole.defrag_stats).complete.is_none() {
                continue;
            }
            let datagram = d.take_datagram();
            let len = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
            let rebuilt = Packet::decode(LINKTYPE_RAW, &datagram, pkt.number, pkt.ts_nanos, len);
            self.add_whole(&rebuilt, &mut whole, opts);
            if let Some(d) = whole.defrag.as_mut() {
                d.restore(datagram);
            }
        }
        Ok(())
    }

    /// A packet that is not a fragment: a segment of a DNS-over-TCP stream
    /// is measured by the messages it completes, anything else as it is.
    fn add_whole(&mut self, pkt: &Packet<'_>, whole: &mut Reassembly, opts: &ProfileOptions<'_>) {
        if !pkt.is_dns_stream_segment() {
            return self.add_packet(pkt, opts);
        }
        let streams = whole.dns_tcp.get_or_insert_with(|| DnsTcp::new(opts.dns_tcp));
        if streams.insert(pkt, &mut whole.dns_tcp_stats) == 0 {
            return;
        }
        let messages = streams.take_messages();
        for (message, _) in messages.iter() {
            self.add_packet(&message_packet(pkt, message), opts);
        }
        if let Some(streams) = whole.dns_tcp.as_mut() {
            streams.restore(messages);
        }
    }

    fn add_packet(&mut self, pkt: &Packet<'_>, opts: &ProfileOptions<'_>) {
        let Some(ip) = pkt.ip() else { return };
        let icmp_echo = pkt.icmp().is_some_and(|h| h.is_echo()) && !pkt.payload.is_empty();
        let dns = pkt.carries_dns();
        if !icmp_echo && !dns {
            return;
        }
        let mut f = Features::new(pkt);
        f.read_segment_alone();
        let mut values: [(Metric, Option<f64>); 7] = [
            (Metric::IcmpLen, None),
            (Metric::IcmpEntropy, None),
            (Metric::IcmpEntropyNorm, None),
            (Metric::DnsQnameLen, None),
            (Metric::DnsQnameEntropy, None),
            (Metric::DnsSubdomainLen, None),
            (Metric::DnsSubdomainEntropy, None),
        ];
        if icmp_echo {
            let h = f.payload_entropy();
            values[0].1 = Some(pkt.payload.len() as f64);
            values[1].1 = Some(h);
            values[2].1 = Some(entropy::normalize(h, pkt.payload.len()));
        } else {
            if !matches!(f.dns(), Some(m) if !m.is_response()) {
                return;
            }
            let num = |v: Option<FieldValue<'_>>| match v {
                Some(FieldValue::Num(n)) => Some(n),
                _ => None,
            };
            values[3].1 = num(f.get(Field::DnsQnameLen));
            values[4].1 = num(f.get(Field::DnsQnameEntropy));
            values[5].1 = num(f.get(Field::DnsSubdomainLen));
            values[6].1 = num(f.get(Field::DnsSubdomainEntropy));
        }
        let (name, cidr) = group_of(ip.src, opts);
        let group = self.groups.entry(name).or_default();
        if group.cidrs.is_empty() {
            group.cidrs = cidr;
        }
        for (metric, value) in values {
            if let Some(v) = value {
                group.metrics.entry(metric).or_default().push(v);
            }
        }
    }

    /// The table of distributions (and text histograms of the entropies).
    pub fn write_table(&mut self, out: &mut String, histograms: bool) {
        let _ = writeln!(out, "{} packets read; {} groups", self.packets, self.groups.len());
        for (name, group) in &mut self.groups {
            let _ = writeln!(out, "\n{name} ({})", group.cidrs.join(", "));
            let _ = writeln!(
                out,
                "  {:<26} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                "metric", "count", "min", "p50", "p90", "p99", "p99.9", "max"
            );
            for (metric, dist) in &mut group.metrics {
                let mut row = format!("  {:<26} {:>7}", metric.label(), dist.count());
                for p in [0.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
                    let v = dist.percentile(p).unwrap_or(0.0);
                    let _ = if metric.is_length() { write!(row, " {v:>8.0}") } else { write!(row, " {v:>8.3}") };
                }
                let _ = writeln!(out, "{row}");
            }
            if histograms {
                for (metric, dist) in &group.metrics {
                    let Some(hi) = metric.ceiling() else { continue };
                    let _ = writeln!(out, "  {} histogram:", metric.label());
                    let bins = dist.histogram(0.0, hi, 16);
                    let peak = bins.iter().copied().max().unwrap_or(0).max(1);
                    for (i, count) in bins.iter().enumerate().filter(|(_, c)| **c > 0) {
                        let lo = hi * i as f64 / 16.0;
                        let bar = "#".repeat((count * 40).div_ceil(peak));
                        let _ = writeln!(out, "    {lo:>5.2}-{:<5.2} {count:>7} {bar}", lo + hi / 16.0);
                    }
                }
            }
        }
    }

    /// Suggested thresholds: per group, each tunable metric's `percentile`
    /// plus `margin` (capped at the metric's maximum), as YAML for `networks:`,
    /// for the variables among `defined` (those the rules use).
    pub fn write_suggestions(&mut self, out: &mut String, percentile: f64, margin: f64, defined: &[String]) {
        let _ = writeln!(
            out,
            "# Suggested thresholds: p{percentile} of each group's traffic plus {margin}, capped at the metric's maximum."
        );
        let _ = writeln!(out, "# Paste under `networks:` in ferret.yaml; review before use.");
        let _ = writeln!(out, "networks:");
        for (name, group) in &mut self.groups {
            let mut lines = Vec::new();
            for (metric, dist) in &mut group.metrics {
                let Some(var) = metric.variable().filter(|v| defined.iter().any(|d| d == v)) else { continue };
                let Some(v) = dist.percentile(percentile) else { continue };
                let ceiling = metric.ceiling().unwrap_or(f64::MAX);
                let suggested = ((v + margin) * 1000.0).ceil() / 1000.0;
                lines.push(format!(
                    "      {var}: {:.3}   # {} p{percentile} = {v:.3} over {} values",
                    suggested.min(ceiling),
                    metric.label(),
                    dist.count()
                ));
            }
            if lines.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {}:", yaml_key(name));
            let _ = writeln!(out, "    cidrs: [{}]", group.cidrs.join(", "));
            let _ = writeln!(out, "    vars:");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }

    /// Writes one SVG histogram per group and entropy metric into `dir`; returns the files.
    pub fn write_svgs(&self, dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (name, group) in &self.groups {
            for (metric, dist) in &group.metrics {
                let hi = metric.ceiling().unwrap_or_else(|| dist.values.iter().copied().fold(1.0, f64::max));
                let bins = dist.histogram(0.0, hi, 32);
                let title = format!("{name}: {} ({} values)", metric.label(), dist.count());
                let file = dir.join(format!("{}-{}.svg", file_stem(name), metric.label().replace([' ', '.'], "-")));
                std::fs::write(&file, crate::report::svg::histogram(&title, metric.label(), &bins, hi))?;
                written.push(file);
            }
        }
        Ok(written)
    }
}

fn group_of(ip: IpAddr, opts: &ProfileOptions<'_>) -> (String, Vec<String>) {
    if opts.by == GroupBy::Host {
        let full = if ip.is_ipv4() { 32 } else { 128 };
        return (ip.to_string(), vec![format!("{ip}/{full}")]);
    }
    if let Some(id) = opts.networks.lookup(ip) {
        let network = opts.networks.networks().get(usize::from(id));
        let cidrs = network.map(|n| n.nets.iter().map(ToString::to_string).collect()).unwrap_or_default();
        return (opts.networks.name(id).to_string(), cidrs);
    }
    let net = match ip {
        IpAddr::V4(a) => crate::engine::header::Net::new(IpAddr::V4(a), 24),
        IpAddr::V6(a) => crate::engine::header::Net::new(IpAddr::V6(a), 64),
    };
    let name = if opts.networks.is_empty() { net.to_string() } else { format!("unlisted {net}") };
    (name, vec![net.to_string()])
}

/// A network name usable as a YAML key (CIDR groups become `net_10_20_0_0_24`).
fn yaml_key(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        name.to_string()
    } else {
        let cleaned: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        format!("net_{}", cleaned.trim_matches('_'))
    }
}

fn file_stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut d = Distribution::default();
        (1..=1000).for_each(|v| d.push(f64::from(v)));
        assert_eq!(d.percentile(0.0), Some(1.0));
        assert_eq!(d.percentile(50.0), Some(500.0));
        assert_eq!(d.percentile(99.9), Some(999.0));
        assert_eq!(d.percentile(100.0), Some(1000.0));
        assert_eq!(Distribution::default().percentile(50.0), None);
    }

    #[test]
    fn histograms_bin_values() {
        let mut d = Distribution::default();
        [0.0, 0.5, 7.99, 8.0].iter().for_each(|v| d.push(*v));
        assert_eq!(d.histogram(0.0, 8.0, 8), vec![2, 0, 0, 0, 0, 0, 0, 2]);
    }

    /// The profile of one capture, by host, with default reassembly bounds.
    fn profile_of(capture: Vec<u8>) -> Profile {
        let map = NetworkMap::new(Vec::new()).unwrap();
        let (defrag, dns_tcp) = (DefragLimits::default(), DnsTcpLimits::default());
        let opts = ProfileOptions { by: GroupBy::Host, networks: &map, defrag, dns_tcp };
        let mut profile = Profile::default();
        profile.add_capture(&CaptureData::from_vec(capture), &opts).unwrap();
        profile
    }

    #[test]
    fn fragmented_pings_are_profiled_whole() {
        use crate::capture::writer::{PcapOptions, PcapWriter};
        use ferret_synth::frame::{fragments, icmp_echo};
        use std::net::Ipv4Addr;
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut frames = fragments(&icmp_echo(a, b, false, 1, 1, &[0x5a; 3000]), 1500, 7);
        assert_eq!(frames.len(), 3);
        frames.push(icmp_echo(a, b, false, 1, 2, &[0x5a; 56]));
        let mut w = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
        for (i, f) in (1..).zip(&frames) {
            w.write_packet(i * 1_000_000, f, f.len() as u32).unwrap();
        }
        let mut profile = profile_of(w.into_inner());
        assert_eq!(profile.packets, 4);
        let lengths = profile.groups.values_mut().next().unwrap().metrics.get_mut(&Metric::IcmpLen).unwrap();
        assert_eq!(lengths.percentile(100.0), Some(3000.0), "the rebuilt payload");
        assert_eq!(lengths.percentile(0.0), Some(56.0));
        assert_eq!(lengths.count(), 2, "one value per ping, none per fragment");
    }

    #[test]
    fn dns_over_tcp_is_profiled_message_by_message() {
        let scenario = ferret_synth::scenario::dns_tcp_tunnel();
        let mut bytes = Vec::new();
        scenario.write_pcap(&mut bytes, false).unwrap();
        let profile = profile_of(bytes);
        let names: usize =
            profile.groups.values().filter_map(|g| g.metrics.get(&Metric::DnsQnameLen)).map(Distribution::count).sum();
        // Queries are profiled (answers are not): all 120 of the tunnel's,
        // most split across segments, and no segment measured on its own.
        assert_eq!(names, 120);
    }

    #[test]
    fn yaml_keys_are_safe() {
        assert_eq!(yaml_key("lab"), "lab");
        assert_eq!(yaml_key("10.20.0.0/24"), "net_10_20_0_0_24");
    }
}
