//! What a report needs from the packets themselves, gathered while scanning.
//!
//! Alerts say what was flagged; a report also has to show what was *not*:
//! how the traffic splits by protocol, and where the inspected ICMP payloads
//! and DNS names fall in length and entropy next to the flagged ones. The
//! [`Collector`] watches every packet after the engine (as a
//! [`PacketObserver`]) and keeps, in bounded memory:
//!
//! - packet counts per protocol, each packet counted once ([`ProtocolCounts`]);
//! - a sample of (length, entropy) points per kind: every flagged packet up to
//!   [`FLAGGED_POINTS`], and a uniform reservoir sample of [`SAMPLED_POINTS`]
//!   of the others (Vitter's algorithm R with a fixed seed, so runs repeat);
//! - with `--extract`, copies of the flagged frames.
//!
//! Cost: a few integer increments per packet; the entropy of a point is
//! computed only when the point is kept, so once the reservoir is full almost
//! no packet pays for it, and nothing is allocated per packet.

use serde::{Deserialize, Serialize};

use crate::capture::RawPacket;
use crate::decode::features::{Features, Field, FieldValue};
use crate::decode::{entropy, Network, Packet, Transport};
use crate::scan::PacketObserver;

/// Most flagged points kept per kind (the first ones).
pub const FLAGGED_POINTS: usize = 2_000;
/// Size of the uniform sample of unflagged points per kind.
pub const SAMPLED_POINTS: usize = 8_000;
/// Most bytes of flagged frames kept for `--extract` (frames beyond are counted, not kept).
pub const EXTRACT_MAX_BYTES: usize = 256 << 20;

/// Packets per protocol, each packet counted once by its highest decoded layer.
/// DNS is TCP or UDP with port 53 on either side, or a UDP message with
/// DNS's strict shape on any other port ([`Packet::carries_dns`]), and is not
/// counted again as TCP or UDP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolCounts {
    /// ICMPv4.
    pub icmp: u64,
    /// ICMPv6.
    pub icmpv6: u64,
    /// DNS over UDP or TCP.
    pub dns: u64,
    /// TCP other than DNS.
    pub tcp: u64,
    /// UDP other than DNS.
    pub udp: u64,
    /// ARP.
    pub arp: u64,
    /// Everything else (other IP protocols, fragments, undecodable frames).
    pub other: u64,
}

/// The protocol names of [`ProtocolCounts`], in table order.
pub const PROTOCOLS: [&str; 7] = ["ICMP", "ICMPv6", "DNS", "TCP", "UDP", "ARP", "Other"];

impl ProtocolCounts {
    /// The category of one packet (an index into [`PROTOCOLS`]).
    pub fn category(pkt: &Packet<'_>) -> usize {
        match pkt.transport {
            Transport::Icmp(_) => 0,
            Transport::Icmp6(_) => 1,
            _ if pkt.carries_dns() => 2,
            Transport::Tcp { .. } => 3,
            Transport::Udp { .. } => 4,
            Transport::None => match pkt.network {
                Network::Arp { .. } => 5,
                _ => 6,
            },
        }
    }

    /// Counts one packet.
    pub fn count(&mut self, pkt: &Packet<'_>) {
        let c = Self::category(pkt);
        if let Some(slot) = self.slots_mut().into_iter().nth(c) {
            *slot += 1;
        }
    }

    /// The counts in [`PROTOCOLS`] order.
    pub fn as_array(&self) -> [u64; 7] {
        [self.icmp, self.icmpv6, self.dns, self.tcp, self.udp, self.arp, self.other]
    }

    /// Adds another run's counts.
    pub fn add(&mut self, other: &ProtocolCounts) {
        for (a, b) in self.slots_mut().into_iter().zip(other.as_array()) {
            *a += b;
        }
    }

    fn slots_mut(&mut self) -> [&mut u64; 7] {
        [&mut self.icmp, &mut self.icmpv6, &mut self.dns, &mut self.tcp, &mut self.udp, &mut self.arp, &mut self.other]
    }
}

