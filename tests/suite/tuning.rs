//! Per-network tuning end to end, on the two-network scenario (a lab whose
//! monitoring pings with 1000-byte patterned payloads, and an office with an
//! ICMP tunnel): one override in `networks` silences the lab while the tunnel
//! still alerts; `profile` suggests a threshold that does it; `sweep` shows the
//! trade-off in one pass; config errors are located.

use crate::common;

use common::*;

fn root() -> String {
    env!("CARGO_MANIFEST_DIR").to_string()
}

fn sample() -> String {
    format!("{}/samples/two-networks.pcap", root())
}

fn rules() -> String {
    format!("{}/examples/tuning/tunnel.rules", root())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (alerts from lab hosts, alerts on the tunnel's hosts, other alerts) of an EVE file.
fn tally(eve: &str) -> (usize, usize, usize) {
    let (mut lab, mut tunnel, mut other) = (0, 0, 0);
    for line in eve.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (src, dst) = (v["src_ip"].as_str().unwrap(), v["dest_ip"].as_str().unwrap());
        if src.starts_with("10.20.") {
            lab += 1;
        } else if [src, dst].contains(&"10.1.0.23") && [src, dst].contains(&"198.51.100.7") {
            tunnel += 1;
        } else {
            other += 1;
        }
    }
    (lab, tunnel, other)
}

fn scan_with(config: Option<&str>, dir: &std::path::Path) -> (usize, usize, usize) {
    let (s, r) = (sample(), rules());
    let mut args = vec!["scan", "-q", "--eve", "eve.json", "--eve-truncate", "-r", &r];
    if let Some(c) = config {
        args.extend(["--config", c]);
    }
    args.push(&s);
    let out = run_ferret(&args, dir, b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    tally(&std::fs::read_to_string(dir.join("eve.json")).unwrap())
}

#[test]
fn one_network_override_silences_the_lab_and_keeps_the_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, tunnel, other) = scan_with(None, dir.path());
    assert_eq!((lab, tunnel, other), (240, 120, 0), "one global threshold flags the lab");
    std::fs::write(
        dir.path().join("ferret.yaml"),
        "networks:\n  lab:\n    cidrs: [10.20.0.0/16]\n    vars:\n      ICMP_ENTROPY: 8.0\n",
    )
    .unwrap();
    assert_eq!(scan_with(Some("ferret.yaml"), dir.path()), (0, 120, 0));
}

#[test]
fn the_shipped_example_config_does_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let cfg = format!("{}/examples/tuning/ferret.yaml", root());
    let out = run_ferret(&["scan", "-q", "--eve", "eve.json", "--config", &cfg, &s], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tally(&std::fs::read_to_string(dir.path().join("eve.json")).unwrap()), (0, 120, 0));
}

#[test]
fn profile_suggests_a_threshold_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let r = rules();
    std::fs::write(
        dir.path().join("ferret.yaml"),
        format!("rules: [{r}]\nnetworks:\n  lab:\n    cidrs: [10.20.0.0/16]\n  office:\n    cidrs: [10.1.0.0/16]\n"),
    )
    .unwrap();
    let s = sample();
    let out = run_ferret(&["profile", "--config", "ferret.yaml", "--svg", "svg", &s], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("icmp payload entropy"), "{report}");
    assert!(report.contains("lab (10.20.0.0/16)"), "{report}");
    // Take the lab's suggested ICMP_ENTROPY from the YAML snippet.
    let snippet = &report[report.find("networks:\n").unwrap()..];
    let lab = &snippet[snippet.find("  lab:").unwrap()..];
    let line = lab.lines().find(|l| l.trim_start().starts_with("ICMP_ENTROPY:")).unwrap();
    let value: f64 = line.split(':').nth(1).unwrap().split('#').next().unwrap().trim().parse().unwrap();
    assert!(value > 7.98 && value <= 8.0, "suggested {value}");
    assert!(std::fs::read_dir(dir.path().join("svg")).unwrap().count() >= 3);
    std::fs::write(
        dir.path().join("tuned.yaml"),
        format!("networks:\n  lab:\n    cidrs: [10.20.0.0/16]\n    vars:\n      ICMP_ENTROPY: {value}\n"),
    )
    .unwrap();
    assert_eq!(scan_with(Some("tuned.yaml"), dir.path()), (0, 120, 0));
}

