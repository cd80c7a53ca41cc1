//! Re-framing Ethernet frames for other link types, and VLAN tagging.
//!
//! Captures come from loopback devices, Linux "any" interfaces, tunnels and
//! trunk ports, each with its own link-layer header; the reader must find the
//! IP packet behind every one of them, so the same packet is offered here
//! under each header ferret supports.

use super::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN};

/// LINKTYPE_* values (pcap link-layer header types) that [`reframe`] produces.
pub use ferret::capture::linktype;

/// AF_INET, the same on every BSD and Linux.
const AF_INET: u32 = 2;
/// AF_INET6 as written in NULL/LOOP headers here: 24, the NetBSD/OpenBSD value
/// (FreeBSD writes 28 and macOS 30; readers should accept all three).
const AF_INET6: u32 = 24;
/// ARPHRD_ETHER, the hardware type of an Ethernet device in SLL headers.
const ARPHRD_ETHER: u16 = 1;
/// SLL packet type "sent to us" (LINUX_SLL_HOST).
const SLL_HOST: u16 = 0;
/// Interface index written in SLL2 headers.
const SLL2_IFINDEX: u32 = 2;
/// Ethertype of the legacy 0x9100 QinQ outer tag, skipped like the others.
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Re-frames an Ethernet frame's content (from the EtherType on, VLAN tags
/// skipped) for `link_type`:
///
/// * 0 NULL: AF as a little-endian `u32` (AF_INET 2, AF_INET6 24), then IP;
/// * 108 LOOP: AF as a big-endian `u32` (same values), then IP;
/// * 12, 14, 101 raw IP; 228 IPv4 only; 229 IPv6 only;
/// * 113 Linux SLL: packet type 0 (to us), ARPHRD_ETHER, the source MAC, EtherType;
/// * 276 Linux SLL2: EtherType, reserved, ifindex 2, ARPHRD_ETHER, packet type 0, MAC;
/// * 1 Ethernet: an unchanged copy (see [`add_vlan`] and [`add_qinq`] for tags).
///
/// `None` if the frame is shorter than an Ethernet header, or if the link type
/// cannot carry its protocol (ARP over raw IP, IPv6 over 228, unknown types).
pub fn reframe(eth_frame: &[u8], link_type: u32) -> Option<Vec<u8>> {
    let source_mac = eth_frame.get(6..12)?;
    let (ethertype, payload) = inner_ethertype(eth_frame)?;
    let family = match ethertype {
        ETHERTYPE_IPV4 => Some(AF_INET),
        ETHERTYPE_IPV6 => Some(AF_INET6),
        _ => None,
    };
    let mut out = Vec::with_capacity(payload.len() + 20);
    match link_type {
        linktype::ETHERNET => return Some(eth_frame.to_vec()),
        linktype::NULL => out.extend_from_slice(&family?.to_le_bytes()),
        linktype::LOOP => out.extend_from_slice(&family?.to_be_bytes()),
        linktype::BSD_RAW_12 | linktype::BSD_RAW_14 | linktype::RAW => {
            family?;
        }
        linktype::IPV4 if ethertype == ETHERTYPE_IPV4 => {}
        linktype::IPV6 if ethertype == ETHERTYPE_IPV6 => {}
        linktype::LINUX_SLL => push_sll(&mut out, source_mac, ethertype),
        linktype::LINUX_SLL2 => push_sll2(&mut out, source_mac, ethertype),
        _ => return None,
    }
    out.extend_from_slice(payload);
    Some(out)
}

/// Inserts one 802.1Q tag (priority 0, VLAN `vid & 0xfff`) after the MAC
/// addresses; frames shorter than 12 bytes are returned unchanged.
pub fn add_vlan(eth_frame: &[u8], vid: u16) -> Vec<u8> {
    insert_tags(eth_frame, &[(ETHERTYPE_VLAN, vid)])
}

