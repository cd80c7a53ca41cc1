//! Decoding: from a captured frame to a borrowed [`Packet`] view.
//!
//! Decoding never fails: a packet is decoded as far as it goes, the layers that
//! could be read are filled in, and the first problem is recorded as a
//! [`DecodeError`] for the statistics. Everything here borrows from the capture
//! buffer; nothing allocates. Frames go through etherparse's lax slicer,
//! except the common case (see `Packet::fill_common`), read by hand with
//! etherparse's per-layer transport slicers: the same result without
//! building and moving etherparse's large `LaxSlicedPacket`. Expensive features (entropy, DNS, the Public
//! Suffix lookup, payload patterns from [`pattern`] and name alphabets from
//! [`alphabet`]) are not computed here but on demand in [`features`].

pub mod alphabet;
pub mod dns;
pub mod entropy;
pub mod features;
pub mod fragment;
mod link;
pub(crate) use link::is_raw_ip;
pub mod name_shape;
pub mod pattern;

use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// Layer-4 protocol of a decoded packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// No transport layer was decoded (ARP, fragments, unknown protocols, errors).
    None,
    /// TCP with its ports, flags byte and sequence number.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// The flags byte (FIN=0x01 ... CWR=0x80).
        flags: u8,
        /// The sequence number (what DNS-over-TCP reassembly follows).
        seq: u32,
    },
    /// UDP with its ports.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// ICMPv4; `id` and `seq` are set for echo request and reply only.
    Icmp(IcmpHeader),
    /// ICMPv6; `id` and `seq` are set for echo request and reply only.
    Icmp6(IcmpHeader),
}

/// The fixed part of an ICMP or ICMPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpHeader {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Echo identifier (echo request/reply only).
    pub id: Option<u16>,
    /// Echo sequence number (echo request/reply only).
    pub seq: Option<u16>,
}

impl IcmpHeader {
    /// True for echo request or echo reply (ICMPv4 types 8/0, ICMPv6 128/129).
    pub fn is_echo(&self) -> bool {
        self.id.is_some()
    }
}

/// The network layer of a decoded packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Nothing recognisable above the link layer.
    None,
    /// An ARP packet.
    Arp {
        /// Operation (1 request, 2 reply).
        op: u16,
    },
    /// IPv4 or IPv6.
    Ip(IpInfo),
}

/// IP header facts rules can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Total length from the header (IPv6: payload length + 40).
    pub total_len: u32,
    /// Protocol number of the payload (IPv6: after extension headers).
    pub proto: u8,
    /// IPv4 identification (`None` for IPv6).
    pub id: Option<u16>,
    /// The payload is a fragment (transport not decoded).
    pub fragmented: bool,
}

/// Why a packet could not be decoded completely. Counted, never logged per packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecodeError {
    /// The capture's link type is not one ferret decodes.
    UnsupportedLinkType,
    /// The link-layer header was cut short.
    TruncatedLink,
    /// The link layer carries a protocol other than IPv4, IPv6 or ARP.
    UnsupportedEtherType,
    /// The IP header was malformed or cut short.
    MalformedIp,
    /// An IPv6 extension header was malformed.
    MalformedIpv6Extension,
    /// The transport header was cut short.
    TruncatedTransport,
    /// An IP fragment (the transport layer is not reassembled).
    IpFragment,
    /// The ARP packet was malformed.
    MalformedArp,
    /// The captured bytes are fewer than the packet had on the wire.
    Snapped,
}

impl DecodeError {
    /// Every kind, for statistics tables.
    pub const ALL: [DecodeError; 9] = [
        DecodeError::UnsupportedLinkType,
        DecodeError::TruncatedLink,
        DecodeError::UnsupportedEtherType,
        DecodeError::MalformedIp,
        DecodeError::MalformedIpv6Extension,
        DecodeError::TruncatedTransport,
        DecodeError::IpFragment,
        DecodeError::MalformedArp,
        DecodeError::Snapped,
    ];

