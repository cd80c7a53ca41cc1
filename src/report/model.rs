//! The report as data: every section computed from alert records and run stats.
//!
//! Renderers (Markdown, HTML, JSON) only format what is here, so the three
//! formats cannot tell different stories, and every number in them can be
//! traced: each count is a count of [`AlertRecord`]s, each host, time and
//! packet number is copied from one. Nothing is estimated or narrated.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use super::collect::{Inspected, Sample, PROTOCOLS};
use super::input::{AlertRecord, RunStats};
use super::thresholds::Threshold;
use crate::output::time;
use crate::rules::ast::Severity;

/// Detections at most this far apart belong to one cluster.
pub const CLUSTER_GAP_NANOS: i64 = 10_000_000_000;
/// The window in which the busiest burst of detections is counted.
pub const BURST_WINDOW_NANOS: i64 = 1_000_000_000;
/// Evidence rows shown in Markdown and HTML (the JSON report has them all).
pub const EVIDENCE_ROWS: usize = 1_000;

/// A packet time (ns since the epoch), written as RFC 3339 in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub i64);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::new();
        time::rfc3339_micros(self.0, &mut out);
        s.serialize_str(&out)
    }
}

impl fmt::Display for Time {
    /// `2025-04-05 20:55:00.140000`, UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&time::human(self.0))
    }
}

/// A severity, written by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sev(pub Severity);

impl Serialize for Sev {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.keyword())
    }
}

impl fmt::Display for Sev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.keyword())
    }
}

/// A packet: its number, its capture when several were scanned, and its
/// sensor when the alerts name one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PacketRef {
    /// The sensor that saw it (EVE `host`, or its EVE file's name when several are merged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    /// The capture (only when EVE names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based packet number in its capture, as Wireshark shows it.
    pub packet: u64,
}

impl PacketRef {
    fn of(a: &AlertRecord) -> PacketRef {
        PacketRef { sensor: a.sensor.clone(), file: a.file.clone(), packet: a.packet }
    }

    /// The packet within its capture, without the sensor: `18`, `day2.pcap:18`.
    pub fn in_capture(&self) -> String {
        match &self.file {
            Some(file) => format!("{file}:{}", self.packet),
            None => self.packet.to_string(),
        }
    }
}

impl fmt::Display for PacketRef {
    /// `18`, `day2.pcap:18` when several captures were scanned, and
    /// `18@edge-1` or `day2.pcap:18@edge-1` when the sensor is known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        write!(f, "{}", self.packet)?;
        match &self.sensor {
            Some(sensor) => write!(f, "@{sensor}"),
            None => Ok(()),
        }
    }
}

/// What was scanned.
#[derive(Debug, Serialize)]
pub struct Scope {
    /// Captures, in scan order.
    pub captures: Vec<String>,
    /// EVE files the alerts were read from (empty when written by `scan`).
    pub eve_files: Vec<String>,
    /// Packets read (from the stats).
    pub packets: Option<u64>,
    /// Bytes on the wire (from the stats).
    pub bytes: Option<u64>,
    /// First packet time.
    pub first: Option<Time>,
    /// Last packet time.
    pub last: Option<Time>,
}

/// One sensor's detections.
#[derive(Debug, Serialize)]
pub struct SensorRow {
    /// Its name (EVE `host`, or its EVE file's name); `None` for alerts naming no sensor.
    pub sensor: Option<String>,
    /// Detections (alerts), each counted once.
    pub detections: u64,
    /// Distinct packets that raised them.
    pub flagged_packets: u64,
    /// Rules that fired.
    pub rules: Vec<u64>,
    /// Worst severity.
    pub worst: Sev,
    /// Distinct hosts in its detections.
    pub hosts: u64,
    /// Its first detection.
    pub first: Time,
    /// Its last detection.
    pub last: Time,
}

/// Detections of one type (rule class).
#[derive(Debug, Serialize)]
pub struct TypeCount {
    /// The rules' `class`.
    pub class: String,
    /// Worst severity among them.
    pub severity: Sev,
    /// Detections (alerts).
    pub detections: u64,
}

/// A host seen in detections.
#[derive(Debug, Serialize)]
pub struct Host {
    /// Address.
    pub ip: IpAddr,
    /// Detections with this host as source.
    pub as_source: u64,
    /// Detections with this host as destination.
    pub as_destination: u64,
}

/// First and last detection.
#[derive(Debug, Serialize)]
pub struct Window {
    /// First detection.
    pub first: Time,
    /// Last detection.
    pub last: Time,
    /// Seconds between them.
    pub seconds: f64,
}

/// The worst finding.
#[derive(Debug, Serialize)]
pub struct Worst {
    /// Its severity.
    pub severity: Sev,
    /// Its type.
    pub class: String,
    /// The rule.
    pub sid: u64,
    /// Its first detection.
    pub first_packet: PacketRef,
}

/// Section 1.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Alerts.
    pub detections: u64,
    /// Distinct packets that raised them.
    pub flagged_packets: u64,
    /// Distinct rules that fired.
    pub rules: u64,
    /// Matches held back by a rule's `limit` (rule id, count), from the stats:
    /// packets matched without an alert of their own, so not "unflagged".
    pub held_back: Vec<(u64, u64)>,
    /// Detections per type, worst first.
    pub by_type: Vec<TypeCount>,
    /// Hosts in detections, most involved first.
    pub hosts: Vec<Host>,
    /// When detections happened.
    pub window: Option<Window>,
    /// The worst finding.
    pub worst: Option<Worst>,
}

