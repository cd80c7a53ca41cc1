//! Every supported link type decodes: the tunnel packet alerts, nothing else
//! does, and there are no decode errors.

use crate::common;

use common::*;
use ferret_synth::scenario::link_types;

#[test]
fn each_link_type_decodes_and_alerts() {
    let all = link_types();
    assert_eq!(all.len(), 12);
    for (link_type, name, scenario) in all {
        for format in [Format::PcapMicros, Format::Pcapng] {
            let bytes = capture_bytes(&scenario, format);
            let (alerts, engine) = scan_bytes(default_rules(), &bytes);
            let stats = engine.stats();
            assert!(stats.errors_by_kind().is_empty(), "{name} ({link_type}): {:?}", stats.errors_by_kind());
            assert_eq!(
                alerts.iter().map(|a| a.packet).collect::<Vec<_>>(),
                scenario.tunnel_packet_numbers(),
                "{name} ({link_type}) {format:?}"
            );
        }
    }
}

#[test]
fn unsupported_link_types_are_counted_not_fatal() {
    let (_, _, scenario) = link_types().remove(1);
    let mut s = scenario.clone();
    for p in &mut s.packets {
        p.link_type = 147; // USER0
    }
    let (alerts, engine) = scan_bytes(default_rules(), &capture_bytes(&s, Format::PcapMicros));
    assert!(alerts.is_empty());
    assert_eq!(engine.stats().errors_by_kind(), vec![("unsupported_link_type", s.packets.len() as u64)]);
}
