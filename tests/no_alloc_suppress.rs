//! Suppressed alerts allocate nothing: with every alert of the default rules
//! dropped by a `suppress` entry, the rules still match and their state still
//! counts, and processing a packet performs zero heap allocations once state
//! for its keys exists. (A test binary of its own: the allocation counter is
//! global, and tests in one binary run in parallel.)

mod common;

use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::Engine;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations;

#[test]
fn suppressed_alerts_allocate_nothing() {
    // Every alert of every default rule suppressed by address: the rules match
    // and their state counts, but no alert is built.
    let defaults = common::default_rules();
    let mut yaml = String::from("suppress:\n");
    for rule in defaults.rules() {
        if rule.action == ferret::rules::ast::Action::Alert {
            yaml.push_str(&format!("  - {{id: {}, track: by_either, ip: [0.0.0.0/0, \"::/0\"]}}\n", rule.sid));
        }
    }
    let config = ferret::config::parse("t.yaml", &yaml, std::path::Path::new(".")).unwrap();
    let layers = ferret::config::layers(Some(&config), Vec::new(), &[]);
    let rules = ferret::load::load_configured(
        &[ferret::load::RuleSource::Defaults],
        &layers,
        Some(&config as &dyn ferret::load::ConfigCheck),
    )
    .unwrap();
    assert!(rules.warnings().is_empty(), "{:?}", rules.warnings());
    let mut bytes = Vec::new();
    ferret_synth::scenario::report_dns_icmp().write_pcap(&mut bytes, false).unwrap();
    let mut engine = Engine::new(std::sync::Arc::new(rules));
    let pass = |engine: &mut Engine| {
        let mut allocs = 0;
        for raw in PacketReader::new(&bytes).unwrap() {
            let raw = raw.unwrap();
            let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
            let keys_before: u64 = engine.table_stats().iter().map(|t| t.inserted).sum();
            let before = allocations();
            engine.process(&pkt, &mut |a| panic!("alert raised despite suppression: {}", a.rule().unwrap().sid));
            let after = allocations();
            // A packet that keys new state (the replay's echo sequence numbers
            // go back, so 7100014 keys pairs anew) may allocate for it.
            if engine.table_stats().iter().map(|t| t.inserted).sum::<u64>() == keys_before {
                allocs += after - before;
            }
        }
        allocs
    };
    pass(&mut engine);
    let suppressed = engine.stats().suppressed_alerts();
    assert!(suppressed > 10, "the capture should raise alerts: {suppressed}");
    assert_eq!(pass(&mut engine), 0, "allocations while suppressing alerts");
    assert!(engine.stats().suppressed_alerts() > suppressed);
}