/// Section 2: one threat type.
#[derive(Debug, Serialize)]
pub struct Risk {
    /// The rules' `class`.
    pub class: String,
    /// Worst severity from rule metadata.
    pub severity: Sev,
    /// Detections.
    pub detections: u64,
    /// Rules (signature ids) that fired.
    pub rules: Vec<u64>,
    /// Hosts involved (sources and destinations).
    pub hosts: Vec<IpAddr>,
    /// First detection.
    pub first: Time,
    /// Last detection.
    pub last: Time,
}

/// One flagged packet in the size observations.
#[derive(Debug, Serialize)]
pub struct Extreme {
    /// The packet.
    pub packet: PacketRef,
    /// Its time.
    pub time: Time,
    /// Its length.
    pub length: f64,
    /// Its entropy, when the rule measured it.
    pub entropy: Option<f64>,
}

/// Sizes of flagged payloads or names of one kind.
#[derive(Debug, Serialize)]
pub struct SizeObs {
    /// `ICMP payloads` or `DNS query names`.
    pub kind: &'static str,
    /// The length field (`payload.len`, `dns.qname.len`).
    pub length_field: &'static str,
    /// The entropy field.
    pub entropy_field: &'static str,
    /// `bytes` or `characters`.
    pub unit: &'static str,
    /// Distinct flagged packets with a measured length.
    pub packets: u64,
    /// Shortest and longest.
    pub length_range: (f64, f64),
    /// Lowest and highest entropy (of those that measured it).
    pub entropy_range: Option<(f64, f64)>,
    /// The longest (ties: higher entropy, then earlier).
    pub largest: Extreme,
    /// The shortest (ties: lower entropy, then earlier).
    pub smallest: Extreme,
}

/// Two hosts and the detections between them.
#[derive(Debug, Serialize)]
pub struct Pair {
    /// The source of the first detection between them.
    pub a: IpAddr,
    /// The other host.
    pub b: IpAddr,
    /// Detections from `a` to `b`.
    pub a_to_b: u64,
    /// Detections from `b` to `a`.
    pub b_to_a: u64,
    /// `unidirectional` or `bidirectional`.
    pub direction: &'static str,
    /// Types of the detections.
    pub classes: Vec<String>,
    /// Sensors whose alerts name the pair (when alerts name sensors). More
    /// than one: the pair's traffic was split between sensors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensors: Vec<String>,
}

/// Detections no more than [`CLUSTER_GAP_NANOS`] apart.
#[derive(Debug, Serialize)]
pub struct Cluster {
    /// First detection.
    pub start: Time,
    /// Last detection.
    pub end: Time,
    /// Seconds from first to last.
    pub seconds: f64,
    /// Detections.
    pub detections: u64,
    /// Packet of the first.
    pub first_packet: PacketRef,
    /// Packet of the last.
    pub last_packet: PacketRef,
}

/// The most detections within [`BURST_WINDOW_NANOS`].
#[derive(Debug, Serialize)]
pub struct Burst {
    /// The first detection of the burst.
    pub start: Time,
    /// Detections within the window from `start`.
    pub detections: u64,
    /// The window, in seconds.
    pub window_seconds: f64,
}

/// When detections happened.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// First detection.
    pub first: Time,
    /// Last detection.
    pub last: Time,
    /// Seconds between them.
    pub seconds: f64,
    /// Gap that separates clusters, in seconds.
    pub cluster_gap_seconds: f64,
    /// Clusters in time order.
    pub clusters: Vec<Cluster>,
    /// The busiest burst.
    pub busiest: Burst,
}

/// What a stateful rule saw when it fired.
#[derive(Debug, Serialize)]
pub struct StatefulObs {
    /// The rule.
    pub sid: u64,
    /// The alert's message.
    pub message: String,
    /// The packet that fired it.
    pub packet: PacketRef,
    /// Its time.
    pub time: Time,
    /// `threshold`, `rate` or `distinct`.
    pub clause: String,
    /// The key.
    pub key: String,
    /// Matches or distinct values counted.
    pub count: u64,
    /// The window, in seconds.
    pub window_seconds: f64,
    /// Rate per second, for `rate`.
    pub rate_per_sec: Option<f64>,
    /// First packet counted in the window.
    pub first_packet: u64,
    /// Last packet counted (this one).
    pub last_packet: u64,
}

/// Section 3.
#[derive(Debug, Serialize)]
pub struct Observations {
    /// Sizes of flagged ICMP payloads and DNS names.
    pub sizes: Vec<SizeObs>,
    /// Host pairs, most detections first.
    pub pairs: Vec<Pair>,
    /// Time clustering.
    pub timing: Option<Timing>,
    /// Stateful rules' reports.
    pub stateful: Vec<StatefulObs>,
}

/// Section 4: one protocol's packets.
#[derive(Debug, Serialize)]
pub struct ProtocolRow {
    /// ICMP, ICMPv6, DNS, TCP, UDP, ARP, Other.
    pub protocol: &'static str,
    /// Packets.
    pub packets: u64,
    /// Percent of all packets.
    pub share: f64,
}

