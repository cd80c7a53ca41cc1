//! Link layers: strip whatever the capture's link type puts in front of the
//! network layer and hand the rest to etherparse's lax slicer.
//!
//! Supported: Ethernet (1, with 802.1Q / QinQ tags), raw IP (101, 228, 229 and
//! BSD's 12 and 14), Linux cooked captures v1 (113) and v2 (276), BSD loopback
//! NULL (0, host byte order) and LOOP (108, network byte order).

use etherparse::err::Layer;
use etherparse::{EtherType, LaxSlicedPacket};

use super::DecodeError;

/// Address family values BSDs use for IPv4 and IPv6 in NULL/LOOP headers.
const AF_INET: u32 = 2;
const AF_INET6: [u32; 3] = [24, 28, 30];

/// True for the link types whose frames are a bare IPv4 or IPv6 packet
/// (`LINKTYPE_RAW` and its variants).
pub(crate) fn is_raw_ip(link_type: u32) -> bool {
    matches!(link_type, 12 | 14 | 101 | 228 | 229)
}

/// Slices `frame` according to `link_type`.
pub(super) fn slice(link_type: u32, frame: &[u8]) -> Result<LaxSlicedPacket<'_>, DecodeError> {
    match link_type {
        1 => LaxSlicedPacket::from_ethernet(frame).map_err(|_| DecodeError::TruncatedLink),
        t if is_raw_ip(t) => from_ip(frame),
        0 | 108 => {
            let (&bytes, rest) = frame.split_first_chunk::<4>().ok_or(DecodeError::TruncatedLink)?;
            // NULL is in the capturing host's byte order, which the file does not
            // record; LOOP is big-endian. Accept either order for both.
            let family = [u32::from_le_bytes(bytes), u32::from_be_bytes(bytes)];
            if family.iter().any(|&f| f == AF_INET || AF_INET6.contains(&f)) {
                from_ip(rest)
            } else {
                Err(DecodeError::UnsupportedEtherType)
            }
        }
        113 => {
            let (header, rest) = frame.split_first_chunk::<16>().ok_or(DecodeError::TruncatedLink)?;
            let [.., hi, lo] = *header;
            from_ether_type(u16::from_be_bytes([hi, lo]), rest)
        }
        276 => {
            let (header, rest) = frame.split_first_chunk::<20>().ok_or(DecodeError::TruncatedLink)?;
            let [hi, lo, ..] = *header;
            from_ether_type(u16::from_be_bytes([hi, lo]), rest)
        }
        _ => Err(DecodeError::UnsupportedLinkType),
    }
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, DecodeError> {
    LaxSlicedPacket::from_ip(data).map_err(|_| DecodeError::MalformedIp)
}

fn from_ether_type(ether_type: u16, data: &[u8]) -> Result<LaxSlicedPacket<'_>, DecodeError> {
    match ether_type {
        0x0800 | 0x86dd | 0x0806 | 0x8100 | 0x88a8 | 0x9100 => {
            Ok(LaxSlicedPacket::from_ether_type(EtherType(ether_type), data))
        }
        _ => Err(DecodeError::UnsupportedEtherType),
    }
}

/// Maps the layer where etherparse stopped to our error kind.
pub(super) fn error_for_layer(layer: Layer) -> DecodeError {
    match layer {
        Layer::Ipv4Header | Layer::IpHeader | Layer::Ipv6Header | Layer::Ipv4Packet | Layer::Ipv6Packet => {
            DecodeError::MalformedIp
        }
        Layer::Ipv6ExtHeader
        | Layer::IpAuthHeader
        | Layer::Ipv6FragHeader
        | Layer::Ipv6HopByHopHeader
        | Layer::Ipv6DestOptionsHeader
        | Layer::Ipv6RouteHeader => DecodeError::MalformedIpv6Extension,
        Layer::Arp => DecodeError::MalformedArp,
        Layer::Ethernet2Header | Layer::VlanHeader | Layer::LinuxSllHeader | Layer::MacsecHeader => {
            DecodeError::TruncatedLink
        }
        _ => DecodeError::TruncatedTransport,
    }
}
