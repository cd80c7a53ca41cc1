//! The report's inputs: alerts as EVE records, and the run statistics file.
//!
//! A report is built from the same two things whether it is written at the
//! end of a scan or later by `ferret report`: EVE alert records and the stats
//! JSON. During a scan each alert goes through the EVE writer and is read
//! back here, so the two paths cannot disagree by construction. Reading is
//! lenient: other event types are skipped, Suricata's own alerts (without
//! ferret's details) are understood, and broken lines are counted, not fatal.
//! ferret's details are read from `alert.metadata.ferret` (the layout that
//! validates against Suricata's EVE schema) or from the top-level `ferret`
//! object earlier versions wrote.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::collect::{Collected, Inspected, ProtocolCounts, PROTOCOLS};
use super::thresholds::Threshold;
use crate::engine::alert::Alert;
use crate::output::eve;
use crate::rules::ast::Severity;
use crate::scan::AlertSink;

/// What a stateful rule saw when it fired, as EVE carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateRecord {
    /// `threshold`, `rate` or `distinct`.
    pub clause: String,
    /// The key, rendered.
    pub key: String,
    /// Matches (or distinct values) in the window.
    pub count: u64,
    /// Window length in seconds.
    pub window_secs: f64,
    /// Rate per second, for `rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_sec: Option<f64>,
    /// First packet number in the window.
    pub first_packet: u64,
    /// Last packet number in the window.
    pub last_packet: u64,
}

/// What an EVE line says about where its alert was raised, as written: the
/// sensor, the input and the packet's place in the run. With the rule and the
/// time it identifies one alert across copies of an EVE file
/// (see [`super::merge`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Origin {
    /// EVE `host`: the sensor's name, when it has one.
    pub host: Option<String>,
    /// EVE `pcap_filename`: the capture being read.
    pub pcap_filename: Option<String>,
    /// EVE `in_iface`: the interface of a live capture.
    pub in_iface: Option<String>,
    /// EVE `pcap_cnt`: the packet's number in the run (across its inputs).
    pub pcap_cnt: Option<u64>,
    /// EVE `flow_id`.
    pub flow_id: Option<u64>,
}

/// One alert, as read from an EVE line.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    /// Packet time, ns since the epoch (EVE keeps microseconds).
    pub ts_nanos: i64,
    /// The sensor that raised it: EVE `host`, or, when several inputs are
    /// merged, the input's label for alerts that name no sensor.
    pub sensor: Option<String>,
    /// The capture, when EVE names it (several captures scanned).
    pub file: Option<String>,
    /// 1-based packet number in its capture.
    pub packet: u64,
    /// Source address.
    pub src: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination address.
    pub dst: Option<IpAddr>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// EVE `proto` (ICMP, UDP, ...).
    pub proto: String,
    /// Signature id.
    pub sid: u64,
    /// Rendered message.
    pub message: String,
    /// The rule's `class` (EVE `category`).
    pub class: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Values the rule measured.
    pub measured: BTreeMap<String, serde_json::Value>,
    /// What a stateful rule saw.
    pub state: Option<StateRecord>,
    /// Rendered recommendations.
    pub recommendations: Vec<String>,
    /// Where EVE says it was raised.
    pub origin: Origin,
}

impl AlertRecord {
    /// A measured number (`payload.len`, `payload.entropy`, ...).
    pub fn num(&self, field: &str) -> Option<f64> {
        self.measured.get(field).and_then(serde_json::Value::as_f64)
    }

    /// The report's protocol category (an index into [`PROTOCOLS`]): DNS is
    /// UDP or TCP with port 53 on either side, as in the packet counts.
    pub fn protocol(&self) -> usize {
        let dns = self.src_port == Some(53) || self.dst_port == Some(53);
        let name = match self.proto.as_str() {
            "ICMP" => "ICMP",
            "IPv6-ICMP" | "ICMPv6" => "ICMPv6",
            "TCP" | "UDP" if dns => "DNS",
            "TCP" => "TCP",
            "UDP" => "UDP",
            "ARP" => "ARP",
            _ => "Other",
        };
        PROTOCOLS.iter().position(|p| *p == name).unwrap_or(PROTOCOLS.len() - 1)
    }
}

