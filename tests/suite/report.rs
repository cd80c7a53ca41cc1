//! Reports: golden Markdown and JSON of the incident-report scenarios, the
//! scenario's ground truth in the report, `ferret report` from saved EVE and
//! stats giving the same report as `scan --report`, `--extract`, and errors.
//!
//! Golden files live in `tests/golden`; after an intended change, run
//! `FERRET_UPDATE_GOLDEN=1 cargo test --test suite report::` and review the diff.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use ferret::capture::PacketReader;
use ferret_synth::scenario::{report_dns_icmp, report_icmp};
use ferret_synth::Scenario;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ferret scan` from the repository root (so capture names are relative).
fn scan(sample: &str, extra: &[&str]) {
    let mut args = vec!["scan", "-q", "--no-summary"];
    args.extend_from_slice(extra);
    args.push(sample);
    let o = run_ferret(&args, repo(), b"");
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "stderr not empty: {}", String::from_utf8_lossy(&o.stderr));
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Outputs {
    _dir: tempfile::TempDir,
    md: String,
    json: Value,
    eve: PathBuf,
    stats: PathBuf,
}

fn reports_of(sample: &str) -> Outputs {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (md, json, eve, stats) = (p("r.md"), p("r.json"), p("alerts.json"), p("alerts.stats.json"));
    scan(sample, &["--report", path_str(&md), "--eve", path_str(&eve), "--stats", path_str(&stats)]);
    // A second run for the JSON report: one --report per scan.
    scan(sample, &["--report", path_str(&json)]);
    let md = std::fs::read_to_string(&md).unwrap();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    Outputs { _dir: dir, md, json, eve, stats }
}

#[test]
fn golden_markdown_and_json_of_the_icmp_report() {
    let out = reports_of("samples/report-icmp.pcap");
    golden("report-icmp.md", &out.md);
    golden("report-icmp.json", &serde_json::to_string_pretty(&out.json).unwrap());
}

#[test]
fn golden_markdown_and_json_of_the_dns_icmp_report() {
    let out = reports_of("samples/report-dns-icmp.pcapng");
    golden("report-dns-icmp.md", &out.md);
    golden("report-dns-icmp.json", &serde_json::to_string_pretty(&out.json).unwrap());
}

/// The protocol of a scenario packet, from its ground-truth note alone.
fn note_protocol(note: &str) -> &'static str {
    if note.starts_with("arp") {
        "ARP"
    } else if note.starts_with("dns") {
        "DNS"
    } else if note.starts_with("http") || note.starts_with("tcp") {
        "TCP"
    } else if note == "traceroute probe" {
        "UDP"
    } else if note.contains("ping") || note.starts_with("icmp") || note == "traceroute reply" {
        "ICMP"
    } else {
        panic!("unknown note {note:?}")
    }
}

fn check_against_scenario(json: &Value, scenario: &Scenario) {
    // Evidence: exactly the tunnel packets, in order (a row per alert, so a
    // packet two rules flagged has two rows).
    let mut evidence: Vec<u64> =
        json["evidence"].as_array().unwrap().iter().map(|e| e["packet"]["packet"].as_u64().unwrap()).collect();
    evidence.dedup();
    assert_eq!(evidence, flagged_tunnel_packets(scenario));
    // Protocol distribution: the scenario's packets by their notes.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for p in &scenario.packets {
        *expected.entry(note_protocol(p.note).to_string()).or_default() += 1;
    }
    let rows: BTreeMap<String, u64> = json["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["protocol"].as_str().unwrap().to_string(), r["packets"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(json["scope"]["packets"].as_u64(), Some(scenario.packets.len() as u64));
    // Detection table: counts add up to the evidence, packets match it.
    let mut from_rows: Vec<u64> = Vec::new();
    for row in json["detections"].as_array().unwrap() {
        let packets: Vec<u64> =
            row["packets"].as_array().unwrap().iter().map(|p| p["packet"].as_u64().unwrap()).collect();
        assert_eq!(row["count"].as_u64(), Some(packets.len() as u64));
        from_rows.extend(packets);
    }
    from_rows.sort_unstable();
    assert_eq!(from_rows, flagged_tunnel_packets(scenario));
}

#[test]
fn icmp_report_matches_the_scenario_exactly() {
    let out = reports_of("samples/report-icmp.pcap");
    let json = &out.json;
    check_against_scenario(json, &report_icmp());
    let table: Vec<(String, u64)> = json["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["message"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect();
    let expected: Vec<(String, u64)> = [
        "Potential ICMP tunneling detected (byte length=159, entropy=6.78)",
        "Potential ICMP tunneling detected (byte length=70, entropy=5.85)",
        "Potential ICMP tunneling detected (byte length=233, entropy=7.13)",
        "Potential ICMP tunneling detected (byte length=496, entropy=7.65)",
        "Potential ICMP tunneling detected (byte length=528, entropy=7.58)",
    ]
    .iter()
    .map(|m| (m.to_string(), 1))
    .collect();
    assert_eq!(table, expected);
    // The observations the hand-written report got wrong: 528 bytes is the largest.
    let sizes = &json["observations"]["sizes"][0];
    assert_eq!(sizes["largest"]["packet"]["packet"], 130);
    assert_eq!(sizes["largest"]["length"], 528.0);
    assert_eq!(sizes["smallest"]["packet"]["packet"], 57);
    assert_eq!(sizes["smallest"]["entropy"], 5.8506);
    let pair = &json["observations"]["pairs"][0];
    assert_eq!((pair["a"].as_str(), pair["b"].as_str()), (Some("192.168.1.4"), Some("192.168.1.6")));
    assert_eq!(pair["direction"], "unidirectional");
    assert_eq!(json["summary"]["worst"]["severity"], "critical");
    let by_proto: BTreeMap<&str, (u64, f64)> = json["detections_by_protocol"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["protocol"].as_str().unwrap(), (r["detections"].as_u64().unwrap(), r["share"].as_f64().unwrap())))
        .collect();
    assert_eq!(by_proto["ICMP"], (5, 100.0));
    for p in ["TCP", "UDP", "ARP", "DNS"] {
        assert_eq!(by_proto[p], (0, 0.0), "{p}");
    }
    assert!(out.md.contains(
        "| Potential ICMP tunneling detected (byte length=159, entropy=6.78) | 1 | 7100001 | critical | 18 |"
    ));
}

#[test]
fn dns_icmp_report_matches_the_scenario_exactly() {
    let out = reports_of("samples/report-dns-icmp.pcapng");
    let json = &out.json;
    check_against_scenario(json, &report_dns_icmp());
    let table: BTreeMap<String, u64> = json["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["message"].as_str().unwrap().to_string(), r["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(table["Potential ICMP tunneling detected (byte length=128, entropy=6.48)"], 4);
    assert_eq!(
        table["Potential DNS tunneling detected (length=25, entropy=4.00)"], 1,
        "the query; responses are not judged"
    );
    assert_eq!(table.len(), 10);
    let pairs = json["observations"]["pairs"].as_array().unwrap();
    let directions: Vec<(&str, &str)> =
        pairs.iter().map(|p| (p["classes"][0].as_str().unwrap(), p["direction"].as_str().unwrap())).collect();
    // Tunnel pings flow both ways; of the DNS tunnel only the queries are judged.
    assert_eq!(directions, vec![("icmp-tunnel", "bidirectional"), ("dns-tunnel", "unidirectional")], "{pairs:?}");
    let classes: Vec<&str> = json["risks"].as_array().unwrap().iter().map(|r| r["class"].as_str().unwrap()).collect();
    assert_eq!(classes, vec!["icmp-tunnel", "dns-tunnel"]);
    let recs: Vec<&str> =
        json["recommendations"][1]["items"].as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
    assert_eq!(
        recs,
        vec![
            "Isolate 172.20.10.9 and 172.20.10.1 for forensic analysis",
            "Restrict DNS to approved resolvers and review queries under t-exfil.net",
        ]
    );
    // The isolation advice is one item, with every flagged query.
    assert_eq!(json["recommendations"][1]["items"][0]["detections"], 4);
}

/// The Markdown after the intro (which names the EVE files when read back).
fn body(md: &str) -> &str {
    &md[md.find("## 1.").unwrap()..]
}

#[test]
fn report_from_saved_eve_and_stats_is_the_scan_report() {
    for sample in ["samples/report-icmp.pcap", "samples/report-dns-icmp.pcapng"] {
        let out = reports_of(sample);
        let dir = out.eve.parent().unwrap();
        // Stats found beside the EVE file (alerts.stats.json).
        let o = run_ferret(&["report", path_str(&out.eve), "-o", "again.md"], dir, b"");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let again = std::fs::read_to_string(dir.join("again.md")).unwrap();
        assert_eq!(body(&again), body(&out.md), "{sample}");
        assert!(again.contains("(alerts read from `"));
        // Explicit --stats, JSON: equal but for the EVE file list.
        let o =
            run_ferret(&["report", path_str(&out.eve), "--stats", path_str(&out.stats), "-o", "again.json"], dir, b"");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut again: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("again.json")).unwrap()).unwrap();
        again["scope"]["eve_files"] = Value::Array(vec![]);
        assert_eq!(again, out.json, "{sample}");
    }
}