    /// A stable snake_case name for statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeError::UnsupportedLinkType => "unsupported_link_type",
            DecodeError::TruncatedLink => "truncated_link_header",
            DecodeError::UnsupportedEtherType => "unsupported_ethertype",
            DecodeError::MalformedIp => "malformed_ip",
            DecodeError::MalformedIpv6Extension => "malformed_ipv6_extension",
            DecodeError::TruncatedTransport => "truncated_transport",
            DecodeError::IpFragment => "ip_fragment",
            DecodeError::MalformedArp => "malformed_arp",
            DecodeError::Snapped => "snapped_short",
        }
    }

    /// Index into [`DecodeError::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One decoded packet, borrowing its bytes from the capture buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based packet number within its capture file (as Wireshark shows).
    pub number: u64,
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_nanos: i64,
    /// Length on the wire.
    pub wire_len: u32,
    /// Length captured (less than `wire_len` when a snap length cut the frame).
    pub cap_len: u32,
    /// The capture's link type (LINKTYPE_*).
    pub link_type: u32,
    /// True when the frame carried an 802.1Q or 802.1ad tag.
    pub vlan: bool,
    /// Network layer.
    pub network: Network,
    /// Transport layer.
    pub transport: Transport,
    /// Layer-4 payload: TCP/UDP data, or the bytes after the 8-byte ICMP header.
    pub payload: &'a [u8],
    /// The first thing that stopped decoding, if any.
    pub error: Option<DecodeError>,
    /// An IP fragment's place in its datagram (read only for fragments).
    pub fragment: Option<fragment::Fragment<'a>>,
}

