//! A capture with a short snap length (issue 11, class 8): the frames are cut,
//! their lengths on the wire kept. ferret says how many packets were cut and
//! judges what it can see: sizes from the wire lengths, DNS names from the
//! labels kept, so the tunnels of the synthetic corpus are still caught, and
//! benign traffic stays quiet.

use crate::common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use common::{default_rules, scan_bytes, Format};
use ferret_synth::{scenario, Scenario};

/// tcpdump's old default, and what many sensors still use.
const SNAPLEN: u32 = 96;

/// Tunnels a 96-byte snap hides, and why: what tells them apart is at the
/// end of the name, which the snap cuts (54 bytes of DNS message are kept:
/// the header and about 40 characters of the name).
const LOST_WHEN_CUT: &[(&str, &str)] = &[
    (
        "allowlisted_suffix_dns_tunnel",
        "one of its two pairs sends short labels, counted per registered domain (7100102): the domain is cut off",
    ),
    ("reverse_name_dns_tunnel", "a reverse name is told by its in-addr.arpa end, which is cut off"),
    (
        "uuid_label_dns_tunnel",
        "UUID-shaped labels are told from data by counting them per registered domain, which is cut off",
    ),
];

fn snapped(s: &Scenario) -> Vec<u8> {
    let mut bytes = Vec::new();
    s.write_pcap_snapped(&mut bytes, SNAPLEN).unwrap();
    bytes
}

/// The host pairs (unordered) with an alert on a tunnel packet, and the count of alerts on other packets.
fn judge(s: &Scenario, bytes: &[u8]) -> (BTreeSet<(IpAddr, IpAddr)>, usize) {
    let tunnel: BTreeSet<u64> = s.tunnel_packet_numbers().into_iter().collect();
    let (alerts, _) = scan_bytes(default_rules(), bytes);
    let mut pairs = BTreeSet::new();
    let mut stray = 0;
    for a in &alerts {
        if tunnel.contains(&a.packet) {
            if let (Some(src), Some(dst)) = (a.src, a.dst) {
                pairs.insert((src.min(dst), src.max(dst)));
            }
        } else {
            stray += 1;
        }
    }
    (pairs, stray)
}

#[test]
fn a_short_snap_length_still_catches_every_tunnel_and_stays_quiet() {
    let scenarios: Vec<Scenario> = [
        vec![scenario::report_icmp(), scenario::report_dns_icmp()],
        scenario::evasions(),
        scenario::dns_evasions(),
        scenario::icmp_evasions(),
    ]
    .concat();
    let mut problems = Vec::new();
    println!("{:<36} {:>22} {:>22}", "scenario", "tunnel pairs (whole)", format!("(snap {SNAPLEN})"));
    for s in &scenarios {
        let (whole, _) = judge(s, &common::capture_bytes(s, Format::PcapMicros));
        let (cut, stray) = judge(s, &snapped(s));
        println!("{:<36} {:>22} {:>22}", s.name, whole.len(), cut.len());
        let lost = LOST_WHEN_CUT.iter().find(|(name, _)| *name == s.name);
        if !cut.is_subset(&whole) {
            problems.push(format!("{}: pairs {cut:?} flagged with a snap, not without", s.name));
        }
        match lost {
            None if cut != whole => {
                problems.push(format!("{}: tunnel pairs {whole:?} whole, {cut:?} with a {SNAPLEN}-byte snap", s.name))
            }
            Some(_) if cut == whole => problems.push(format!("{}: no longer lost: update LOST_WHEN_CUT", s.name)),
            _ => {}
        }
        if stray > 0 {
            problems.push(format!("{}: {stray} alerts on benign packets with a {SNAPLEN}-byte snap", s.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn cut_packets_are_counted_and_fields_say_so() {
    let s = scenario::report_dns_icmp();
    let longer = s.packets.iter().filter(|p| p.frame.len() > SNAPLEN as usize).count() as u64;
    assert!(longer > 10, "the scenario has long packets: {longer}");
    let bytes = snapped(&s);
    let (_, engine) = scan_bytes(default_rules(), &bytes);
    assert_eq!(engine.stats().snapped, longer);
    assert_eq!(engine.stats().snap_len, SNAPLEN);

    // pkt.snapped and payload.wire_len, against the whole capture's payload.len.
    let rules = common::rules(
        "alert ip any any -> any any {\n  id 1\n  msg \"{payload.len} {payload.wire_len}\"\n  when pkt.snapped\n}\n",
    );
    let (cut, _) = scan_bytes(rules.clone(), &bytes);
    assert_eq!(cut.len() as u64, longer);
    let whole_rule =
        common::rules("alert ip any any -> any any {\n  id 1\n  msg \"{payload.len}\"\n  when pkt.len > 96\n}\n");
    let (whole, _) = scan_bytes(whole_rule, &common::capture_bytes(&s, Format::PcapMicros));
    assert_eq!(whole.len(), cut.len());
    for (w, c) in whole.iter().zip(&cut) {
        let (kept, wire) = c.message.split_once(' ').unwrap();
        assert_eq!(wire, w.message, "payload.wire_len is the whole payload's length (packet {})", c.packet);
        assert!(kept.parse::<u64>().unwrap() < wire.parse::<u64>().unwrap());
    }
    let (quiet, _) = scan_bytes(rules, &common::capture_bytes(&s, Format::PcapMicros));
    assert!(quiet.is_empty(), "nothing is snapped in the whole capture");
}

#[test]
fn the_summary_warns_of_cut_packets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cut.pcap"), snapped(&scenario::report_dns_icmp())).unwrap();
    let out = common::run_ferret(&["scan", "-q", "cut.pcap"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("packets were cut by the capture's snap length (96 bytes kept at most)"), "{err}");
}