#[derive(Deserialize)]
struct EveLine {
    timestamp: String,
    #[serde(default)]
    pcap_filename: Option<String>,
    #[serde(default)]
    pcap_cnt: Option<u64>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    in_iface: Option<String>,
    #[serde(default)]
    flow_id: Option<u64>,
    #[serde(default)]
    src_ip: Option<IpAddr>,
    #[serde(default)]
    src_port: Option<u16>,
    #[serde(default)]
    dest_ip: Option<IpAddr>,
    #[serde(default)]
    dest_port: Option<u16>,
    #[serde(default)]
    proto: String,
    alert: EveAlertBody,
    #[serde(default)]
    ferret: Option<EveFerret>,
}

#[derive(Deserialize)]
struct EveAlertBody {
    signature_id: u64,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: u8,
    #[serde(default)]
    metadata: Option<EveMetadata>,
}

#[derive(Deserialize)]
struct EveMetadata {
    #[serde(default)]
    ferret: Option<EveFerret>,
}

#[derive(Deserialize)]
struct EveFerret {
    #[serde(default)]
    severity: Option<String>,
    /// The packet number in its capture (`pcap_cnt` counts across captures).
    #[serde(default)]
    packet: Option<u64>,
    /// The capture, when several were scanned.
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    measured: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    state: Option<StateRecord>,
    #[serde(default)]
    recommendations: Vec<String>,
}

/// Why an EVE line was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum EveSkip {
    /// Not an alert (Suricata writes flows, DNS records, stats, ...).
    NotAlert,
    /// Not JSON, or an alert without the fields a report needs.
    Malformed(Malformed),
}

/// What is wrong with an EVE line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The 1-based column where the JSON went wrong, when it is not JSON.
    pub column: Option<usize>,
    /// Why.
    pub why: String,
}

impl Malformed {
    fn new(why: impl Into<String>) -> Malformed {
        Malformed { column: None, why: why.into() }
    }

    /// From serde's error, with its position as a column (an EVE line is one line).
    fn json(e: &serde_json::Error) -> Malformed {
        let text = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        let why = text.strip_suffix(&at).unwrap_or(&text).to_string();
        Malformed { column: (e.line() > 0 && e.column() > 0).then_some(e.column()), why }
    }
}

/// Severity by name.
pub fn severity_from_name(s: &str) -> Option<Severity> {
    Severity::ALL.into_iter().find(|sev| sev.keyword() == s)
}

/// Severity from Suricata's number (1 most severe), as ferret writes it.
fn severity_from_number(n: u8) -> Severity {
    match n {
        1 => Severity::Critical,
        2 => Severity::High,
        3 => Severity::Medium,
        4 => Severity::Low,
        _ => Severity::Info,
    }
}

/// Reads one EVE line.
pub fn parse_eve_line(line: &str) -> Result<AlertRecord, EveSkip> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| EveSkip::Malformed(Malformed::json(&e)))?;
    if value.get("event_type").and_then(serde_json::Value::as_str) != Some("alert") {
        return Err(EveSkip::NotAlert);
    }
    let mut eve: EveLine =
        serde_json::from_value(value).map_err(|e| EveSkip::Malformed(Malformed::new(format!("alert: {e}"))))?;
    let ts_nanos = parse_timestamp(&eve.timestamp)
        .ok_or_else(|| EveSkip::Malformed(Malformed::new(format!("bad timestamp '{}'", eve.timestamp))))?;
    let origin = Origin {
        host: eve.host.take(),
        pcap_filename: eve.pcap_filename.clone(),
        in_iface: eve.in_iface.take(),
        pcap_cnt: eve.pcap_cnt,
        flow_id: eve.flow_id,
    };
    // The schema-valid layout keeps the per-capture packet number and the
    // file label in the metadata; the old one and Suricata's use pcap_cnt and pcap_filename.
    let (ferret, packet, file) = match eve.alert.metadata.take().and_then(|m| m.ferret) {
        Some(mut f) => {
            let (packet, file) = (f.packet.or(eve.pcap_cnt).unwrap_or(0), f.file.take());
            (f, packet, file)
        }
        None => {
            let f = eve.ferret.take().unwrap_or(EveFerret {
                severity: None,
                packet: None,
                file: None,
                measured: BTreeMap::new(),
                state: None,
                recommendations: Vec::new(),
            });
            (f, eve.pcap_cnt.unwrap_or(0), eve.pcap_filename.take())
        }
    };
    let severity = ferret
        .severity
        .as_deref()
        .and_then(severity_from_name)
        .unwrap_or_else(|| severity_from_number(eve.alert.severity));
    Ok(AlertRecord {
        ts_nanos,
        sensor: origin.host.clone(),
        file,
        packet,
        src: eve.src_ip,
        src_port: eve.src_port,
        dst: eve.dest_ip,
        dst_port: eve.dest_port,
        proto: eve.proto,
        sid: eve.alert.signature_id,
        message: eve.alert.signature,
        class: if eve.alert.category.is_empty() { "unclassified".into() } else { eve.alert.category },
        severity,
        measured: ferret.measured,
        state: ferret.state,
        recommendations: ferret.recommendations,
        origin,
    })
}