#[test]
fn sweep_shows_the_trade_off_in_one_pass() {
    let (s, r) = (sample(), rules());
    let out = run_ferret(
        &["sweep", "-r", &r, "--var", "ICMP_ENTROPY=5.0..8.0:0.5", "--format", "csv", &s],
        &std::env::temp_dir(),
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rows: Vec<(f64, u64, u64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].parse().unwrap(), c[1].parse().unwrap(), c[2].parse().unwrap())
        })
        .collect();
    assert_eq!(csv.lines().next(), Some("ICMP_ENTROPY,alerts,host_pairs"));
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[2], (6.0, 360, 4));
    assert_eq!(rows[6], (8.0, 0, 0));
    assert!(rows.windows(2).all(|w| w[1].1 <= w[0].1), "alerts never rise with the threshold: {rows:?}");
    let json = run_ferret(
        &["sweep", "-r", &r, "--var", "ICMP_ENTROPY=6,7.9", "--format", "json", &s],
        &std::env::temp_dir(),
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["alerts"], 360);
    assert_eq!(v[1]["ICMP_ENTROPY"], 7.9);
}

#[test]
fn explain_shows_values_per_network() {
    let cfg = format!("{}/examples/tuning/ferret.yaml", root());
    let out = run_ferret(&["explain", "--config", &cfg], &std::env::temp_dir(), b"");
    let s = text(&out.stdout);
    assert!(s.contains("$ICMP_ENTROPY = 6; in lab: 8"), "{s}");
    assert!(s.contains("network picked by the source address"), "{s}");
    assert!(s.contains("in network lab:") && s.contains("payload.entropy > 8"), "{s}");
}

#[test]
fn scope_picks_the_address_that_selects_the_network() {
    use ferret::engine::compile::{NetworkVars, VarLayers};
    use ferret::rules::ast::{IpNet, Value, ValueKind};
    use ferret::rules::span::Span;
    let layers = VarLayers {
        networks: vec![NetworkVars {
            name: "lab".into(),
            nets: vec![IpNet { addr: "10.20.0.0".parse().unwrap(), prefix: 16 }],
            vars: vec![("ICMP_ENTROPY".into(), Value { kind: ValueKind::Number(8.0), span: Span::default() })],
        }],
        ..VarLayers::default()
    };
    // A lab host pings an outside host with random data; a third rule names $HOME_NET on the destination.
    let rules = "var ICMP_ENTROPY = 6.0
        alert icmp any any -> any any { id 1  scope src  when payload.entropy > $ICMP_ENTROPY }
        alert icmp any any -> any any { id 2  scope dst  when payload.entropy > $ICMP_ENTROPY }
        alert icmp any any -> $HOME_NET any { id 3  when payload.entropy > $ICMP_ENTROPY }
        alert icmp $HOME_NET any -> any any { id 4  when payload.entropy > $ICMP_ENTROPY }";
    let set = ferret::load::compile_with(vec![("t.rules".into(), rules.into())], &layers).unwrap();
    let mut engine = ferret::engine::Engine::new(std::sync::Arc::new(set));
    let data = ferret_synth::payload::random(600, 3);
    let out = |src: &str, dst: &str| {
        ferret_synth::frame::icmp_echo(src.parse().unwrap(), dst.parse().unwrap(), false, 1, 1, &data)
    };
    let mut fired = |frame: &[u8]| {
        let pkt = ferret::decode::Packet::decode(1, frame, 1, 0, frame.len() as u32);
        let mut sids = Vec::new();
        engine.process(&pkt, &mut |a| sids.push(a.rule().unwrap().sid));
        sids
    };
    // Source in the lab: `scope src` and the $HOME_NET-source rule use the lab's 8.0 (quiet).
    assert_eq!(fired(&out("10.20.0.5", "8.8.8.8")), vec![2]);
    // Destination in the lab: `scope dst` and the $HOME_NET-destination rule (whose header
    // matches only this way round) are quiet; were rule 3 scoped by source it would fire.
    assert_eq!(fired(&out("8.8.8.8", "10.20.0.5")), vec![1]);
}

