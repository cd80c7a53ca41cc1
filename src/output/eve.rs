//! EVE JSON events, shaped as Suricata 8 writes them, one object per line;
//! every event validates against Suricata's EVE schema.
//!
//! Alerts carry what Suricata writes for the same packet: `timestamp`
//! (`+0000`), `flow_id`, `in_iface`, `pcap_cnt` (counted across every input of
//! the run), `pcap_filename`, the 5-tuple, `ip_v`, `icmp_type`/`icmp_code`,
//! `direction`, `app_proto`, `host` (the sensor name), `alert {action gid
//! signature_id rev signature category severity}` with Suricata's numbering
//! (1 is the most severe), `dns {}` in the version 3 layout, and `flow {}`.
//! ferret's own details (its severity name, the packet number in its file,
//! the values the rule measured, what a stateful clause saw, recommendations)
//! sit in `alert.metadata.ferret`, where the schema allows any keys.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;

use serde::Serialize;

use crate::ascii;
use crate::engine::alert::{Alert, DnsInfo, Measured};
use crate::engine::flows::FlowInfo;
use crate::output::time;
use crate::rules::ast::Severity;

/// Suricata's severity number for a ferret severity (1 = most severe).
pub fn severity_number(s: Severity) -> u8 {
    match s {
        Severity::Critical => 1,
        Severity::High => 2,
        Severity::Medium => 3,
        Severity::Low => 4,
        Severity::Info => 5,
    }
}

/// What an EVE writer knows beyond the alert: the sensor and the input being read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EveContext {
    /// The sensor's name (`host`), when configured.
    pub host: Option<String>,
    /// The interface of a live capture (`in_iface`).
    pub in_iface: Option<String>,
    /// The capture file being read (`pcap_filename`).
    pub pcap_filename: Option<String>,
    /// Packets of the inputs read before this one: `pcap_cnt` counts across inputs.
    pub packets_before: u64,
}

impl EveContext {
    /// Notes the input a scan starts reading (`pcap_filename`, `in_iface`, `pcap_cnt`'s base).
    pub fn set_input(&mut self, input: &crate::output::sink::InputStart<'_>) {
        use crate::output::sink::InputKind;
        let (file, iface) = match input.kind {
            InputKind::File(name) => (Some(name.to_string()), None),
            InputKind::Stdin => (None, None),
            InputKind::Interface(name) => (None, Some(name.to_string())),
        };
        self.pcap_filename = file;
        self.in_iface = iface;
        self.packets_before = input.packets_before;
    }
}