/// A broken EVE line: where it is and why it was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in its input.
    pub line: usize,
    /// What is wrong, and the column when the JSON is broken.
    pub malformed: Malformed,
}

impl Problem {
    /// `LABEL:LINE:COL: why` (`LABEL:LINE: why` without a column).
    pub fn render(&self, label: &str) -> String {
        match self.malformed.column {
            Some(col) => format!("{label}:{}:{col}: {}", self.line, self.malformed.why),
            None => format!("{label}:{}: {}", self.line, self.malformed.why),
        }
    }
}

/// Longest EVE line read; a longer one is skipped as broken. Suricata's
/// largest records (DNS answers, HTTP bodies) stay far below it.
pub const MAX_LINE: usize = 16 << 20;

/// Alerts read from EVE text, and what was skipped.
#[derive(Debug, Default)]
pub struct EveRead {
    /// The alerts, in file order.
    pub alerts: Vec<AlertRecord>,
    /// Lines that were other event types.
    pub other_events: u64,
    /// Broken lines, the first [`EveRead::KEPT_PROBLEMS`]; `malformed` counts all.
    pub problems: Vec<Problem>,
    /// Broken lines in all.
    pub malformed: u64,
}

impl EveRead {
    /// Broken lines described by line number and reason; the rest are only counted.
    pub const KEPT_PROBLEMS: usize = 10;

    /// Reads line `n` (1-based); blank lines are ignored.
    pub fn push_line(&mut self, n: usize, line: &[u8]) {
        let parsed = if line.len() > MAX_LINE {
            Err(EveSkip::Malformed(Malformed::new(format!("line longer than {} MiB", MAX_LINE >> 20))))
        } else {
            match std::str::from_utf8(line) {
                Ok(text) if text.trim().is_empty() => return,
                Ok(text) => parse_eve_line(text),
                Err(e) => Err(EveSkip::Malformed(Malformed {
                    column: Some(e.valid_up_to() + 1),
                    why: "not UTF-8".to_string(),
                })),
            }
        };
        match parsed {
            Ok(a) => self.alerts.push(a),
            Err(EveSkip::NotAlert) => self.other_events += 1,
            Err(EveSkip::Malformed(malformed)) => {
                self.malformed += 1;
                if self.problems.len() < Self::KEPT_PROBLEMS {
                    self.problems.push(Problem { line: n, malformed });
                }
            }
        }
    }
}

/// Reads EVE JSON lines (blank lines are ignored).
pub fn read_eve(text: &str) -> EveRead {
    let mut out = EveRead::default();
    for (n, line) in (1..).zip(text.lines()) {
        out.push_line(n, line.as_bytes());
    }
    out
}

/// Collects alerts for a report during a scan, through the EVE writer (with
/// the sensor name the EVE file gets).
#[derive(Default)]
pub struct ReportSink {
    /// Alerts so far.
    pub alerts: Vec<AlertRecord>,
    ctx: eve::EveContext,
    line: Vec<u8>,
}

impl ReportSink {
    /// Names the sensor (EVE `host`) in the alerts it collects.
    pub fn set_host(&mut self, host: Option<String>) {
        self.ctx.host = host;
    }
}

