//! Packet builders: Ethernet frames with IPv4/IPv6, ICMP, UDP, TCP, ARP and DNS.
//!
//! Written by hand rather than through a packet library so that every byte is
//! under the test's control (identification, TTL, flags, padding) and every
//! checksum is computed here; etherparse is used only by the tests to check
//! the result. MAC addresses are derived from IP addresses so that captures
//! are deterministic and a host keeps one MAC across a scenario.

mod dns;
mod frag;
mod link;

pub use dns::{dns_query, dns_response, dns_tcp};
pub use frag::{fragment, fragments};
pub use link::{add_qinq, add_vlan, linktype, reframe};

use std::net::{Ipv4Addr, Ipv6Addr};

/// TCP flag bits for [`tcp`] and [`tcp_segment`].
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push buffered data to the application.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an 802.1ad (QinQ) service tag.
pub const ETHERTYPE_QINQ: u16 = 0x88a8;

/// TTL of frames built here (Linux and macOS default).
pub const DEFAULT_TTL: u8 = 64;

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const BROADCAST: [u8; 6] = [0xff; 6];
/// Largest transport segment that fits one IPv4 packet's 16-bit total length.
const MAX_V4_SEGMENT: usize = 65_535 - IPV4_LEN;
/// Largest transport segment that fits the IPv6 16-bit payload length.
const MAX_V6_SEGMENT: usize = 65_535;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// The MAC address used for an IPv4 host: locally administered `02:00:a:b:c:d`.
pub fn mac_v4(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x00, a, b, c, d]
}

/// The MAC address used for an IPv6 host: `02:06` then the address's last 4 bytes.
pub fn mac_v6(ip: Ipv6Addr) -> [u8; 6] {
    let o = ip.octets();
    let [a, b, c, d] = [o[12], o[13], o[14], o[15]];
    [0x02, 0x06, a, b, c, d]
}

/// Ethernet + IPv4 + ICMP echo request (or reply) with valid checksums.
pub fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, reply: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let icmp_type = if reply { 0 } else { 8 };
    let mut rest = [0u8; 4];
    rest[..2].copy_from_slice(&id.to_be_bytes());
    rest[2..].copy_from_slice(&seq.to_be_bytes());
    icmpv4(src, dst, icmp_type, 0, rest, payload)
}

/// Ethernet + IPv4 + ICMP error (`icmp_type` 3 unreachable, 11 time exceeded, ...)
/// quoting `quoted_ip_packet` (normally the offending IP header + 8 bytes, see [`quote`]).
pub fn icmp_error(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, code: u8, quoted_ip_packet: &[u8]) -> Vec<u8> {
    icmpv4(src, dst, icmp_type, code, [0; 4], quoted_ip_packet)
}

/// Ethernet + IPv4 + any ICMP message (`icmp_type`, `code`, the 4 bytes after
/// the checksum, then `payload`) with a valid checksum: timestamp (13),
/// information (15) or address mask (17) requests and their replies.
pub fn icmp_message(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    icmpv4(src, dst, icmp_type, code, rest, payload)
}

/// The part of an Ethernet frame an ICMP error quotes: the IP header plus the
/// first 8 bytes of what follows it (RFC 792). Empty if the frame holds no IPv4.
pub fn quote(eth_frame: &[u8]) -> Vec<u8> {
    let Some(ip) = eth_frame.get(ETH_LEN..) else {
        return Vec::new();
    };
    let header_len = ip.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if header_len < IPV4_LEN {
        return Vec::new();
    }
    let keep = (header_len + 8).min(ip.len());
    ip.get(..keep).map(<[u8]>::to_vec).unwrap_or_default()
}