/// Section 5: detections with one rendered message.
#[derive(Debug, Serialize)]
pub struct DetectionRow {
    /// The rendered message.
    pub message: String,
    /// The rule.
    pub sid: u64,
    /// Its type.
    pub class: String,
    /// Its severity.
    pub severity: Sev,
    /// Detections.
    pub count: u64,
    /// Their packets.
    pub packets: Vec<PacketRef>,
}

/// Section 6: one protocol's detections.
#[derive(Debug, Serialize)]
pub struct ProtocolDetections {
    /// ICMP, ICMPv6, DNS, TCP, UDP, ARP, Other.
    pub protocol: &'static str,
    /// Detections.
    pub detections: u64,
    /// Percent of all detections.
    pub share: f64,
    /// Distinct flagged packets.
    pub flagged_packets: u64,
    /// Packets of this protocol (from the stats).
    pub packets: Option<u64>,
}

/// Section 7: one detection.
#[derive(Debug, Serialize)]
pub struct Evidence {
    /// The sensor that raised it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<String>,
    /// The packet.
    pub packet: PacketRef,
    /// Its time.
    pub time: Time,
    /// The rule.
    pub sid: u64,
    /// Its severity.
    pub severity: Sev,
    /// Its type.
    pub class: String,
    /// EVE protocol.
    pub proto: String,
    /// Source.
    pub src: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination.
    pub dst: Option<IpAddr>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// The message.
    pub message: String,
    /// Values the rule measured.
    pub measured: BTreeMap<String, serde_json::Value>,
}

/// The flagged packets written with `--extract`.
#[derive(Debug, Serialize)]
pub struct Extracted {
    /// The file.
    pub path: String,
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Packets written.
    pub packets: u64,
    /// Flagged packets not written (memory limit).
    pub dropped: u64,
}

/// One recommendation.
#[derive(Debug, Serialize)]
pub struct Recommendation {
    /// The rendered text (the first seen of those differing only in address order).
    pub text: String,
    /// Detections that carried it.
    pub detections: u64,
    /// Rules it came from.
    pub sids: Vec<u64>,
    /// Their packets.
    pub packets: Vec<PacketRef>,
}

/// Section 8: recommendations for one threat type.
#[derive(Debug, Serialize)]
pub struct Recommendations {
    /// The type.
    pub class: String,
    /// Its worst severity.
    pub severity: Sev,
    /// Its detections.
    pub detections: u64,
    /// Distinct recommendations, in order of first appearance.
    pub items: Vec<Recommendation>,
}

/// Counts behind one entropy chart.
#[derive(Debug, Serialize)]
pub struct SampleCounts {
    /// Packets inspected.
    pub seen: u64,
    /// Of those, flagged.
    pub flagged: u64,
    /// Points kept for the chart.
    pub plotted: u64,
}

/// One bin of the timeline.
#[derive(Debug, Serialize)]
pub struct Bin {
    /// Start of the bin.
    pub start: Time,
    /// Detections per type, in [`Timeline::classes`] order.
    pub counts: Vec<u64>,
}

/// Detections over time.
#[derive(Debug, Serialize)]
pub struct Timeline {
    /// Types, in risk order.
    pub classes: Vec<String>,
    /// Bin width in seconds.
    pub bin_seconds: f64,
    /// Bins from the start of the capture (or first detection) to its end.
    pub bins: Vec<Bin>,
}

/// Data behind the charts.
#[derive(Debug, Serialize)]
pub struct Charts {
    /// The inspected points (in the stats file, not repeated in the JSON report).
    #[serde(skip)]
    pub inspected: Option<Inspected>,
    /// Counts of the ICMP chart.
    pub icmp_points: Option<SampleCounts>,
    /// Counts of the DNS chart.
    pub dns_points: Option<SampleCounts>,
    /// Rule limits drawn on them.
    pub thresholds: Vec<Threshold>,
    /// Detections over time.
    pub timeline: Option<Timeline>,
}

/// A whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `ferret VERSION`.
    pub generator: String,
    /// What was scanned.
    pub scope: Scope,
    /// 1. Executive summary.
    pub summary: Summary,
    /// 1. Detections per sensor, by name (only when alerts name sensors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensors: Vec<SensorRow>,
    /// 2. Risk assessment.
    pub risks: Vec<Risk>,
    /// 3. Observations.
    pub observations: Observations,
    /// 4. Protocol distribution (needs the stats).
    pub protocols: Option<Vec<ProtocolRow>>,
    /// 5. Detection summary.
    pub detections: Vec<DetectionRow>,
    /// 6. Detections by protocol.
    pub detections_by_protocol: Vec<ProtocolDetections>,
    /// 7. Evidence.
    pub evidence: Vec<Evidence>,
    /// 7. The `--extract` file.
    pub extracted: Option<Extracted>,
    /// 8. Recommendations.
    pub recommendations: Vec<Recommendations>,
    /// Chart data.
    pub charts: Charts,
    /// Caveats about the inputs (missing stats, unreadable lines).
    pub notes: Vec<String>,
}

/// What a report is built from.
#[derive(Default)]
pub struct Sources<'a> {
    /// Alerts, in scan order.
    pub alerts: &'a [AlertRecord],
    /// Run statistics, when available.
    pub stats: Option<&'a RunStats>,
    /// EVE files read (for `ferret report`).
    pub eve_files: Vec<String>,
    /// The `--extract` result.
    pub extracted: Option<Extracted>,
    /// Caveats to print.
    pub notes: Vec<String>,
}

