//! Suricata's own regression cases (OISF/suricata-verify, in
//! `../shared/suricata-verify/`): every case's rules are loaded as Suricata
//! rules and its capture scanned, and ferret's alerts must equal what Suricata
//! 8.0.6 raised (`expected.json`: the multiset of (sid, pcap_cnt)); for
//! "rule-errors" cases, each rule must load or be refused as Suricata did.
//!
//! Cases ferret cannot pass yet are listed in [`KNOWN`] with the reason; a
//! listed case that starts passing fails the test too, so the list stays true.
//! The folder is read in place, never copied; without it the test skips with
//! a message, and fails when FERRET_REQUIRE_SURICATA_VERIFY is set (CI).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferret::engine::compile::VarLayers;
use ferret::engine::Engine;
use ferret::load;
use ferret::rules::suricata;
use ferret::scan::{self, VecSink};
use serde_json::Value as Json;

/// Cases ferret does not pass, and why.
const KNOWN: &[(&str, &str)] = &[
    ("decode-nsh-type1", "the UDP packet is inside NSH (Network Service Header), which ferret does not decode"),
    (
        "defrag__bug-6942-6887-defrag-eth-ip-gre-ppp-ip-udp-data",
        "the fragments are inside GRE and PPP, which ferret does not decode",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/suricata-verify")
}

/// The variables of Suricata's installed suricata.yaml, which the cases without their own config ran with.
fn layers() -> VarLayers {
    let vars = ["HOME_NET=[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", "EXTERNAL_NET=!$HOME_NET"];
    let overrides = vars.iter().map(|v| load::parse_var_override(v).expect("variable parses")).collect();
    VarLayers { overrides, ..VarLayers::default() }
}

/// What ferret does with one case: `Ok(())` when it matches Suricata, else what differs.
fn run_case(dir: &Path) -> Result<(), String> {
    let expected: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let text = std::fs::read_to_string(dir.join("test.rules")).unwrap();
    assert!(suricata::is_suricata(&text), "{} is read as Suricata syntax", dir.display());
    if expected["kind"] == "rule-errors" {
        return rule_verdicts(&text, &expected);
    }
    let rules = load::compile_with(vec![("test.rules".into(), text)], &layers())
        .map_err(|f| format!("rules do not load: {}", f.problems.concat()))?;
    if !rules.warnings().is_empty() {
        return Err(format!("rules refused: {}", rules.warnings().join("; ")));
    }
    let bytes = std::fs::read(dir.join("input.pcap")).unwrap();
    let mut engine = Engine::new(Arc::new(rules));
    engine.set_packet_alert_max(Some(packet_alert_max(dir)));
    let mut sink = VecSink::default();
    {
        let mut sinks: Vec<&mut dyn scan::AlertSink> = vec![&mut sink];
        // A damaged capture (a fuzzed one) keeps what was read before the damage, as libpcap does.
        let _ = scan::scan_bytes(&mut engine, &bytes, None, &mut sinks, &mut |_, _| {}).expect("no sink error");
    }
    let mut got: Vec<(u64, u64)> = sink.alerts.iter().map(|(a, _)| (a.rule().map_or(0, |r| r.sid), a.packet)).collect();
    let mut want: Vec<(u64, u64)> = expected["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["sid"].as_u64().unwrap(), a["pcap_cnt"].as_u64().unwrap()))
        .collect();
    got.sort_unstable();
    want.sort_unstable();
    if got == want {
        return Ok(());
    }
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(5).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(5).collect();
    Err(format!(
        "{} alerts, Suricata raised {}; (sid, packet) missing e.g. {missing:?}, extra e.g. {extra:?}",
        got.len(),
        want.len()
    ))
}

/// Suricata's `packet-alert-max`: the case's suricata.yaml may set it; 15 otherwise.
fn packet_alert_max(dir: &Path) -> usize {
    let yaml = std::fs::read_to_string(dir.join("suricata.yaml")).unwrap_or_default();
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix("packet-alert-max:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(15)
}

/// Loads each rule of a rule-errors case alone, as Suricata's verdicts were made.
fn rule_verdicts(text: &str, expected: &Json) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut wrong = Vec::new();
    for verdict in expected["rules"].as_array().unwrap() {
        let line = verdict["line"].as_u64().unwrap() as usize;
        let rule = lines[line - 1].to_string();
        let loads_alone = load::compile_with(vec![("r.rules".into(), rule.clone())], &VarLayers::default())
            .map(|set| set.warnings().is_empty() && set.rules().len() == 1)
            .unwrap_or(false);
        if loads_alone != verdict["loads"].as_bool().unwrap() {
            wrong.push(format!("line {line} (sid {}): ferret loads={loads_alone}", verdict["sid"]));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

#[test]
fn suricata_verify_cases_match_suricata() {
    let root = root();
    if !root.is_dir() {
        common::skip("FERRET_REQUIRE_SURICATA_VERIFY", &format!("{} is absent", root.display()));
        return;
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 49, "expected the 49 shared cases, found {}", cases.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let result = run_case(case);
        let known = KNOWN.iter().find(|(k, _)| *k == name);
        match (result, known) {
            (Ok(()), None) => passed += 1,
            (Ok(()), Some(_)) => failures.push(format!("{name}: passes now; remove it from KNOWN")),
            (Err(e), None) => failures.push(format!("{name}: {e}")),
            (Err(e), Some((_, why))) => eprintln!("known failure {name} ({why}): {e}"),
        }
    }
    eprintln!("suricata-verify: {passed}/{} cases match Suricata 8.0.6", cases.len());
    assert!(failures.is_empty(), "{} cases differ from Suricata:\n{}", failures.len(), failures.join("\n"));
}
