//! Rule management as a user meets it on the command line: `-r builtin`,
//! `--disable`, the config's `disable` and `suppress`, with exact messages.

use crate::common;

use common::*;

#[test]
fn disable_leaves_rules_out_and_warns_of_unknown_ids() {
    let dir = tmp();
    let out = run_ferret(&["check", "--disable", "7100004", "--disable", "123"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok: 26 rules compiled, 1 disabled\n");
    assert_eq!(text(&out.stderr), "warning: --disable 123: no rule has this id\n");

    let out = run_ferret(&["explain", "--disable", "7100004,7100005"], dir.path(), b"");
    let s = text(&out.stdout);
    assert!(s.starts_with("25 rules in 6 groups (2 disabled)\n"), "{s}");
    assert_eq!(s.matches("rule 7100004 rev").count(), 1, "listed only as disabled:\n{s}");
    assert!(
        s.contains(
            "\ndisabled (not compiled into the matcher)\n  rule 7100004 rev 3 (<builtin>/rules/icmp-tunnel.rules:"
        ),
        "{s}"
    );

    let out = run_ferret(&["scan", "--disable", "7100001", &sample("report-icmp.pcap")], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "", "the only rule that fired here is disabled");
    assert!(text(&out.stderr).contains("\nalerts: 0\n"), "{}", text(&out.stderr));

    for args in [
        &["sweep", "--disable", "123", "--var", "ICMP_ENTROPY=5,6", "--format", "csv"][..],
        &["profile", "--disable", "123", "--no-histograms"][..],
    ] {
        let mut args = args.to_vec();
        let capture = sample("report-icmp.pcap");
        args.push(&capture);
        let out = run_ferret(&args, dir.path(), b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "warning: --disable 123: no rule has this id\n", "{args:?}");
    }
    let out = run_ferret(&["check", "--disable", "seven"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'seven' for '--disable <ID>'"), "{}", text(&out.stderr));
}

#[test]
fn rules_builtin_means_the_built_in_rules_beside_your_own() {
    let dir = tmp();
    // A rule ported from a Suricata local.rules keeps its local-range id: no clash.
    std::fs::write(
        dir.path().join("mine.rules"),
        "alert icmp any any -> any any {\n  id 1000001\n  msg \"big echo\"\n  when payload.len > 150\n}\n",
    )
    .unwrap();
    let out = run_ferret(&["scan", "-r", "builtin", "-r", "mine.rules", &sample("report-icmp.pcap")], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("[1:7100001:2]").count(), 5, "{stdout}");
    assert!(
        stdout.contains("  [1:1000001:1] [medium] big echo {ICMP} 192.168.1.4 -> 192.168.1.6 (packet 18)\n"),
        "{stdout}"
    );

    // A file really named `builtin` is reached as ./builtin.
    std::fs::write(dir.path().join("builtin"), "alert icmp any any -> any any {\n  id 1\n}\n").unwrap();
    let out = run_ferret(&["check", "./builtin"], dir.path(), b"");
    assert_eq!(text(&out.stdout), "ok: 1 rule compiled\n", "{}", text(&out.stderr));
    let out = run_ferret(&["check", "builtin", "mine.rules"], dir.path(), b"");
    assert_eq!(text(&out.stdout), "ok: 28 rules compiled\n", "{}", text(&out.stderr));
}

#[test]
fn config_suppress_drops_alerts_and_counts_them() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("ferret.yaml"),
        "disable: [7100009]\nsuppress:\n  - id: 7100001\n    track: by_src\n    ip: 192.168.1.4\n  - id: 4242\n",
    )
    .unwrap();
    let out = run_ferret(&["scan", "--stats", "stats.json", &sample("report-icmp.pcap")], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(err.starts_with("warning: ferret.yaml:6:9: suppress 4242: no rule has this id\n"), "{err}");
    assert!(
        err.contains(
            "\nalerts: 0\nalerts suppressed (config suppress): 5\n     7100001         5  Potential ICMP tunneling detected"
        ),
        "{err}"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["suppressed_by_sid"], serde_json::json!({ "7100001": 5 }));
    assert_eq!(stats["alerts_by_sid"]["7100001"], 0);
    assert!(stats["alerts_by_sid"].get("7100009").is_none(), "disabled rules are not in the set");

    let out = run_ferret(&["explain"], dir.path(), b"");
    assert!(text(&out.stdout).contains("    suppress by_src 192.168.1.4\n"), "{}", text(&out.stdout));
}

#[test]
fn bad_suppress_addresses_are_located_config_errors() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "suppress:\n  - id: 7100001\n    track: by_src\n    ip: 192.168.1.400\n",
    )
    .unwrap();
    let out = run_ferret(&["scan", "-c", "bad.yaml", &sample("report-icmp.pcap")], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: suppress 7100001: '192.168.1.400' is not an address or CIDR\n \
         --> bad.yaml:4:9\n  |\n\
         4 |     ip: 192.168.1.400\n  \
         |         ^^^^^^^^^^^^^ expected e.g. 10.0.5.20 or 10.0.0.0/8\n\n\
         ferret: 1 error in the config; nothing was scanned\n"
    );
}

/// Regression: matches a `limit` held back were counted nowhere, so 700 tunnel
/// packets behind one alert looked like "not flagged". The summary and
/// `--stats` count them per rule.
#[test]
fn matches_held_back_by_limit_are_counted_per_rule() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("limited.rules"),
        "alert icmp any any -> any any {\n  id 1\n  msg \"Big ping\"\n  when payload.len > 64\n  limit 1 per 10m by src\n}\n\
         alert icmp any any -> any any {\n  id 2\n  msg \"Any ping\"\n}\n",
    )
    .unwrap();
    let out = run_ferret(
        &["scan", "-q", "-r", "limited.rules", "--stats", "stats.json", &sample("report-icmp.pcap")],
        dir.path(),
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("\nmatches held back by limit: 4\n           1         4  Big ping\n"), "{err}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["alerts_by_sid"]["1"], 1);
    assert_eq!(stats["limited_by_sid"], serde_json::json!({ "1": 4 }), "only rules with a limit are listed");
}