/// Inserts an 802.1ad service tag (0x88a8, VLAN `outer`) and an 802.1Q
/// customer tag (0x8100, VLAN `inner`); short frames are returned unchanged.
pub fn add_qinq(eth_frame: &[u8], outer: u16, inner: u16) -> Vec<u8> {
    insert_tags(eth_frame, &[(ETHERTYPE_QINQ, outer), (ETHERTYPE_VLAN, inner)])
}

fn insert_tags(eth_frame: &[u8], tags: &[(u16, u16)]) -> Vec<u8> {
    let Some((macs, rest)) = eth_frame.split_at_checked(12) else {
        return eth_frame.to_vec();
    };
    let mut out = Vec::with_capacity(eth_frame.len() + 4 * tags.len());
    out.extend_from_slice(macs);
    for &(tpid, vid) in tags {
        out.extend_from_slice(&tpid.to_be_bytes());
        out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    }
    out.extend_from_slice(rest);
    out
}

/// The EtherType behind any VLAN tags, and the bytes after it.
fn inner_ethertype(eth_frame: &[u8]) -> Option<(u16, &[u8])> {
    let mut rest = eth_frame.get(12..)?;
    loop {
        let (type_bytes, after) = rest.split_at_checked(2)?;
        let ethertype = u16::from_be_bytes(type_bytes.try_into().ok()?);
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => rest = after.get(2..)?,
            _ => return Some((ethertype, after)),
        }
    }
}

fn push_sll(out: &mut Vec<u8>, mac: &[u8], ethertype: u16) {
    out.extend_from_slice(&SLL_HOST.to_be_bytes());
    out.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
    out.extend_from_slice(&6u16.to_be_bytes());
    push_padded_mac(out, mac);
    out.extend_from_slice(&ethertype.to_be_bytes());
}

fn push_sll2(out: &mut Vec<u8>, mac: &[u8], ethertype: u16) {
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&SLL2_IFINDEX.to_be_bytes());
    out.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
    out.push(SLL_HOST as u8);
    out.push(6);
    push_padded_mac(out, mac);
}

/// The 8-byte address field of SLL headers: the MAC and two zero bytes.
fn push_padded_mac(out: &mut Vec<u8>, mac: &[u8]) {
    let mut field = [0u8; 8];
    for (dst, &src) in field.iter_mut().zip(mac) {
        *dst = src;
    }
    out.extend_from_slice(&field);
}

#[cfg(test)]
mod tests {
    use super::super::{arp_request, icmp_echo, icmpv6_echo, mac_v4, tests::assert_valid};
    use super::*;
    use etherparse::{LinkSlice, NetSlice, SlicedPacket};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn v4_frame() -> Vec<u8> {
        icmp_echo(A, B, false, 1, 2, &[7; 40])
    }

    fn v6_frame() -> Vec<u8> {
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        let b: Ipv6Addr = "fe80::2".parse().unwrap();
        icmpv6_echo(a, b, false, 1, 2, &[7; 40])
    }

    fn assert_ip_parses(ip: &[u8], v6: bool) {
        let sliced = SlicedPacket::from_ip(ip).unwrap();
        match sliced.net {
            Some(NetSlice::Ipv4(_)) => assert!(!v6),
            Some(NetSlice::Ipv6(_)) => assert!(v6),
            other => panic!("unexpected {other:?}"),
        }
        assert!(sliced.transport.is_some());
    }

    #[test]
    fn null_and_loop_families() {
        let v4 = v4_frame();
        let v6 = v6_frame();
        let null4 = reframe(&v4, linktype::NULL).unwrap();
        assert_eq!(null4[..4], [2, 0, 0, 0]);
        assert_eq!(null4[4..], v4[14..]);
        let null6 = reframe(&v6, linktype::NULL).unwrap();
        assert_eq!(null6[..4], [24, 0, 0, 0]);
        assert_ip_parses(&null6[4..], true);
        let loop4 = reframe(&v4, linktype::LOOP).unwrap();
        assert_eq!(loop4[..4], [0, 0, 0, 2]);
        assert_ip_parses(&loop4[4..], false);
        let loop6 = reframe(&v6, linktype::LOOP).unwrap();
        assert_eq!(loop6[..4], [0, 0, 0, 24]);
    }

