//! Synthetic traffic with known ground truth: packet builders, realistic
//! payloads and labelled scenarios.
//!
//! Integration tests, the shipped sample captures and the benchmarks all need
//! traffic where every packet is known to be a tunnel or not. Real captures
//! cannot be shipped or labelled reliably, so this module builds them:
//! [`payload`] makes bytes of an exact entropy or in the style of real ping
//! tools, [`frame`] wraps them in valid frames, and [`scenario`] assembles
//! deterministic, timestamped captures (including the two incident reports
//! ferret was written for) that can be written as pcap or pcapng.
//! Everything is deterministic by seed; nothing here panics.
//!
//! A crate of its own (a workspace member and a dev-dependency of `ferret`) so
//! the shipped library's public surface is the product, not its test traffic.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod frame;
pub mod payload;
pub mod rng;
pub mod samples;
pub mod scenario;
mod timeline;

use ferret::capture::writer::{PcapOptions, PcapWriter, PcapngWriter, TsResolution};
use std::io::{self, Write};

/// Snap length written to capture headers.
const SNAPLEN: u32 = 262_144;

/// One generated packet: an Ethernet frame (unless built for another link type), its time, and its ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthPacket {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_nanos: i64,
    /// LINKTYPE_* of `frame` (1 = Ethernet).
    pub link_type: u32,
    /// The bytes as captured, starting with the link-layer header.
    pub frame: Vec<u8>,
    /// Ground truth: this packet belongs to a covert channel.
    pub tunnel: bool,
    /// What the packet is, for humans reading test failures.
    pub note: &'static str,
}

/// A named, ordered list of packets with ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Short name, usable as a file name.
    pub name: &'static str,
    /// Packets in capture order (timestamps never decrease).
    pub packets: Vec<SynthPacket>,
}

impl Scenario {
    /// Writes a classic pcap (microsecond or, with `nanos`, nanosecond
    /// timestamps). All packets must share one link type, else `InvalidInput`;
    /// an empty scenario is written as Ethernet.
    pub fn write_pcap(&self, w: impl Write, nanos: bool) -> io::Result<()> {
        let link_type = self.single_link_type()?;
        let opts = PcapOptions { link_type, nanos, big_endian: false, snaplen: SNAPLEN };
        let mut writer = PcapWriter::new(w, opts)?;
        for packet in &self.packets {
            writer.write_packet(packet.ts_nanos, &packet.frame, frame_len(&packet.frame))?;
        }
        writer.into_inner().flush()
    }

    /// Writes a pcap file as a capture with snap length `snaplen` would
    /// have: each frame cut to `snaplen` bytes, its length on the wire kept.
    pub fn write_pcap_snapped(&self, w: impl Write, snaplen: u32) -> io::Result<()> {
        let link_type = self.single_link_type()?;
        let opts = PcapOptions { link_type, nanos: false, big_endian: false, snaplen };
        let mut writer = PcapWriter::new(w, opts)?;
        for packet in &self.packets {
            let kept = packet.frame.get(..snaplen as usize).unwrap_or(&packet.frame);
            writer.write_packet(packet.ts_nanos, kept, frame_len(&packet.frame))?;
        }
        writer.into_inner().flush()
    }

    /// Writes a pcapng file with one interface (nanosecond resolution) per
    /// distinct link type, in order of first appearance.
    pub fn write_pcapng(&self, w: impl Write) -> io::Result<()> {
        let mut writer = PcapngWriter::new(w, false)?;
        let mut interfaces: Vec<(u32, u32)> = Vec::new();
        for packet in &self.packets {
            let known = interfaces.iter().find(|(lt, _)| *lt == packet.link_type);
            let iface = match known {
                Some(&(_, id)) => id,
                None => {
                    let id = writer.add_interface(packet.link_type, SNAPLEN, TsResolution::Decimal(9))?;
                    interfaces.push((packet.link_type, id));
                    id
                }
            };
            writer.write_enhanced(iface, packet.ts_nanos, &packet.frame, frame_len(&packet.frame))?;
        }
        writer.into_inner().flush()
    }

    /// 1-based numbers (as Wireshark shows them) of the packets with `tunnel == true`.
    pub fn tunnel_packet_numbers(&self) -> Vec<u64> {
        (1u64..).zip(&self.packets).filter(|(_, p)| p.tunnel).map(|(n, _)| n).collect()
    }

    fn single_link_type(&self) -> io::Result<u32> {
        let first = self.packets.first().map_or(frame::linktype::ETHERNET, |p| p.link_type);
        if self.packets.iter().all(|p| p.link_type == first) {
            Ok(first)
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "pcap holds one link type; use write_pcapng for mixed link types",
            ))
        }
    }
}

fn frame_len(frame: &[u8]) -> u32 {
    u32::try_from(frame.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(ts: i64, link_type: u32, tunnel: bool) -> SynthPacket {
        SynthPacket { ts_nanos: ts, link_type, frame: vec![1, 2, 3, 4, 5], tunnel, note: "t" }
    }

    #[test]
    fn tunnel_numbers_are_one_based() {
        let s = Scenario { name: "x", packets: vec![packet(1, 1, false), packet(2, 1, true), packet(3, 1, true)] };
        assert_eq!(s.tunnel_packet_numbers(), vec![2, 3]);
    }

    #[test]
    fn pcap_round_trip_layout() {
        let s = Scenario { name: "x", packets: vec![packet(1_000_000_500, 101, false)] };
        let mut out = Vec::new();
        s.write_pcap(&mut out, true).unwrap();
        assert_eq!(out[..4], 0xa1b2_3c4du32.to_le_bytes());
        assert_eq!(out[20..24], 101u32.to_le_bytes());
        assert_eq!(out[24..28], 1u32.to_le_bytes());
        assert_eq!(out[28..32], 500u32.to_le_bytes());
        assert_eq!(out[40..], [1, 2, 3, 4, 5]);
    }

    #[test]
    fn mixed_link_types_need_pcapng() {
        let s = Scenario { name: "x", packets: vec![packet(1, 1, false), packet(2, 101, true)] };
        let err = s.write_pcap(Vec::new(), false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let mut out = Vec::new();
        s.write_pcapng(&mut out).unwrap();
        // SHB (28) + 2 IDBs (32 each) + 2 EPBs (32 + 8 each).
        assert_eq!(out.len(), 28 + 2 * 32 + 2 * 40);
        let idb_types: Vec<u32> =
            [28usize, 60 + 40].iter().map(|&at| u32::from_le_bytes(out[at..at + 4].try_into().unwrap())).collect();
        assert_eq!(idb_types, vec![1, 1]);
    }

    #[test]
    fn empty_scenario_writes_an_ethernet_header() {
        let s = Scenario { name: "empty", packets: Vec::new() };
        let mut out = Vec::new();
        s.write_pcap(&mut out, false).unwrap();
        assert_eq!(out.len(), 24);
        assert_eq!(out[20..24], 1u32.to_le_bytes());
    }
}
