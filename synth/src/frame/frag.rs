//! IP fragmentation of built frames: how a host splits a datagram larger
//! than its link's MTU (RFC 791 for IPv4, RFC 8200 §4.5 for IPv6, where a
//! Fragment header follows the fixed header), and single fragments at any
//! offset for overlap evasions.

use super::{checksum, set_u16, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETH_LEN, IPV4_LEN, IPV6_LEN};

/// The IPv6 Fragment header's protocol number.
const FRAGMENT_HEADER: u8 = 44;

/// The IP payload (after the IPv4 header, or after the fixed IPv6 header) of an Ethernet frame.
fn ip_payload(eth_frame: &[u8]) -> &[u8] {
    match eth_frame.get(12..14) {
        Some([0x08, 0x00]) => {
            let ihl = eth_frame.get(ETH_LEN).map_or(IPV4_LEN, |b| usize::from(b & 0x0f) * 4);
            eth_frame.get(ETH_LEN + ihl..).unwrap_or(&[])
        }
        _ => eth_frame.get(ETH_LEN + IPV6_LEN..).unwrap_or(&[]),
    }
}

/// Splits an Ethernet + IPv4 or IPv6 frame into fragments of at most `mtu`
/// bytes of IP packet each, as a host does: every fragment but the last
/// carries a multiple of 8 bytes; `id` is the datagram's identification
/// (16 bits used for IPv4). A frame that fits is returned as one fragment
/// anyway (offset 0, no more fragments), which only IPv6 can express.
pub fn fragments(eth_frame: &[u8], mtu: usize, id: u32) -> Vec<Vec<u8>> {
    let v4 = eth_frame.get(12..14) == Some(&ETHERTYPE_IPV4.to_be_bytes()[..]);
    let header = if v4 { IPV4_LEN } else { IPV6_LEN + 8 };
    let step = (mtu.saturating_sub(header) / 8).max(1) * 8;
    let payload = ip_payload(eth_frame);
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < payload.len() || offset == 0 {
        let end = (offset + step).min(payload.len());
        out.push(fragment(eth_frame, id, offset, payload.get(offset..end).unwrap_or(&[]), end < payload.len()));
        offset = end.max(offset + 1);
    }
    out
}

/// One fragment of the datagram in `eth_frame`: `data` at byte `offset` of
/// its IP payload, `more` set when fragments follow. The data need not be
/// the frame's own bytes (overlap evasions send different bytes twice).
pub fn fragment(eth_frame: &[u8], id: u32, offset: usize, data: &[u8], more: bool) -> Vec<u8> {
    let eth = eth_frame.get(..ETH_LEN).unwrap_or(&[]);
    let mut frame = eth.to_vec();
    if eth_frame.get(12..14) == Some(&ETHERTYPE_IPV4.to_be_bytes()[..]) {
        let mut header = eth_frame.get(ETH_LEN..ETH_LEN + IPV4_LEN).unwrap_or(&[0; IPV4_LEN]).to_vec();
        set_u16(&mut header, 2, (IPV4_LEN + data.len()) as u16);
        set_u16(&mut header, 4, id as u16);
        set_u16(&mut header, 6, (offset / 8) as u16 | if more { 0x2000 } else { 0 });
        set_u16(&mut header, 10, 0);
        let sum = checksum(0, &header);
        set_u16(&mut header, 10, sum);
        frame.extend_from_slice(&header);
    } else {
        debug_assert_eq!(eth_frame.get(12..14), Some(&ETHERTYPE_IPV6.to_be_bytes()[..]));
        let mut header = eth_frame.get(ETH_LEN..ETH_LEN + IPV6_LEN).unwrap_or(&[0; IPV6_LEN]).to_vec();
        let next = header.get(6).copied().unwrap_or(0);
        set_u16(&mut header, 4, (8 + data.len()) as u16);
        if let Some(b) = header.get_mut(6) {
            *b = FRAGMENT_HEADER;
        }
        frame.extend_from_slice(&header);
        frame.extend_from_slice(&[next, 0]);
        frame.extend_from_slice(&((offset as u16 & 0xfff8) | u16::from(more)).to_be_bytes());
        frame.extend_from_slice(&id.to_be_bytes());
    }
    frame.extend_from_slice(data);
    frame
}

#[cfg(test)]
mod tests {
    use super::super::{icmp_echo, icmpv6_echo};
    use super::*;

    #[test]
    fn fragments_cover_the_payload_in_8_byte_units() {
        let ping = icmp_echo([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), false, 1, 1, &[7; 2000]);
        let frags = fragments(&ping, 1500, 0x4242);
        assert_eq!(frags.len(), 2);
        let sliced = etherparse::SlicedPacket::from_ethernet(&frags[0]).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = sliced.net else { panic!("IPv4") };
        assert_eq!((ip.header().more_fragments(), ip.header().fragments_offset().value()), (true, 0));
        assert_eq!(ip.header().total_len(), 1500);
        assert_eq!(frags[1].len(), ETH_LEN + IPV4_LEN + 2008 - 1480);
        let ping6 = icmpv6_echo("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap(), false, 1, 1, &[7; 2000]);
        let frags = fragments(&ping6, 1280, 9);
        assert_eq!(frags.len(), 2);
        assert_eq!(frags[0].len(), ETH_LEN + 1280, "1,232 bytes of data fill the MTU: a multiple of 8");
    }
}
