//! Reading Suricata rules: the syntax check, what each keyword becomes, and
//! refusals that name the keyword at its place.

use super::*;
use crate::rules::ast::{Expr, FixedKind, RuleOption};
use crate::rules::span::locate;

fn only(text: &str) -> Rule {
    let f = parse(text);
    assert!(f.refused.is_empty(), "refused: {:?}", f.refused);
    match f.ast.items.as_slice() {
        [Item::Rule(r)] => r.clone(),
        other => panic!("expected one rule, got {other:?}"),
    }
}

fn when(rule: &Rule) -> String {
    rule.options
        .iter()
        .find_map(|o| if let RuleOption::When(e) = o { Some(e.to_string()) } else { None })
        .unwrap_or_default()
}

fn refusal(text: &str) -> (String, usize, usize) {
    let f = parse(text);
    assert!(f.ast.items.is_empty(), "loaded: {:?}", f.ast.items);
    let d = &f.refused[0];
    let (lc, _) = locate(text, d.span.start);
    (d.message.clone(), lc.line, lc.col)
}

#[test]
fn the_first_rule_decides_the_syntax() {
    assert!(is_suricata("# c\n\nalert ip any any -> any any (sid:1;)\n"));
    assert!(!is_suricata("alert ip any any -> any any { id 1 }\n"));
    assert!(!is_suricata("var X = 1\nalert ip any any -> any any { id 1 }"));
    assert!(!is_suricata("# only comments\n"));
    assert!(!is_suricata("alert ip any any -> any any { id 1 msg \"(x)\" }"));
}

#[test]
fn header_and_metadata_options() {
    let r = only(
        "drop udp [10.0.0.0/8,!10.1.0.0/16] [1024:,!2000] <> $HOME_NET 53 (msg:\"a {b}\"; sid:7; rev:3; gid:2; \
         classtype:trojan-activity; reference:url,example.com; metadata:x y; target:dest_ip; dsize:>10;)",
    );
    assert_eq!(r.action.node, Action::Alert);
    assert_eq!(r.direction.node, Direction::Both);
    assert_eq!(
        r.to_string().lines().next().unwrap(),
        "alert udp [10.0.0.0/8, !10.1.0.0/16] [1024:, !2000] <> $HOME_NET 53 {"
    );
    let text = r.to_string();
    for want in [
        "id        7",
        "rev       3",
        "gid       2",
        "msg       \"a {{b}}\"",
        "class     trojan-activity",
        "severity  critical",
        "reference \"url,example.com\"",
        "when      payload.len > 10",
    ] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }
}

#[test]
fn drop_is_noted_as_alert() {
    let f = parse("drop ip any any -> any any (sid:1;)");
    assert_eq!(f.notes.len(), 1);
    assert_eq!(f.notes[0].message, "'drop' loads as 'alert'");
}

#[test]
fn rules_with_no_packet_keyword_match_once_per_flow_direction() {
    assert_eq!(when(&only("alert tcp any any -> any 80 (msg:\"x\"; sid:1; noalert;)")), "flow.first == true");
    assert_eq!(when(&only("alert icmp any any -> any any (sid:1;)")), "ip.proto in [1, 58] and flow.first == true");
    assert_eq!(
        when(&only("alert icmp any any -> any any (itype:8; sid:1;)")),
        "ip.proto in [1, 58] and icmp.type == 8"
    );
    assert_eq!(when(&only("alert dns any any -> any any (sid:1;)")), "");
}

#[test]
fn numbers_take_suricatas_forms() {
    let w = |opt: &str| when(&only(&format!("alert ip any any -> any any ({opt}; sid:1;)")));
    assert_eq!(w("dsize:7<>20"), "payload.len > 7 and payload.len < 20");
    assert_eq!(w("dsize:!9"), "payload.len != 9 and payload.len > 0");
    assert_eq!(w("ttl:<=3"), "ip.ttl <= 3");
    assert_eq!(w("ip_proto:TCP"), "ip.proto == 6");
    assert_eq!(w("dns.rrtype:!2"), "dns.qtype != 2");
    assert_eq!(w("entropy:value >5.5"), "payload.entropy > 5.5");
    assert_eq!(w("flow:to_client,established"), "flow.to_server == false and flow.established == true");
}

