//! Every EVE event ferret writes validates against Suricata 8's own EVE schema
//! (`../shared/suricata-eve/schema.json`, read in place, never copied), and
//! ferret's alerts have the shape Suricata gives the same packets
//! (`../shared/suricata-verify/` cases whose checks name alert fields).
//!
//! Scanned: the samples in `samples/` (in one run, so `pcap_cnt` counts across
//! files), the synthetic scenarios, the labelled real captures, a `stats` and an
//! `engine` event. Run with `--nocapture` to see the count of events validated.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;
use ferret::output::eve::{self, EngineEvent, EveContext, StatsEvent};
use ferret::output::sink::EveSink;
use ferret::scan::{self, AlertSink, Input};
use serde_json::Value;

fn shared(dir: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(dir);
    if p.is_dir() {
        return Some(p);
    }
    assert!(std::env::var_os("CI").is_none(), "../shared/{dir} is missing in CI");
    eprintln!("skipping: ../shared/{dir} is absent");
    None
}

fn validator() -> Option<jsonschema::Validator> {
    let dir = shared("suricata-eve")?;
    let text = std::fs::read_to_string(dir.join("schema.json")).expect("schema readable");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    Some(jsonschema::validator_for(&schema).expect("schema compiles"))
}

/// Scans `inputs` in one run with EVE output (flows tracked, a sensor name) and returns the EVE lines.
fn eve_of(rules: Arc<RuleSet>, inputs: Vec<Input>) -> Vec<Value> {
    let mut engine = Engine::new(rules);
    engine.track_flows();
    let mut sink = EveSink::new(Vec::new()).with_host(Some("sensor-1".into()));
    {
        let mut sinks: Vec<&mut dyn AlertSink> = vec![&mut sink];
        scan::scan(&mut engine, inputs, &mut sinks, |_, _| {}).expect("scan runs");
    }
    lines(&sink.into_inner())
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("EVE is UTF-8");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn check_all(v: &jsonschema::Validator, events: &[Value], what: &str) -> usize {
    for e in events {
        let errors: Vec<String> = v.iter_errors(e).map(|err| format!("{} at {}", err, err.instance_path())).collect();
        assert!(errors.is_empty(), "{what}: event fails the schema:\n{}\n{e}", errors.join("\n"));
    }
    events.len()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    common::files_in(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap"))
        .collect()
}

#[test]
fn every_event_ferret_writes_validates_against_suricatas_eve_schema() {
    let Some(v) = validator() else { return };
    let mut validated = 0;
    let mut alerts = 0;
    let mut count = |events: &[Value], what: &str| {
        alerts += events.iter().filter(|e| e["event_type"] == "alert").count();
        validated += check_all(&v, events, what);
    };

    // The samples, in one run: pcap_cnt counts across the files.
    let samples = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"));
    let events = eve_of(common::default_rules(), samples.iter().map(|p| Input::File(p.clone())).collect());
    let cnts: Vec<u64> = events.iter().filter_map(|e| e["pcap_cnt"].as_u64()).collect();
    assert!(cnts.windows(2).all(|w| w[0] <= w[1]), "pcap_cnt never goes back across files: {cnts:?}");
    let offset = |e: &&Value| e["pcap_cnt"].as_u64() != e["alert"]["metadata"]["ferret"]["packet"].as_u64();
    assert!(events.iter().any(|e| offset(&e)), "later files' pcap_cnt counts the earlier files' packets");
    count(&events, "samples");

    // The synthetic scenarios.
    let mut scenarios = vec![
        ferret_synth::scenario::report_icmp(),
        ferret_synth::scenario::report_dns_icmp(),
        ferret_synth::scenario::tuning::two_networks(),
        ferret_synth::scenario::office(3_000, 6),
    ];
    scenarios.extend(ferret_synth::scenario::evasions());
    for s in &scenarios {
        let bytes = common::capture_bytes(s, common::Format::Pcapng);
        let source = ferret::capture::Source::from_bytes(s.name, bytes);
        count(&eve_of(common::default_rules(), vec![Input::opened(source)]), s.name);
    }

    // The labelled real captures.
    if let Some(pcaps) = shared("pcaps") {
        for dir in ["tunnel-dns", "tunnel-icmp", "benign"] {
            for p in files(&pcaps.join(dir)) {
                count(&eve_of(common::default_rules(), vec![Input::File(p.clone())]), &p.display().to_string());
            }
        }
    }

    // A stats and an engine event, as a running sensor writes them.
    let bytes = common::capture_bytes(&ferret_synth::scenario::report_icmp(), common::Format::PcapMicros);
    let (_, engine) = common::scan_bytes(common::default_rules(), &bytes);
    let ctx = EveContext { host: Some("sensor-1".into()), ..EveContext::default() };
    let mut out = Vec::new();
    let stats = StatsEvent {
        now_nanos: 1_764_000_000_000_000_000,
        uptime_secs: 60,
        stats: engine.stats(),
        alerts: 5,
        capture: Some(ferret::capture::source::CaptureCounters { received: 10, dropped: 1, if_dropped: 0 }),
        rules_loaded: 17,
        rules_failed: 1,
        last_reload_nanos: 1_764_000_000_000_000_000,
    };
    eve::write_stats(&stats, &ctx, &mut out).expect("stats written");
    let event = EngineEvent {
        now_nanos: 1_764_000_000_000_000_000,
        level: "Notice",
        module: "rule-reload",
        message: "rules reloaded",
    };
    eve::write_engine(&event, &ctx, &mut out).expect("engine event written");
    count(&lines(&out), "stats and engine events");

    // The check has teeth: what ferret wrote before (a top-level `ferret`, `+00:00`) fails it.
    let old: Value = serde_json::from_str(
        r#"{"timestamp":"2025-04-05T20:55:00.611316+00:00","event_type":"alert","ferret":{"severity":"critical"}}"#,
    )
    .expect("JSON");
    assert_eq!(v.iter_errors(&old).count(), 2, "the old layout fails on both counts");
    assert!(alerts > 100, "the scans raised alerts to check ({alerts})");
    println!("EVE schema: {validated} events validated ({alerts} alerts)");
}

/// The `match:` blocks of a suricata-verify test.yaml that look at alerts: (count, [(path, value)]).
fn alert_checks(yaml: &str) -> Vec<(usize, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<(String, String)>)> = None;
    let mut in_match = false;
    let mut match_indent = 0;
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("- filter:") || trimmed.starts_with("- stats:") {
            out.extend(current.take());
            current = trimmed.starts_with("- filter:").then(|| (0, Vec::new()));
            in_match = false;
        } else if let Some(n) = trimmed.strip_prefix("count:") {
            if let Some(c) = current.as_mut() {
                c.0 = n.trim().parse().unwrap_or(0);
            }
        } else if trimmed == "match:" {
            in_match = true;
            match_indent = indent;
        } else if in_match && indent > match_indent && !trimmed.starts_with('#') {
            if let (Some(c), Some((k, val))) = (current.as_mut(), trimmed.split_once(':')) {
                c.1.push((k.trim().to_string(), val.trim().trim_matches('"').to_string()));
            }
        } else if indent <= match_indent {
            in_match = false;
        }
    }
    out.extend(current);
    out.into_iter()
        .filter(|(_, m)| m.iter().any(|(k, v)| (k == "event_type" && v == "alert") || k == "alert.signature_id"))
        .collect()
}