/// One inspected packet: `[file index, packet number, length, entropy, flagged]`
/// (an array in JSON, to keep 20,000 of them small).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point(pub u32, pub u64, pub u32, pub f64, pub bool);

impl Point {
    /// Index of the capture in the run's capture list.
    pub fn file(&self) -> u32 {
        self.0
    }
    /// 1-based packet number in its capture.
    pub fn packet(&self) -> u64 {
        self.1
    }
    /// Payload length (ICMP) or query name length (DNS).
    pub fn length(&self) -> u32 {
        self.2
    }
    /// Entropy in bits per byte (per character for names).
    pub fn entropy(&self) -> f64 {
        self.3
    }
    /// The packet raised at least one alert.
    pub fn flagged(&self) -> bool {
        self.4
    }
}

/// The kept points of one kind, and how many packets they were drawn from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Packets of this kind seen.
    pub seen: u64,
    /// Of those, packets that raised an alert.
    pub flagged: u64,
    /// Kept points, ordered by file and packet number.
    pub points: Vec<Point>,
}

impl Sample {
    /// Merges another run's sample (captures renumbered by `file_offset`),
    /// keeping at most the per-kind limits.
    pub fn merge(&mut self, other: &Sample, file_offset: u32) {
        self.seen += other.seen;
        self.flagged += other.flagged;
        let (mut flagged, mut plain) = (self.points.iter().filter(|p| p.flagged()).count(), 0usize);
        plain += self.points.len() - flagged;
        for p in &other.points {
            let slot = if p.flagged() { &mut flagged } else { &mut plain };
            let cap = if p.flagged() { FLAGGED_POINTS } else { SAMPLED_POINTS };
            if *slot < cap {
                *slot += 1;
                self.points.push(Point(p.0.saturating_add(file_offset), p.1, p.2, p.3, p.4));
            }
        }
    }
}

/// The inspected ICMP payloads and DNS query names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inspected {
    /// Every ICMP and ICMPv6 packet, and every one rebuilt from IP
    /// fragments: payload length and entropy.
    pub icmp: Sample,
    /// DNS packets ([`Packet::carries_dns`], rebuilt datagrams too; on TCP
    /// streams each message, not the segments); points for those with a question
    /// name: its length and entropy.
    pub dns: Sample,
}

/// A flagged frame kept for `--extract`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture time, ns since the epoch.
    pub ts_nanos: i64,
    /// LINKTYPE_* of the capture it came from.
    pub link_type: u32,
    /// Length on the wire.
    pub orig_len: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// A reservoir of points of one kind.
struct Reservoir {
    seen: u64,
    flagged_seen: u64,
    flagged: Vec<Point>,
    plain_seen: u64,
    plain: Vec<Point>,
}

impl Reservoir {
    fn new() -> Reservoir {
        Reservoir { seen: 0, flagged_seen: 0, flagged: Vec::new(), plain_seen: 0, plain: Vec::new() }
    }

    /// Where a new point would go (`Some(None)`: appended), before its value is computed.
    fn slot(&mut self, flagged: bool, rng: &mut SplitMix) -> Option<Option<usize>> {
        self.seen += 1;
        if flagged {
            self.flagged_seen += 1;
            return (self.flagged.len() < FLAGGED_POINTS).then_some(None);
        }
        self.plain_seen += 1;
        if self.plain.len() < SAMPLED_POINTS {
            return Some(None);
        }
        let j = rng.below(self.plain_seen);
        usize::try_from(j).ok().filter(|&j| j < SAMPLED_POINTS).map(Some)
    }

    fn put(&mut self, slot: Option<usize>, point: Point) {
        let list = if point.flagged() { &mut self.flagged } else { &mut self.plain };
        match slot.and_then(|i| list.get_mut(i)) {
            Some(p) => *p = point,
            None => list.push(point),
        }
    }

