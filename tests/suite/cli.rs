//! The binary as a user meets it: commands, exact error output, exit codes,
//! EVE lines, damaged and missing inputs, stdin, closed pipes.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

#[test]
fn check_accepts_the_default_rules() {
    let out = run_ferret(&["check"], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok: 27 rules compiled\n");
}

#[test]
fn check_reports_errors_with_location_line_and_caret() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("local.rules"),
        "alert icmp any any -> any any {\n    id 7\n    when payload.lenght > 5\n}\n",
    )
    .unwrap();
    let out = run_ferret(&["check", "local.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: unknown field 'payload.lenght'\n \
         --> local.rules:3:10\n  |\n\
         3 |     when payload.lenght > 5\n  \
         |          ^^^^^^^^^^^^^^ unknown field\n  \
         = help: did you mean 'payload.len'?\n\n\
         ferret: 1 error in rules; nothing was scanned\n"
    );
}

#[test]
fn duplicate_ids_across_files_name_the_first() {
    let dir = tmp();
    let rule = |id| format!("alert icmp any any -> any any {{\n  id {id}\n}}\n");
    std::fs::create_dir(dir.path().join("d")).unwrap();
    std::fs::write(dir.path().join("d/a.rules"), rule(5)).unwrap();
    std::fs::write(dir.path().join("d/b.rules"), rule(5)).unwrap();
    let out = run_ferret(&["check", "d"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: duplicate rule id 5"), "{err}");
    assert!(err.contains("--> d/b.rules:2:6"), "{err}");
    assert!(err.contains("first used at d/a.rules:2:6"), "{err}");
}

#[test]
fn explain_prints_groups_and_predicate_order() {
    let out = run_ferret(&["explain"], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.starts_with("27 rules in 6 groups"), "{s}");
    let icmp = s.find("group icmp").unwrap();
    let len = s[icmp..].find("payload.len >= 32").unwrap();
    let pattern = s[icmp..].find("payload.pattern == random").unwrap();
    let ent = s[icmp..].find("payload.entropy > 5.8").unwrap();
    assert!(len < pattern && pattern < ent, "cheap predicate first:\n{s}");
    let fields = run_ferret(&["explain", "--fields"], &std::env::temp_dir(), b"");
    assert!(text(&fields.stdout).contains("payload.entropy.norm"));
}

#[test]
fn scan_prints_alert_lines_and_summary() {
    let out = run_ferret(&["scan", &sample("report-icmp.pcap")], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        lines[0],
        "2025-04-05 20:55:00.611316  [1:7100001:2] [critical] Potential ICMP tunneling detected \
         (byte length=159, entropy=6.78) {ICMP} 192.168.1.4 -> 192.168.1.6 (packet 18)"
    );
    let err = text(&out.stderr);
    for needle in ["packets: 150", "alerts: 5", "decode errors: none", "icmp 87", "7100001         5"] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn eve_lines_are_suricata_shaped() {
    let dir = tmp();
    let args = ["scan", "-q", "--eve", "alerts.json", "--sensor-name", "edge-1", &sample("report-dns-icmp.pcapng")];
    let out = run_ferret(&args, dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let eve = std::fs::read_to_string(dir.path().join("alerts.json")).unwrap();
    let events: Vec<serde_json::Value> = eve.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 18, "22 tunnel packets, less the 4 DNS responses 7100101 does not judge");
    let dns = &events[0];
    assert_eq!(dns["event_type"], "alert");
    assert_eq!(dns["pcap_cnt"], 41);
    assert_eq!(dns["proto"], "UDP");
    assert_eq!(dns["src_ip"], "172.20.10.9");
    assert_eq!(dns["dest_port"], 53);
    assert_eq!(dns["alert"]["signature_id"], 7100101);
    assert_eq!(dns["alert"]["gid"], 1);
    assert_eq!(dns["alert"]["rev"], 4);
    assert_eq!(dns["alert"]["severity"], 2);
    assert_eq!(dns["alert"]["category"], "dns-tunnel");
    assert_eq!(dns["alert"]["action"], "allowed");
    assert_eq!(dns["alert"]["signature"], "Potential DNS tunneling detected (length=26, entropy=3.84)");
    let ferret = &dns["alert"]["metadata"]["ferret"];
    assert_eq!(ferret["measured"]["dns.qname.len"], 26);
    assert_eq!((&ferret["severity"], &ferret["packet"]), (&"high".into(), &41.into()));
    assert!(dns.get("ferret").is_none(), "nothing outside the schema: {dns}");
    assert_eq!(
        (&dns["host"], &dns["app_proto"], &dns["direction"]),
        (&"edge-1".into(), &"dns".into(), &"to_server".into())
    );
    assert_eq!((&dns["dns"]["version"], &dns["dns"]["type"]), (&3.into(), &"request".into()));
    assert_eq!(dns["dns"]["queries"][0]["rrname"].as_str().map(str::len), Some(26));
    assert!(dns["flow_id"].as_u64().is_some_and(|id| id > 0));
    assert_eq!((&dns["flow"]["pkts_toserver"], &dns["flow"]["src_ip"]), (&1.into(), &"172.20.10.9".into()));
    assert!(dns["pcap_filename"].as_str().is_some_and(|f| f.ends_with("report-dns-icmp.pcapng")));
    let ts = dns["timestamp"].as_str().unwrap();
    assert!(ts.starts_with("2025-04-12T14:03:") && ts.ends_with("+0000") && ts.len() == 31, "{ts}");
    let icmp = events.iter().find(|e| e["proto"] == "ICMP").unwrap();
    assert_eq!(icmp["icmp_type"], 8);
    assert_eq!(icmp["icmp_code"], 0);
    assert!(icmp.get("src_port").is_none() && icmp.get("app_proto").is_none() && icmp.get("dns").is_none());
    assert_eq!(icmp["alert"]["severity"], 1);
    let ferret = &icmp["alert"]["metadata"]["ferret"];
    assert_eq!(ferret["measured"]["payload.len"], 128);
    assert_eq!(ferret["recommendations"][0], "Isolate 172.20.10.2 and 172.20.10.9 for forensic analysis");
    // Both directions of a flow share its id.
    let pings: Vec<&serde_json::Value> = events.iter().filter(|e| e["proto"] == "ICMP").collect();
    let ids: std::collections::BTreeSet<u64> = pings.iter().filter_map(|e| e["flow_id"].as_u64()).collect();
    assert!(pings.iter().any(|e| e["direction"] == "to_client") && ids.len() == 1, "{ids:?}");
}

#[test]
fn the_eve_file_is_appended_to_unless_truncation_is_asked_for() {
    let dir = tmp();
    let count = || std::fs::read_to_string(dir.path().join("alerts.json")).unwrap().lines().count();
    let capture = sample("report-icmp.pcap");
    for _ in 0..2 {
        let out = run_ferret(&["scan", "-q", "--no-summary", "--eve", "alerts.json", &capture], dir.path(), b"");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    assert_eq!(count(), 10, "two runs of five alerts, appended");
    let out = run_ferret(
        &["scan", "-q", "--no-summary", "--eve", "alerts.json", "--eve-truncate", &capture],
        dir.path(),
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(count(), 5);
    std::fs::write(dir.path().join("ferret.yaml"), "outputs:\n  eve: alerts.json\n  eve_append: false\n  host: lab\n")
        .unwrap();
    let out = run_ferret(&["scan", "-q", "--no-summary", "--config", "ferret.yaml", &capture], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(count(), 5);
    let first = std::fs::read_to_string(dir.path().join("alerts.json")).unwrap();
    assert!(first.lines().all(|l| l.contains(r#""host":"lab""#)), "{first}");
}

#[test]
fn truncated_capture_keeps_results_and_exits_partial() {
    let dir = tmp();
    let full = std::fs::read(sample("report-icmp.pcap")).unwrap();
    // Cut in the middle of packet 128's record: packets 1..=127 survive.
    let (mut offset, mut n) = (24usize, 0);
    while n < 127 {
        let caplen = u32::from_le_bytes(full[offset + 8..offset + 12].try_into().unwrap()) as usize;
        offset += 16 + caplen;
        n += 1;
    }
    std::fs::write(dir.path().join("cut.pcap"), &full[..offset + 20]).unwrap();
    let out = run_ferret(&["scan", "--eve", "e.json", "cut.pcap"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout).lines().count(), 4, "alerts before the damage are kept");
    assert_eq!(std::fs::read_to_string(dir.path().join("e.json")).unwrap().lines().count(), 4);
    let err = text(&out.stderr);
    assert!(err.contains(&format!("cut.pcap: capture damaged at byte offset {offset}")), "{err}");
    assert!(err.contains("the 127 packets before it were scanned"), "{err}");
    assert!(err.contains("packets: 127"), "summary still printed:\n{err}");
}

#[test]
fn missing_and_non_capture_inputs_exit_1_but_others_are_scanned() {
    let dir = tmp();
    std::fs::write(dir.path().join("notes.txt"), "hello, not a capture").unwrap();
    let s = sample("report-icmp.pcap");
    let out = run_ferret(&["scan", "nope.pcap", "notes.txt", &s], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 5);
    let err = text(&out.stderr);
    assert!(err.contains("nope.pcap: no such file"), "{err}");
    assert!(err.contains("notes.txt: not a pcap or pcapng file"), "{err}");
    assert!(text(&out.stdout).contains(&format!("({s} packet 18)")), "file named when several are scanned");
}

#[test]
fn reads_a_capture_from_stdin() {
    let bytes = std::fs::read(sample("report-icmp.pcapng")).unwrap();
    let out = run_ferret(&["scan", "-"], &std::env::temp_dir(), &bytes);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 5);
}

#[test]
fn eve_to_stdout_carries_only_json() {
    let out = run_ferret(&["scan", "--eve", "-", &sample("report-icmp.pcap")], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(0));
    for line in text(&out.stdout).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn var_overrides_change_thresholds_and_bad_vars_are_errors() {
    let s = sample("report-icmp.pcap");
    let out = run_ferret(&["scan", "--var", "ICMP_MIN_PAYLOAD=200", &s], &std::env::temp_dir(), b"");
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches(":7100001:").count(), 3, "only 233, 496 and 528 bytes reach 200:\n{stdout}");
    let bad = run_ferret(&["scan", "--var", "ICMP_MIN_PAYLOAD=[1,", &s], &std::env::temp_dir(), b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--var ICMP_MIN_PAYLOAD:1:"), "{}", text(&bad.stderr));
}

#[test]
fn the_dns_allowlist_extends_from_the_command_line() {
    let s = sample("report-dns-icmp.pcap");
    let dns_alerts = |out: &std::process::Output| text(&out.stdout).lines().filter(|l| l.contains("{UDP}")).count();
    let plain = run_ferret(&["scan", &s], &std::env::temp_dir(), b"");
    assert_eq!(dns_alerts(&plain), 4, "the four tunnel queries; responses are not judged");
    let listed = run_ferret(&["scan", "--var", "DNS_ALLOW_LOCAL=[\"t-exfil.net\"]", &s], &std::env::temp_dir(), b"");
    assert_eq!(dns_alerts(&listed), 0, "{}", text(&listed.stderr));
    // The pass rule still passes queries and responses alike.
    assert!(text(&listed.stderr).contains("passed (suppressed by pass rules): 8"), "{}", text(&listed.stderr));
    let dir = tmp();
    std::fs::write(dir.path().join("mine.txt"), "# ours\nT-EXFIL.net\n").unwrap();
    let from_file = run_ferret(&["scan", "--var", "DNS_ALLOW_LOCAL=file(\"mine.txt\")", &s], dir.path(), b"");
    assert_eq!(dns_alerts(&from_file), 0, "{}", text(&from_file.stderr));
    let missing = run_ferret(&["scan", "--var", "DNS_ALLOW_LOCAL=file(\"none.txt\")", &s], dir.path(), b"");
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read data file 'none.txt'"), "{}", text(&missing.stderr));
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    let dir = tmp();
    std::fs::write(dir.path().join("all.rules"), "alert ip any any -> any any {\n  id 1\n  msg \"every packet\"\n}\n")
        .unwrap();
    let mut child = Command::new(ferret_bin())
        .args(["scan", "--no-summary", "-r", "all.rules", &sample("office.pcap"), &sample("office.pcap")])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is dropped here: stdout is closed, like `| head -1`.
    let out = child.wait_with_output().unwrap();
    assert!(first.contains("every packet"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_exit_2() {
    let out = run_ferret(&["scan"], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run_ferret(&["frobnicate"], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn inputs_that_are_not_captures_say_what_they_are_and_no_empty_summary_follows() {
    let dir = tmp();
    std::fs::write(dir.path().join("notes.txt"), "hello, not a capture").unwrap();
    let raw = std::fs::read(sample("report-icmp.pcap")).unwrap();
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
    gz.extend_from_slice(&raw[..40]);
    std::fs::write(dir.path().join("x.pcap.gz"), gz).unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let out = run_ferret(&["scan", "notes.txt", "x.pcap.gz", "folder"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("notes.txt: not a pcap or pcapng file (it starts with 68 65 6c 6c, \"hell\")\n"), "{err}");
    assert!(err.contains("x.pcap.gz: not a pcap or pcapng file (it starts with 1f 8b 08 00, \"....\"); it is gzip-compressed: zcat FILE | ferret scan -"), "{err}");
    assert!(err.contains("folder: is a directory, not a capture"), "{err}");
    assert!(!err.contains("packets: 0"), "no summary of zeros after nothing could be read:\n{err}");
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    let dir = tmp();
    let out = run_ferret(&["completions", "bash"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("complete -F _ferret"), "{}", text(&out.stdout));
    let out = run_ferret(&["man"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(".TH ferret 1"));
}

#[test]
fn explain_takes_rules_with_dash_r_and_shows_the_port_index() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("p.rules"),
        "alert udp any any -> any 53 {\n id 5\n msg \"x\"\n when payload.len > 1\n}\n",
    )
    .unwrap();
    let out = run_ferret(&["explain", "-r", "p.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("    index: dst.port == 53\n"), "{stdout}");
    assert!(stdout.contains("    dst ports: 1 ranges\n"), "{stdout}");
    let out = run_ferret(&["check", "-r", "p.rules", "-r", "builtin"], dir.path(), b"");
    assert!(text(&out.stdout).starts_with("ok: 28 rules"), "{}", text(&out.stdout));
}