impl<'a> Packet<'a> {
    /// The protocol name Suricata writes in EVE `proto` (ICMP, IPv6-ICMP, TCP, UDP, ARP, ...),
    /// also the `{proto}` of alert messages.
    pub fn proto_name(&self) -> &'static str {
        match self.transport {
            Transport::Tcp { .. } => "TCP",
            Transport::Udp { .. } => "UDP",
            Transport::Icmp(_) => "ICMP",
            Transport::Icmp6(_) => "IPv6-ICMP",
            Transport::None => match self.network {
                Network::Arp { .. } => "ARP",
                Network::Ip(ip) => match ip.proto {
                    1 => "ICMP",
                    6 => "TCP",
                    17 => "UDP",
                    58 => "IPv6-ICMP",
                    _ => "IP",
                },
                Network::None => "OTHER",
            },
        }
    }

    /// The packet without its borrow of the frame: the payload becomes a
    /// range of the frame, for [`Packet::attach`] to put back (a packet
    /// decoded on one thread, matched on another). `None` for IP fragments
    /// and if the payload is not a slice of `frame` (never expected).
    pub fn detach(&self, frame: &[u8]) -> Option<(Packet<'static>, std::ops::Range<usize>)> {
        // A fragment borrows more of the frame; fragments are rare: decode them again.
        if self.fragment.is_some() {
            return None;
        }
        let start = if self.payload.is_empty() {
            0
        } else {
            (self.payload.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?
        };
        let range = start..start + self.payload.len();
        if !self.payload.is_empty() && frame.get(range.clone())?.as_ptr() != self.payload.as_ptr() {
            return None;
        }
        let detached = Packet {
            number: self.number,
            ts_nanos: self.ts_nanos,
            wire_len: self.wire_len,
            cap_len: self.cap_len,
            link_type: self.link_type,
            vlan: self.vlan,
            network: self.network,
            transport: self.transport,
            payload: &[],
            error: self.error,
            fragment: None,
        };
        Some((detached, range))
    }

    /// A detached packet back on its frame (see [`Packet::detach`]).
    pub fn attach(detached: Packet<'static>, frame: &'a [u8], payload: std::ops::Range<usize>) -> Packet<'a> {
        Packet { payload: frame.get(payload).unwrap_or(&[]), ..detached }
    }

    /// Decodes `frame`, captured with link type `link_type`.
    pub fn decode(link_type: u32, frame: &'a [u8], number: u64, ts_nanos: i64, wire_len: u32) -> Packet<'a> {
        let mut pkt = Packet::undecoded(link_type, number, ts_nanos, wire_len);
        pkt.decode_frame(frame);
        pkt
    }

    /// A packet with nothing decoded yet: then [`Packet::decode_frame`] does
    /// what [`Packet::decode`] does, in the place the caller keeps the packet
    /// (a returned packet is copied once more: a call to `memcpy` for 168
    /// bytes, a few percent of a scan).
    #[inline]
    pub fn undecoded(link_type: u32, number: u64, ts_nanos: i64, wire_len: u32) -> Packet<'a> {
        Packet {
            number,
            ts_nanos,
            wire_len,
            cap_len: 0,
            link_type,
            vlan: false,
            network: Network::None,
            transport: Transport::None,
            payload: &[],
            error: None,
            fragment: None,
        }
    }

    /// Decodes `frame` into a packet fresh from [`Packet::undecoded`].
    pub fn decode_frame(&mut self, frame: &'a [u8]) {
        self.cap_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        // The common case by hand (no `LaxSlicedPacket` built and moved
        // around); anything else, and anything it is unsure of, through etherparse.
        if self.link_type != 1 || !self.fill_common(frame) {
            self.fill_sliced(frame);
        }
        if self.error.is_none() && (frame.len() as u64) < u64::from(self.wire_len) {
            self.error = Some(DecodeError::Snapped);
        }
    }

    /// Decodes `frame` with etherparse's lax slicer.
    fn fill_sliced(&mut self, frame: &'a [u8]) {
        let pkt = self;
        match link::slice(pkt.link_type, frame) {
            Ok(sliced) => {
                pkt.fill(&sliced);
                if pkt.ip().is_some_and(|ip| ip.fragmented) {
                    pkt.fragment = ip_start(frame, &sliced).and_then(|at| fragment::parse(frame.get(at..)?));
                }
            }
            Err(e) => pkt.error = Some(e),
        }
    }

    /// Decodes the common case, an untagged Ethernet frame carrying a whole,
    /// unfragmented IPv4 (any options) or IPv6 (no extension headers) packet
    /// of TCP, UDP or ICMP whose header etherparse would slice, exactly as
    /// [`Packet::fill_sliced`] would (`tests` below check it on mutated
    /// frames). Returns false, having changed nothing, for anything else.
    fn fill_common(&mut self, frame: &'a [u8]) -> bool {
        let Some((&[.., hi, lo], ip)) = frame.split_first_chunk::<14>() else { return false };
        let (info, ip_payload) = match u16::from_be_bytes([hi, lo]) {
            0x0800 => {
                let Some(h) = ip.first_chunk::<20>() else { return false };
                let ihl = usize::from(h[0] & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
                let flags = u16::from_be_bytes([h[6], h[7]]);
                if h[0] >> 4 != 4 || ihl < 20 || total < ihl || flags & 0x3fff != 0 {
                    return false;
                }
                let Some(payload) = ip.get(ihl..total) else { return false };
                let info = IpInfo {
                    version: 4,
                    src: IpAddr::from([h[12], h[13], h[14], h[15]]),
                    dst: IpAddr::from([h[16], h[17], h[18], h[19]]),
                    ttl: h[8],
                    total_len: total as u32,
                    proto: h[9],
                    id: Some(u16::from_be_bytes([h[4], h[5]])),
                    fragmented: false,
                };
                (info, payload)
            }
            0x86dd => {
                let Some(h) = ip.first_chunk::<40>() else { return false };
                let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
                if h[0] >> 4 != 6 || len == 0 {
                    return false;
                }
                let Some(payload) = ip.get(40..40 + len) else { return false };
                let addr = |at: usize| {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(h.get(at..at + 16).unwrap_or(&[0; 16]));
                    IpAddr::from(a)
                };
                let info = IpInfo {
                    version: 6,
                    src: addr(8),
                    dst: addr(24),
                    ttl: h[7],
                    total_len: len as u32 + 40,
                    proto: h[6],
                    id: None,
                    fragmented: false,
                };
                (info, payload)
            }
            _ => return false,
        };
        let transport = match (info.version, info.proto) {
            (_, 6) => etherparse::TcpSlice::from_slice(ip_payload).ok().map(TransportSlice::Tcp),
            (_, 17) => etherparse::UdpSlice::from_slice_lax(ip_payload).ok().map(TransportSlice::Udp),
            (_, 1) => etherparse::Icmpv4Slice::from_slice(ip_payload).ok().map(TransportSlice::Icmpv4),
            (_, 58) => etherparse::Icmpv6Slice::from_slice(ip_payload).ok().map(TransportSlice::Icmpv6),
            _ => None,
        };
        let Some(transport) = transport else { return false };
        self.network = Network::Ip(info);
        self.fill_transport(&transport);
        true
    }

    fn fill(&mut self, sliced: &LaxSlicedPacket<'a>) {
        self.vlan = sliced.vlan().is_some();
        match &sliced.net {
            Some(LaxNetSlice::Ipv4(v4)) => {
                let h = v4.header();
                let payload = v4.payload();
                self.network = Network::Ip(IpInfo {
                    version: 4,
                    src: IpAddr::V4(h.source_addr()),
                    dst: IpAddr::V4(h.destination_addr()),
                    ttl: h.ttl(),
                    total_len: u32::from(h.total_len()),
                    proto: payload.ip_number.0,
                    id: Some(h.identification()),
                    fragmented: payload.fragmented,
                });
                if payload.fragmented {
                    self.error = Some(DecodeError::IpFragment);
                }
            }
            Some(LaxNetSlice::Ipv6(v6)) => {
                let h = v6.header();
                let payload = v6.payload();
                self.network = Network::Ip(IpInfo {
                    version: 6,
                    src: IpAddr::V6(h.source_addr()),
                    dst: IpAddr::V6(h.destination_addr()),
                    ttl: h.hop_limit(),
                    total_len: u32::from(h.payload_length()) + 40,
                    proto: payload.ip_number.0,
                    id: None,
                    fragmented: payload.fragmented,
                });
                if payload.fragmented {
                    self.error = Some(DecodeError::IpFragment);
                }
            }
            Some(LaxNetSlice::Arp(arp)) => {
                self.network = Network::Arp { op: arp.operation().0 };
            }
            None => {}
        }
        if let Some(transport) = &sliced.transport {
            self.fill_transport(transport);
        }
        if self.error.is_none() {
            self.error = sliced.stop_err.as_ref().map(|(_, layer)| link::error_for_layer(*layer));
        }
    }

    fn fill_transport(&mut self, transport: &TransportSlice<'a>) {
        match transport {
            TransportSlice::Tcp(tcp) => {
                let flags = tcp.slice().get(13).copied().unwrap_or(0);
                self.transport = Transport::Tcp {
                    src_port: tcp.source_port(),
                    dst_port: tcp.destination_port(),
                    flags,
                    seq: tcp.sequence_number(),
                };
                self.payload = tcp.payload();
            }
            TransportSlice::Udp(udp) => {
                self.transport = Transport::Udp { src_port: udp.source_port(), dst_port: udp.destination_port() };
                self.payload = udp.payload();
            }
            TransportSlice::Icmpv4(icmp) => {
                let (t, code) = (icmp.type_u8(), icmp.code_u8());
                let echo = t == 0 || t == 8;
                self.transport = Transport::Icmp(icmp_header(t, code, echo, icmp.bytes5to8()));
                self.payload = icmp.slice().get(8..).unwrap_or(&[]);
            }
            TransportSlice::Icmpv6(icmp) => {
                let (t, code) = (icmp.type_u8(), icmp.code_u8());
                let echo = t == 128 || t == 129;
                self.transport = Transport::Icmp6(icmp_header(t, code, echo, icmp.bytes5to8()));
                self.payload = icmp.slice().get(8..).unwrap_or(&[]);
            }
            _ => {}
        }
    }

    /// True when the capture kept less of the frame than was on the wire
    /// (a snap length): the payload and what is decoded from it are cut.
    pub fn snapped(&self) -> bool {
        self.cap_len < self.wire_len
    }

    /// Bytes of the frame the capture did not keep.
    pub fn snapped_bytes(&self) -> u32 {
        self.wire_len.saturating_sub(self.cap_len)
    }

    /// The IP header facts, if the packet is IPv4 or IPv6.
    pub fn ip(&self) -> Option<&IpInfo> {
        match &self.network {
            Network::Ip(ip) => Some(ip),
            _ => None,
        }
    }

    /// Source and destination ports for TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.transport {
            Transport::Tcp { src_port, dst_port, .. } | Transport::Udp { src_port, dst_port } => {
                Some((src_port, dst_port))
            }
            _ => None,
        }
    }

    /// The ICMP or ICMPv6 header.
    pub fn icmp(&self) -> Option<&IcmpHeader> {
        match &self.transport {
            Transport::Icmp(h) | Transport::Icmp6(h) => Some(h),
            _ => None,
        }
    }

    /// True for UDP or TCP with port 53 on either side.
    pub fn is_dns(&self) -> bool {
        matches!(self.ports(), Some((53, _)) | Some((_, 53)))
    }

    /// True if the packet carries DNS as the engine's `dns` rules see it:
    /// TCP or UDP on port 53 ([`Packet::is_dns`]), or a whole UDP payload
    /// with the strict shape of a DNS message on any other port
    /// ([`dns::has_dns_shape`]: mDNS, LLMNR, a tunnel's resolver on port
    /// 5353 or 8053). The shape check costs a walk of the message's header
    /// and names on UDP packets off port 53.
    pub fn carries_dns(&self) -> bool {
        self.is_dns()
            || (matches!(self.transport, Transport::Udp { .. })
                && !self.payload.is_empty()
                && !self.snapped()
                && dns::has_dns_shape(self.payload))
    }

    /// True when the payload travels over TCP (DNS then has a length prefix).
    pub fn is_tcp(&self) -> bool {
        matches!(self.transport, Transport::Tcp { .. })
    }

    /// True for a TCP segment to or from port 53 that the capture kept whole:
    /// its DNS messages are read from the reassembled stream
    /// (`engine::dns_tcp`), not from the segment. A segment a snap length
    /// cut is decoded on its own, as far as it goes (its first message).
    pub fn is_dns_stream_segment(&self) -> bool {
        self.is_tcp() && self.is_dns() && !self.snapped()
    }
}

