//! EVE JSON alerts, shaped as Suricata writes them, one object per line.
//!
//! jq, Filebeat's Suricata module and SIEM parsers read these unchanged:
//! `timestamp`, `event_type`, `pcap_cnt`, the 5-tuple, `icmp_type`/`icmp_code`,
//! and `alert {action gid signature_id rev signature category severity}` with
//! Suricata's numbering (1 is the most severe). ferret's own details (the
//! values the rule measured, what a stateful clause saw, recommendations) sit
//! under a `ferret` object that other tools ignore.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::engine::alert::{Alert, Measured};
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

#[derive(Serialize)]
struct EveAlert<'a> {
    timestamp: String,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap_filename: Option<&'a str>,
    pcap_cnt: u64,
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
    icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_code: Option<u8>,
    alert: EveAlertBody<'a>,
    ferret: FerretDetails<'a>,
}

#[derive(Serialize)]
struct EveAlertBody<'a> {
    action: &'static str,
    gid: u32,
    signature_id: u64,
    rev: u64,
    signature: &'a str,
    category: &'a str,
    severity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    reference: &'a [String],
}

#[derive(Serialize)]
struct FerretDetails<'a> {
    severity: &'static str,
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

/// Appends one EVE line (with its newline) for `alert` to `out`.
pub fn write_alert(alert: &Alert, file: Option<&str>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let Some(rule) = alert.rule() else { return Ok(()) };
    let mut timestamp = String::with_capacity(32);
    time::rfc3339_micros(alert.ts_nanos, &mut timestamp);
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
    let has_meta = !rule.tags.is_empty() || !rule.references.is_empty();
    let eve = EveAlert {
        timestamp,
        event_type: "alert",
        pcap_filename: file,
        pcap_cnt: alert.packet,
        src_ip: alert.src,
        src_port: alert.src_port,
        dest_ip: alert.dst,
        dest_port: alert.dst_port,
        proto: alert.proto,
        icmp_type: alert.icmp.map(|i| i.0),
        icmp_code: alert.icmp.map(|i| i.1),
        alert: EveAlertBody {
            action: "allowed",
            gid: 1,
            signature_id: rule.sid,
            rev: rule.rev,
            signature: &alert.message,
            category: &rule.class,
            severity: severity_number(rule.severity),
            metadata: has_meta.then_some(Metadata { tags: &rule.tags, reference: &rule.references }),
        },
        ferret: FerretDetails {
            severity: rule.severity.keyword(),
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
pub fn write_stats(event: &StatsEvent<'_>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let (mut timestamp, mut last_reload) = (String::with_capacity(32), String::with_capacity(32));
    time::rfc3339_micros(event.now_nanos, &mut timestamp);
    time::rfc3339_micros(event.last_reload_nanos, &mut last_reload);
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
}

#[derive(Serialize)]
struct EngineBody<'a> {
    module: &'static str,
    message: &'a str,
}

/// Appends one EVE `engine` line for `event` to `out`.
pub fn write_engine(event: &EngineEvent<'_>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let mut timestamp = String::with_capacity(32);
    time::rfc3339_micros(event.now_nanos, &mut timestamp);
    let record = EveEngine {
        timestamp: &timestamp,
        event_type: "engine",
        log_level: event.level,
        engine: EngineBody { module: event.module, message: event.message },
    };
    serde_json::to_writer(&mut *out, &record)?;
    out.push(b'\n');
    Ok(())
}
