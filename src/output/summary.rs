//! The end-of-run summary printed on stderr, and the same numbers as JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::engine::ruleset::RuleSet;
use crate::engine::stats::{ProtoCounts, Stats};
use crate::engine::tables::TableStats;
use crate::output::time;

/// Writes the human summary.
pub fn write_summary(stats: &Stats, rules: &RuleSet, tables: &[TableStats], out: &mut String) {
    let _ = writeln!(out, "packets: {}  bytes: {}", stats.packets, stats.bytes);
    if let (Some(first), Some(last)) = (stats.first_ts, stats.last_ts) {
        let span = (last - first) as f64 / 1e9;
        let _ = writeln!(out, "time: {} .. {} UTC ({span:.3} s)", time::human(first), time::human(last));
    }
    let p = &stats.protocols;
    let _ = writeln!(
        out,
        "protocols: ethernet {} vlan {} arp {} ipv4 {} ipv6 {} tcp {} udp {} icmp {} icmpv6 {} dns {} other {}",
        p.ethernet, p.vlan, p.arp, p.ipv4, p.ipv6, p.tcp, p.udp, p.icmp, p.icmpv6, p.dns, p.other
    );
    let errors = stats.errors_by_kind();
    if errors.is_empty() {
        let _ = writeln!(out, "decode errors: none");
    } else {
        let list: Vec<String> = errors.iter().map(|(k, c)| format!("{k} {c}")).collect();
        let _ = writeln!(out, "decode errors: {}", list.join(", "));
    }
    if stats.snapped > 0 {
        let _ = writeln!(
            out,
            "warning: {} packets were cut by the capture's snap length ({} bytes kept at most): payload.len, \
             entropy, patterns and DNS names measure only the bytes kept (payload.wire_len and pkt.len are the \
             sizes on the wire; rules can test pkt.snapped); capture whole packets to judge them fully",
            stats.snapped, stats.snap_len
        );
    }
    let _ = writeln!(out, "alerts: {}", stats.alerts());
    for (rule, count) in rules.rules().iter().zip(&stats.alerts_by_rule) {
        if *count > 0 {
            let _ = writeln!(out, "  {:>10}  {:>8}  {}", rule.sid, count, first_words(rule));
        }
    }
    if stats.limited_matches() > 0 {
        let _ = writeln!(out, "matches held back by limit: {}", stats.limited_matches());
        for (rule, count) in rules.rules().iter().zip(&stats.limited_by_rule) {
            if *count > 0 {
                let _ = writeln!(out, "  {:>10}  {:>8}  {}", rule.sid, count, first_words(rule));
            }
        }
    }
    if stats.suppressed_alerts() > 0 {
        let _ = writeln!(out, "alerts suppressed (config suppress): {}", stats.suppressed_alerts());
        for (rule, count) in rules.rules().iter().zip(&stats.suppressed_by_rule) {
            if *count > 0 {
                let _ = writeln!(out, "  {:>10}  {:>8}  {}", rule.sid, count, first_words(rule));
            }
        }
    }
    if stats.passed > 0 {
        let _ = writeln!(out, "passed (suppressed by pass rules): {}", stats.passed);
    }
    let d = &stats.defrag;
    if d.fragments > 0 {
        let _ = writeln!(
            out,
            "ip fragments: {} seen, {} datagrams reassembled, {} overlaps ({} with different bytes), {} tiny first fragments; given up: {} too many fragments, {} over 65535 bytes, {} timed out, {} no room",
            d.fragments, d.reassembled, d.overlaps, d.overlap_conflicts, d.tiny_first, d.too_many_fragments, d.too_large, d.timeouts, d.no_room
        );
    }
    let t = &stats.dns_tcp;
    if t.segments > 0 {
        let _ = writeln!(
            out,
            "dns over tcp: {} segments, {} messages ({} split across segments), {} retransmitted segments, {} held out of order, {} gaps, {} segments skipped resynchronising, {} bad length prefixes, {} messages too large; streams: {} closed, {} timed out, {} evicted",
            t.segments, t.messages, t.split, t.retransmitted, t.reordered, t.gaps, t.resync_skipped, t.bad_length, t.too_large, t.closed, t.timeouts, t.evicted
        );
    }
    for t in tables.iter().filter(|t| t.inserted > 0) {
        let owner = match t.clause {
            "echo" => "echo requests".to_string(),
            "echo streams" => "echo request streams".to_string(),
            clause => format!("rule {} {clause}", t.sid),
        };
        let _ = write!(
            out,
            "state {owner}: {} keys now, {} peak, {} created, {} evicted (table full), {} expired",
            t.entries, t.peak, t.inserted, t.evicted, t.expired
        );
        if t.memcap_evicted > 0 {
            let _ = write!(out, ", {} evicted (memcap, {} KiB peak)", t.memcap_evicted, t.peak_bytes >> 10);
        }
        let _ = writeln!(out);
    }
}

fn first_words(rule: &crate::engine::ruleset::CompiledRule) -> String {
    let text: String = rule
        .msg
        .parts
        .iter()
        .map(|p| match p {
            crate::engine::template::Part::Lit(s) => s.as_str(),
            crate::engine::template::Part::Value(..) => "…",
        })
        .collect();
    text.chars().take(70).collect()
}

