//! `ferret report` over the EVE of several sensors: two synthetic captures
//! that overlap in time, each scanned by a sensor of its own name, merged into
//! one report. Checked against the scenarios' ground truth: per-sensor counts,
//! time order across the files, the sensor of every detection, copies of an
//! alert counted once, standard input, the file name standing in for a missing
//! sensor name, and broken lines named `file:line:col`. The merged Markdown is
//! a golden file (`FERRET_UPDATE_GOLDEN=1 cargo test --test suite report_sensors::`
//! rewrites it; review the diff).

use crate::common;

use common::*;
use ferret_synth::scenario::{report_dns_icmp, report_icmp};
use ferret_synth::Scenario;
use serde_json::Value;

/// The second scenario moved in time to start 100 ms after the first, so the
/// two sensors' alerts interleave.
fn overlapping_second() -> Scenario {
    let mut b = report_dns_icmp();
    let shift = report_icmp().packets[0].ts_nanos + 100_000_000 - b.packets[0].ts_nanos;
    for p in &mut b.packets {
        p.ts_nanos += shift;
    }
    b
}

/// Two sensors' EVE and stats in a temporary folder: `a.json` (sensor
/// edge-a, capture a.pcap) and `b.json` (edge-b, b.pcapng).
struct Sensors {
    dir: tempfile::TempDir,
}

