//! `--extract`: the flagged packets, written to a capture for Wireshark.
//!
//! A classic pcap holds one link type, so when the flagged packets came from
//! captures of different link types the file is written as pcapng with one
//! interface per link type instead (and says so), rather than failing or
//! mislabelling frames.

use std::io::{self, Write};

use super::collect::Frame;
use crate::capture::writer::{PcapOptions, PcapWriter, PcapngWriter, TsResolution};

const SNAPLEN: u32 = 262_144;

/// Writes `frames` to `out`; returns `"pcap"` or `"pcapng"`, the format used.
/// An empty list gives an empty Ethernet pcap, which Wireshark opens.
pub fn write(frames: &[Frame], out: impl Write) -> io::Result<&'static str> {
    let first = frames.first().map_or(crate::capture::linktype::ETHERNET, |f| f.link_type);
    if frames.iter().all(|f| f.link_type == first) {
        let opts = PcapOptions { link_type: first, nanos: true, big_endian: false, snaplen: SNAPLEN };
        let mut w = PcapWriter::new(out, opts)?;
        for f in frames {
            w.write_packet(f.ts_nanos, &f.data, f.orig_len)?;
        }
        w.into_inner().flush()?;
        return Ok("pcap");
    }
    let mut w = PcapngWriter::new(out, false)?;
    let mut interfaces: Vec<(u32, u32)> = Vec::new();
    for f in frames {
        let iface = match interfaces.iter().find(|(lt, _)| *lt == f.link_type) {
            Some(&(_, id)) => id,
            None => {
                let id = w.add_interface(f.link_type, SNAPLEN, TsResolution::Decimal(9))?;
                interfaces.push((f.link_type, id));
                id
            }
        };
        w.write_enhanced(iface, f.ts_nanos, &f.data, f.orig_len)?;
    }
    w.into_inner().flush()?;
    Ok("pcapng")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketReader;

    fn frame(ts: i64, link_type: u32) -> Frame {
        Frame { ts_nanos: ts, link_type, orig_len: 4, data: vec![1, 2, 3, 4] }
    }

    #[test]
    fn one_link_type_gives_pcap_and_reads_back() {
        let mut out = Vec::new();
        assert_eq!(write(&[frame(1_000, 1), frame(2_000, 1)], &mut out).unwrap(), "pcap");
        let packets: Vec<_> = PacketReader::new(&out).unwrap().map(|p| p.unwrap().ts_nanos).collect();
        assert_eq!(packets, vec![1_000, 2_000]);
    }

    #[test]
    fn mixed_link_types_give_pcapng() {
        let mut out = Vec::new();
        assert_eq!(write(&[frame(1_000, 1), frame(2_000, 101)], &mut out).unwrap(), "pcapng");
        let types: Vec<u32> = PacketReader::new(&out).unwrap().map(|p| p.unwrap().link_type).collect();
        assert_eq!(types, vec![1, 101]);
    }
}
