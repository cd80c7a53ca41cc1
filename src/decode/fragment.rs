//! IP fragments: what the engine's reassembler needs from one fragment.
//!
//! Read only for packets etherparse found fragmented (an IPv4 offset or MF
//! bit, an IPv6 Fragment header with an offset or the M bit), so other
//! packets pay nothing. Borrowed from the frame; nothing allocates.

/// One IPv4 or IPv6 fragment, borrowed from its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The part every fragment repeats: the IPv4 header with its options, or
    /// the IPv6 header with the extension headers before the Fragment header.
    pub header: &'a [u8],
    /// IPv6: the index in `header` of the byte naming the Fragment header
    /// (6 for the fixed header, else the first byte of the last extension
    /// header); unused for IPv4.
    pub next_header_at: usize,
    /// The protocol of the reassembled payload (IPv4 protocol; IPv6: the
    /// Fragment header's next header).
    pub proto: u8,
    /// Identification (IPv4: 16 bits; IPv6: 32 bits).
    pub id: u32,
    /// Where `data` starts in the reassembled payload, in bytes.
    pub offset: u32,
    /// More fragments follow (MF / M flag).
    pub more: bool,
    /// This fragment's part of the payload.
    pub data: &'a [u8],
}

const IPV6_HEADER: usize = 40;
const IPV6_FRAGMENT: u8 = 44;

/// Reads the fragment of the IPv4 or IPv6 packet starting at `ip`, or `None`
/// when its headers do not hold one (the caller already saw a fragment, so
/// `None` means malformed).
pub fn parse(ip: &[u8]) -> Option<Fragment<'_>> {
    match ip.first()? >> 4 {
        4 => parse_v4(ip),
        6 => parse_v6(ip),
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn parse_v4(ip: &[u8]) -> Option<Fragment<'_>> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(be16(ip, 2)?);
    let flags_offset = be16(ip, 6)?;
    if ihl < 20 || total < ihl {
        return None;
    }
    let header = ip.get(..ihl)?;
    let data = ip.get(ihl..total.min(ip.len()))?;
    Some(Fragment {
        header,
        next_header_at: 9,
        proto: *ip.get(9)?,
        id: u32::from(be16(ip, 4)?),
        offset: u32::from(flags_offset & 0x1fff) * 8,
        more: flags_offset & 0x2000 != 0,
        data,
    })
}

fn parse_v6(ip: &[u8]) -> Option<Fragment<'_>> {
    let end = (IPV6_HEADER + usize::from(be16(ip, 4)?)).min(ip.len());
    let mut next = *ip.get(6)?;
    let mut next_at = 6;
    let mut at = IPV6_HEADER;
    // Hop-by-hop, routing and destination options may come before the
    // Fragment header (RFC 8200 §4.1); they belong to the unfragmentable part.
    while next != IPV6_FRAGMENT {
        if !matches!(next, 0 | 43 | 60) {
            return None;
        }
        let len = (usize::from(*ip.get(at + 1)?) + 1) * 8;
        next = *ip.get(at)?;
        next_at = at;
        at += len;
    }
    let frag = ip.get(at..at + 8)?;
    let flags_offset = be16(frag, 2)?;
    Some(Fragment {
        header: ip.get(..at)?,
        next_header_at: next_at,
        proto: *frag.first()?,
        id: u32::from_be_bytes([*frag.get(4)?, *frag.get(5)?, *frag.get(6)?, *frag.get(7)?]),
        offset: u32::from(flags_offset & 0xfff8),
        more: flags_offset & 1 != 0,
        data: ip.get(at + 8..end.max(at + 8))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_fragment_fields() {
        let mut ip = vec![0x45, 0, 0, 28, 0x12, 0x34, 0x20, 0x03, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.extend_from_slice(&[7; 8]);
        ip.extend_from_slice(&[0xee; 4]); // Ethernet padding, beyond the total length
        let f = parse(&ip).unwrap();
        assert_eq!((f.header.len(), f.proto, f.id, f.offset, f.more), (20, 1, 0x1234, 24, true));
        assert_eq!(f.data, &[7; 8]);
    }

    #[test]
    fn ipv6_fragment_after_extension_headers() {
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        ip.extend_from_slice(&[0; 32]);
        // Hop-by-hop (8 bytes) then destination options (16 bytes) then Fragment.
        ip.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        ip.extend_from_slice(&[44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ip.extend_from_slice(&[58, 0, 0x05, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        ip.extend_from_slice(&[9; 16]);
        let payload_len = (ip.len() - 40) as u16;
        ip[4..6].copy_from_slice(&payload_len.to_be_bytes());
        let f = parse(&ip).unwrap();
        assert_eq!(f.header.len(), 40 + 8 + 16);
        assert_eq!(f.next_header_at, 48, "the destination options header names the Fragment header");
        assert_eq!((f.proto, f.id, f.offset, f.more), (58, 0xdead_beef, 0x0500, true));
        assert_eq!(f.data, &[9; 16]);
    }

    #[test]
    fn malformed_headers_are_none() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x45, 0, 0, 10]), None);
        // IPv6 whose chain reaches an upper layer before any Fragment header.
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 17, 64];
        ip.extend_from_slice(&[0; 32]);
        assert_eq!(parse(&ip), None);
    }
}
