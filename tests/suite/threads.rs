//! `--threads N` gives exactly the alerts of one thread.
//!
//! Each test scans the same inputs with `--threads 1` and with more threads
//! (more than this machine's cores, so the batches interleave differently
//! from run to run) and compares the EVE events (every field but `flow_id`,
//! a hash seeded per process) and the whole `--stats` file; then scans again
//! with neither (no flow table, no packet observer, so workers count the
//! packets no rule can match themselves) and compares the text alerts and
//! the summary: packets, time span, protocols, errors, alerts, state tables.
//! The inputs: every synthetic scenario (tunnels and benign traffic, state
//! and echo rules at work), the bench mix, the shared real captures, rules
//! that read a packet's place in its flow and pass rules that silence flows,
//! and a capture read as a stream on stdin.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use ferret::capture::writer::{PcapOptions, PcapWriter};
use ferret_synth::scenario;

/// EVE events without `flow_id` (seeded per process) and `timestamp` of
/// non-packet events; stats events are left out (their counters are compared apart).
fn events(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("EVE lines are JSON"))
        .filter(|e| e["event_type"] != "stats")
        .map(|mut e| {
            if let Some(o) = e.as_object_mut() {
                o.remove("flow_id");
            }
            e
        })
        .collect()
}

/// A `--stats` file: packets, time span, protocols, errors, per-rule alert
/// and limit counts, state tables, what the report collected.
fn counters(path: &Path) -> serde_json::Value {
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for key in ["packets", "protocols", "alerts_by_sid", "state", "first_timestamp"] {
        assert!(stats.get(key).is_some(), "the stats have {key}: {stats}");
    }
    stats
}

/// Scans `inputs` with 1 and with `n` threads; returns the alert count after
/// checking both runs agree.
fn same_with_threads(dir: &Path, rules: &[&str], inputs: &[PathBuf], stdin: &[u8], n: usize) -> usize {
    let mut runs = Vec::new();
    for threads in [1, n] {
        let eve = dir.join(format!("eve-{threads}.json"));
        let stats = dir.join(format!("stats-{threads}.json"));
        let threads_arg = threads.to_string();
        let mut args = vec!["scan", "-q", "--no-summary", "--eve-truncate", "--threads", &threads_arg];
        let (eve_s, stats_s) = (eve.display().to_string(), stats.display().to_string());
        args.extend(["--eve", &eve_s, "--stats", &stats_s]);
        for r in rules {
            args.extend(["-r", r]);
        }
        let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        args.extend(names.iter().map(String::as_str));
        let out = run_ferret(&args, dir, stdin);
        assert!(
            out.status.code().is_some_and(|c| c == 0 || c == 1),
            "ferret --threads {threads} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        runs.push((events(&eve), counters(&stats)));
    }
    let (one, many) = (&runs[0], &runs[1]);
    assert_eq!(one.1, many.1, "the counters of 1 and {n} threads differ");
    assert_eq!(one.0.len(), many.0.len(), "1 thread wrote {} events, {n} wrote {}", one.0.len(), many.0.len());
    for (a, b) in one.0.iter().zip(&many.0) {
        assert_eq!(a, b, "the events of 1 and {n} threads differ");
    }
    // Text alerts and the summary, with no EVE (no flow table) and no stats.
    let mut plain = Vec::new();
    for threads in [1, n] {
        let threads_arg = threads.to_string();
        let mut args = vec!["scan", "--threads", &threads_arg];
        for r in rules {
            args.extend(["-r", r]);
        }
        let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        args.extend(names.iter().map(String::as_str));
        let out = run_ferret(&args, dir, stdin);
        assert!(out.status.code().is_some_and(|c| c == 0 || c == 1), "ferret --threads {threads} failed");
        // The summary, without log lines (a stream is read as a sensor, whose log lines carry the time).
        let summary: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("ferret: "))
            .map(|l| format!("{l}\n"))
            .collect();
        plain.push((String::from_utf8_lossy(&out.stdout).into_owned(), summary));
    }
    assert!(plain[0].1.contains("protocols:"), "the summary is printed: {}", plain[0].1);
    assert_eq!(plain[0].1, plain[1].1, "the summaries of 1 and {n} threads differ");
    assert_eq!(plain[0].0, plain[1].0, "the text alerts of 1 and {n} threads differ");
    one.0.iter().filter(|e| e["event_type"] == "alert").count()
}