fn secs(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Per-class facts used by several sections.
struct ClassFacts {
    severity: Severity,
    detections: u64,
    sids: BTreeSet<u64>,
    hosts: BTreeSet<IpAddr>,
    first: i64,
    last: i64,
}

/// Builds the report.
pub fn build(src: Sources<'_>) -> Report {
    let alerts = src.alerts;
    let classes = class_facts(alerts);
    let mut order: Vec<&String> = classes.keys().collect();
    order.sort_by_key(|c| classes.get(*c).map(|f| (std::cmp::Reverse(f.severity), std::cmp::Reverse(f.detections))));
    let class_order: Vec<String> = order.into_iter().cloned().collect();

    let stats = src.stats;
    let scope = Scope {
        captures: match stats {
            Some(s) if !s.report.captures.is_empty() => s.report.captures.clone(),
            _ => alerts.iter().filter_map(|a| a.file.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        },
        eve_files: src.eve_files,
        packets: stats.map(|s| s.packets),
        bytes: stats.map(|s| s.bytes),
        first: stats.and_then(RunStats::first_ts).map(Time),
        last: stats.and_then(RunStats::last_ts).map(Time),
    };

    let risks: Vec<Risk> = class_order
        .iter()
        .filter_map(|c| {
            let f = classes.get(c)?;
            Some(Risk {
                class: c.clone(),
                severity: Sev(f.severity),
                detections: f.detections,
                rules: f.sids.iter().copied().collect(),
                hosts: f.hosts.iter().copied().collect(),
                first: Time(f.first),
                last: Time(f.last),
            })
        })
        .collect();

    let mut summary = summary(alerts, &risks);
    summary.held_back = stats
        .map(|s| s.limited_by_sid.iter().filter(|(_, &n)| n > 0).map(|(&sid, &n)| (sid, n)).collect())
        .unwrap_or_default();
    let observations =
        Observations { sizes: sizes(alerts), pairs: pairs(alerts), timing: timing(alerts), stateful: stateful(alerts) };
    let by_protocol = stats.and_then(|s| s.report.packets_by_protocol);
    let protocols = by_protocol.map(|counts| {
        let total: u64 = counts.as_array().iter().sum();
        PROTOCOLS
            .iter()
            .zip(counts.as_array())
            .map(|(&protocol, packets)| ProtocolRow { protocol, packets, share: percent(packets, total) })
            .collect()
    });
    let detections_by_protocol = detections_by_protocol(alerts, by_protocol.map(|c| c.as_array()));
    let evidence = alerts
        .iter()
        .map(|a| Evidence {
            sensor: a.sensor.clone(),
            packet: PacketRef::of(a),
            time: Time(a.ts_nanos),
            sid: a.sid,
            severity: Sev(a.severity),
            class: a.class.clone(),
            proto: a.proto.clone(),
            src: a.src,
            src_port: a.src_port,
            dst: a.dst,
            dst_port: a.dst_port,
            message: a.message.clone(),
            measured: a.measured.clone(),
        })
        .collect();
    let inspected = stats.and_then(|s| s.report.inspected.clone());
    let counts = |s: &Sample| SampleCounts { seen: s.seen, flagged: s.flagged, plotted: s.points.len() as u64 };
    let charts = Charts {
        icmp_points: inspected.as_ref().map(|i| counts(&i.icmp)),
        dns_points: inspected.as_ref().map(|i| counts(&i.dns)),
        inspected,
        thresholds: stats.map(|s| s.report.thresholds.clone()).unwrap_or_default(),
        timeline: timeline(alerts, &class_order, scope.first.zip(scope.last)),
    };
    Report {
        generator: format!("ferret {}", env!("CARGO_PKG_VERSION")),
        scope,
        summary,
        sensors: sensors(alerts),
        recommendations: recommendations(alerts, &risks),
        risks,
        observations,
        protocols,
        detections: detection_rows(alerts),
        detections_by_protocol,
        evidence,
        extracted: src.extracted,
        charts,
        notes: src.notes,
    }
}

fn class_facts(alerts: &[AlertRecord]) -> BTreeMap<String, ClassFacts> {
    let mut classes: BTreeMap<String, ClassFacts> = BTreeMap::new();
    for a in alerts {
        let f = classes.entry(a.class.clone()).or_insert(ClassFacts {
            severity: a.severity,
            detections: 0,
            sids: BTreeSet::new(),
            hosts: BTreeSet::new(),
            first: a.ts_nanos,
            last: a.ts_nanos,
        });
        f.severity = f.severity.max(a.severity);
        f.detections += 1;
        f.sids.insert(a.sid);
        f.hosts.extend(a.src.iter().chain(a.dst.iter()).copied());
        f.first = f.first.min(a.ts_nanos);
        f.last = f.last.max(a.ts_nanos);
    }
    classes
}

fn summary(alerts: &[AlertRecord], risks: &[Risk]) -> Summary {
    let flagged: BTreeSet<PacketRef> = alerts.iter().map(PacketRef::of).collect();
    let sids: BTreeSet<u64> = alerts.iter().map(|a| a.sid).collect();
    let mut hosts: BTreeMap<IpAddr, (u64, u64)> = BTreeMap::new();
    for a in alerts {
        if let Some(ip) = a.src {
            hosts.entry(ip).or_default().0 += 1;
        }
        if let Some(ip) = a.dst {
            hosts.entry(ip).or_default().1 += 1;
        }
    }
    let mut hosts: Vec<Host> =
        hosts.into_iter().map(|(ip, (s, d))| Host { ip, as_source: s, as_destination: d }).collect();
    hosts.sort_by_key(|h| (std::cmp::Reverse(h.as_source + h.as_destination), h.ip));
    let first = alerts.iter().map(|a| a.ts_nanos).min();
    let last = alerts.iter().map(|a| a.ts_nanos).max();
    let window =
        first.zip(last).map(|(f, l)| Window { first: Time(f), last: Time(l), seconds: secs(l.saturating_sub(f)) });
    let worst = alerts.iter().enumerate().max_by_key(|(i, a)| (a.severity, std::cmp::Reverse(*i))).map(|(_, a)| {
        Worst { severity: Sev(a.severity), class: a.class.clone(), sid: a.sid, first_packet: PacketRef::of(a) }
    });
    Summary {
        detections: alerts.len() as u64,
        flagged_packets: flagged.len() as u64,
        rules: sids.len() as u64,
        held_back: Vec::new(),
        by_type: risks
            .iter()
            .map(|r| TypeCount { class: r.class.clone(), severity: r.severity, detections: r.detections })
            .collect(),
        hosts,
        window,
        worst,
    }
}

/// Per-sensor counts, by sensor name (unnamed last); empty when no alert names a sensor.
fn sensors(alerts: &[AlertRecord]) -> Vec<SensorRow> {
    if alerts.iter().all(|a| a.sensor.is_none()) {
        return Vec::new();
    }
    struct Acc {
        row: SensorRow,
        packets: BTreeSet<PacketRef>,
        rules: BTreeSet<u64>,
        hosts: BTreeSet<IpAddr>,
    }
    // `None` sorts first in a BTreeMap; unnamed alerts go last below.
    let mut by: BTreeMap<Option<&str>, Acc> = BTreeMap::new();
    for a in alerts {
        let acc = by.entry(a.sensor.as_deref()).or_insert_with(|| Acc {
            row: SensorRow {
                sensor: a.sensor.clone(),
                detections: 0,
                flagged_packets: 0,
                rules: Vec::new(),
                worst: Sev(a.severity),
                hosts: 0,
                first: Time(a.ts_nanos),
                last: Time(a.ts_nanos),
            },
            packets: BTreeSet::new(),
            rules: BTreeSet::new(),
            hosts: BTreeSet::new(),
        });
        let r = &mut acc.row;
        r.detections += 1;
        r.worst = r.worst.max(Sev(a.severity));
        r.first = r.first.min(Time(a.ts_nanos));
        r.last = r.last.max(Time(a.ts_nanos));
        acc.packets.insert(PacketRef::of(a));
        acc.rules.insert(a.sid);
        acc.hosts.extend(a.src.iter().chain(a.dst.iter()).copied());
    }
    let mut rows: Vec<SensorRow> = by
        .into_values()
        .map(|acc| SensorRow {
            flagged_packets: acc.packets.len() as u64,
            rules: acc.rules.into_iter().collect(),
            hosts: acc.hosts.len() as u64,
            ..acc.row
        })
        .collect();
    rows.sort_by(|a, b| (a.sensor.is_none(), &a.sensor).cmp(&(b.sensor.is_none(), &b.sensor)));
    rows
}

const SIZE_KINDS: [(&str, &str, &str, &str); 2] = [
    ("ICMP payloads", "payload.len", "payload.entropy", "bytes"),
    ("DNS query names", "dns.qname.len", "dns.qname.entropy", "characters"),
];

fn sizes(alerts: &[AlertRecord]) -> Vec<SizeObs> {
    let mut out = Vec::new();
    for (kind, length_field, entropy_field, unit) in SIZE_KINDS {
        // One entry per flagged packet, even when several rules flagged it.
        let mut seen = BTreeSet::new();
        let mut items = Vec::new();
        for a in alerts {
            let Some(len) = a.num(length_field) else { continue };
            if seen.insert(PacketRef::of(a)) {
                items.push((PacketRef::of(a), a.ts_nanos, len, a.num(entropy_field)));
            }
        }
        let key = |e: &(PacketRef, i64, f64, Option<f64>)| (e.2, e.3.unwrap_or(0.0));
        let largest = items.iter().reduce(|best, e| {
            if key(e).partial_cmp(&key(best)) == Some(std::cmp::Ordering::Greater) {
                e
            } else {
                best
            }
        });
        let smallest = items.iter().reduce(|best, e| {
            if key(e).partial_cmp(&key(best)) == Some(std::cmp::Ordering::Less) {
                e
            } else {
                best
            }
        });
        let (Some(largest), Some(smallest)) = (largest, smallest) else { continue };
        let extreme = |e: &(PacketRef, i64, f64, Option<f64>)| Extreme {
            packet: e.0.clone(),
            time: Time(e.1),
            length: e.2,
            entropy: e.3,
        };
        let lens = items.iter().map(|e| e.2);
        let length_range = (lens.clone().fold(f64::INFINITY, f64::min), lens.fold(f64::NEG_INFINITY, f64::max));
        let entropies: Vec<f64> = items.iter().filter_map(|e| e.3).collect();
        let entropy_range = (!entropies.is_empty()).then(|| {
            (
                entropies.iter().copied().fold(f64::INFINITY, f64::min),
                entropies.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        });
        out.push(SizeObs {
            kind,
            length_field,
            entropy_field,
            unit,
            packets: items.len() as u64,
            length_range,
            entropy_range,
            largest: extreme(largest),
            smallest: extreme(smallest),
        });
    }
    out
}

/// What is counted for a host pair.
#[derive(Default)]
struct PairCounts {
    a_to_b: u64,
    b_to_a: u64,
    classes: BTreeSet<String>,
    sensors: BTreeSet<String>,
}

fn pairs(alerts: &[AlertRecord]) -> Vec<Pair> {
    let mut order: Vec<(IpAddr, IpAddr)> = Vec::new();
    // Unordered pair -> the pair as first seen (source of the first detection first).
    let mut first_seen: HashMap<(IpAddr, IpAddr), (IpAddr, IpAddr)> = HashMap::new();
    let mut map: HashMap<(IpAddr, IpAddr), PairCounts> = HashMap::new();
    for a in alerts {
        let (Some(src), Some(dst)) = (a.src, a.dst) else { continue };
        let key = *first_seen.entry((src.min(dst), src.max(dst))).or_insert_with(|| {
            order.push((src, dst));
            (src, dst)
        });
        let entry = map.entry(key).or_default();
        if key.0 == src {
            entry.a_to_b += 1;
        } else {
            entry.b_to_a += 1;
        }
        entry.classes.insert(a.class.clone());
        if let Some(sensor) = &a.sensor {
            entry.sensors.insert(sensor.clone());
        }
    }
    let mut out: Vec<Pair> = order
        .into_iter()
        .filter_map(|(a, b)| {
            let PairCounts { a_to_b: ab, b_to_a: ba, classes, sensors } = map.remove(&(a, b))?;
            Some(Pair {
                a,
                b,
                a_to_b: ab,
                b_to_a: ba,
                direction: if ab > 0 && ba > 0 { "bidirectional" } else { "unidirectional" },
                classes: classes.into_iter().collect(),
                sensors: sensors.into_iter().collect(),
            })
        })
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.a_to_b + p.b_to_a));
    out
}

fn timing(alerts: &[AlertRecord]) -> Option<Timing> {
    let mut times: Vec<(i64, PacketRef)> = alerts.iter().map(|a| (a.ts_nanos, PacketRef::of(a))).collect();
    times.sort();
    let (first, last) = (times.first()?.0, times.last()?.0);
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut start = 0usize;
    for i in 0..times.len() {
        let ends_here = match (times.get(i), times.get(i + 1)) {
            (Some(a), Some(b)) => b.0.saturating_sub(a.0) > CLUSTER_GAP_NANOS,
            _ => true,
        };
        if ends_here {
            if let (Some(s), Some(e)) = (times.get(start), times.get(i)) {
                clusters.push(Cluster {
                    start: Time(s.0),
                    end: Time(e.0),
                    seconds: secs(e.0.saturating_sub(s.0)),
                    detections: (i + 1 - start) as u64,
                    first_packet: s.1.clone(),
                    last_packet: e.1.clone(),
                });
            }
            start = i + 1;
        }
    }
    // Busiest window: for each detection, the detections within the window starting at it.
    let mut best = (0usize, 0usize);
    let mut j = 0usize;
    for (i, (t, _)) in times.iter().enumerate() {
        j = j.max(i);
        while times.get(j + 1).is_some_and(|(u, _)| u.saturating_sub(*t) < BURST_WINDOW_NANOS) {
            j += 1;
        }
        if j + 1 - i > best.1 {
            best = (i, j + 1 - i);
        }
    }
    let busiest = Burst {
        start: Time(times.get(best.0).map_or(first, |t| t.0)),
        detections: best.1 as u64,
        window_seconds: secs(BURST_WINDOW_NANOS),
    };
    Some(Timing {
        first: Time(first),
        last: Time(last),
        seconds: secs(last.saturating_sub(first)),
        cluster_gap_seconds: secs(CLUSTER_GAP_NANOS),
        clusters,
        busiest,
    })
}

fn stateful(alerts: &[AlertRecord]) -> Vec<StatefulObs> {
    alerts
        .iter()
        .filter_map(|a| {
            let s = a.state.as_ref()?;
            Some(StatefulObs {
                sid: a.sid,
                message: a.message.clone(),
                packet: PacketRef::of(a),
                time: Time(a.ts_nanos),
                clause: s.clause.clone(),
                key: s.key.clone(),
                count: s.count,
                window_seconds: s.window_secs,
                rate_per_sec: s.rate_per_sec,
                first_packet: s.first_packet,
                last_packet: s.last_packet,
            })
        })
        .collect()
}

fn detections_by_protocol(alerts: &[AlertRecord], packets: Option<[u64; 7]>) -> Vec<ProtocolDetections> {
    let mut counts = [0u64; 7];
    let mut flagged: [BTreeSet<PacketRef>; 7] = Default::default();
    for a in alerts {
        let p = a.protocol();
        if let Some(c) = counts.get_mut(p) {
            *c += 1;
        }
        if let Some(set) = flagged.get_mut(p) {
            set.insert(PacketRef::of(a));
        }
    }
    let total = alerts.len() as u64;
    PROTOCOLS
        .iter()
        .enumerate()
        .map(|(i, &protocol)| {
            let detections = counts.get(i).copied().unwrap_or(0);
            ProtocolDetections {
                protocol,
                detections,
                share: percent(detections, total),
                flagged_packets: flagged.get(i).map_or(0, |s| s.len() as u64),
                packets: packets.and_then(|p| p.get(i).copied()),
            }
        })
        .collect()
}

fn detection_rows(alerts: &[AlertRecord]) -> Vec<DetectionRow> {
    let mut rows: Vec<DetectionRow> = Vec::new();
    let mut index: BTreeMap<(u64, &str), usize> = BTreeMap::new();
    for a in alerts {
        let key = (a.sid, a.message.as_str());
        match index.get(&key).and_then(|&i| rows.get_mut(i)) {
            Some(row) => {
                row.count += 1;
                row.packets.push(PacketRef::of(a));
            }
            None => {
                index.insert(key, rows.len());
                rows.push(DetectionRow {
                    message: a.message.clone(),
                    sid: a.sid,
                    class: a.class.clone(),
                    severity: Sev(a.severity),
                    count: 1,
                    packets: vec![PacketRef::of(a)],
                });
            }
        }
    }
    rows
}

fn recommendations(alerts: &[AlertRecord], risks: &[Risk]) -> Vec<Recommendations> {
    risks
        .iter()
        .map(|r| {
            let mut items: Vec<Recommendation> = Vec::new();
            // Per item: its key, and the packets already listed (maps keep this linear).
            let mut index: HashMap<(String, Vec<IpAddr>), usize> = HashMap::new();
            let mut listed: Vec<HashSet<PacketRef>> = Vec::new();
            for a in alerts.iter().filter(|a| a.class == r.class) {
                for text in &a.recommendations {
                    let i = *index.entry(same_text_key(text)).or_insert_with(|| {
                        items.push(Recommendation {
                            text: text.clone(),
                            detections: 0,
                            sids: Vec::new(),
                            packets: Vec::new(),
                        });
                        listed.push(HashSet::new());
                        items.len() - 1
                    });
                    let (Some(item), Some(seen)) = (items.get_mut(i), listed.get_mut(i)) else { continue };
                    item.detections += 1;
                    if !item.sids.contains(&a.sid) {
                        item.sids.push(a.sid);
                    }
                    if seen.insert(PacketRef::of(a)) {
                        item.packets.push(PacketRef::of(a));
                    }
                }
            }
            Recommendations { class: r.class.clone(), severity: r.severity, detections: r.detections, items }
        })
        .collect()
}

/// Recommendations that differ only in the order of the same addresses
/// ("Isolate A and B", "Isolate B and A") are one: the text with addresses
/// blanked, and the addresses sorted.
fn same_text_key(text: &str) -> (String, Vec<IpAddr>) {
    let mut shape = String::with_capacity(text.len());
    let mut ips = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            shape.push(' ');
        }
        let core = word
            .trim_matches(|c: char| matches!(c, ',' | ';' | ')' | '(' | '"' | '\'') || c == '.' && word.ends_with('.'));
        match core.parse::<IpAddr>() {
            Ok(ip) => {
                ips.push(ip);
                shape.push_str(&word.replace(core, "\u{0}"));
            }
            Err(_) => shape.push_str(word),
        }
    }
    ips.sort();
    (shape, ips)
}