#[test]
fn config_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "networks:\n  lab:\n    cidrs: [10.20.0.0/16]\n    vrs:\n      X: 1\n")
        .unwrap();
    let out = run_ferret(&["check", "--config", "bad.yaml"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: networks.lab: unknown field `vrs`, expected `cidrs` or `vars`"), "{err}");
    assert!(err.contains("--> bad.yaml:4:5"), "{err}");
    std::fs::write(
        dir.path().join("undef.yaml"),
        "networks:\n  lab:\n    cidrs: [10.20.0.0/16]\n    vars:\n      ICMP_ENTROPI: 7\n",
    )
    .unwrap();
    let out = run_ferret(&["check", "--config", "undef.yaml"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("network 'lab' sets undefined variable 'ICMP_ENTROPI'"), "{err}");
    assert!(err.contains("undef.yaml:5:7") && err.contains("did you mean 'ICMP_ENTROPY'?"), "{err}");
    let example = format!("{}/ferret.example.yaml", root());
    let out = run_ferret(&["check", "--config", &example], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_bad_config_value_is_blamed_once_on_the_config_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ferret.yaml"), "vars:\n  ICMP_ENTROPY: high\n").unwrap();
    let out = run_ferret(&["check", "--config", "ferret.yaml"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: unknown value 'high' for payload.entropy\n --> ferret.yaml:2:17\n"), "{err}");
    assert!(err.contains("2 |   ICMP_ENTROPY: high\n  |                 ^^^^ not a known name\n"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert!(!err.contains("--> <builtin>"), "{err}");
}

/// Regression: a misspelt variable was silently ignored, so `--var
/// ICMP_ENTROPYY=8` scanned with the default threshold and `sweep` printed a
/// flat table that looked like a result. A name no rule file defines or uses is
/// an error with a "did you mean", on the command line and under `vars:`.
#[test]
fn misspelt_variables_are_errors() {
    let (s, r) = (sample(), rules());
    let dir = tempfile::tempdir().unwrap();
    let check = |args: &[&str], location: &str| {
        let out = run_ferret(args, dir.path(), b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("undefined variable 'ICMP_ENTROPYY'"), "{args:?}: {err}");
        assert!(err.contains("did you mean 'ICMP_ENTROPY'?"), "{args:?}: {err}");
        assert!(err.contains(location), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing is scanned");
    };
    check(&["scan", "-r", &r, "--var", "ICMP_ENTROPYY=8", &s], "--var ICMP_ENTROPYY");
    check(&["check", "--var", "ICMP_ENTROPYY=8", &r], "--var ICMP_ENTROPYY");
    check(&["sweep", "-r", &r, "--var", "ICMP_ENTROPYY=5,6", &s], "--var ICMP_ENTROPYY");
    check(&["sweep", "-r", &r, "--var", "ICMP_ENTROPY=5,6", "--var", "ICMP_ENTROPYY=8", &s], "--var ICMP_ENTROPYY");
    std::fs::write(dir.path().join("typo.yaml"), "vars:\n  ICMP_ENTROPYY: 8\n").unwrap();
    check(&["scan", "-r", &r, "--config", "typo.yaml", &s], "typo.yaml:2:3");
    check(&["sweep", "-r", &r, "--config", "typo.yaml", "--var", "ICMP_ENTROPY=5,6", &s], "typo.yaml:2:3");
    // A variable the rules use but leave to the config or the command line is no typo.
    std::fs::write(dir.path().join("uses.rules"), "alert icmp any any -> any any { id 1  when payload.len > $BIG }\n")
        .unwrap();
    let out = run_ferret(&["check", "--var", "BIG=100", "uses.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