impl AlertSink for ReportSink {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        self.line.clear();
        eve::write_alert(alert, file, &self.ctx, &mut self.line).map_err(io::Error::other)?;
        let text = std::str::from_utf8(&self.line).map_err(io::Error::other)?;
        match parse_eve_line(text.trim_end()) {
            Ok(record) => {
                self.alerts.push(record);
                Ok(())
            }
            Err(e) => Err(io::Error::other(format!("EVE line not readable back: {e:?}"))),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The report's additions to the stats file (`--stats`), beside the summary numbers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReportStats {
    /// Captures scanned, in order; points refer to them by index.
    #[serde(default)]
    pub captures: Vec<String>,
    /// Packets per protocol, each counted once.
    #[serde(default)]
    pub packets_by_protocol: Option<ProtocolCounts>,
    /// Points for the entropy charts.
    #[serde(default)]
    pub inspected: Option<Inspected>,
    /// Numeric limits of the rules on the charted fields.
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
}

impl ReportStats {
    /// From what a scan collected, and the rules' limits.
    pub fn new(collected: &Collected, thresholds: Vec<Threshold>) -> ReportStats {
        ReportStats {
            captures: collected.captures.clone(),
            packets_by_protocol: Some(collected.protocols),
            inspected: Some(collected.inspected.clone()),
            thresholds,
        }
    }
}

/// What the stats file holds, as far as a report needs it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunStats {
    /// Packets read.
    #[serde(default)]
    pub packets: u64,
    /// Bytes on the wire.
    #[serde(default)]
    pub bytes: u64,
    /// First packet time, RFC 3339.
    #[serde(default)]
    pub first_timestamp: Option<String>,
    /// Last packet time, RFC 3339.
    #[serde(default)]
    pub last_timestamp: Option<String>,
    /// Matches a rule's `limit` held back, by rule id (the stats file's
    /// `limited_by_sid`): packets the rule matched without a further alert.
    #[serde(default)]
    pub limited_by_sid: BTreeMap<u64, u64>,
    /// The report's additions.
    #[serde(flatten)]
    pub report: ReportStats,
}

impl RunStats {
    /// First packet time in ns.
    pub fn first_ts(&self) -> Option<i64> {
        self.first_timestamp.as_deref().and_then(parse_timestamp)
    }

    /// Last packet time in ns.
    pub fn last_ts(&self) -> Option<i64> {
        self.last_timestamp.as_deref().and_then(parse_timestamp)
    }

    /// Adds another run's numbers (several EVE files, each with its stats).
    pub fn merge(&mut self, other: RunStats) {
        let span = |a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        let first = span(self.first_ts(), other.first_ts(), i64::min);
        let last = span(self.last_ts(), other.last_ts(), i64::max);
        self.first_timestamp = first.map(rfc3339);
        self.last_timestamp = last.map(rfc3339);
        self.packets += other.packets;
        self.bytes += other.bytes;
        for (sid, n) in other.limited_by_sid {
            *self.limited_by_sid.entry(sid).or_default() += n;
        }
        let offset = u32::try_from(self.report.captures.len()).unwrap_or(u32::MAX);
        let r = &mut self.report;
        r.captures.extend(other.report.captures);
        r.packets_by_protocol = match (r.packets_by_protocol, other.report.packets_by_protocol) {
            (Some(mut a), Some(b)) => {
                a.add(&b);
                Some(a)
            }
            // A run without counts makes the sum unknown.
            _ => None,
        };
        r.inspected = match (r.inspected.take(), other.report.inspected) {
            (Some(mut a), Some(b)) => {
                a.icmp.merge(&b.icmp, offset);
                a.dns.merge(&b.dns, offset);
                Some(a)
            }
            (a, b) => a.or(b),
        };
        for t in other.report.thresholds {
            if !r.thresholds.contains(&t) {
                r.thresholds.push(t);
            }
        }
    }
}

fn rfc3339(ts: i64) -> String {
    let mut s = String::new();
    crate::output::time::rfc3339_micros(ts, &mut s);
    s
}

/// Where `ferret report` looks for the stats of `eve` when `--stats` is not
/// given: `NAME.stats.json` beside `NAME.json` (or `NAME.EXT.stats.json`),
/// then `stats.json` in the same directory.
pub fn stats_candidates(eve: &Path) -> Vec<PathBuf> {
    let dir = eve.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(stem) = eve.file_stem() {
        let mut name = stem.to_os_string();
        name.push(".stats.json");
        out.push(dir.join(name));
    }
    if let Some(file) = eve.file_name() {
        let mut name = file.to_os_string();
        name.push(".stats.json");
        out.push(dir.join(name));
    }
    out.push(dir.join("stats.json"));
    out.dedup();
    out.retain(|p| p != eve);
    out
}