/// Bin widths the timeline may use, in ns: round numbers people read easily.
const BIN_WIDTHS: [i64; 17] = [
    1_000_000,
    10_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
    300_000_000_000,
    600_000_000_000,
    1_800_000_000_000,
    3_600_000_000_000,
    21_600_000_000_000,
    86_400_000_000_000,
];
/// At most this many timeline bins (more only for captures longer than 60 days).
const MAX_BINS: i64 = 60;

fn timeline(alerts: &[AlertRecord], classes: &[String], capture: Option<(Time, Time)>) -> Option<Timeline> {
    let first = alerts.iter().map(|a| a.ts_nanos).min()?;
    let last = alerts.iter().map(|a| a.ts_nanos).max()?;
    let (start, end) = match capture {
        Some((s, e)) => (s.0.min(first), e.0.max(last)),
        None => (first, last),
    };
    let span = end.saturating_sub(start).max(1);
    let width = BIN_WIDTHS.iter().copied().find(|w| span / w < MAX_BINS).unwrap_or_else(|| span / MAX_BINS + 1);
    let origin = start.div_euclid(width).saturating_mul(width);
    let n = usize::try_from(end.saturating_sub(origin) / width + 1).unwrap_or(1).clamp(1, 2 * MAX_BINS as usize + 2);
    let mut bins: Vec<Bin> = (0..n)
        .map(|i| Bin {
            start: Time(origin.saturating_add(width.saturating_mul(i as i64))),
            counts: vec![0; classes.len()],
        })
        .collect();
    for a in alerts {
        let i = usize::try_from(a.ts_nanos.saturating_sub(origin) / width).unwrap_or(0);
        let c = classes.iter().position(|c| *c == a.class).unwrap_or(0);
        if let Some(slot) = bins.get_mut(i).and_then(|b| b.counts.get_mut(c)) {
            *slot += 1;
        }
    }
    Some(Timeline { classes: classes.to_vec(), bin_seconds: secs(width), bins })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(packet: u64, secs: i64, src: &str, dst: &str, class: &str, len: f64) -> AlertRecord {
        AlertRecord {
            ts_nanos: secs * 1_000_000_000,
            sensor: None,
            file: None,
            packet,
            src: src.parse().ok(),
            src_port: None,
            dst: dst.parse().ok(),
            dst_port: None,
            proto: "ICMP".into(),
            sid: 1,
            message: format!("m{len}"),
            class: class.into(),
            severity: Severity::High,
            measured: [("payload.len".to_string(), serde_json::json!(len))].into_iter().collect(),
            state: None,
            recommendations: vec!["Isolate".into()],
            origin: Default::default(),
        }
    }

    #[test]
    fn pairs_know_their_direction() {
        let alerts = [
            alert(1, 0, "10.0.0.1", "10.0.0.2", "t", 70.0),
            alert(2, 1, "10.0.0.2", "10.0.0.1", "t", 80.0),
            alert(3, 2, "10.0.0.3", "10.0.0.1", "t", 90.0),
        ];
        let p = pairs(&alerts);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].a_to_b, p[0].b_to_a, p[0].direction), (1, 1, "bidirectional"));
        assert_eq!((p[1].a_to_b, p[1].b_to_a, p[1].direction), (1, 0, "unidirectional"));
    }

    #[test]
    fn clusters_split_on_gaps_and_bursts_count_within_a_second() {
        let alerts = [
            alert(1, 0, "10.0.0.1", "10.0.0.2", "t", 70.0),
            alert(2, 0, "10.0.0.1", "10.0.0.2", "t", 70.0),
            alert(3, 5, "10.0.0.1", "10.0.0.2", "t", 70.0),
            alert(4, 100, "10.0.0.1", "10.0.0.2", "t", 70.0),
        ];
        let t = timing(&alerts).unwrap();
        let sizes: Vec<u64> = t.clusters.iter().map(|c| c.detections).collect();
        assert_eq!(sizes, vec![3, 1]);
        assert_eq!((t.busiest.detections, t.busiest.start), (2, Time(0)));
    }

    #[test]
    fn sizes_pick_extremes_once_per_packet() {
        let mut twice = alert(2, 1, "10.0.0.1", "10.0.0.2", "t", 496.0);
        twice.sid = 2;
        let alerts = [alert(1, 0, "a", "b", "t", 70.0), alert(2, 1, "a", "b", "t", 496.0), twice];
        let s = sizes(&alerts);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].packets, s[0].largest.packet.packet, s[0].smallest.packet.packet), (2, 2, 1));
        assert_eq!(s[0].length_range, (70.0, 496.0));
    }

    #[test]
    fn empty_input_gives_an_empty_report() {
        let r = build(Sources::default());
        assert_eq!(r.summary.detections, 0);
        assert!(r.summary.worst.is_none() && r.observations.timing.is_none() && r.charts.timeline.is_none());
        assert_eq!(r.detections_by_protocol.len(), PROTOCOLS.len());
    }

    #[test]
    fn recommendations_differing_in_address_order_are_one() {
        assert_eq!(same_text_key("Isolate 10.0.0.1 and 10.0.0.2."), same_text_key("Isolate 10.0.0.2 and 10.0.0.1."));
        assert_ne!(same_text_key("Isolate 10.0.0.1 and 10.0.0.2"), same_text_key("Isolate 10.0.0.1 and 10.0.0.3"));
        assert_ne!(same_text_key("Block 10.0.0.1"), same_text_key("Allow 10.0.0.1"));
        let (shape, ips) = same_text_key("Rate-limit ICMP from fe80::1, (for example 3 packets per second)");
        assert_eq!(shape, "Rate-limit ICMP from \u{0}, (for example 3 packets per second)");
        assert_eq!(ips.len(), 1);
    }

    #[test]
    fn extreme_timestamps_do_not_panic() {
        let mut a = alert(1, 0, "a", "b", "t", 1.0);
        a.ts_nanos = i64::MIN + 5;
        let mut b = alert(2, 0, "a", "b", "t", 1.0);
        b.ts_nanos = i64::MAX - 5;
        let alerts = [a, b];
        let r = build(Sources { alerts: &alerts, ..Sources::default() });
        assert!(r.charts.timeline.as_ref().is_some_and(|t| t.bins.len() <= 2 * MAX_BINS as usize + 2));
        for format in [crate::report::Format::Markdown, crate::report::Format::Html, crate::report::Format::Json] {
            assert!(!crate::report::render(&r, format).is_empty());
        }
    }

    #[test]
    fn timeline_bins_are_round() {
        let alerts = [alert(1, 0, "a", "b", "t", 1.0), alert(2, 8, "a", "b", "t", 1.0)];
        let t = timeline(&alerts, &["t".to_string()], None).unwrap();
        assert_eq!(t.bin_seconds, 0.25);
        assert_eq!(t.bins.iter().map(|b| b.counts[0]).sum::<u64>(), 2);
    }
}
