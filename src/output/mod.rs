//! Outputs: alert lines for people, EVE JSON for machines, the end-of-run summary.
//!
//! Outputs take finished [`Alert`](crate::engine::alert::Alert)s and statistics;
//! they know nothing of rules syntax or capture formats.

pub mod eve;
pub mod sink;
pub mod summary;
pub mod text;
pub mod time;

use crate::decode::{Network, Packet, Transport};

/// The protocol name Suricata writes in EVE `proto` (ICMP, IPv6-ICMP, TCP, UDP, ARP, ...).
pub fn proto_name(pkt: &Packet<'_>) -> &'static str {
    match pkt.transport {
        Transport::Tcp { .. } => "TCP",
        Transport::Udp { .. } => "UDP",
        Transport::Icmp(_) => "ICMP",
        Transport::Icmp6(_) => "IPv6-ICMP",
        Transport::None => match pkt.network {
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