/// Appends one EVE line (with its newline) for `alert` to `out`. `file` names
/// the capture when several are scanned (ferret's own `file`, as alert lines
/// show it); `ctx` says what the writer knows of the sensor and the input.
///
/// The fields are written straight into `out`, in the order and form
/// serde_json gives the same record (no JSON tree, no per-field strings): the
/// tests compare the two byte for byte. Floats go through serde_json itself.
pub fn write_alert(alert: &Alert, file: Option<&str>, ctx: &EveContext, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let Some(rule) = alert.rule() else { return Ok(()) };
    let mut w = JsonWriter { out };
    w.out.push(b'{');
    w.key_first("timestamp");
    w.timestamp(alert.ts_nanos);
    if let Some(flow) = &alert.flow {
        w.key("flow_id");
        w.uint(flow.id());
    }
    if let Some(iface) = &ctx.in_iface {
        w.key("in_iface");
        w.string(iface);
    }
    if alert.packet > 0 {
        w.key("pcap_cnt");
        w.uint(ctx.packets_before + alert.packet);
    }
    w.key("event_type");
    w.string("alert");
    if let Some(ip) = alert.src {
        w.key("src_ip");
        w.ip(ip);
    }
    if let Some(port) = alert.src_port {
        w.key("src_port");
        w.uint(u64::from(port));
    }
    if let Some(ip) = alert.dst {
        w.key("dest_ip");
        w.ip(ip);
    }
    if let Some(port) = alert.dst_port {
        w.key("dest_port");
        w.uint(u64::from(port));
    }
    w.key("proto");
    w.string(alert.proto);
    if let Some(ip) = alert.src {
        w.key("ip_v");
        w.uint(if ip.is_ipv4() { 4 } else { 6 });
    }
    if let Some((icmp_type, icmp_code)) = alert.icmp {
        w.key("icmp_type");
        w.uint(u64::from(icmp_type));
        w.key("icmp_code");
        w.uint(u64::from(icmp_code));
    }
    w.key("pkt_src");
    w.string("wire/pcap");
    // 0: the rule matched the packet (1 would be a reassembled stream, which ferret has not).
    w.key("stream");
    w.uint(0);
    if let Some(flow) = &alert.flow {
        w.key("direction");
        w.string(if flow.to_server { "to_server" } else { "to_client" });
    }
    w.key("alert");
    w.out.push(b'{');
    w.key_first("action");
    w.string("allowed");
    w.key("gid");
    w.uint(rule.gid);
    w.key("signature_id");
    w.uint(rule.sid);
    w.key("rev");
    w.uint(rule.rev);
    w.key("signature");
    w.string(&alert.message);
    w.key("category");
    w.string(&rule.class);
    w.key("severity");
    w.uint(u64::from(severity_number(rule.severity)));
    if !rule.references.is_empty() {
        w.key("references");
        w.strings(&rule.references);
    }
    w.key("metadata");
    w.out.push(b'{');
    if rule.tags.is_empty() {
        w.key_first("ferret");
    } else {
        w.key_first("tag");
        w.strings(&rule.tags);
        w.key("ferret");
    }
    write_ferret_details(&mut w, alert, rule.severity, file)?;
    w.out.extend_from_slice(b"}}");
    if let Some(dns) = &alert.dns {
        w.key("app_proto");
        w.string("dns");
        w.key("dns");
        write_dns(&mut w, dns);
    }
    if let Some(flow) = &alert.flow {
        w.key("flow");
        write_flow(&mut w, flow);
    }
    if let Some(name) = &ctx.pcap_filename {
        w.key("pcap_filename");
        w.string(name);
    }
    if let Some(host) = &ctx.host {
        w.key("host");
        w.string(host);
    }
    w.out.extend_from_slice(b"}\n");
    Ok(())
}

/// `alert.metadata.ferret`: ferret's severity name, the packet, the measured
/// values (by name, as a sorted map), what a stateful clause saw.
fn write_ferret_details(
    w: &mut JsonWriter<'_>,
    alert: &Alert,
    severity: Severity,
    file: Option<&str>,
) -> serde_json::Result<()> {
    w.out.push(b'{');
    w.key_first("severity");
    w.string(severity.keyword());
    // 1-based packet number in its capture (as Wireshark shows it).
    w.key("packet");
    w.uint(alert.packet);
    // The capture, when several are scanned (as the alert lines name it).
    if let Some(file) = file {
        w.key("file");
        w.string(file);
    }
    w.key("measured");
    w.out.push(b'{');
    let mut first = true;
    let mut each = |(name, v): &(&'static str, Measured)| -> serde_json::Result<()> {
        if first {
            w.key_first(name);
            first = false;
        } else {
            w.key(name);
        }
        match v {
            // Entropies and ratios are rounded for readability; integers stay exact.
            Measured::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => w.int(*n as i64),
            Measured::Num(n) => w.float((n * 1e4).round() / 1e4)?,
            Measured::Bool(b) => w.bool(*b),
            Measured::Ip(ip) => w.ip(*ip),
            Measured::Text(t) => w.string(t),
        }
        Ok(())
    };
    // A map sorted by name, as a `BTreeMap` writes it (the last of equal names wins).
    let m = &alert.measured;
    if m.windows(2).all(|p| p.first().map(|a| a.0) < p.get(1).map(|b| b.0)) {
        m.iter().try_for_each(&mut each)?;
    } else {
        let sorted: BTreeMap<&'static str, &(&'static str, Measured)> = m.iter().map(|e| (e.0, e)).collect();
        sorted.values().try_for_each(|e| each(e))?;
    }
    w.out.push(b'}');
    if let Some(s) = &alert.state {
        w.key("state");
        w.out.push(b'{');
        w.key_first("clause");
        w.string(s.clause);
        w.key("key");
        w.string(&s.key);
        w.key("count");
        w.uint(s.count);
        w.key("window_secs");
        w.float(s.window_nanos as f64 / 1e9)?;
        if let Some(rate) = s.rate_per_sec {
            w.key("rate_per_sec");
            w.float(rate)?;
        }
        w.key("first_packet");
        w.uint(s.first_packet);
        w.key("last_packet");
        w.uint(s.last_packet);
        w.out.push(b'}');
    }
    if !alert.recommendations.is_empty() {
        w.key("recommendations");
        w.strings(&alert.recommendations);
    }
    w.out.push(b'}');
    Ok(())
}