/// The IP packet inside an Ethernet frame, cut to at most `max` bytes: what an
/// ICMP error quotes when the sender quotes more than RFC 792's minimum
/// (Linux quotes up to 548 bytes, filling a 576-byte error).
pub fn quote_up_to(eth_frame: &[u8], max: usize) -> Vec<u8> {
    let ip = eth_frame.get(ETH_LEN..).unwrap_or_default();
    ip.get(..max.min(ip.len())).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Ethernet + IPv6 + any ICMPv6 message (`icmp_type`, `code`, the 4 bytes after
/// the checksum, then `payload`), with a valid checksum: errors such as packet
/// too big (2, with the MTU in `rest`) quoting an offending packet.
pub fn icmpv6_message(src: Ipv6Addr, dst: Ipv6Addr, icmp_type: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..MAX_V6_SEGMENT - 8).unwrap_or(payload);
    let mut segment = Vec::with_capacity(8 + payload.len());
    segment.extend_from_slice(&[icmp_type, code, 0, 0]);
    segment.extend_from_slice(&rest);
    segment.extend_from_slice(payload);
    let sum = checksum(pseudo_v6(src, dst, PROTO_ICMPV6, segment.len()), &segment);
    set_u16(&mut segment, 2, sum);
    ipv6_frame(src, dst, PROTO_ICMPV6, &segment)
}

/// Ethernet + IPv6 + ICMPv6 echo request (128) or reply (129) with a valid checksum.
pub fn icmpv6_echo(src: Ipv6Addr, dst: Ipv6Addr, reply: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..MAX_V6_SEGMENT - 8).unwrap_or(payload);
    let mut segment = Vec::with_capacity(8 + payload.len());
    segment.push(if reply { 129 } else { 128 });
    segment.push(0);
    segment.extend_from_slice(&[0, 0]);
    segment.extend_from_slice(&id.to_be_bytes());
    segment.extend_from_slice(&seq.to_be_bytes());
    segment.extend_from_slice(payload);
    let sum = checksum(pseudo_v6(src, dst, PROTO_ICMPV6, segment.len()), &segment);
    set_u16(&mut segment, 2, sum);
    ipv6_frame(src, dst, PROTO_ICMPV6, &segment)
}

/// Ethernet + IPv4 + UDP with a valid checksum.
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..MAX_V4_SEGMENT - 8).unwrap_or(payload);
    let len = payload.len() + 8;
    let mut segment = Vec::with_capacity(len);
    segment.extend_from_slice(&sport.to_be_bytes());
    segment.extend_from_slice(&dport.to_be_bytes());
    segment.extend_from_slice(&u16_len(len).to_be_bytes());
    segment.extend_from_slice(&[0, 0]);
    segment.extend_from_slice(payload);
    let sum = match checksum(pseudo_v4(src, dst, PROTO_UDP, len), &segment) {
        0 => 0xffff, // RFC 768: a computed zero is sent as all ones
        sum => sum,
    };
    set_u16(&mut segment, 6, sum);
    ipv4_frame(src, dst, PROTO_UDP, DEFAULT_TTL, &segment)
}

/// Ethernet + IPv4 + TCP with acknowledgment number 0; see [`tcp_segment`].
pub fn tcp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, flags: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
    tcp_segment(src, dst, (sport, dport), flags, (seq, 0), payload)
}

/// Ethernet + IPv4 + TCP (20-byte header, window 64240) with a valid checksum.
/// `ports` is `(source, destination)`, `seq_ack` is `(sequence, acknowledgment)`.
pub fn tcp_segment(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ports: (u16, u16),
    flags: u8,
    seq_ack: (u32, u32),
    payload: &[u8],
) -> Vec<u8> {
    let payload = payload.get(..MAX_V4_SEGMENT - 20).unwrap_or(payload);
    let mut segment = Vec::with_capacity(20 + payload.len());
    segment.extend_from_slice(&ports.0.to_be_bytes());
    segment.extend_from_slice(&ports.1.to_be_bytes());
    segment.extend_from_slice(&seq_ack.0.to_be_bytes());
    segment.extend_from_slice(&seq_ack.1.to_be_bytes());
    segment.push(5 << 4); // data offset: 5 words, no options
    segment.push(flags);
    segment.extend_from_slice(&64_240u16.to_be_bytes());
    segment.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    segment.extend_from_slice(payload);
    let sum = checksum(pseudo_v4(src, dst, PROTO_TCP, segment.len()), &segment);
    set_u16(&mut segment, 16, sum);
    ipv4_frame(src, dst, PROTO_TCP, DEFAULT_TTL, &segment)
}

