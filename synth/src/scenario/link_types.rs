//! The same small tunnel capture under every link-layer header ferret reads.
//!
//! A reader that mis-sizes one link header silently misses every packet of
//! that capture; one short scenario per link type makes such a bug fail loudly.

use super::super::frame::{add_qinq, add_vlan, icmp_echo, icmpv6_echo, linktype, reframe};
use super::super::payload;
use super::super::{Scenario, SynthPacket};
use std::net::{Ipv4Addr, Ipv6Addr};

/// 2025-04-05 21:00:00 UTC.
const LINK_START: i64 = 1_743_886_800 * 1_000_000_000;

/// How a link-type scenario turns an Ethernet frame into its own framing.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// [`reframe`] to this LINKTYPE.
    Reframe(u32),
    /// Ethernet with one 802.1Q tag.
    Vlan,
    /// Ethernet with 802.1ad + 802.1Q tags.
    QinQ,
}

/// Every supported framing: (LINKTYPE, file-friendly name, framing).
const FRAMINGS: [(u32, &str, Framing); 12] = [
    (linktype::NULL, "null", Framing::Reframe(linktype::NULL)),
    (linktype::ETHERNET, "ethernet", Framing::Reframe(linktype::ETHERNET)),
    (linktype::ETHERNET, "ethernet-vlan", Framing::Vlan),
    (linktype::ETHERNET, "ethernet-qinq", Framing::QinQ),
    (linktype::BSD_RAW_12, "raw12", Framing::Reframe(linktype::BSD_RAW_12)),
    (linktype::BSD_RAW_14, "raw14", Framing::Reframe(linktype::BSD_RAW_14)),
    (linktype::RAW, "raw", Framing::Reframe(linktype::RAW)),
    (linktype::LOOP, "loop", Framing::Reframe(linktype::LOOP)),
    (linktype::LINUX_SLL, "linux-sll", Framing::Reframe(linktype::LINUX_SLL)),
    (linktype::IPV4, "ipv4", Framing::Reframe(linktype::IPV4)),
    (linktype::IPV6, "ipv6", Framing::Reframe(linktype::IPV6)),
    (linktype::LINUX_SLL2, "linux-sll2", Framing::Reframe(linktype::LINUX_SLL2)),
];

/// One scenario per supported link type (0, 1, 1+VLAN, 1+QinQ, 12, 14, 101,
/// 108, 113, 228, 229, 276) as `(link type, name, scenario)`. Each holds a
/// benign 56-byte Linux ping request and its reply, then an echo request with
/// 200 random bytes (`tunnel == true`, packet 3); IPv4 everywhere except
/// 229, which uses ICMPv6 echo.
pub fn link_types() -> Vec<(u32, &'static str, Scenario)> {
    FRAMINGS
        .iter()
        .map(|&(link_type, name, framing)| {
            let v6 = link_type == linktype::IPV6;
            let packets = base_frames(v6)
                .into_iter()
                .zip(0i64..)
                .filter_map(|((frame, tunnel, note), i)| {
                    let frame = apply(framing, &frame)?;
                    let ts_nanos = LINK_START + i * 700_000;
                    Some(SynthPacket { ts_nanos, link_type, frame, tunnel, note })
                })
                .collect();
            (link_type, name, Scenario { name, packets })
        })
        .collect()
}

fn apply(framing: Framing, eth_frame: &[u8]) -> Option<Vec<u8>> {
    match framing {
        Framing::Reframe(link_type) => reframe(eth_frame, link_type),
        Framing::Vlan => Some(add_vlan(eth_frame, 100)),
        Framing::QinQ => Some(add_qinq(eth_frame, 200, 100)),
    }
}

/// The three Ethernet frames every link-type scenario carries.
fn base_frames(v6: bool) -> [(Vec<u8>, bool, &'static str); 3] {
    let ping = payload::linux_ping(56, LINK_START - 20_000);
    let secret = payload::random(200, 0x11_4e);
    if v6 {
        let a = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 4);
        let b = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 6);
        [
            (icmpv6_echo(a, b, false, 0x0101, 1, &ping), false, "linux ping6 request"),
            (icmpv6_echo(b, a, true, 0x0101, 1, &ping), false, "linux ping6 reply"),
            (icmpv6_echo(a, b, false, 0x4d21, 1, &secret), true, "icmpv6 tunnel request"),
        ]
    } else {
        let a = Ipv4Addr::new(192, 168, 1, 4);
        let b = Ipv4Addr::new(192, 168, 1, 6);
        [
            (icmp_echo(a, b, false, 0x0101, 1, &ping), false, "linux ping request"),
            (icmp_echo(b, a, true, 0x0101, 1, &ping), false, "linux ping reply"),
            (icmp_echo(a, b, false, 0x4d21, 1, &secret), true, "icmp tunnel request"),
        ]
    }
}