#[test]
fn contents_group_by_buffer_with_their_modifiers() {
    let r = only(
        "alert dns any any -> any any (content:\"|00 01|A\"; offset:2; depth:5; content:!\"x\"; distance:0; within:4; \
         dns.query; content:\"ex\"; nocase; pcre:\"/le\\.com$/R\"; bsize:<30; sid:1;)",
    );
    assert_eq!(
        when(&r),
        "dns.is_response == false and dns.qname.len < 30 and payload has [\"\\x00\\x01A\" offset 2 depth 5, !\"x\" distance 0 within 4] \
         and dns.qname has [\"ex\" nocase, /le\\.com$/ relative]"
    );
}

#[test]
fn thresholds_become_fixed_windows() {
    let r =
        only("alert ip any any -> any any (ttl:1; threshold: type both, track by_dst, count 3, seconds 60; sid:1;)");
    let fixed = r.options.iter().find_map(|o| if let RuleOption::Fixed(f) = o { Some(f) } else { None }).unwrap();
    assert_eq!((fixed.kind.node, fixed.count.node, fixed.window.node), (FixedKind::Both, 3, 60_000_000_000));
    let r = only("pass ip 10.0.0.1 any -> any any (sid:2;)");
    assert!(r.options.iter().any(|o| matches!(o, RuleOption::Applies(_))));
}

#[test]
fn refusals_name_the_keyword_at_its_place() {
    let text = "alert ip any any -> any any (msg:\"x\";\n  http.uri; content:\"a\"; sid:1;)";
    let text = text.replace(";\n  ", "; ");
    assert_eq!(refusal(&text), ("unsupported keyword 'http.uri'".into(), 1, 39));
    assert_eq!(refusal("alert http any any -> any any (sid:1;)").0, "unsupported protocol 'http'");
    assert_eq!(refusal("alert ip any any -> any any (depth:3; sid:1;)").0, "depth needs a preceding content");
    assert!(refusal("alert ip any any -> any any (content:\"a\"; content:\"b\"; depth:5; within:3; sid:1;)")
        .0
        .contains("relative"));
    assert!(refusal("alert ip any any -> any any (content:\"a\"; within:3; within:3; sid:1;)")
        .0
        .contains("multiple withins"));
    assert_eq!(refusal("alert ip any any -> any any (content:\"a\";; sid:1;)").0, "unknown rule keyword ''");
    assert_eq!(refusal("alert ip any any -> any any (msg:\"x\";)").0, "rule has no sid");
    assert!(refusal("alert ip any any -> any any (content:\" \"; within:1048577; sid:1;)")
        .0
        .contains("invalid value for within"));
    assert!(refusal("alert ip any any -> any any (pcre:\"/a(?=b)/\"; sid:1;)").0.contains("look-around"));
    assert!(refusal("alert tcp any any -> any any (flow:established; sid:1;)").0.contains("session tracking"));
}

#[test]
fn one_refused_rule_leaves_the_others() {
    let f = parse("alert ip any any -> any any (sid:1;)\nalert ip any any -> any any (foo; sid:2;)\nalert ip any any -> any any (sid:3;)\n");
    assert_eq!((f.ast.items.len(), f.refused.len(), f.rule_count()), (2, 1, 3));
}

#[test]
fn the_native_text_parses_back_to_the_same_tree() {
    let text = "alert dns any any -> any any (msg:\"m\"; content:\"|ff 00|\"; startswith; content:\"b\"; endswith; \
                dns_query; content:\"x\"; pcre:\"/^y/iR\"; sid:9; rev:2; gid:3; noalert; \
                detection_filter: track by_rule, count 2, seconds 5;)";
    let f = parse(text);
    let native = convert::to_native(&f, "t.rules", text);
    let (back, diags) = crate::rules::parse::parse_rule_file(&native);
    assert!(diags.is_empty(), "{diags:?}\n{native}");
    let strip = |file: &RuleFile| file.to_string();
    assert_eq!(strip(&back), strip(&f.ast));
    let Some(Item::Rule(r)) = back.items.first() else { panic!() };
    assert!(matches!(
        r.options.iter().find(|o| matches!(o, RuleOption::When(_))),
        Some(RuleOption::When(Expr::And(..)))
    ));
}
