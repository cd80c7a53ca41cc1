//! Rule management through the loading layer, as a scan or a reload uses it:
//! a config's `disable` and `suppress` (and `--disable`) read by
//! `config::parse`, turned into layers by `config::layers`, compiled by
//! `load::compile_with`, and applied by the engine.

use std::path::Path;
use std::sync::Arc;

use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;

const RULES: &str = "
alert icmp any any -> any any { id 1  msg \"any echo\"  when icmp.type == echo-request }
alert icmp any any -> any any { id 2  msg \"big echo\"  when payload.len > 100 }
pass icmp 10.9.9.9 any -> any any { id 3  msg \"quiet host\" }
alert icmp any any -> any any {
    id 4
    msg \"third echo in 10s\"
    when icmp.type == echo-request
    threshold 3 within 10s by rule
}
alert icmp any any -> any any {
    id 5
    msg \"one echo a minute\"
    when icmp.type == echo-request
    limit 1 per 60s by rule
}
";

/// Compiles [`RULES`] with the config `yaml` and `--disable` ids, as the CLI does.
fn load(yaml: &str, disable: &[u64]) -> Arc<RuleSet> {
    let config = ferret::config::parse("t.yaml", yaml, Path::new("."))
        .unwrap_or_else(|f| panic!("config: {}", f.problems.concat()));
    let layers = ferret::config::layers(Some(&config), Vec::new(), disable);
    let set = ferret::load::compile_with(vec![("t.rules".into(), RULES.into())], &layers)
        .unwrap_or_else(|f| panic!("rules: {}", f.problems.concat()));
    Arc::new(set)
}

/// Runs echo requests `(source, destination, second)` through an engine;
/// returns `(sid, source)` of each alert, in order.
fn alerts(engine: &mut Engine, packets: &[(&str, &str, i64)]) -> Vec<(u64, String)> {
    let data = ferret_synth::payload::random(600, 3);
    let mut out = Vec::new();
    for (n, (src, dst, second)) in packets.iter().enumerate() {
        let frame = ferret_synth::frame::icmp_echo(src.parse().unwrap(), dst.parse().unwrap(), false, 1, 1, &data);
        let pkt = ferret::decode::Packet::decode(1, &frame, n as u64 + 1, second * 1_000_000_000, frame.len() as u32);
        engine.process(&pkt, &mut |a| out.push((a.rule().map_or(0, |r| r.sid), src.to_string())));
    }
    out
}

fn sids(alerts: &[(u64, String)]) -> Vec<u64> {
    alerts.iter().map(|(sid, _)| *sid).collect()
}

#[test]
fn disabled_rules_are_not_compiled_and_never_alert() {
    let set = load("disable: [2]\n", &[5]);
    let kept: Vec<u64> = set.rules().iter().map(|r| r.sid).collect();
    assert_eq!(kept, [1, 3, 4]);
    let disabled: Vec<u64> = set.disabled().iter().map(|r| r.sid).collect();
    assert_eq!(disabled, [2, 5]);
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
    let mut explained = String::new();
    set.explain(&mut explained).unwrap();
    assert!(explained.starts_with("3 rules in 1 groups (2 disabled)\n"), "{explained}");
    assert!(
        explained.contains("\ndisabled (not compiled into the matcher)\n  rule 2 rev 1 (t.rules:3)\n"),
        "{explained}"
    );
    let mut engine = Engine::new(set);
    let got = alerts(&mut engine, &[("10.0.0.1", "8.8.8.8", 0)]);
    assert_eq!(sids(&got), [1]);
}

#[test]
fn ids_that_name_no_rule_are_warnings_with_their_origin() {
    let set = load("disable: [2, 77]\nsuppress:\n  - id: 88\n  - id: 3\n", &[99]);
    assert_eq!(
        set.warnings(),
        [
            "t.yaml:1:14: disable 77: no rule has this id",
            "--disable 99: no rule has this id",
            "t.yaml:3:9: suppress 88: no rule has this id",
            "t.yaml:4:9: suppress 3: rule 3 is a pass rule; it raises no alerts to suppress",
        ]
    );
    assert_eq!(set.rules().len(), 4);
}

#[test]
fn suppression_by_src_spares_other_sources() {
    let yaml = "suppress:\n  - id: 1\n    track: by_src\n    ip: 10.0.0.1\n";
    let mut engine = Engine::new(load(yaml, &[2, 4, 5]));
    let got =
        alerts(&mut engine, &[("10.0.0.1", "8.8.8.8", 0), ("10.0.0.2", "8.8.8.8", 1), ("8.8.8.8", "10.0.0.1", 2)]);
    // The source 10.0.0.1 is spared; another source, and 10.0.0.1 as destination, still alert.
    assert_eq!(got, [(1, "10.0.0.2".to_string()), (1, "8.8.8.8".to_string())]);
    assert_eq!(engine.stats().alerts_by_rule, [2, 0]);
    assert_eq!(engine.stats().suppressed_by_rule, [1, 0]);
    assert_eq!(engine.stats().suppressed_alerts(), 1);
}

#[test]
fn tracks_by_dst_and_by_either_and_address_lists() {
    let run = |yaml: &str| {
        let mut engine = Engine::new(load(yaml, &[2, 4, 5]));
        let got =
            alerts(&mut engine, &[("10.0.0.1", "8.8.8.8", 0), ("10.1.0.1", "10.0.0.1", 1), ("1.1.1.1", "9.9.9.9", 2)]);
        got.into_iter().map(|(_, src)| src).collect::<Vec<_>>()
    };
    let entry = |track: &str, ip: &str| format!("suppress:\n  - id: 1\n    track: {track}\n    ip: {ip}\n");
    assert_eq!(run(&entry("by_dst", "8.8.8.8")), ["10.1.0.1", "1.1.1.1"]);
    assert_eq!(run(&entry("by_either", "10.0.0.1")), ["1.1.1.1"]);
    assert_eq!(run(&entry("by_src", "[10.0.0.0/8, \"!10.1.0.0/16\"]")), ["10.1.0.1", "1.1.1.1"]);
    assert_eq!(run(&entry("by_either", "[10.0.0.0/8, 9.9.9.9]")), Vec::<String>::new());
}

#[test]
fn suppressed_matches_still_count_toward_thresholds_but_not_limits() {
    // Without `track`, every alert of rule 4 is dropped; its threshold still counts.
    let yaml =
        "suppress:\n  - id: 4\n    track: by_src\n    ip: 10.0.0.1\n  - id: 5\n    track: by_src\n    ip: 10.0.0.1\n";
    let mut engine = Engine::new(load(yaml, &[1, 2]));
    let got =
        alerts(&mut engine, &[("10.0.0.1", "8.8.8.8", 0), ("10.0.0.1", "8.8.8.8", 1), ("10.0.0.2", "8.8.8.8", 2)]);
    // Rule 4: the two suppressed matches of 10.0.0.1 count, so 10.0.0.2's is the third and fires.
    // Rule 5: the suppressed alerts used none of the limit, so 10.0.0.2 gets the minute's one alert.
    assert_eq!(got, [(4, "10.0.0.2".to_string()), (5, "10.0.0.2".to_string())]);
    assert_eq!(engine.stats().suppressed_by_rule, [0, 0, 2]);

    let mut engine = Engine::new(load("suppress:\n  - id: 4\n", &[1, 2, 5]));
    let packets: Vec<(&str, &str, i64)> = (0..5).map(|s| ("10.0.0.1", "8.8.8.8", s)).collect();
    assert!(alerts(&mut engine, &packets).is_empty());
    assert_eq!(engine.stats().suppressed_by_rule, [0, 3], "matches 3, 4 and 5 reached the threshold");
    let table = engine.table_stats().into_iter().find(|t| t.sid == 4).unwrap();
    assert_eq!(table.inserted, 1, "the threshold table counted the suppressed matches");
}

#[test]
fn pass_rules_still_win_over_suppressed_rules() {
    let mut engine = Engine::new(load("suppress:\n  - id: 1\n    track: by_src\n    ip: 10.0.0.1\n", &[2, 4, 5]));
    let got = alerts(&mut engine, &[("10.9.9.9", "8.8.8.8", 0)]);
    assert!(got.is_empty());
    assert_eq!(engine.stats().passed, 1);
    assert_eq!(engine.stats().suppressed_by_rule, [0, 0]);
}

#[test]
fn a_reload_with_another_config_rebuilds_disable_and_suppress() {
    let first = load("suppress:\n  - id: 1\n", &[4, 5]);
    let second = load("disable: [1]\n", &[4, 5]);
    let packets = [("10.0.0.1", "8.8.8.8", 0)];
    assert_eq!(sids(&alerts(&mut Engine::new(first), &packets)), [2]);
    assert_eq!(sids(&alerts(&mut Engine::new(second.clone()), &packets)), [2]);
    assert!(second.rules().iter().all(|r| r.suppress.is_empty()));
    let third = load("", &[4, 5]);
    assert_eq!(sids(&alerts(&mut Engine::new(third), &packets)), [1, 2]);
}