/// Broadcast ARP request "who has `target`? tell `sender`", padded to 60 bytes
/// as it appears on the wire.
pub fn arp_request(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    arp(1, (mac_v4(sender), sender), ([0; 6], target), BROADCAST)
}

/// Unicast ARP reply "`sender` is at its MAC" to `target`, padded to 60 bytes.
pub fn arp_reply(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let target_mac = mac_v4(target);
    arp(2, (mac_v4(sender), sender), (target_mac, target), target_mac)
}

/// A copy of an Ethernet/IPv4 frame with a new TTL and a recomputed header checksum
/// (unchanged copy if the frame holds no IPv4 header).
pub fn with_ttl(eth_frame: &[u8], ttl: u8) -> Vec<u8> {
    let mut frame = eth_frame.to_vec();
    if ethertype(&frame) != Some(ETHERTYPE_IPV4) || frame.len() < ETH_LEN + IPV4_LEN {
        return frame;
    }
    if let Some(byte) = frame.get_mut(ETH_LEN + 8) {
        *byte = ttl;
    }
    set_u16(&mut frame, ETH_LEN + 10, 0);
    let sum = frame.get(ETH_LEN..ETH_LEN + IPV4_LEN).map_or(0, |h| checksum(0, h));
    set_u16(&mut frame, ETH_LEN + 10, sum);
    frame
}

/// The EtherType of an untagged Ethernet frame.
fn ethertype(eth_frame: &[u8]) -> Option<u16> {
    let bytes = eth_frame.get(12..14)?;
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

fn icmpv4(src: Ipv4Addr, dst: Ipv4Addr, icmp_type: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let payload = payload.get(..MAX_V4_SEGMENT - 8).unwrap_or(payload);
    let mut segment = Vec::with_capacity(8 + payload.len());
    segment.extend_from_slice(&[icmp_type, code, 0, 0]);
    segment.extend_from_slice(&rest);
    segment.extend_from_slice(payload);
    let sum = checksum(0, &segment);
    set_u16(&mut segment, 2, sum);
    ipv4_frame(src, dst, PROTO_ICMP, DEFAULT_TTL, &segment)
}

fn arp(op: u16, sender: ([u8; 6], Ipv4Addr), target: ([u8; 6], Ipv4Addr), to: [u8; 6]) -> Vec<u8> {
    let mut body = Vec::with_capacity(46);
    body.extend_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    body.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    body.extend_from_slice(&[6, 4]);
    body.extend_from_slice(&op.to_be_bytes());
    body.extend_from_slice(&sender.0);
    body.extend_from_slice(&sender.1.octets());
    body.extend_from_slice(&target.0);
    body.extend_from_slice(&target.1.octets());
    body.resize(46, 0); // Ethernet minimum payload
    ethernet(to, sender.0, ETHERTYPE_ARP, &body)
}

/// Ethernet + IPv4 header (DF set, identification derived from the content) + `segment`.
fn ipv4_frame(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, ttl: u8, segment: &[u8]) -> Vec<u8> {
    let total = IPV4_LEN + segment.len();
    let mut header = [0u8; IPV4_LEN];
    header[0] = 0x45;
    header[2..4].copy_from_slice(&u16_len(total).to_be_bytes());
    header[4..6].copy_from_slice(&ip_id(src, dst, segment).to_be_bytes());
    header[6] = 0x40; // don't fragment
    header[8] = ttl;
    header[9] = proto;
    header[12..16].copy_from_slice(&src.octets());
    header[16..20].copy_from_slice(&dst.octets());
    let sum = checksum(0, &header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut frame = Vec::with_capacity(ETH_LEN + total);
    push_ethernet_header(&mut frame, mac_v4(dst), mac_v4(src), ETHERTYPE_IPV4);
    frame.extend_from_slice(&header);
    frame.extend_from_slice(segment);
    frame
}

fn ipv6_frame(src: Ipv6Addr, dst: Ipv6Addr, next: u8, segment: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ETH_LEN + IPV6_LEN + segment.len());
    push_ethernet_header(&mut frame, mac_v6(dst), mac_v6(src), ETHERTYPE_IPV6);
    frame.extend_from_slice(&[0x60, 0, 0, 0]); // version 6, no class, no flow label
    frame.extend_from_slice(&u16_len(segment.len()).to_be_bytes());
    frame.push(next);
    frame.push(DEFAULT_TTL);
    frame.extend_from_slice(&src.octets());
    frame.extend_from_slice(&dst.octets());
    frame.extend_from_slice(segment);
    frame
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(ETH_LEN + payload.len());
    push_ethernet_header(&mut frame, dst, src, ethertype);
    frame.extend_from_slice(payload);
    frame
}

fn push_ethernet_header(frame: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&ethertype.to_be_bytes());
}