/// Where the IP header starts in `frame`.
fn ip_start(frame: &[u8], sliced: &LaxSlicedPacket<'_>) -> Option<usize> {
    let header = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => v4.header().slice().as_ptr(),
        Some(LaxNetSlice::Ipv6(v6)) => v6.header().slice().as_ptr(),
        _ => return None,
    };
    (header as usize).checked_sub(frame.as_ptr() as usize).filter(|&at| at < frame.len())
}

fn icmp_header(icmp_type: u8, code: u8, echo: bool, rest: [u8; 4]) -> IcmpHeader {
    let (id, seq) = if echo {
        (Some(u16::from_be_bytes([rest[0], rest[1]])), Some(u16::from_be_bytes([rest[2], rest[3]])))
    } else {
        (None, None)
    };
    IcmpHeader { icmp_type, code, id, seq }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::frame;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// `frame` decoded through etherparse alone (the reference for the common case).
    fn sliced(frame: &[u8], wire_len: u32) -> Packet<'_> {
        let mut pkt = Packet::decode(0xffff, frame, 7, 9, wire_len);
        pkt.link_type = 1;
        pkt.error = None;
        pkt.fill_sliced(frame);
        if pkt.error.is_none() && (frame.len() as u64) < u64::from(wire_len) {
            pkt.error = Some(DecodeError::Snapped);
        }
        pkt
    }

    fn bases() -> Vec<Vec<u8>> {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 168, 1, 2));
        let (a6, b6) = ("fd00::1".parse::<Ipv6Addr>().unwrap(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        let query = frame::dns_query(7, "abc.example.com", 1);
        vec![
            frame::udp(a, b, 5353, 53, &query),
            frame::tcp(a, b, 40000, 443, 0x18, 1234, b"GET / HTTP/1.1\r\n"),
            frame::icmp_echo(a, b, false, 1, 2, &[0x55; 56]),
            frame::icmp_message(a, b, 3, 3, [0; 4], &[1, 2, 3]),
            frame::icmpv6_echo(a6, b6, true, 3, 4, b"abcdefgh"),
        ]
    }

    #[test]
    fn dns_is_carried_on_port_53_or_by_shape_on_udp_elsewhere() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(192, 168, 1, 2));
        let query = frame::dns_query(7, "abc.example.com", 1);
        let carries = |f: &[u8], wire: usize| Packet::decode(1, f, 1, 1, wire as u32).carries_dns();
        let on = |sport, dport, payload: &[u8]| frame::udp(a, b, sport, dport, payload);
        let f = on(40000, 53, b"not dns at all");
        assert!(carries(&f, f.len()), "port 53 is DNS whatever it holds");
        let f = on(40000, 5353, &query);
        assert!(carries(&f, f.len()), "a DNS message off port 53");
        assert!(!Packet::decode(1, &f, 1, 1, f.len() as u32).is_dns());
        let f = on(40000, 5353, &[0x5a; 40]);
        assert!(!carries(&f, f.len()), "a payload without DNS's shape");
        let f = on(40000, 5353, &query);
        assert!(!carries(&f[..f.len() - 4], f.len()), "a message the snap length cut");
        let f = frame::tcp(a, b, 40000, 5353, 0x18, 1, &query);
        assert!(!carries(&f, f.len()), "TCP off port 53 is not probed");
    }

    #[test]
    fn the_common_case_is_decoded_by_hand() {
        for f in bases() {
            let mut pkt = Packet::decode(0xffff, &f, 1, 1, f.len() as u32);
            assert!(pkt.fill_common(&f), "{pkt:?}");
            let by_hand = Packet::decode(1, &f, 7, 9, f.len() as u32);
            assert_eq!(format!("{by_hand:?}"), format!("{:?}", sliced(&f, f.len() as u32)));
            assert!(by_hand.ip().is_some() && !by_hand.payload.is_empty());
        }
    }

    #[test]
    fn by_hand_is_the_same_as_etherparse_for_every_header_byte_and_length() {
        for base in bases() {
            let same = |f: &[u8], wire: u32| {
                let got = Packet::decode(1, f, 7, 9, wire);
                assert_eq!(format!("{got:?}"), format!("{:?}", sliced(f, wire)), "{f:02x?}");
            };
            for at in 0..base.len().min(80) {
                let o = base[at];
                for v in [0, 0xff, o ^ 0x01, o ^ 0x02, o ^ 0x04, o ^ 0x08, o ^ 0x10, o ^ 0x20, o ^ 0x40, o ^ 0x80] {
                    let mut f = base.clone();
                    f[at] = v;
                    same(&f, f.len() as u32);
                }
            }
            for keep in 0..=base.len() {
                same(&base[..keep], base.len() as u32);
            }
        }
    }

    proptest! {
        /// Whatever the bytes, decoding by hand gives what etherparse gives.
        #[test]
        fn by_hand_is_the_same_as_etherparse(
            base in 0usize..5,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            keep in any::<usize>(),
            extra in 0u32..3,
        ) {
            let mut f = bases().swap_remove(base);
            for (at, v) in edits {
                // Mostly the headers (the first 60 bytes), where decoding looks.
                let at = at % f.len().min(60);
                f[at] = v;
            }
            let keep = if keep % 3 == 0 { keep % (f.len() + 1) } else { f.len() };
            f.truncate(keep);
            let wire = f.len() as u32 + extra;
            let got = Packet::decode(1, &f, 7, 9, wire);
            prop_assert_eq!(format!("{got:?}"), format!("{:?}", sliced(&f, wire)));
        }
    }
}