/// Parses an RFC 3339 timestamp (`2025-04-05T20:55:01.123456+00:00`, `Z`,
/// or Suricata's `+0000`) into ns since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = s.get(from..from + n)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let sep = |at: usize, chars: &[u8]| b.get(at).is_some_and(|c| chars.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let frac = s.get(start..at)?;
        if frac.is_empty() {
            return None;
        }
        let mut scale = 100_000_000i64;
        for c in frac.bytes().take(9) {
            nanos += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let offset_secs = match b.get(at) {
        None => 0,
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = s.get(at + 1..)?;
            let (h, m) = match rest.len() {
                5 if rest.as_bytes().get(2) == Some(&b':') => (digits(at + 1, 2)?, digits(at + 4, 2)?),
                4 => (digits(at + 1, 2)?, digits(at + 3, 2)?),
                _ => return None,
            };
            let off = h * 3600 + m * 60;
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for ts in [0i64, 1_743_886_501_123_456_000, 951_782_400_000_000_000, -1_000, 4_102_444_800_000_000_000] {
            assert_eq!(parse_timestamp(&rfc3339(ts)), Some(ts), "{}", rfc3339(ts));
        }
        assert_eq!(parse_timestamp("2025-04-05T20:55:01Z"), Some(1_743_886_501_000_000_000));
        assert_eq!(parse_timestamp("2025-04-05T22:55:01.5+0200"), Some(1_743_886_501_500_000_000));
        assert_eq!(parse_timestamp("2025-04-05T19:55:01-01:00"), Some(1_743_886_501_000_000_000));
        for bad in ["", "2025-04-05", "2025-13-05T00:00:00Z", "2025-04-05T20:55:01.Z", "2025-04-05T20:55:01+1", "x"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn suricata_alerts_and_other_events_are_read() {
        let text = concat!(
            r#"{"timestamp":"2025-04-05T20:55:01.000000+0000","event_type":"flow"}"#,
            "\n",
            r#"{"timestamp":"2025-04-05T20:55:01.000000+0000","event_type":"alert","src_ip":"10.0.0.1","src_port":5353,"dest_ip":"10.0.0.2","dest_port":53,"proto":"UDP","pcap_cnt":7,"alert":{"signature_id":9,"signature":"x","category":"","severity":2}}"#,
            "\n\nnot json\n"
        );
        let read = read_eve(text);
        assert_eq!(read.other_events, 1);
        assert_eq!(read.malformed, 1);
        assert_eq!(read.problems.first().map(|p| p.render("x")).as_deref(), Some("x:4:2: expected ident"));
        let a = read.alerts.first().unwrap();
        assert_eq!((a.packet, a.sid, a.severity, a.class.as_str()), (7, 9, Severity::High, "unclassified"));
        assert_eq!(PROTOCOLS.get(a.protocol()), Some(&"DNS"));
    }

    #[test]
    fn ferrets_details_are_read_from_the_metadata_and_from_the_old_top_level_object() {
        let new = r#"{"timestamp":"2025-04-05T20:55:01.000000+0000","event_type":"alert","pcap_cnt":1207,"pcap_filename":"b.pcap","proto":"ICMP","alert":{"signature_id":9,"signature":"x","category":"c","severity":4,"metadata":{"ferret":{"severity":"critical","packet":7,"file":"b.pcap","measured":{"payload.len":159},"recommendations":["r"]}}}}"#;
        let old = r#"{"timestamp":"2025-04-05T20:55:01.000000+00:00","event_type":"alert","pcap_cnt":7,"pcap_filename":"b.pcap","proto":"ICMP","alert":{"signature_id":9,"signature":"x","category":"c","severity":4},"ferret":{"severity":"critical","measured":{"payload.len":159},"recommendations":["r"]}}"#;
        let (new, mut old) = (parse_eve_line(new).unwrap(), parse_eve_line(old).unwrap());
        // pcap_cnt counts across captures in the new layout; the rest is the same.
        assert_eq!((new.origin.pcap_cnt, old.origin.pcap_cnt), (Some(1207), Some(7)));
        old.origin.pcap_cnt = new.origin.pcap_cnt;
        assert_eq!(new, old);
        assert_eq!((new.packet, new.file.as_deref(), new.severity), (7, Some("b.pcap"), Severity::Critical));
        assert_eq!((new.num("payload.len"), new.recommendations.len()), (Some(159.0), 1));
        // One capture: ferret names no file, whatever pcap_filename says.
        let single = r#"{"timestamp":"2025-04-05T20:55:01.000000+0000","event_type":"alert","pcap_cnt":7,"pcap_filename":"a.pcap","alert":{"signature_id":9,"metadata":{"ferret":{"packet":7}}}}"#;
        assert_eq!(parse_eve_line(single).unwrap().file, None);
    }

    #[test]
    fn stats_are_looked_for_beside_the_eve_file() {
        let c = stats_candidates(Path::new("out/alerts.json"));
        assert_eq!(
            c,
            vec![
                PathBuf::from("out/alerts.stats.json"),
                PathBuf::from("out/alerts.json.stats.json"),
                PathBuf::from("out/stats.json")
            ]
        );
    }
}