impl Sensors {
    fn new() -> Sensors {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pcap"), capture_bytes(&report_icmp(), Format::PcapMicros)).unwrap();
        std::fs::write(dir.path().join("b.pcapng"), capture_bytes(&overlapping_second(), Format::Pcapng)).unwrap();
        let s = Sensors { dir };
        for (name, capture) in [("a", "a.pcap"), ("b", "b.pcapng")] {
            let (sensor, eve, stats) = (format!("edge-{name}"), format!("{name}.json"), format!("{name}.stats.json"));
            s.ok(&["scan", "-q", "--no-summary", "--sensor-name", &sensor, "--eve", &eve, "--stats", &stats, capture]);
        }
        s
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> std::process::Output {
        run_ferret(args, self.dir.path(), stdin)
    }

    /// Runs ferret, which must succeed; returns stdout and stderr.
    fn ok(&self, args: &[&str]) -> (String, String) {
        self.ok_with_stdin(args, b"")
    }

    fn ok_with_stdin(&self, args: &[&str], stdin: &[u8]) -> (String, String) {
        let o = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{args:?}: {stderr}");
        (String::from_utf8(o.stdout).unwrap(), stderr)
    }

    /// The JSON report of `eve` (to stdout).
    fn json(&self, eve: &[&str]) -> (Value, String) {
        let mut args = vec!["report", "--format", "json"];
        args.extend_from_slice(eve);
        let (out, err) = self.ok(&args);
        (serde_json::from_str(&out).unwrap(), err)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
}

/// (sensor, packet) of each evidence row, in report order.
fn evidence(json: &Value) -> Vec<(String, u64)> {
    json["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["sensor"].as_str().unwrap_or("-").to_string(), e["packet"]["packet"].as_u64().unwrap()))
        .collect()
}

fn alert_sections(json: &Value) -> Value {
    let mut j = json.clone();
    for key in ["scope", "notes", "protocols", "charts"] {
        j[key] = Value::Null;
    }
    j["detections_by_protocol"].as_array_mut().unwrap().iter_mut().for_each(|r| r["packets"] = Value::Null);
    j
}

#[test]
fn two_sensors_merge_into_one_report_in_time_order() {
    let s = Sensors::new();
    let (a, b) = (report_icmp(), overlapping_second());
    let (json, stderr) = s.json(&["a.json", "b.json"]);
    assert_eq!(stderr, "", "stats found beside both files, no broken line");

    // Per sensor: exactly each scenario's flagged packets.
    let sensors: Vec<(&str, u64, u64)> = json["sensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["sensor"].as_str().unwrap(), r["detections"].as_u64().unwrap(), r["flagged_packets"].as_u64().unwrap())
        })
        .collect();
    let (na, nb) = (flagged_tunnel_packets(&a).len() as u64, flagged_tunnel_packets(&b).len() as u64);
    assert_eq!(sensors, vec![("edge-a", na, na), ("edge-b", nb, nb)]);
    assert_eq!(json["summary"]["detections"].as_u64(), Some(na + nb));
    assert_eq!(json["summary"]["flagged_packets"].as_u64(), Some(na + nb), "packet numbers of two sensors are apart");

    // Evidence: every detection with its sensor, each sensor's in packet order, all in time order.
    let rows = evidence(&json);
    let of = |sensor: &str| rows.iter().filter(|(s, _)| s == sensor).map(|(_, p)| *p).collect::<Vec<_>>();
    assert_eq!(of("edge-a"), flagged_tunnel_packets(&a));
    assert_eq!(of("edge-b"), flagged_tunnel_packets(&b));
    let times: Vec<&str> = json["evidence"].as_array().unwrap().iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let switches = rows.windows(2).filter(|w| w[0].0 != w[1].0).count();
    assert!(switches >= 3, "the two captures overlap in time, so their alerts interleave: {rows:?} {times:?}");
    assert_eq!(rows.first().map(|r| r.0.as_str()), Some("edge-a"));

    // Statistics of both runs add up; pairs and packet references name their sensor.
    assert_eq!(json["scope"]["packets"].as_u64(), Some((a.packets.len() + b.packets.len()) as u64));
    assert_eq!(json["scope"]["captures"], serde_json::json!(["a.pcap", "b.pcapng"]));
    for pair in json["observations"]["pairs"].as_array().unwrap() {
        let want = if pair["a"].as_str().unwrap().starts_with("192.168.") { "edge-a" } else { "edge-b" };
        assert_eq!(pair["sensors"], serde_json::json!([want]), "{pair}");
    }
    let first = &json["detections"][0]["packets"][0];
    assert_eq!((first["sensor"].as_str(), first["packet"].as_u64()), (Some("edge-a"), Some(18)));
}

#[test]
fn merged_report_golden_markdown_and_html_name_the_sensors() {
    let s = Sensors::new();
    s.ok(&["report", "a.json", "b.json", "-o", "merged.md"]);
    let md = s.read("merged.md");
    golden("report-sensors.md", &md);
    assert!(md.contains("| edge-a | 5 | 5 | 7100001 | critical |"), "{md}");
    assert!(md.contains("| # | Time (UTC) | Sensor | Packet |"), "{md}");
    s.ok(&["report", "a.json", "b.json", "-o", "merged.html"]);
    let html = s.read("merged.html");
    assert!(html.contains(r#"<table id="sensors">"#));
    assert!(html.contains("<td>edge-b</td>"));
    assert!(html.contains("<th>Sensors</th>"), "host pairs name their sensors");
}

#[test]
fn copies_of_an_alert_count_once() {
    let s = Sensors::new();
    let (both, _) = s.json(&["a.json", "b.json"]);
    // A copy of a's last two lines and b's first, as a shipper's overlap would hold.
    let (a, b) = (s.read("a.json"), s.read("b.json"));
    let a_lines: Vec<&str> = a.lines().collect();
    let overlap =
        format!("{}\n{}\n{}\n", a_lines[a_lines.len() - 2], a_lines[a_lines.len() - 1], b.lines().next().unwrap());
    s.write("overlap.json", &overlap);
    let (json, stderr) = s.json(&["a.json", "overlap.json", "b.json"]);
    assert!(stderr.contains("ferret: 3 alerts read more than once (same sensor, capture or interface, packet, rule and time) counted once"), "{stderr}");
    assert_eq!(alert_sections(&json), alert_sections(&both));
    // The same file twice: every alert of it is a copy.
    let (json, stderr) = s.json(&["a.json", "a.json", "b.json"]);
    assert!(stderr.contains("ferret: 5 alerts read more than once"), "{stderr}");
    assert_eq!(alert_sections(&json), alert_sections(&both));
}

#[test]
fn standard_input_is_one_of_the_sources() {
    let s = Sensors::new();
    let (both, _) = s.json(&["a.json", "b.json"]);
    let (out, stderr) = s.ok_with_stdin(&["report", "--format", "json", "a.json", "-"], s.read("b.json").as_bytes());
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(alert_sections(&json), alert_sections(&both), "the sensor comes from EVE host, not the source");
    assert_eq!(json["scope"]["eve_files"], serde_json::json!(["a.json", "stdin"]));
    assert!(stderr.contains("ferret: stdin: no run statistics found"), "{stderr}");
    let o = s.run(&["report", "-", "-"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "ferret: standard input (-) can be given only once\n");
}

#[test]
fn the_file_name_stands_in_for_a_missing_sensor_name() {
    let s = Sensors::new();
    let unnamed: String = s
        .read("b.json")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("host");
            format!("{v}\n")
        })
        .collect();
    s.write("unnamed.json", &unnamed);
    let (json, _) = s.json(&["a.json", "unnamed.json", "--stats", "a.stats.json", "--stats", "b.stats.json"]);
    let names: Vec<&str> = json["sensors"].as_array().unwrap().iter().map(|r| r["sensor"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["edge-a", "unnamed.json"]);
    let rows = evidence(&json);
    assert_eq!(
        rows.iter().filter(|(s, _)| s == "unnamed.json").count(),
        flagged_tunnel_packets(&report_dns_icmp()).len()
    );
    // One file, no sensor name: no sensor at all (the report `scan --report` writes).
    let (json, _) = s.json(&["unnamed.json"]);
    assert!(json.get("sensors").is_none() && json["evidence"][0].get("sensor").is_none(), "{}", json["sensors"]);
}

#[test]
fn broken_lines_are_named_by_file_line_and_column_and_skipped() {
    let s = Sensors::new();
    let mut lines: Vec<Vec<u8>> = s.read("b.json").lines().map(|l| l.as_bytes().to_vec()).collect();
    lines.insert(2, b"{\"timestamp\": oops}".to_vec());
    lines.insert(5, b"\xff\xfe not text".to_vec());
    lines.insert(7, br#"{"event_type":"alert","timestamp":"2025-04-05T20:55:01.000000+0000"}"#.to_vec());
    let mut bytes = lines.join(&b'\n');
    bytes.push(b'\n');
    std::fs::write(s.path("broken.json"), bytes).unwrap();
    let (json, stderr) = s.json(&["a.json", "broken.json", "--stats", "a.stats.json", "--stats", "b.stats.json"]);
    assert_eq!(
        stderr,
        "ferret: broken.json: 3 unreadable lines skipped (broken.json:3:15: expected value; \
         broken.json:6:1: not UTF-8; broken.json:8: alert: missing field `alert`)\n"
    );
    // The broken lines were extra: the alerts are those of the intact file.
    let (both, _) = s.json(&["a.json", "b.json"]);
    assert_eq!(alert_sections(&json), alert_sections(&both));
    assert_eq!(json["notes"][0].as_str(), stderr.strip_prefix("ferret: ").map(str::trim_end));
}

#[test]
fn scan_report_names_its_sensor_as_ferret_report_does() {
    let s = Sensors::new();
    s.ok(&["scan", "-q", "--no-summary", "--sensor-name", "edge-a", "--report", "scan.json", "a.pcap"]);
    let scan: Value = serde_json::from_str(&s.read("scan.json")).unwrap();
    let (mut again, _) = s.json(&["a.json"]);
    again["scope"]["eve_files"] = serde_json::json!([]);
    assert_eq!(again, scan);
    assert_eq!(scan["sensors"][0]["sensor"], "edge-a");
    assert_eq!(scan["evidence"][0]["sensor"], "edge-a");
}