#[test]
fn report_without_stats_says_what_is_missing() {
    let out = reports_of("samples/report-icmp.pcap");
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("only.json");
    std::fs::copy(&out.eve, &eve).unwrap();
    let o = run_ferret(&["report", "only.json"], dir.path(), b"");
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("only.json: no run statistics found"), "{stderr}");
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.contains("## 4. Protocol distribution\n\nNot available"), "{md}");
    assert!(md.contains("## Notes on the inputs"));
    assert!(md.contains("| Potential ICMP tunneling detected (byte length=528, entropy=7.58) | 1 |"));
}

#[test]
fn report_errors_are_usage_or_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o =
        run_ferret(&["scan", "--report", "r.pdf", path_str(&repo().join("samples/report-icmp.pcap"))], dir.path(), b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("use .md, .html or .json"));
    assert!(!dir.path().join("r.pdf").exists());
    let o = run_ferret(&["report", "missing.json"], dir.path(), b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("ferret: missing.json: "));
    std::fs::write(dir.path().join("bad.json"), "{not json\n").unwrap();
    let o = run_ferret(&["report", "bad.json", "--format", "json"], dir.path(), b"");
    assert_eq!(o.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["summary"]["detections"], 0);
    assert_eq!(json["notes"][0], "bad.json: 1 unreadable line skipped (bad.json:1:2: key must be a string)");
}