    #[test]
    fn raw_ip_types() {
        let v4 = v4_frame();
        let v6 = v6_frame();
        for lt in [linktype::BSD_RAW_12, linktype::BSD_RAW_14, linktype::RAW] {
            assert_eq!(reframe(&v4, lt).unwrap(), v4[14..]);
            assert_ip_parses(&reframe(&v6, lt).unwrap(), true);
        }
        assert_eq!(reframe(&v4, linktype::IPV4).unwrap(), v4[14..]);
        assert!(reframe(&v6, linktype::IPV4).is_none());
        assert_eq!(reframe(&v6, linktype::IPV6).unwrap(), v6[14..]);
        assert!(reframe(&v4, linktype::IPV6).is_none());
        let arp = arp_request(A, B);
        assert!(reframe(&arp, linktype::RAW).is_none());
        assert!(reframe(&arp, linktype::NULL).is_none());
        assert!(reframe(&v4, 9999).is_none());
        assert!(reframe(&v4[..13], linktype::RAW).is_none());
        assert_eq!(reframe(&v4, linktype::ETHERNET).unwrap(), v4);
    }

    #[test]
    fn linux_sll_parses_with_etherparse() {
        let v4 = v4_frame();
        let sll = reframe(&v4, linktype::LINUX_SLL).unwrap();
        assert_eq!(sll.len(), 16 + v4.len() - 14);
        let sliced = SlicedPacket::from_linux_sll(&sll).unwrap();
        match sliced.link {
            Some(LinkSlice::LinuxSll(h)) => {
                assert_eq!(h.sender_address_valid_length(), 6);
                assert_eq!(h.sender_address()[..6], mac_v4(A));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(sliced.net, Some(NetSlice::Ipv4(_))));
        let arp = reframe(&arp_request(A, B), linktype::LINUX_SLL).unwrap();
        assert_eq!(arp[14..16], [0x08, 0x06]);
    }

    #[test]
    fn linux_sll2_layout() {
        let v6 = v6_frame();
        let sll2 = reframe(&v6, linktype::LINUX_SLL2).unwrap();
        assert_eq!(sll2[..2], [0x86, 0xdd]);
        assert_eq!(sll2[2..4], [0, 0]);
        assert_eq!(sll2[4..8], 2u32.to_be_bytes());
        assert_eq!(sll2[8..10], [0, 1]);
        assert_eq!(sll2[10], 0);
        assert_eq!(sll2[11], 6);
        assert_eq!(sll2[12..18], v6[6..12]);
        assert_eq!(sll2[18..20], [0, 0]);
        assert_ip_parses(&sll2[20..], true);
    }

    #[test]
    fn vlan_and_qinq_tags() {
        let v4 = v4_frame();
        let tagged = add_vlan(&v4, 0x1064);
        assert_eq!(tagged.len(), v4.len() + 4);
        assert_eq!(tagged[12..16], [0x81, 0x00, 0x00, 0x64]);
        let sliced = SlicedPacket::from_ethernet(&tagged).unwrap();
        assert_eq!(sliced.link_exts.len(), 1);
        assert!(matches!(sliced.net, Some(NetSlice::Ipv4(_))));
        let double = add_qinq(&v4, 200, 100);
        assert_eq!(double[12..20], [0x88, 0xa8, 0, 200, 0x81, 0x00, 0, 100]);
        let sliced = SlicedPacket::from_ethernet(&double).unwrap();
        assert_eq!(sliced.link_exts.len(), 2);
        assert!(matches!(sliced.net, Some(NetSlice::Ipv4(_))));
        // Tags are looked through when re-framing.
        assert_eq!(reframe(&double, linktype::RAW).unwrap(), v4[14..]);
        assert_eq!(add_vlan(&[1, 2, 3], 5), vec![1, 2, 3]);
        assert_valid(&v4);
    }
}