/// Suricata 8's `dns` object (logging version 3), as on DNS alerts.
fn write_dns(w: &mut JsonWriter<'_>, d: &DnsInfo) {
    let flag = |bit: u16| d.flags & bit != 0;
    w.out.push(b'{');
    w.key_first("version");
    w.uint(3);
    w.key("type");
    w.string(if flag(0x8000) { "response" } else { "request" });
    w.key("id");
    w.uint(u64::from(d.id));
    w.key("flags");
    w.out.push(b'"');
    let _ = write!(w.out, "{:x}", d.flags);
    w.out.push(b'"');
    for (name, bit) in [("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100), ("ra", 0x0080), ("z", 0x0040)] {
        if flag(bit) {
            w.key(name);
            w.bool(true);
        }
    }
    w.key("opcode");
    w.uint(u64::from((d.flags >> 11) & 0xf));
    w.key("rcode");
    write_rcode(w, (d.flags & 0xf) as u8);
    if !d.records.questions.is_empty() {
        w.key("queries");
        w.out.push(b'[');
        for (i, (name, t)) in d.records.questions.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            w.out.push(b'{');
            w.key_first("rrname");
            w.string(name);
            w.key("rrtype");
            write_rrtype(w, *t);
            w.out.push(b'}');
        }
        w.out.push(b']');
    }
    if !d.records.answers.is_empty() {
        w.key("answers");
        w.out.push(b'[');
        for (i, a) in d.records.answers.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            w.out.push(b'{');
            w.key_first("rrname");
            w.string(&a.name);
            w.key("rrtype");
            write_rrtype(w, a.rtype);
            w.key("ttl");
            w.uint(u64::from(a.ttl));
            if let Some(data) = &a.data {
                w.key("rdata");
                w.string(data);
            }
            w.out.push(b'}');
        }
        w.out.push(b']');
    }
    w.out.push(b'}');
}

/// A record type as Suricata names it: the mnemonic, else the number (as a string).
fn write_rrtype(w: &mut JsonWriter<'_>, t: u16) {
    match crate::decode::dns::qtype_name(t) {
        Some(name) => w.string(name),
        None => {
            let _ = write!(w.out, "\"{t}\"");
        }
    }
}