#[test]
fn extract_writes_exactly_the_flagged_packets() {
    let scenario = report_dns_icmp();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("s.pcapng");
    std::fs::write(&capture, capture_bytes(&scenario, Format::Pcapng)).unwrap();
    let o = run_ferret(&["scan", "-q", "--no-summary", "--extract", "flagged.pcap", "s.pcapng"], dir.path(), b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(dir.path().join("flagged.pcap")).unwrap();
    let frames: Vec<(i64, Vec<u8>)> =
        PacketReader::new(&bytes).unwrap().map(|p| p.unwrap()).map(|p| (p.ts_nanos, p.data.to_vec())).collect();
    let expected: Vec<(i64, Vec<u8>)> = scenario
        .packets
        .iter()
        .filter(|p| p.tunnel && p.note != "dns tunnel response")
        .map(|p| (p.ts_nanos, p.frame.clone()))
        .collect();
    assert_eq!(frames.len(), 18, "22 tunnel packets, less the 4 DNS responses");
    assert_eq!(frames, expected);
}

#[test]
fn stats_file_keeps_the_summary_and_adds_the_report_numbers() {
    let out = reports_of("samples/report-icmp.pcap");
    let stats: Value = serde_json::from_str(&std::fs::read_to_string(&out.stats).unwrap()).unwrap();
    assert_eq!(stats["packets"], 150);
    assert_eq!(stats["alerts_by_sid"]["7100001"], 5);
    assert_eq!(stats["captures"], serde_json::json!(["samples/report-icmp.pcap"]));
    assert_eq!(stats["packets_by_protocol"]["icmp"], 87);
    let icmp = &stats["inspected"]["icmp"];
    assert_eq!(icmp["seen"], 87);
    assert_eq!(icmp["flagged"], 5);
    let flagged: Vec<u64> =
        icmp["points"].as_array().unwrap().iter().filter(|p| p[4] == true).map(|p| p[1].as_u64().unwrap()).collect();
    assert_eq!(flagged, report_icmp().tunnel_packet_numbers());
    let limits: Vec<(u64, &str, f64)> = stats["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["sid"].as_u64().unwrap(), t["field"].as_str().unwrap(), t["value"].as_f64().unwrap()))
        .collect();
    assert!(limits.contains(&(7100001, "payload.entropy", 5.8)), "{limits:?}");
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let o = run_ferret(&["scan", "-q", "--no-summary", "samples/report-icmp.pcap"], repo(), b"");
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn progress_bar_on_a_terminal_shows_packets_bytes_and_rate() {
    // `script` gives ferret a pseudo-terminal; skip where it is missing.
    if std::process::Command::new("script").arg("--version").output().is_err() {
        common::skip("FERRET_REQUIRE_SCRIPT", "no `script` command to run ferret on a pseudo-terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = ferret_synth::scenario::office(40_000, 3);
    std::fs::write(dir.path().join("big.pcap"), capture_bytes(&scenario, Format::PcapMicros)).unwrap();
    let cmd = format!("{} scan -q --no-summary big.pcap 2>err.txt", ferret_bin().display());
    let o = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // stderr went to a file there, not a terminal: nothing.
    assert_eq!(std::fs::read_to_string(dir.path().join("err.txt")).unwrap(), "");
    let cmd = format!("{} scan -q --no-summary big.pcap", ferret_bin().display());
    let o = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&o.stdout);
    assert!(screen.contains(" packets, ") && screen.contains(" packets/s, "), "{screen:?}");
    assert!(screen.contains("B/s)"), "{screen:?}");
}

#[test]
fn report_shows_what_stateful_rules_saw() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pairs.rules"),
        "alert icmp any any -> any any {\n  id 9\n  msg \"Echo requests between {src} and {dst}\"\n  class icmp-sweep\n  \
         when icmp.type == echo-request\n  threshold 3 within 60s by pair\n  limit 1 per 10m by pair\n}\n",
    )
    .unwrap();
    let sample = repo().join("samples/report-icmp.pcap");
    let o = run_ferret(
        &["scan", "-q", "--no-summary", "-r", "pairs.rules", "--report", "r.json", sample.to_str().unwrap()],
        dir.path(),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let stateful = json["observations"]["stateful"].as_array().unwrap();
    assert!(!stateful.is_empty());
    let tunnel = stateful.iter().find(|s| s["key"] == "192.168.1.4 <-> 192.168.1.6").expect("the tunnel pair");
    assert_eq!((tunnel["clause"].as_str(), tunnel["count"].as_u64()), (Some("threshold"), Some(3)));
    assert_eq!((tunnel["first_packet"].as_u64(), tunnel["last_packet"].as_u64()), (Some(18), Some(100)));
    assert_eq!(tunnel["packet"]["packet"], 100);
    assert_eq!(tunnel["window_seconds"], 60.0);
    // One alert per pair, each with its own row.
    assert_eq!(stateful.len() as u64, json["summary"]["detections"].as_u64().unwrap());
}
