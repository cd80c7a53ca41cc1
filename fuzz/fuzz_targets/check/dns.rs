//! Fuzzes the DNS message decoder (`decode::dns`), over UDP and over TCP framing.
//!
//! Why: it runs on every port-53 packet, and the packets that matter most (tunnels, DNS
//! fuzzers, attacks on resolvers) are the malformed ones: compression loops, forward
//! pointers, over-long names. Besides "no panic", every accessor of a decoded message is
//! read and the invariants the rest of ferret relies on are asserted.

use ferret::decode::dns::{
    self, opcode_from_name, opcode_name, qtype_from_name, qtype_name, rcode_from_name, rcode_name, DnsMessage,
    MAX_NAME_LEN,
};

/// One input, as the fuzz target runs it: panics on a broken promise.
pub fn run(data: &[u8]) {
    if let Ok(msg) = dns::parse_message(data) {
        check(&msg, data);
    }
    if let Ok(msg) = dns::parse_tcp(data) {
        check(&msg, data);
    }
}

/// Reads every accessor of `msg` and asserts its invariants; `data` is what was parsed.
fn check(msg: &DnsMessage<'_>, data: &[u8]) {
    let header = (msg.id, msg.flags, msg.qdcount, msg.ancount, msg.nscount, msg.arcount);
    let flags = (msg.is_response(), msg.opcode(), msg.rcode(), msg.truncated(), msg.recursion_desired());
    std::hint::black_box((header, flags));
    assert!(msg.opcode() <= 15 && msg.rcode() <= 15, "opcode/rcode are nibbles");
    if let Some(name) = opcode_name(msg.opcode()) {
        assert_eq!(opcode_from_name(name), Some(msg.opcode()), "opcode name round trip");
    }
    if let Some(name) = rcode_name(msg.rcode()) {
        assert_eq!(rcode_from_name(name), Some(msg.rcode()), "rcode name round trip");
    }
    assert!(is_within(msg.raw, data), "raw is not a slice of the input");
    assert!(msg.raw.len() >= 12, "a decoded message has a whole header");
    assert_eq!(msg.question.is_some(), msg.qdcount > 0, "question present iff qdcount > 0");
    if let Some(q) = &msg.question {
        check_type_name(q.qtype);
        std::hint::black_box(q.qclass);
        check_name(&q.name);
    }
}

/// Asserts the invariants of a decoded name and renders it both ways.
fn check_name(name: &dns::DnsName) {
    let bytes = name.as_bytes();
    assert_eq!(bytes.len(), name.len());
    assert!(name.len() <= MAX_NAME_LEN, "name longer than the wire allows");
    assert_eq!(name.is_empty(), bytes.is_empty());
    assert_eq!(name.label_count() == 0, name.is_empty(), "labels iff bytes");
    assert!(name.max_label_len() <= 63, "label longer than 63 bytes");
    assert!(name.max_label_len() <= name.len());
    assert!(name.label_count() <= name.len().div_ceil(2) + 1);
    let shown = name.to_string();
    assert!(shown.is_ascii(), "Display must escape non-ASCII bytes");
    assert!(shown.len() >= name.len());
    std::hint::black_box(format!("{name:?}"));
}

/// A type with a mnemonic must read back from it.
fn check_type_name(t: u16) {
    if let Some(name) = qtype_name(t) {
        assert_eq!(qtype_from_name(name), Some(t), "qtype name round trip");
    }
    assert_eq!(qtype_from_name(&format!("TYPE{t}")), Some(t), "generic TYPEnnn form");
}

/// True when `part` lies inside `whole`.
fn is_within(part: &[u8], whole: &[u8]) -> bool {
    let whole = whole.as_ptr_range();
    let part = part.as_ptr_range();
    whole.start <= part.start && part.end <= whole.end
}
