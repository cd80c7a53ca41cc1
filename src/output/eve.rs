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
use std::net::IpAddr;

use serde::Serialize;

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
                .map(|a| AnswerJson { rrname: &a.name, rrtype: rrtype(a.rtype), ttl: a.ttl, rdata: a.data.as_deref() })
                .collect(),
        }
    }
}

/// Appends one EVE line (with its newline) for `alert` to `out`. `file` names
/// the capture when several are scanned (ferret's own `file`, as alert lines
/// show it); `ctx` says what the writer knows of the sensor and the input.
pub fn write_alert(alert: &Alert, file: Option<&str>, ctx: &EveContext, out: &mut Vec<u8>) -> serde_json::Result<()> {
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
        flow_id: alert.flow.map(|f| f.id),
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