/// A per-packet IPv4 identification: FNV-1a over addresses and content, so
/// equal packets get equal ids and different ones almost always differ.
fn ip_id(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in src.octets().iter().chain(&dst.octets()).chain(segment.iter().take(64)) {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (hash ^ (hash >> 16)) as u16
}

/// Sum of the IPv4 pseudo-header, to seed a TCP/UDP checksum.
fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = proto;
    pseudo[10..].copy_from_slice(&u16_len(len).to_be_bytes());
    sum_words(0, &pseudo)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, len: usize) -> u32 {
    let mut pseudo = [0u8; 40];
    pseudo[..16].copy_from_slice(&src.octets());
    pseudo[16..32].copy_from_slice(&dst.octets());
    pseudo[32..36].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    pseudo[39] = next;
    sum_words(0, &pseudo)
}

/// Internet checksum (RFC 1071) of `data`, starting from a partial sum.
fn checksum(initial: u32, data: &[u8]) -> u16 {
    let mut sum = sum_words(initial, data);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Adds `data` as big-endian 16-bit words (odd tail padded with zero), folding carries.
fn sum_words(initial: u32, data: &[u8]) -> u32 {
    let mut sum = u64::from(initial);
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        if let [hi, lo] = *word {
            sum += u64::from(u16::from_be_bytes([hi, lo]));
        }
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u32
}

fn set_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&value.to_be_bytes());
    }
}

