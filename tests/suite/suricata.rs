//! Suricata rule files end to end: the semantics ferret promises (IP-only
//! rules once per flow direction, `pass` silencing the flow, fixed-window
//! thresholds, `noalert`, content positions), `ferret convert` giving native
//! rules that compile to the same matcher and raise the same alerts, and the
//! CLI's per-file summary, refusals, `--strict` and EVE's gid/sid/rev.

use crate::common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use ferret::engine::ruleset::RuleSet;
use ferret::engine::swap::fingerprint;
use ferret::load;
use ferret::rules::suricata;
use ferret_synth::{frame, Scenario, SynthPacket};

fn compile(path: &str, text: &str) -> RuleSet {
    match load::compile_texts(vec![(path.into(), text.into())], &[]) {
        Ok(r) => r,
        Err(f) => panic!("rules did not compile:\n{}", f.problems.concat()),
    }
}

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// Pings A->B and replies, UDP payloads, a DNS query and its response, one second apart.
fn traffic() -> Vec<u8> {
    let frames = vec![
        frame::icmp_echo(A, B, false, 7, 1, b"hello world payload"),
        frame::icmp_echo(B, A, true, 7, 1, b"hello world payload"),
        frame::icmp_echo(A, B, false, 7, 2, b"hello world payload"),
        frame::icmp_echo(B, A, true, 7, 2, b"hello world payload"),
        frame::icmp_echo(A, B, false, 7, 3, b"hello world payload"),
        frame::udp(A, C, 4000, 9999, b"GET /x HTTP/1.0\r\nHost: evil\r\n"),
        frame::udp(A, C, 4000, 9999, b"xxGET /x\r\nHost: fine\r\n"),
        frame::udp(C, A, 9999, 4000, b"reply"),
        frame::udp(A, C, 5353, 53, &frame::dns_query(1, "www.Example.com", 1)),
        frame::udp(C, A, 53, 5353, &frame::dns_response(1, "www.Example.com", 1, &[(1, &[1, 2, 3, 4])])),
    ];
    let packets = frames
        .into_iter()
        .enumerate()
        .map(|(i, frame)| SynthPacket {
            ts_nanos: 1_700_000_000_000_000_000 + i as i64 * 1_000_000_000,
            link_type: 1,
            frame,
            tunnel: false,
            note: "",
        })
        .collect();
    let mut bytes = Vec::new();
    Scenario { name: "suricata", packets }.write_pcap(&mut bytes, true).unwrap();
    bytes
}

/// `(sid, packet)` of the alerts `rules` raise on [`traffic`], sorted.
fn alerts(rules: RuleSet) -> Vec<(u64, u64)> {
    let (alerts, _) = common::scan_bytes(Arc::new(rules), &traffic());
    let mut hits: Vec<(u64, u64)> = common::hits(&alerts).into_iter().map(|(p, s)| (s, p)).collect();
    hits.sort_unstable();
    hits
}

const RULES: &str = r#"# a Suricata rule file
alert ip any any -> any any (msg:"IP-only"; sid:1;)
alert icmp any any -> any any (msg:"echo"; itype:8; sid:2;)
alert icmp any any -> any any (itype:8; threshold: type limit, track by_src, count 2, seconds 60; sid:3;)
alert icmp any any -> any any (itype:8; threshold: type threshold, track by_src, count 2, seconds 60; sid:4;)
alert icmp any any -> any any (itype:8; threshold: type both, track by_dst, count 2, seconds 60; sid:5;)
alert icmp any any -> any any (itype:8; detection_filter: track by_rule, count 1, seconds 60; sid:6;)
alert udp any any -> any 9999 (msg:"GET then Host"; content:"GET "; depth:4; content:"Host|3a| "; distance:0; content:"evil"; within:10; nocase; sid:7; gid:3; rev:4;)
alert udp any any -> any any (content:"HOST"; nocase; pcre:"/^: (evil|fine)/R"; sid:8;)
alert dns any any -> any any (dns.query; content:"example.com"; nocase; endswith; bsize:15; sid:9;)
alert dns any any -> any any (dns.queries.rrname; content:"www."; startswith; sid:10;)
alert udp any any -> any any (dsize:5; flow:to_client; noalert; sid:11;)
alert icmp any any -> any any (itype:0; flow:to_client,established; sid:12;)
"#;

#[test]
fn suricata_semantics_on_known_traffic() {
    let got = alerts(compile("s.rules", RULES));
    let want = vec![
        // IP-only: the first packet of each direction of the ICMP, UDP 4000<->9999 and DNS flows.
        (1, 1),
        (1, 2),
        (1, 6),
        (1, 8),
        (1, 9),
        (1, 10),
        (2, 1),
        (2, 3),
        (2, 5),
        // limit 2: the first two requests of the window.
        (3, 1),
        (3, 3),
        // threshold 2: every second request.
        (4, 3),
        // both 2: the second request only.
        (5, 3),
        // detection_filter 1: from the second request on.
        (6, 3),
        (6, 5),
        (7, 6),
        (8, 6),
        (8, 7),
        // dns.query reads requests only; dns.queries.rrname both ways.
        (9, 9),
        (10, 9),
        (10, 10),
        // 11 matches packet 8 but is noalert; 12: replies, once both ways were seen.
        (12, 2),
        (12, 4),
    ];
    assert_eq!(got, want);
}