fn write(dir: &Path, name: &str, s: &ferret_synth::Scenario) -> PathBuf {
    let path = dir.join(name);
    s.write_pcap(std::fs::File::create(&path).unwrap(), false).unwrap();
    path
}

/// Rules that read a packet's place in its flow (left to the ordered step)
/// next to ones that need no state, and a pass rule that silences whole
/// flows; each fires hundreds of times on the office scenario and the real
/// benign captures.
const FLOW_RULES: &str = "
pass tcp any any -> any 22 { id 9001 applies flow when flow.first }
alert tcp any any -> any any { id 9002 when flow.established and payload.len > 0  limit 5 per 60s by pair }
alert udp any any -> any any { id 9003 when not flow.to_server  limit 5 per 60s by pair }
alert udp any any -> any any { id 9004 when flow.first  limit 5 per 60s by pair }
alert tcp any any -> any any { id 9005 when flow.to_server and payload.len > 0  threshold 5 within 10s by src }
alert icmp any any -> any any { id 9006 when flow.first and payload.len > 8 }
";

fn flow_rules(dir: &Path) -> String {
    let path = dir.join("flow.rules");
    std::fs::write(&path, FLOW_RULES).unwrap();
    path.display().to_string()
}

#[test]
fn scenarios_raise_the_same_alerts_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let all = scenario::evasions()
        .into_iter()
        .chain(scenario::icmp_evasions())
        .chain(scenario::dns_evasions())
        .chain(scenario::frag_evasions())
        .chain(scenario::dns_tcp_evasions());
    for (i, s) in all.enumerate() {
        inputs.push(write(dir.path(), &format!("s{i}.pcap"), &s));
    }
    inputs.push(write(dir.path(), "office.pcap", &scenario::office(20_000, 6)));
    let alerts = same_with_threads(dir.path(), &[], &inputs, b"", 3);
    assert!(alerts > 100, "the scenarios raise alerts ({alerts})");
    let flows = flow_rules(dir.path());
    let alerts = same_with_threads(dir.path(), &[&flows], &inputs, b"", 3);
    assert!(alerts > 500, "the flow rules raise alerts ({alerts})");
}

fn bench_capture(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("bench.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), PcapOptions::default()).unwrap();
    for p in scenario::bench_mix(n, 11) {
        w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32).unwrap();
    }
    w.into_inner();
    path
}

#[test]
fn bench_mix_raises_the_same_alerts_on_any_number_of_threads_from_a_file_or_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let capture = bench_capture(dir.path(), 60_000);
    let alerts = same_with_threads(dir.path(), &[], std::slice::from_ref(&capture), b"", 4);
    assert!(alerts > 20, "the bench mix raises alerts ({alerts})");
    // The same capture as a stream on stdin (packets copied into batches).
    let bytes = std::fs::read(&capture).unwrap();
    let streamed = same_with_threads(dir.path(), &[], &[PathBuf::from("-")], &bytes, 2);
    assert_eq!(streamed, alerts, "a stream raises what the file raises");
}

#[test]
fn real_captures_raise_the_same_alerts_on_any_number_of_threads() {
    let Some(dir) = shared_pcaps() else {
        skip("FERRET_REQUIRE_PCAPS", "../shared/pcaps is absent");
        return;
    };
    let mut inputs = Vec::new();
    for sub in ["tunnel-dns", "tunnel-icmp", "benign"] {
        inputs.extend(files_in(&dir.join(sub)));
    }
    assert!(!inputs.is_empty(), "real captures found");
    let work = tempfile::tempdir().unwrap();
    let alerts = same_with_threads(work.path(), &[], &inputs, b"", 3);
    assert!(alerts > 0, "the real tunnels raise alerts");
    let flows = flow_rules(work.path());
    let alerts = same_with_threads(work.path(), &["builtin", &flows], &inputs, b"", 3);
    assert!(alerts > 500, "the flow rules raise alerts ({alerts})");
}