/// A response code as Suricata names it (as a string).
fn write_rcode(w: &mut JsonWriter<'_>, code: u8) {
    const MORE: [&str; 5] = ["YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];
    let name = crate::decode::dns::rcode_name(code).or_else(|| MORE.get(usize::from(code).wrapping_sub(6)).copied());
    match name {
        Some(name) => w.string(name),
        None => {
            let _ = write!(w.out, "\"{code}\"");
        }
    }
}

/// The alert's `flow {}`: counters, start, the client and server ends.
fn write_flow(w: &mut JsonWriter<'_>, f: &FlowInfo) {
    w.out.push(b'{');
    w.key_first("pkts_toserver");
    w.uint(f.pkts_toserver);
    w.key("pkts_toclient");
    w.uint(f.pkts_toclient);
    w.key("bytes_toserver");
    w.uint(f.bytes_toserver);
    w.key("bytes_toclient");
    w.uint(f.bytes_toclient);
    w.key("start");
    w.timestamp(f.start_nanos);
    w.key("src_ip");
    w.ip(f.client.0);
    w.key("dest_ip");
    w.ip(f.server.0);
    if let Some(port) = f.client.1 {
        w.key("src_port");
        w.uint(u64::from(port));
    }
    if let Some(port) = f.server.1 {
        w.key("dest_port");
        w.uint(u64::from(port));
    }
    w.out.push(b'}');
}

/// Writes JSON values into a byte buffer exactly as serde_json's compact
/// formatter does (keys and strings escaped the same way).
struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl JsonWriter<'_> {
    /// `"name":` after another member. Names are ferret's own, written in
    /// the source (`'static`), and none needs escaping: they are copied as
    /// they are.
    #[inline(always)]
    fn key(&mut self, name: &'static str) {
        self.out.push(b',');
        self.key_first(name);
    }

    /// `"name":` as an object's first member (see [`JsonWriter::key`]).
    #[inline(always)]
    fn key_first(&mut self, name: &'static str) {
        debug_assert!(!name.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'), "{name}");
        self.out.reserve(name.len() + 3);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn string(&mut self, s: &str) {
        write_json_string(self.out, s);
    }

    fn strings(&mut self, list: &[String]) {
        self.out.push(b'[');
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.string(s);
        }
        self.out.push(b']');
    }

    fn uint(&mut self, n: u64) {
        ascii::push_uint(self.out, n);
    }

    fn int(&mut self, n: i64) {
        ascii::push_int(self.out, n);
    }

    fn bool(&mut self, b: bool) {
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// A float as serde_json writes it (shortest round trip; `null` if not finite).
    fn float(&mut self, x: f64) -> serde_json::Result<()> {
        serde_json::to_writer(&mut *self.out, &x)
    }

    /// An address as a string (no character of it needs escaping).
    fn ip(&mut self, ip: IpAddr) {
        self.out.push(b'"');
        ascii::push_ip(self.out, ip);
        self.out.push(b'"');
    }

    /// An EVE timestamp as a string.
    fn timestamp(&mut self, ts_nanos: i64) {
        self.out.push(b'"');
        time::eve_micros_bytes(ts_nanos, self.out);
        self.out.push(b'"');
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes: `"` and `\`,
/// `\b \t \n \f \r`, other control characters as `\u00XX` (lowercase hex);
/// everything else, DEL and non-ASCII included, as is.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    // Most strings need no escape: one check of every byte (without a branch
    // per byte, so the compiler does it many bytes at a time), one copy.
    let plain = bytes.iter().fold(true, |plain, &b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let hex = |n: u8| HEX.get(usize::from(n & 0xf)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// A periodic statistics record, written as Suricata's EVE `stats` event.
#[derive(Debug)]
pub struct StatsEvent<'a> {
    /// Wall-clock time of the record (ns since the epoch).
    pub now_nanos: i64,
    /// Seconds since the sensor started.
    pub uptime_secs: u64,
    /// The engine's counters.
    pub stats: &'a crate::engine::stats::Stats,
    /// Alerts in all (every rule, also rules since unloaded).
    pub alerts: u64,
    /// Kernel counters of a live capture.
    pub capture: Option<crate::capture::source::CaptureCounters>,
    /// Rules in the set now in use.
    pub rules_loaded: usize,
    /// Rules refused at the last (re)load.
    pub rules_failed: usize,
    /// When the rules were last (re)loaded (wall clock, ns).
    pub last_reload_nanos: i64,
}

#[derive(Serialize)]
struct EveStats<'a> {
    timestamp: &'a str,
    event_type: &'static str,
    stats: StatsBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
}

#[derive(Serialize)]
struct StatsBody<'a> {
    uptime: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    capture: Option<CaptureJson>,
    decoder: DecoderJson,
    detect: DetectJson<'a>,
}

#[derive(Serialize)]
struct CaptureJson {
    kernel_packets: u64,
    kernel_drops: u64,
    kernel_ifdrops: u64,
}

#[derive(Serialize)]
struct DecoderJson {
    pkts: u64,
    bytes: u64,
    invalid: u64,
    ethernet: u64,
    vlan: u64,
    arp: u64,
    ipv4: u64,
    ipv6: u64,
    tcp: u64,
    udp: u64,
    icmpv4: u64,
    icmpv6: u64,
}

#[derive(Serialize)]
struct DetectJson<'a> {
    alert: u64,
    alerts_suppressed: u64,
    engines: [EngineJson<'a>; 1],
}

#[derive(Serialize)]
struct EngineJson<'a> {
    id: u32,
    last_reload: &'a str,
    rules_loaded: usize,
    rules_failed: usize,
}

/// Appends one EVE `stats` line for `event` to `out`, in Suricata's layout.
pub fn write_stats(event: &StatsEvent<'_>, ctx: &EveContext, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let (mut timestamp, mut last_reload) = (String::with_capacity(32), String::with_capacity(32));
    time::eve_micros(event.now_nanos, &mut timestamp);
    time::eve_micros(event.last_reload_nanos, &mut last_reload);
    let s = event.stats;
    let p = &s.protocols;
    let record = EveStats {
        timestamp: &timestamp,
        event_type: "stats",
        stats: StatsBody {
            uptime: event.uptime_secs,
            capture: event.capture.map(|c| CaptureJson {
                kernel_packets: c.received,
                kernel_drops: c.dropped,
                kernel_ifdrops: c.if_dropped,
            }),
            decoder: DecoderJson {
                pkts: s.packets,
                bytes: s.bytes,
                invalid: s.decode_errors.iter().sum(),
                ethernet: p.ethernet,
                vlan: p.vlan,
                arp: p.arp,
                ipv4: p.ipv4,
                ipv6: p.ipv6,
                tcp: p.tcp,
                udp: p.udp,
                icmpv4: p.icmp,
                icmpv6: p.icmpv6,
            },
            detect: DetectJson {
                alert: event.alerts,
                alerts_suppressed: s.suppressed,
                engines: [EngineJson {
                    id: 0,
                    last_reload: &last_reload,
                    rules_loaded: event.rules_loaded,
                    rules_failed: event.rules_failed,
                }],
            },
        },
        host: ctx.host.as_deref(),
    };
    serde_json::to_writer(&mut *out, &record)?;
    out.push(b'\n');
    Ok(())
}

/// Something the engine did, written as Suricata's EVE `engine` event (rule reloads).
#[derive(Debug)]
pub struct EngineEvent<'a> {
    /// Wall-clock time (ns since the epoch).
    pub now_nanos: i64,
    /// `Notice`, `Warning` or `Error`, as Suricata's log levels.
    pub level: &'static str,
    /// What part of ferret speaks (`rule-reload`).
    pub module: &'static str,
    /// What happened.
    pub message: &'a str,
}

#[derive(Serialize)]
struct EveEngine<'a> {
    timestamp: &'a str,
    event_type: &'static str,
    log_level: &'static str,
    engine: EngineBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
}

#[derive(Serialize)]
struct EngineBody<'a> {
    module: &'static str,
    message: &'a str,
}

/// Appends one EVE `engine` line for `event` to `out`.
pub fn write_engine(event: &EngineEvent<'_>, ctx: &EveContext, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let mut timestamp = String::with_capacity(32);
    time::eve_micros(event.now_nanos, &mut timestamp);
    let record = EveEngine {
        timestamp: &timestamp,
        event_type: "engine",
        log_level: event.level,
        engine: EngineBody { module: event.module, message: event.message },
        host: ctx.host.as_deref(),
    };
    serde_json::to_writer(&mut *out, &record)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod reference {
    //! The serde_json form of an alert that [`super::write_alert`] replaced:
    //! the tests check that both write the same bytes.
    use super::*;

    #[derive(Serialize)]
    struct EveAlert<'a> {
        timestamp: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        flow_id: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        in_iface: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pcap_cnt: Option<u64>,
        event_type: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        src_ip: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        src_port: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dest_ip: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dest_port: Option<u16>,
        proto: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        ip_v: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        icmp_type: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        icmp_code: Option<u8>,
        pkt_src: &'static str,
        /// 0: the rule matched the packet (1 would be a reassembled stream, which ferret has not).
        stream: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        direction: Option<&'static str>,
        alert: EveAlertBody<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        app_proto: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dns: Option<DnsJson<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        flow: Option<FlowJson>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pcap_filename: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct EveAlertBody<'a> {
        action: &'static str,
        gid: u64,
        signature_id: u64,
        rev: u64,
        signature: &'a str,
        category: &'a str,
        severity: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        references: Option<&'a [String]>,
        metadata: Metadata<'a>,
    }

    #[derive(Serialize)]
    struct Metadata<'a> {
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        tag: &'a [String],
        ferret: FerretDetails<'a>,
    }

    #[derive(Serialize)]
    struct FerretDetails<'a> {
        severity: &'static str,
        /// 1-based packet number in its capture (as Wireshark shows it).
        packet: u64,
        /// The capture, when several are scanned (as the alert lines name it).
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<&'a str>,
        measured: BTreeMap<&'static str, MeasuredJson<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<StateJson<'a>>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        recommendations: &'a [String],
    }

    #[derive(Serialize)]
    #[serde(untagged)]
    enum MeasuredJson<'a> {
        Int(i64),
        Num(f64),
        Bool(bool),
        Ip(IpAddr),
        Text(&'a str),
    }

    #[derive(Serialize)]
    struct StateJson<'a> {
        clause: &'static str,
        key: &'a str,
        count: u64,
        window_secs: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        rate_per_sec: Option<f64>,
        first_packet: u64,
        last_packet: u64,
    }

    #[derive(Serialize)]
    struct FlowJson {
        pkts_toserver: u64,
        pkts_toclient: u64,
        bytes_toserver: u64,
        bytes_toclient: u64,
        start: String,
        src_ip: IpAddr,
        dest_ip: IpAddr,
        #[serde(skip_serializing_if = "Option::is_none")]
        src_port: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dest_port: Option<u16>,
    }

    impl FlowJson {
        fn new(f: &FlowInfo) -> FlowJson {
            let mut start = String::with_capacity(32);
            time::eve_micros(f.start_nanos, &mut start);
            FlowJson {
                pkts_toserver: f.pkts_toserver,
                pkts_toclient: f.pkts_toclient,
                bytes_toserver: f.bytes_toserver,
                bytes_toclient: f.bytes_toclient,
                start,
                src_ip: f.client.0,
                dest_ip: f.server.0,
                src_port: f.client.1,
                dest_port: f.server.1,
            }
        }
    }

    /// Suricata 8's `dns` object (logging version 3), as on DNS alerts.
    #[derive(Serialize)]
    struct DnsJson<'a> {
        version: u8,
        #[serde(rename = "type")]
        kind: &'static str,
        id: u16,
        flags: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        qr: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        aa: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        tc: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        rd: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        ra: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        z: bool,
        opcode: u8,
        rcode: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        queries: Vec<QueryJson<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        answers: Vec<AnswerJson<'a>>,
    }

    #[derive(Serialize)]
    struct QueryJson<'a> {
        rrname: &'a str,
        rrtype: String,
    }

    #[derive(Serialize)]
    struct AnswerJson<'a> {
        rrname: &'a str,
        rrtype: String,
        ttl: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        rdata: Option<&'a str>,
    }

    /// A record type as Suricata names it: the mnemonic, else the number.
    fn rrtype(t: u16) -> String {
        crate::decode::dns::qtype_name(t).map_or_else(|| t.to_string(), str::to_string)
    }

    /// A response code as Suricata names it.
    fn rcode(code: u8) -> String {
        const MORE: [&str; 5] = ["YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];
        match crate::decode::dns::rcode_name(code) {
            Some(name) => name.to_string(),
            None => MORE.get(usize::from(code).wrapping_sub(6)).map_or_else(|| code.to_string(), |n| n.to_string()),
        }
    }

    impl<'a> DnsJson<'a> {
        fn new(d: &'a DnsInfo) -> DnsJson<'a> {
            let flag = |bit: u16| d.flags & bit != 0;
            DnsJson {
                version: 3,
                kind: if flag(0x8000) { "response" } else { "request" },
                id: d.id,
                flags: format!("{:x}", d.flags),
                qr: flag(0x8000),
                aa: flag(0x0400),
                tc: flag(0x0200),
                rd: flag(0x0100),
                ra: flag(0x0080),
                z: flag(0x0040),
                opcode: ((d.flags >> 11) & 0xf) as u8,
                rcode: rcode((d.flags & 0xf) as u8),
                queries: d.records.questions.iter().map(|(n, t)| QueryJson { rrname: n, rrtype: rrtype(*t) }).collect(),
                answers: d
                    .records
                    .answers
                    .iter()
                    .map(|a| AnswerJson {
                        rrname: &a.name,
                        rrtype: rrtype(a.rtype),
                        ttl: a.ttl,
                        rdata: a.data.as_deref(),
                    })
                    .collect(),
            }
        }
    }

    /// The serde_json writer `write_alert` replaced, kept as the reference. `file` names
    /// the capture when several are scanned (ferret's own `file`, as alert lines
    /// show it); `ctx` says what the writer knows of the sensor and the input.
    pub(super) fn write_alert(
        alert: &Alert,
        file: Option<&str>,
        ctx: &EveContext,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let Some(rule) = alert.rule() else { return Ok(()) };
        let mut timestamp = String::with_capacity(32);
        time::eve_micros(alert.ts_nanos, &mut timestamp);
        let measured = alert
            .measured
            .iter()
            .map(|(name, v)| {
                let v = match v {
                    // Entropies and ratios are rounded for readability; integers stay exact.
                    Measured::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => MeasuredJson::Int(*n as i64),
                    Measured::Num(n) => MeasuredJson::Num((n * 1e4).round() / 1e4),
                    Measured::Bool(b) => MeasuredJson::Bool(*b),
                    Measured::Ip(ip) => MeasuredJson::Ip(*ip),
                    Measured::Text(t) => MeasuredJson::Text(t),
                };
                (*name, v)
            })
            .collect();
        let dns = alert.dns.as_ref().map(DnsJson::new);
        let eve = EveAlert {
            timestamp,
            flow_id: alert.flow.map(|f| f.id()),
            in_iface: ctx.in_iface.as_deref(),
            pcap_cnt: (alert.packet > 0).then_some(ctx.packets_before + alert.packet),
            event_type: "alert",
            src_ip: alert.src,
            src_port: alert.src_port,
            dest_ip: alert.dst,
            dest_port: alert.dst_port,
            proto: alert.proto,
            ip_v: alert.src.map(|ip| if ip.is_ipv4() { 4 } else { 6 }),
            icmp_type: alert.icmp.map(|i| i.0),
            icmp_code: alert.icmp.map(|i| i.1),
            pkt_src: "wire/pcap",
            stream: 0,
            direction: alert.flow.map(|f| if f.to_server { "to_server" } else { "to_client" }),
            alert: EveAlertBody {
                action: "allowed",
                gid: rule.gid,
                signature_id: rule.sid,
                rev: rule.rev,
                signature: &alert.message,
                category: &rule.class,
                severity: severity_number(rule.severity),
                references: (!rule.references.is_empty()).then_some(rule.references.as_slice()),
                metadata: Metadata {
                    tag: &rule.tags,
                    ferret: FerretDetails {
                        severity: rule.severity.keyword(),
                        packet: alert.packet,
                        file,
                        measured,
                        state: alert.state.as_ref().map(|s| StateJson {
                            clause: s.clause,
                            key: &s.key,
                            count: s.count,
                            window_secs: s.window_nanos as f64 / 1e9,
                            rate_per_sec: s.rate_per_sec,
                            first_packet: s.first_packet,
                            last_packet: s.last_packet,
                        }),
                        recommendations: &alert.recommendations,
                    },
                },
            },
            app_proto: dns.is_some().then_some("dns"),
            dns,
            flow: alert.flow.as_ref().map(FlowJson::new),
            pcap_filename: ctx.pcap_filename.as_deref(),
            host: ctx.host.as_deref(),
        };
        serde_json::to_writer(&mut *out, &eve)?;
        out.push(b'\n');
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::alert::StateReport;
    use std::sync::Arc;

    const TEXTS: [&str; 9] = [
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{e}\u{1f} \u{7f}",
        "é ü 日本 🦀",
        "\\x00 escaped by ferret",
        "a\"\"b\\\\",
        "end\n",
        "\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}",
    ];

    #[test]
    fn strings_escape_as_serde_json_does() {
        for text in TEXTS {
            let mut ours = Vec::new();
            write_json_string(&mut ours, text);
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(text).unwrap());
        }
        let every: String = (0..=0x3000u32).filter_map(char::from_u32).collect();
        let mut ours = Vec::new();
        write_json_string(&mut ours, &every);
        assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&every).unwrap());
    }

    /// A small deterministic generator (xorshift), so the cases are the same every run.
    pub(crate) struct Rng(pub(crate) u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        pub(crate) fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }
        fn text(&mut self) -> String {
            let n = self.below(TEXTS.len() as u64) as usize;
            TEXTS.get(n).copied().unwrap_or("").to_string()
        }
        fn ip(&mut self) -> IpAddr {
            if self.coin() {
                IpAddr::from((self.next() as u32).to_be_bytes())
            } else {
                IpAddr::from(std::net::Ipv6Addr::from(u128::from(self.next()) << 64 | u128::from(self.next() & 0xffff)))
            }
        }
        fn float(&mut self) -> f64 {
            match self.below(6) {
                0 => self.below(1000) as f64,
                1 => f64::from_bits(self.next() >> 2),
                2 => self.below(1_000_000) as f64 / 7.0,
                3 => -(self.below(100) as f64) / 3.0,
                4 => f64::NAN,
                _ => 1e300 * 10.0,
            }
        }
    }

    /// Two rules, one with every optional field.
    pub(crate) fn rules() -> Arc<crate::engine::ruleset::RuleSet> {
        let text = "alert icmp any any -> any any { id 1 when payload.len > 1 }\n\
            alert dns any any -> any any { id 2 rev 3 severity critical class trojan-activity \
            tags [a, b-c] reference \"url,example.com/\\\"x\\\"\" reference \"cve,1\" when dns.qname.len > 0 }\n";
        Arc::new(crate::load::compile_texts(vec![("t.rules".into(), text.into())], &[]).unwrap())
    }

    /// An alert of `rules` with every part chosen by `r` (texts that need escaping, both address families).
    pub(crate) fn alert(rules: &Arc<crate::engine::ruleset::RuleSet>, r: &mut Rng) -> Alert {
        let names = ["payload.len", "payload.entropy", "dns.qname", "ip.src", "a", "zz", "payload.len"];
        let measured = (0..r.below(5))
            .map(|_| {
                let name = names.get(r.below(names.len() as u64) as usize).copied().unwrap_or("x");
                let v = match r.below(4) {
                    0 => Measured::Num(r.float()),
                    1 => Measured::Bool(r.coin()),
                    2 => Measured::Ip(r.ip()),
                    _ => Measured::Text(r.text()),
                };
                (name, v)
            })
            .collect();
        let dns = r.coin().then(|| DnsInfo {
            id: r.next() as u16,
            flags: r.next() as u16,
            records: crate::decode::dns::Records {
                questions: (0..r.below(3)).map(|_| (r.text(), r.below(300) as u16)).collect(),
                answers: (0..r.below(3))
                    .map(|_| crate::decode::dns::Record {
                        name: r.text(),
                        rtype: r.below(300) as u16,
                        ttl: r.next() as u32,
                        data: r.coin().then(|| r.text()),
                    })
                    .collect(),
            },
        });
        let flow = r.coin().then(|| FlowInfo {
            start_nanos: r.next() as i64 >> 2,
            client: (r.ip(), r.coin().then(|| r.next() as u16)),
            server: (r.ip(), r.coin().then(|| r.next() as u16)),
            pkts_toserver: r.below(100),
            bytes_toserver: r.next(),
            pkts_toclient: r.below(100),
            bytes_toclient: r.below(10_000),
            to_server: r.coin(),
            first_in_direction: r.coin(),
            passed: false,
            key: r.next(),
        });
        let state = r.coin().then(|| StateReport {
            clause: "threshold",
            key: r.text().as_str().into(),
            count: r.below(1000),
            window_nanos: r.next() >> r.below(64),
            rate_per_sec: r.coin().then(|| r.float()),
            first_packet: r.below(100),
            last_packet: r.below(1000),
        });
        Alert {
            rules: Arc::clone(rules),
            rule_index: r.below(2) as u32,
            packet: r.below(3),
            ts_nanos: r.next() as i64 >> r.below(8),
            src: r.coin().then(|| r.ip()),
            dst: r.coin().then(|| r.ip()),
            src_port: r.coin().then(|| r.next() as u16),
            dst_port: r.coin().then(|| r.next() as u16),
            proto: if r.coin() { "ICMP" } else { "UDP" },
            icmp: r.coin().then(|| (r.next() as u8, r.next() as u8)),
            message: r.text(),
            recommendations: (0..r.below(3)).map(|_| r.text()).collect(),
            measured,
            state,
            flow,
            dns,
        }
    }

    #[test]
    fn alerts_are_written_as_serde_json_wrote_them() {
        let rules = rules();
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..3000 {
            let alert = alert(&rules, &mut r);
            let ctx = EveContext {
                host: r.coin().then(|| r.text()),
                in_iface: r.coin().then(|| r.text()),
                pcap_filename: r.coin().then(|| r.text()),
                packets_before: r.below(10),
            };
            let file = r.coin().then(|| r.text());
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            write_alert(&alert, file.as_deref(), &ctx, &mut ours).unwrap();
            reference::write_alert(&alert, file.as_deref(), &ctx, &mut theirs).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap(), "case {case}: {alert:?}");
        }
    }
}