    fn finish(self) -> Sample {
        let mut points = self.flagged;
        points.extend(self.plain);
        points.sort_by_key(|p| (p.file(), p.packet()));
        Sample { seen: self.seen, flagged: self.flagged_seen, points }
    }
}

/// A small deterministic generator (SplitMix64) for the reservoir.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by widening multiplication.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// Watches packets during a scan for the report and `--extract`.
pub struct Collector {
    file: u32,
    captures: Vec<String>,
    protocols: ProtocolCounts,
    icmp: Reservoir,
    dns: Reservoir,
    rng: SplitMix,
    frames: Option<Vec<Frame>>,
    frame_bytes: usize,
    frames_dropped: u64,
}

/// What a [`Collector`] gathered.
#[derive(Debug, Default)]
pub struct Collected {
    /// Capture names in scan order (`-` for stdin).
    pub captures: Vec<String>,
    /// Packets per protocol.
    pub protocols: ProtocolCounts,
    /// Points for the entropy charts.
    pub inspected: Inspected,
    /// Flagged frames, when asked for.
    pub frames: Vec<Frame>,
    /// Flagged frames not kept because [`EXTRACT_MAX_BYTES`] was reached.
    pub frames_dropped: u64,
}

impl Collector {
    /// A collector; `keep_frames` copies flagged frames for `--extract`.
    pub fn new(keep_frames: bool) -> Collector {
        Collector {
            file: 0,
            captures: Vec::new(),
            protocols: ProtocolCounts::default(),
            icmp: Reservoir::new(),
            dns: Reservoir::new(),
            rng: SplitMix(0x6665_7272_6574_5250),
            frames: keep_frames.then(Vec::new),
            frame_bytes: 0,
            frames_dropped: 0,
        }
    }

    /// Everything gathered.
    pub fn finish(self) -> Collected {
        Collected {
            captures: self.captures,
            protocols: self.protocols,
            inspected: Inspected { icmp: self.icmp.finish(), dns: self.dns.finish() },
            frames: self.frames.unwrap_or_default(),
            frames_dropped: self.frames_dropped,
        }
    }

    fn keep_frame(&mut self, raw: &RawPacket<'_>) {
        let Some(frames) = self.frames.as_mut() else { return };
        if self.frame_bytes + raw.data.len() > EXTRACT_MAX_BYTES {
            self.frames_dropped += 1;
            return;
        }
        self.frame_bytes += raw.data.len();
        frames.push(Frame {
            ts_nanos: raw.ts_nanos,
            link_type: raw.link_type,
            orig_len: raw.orig_len,
            data: raw.data.to_vec(),
        });
    }
}

/// Entropies are kept to 4 decimals, as EVE writes them.
fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

impl PacketObserver for Collector {
    fn start_file(&mut self, index: usize, name: &str) {
        self.file = u32::try_from(index).unwrap_or(u32::MAX);
        self.captures.push(name.to_string());
    }

    fn packet(&mut self, raw: &RawPacket<'_>, pkt: &Packet<'_>, alerts: u32) {
        self.protocols.count(pkt);
        let flagged = alerts > 0;
        if flagged {
            self.keep_frame(raw);
        }
        // The DNS of a TCP stream is sampled message by message (below).
        if !pkt.is_dns_stream_segment() {
            self.sample(pkt, flagged);
        }
    }

    /// A rebuilt datagram or a DNS message out of a TCP stream is no
    /// captured packet (its fragments or segments were counted), but its
    /// ICMP payload or DNS name is what the rules judged: it is sampled, so
    /// a fragmented or segmented tunnel shows in the charts.
    fn matched_apart(&mut self, pkt: &Packet<'_>, alerts: u32) {
        self.sample(pkt, alerts > 0);
    }
}

