//! Content rules (Suricata's `content`/`pcre`, loaded from a Suricata file) on
//! the hot path: matching a packet that raises no alert allocates nothing,
//! whether the content search succeeds part-way, retries earlier occurrences,
//! runs a relative regex, or the rule only reads the flow table (IP-only rules).

mod common;

use std::sync::Arc;

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::Engine;
use ferret::load;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

/// Rules that search every payload and every DNS name of the office traffic without matching.
const RULES: &str = r#"
alert ip any any -> any any (msg:"nocase, relative, negated"; content:"a"; nocase; content:"zq"; distance:0; within:9; content:!"q"; distance:0; sid:1;)
alert udp any any -> any any (msg:"absolute window"; content:"|00 00|"; offset:2; depth:30; content:"zzzz"; distance:1; sid:2;)
alert dns any any -> any any (msg:"name and regex"; dns.query; content:"."; pcre:"/^qqq[0-9]+$/R"; sid:3;)
alert ip any any -> any any (msg:"payload regex"; pcre:"/\x00{40}zz/s"; sid:4;)
alert tcp any any -> any 9 (msg:"IP-only, reads the flow table"; sid:5;)
"#;

#[test]
fn quiet_packets_with_content_rules_allocate_nothing() {
    let rules = load::compile_texts(vec![("content.rules".into(), RULES.into())], &[]).expect("rules load");
    assert!(rules.warnings().is_empty(), "{:?}", rules.warnings());
    let mut bytes = Vec::new();
    ferret_synth::scenario::office(3000, 9).write_pcap(&mut bytes, false).unwrap();
    let mut engine = Engine::new(Arc::new(rules));
    // Warm-up: flows meet their keys.
    for raw in PacketReader::new(&bytes).unwrap() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| {});
    }
    let (mut quiet, mut allocs) = (0u64, 0u64);
    for raw in PacketReader::new(&bytes).unwrap() {
        let before = allocations();
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
        let mut alerted = false;
        engine.process(&pkt, &mut |_| alerted = true);
        if !alerted {
            quiet += 1;
            allocs += allocations() - before;
        }
    }
    assert!(quiet > 2500, "the capture should be quiet for these rules: {quiet}");
    assert_eq!(allocs, 0, "allocations while matching {quiet} quiet packets");
}