fn u16_len(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use etherparse::{NetHeaders, PacketHeaders, TransportHeader};

    const A: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 4);
    const B: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 6);

    /// Parses an Ethernet frame with etherparse and asserts every checksum it carries.
    pub(crate) fn assert_valid(frame: &[u8]) {
        let headers = PacketHeaders::from_ethernet_slice(frame).expect("frame parses");
        assert_valid_headers(&headers);
    }

    /// Asserts the checksums of already parsed headers.
    pub(crate) fn assert_valid_headers(headers: &PacketHeaders<'_>) {
        let payload = headers.payload.slice();
        match (&headers.net, &headers.transport) {
            (Some(NetHeaders::Ipv4(ip, _)), transport) => {
                assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IPv4 checksum");
                match transport {
                    Some(TransportHeader::Icmpv4(icmp)) => {
                        assert_eq!(icmp.checksum, icmp.icmp_type.calc_checksum(payload));
                    }
                    Some(TransportHeader::Udp(udp)) => {
                        assert_eq!(udp.checksum, udp.calc_checksum_ipv4(ip, payload).unwrap());
                    }
                    Some(TransportHeader::Tcp(tcp)) => {
                        assert_eq!(tcp.checksum, tcp.calc_checksum_ipv4(ip, payload).unwrap());
                    }
                    other => panic!("unexpected transport {other:?}"),
                }
            }
            (Some(NetHeaders::Ipv6(ip, _)), Some(TransportHeader::Icmpv6(icmp))) => {
                let want = icmp.icmp_type.calc_checksum(ip.source, ip.destination, payload);
                assert_eq!(icmp.checksum, want.unwrap());
            }
            (Some(NetHeaders::Arp(_)), None) => {}
            other => panic!("unexpected headers {other:?}"),
        }
    }

    #[test]
    fn echo_request_bytes() {
        let frame = icmp_echo(A, B, false, 0x1234, 7, b"hi");
        assert_eq!(frame.len(), 14 + 20 + 8 + 2);
        assert_eq!(frame[..6], [0x02, 0, 192, 168, 1, 6]);
        assert_eq!(frame[6..12], [0x02, 0, 192, 168, 1, 4]);
        assert_eq!(frame[12..14], [0x08, 0x00]);
        assert_eq!(frame[14], 0x45);
        assert_eq!(frame[16..18], 30u16.to_be_bytes());
        assert_eq!(frame[22], 64);
        assert_eq!(frame[23], 1);
        assert_eq!(frame[34..36], [8, 0]);
        assert_eq!(frame[38..42], [0x12, 0x34, 0, 7]);
        assert_eq!(&frame[42..], b"hi");
        // A valid checksum makes the one's complement sum of the message all ones.
        assert_eq!(sum_words(0, &frame[34..]), 0xffff);
        assert_eq!(sum_words(0, &frame[14..34]), 0xffff);
        assert_valid(&frame);
    }

    #[test]
    fn echo_reply_and_odd_payload() {
        let frame = icmp_echo(B, A, true, 1, 1, &[0xab; 57]);
        assert_eq!(frame[34], 0);
        assert_valid(&frame);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example words: 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum_words(0, &data), 0xddf2);
        assert_eq!(checksum(0, &data), !0xddf2);
    }

    #[test]
    fn udp_tcp_icmpv6_checksums() {
        assert_valid(&udp(A, B, 40000, 53, b"\x12\x34query"));
        assert_valid(&udp(A, B, 1, 2, b""));
        assert_valid(&tcp(A, B, 50000, 80, flags::SYN, 1000, b""));
        let seg = tcp_segment(A, B, (50000, 80), flags::ACK | flags::PSH, (1, 2), b"GET /");
        assert_valid(&seg);
        assert_eq!(seg[34 + 8..34 + 12], 2u32.to_be_bytes());
        let v6a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let v6b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let frame = icmpv6_echo(v6a, v6b, false, 9, 3, &[1, 2, 3]);
        assert_eq!(frame[12..14], [0x86, 0xdd]);
        assert_eq!(frame[54], 128);
        assert_valid(&frame);
        assert_valid(&icmpv6_echo(v6b, v6a, true, 9, 3, &[1, 2, 3]));
    }

    #[test]
    fn icmp_error_quotes_the_probe() {
        let probe = with_ttl(&icmp_echo(A, B, false, 1, 1, &[0; 64]), 1);
        assert_eq!(probe[22], 1);
        assert_valid(&probe);
        let quoted = quote(&probe);
        assert_eq!(quoted.len(), 28);
        assert_eq!(quoted[..], probe[14..42]);
        let router = Ipv4Addr::new(192, 168, 1, 1);
        let err = icmp_error(router, A, 11, 0, &quoted);
        assert_eq!(err[34..36], [11, 0]);
        assert_eq!(err[42..], quoted[..]);
        assert_valid(&err);
        assert!(quote(&[0u8; 10]).is_empty());
        assert_eq!(with_ttl(&[1, 2, 3], 5), vec![1, 2, 3]);
    }

    #[test]
    fn arp_frames() {
        let req = arp_request(A, B);
        assert_eq!(req.len(), 60);
        assert_eq!(req[..6], [0xff; 6]);
        assert_eq!(req[12..14], [0x08, 0x06]);
        assert_eq!(req[20..22], [0, 1]);
        assert_eq!(req[28..32], [192, 168, 1, 4]);
        assert_eq!(req[38..42], [192, 168, 1, 6]);
        assert_valid(&req);
        let rep = arp_reply(B, A);
        assert_eq!(rep[20..22], [0, 2]);
        assert_eq!(rep[22..28], mac_v4(B));
        assert_valid(&rep);
    }

    #[test]
    fn oversized_payload_is_cut_to_fit() {
        let big = vec![0u8; 70_000];
        let frame = udp(A, B, 1, 2, &big);
        assert_eq!(frame.len(), 14 + 65_535);
        assert_valid(&frame);
    }
}