/// The machine-readable form of the summary (`--stats FILE`).
#[derive(Serialize)]
pub struct StatsJson<'a> {
    /// Packets read.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// First timestamp, RFC 3339.
    pub first_timestamp: Option<String>,
    /// Last timestamp, RFC 3339.
    pub last_timestamp: Option<String>,
    /// Per-protocol packet counts.
    pub protocols: &'a ProtoCounts,
    /// Decode errors by kind.
    pub decode_errors: std::collections::BTreeMap<&'static str, u64>,
    /// Packets a snap length cut short (absent when none was).
    #[serde(skip_serializing_if = "is_zero")]
    pub snapped: u64,
    /// The most bytes a cut packet kept (the snap length, as far as seen).
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub snap_len: u32,
    /// Alerts per signature id.
    pub alerts_by_sid: std::collections::BTreeMap<u64, u64>,
    /// Alerts of rules a reload has since removed.
    #[serde(skip_serializing_if = "is_zero")]
    pub alerts_unloaded: u64,
    /// Alerts dropped by the config's `suppress`, per signature id of every
    /// rule with a `suppress` entry (absent when none has).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub suppressed_by_sid: std::collections::BTreeMap<u64, u64>,
    /// Matches a `limit` held back (they would have fired), per signature id
    /// of every rule with a `limit` (absent when none has).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub limited_by_sid: std::collections::BTreeMap<u64, u64>,
    /// Packets suppressed by pass rules.
    pub passed: u64,
    /// IP reassembly (absent when no fragment was seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defrag: Option<&'a crate::engine::defrag::DefragStats>,
    /// DNS-over-TCP reassembly (absent when no TCP segment on port 53 was reassembled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_tcp: Option<&'a crate::engine::dns_tcp::DnsTcpStats>,
    /// State tables.
    pub state: &'a [TableStats],
    /// Sensor counters (live and streaming runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<SensorCounters>,
    /// Outputs that can lose events (Redis, sockets, syslog): written and dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<crate::output::remote::OutputCounters>,
}

/// What a running sensor adds to the statistics.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SensorCounters {
    /// Seconds since the start.
    pub uptime_secs: u64,
    /// Kernel and interface counters of a live capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<crate::capture::source::CaptureCounters>,
    /// Rule reloads that swapped in a new set.
    pub reloads: u64,
    /// Reloads that refused at least one file.
    pub reloads_with_refusals: u64,
    /// Errors in the rule files at the last load.
    pub rules_failed: usize,
}

/// Writes the counters of the outputs that can lose events for the human summary.
pub fn write_output_counters(outputs: &[crate::output::remote::OutputCounters], out: &mut String) {
    for o in outputs {
        let _ = writeln!(
            out,
            "output {}: {} events written, {} dropped ({} buffer full, {} refused, {} undelivered at exit), {} reconnects",
            o.name, o.written, o.dropped, o.dropped_buffer_full, o.dropped_refused, o.dropped_at_exit, o.reconnects
        );
    }
}

/// Writes the capture counters of a live run for the human summary.
pub fn write_capture_counters(c: &crate::capture::source::CaptureCounters, out: &mut String) {
    let share = if c.received > 0 { c.dropped as f64 * 100.0 / c.received as f64 } else { 0.0 };
    let _ = writeln!(
        out,
        "capture: {} received by the kernel, {} dropped ({share:.2}%), {} dropped by the interface",
        c.received, c.dropped, c.if_dropped
    );
}

impl<'a> StatsJson<'a> {
    /// Collects the numbers.
    pub fn new(stats: &'a Stats, rules: &RuleSet, tables: &'a [TableStats]) -> Self {
        let ts = |t: Option<i64>| {
            t.map(|t| {
                let mut s = String::new();
                time::rfc3339_micros(t, &mut s);
                s
            })
        };
        StatsJson {
            packets: stats.packets,
            bytes: stats.bytes,
            first_timestamp: ts(stats.first_ts),
            last_timestamp: ts(stats.last_ts),
            protocols: &stats.protocols,
            decode_errors: stats.errors_by_kind().into_iter().collect(),
            snapped: stats.snapped,
            snap_len: stats.snap_len,
            alerts_by_sid: rules.rules().iter().zip(&stats.alerts_by_rule).map(|(r, c)| (r.sid, *c)).collect(),
            alerts_unloaded: stats.alerts_unloaded,
            suppressed_by_sid: rules
                .rules()
                .iter()
                .zip(&stats.suppressed_by_rule)
                .filter(|(r, _)| !r.suppress.is_empty())
                .map(|(r, c)| (r.sid, *c))
                .collect(),
            limited_by_sid: rules
                .rules()
                .iter()
                .zip(&stats.limited_by_rule)
                .filter(|(r, _)| r.state.limit.is_some())
                .map(|(r, c)| (r.sid, *c))
                .collect(),
            passed: stats.passed,
            defrag: (stats.defrag.fragments > 0).then_some(&stats.defrag),
            dns_tcp: (stats.dns_tcp.segments > 0).then_some(&stats.dns_tcp),
            state: tables,
            sensor: None,
            outputs: Vec::new(),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}