/// The value at a dotted path with `[i]` indexes, as text.
fn at(event: &Value, path: &str) -> Option<String> {
    let mut v = event;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        v = v.get(name)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// ferret rules that fire on the packets the case's Suricata rules fire on, by sid.
const CASES: [(&str, &str); 3] = [
    (
        "dns__dns-rrtype",
        "alert dns any any -> any any { id 1 msg \"A query\" when not dns.is_response and dns.qtype == A }
         alert dns any any -> any any { id 2 msg \"A answer\" when dns.is_response and dns.qtype == A }
         alert dns any any -> any any { id 3 msg \"not NS answer\" when dns.is_response and dns.qtype != NS }",
    ),
    (
        "dns__dns-forward-pointer",
        "alert dns any any -> any any { id 1 msg \"query\" when not dns.is_response and dns.qname == \"codemonkey.net\" }",
    ),
    ("bug-6875-01", "alert ip any any -> any any { id 1 msg \"any\" when ip.version == 4 }"),
];

#[test]
fn alerts_have_the_fields_suricata_writes_on_the_same_captures() {
    let Some(v) = validator() else { return };
    let Some(verify) = shared("suricata-verify") else { return };
    let mut compared = 0;
    for (case, rules) in CASES {
        let dir = verify.join(case);
        let yaml = std::fs::read_to_string(dir.join("test.yaml")).expect("test.yaml");
        let events = eve_of(common::rules(rules), vec![Input::File(dir.join("input.pcap"))]);
        check_all(&v, &events, case);
        for (count, fields) in alert_checks(&yaml) {
            let all_equal = |e: &&Value| fields.iter().all(|(path, want)| at(e, path).as_ref() == Some(want));
            let matching = events.iter().filter(all_equal).count();
            if matching != count {
                let sid = fields.iter().find(|(k, _)| k == "alert.signature_id").map(|(_, v)| v.clone());
                let near: Vec<String> = events
                    .iter()
                    .filter(|e| sid.is_none() || at(e, "alert.signature_id") == sid)
                    .map(|e| {
                        let differ: Vec<String> = fields
                            .iter()
                            .filter(|(p, w)| at(e, p).as_ref() != Some(w))
                            .map(|(p, w)| format!("{p}: {:?} (Suricata: {w})", at(e, p)))
                            .collect();
                        differ.join(", ")
                    })
                    .collect();
                panic!("{case}: {matching} alerts match {fields:?}, Suricata wrote {count}; differences: {near:#?}");
            }
            compared += count * fields.len();
        }
    }
    assert!(compared > 20, "fields compared: {compared}");
    println!("suricata-verify: {compared} alert fields equal to what Suricata wrote");
}