impl Collector {
    /// Offers an ICMP payload or a DNS query name to its sample.
    fn sample(&mut self, pkt: &Packet<'_>, flagged: bool) {
        match pkt.transport {
            Transport::Icmp(_) | Transport::Icmp6(_) => {
                if let Some(slot) = self.icmp.slot(flagged, &mut self.rng) {
                    let len = u32::try_from(pkt.payload.len()).unwrap_or(u32::MAX);
                    let h = round4(entropy::shannon(pkt.payload));
                    self.icmp.put(slot, Point(self.file, pkt.number, len, h, flagged));
                }
            }
            _ if pkt.carries_dns() => {
                // Decode the message only for a kept point; one without a
                // question name leaves its slot as it was.
                if let Some(slot) = self.dns.slot(flagged, &mut self.rng) {
                    let mut f = Features::new(pkt);
                    f.read_segment_alone();
                    let Some(FieldValue::Num(len)) = f.get(Field::DnsQnameLen) else { return };
                    let h = match f.get(Field::DnsQnameEntropy) {
                        Some(FieldValue::Num(h)) => round4(h),
                        _ => 0.0,
                    };
                    self.dns.put(slot, Point(self.file, pkt.number, len as u32, h, flagged));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(n: u64, flagged: bool) -> Point {
        Point(0, n, 10, 1.0, flagged)
    }

    #[test]
    fn reservoir_keeps_flagged_first_and_a_bounded_sample() {
        let mut r = Reservoir::new();
        let mut rng = SplitMix(1);
        for n in 1..=(SAMPLED_POINTS as u64 * 3) {
            let flagged = n % 7 == 0;
            if let Some(slot) = r.slot(flagged, &mut rng) {
                r.put(slot, point(n, flagged));
            }
        }
        let s = r.finish();
        assert_eq!(s.seen, SAMPLED_POINTS as u64 * 3);
        assert_eq!(s.flagged, s.seen / 7);
        assert_eq!(s.points.iter().filter(|p| p.flagged()).count(), FLAGGED_POINTS);
        assert_eq!(s.points.iter().filter(|p| !p.flagged()).count(), SAMPLED_POINTS);
        // Uniform: about a third of the kept plain points come from each third of the run.
        let late = s.points.iter().filter(|p| !p.flagged() && p.packet() > SAMPLED_POINTS as u64 * 2).count();
        assert!((2_300..3_000).contains(&late), "{late}");
        assert!(s.points.windows(2).all(|w| w[0].packet() <= w[1].packet()));
    }

    #[test]
    fn dns_off_port_53_counts_and_is_measured_as_dns() {
        use ferret_synth::frame;
        use std::net::Ipv4Addr;
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 168, 1, 2));
        let query = frame::dns_query(7, "mfrggzdfmztwq2lk.t.example", 16);
        let frames = [frame::udp(a, b, 40000, 5353, &query), frame::udp(a, b, 40000, 5353, &[0x5a; 40])];
        let mut c = Collector::new(false);
        c.start_file(0, "x.pcap");
        for (i, f) in frames.iter().enumerate() {
            let raw = RawPacket { ts_nanos: 1, link_type: 1, data: f, orig_len: f.len() as u32, offset: 0, next: &[] };
            let pkt = Packet::decode(1, f, i as u64 + 1, 1, f.len() as u32);
            c.packet(&raw, &pkt, 0);
        }
        let got = c.finish();
        assert_eq!((got.protocols.dns, got.protocols.udp), (1, 1), "{:?}", got.protocols);
        let dns = &got.inspected.dns;
        assert_eq!(dns.seen, 1);
        assert_eq!(dns.points.len(), 1);
        assert_eq!(dns.points[0].length(), "mfrggzdfmztwq2lk.t.example".len() as u32);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = SplitMix(7);
        assert!((0..1000).all(|_| rng.below(3) < 3));
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn merge_respects_limits_and_renumbers_files() {
        let mut a = Sample { seen: 2, flagged: 1, points: vec![point(1, true), point(2, false)] };
        let b = Sample { seen: 1, flagged: 0, points: vec![Point(0, 9, 3, 2.0, false)] };
        a.merge(&b, 1);
        assert_eq!(a.seen, 3);
        assert_eq!(a.points.last(), Some(&Point(1, 9, 3, 2.0, false)));
    }
}