#[test]
fn packet_alert_max_keeps_the_most_severe_and_ignores_noalert() {
    let mut text = String::new();
    for sid in 1..=20 {
        let extra = match sid {
            3 => "noalert; ",
            18 => "priority:1; ",
            _ => "",
        };
        text.push_str(&format!("alert icmp any any -> any any (itype:8; {extra}sid:{sid};)\n"));
    }
    let mut engine = ferret::engine::Engine::new(Arc::new(compile("m.rules", &text)));
    engine.set_packet_alert_max(Some(15));
    let pkt_bytes = frame::icmp_echo(A, B, false, 1, 1, b"x");
    let pkt = ferret::decode::Packet::decode(1, &pkt_bytes, 1, 0, pkt_bytes.len() as u32);
    let mut sids = Vec::new();
    engine.process(&pkt, &mut |a| sids.push(a.rule().map_or(0, |r| r.sid)));
    let mut want: Vec<u64> = (1..=15).chain([18]).filter(|s| *s != 3).collect();
    want.sort_unstable();
    assert_eq!(sids, want, "15 alerts: the priority-1 rule, then load order; noalert takes no place");
}

#[test]
fn pass_silences_the_rest_of_the_flow() {
    let rules = "pass icmp any any -> any any (itype:0; sid:1;)\nalert icmp any any -> any any (sid:2; itype:8;)\n";
    // The first reply (packet 2) passes the flow: requests after it raise nothing.
    assert_eq!(alerts(compile("p.rules", rules)), vec![(2, 1)]);
}

#[test]
fn converted_rules_compile_to_the_same_matcher_and_alerts() {
    let parsed = suricata::parse(RULES);
    assert!(parsed.refused.is_empty());
    let native = suricata::convert::to_native(&parsed, "s.rules", RULES);
    assert!(!suricata::is_suricata(&native), "the converted text is native:\n{native}");
    let (from_suricata, from_native) = (compile("s.rules", RULES), compile("s.native.rules", &native));
    assert_eq!(from_suricata.rules().len(), from_native.rules().len());
    for (a, b) in from_suricata.rules().iter().zip(from_native.rules()) {
        assert_eq!(fingerprint(a), fingerprint(b), "rule {} compiles differently:\n{native}", a.sid);
        assert_eq!((a.gid, a.noalert, a.pass_flow, a.severity), (b.gid, b.noalert, b.pass_flow, b.severity));
    }
    assert_eq!(alerts(compile("s.rules", RULES)), alerts(compile("n.rules", &native)));
}

#[test]
fn check_sums_up_refusals_and_strict_refuses_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "alert ip any any -> any any (sid:1;)\nalert ip any any -> any any (msg:\"x\"; flowbits:set,a; sid:2;)\n";
    std::fs::write(dir.path().join("s.rules"), text).unwrap();
    std::fs::write(dir.path().join("n.rules"), "alert ip any any -> any any { id 3 }\n").unwrap();
    let out = common::run_ferret(&["check", "s.rules", "n.rules"], dir.path(), b"");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("s.rules: Suricata rules: 1 loaded, 1 refused"), "{stdout}");
    assert!(stdout.contains("ok: 2 rules compiled"), "{stdout}");
    assert!(stderr.contains("warning: rule refused: unsupported keyword 'flowbits'"), "{stderr}");
    assert!(stderr.contains("--> s.rules:2:39"), "{stderr}");
    let out = common::run_ferret(&["check", "--strict", "s.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: rule refused: unsupported keyword 'flowbits'"));
    let out = common::run_ferret(&["convert", "s.rules"], dir.path(), b"");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("# refused: s.rules:2:39: unsupported keyword 'flowbits'"), "{stdout}");
    assert!(stdout.contains("when      flow.first == true"), "{stdout}");
}

#[test]
fn eve_keeps_gid_sid_and_rev() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.rules"), RULES).unwrap();
    std::fs::write(dir.path().join("t.pcap"), traffic()).unwrap();
    let out = common::run_ferret(
        &["scan", "-q", "--no-summary", "-r", "s.rules", "--eve", "eve.json", "t.pcap"],
        dir.path(),
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let eve = std::fs::read_to_string(dir.path().join("eve.json")).unwrap();
    let alert = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["alert"]["signature_id"] == 7)
        .expect("rule 7 alerts");
    assert_eq!((alert["alert"]["gid"].as_u64(), alert["alert"]["rev"].as_u64()), (Some(3), Some(4)));
    assert_eq!(alert["pcap_cnt"].as_u64(), Some(6));
}
