//! Every compile-time check, pinned with its message and location: unknown
//! field (with a suggestion), wrong type, a field the protocol cannot have, a
//! bad regex, an undefined variable, a duplicate id; and all of a file's
//! errors are reported at once.

use ferret::load;

fn errors(text: &str) -> String {
    match load::compile_texts(vec![("t.rules".into(), text.into())], &[]) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(f) => f.problems.concat(),
    }
}

fn rule(proto: &str, id: u32, cond: &str) -> String {
    format!("alert {proto} any any -> any any {{\n    id {id}\n    when {cond}\n}}\n")
}

#[test]
fn unknown_field_suggests_the_closest() {
    let e = errors(&rule("icmp", 1, "payload.lenght > 5"));
    assert!(e.starts_with("error: unknown field 'payload.lenght'\n --> t.rules:3:10\n"), "{e}");
    assert!(e.contains("= help: did you mean 'payload.len'?"), "{e}");
}

#[test]
fn wrong_type_names_the_operator_and_the_type() {
    let e = errors(&rule("icmp", 1, "payload.len matches /x/"));
    assert!(e.starts_with("error: 'matches' cannot be used on payload.len (a number)\n --> t.rules:3:22\n"), "{e}");
    let e = errors(&rule("icmp", 1, "payload.len > \"big\""));
    assert!(e.contains("error: expected a number, found the string \"big\""), "{e}");
    let e = errors(&rule("icmp", 1, "payload.len"));
    assert!(e.contains("error: 'payload.len' is a number, not a condition"), "{e}");
}

#[test]
fn fields_the_protocol_cannot_have_are_refused() {
    let e = errors(&rule("icmp", 1, "dns.qname == \"x\""));
    assert!(e.starts_with("error: field 'dns.qname' is not available in icmp rules\n --> t.rules:3:10\n"), "{e}");
    let e = errors(&rule("dns", 1, "icmp.type == 8"));
    assert!(e.contains("field 'icmp.type' is not available in dns rules"), "{e}");
}

#[test]
fn bad_regexes_and_undefined_variables_are_located() {
    let e = errors(&rule("dns", 1, "dns.qname matches /a(/"));
    assert!(e.starts_with("error: bad regex: unclosed group\n --> t.rules:3:28\n"), "{e}");
    let e = errors(&rule("icmp", 1, "payload.len > $ICMP_MIN"));
    assert!(e.starts_with("error: undefined variable '$ICMP_MIN'\n --> t.rules:3:24\n"), "{e}");
}

#[test]
fn duplicate_ids_and_many_errors_at_once() {
    let text = format!(
        "{}{}{}",
        rule("icmp", 7, "true"),
        rule("icmp", 7, "payload.lenx > 1"),
        rule("dns", 8, "dns.qnme == \"a\"")
    );
    let e = errors(&text);
    assert!(e.contains("error: duplicate rule id 7"), "{e}");
    assert!(e.contains("first used at t.rules:2:8"), "{e}");
    assert!(e.contains("unknown field 'payload.lenx'"), "{e}");
    assert!(e.contains("unknown field 'dns.qnme'"), "{e}");
}
