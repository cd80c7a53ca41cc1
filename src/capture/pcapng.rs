//! Reader for the pcapng block format.
//!
//! Why hand-written: reading needs only block framing (type, length, body, trailing length), the
//! Section Header Block for byte order, Interface Description Blocks for link type, snaplen and
//! timestamp resolution, and the three packet block types; everything else is skipped by its
//! length. Framing is checked strictly (a damaged block is reported at its offset, never guessed
//! past); options are read leniently (a malformed option list just ends the list), as Wireshark
//! does. Per packet the work is a handful of bounds-checked reads and no allocation: the
//! interface table is a `Vec` that grows only when an Interface Description Block is read.

use super::{ByteOrder, CaptureError, CaptureErrorKind, RawPacket};
use std::num::NonZeroU128;

/// Block type of a Section Header Block; also the file's magic number (a palindrome).
pub(crate) const SECTION_HEADER: u32 = 0x0A0D_0D0A;
/// Block type of an Interface Description Block.
pub(crate) const INTERFACE_DESCRIPTION: u32 = 1;
/// Block type of the obsolete Packet Block.
pub(crate) const PACKET: u32 = 2;
/// Block type of a Simple Packet Block.
pub(crate) const SIMPLE_PACKET: u32 = 3;
/// Block type of an Enhanced Packet Block.
pub(crate) const ENHANCED_PACKET: u32 = 6;
/// Value of the byte-order magic of a Section Header Block, read in the section's byte order.
pub(crate) const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Option code that ends an option list.
pub(crate) const OPT_END: u16 = 0;
/// Interface option: timestamp resolution.
pub(crate) const IF_TSRESOL: u16 = 9;
/// Interface option: seconds added to every timestamp.
pub(crate) const IF_TSOFFSET: u16 = 14;

/// Block type, length and trailing length.
const BLOCK_OVERHEAD: usize = 12;
/// Fixed body bytes of a Section Header Block: byte-order magic, version, section length.
const SECTION_HEADER_FIXED: usize = 16;
/// Fixed body bytes of an Interface Description Block: link type, reserved, snaplen.
const INTERFACE_FIXED: usize = 8;
/// Fixed body bytes of an Enhanced (or obsolete) Packet Block before the packet data.
const PACKET_FIXED: usize = 20;
/// Fixed body bytes of a Simple Packet Block: the original length.
const SIMPLE_PACKET_FIXED: usize = 4;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// True if the first four bytes of a file are a Section Header Block type.
pub(crate) fn is_pcapng_magic(magic: [u8; 4]) -> bool {
    u32::from_le_bytes(magic) == SECTION_HEADER
}

/// How raw timestamp units become nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// Units coarser than or equal to a nanosecond: multiply.
    Multiply(u64),
    /// Decimal units finer than a nanosecond: divide.
    Divide(NonZeroU128),
    /// Units of 2^-n seconds.
    BinaryFraction(u32),
    /// Units so fine that every representable timestamp is below one nanosecond.
    Zero,
}

/// Timestamp conversion of one interface: `if_tsresol` and `if_tsoffset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Clock {
    scale: Scale,
    offset_nanos: i128,
}

impl Clock {
    /// The clock for an `if_tsresol` byte (absent: microseconds) and an `if_tsoffset` in seconds.
    fn new(tsresol: Option<u8>, offset_secs: i64) -> Clock {
        let scale = match tsresol {
            None => Scale::Multiply(1_000),
            Some(value) if value & 0x80 == 0 => Self::decimal(value),
            Some(value) => Scale::BinaryFraction(u32::from(value & 0x7f)),
        };
        Clock { scale, offset_nanos: i128::from(offset_secs) * NANOS_PER_SEC as i128 }
    }

    /// The scale for units of 10^-exponent seconds.
    fn decimal(exponent: u8) -> Scale {
        if exponent <= 9 {
            return Scale::Multiply(10u64.pow(u32::from(9 - exponent)));
        }
        match 10u128.checked_pow(u32::from(exponent - 9)).and_then(NonZeroU128::new) {
            Some(divisor) => Scale::Divide(divisor),
            None => Scale::Zero,
        }
    }

    /// Nanoseconds since the epoch for a raw timestamp, saturating at the ends of `i64`.
    #[inline]
    fn to_nanos(self, units: u64) -> i64 {
        let units = u128::from(units);
        // None of these overflow: units < 2^64 and every factor is below 2^30.
        let nanos = match self.scale {
            Scale::Multiply(factor) => units * u128::from(factor),
            Scale::Divide(divisor) => units / divisor,
            Scale::BinaryFraction(bits) => (units * NANOS_PER_SEC).checked_shr(bits).unwrap_or(0),
            Scale::Zero => 0,
        };
        let nanos = i128::try_from(nanos).unwrap_or(i128::MAX);
        let total = nanos.saturating_add(self.offset_nanos);
        i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
    }
}

/// What a packet needs to know about the interface it was captured on.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: u32,
    snaplen: u32,
    clock: Clock,
}

/// One framed block: its type and body, between the length fields.
#[derive(Clone, Copy, Debug)]
struct Block<'a> {
    block_type: u32,
    body: &'a [u8],
}

impl Block<'_> {
    /// The error for a block too short for the fixed fields of its type.
    fn too_short(&self) -> CaptureErrorKind {
        CaptureErrorKind::BlockTooShort {
            block_type: self.block_type,
            length: u32::try_from(self.body.len() + BLOCK_OVERHEAD).unwrap_or(u32::MAX),
        }
    }
}

/// What a pcapng reader carries from block to block: all it needs to go on
/// reading from another buffer (a stream's next chunk).
#[derive(Clone, Debug)]
pub(crate) struct PcapngState {
    order: ByteOrder,
    interfaces: Vec<Interface>,
    last_ts_nanos: i64,
}

/// Iterates the packets of a pcapng file, across all its sections.
#[derive(Debug)]
pub(crate) struct PcapngReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Byte order of the current section.
    order: ByteOrder,
    /// Interfaces of the current section, indexed by interface id.
    interfaces: Vec<Interface>,
    /// Timestamp of the previous packet, given to Simple Packet Blocks, which have none.
    last_ts_nanos: i64,
}

impl<'a> PcapngReader<'a> {
    /// Reads the first Section Header Block of `bytes`, which starts with its block type.
    pub(crate) fn new(bytes: &'a [u8]) -> Result<PcapngReader<'a>, CaptureError> {
        let mut reader =
            PcapngReader { bytes, pos: 0, order: ByteOrder::Little, interfaces: Vec::new(), last_ts_nanos: 0 };
        let first = match reader.frame_next_block() {
            Some(Ok(block)) => block,
            Some(Err(kind)) => return Err(Self::first_block_error(kind).at(0)),
            None => return Err(CaptureErrorKind::Empty.at(0)),
        };
        match reader.process(first) {
            Ok(_) => Ok(reader),
            Err(kind) => Err(kind.at(0)),
        }
    }

    /// A truncated first block is a truncated file header, as the user sees it.
    fn first_block_error(kind: CaptureErrorKind) -> CaptureErrorKind {
        match kind {
            CaptureErrorKind::TruncatedBlockHeader | CaptureErrorKind::TruncatedBlock { .. } => {
                CaptureErrorKind::TruncatedFileHeader
            }
            other => other,
        }
    }

    /// Offset of the next unread byte.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Goes on reading at `pos` of `bytes` with the section knowledge of an earlier reader.
    pub(crate) fn resume(bytes: &'a [u8], pos: usize, state: PcapngState) -> PcapngReader<'a> {
        let PcapngState { order, interfaces, last_ts_nanos } = state;
        PcapngReader { bytes, pos, order, interfaces, last_ts_nanos }
    }

    /// The section knowledge (byte order, interfaces, last timestamp), for [`PcapngReader::resume`].
    pub(crate) fn into_state(self) -> PcapngState {
        PcapngState { order: self.order, interfaces: self.interfaces, last_ts_nanos: self.last_ts_nanos }
    }

    /// The next packet, an error at the damaged block, or `None` at a clean end of file.
    #[inline]
    pub(crate) fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        loop {
            let start = self.pos;
            let outcome = self.frame_next_block()?.and_then(|block| self.process(block));
            super::read_ahead(self.bytes, start..self.pos);
            match outcome {
                Ok(Some(packet)) => return Some(Ok(packet)),
                Ok(None) => continue,
                Err(kind) => return Some(Err(kind.at(self.pos))),
            }
        }
    }

    /// Frames the block at the current position without moving past it.
    #[inline]
    fn frame_next_block(&mut self) -> Option<Result<Block<'a>, CaptureErrorKind>> {
        let rest = self.bytes.get(self.pos..).filter(|rest| !rest.is_empty())?;
        Some(self.frame(rest))
    }

    /// Checks the framing of the block at the start of `rest`.
    ///
    /// A Section Header Block sets the byte order first, since its length is written in it.
    #[inline]
    fn frame(&mut self, rest: &'a [u8]) -> Result<Block<'a>, CaptureErrorKind> {
        let truncated_header = CaptureErrorKind::TruncatedBlockHeader;
        let block_type = self.order.u32_at(rest, 0).ok_or(truncated_header)?;
        // The section header type is a palindrome, so it reads the same in either byte order.
        if block_type == SECTION_HEADER {
            self.order = section_byte_order(rest)?;
        }
        let length = self.order.u32_at(rest, 4).ok_or(truncated_header)?;
        if length < BLOCK_OVERHEAD as u32 || length % 4 != 0 {
            return Err(CaptureErrorKind::BadBlockLength(length));
        }
        let block = rest
            .get(..length as usize)
            .ok_or(CaptureErrorKind::TruncatedBlock { needed: u64::from(length), available: rest.len() as u64 })?;
        let (framed, trailer) = block.split_last_chunk::<4>().ok_or(truncated_header)?;
        let trailing = self.order.u32_at(trailer, 0).ok_or(truncated_header)?;
        if trailing != length {
            return Err(CaptureErrorKind::BlockLengthMismatch { leading: length, trailing });
        }
        let body = framed.get(8..).ok_or(truncated_header)?;
        Ok(Block { block_type, body })
    }

    /// Acts on a framed block, moving past it unless it is damaged.
    #[inline]
    fn process(&mut self, block: Block<'a>) -> Result<Option<RawPacket<'a>>, CaptureErrorKind> {
        let offset = self.pos as u64;
        let packet = match block.block_type {
            ENHANCED_PACKET => {
                let interface_id = self.order.u32_at(block.body, 0);
                Some(self.timestamped_packet(block, interface_id, offset)?)
            }
            SIMPLE_PACKET => Some(self.simple_packet(block, offset)?),
            PACKET => {
                let interface_id = self.order.u16_at(block.body, 0).map(u32::from);
                Some(self.timestamped_packet(block, interface_id, offset)?)
            }
            INTERFACE_DESCRIPTION => {
                self.add_interface(block)?;
                None
            }
            SECTION_HEADER => {
                self.start_section(block)?;
                None
            }
            _ => None,
        };
        self.pos += block.body.len() + BLOCK_OVERHEAD;
        Ok(packet)
    }

    /// A new section: check its version and forget the previous section's interfaces.
    fn start_section(&mut self, block: Block<'a>) -> Result<(), CaptureErrorKind> {
        if block.body.len() < SECTION_HEADER_FIXED {
            return Err(block.too_short());
        }
        let major = self.order.u16_at(block.body, 4).unwrap_or_default();
        let minor = self.order.u16_at(block.body, 6).unwrap_or_default();
        if major != 1 {
            return Err(CaptureErrorKind::UnsupportedVersion(major, minor));
        }
        self.interfaces.clear();
        Ok(())
    }

    /// Records an interface: link type, snaplen and timestamp options.
    fn add_interface(&mut self, block: Block<'a>) -> Result<(), CaptureErrorKind> {
        let (Some(link_type), Some(snaplen), Some(options)) =
            (self.order.u16_at(block.body, 0), self.order.u32_at(block.body, 4), block.body.get(INTERFACE_FIXED..))
        else {
            return Err(block.too_short());
        };
        self.interfaces.push(Interface {
            link_type: u32::from(link_type),
            snaplen,
            clock: read_clock_options(options, self.order),
        });
        Ok(())
    }

    /// The interface a packet refers to.
    #[inline]
    fn interface(&self, id: u32) -> Result<Interface, CaptureErrorKind> {
        if self.interfaces.is_empty() {
            return Err(CaptureErrorKind::PacketBeforeInterface);
        }
        let index = usize::try_from(id).map_err(|_| CaptureErrorKind::UnknownInterface(id))?;
        self.interfaces.get(index).copied().ok_or(CaptureErrorKind::UnknownInterface(id))
    }

    /// An Enhanced Packet Block or obsolete Packet Block; they differ only in the interface id.
    #[inline]
    fn timestamped_packet(
        &mut self,
        block: Block<'a>,
        interface_id: Option<u32>,
        offset: u64,
    ) -> Result<RawPacket<'a>, CaptureErrorKind> {
        let body = block.body;
        let order = self.order;
        let (Some(interface_id), Some(ts_high), Some(ts_low), Some(caplen), Some(orig_len)) = (
            interface_id,
            order.u32_at(body, 4),
            order.u32_at(body, 8),
            order.u32_at(body, 12),
            order.u32_at(body, 16),
        ) else {
            return Err(block.too_short());
        };
        let interface = self.interface(interface_id)?;
        let room = body.get(PACKET_FIXED..).unwrap_or_default();
        let data = room
            .get(..caplen as usize)
            .ok_or(CaptureErrorKind::CaplenExceedsBlock { caplen, room: room.len() as u64 })?;
        let ts_nanos = interface.clock.to_nanos(u64::from(ts_high) << 32 | u64::from(ts_low));
        self.last_ts_nanos = ts_nanos;
        Ok(RawPacket { ts_nanos, link_type: interface.link_type, data, orig_len, offset, next: &[] })
    }

    /// A Simple Packet Block: interface 0, the previous packet's timestamp, caplen inferred.
    #[inline]
    fn simple_packet(&mut self, block: Block<'a>, offset: u64) -> Result<RawPacket<'a>, CaptureErrorKind> {
        let (Some(orig_len), Some(room)) = (self.order.u32_at(block.body, 0), block.body.get(SIMPLE_PACKET_FIXED..))
        else {
            return Err(block.too_short());
        };
        let interface = self.interface(0)?;
        let mut caplen = room.len().min(orig_len as usize);
        if interface.snaplen != 0 {
            caplen = caplen.min(interface.snaplen as usize);
        }
        let (data, _padding) = room.split_at_checked(caplen).unwrap_or((room, &[]));
        Ok(RawPacket {
            ts_nanos: self.last_ts_nanos,
            link_type: interface.link_type,
            data,
            orig_len,
            offset,
            next: &[],
        })
    }
}

/// The byte order a Section Header Block announces with its byte-order magic.
fn section_byte_order(block: &[u8]) -> Result<ByteOrder, CaptureErrorKind> {
    let magic = *block.get(8..).and_then(<[u8]>::first_chunk::<4>).ok_or(CaptureErrorKind::TruncatedBlockHeader)?;
    if u32::from_le_bytes(magic) == BYTE_ORDER_MAGIC {
        Ok(ByteOrder::Little)
    } else if u32::from_be_bytes(magic) == BYTE_ORDER_MAGIC {
        Ok(ByteOrder::Big)
    } else {
        Err(CaptureErrorKind::BadByteOrderMagic(u32::from_be_bytes(magic)))
    }
}

/// Reads `if_tsresol` and `if_tsoffset` from an interface's options; a malformed list just ends.
fn read_clock_options(mut options: &[u8], order: ByteOrder) -> Clock {
    let mut tsresol = None;
    let mut offset_secs = 0;
    while let (Some(code), Some(len)) = (order.u16_at(options, 0), order.u16_at(options, 2)) {
        if code == OPT_END {
            break;
        }
        let len = usize::from(len);
        let Some(value) = options.get(4..4 + len) else {
            break;
        };
        match (code, value) {
            (IF_TSRESOL, &[resolution]) => tsresol = Some(resolution),
            (IF_TSOFFSET, _) if len == 8 => {
                offset_secs = order.u64_at(value, 0).map_or(0, |v| v as i64);
            }
            _ => {}
        }
        options = options.get(4 + len.next_multiple_of(4)..).unwrap_or_default();
    }
    Clock::new(tsresol, offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_support::{assert_truncations, layout, read_all, Unit};
    use crate::capture::{linktype, CaptureFormat, PacketReader, PcapngWriter, TsResolution};

    const SHB_LEN: usize = 28;

    fn padded(len: usize) -> usize {
        len.next_multiple_of(4)
    }

    fn idb_len(tsresol: TsResolution) -> usize {
        if tsresol == TsResolution::Decimal(6) {
            20
        } else {
            32
        }
    }

    fn epb_len(data: &[u8]) -> usize {
        32 + padded(data.len())
    }

    fn spb_len(data: &[u8]) -> usize {
        16 + padded(data.len())
    }

    /// What the multi-interface, two-section sample file holds, and how it is laid out.
    struct Sample {
        file: Vec<u8>,
        units: Vec<Unit>,
        /// (ts_nanos, link_type, data, orig_len, offset) of each packet.
        packets: Vec<(i64, u32, Vec<u8>, u32, u64)>,
    }

    const TS_A: i64 = 1_700_000_000_123_456_789;
    const TS_B: i64 = 1_700_000_002_987_654_321;
    const BINARY_20_UNIT_NANOS: i64 = 954; // 10^9 / 2^20, rounded up

    fn sample(big_endian: bool) -> Sample {
        let mut w = PcapngWriter::new(Vec::new(), big_endian).unwrap();
        let mut lengths = vec![(SHB_LEN, false)];
        let eth = w.add_interface(linktype::ETHERNET, 0, TsResolution::Decimal(6)).unwrap();
        lengths.push((idb_len(TsResolution::Decimal(6)), false));
        let raw = w.add_interface(linktype::RAW, 100, TsResolution::Decimal(9)).unwrap();
        lengths.push((idb_len(TsResolution::Decimal(9)), false));
        assert_eq!((eth, raw), (0, 1));

        let frame = b"ethernet frame, 33 bytes long....".to_vec();
        w.write_enhanced(eth, TS_A, &frame, 33).unwrap();
        lengths.push((epb_len(&frame), true));
        let ip = vec![0x45; 6];
        w.write_enhanced(raw, TS_B, &ip, 1500).unwrap();
        lengths.push((epb_len(&ip), true));
        let nrb = [1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0];
        w.write_other_block(4, &nrb).unwrap();
        lengths.push((12 + nrb.len(), false));
        let simple = b"simple".to_vec();
        w.write_simple(&simple, 6).unwrap();
        lengths.push((spb_len(&simple), true));

        w.new_section().unwrap();
        lengths.push((SHB_LEN, false));
        let sll = w.add_interface(linktype::LINUX_SLL, 65535, TsResolution::Binary(20)).unwrap();
        lengths.push((idb_len(TsResolution::Binary(20)), false));
        assert_eq!(sll, 0);
        let cooked = vec![1, 2, 3, 4, 5];
        w.write_enhanced(sll, TS_A, &cooked, 5).unwrap();
        lengths.push((epb_len(&cooked), true));
        w.write_other_block(0x4000_0BAD, &[]).unwrap();
        lengths.push((12, false));

        let units = layout(&lengths);
        let offsets: Vec<u64> = units.iter().filter(|u| u.is_packet).map(|u| u.start as u64).collect();
        let packets = vec![
            (TS_A / 1_000 * 1_000, linktype::ETHERNET, frame, 33, offsets[0]),
            (TS_B, linktype::RAW, ip, 1500, offsets[1]),
            (TS_B, linktype::ETHERNET, simple, 6, offsets[2]),
            (TS_A, linktype::LINUX_SLL, cooked, 5, offsets[3]),
        ];
        Sample { file: w.into_inner(), units, packets }
    }

    #[test]
    fn round_trips_interfaces_sections_and_block_types() {
        for big_endian in [false, true] {
            let sample = sample(big_endian);
            assert_eq!(sample.units.last().unwrap().end, sample.file.len());
            let reader = PacketReader::new(&sample.file).unwrap();
            assert_eq!(reader.format(), CaptureFormat::Pcapng);
            let (packets, error) = read_all(&sample.file);
            assert_eq!(error, None);
            assert_eq!(packets.len(), sample.packets.len());
            for (got, (ts, link_type, data, orig_len, offset)) in packets.iter().zip(&sample.packets) {
                if *link_type == linktype::LINUX_SLL {
                    // Binary(20) units are ~954 ns: the writer floors, so the read-back is at
                    // most one unit early.
                    assert!(got.ts_nanos <= *ts && ts - got.ts_nanos < BINARY_20_UNIT_NANOS);
                } else {
                    assert_eq!(got.ts_nanos, *ts);
                }
                assert_eq!(got.link_type, *link_type);
                assert_eq!(got.data, &data[..]);
                assert_eq!(got.orig_len, *orig_len);
                assert_eq!(got.offset, *offset);
            }
        }
    }

    #[test]
    fn sections_of_different_byte_orders_concatenate() {
        let mut file = sample(false).file;
        let big = sample(true).file;
        let first_len = file.len() as u64;
        file.extend_from_slice(&big);
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets.len(), 8);
        assert_eq!(packets[4].offset, first_len + packets[0].offset);
        assert_eq!(packets[5].data, packets[1].data);
        assert_eq!(packets[5].link_type, linktype::RAW);
    }

    #[test]
    fn every_truncation_reads_what_is_complete_then_one_error() {
        for big_endian in [false, true] {
            let sample = sample(big_endian);
            assert_truncations(&sample.file, &sample.units, |unit, cut| {
                let available = cut - unit.start;
                if unit.start == 0 {
                    CaptureErrorKind::TruncatedFileHeader
                } else if available < 8 || (unit.end - unit.start == SHB_LEN && available < 12) {
                    CaptureErrorKind::TruncatedBlockHeader
                } else {
                    CaptureErrorKind::TruncatedBlock {
                        needed: (unit.end - unit.start) as u64,
                        available: available as u64,
                    }
                }
            });
        }
    }

    /// A little-endian file: one SHB, one Ethernet IDB, then `blocks` (type, body) framed raw.
    fn file_with_blocks(blocks: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut w = PcapngWriter::new(Vec::new(), false).unwrap();
        w.add_interface(linktype::ETHERNET, 0, TsResolution::Decimal(6)).unwrap();
        for (block_type, body) in blocks {
            w.write_other_block(*block_type, body).unwrap();
        }
        w.into_inner()
    }

    /// Body of an EPB/PB: the first 4 bytes, timestamp units, caplen, orig_len, data.
    fn packet_body(head: [u8; 4], units: u64, caplen: u32, orig_len: u32, data: &[u8]) -> Vec<u8> {
        let mut body = head.to_vec();
        body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(units as u32).to_le_bytes());
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.to_le_bytes());
        body.extend_from_slice(data);
        body
    }

    const FIRST_BLOCK: usize = SHB_LEN + 20;

    #[test]
    fn reads_obsolete_packet_blocks() {
        let body = packet_body([0, 0, 7, 0], 2_000_001, 3, 4, b"abc");
        let file = file_with_blocks(&[(PACKET, body)]);
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].ts_nanos, 2_000_001_000);
        assert_eq!(packets[0].data, b"abc");
        assert_eq!(packets[0].orig_len, 4);
        assert_eq!(packets[0].offset, FIRST_BLOCK as u64);
    }

    #[test]
    fn enhanced_packet_options_after_the_data_are_ignored() {
        let mut body = packet_body([0; 4], 1, 3, 3, b"abc\0");
        body.extend_from_slice(&[1, 0, 2, 0, b'h', b'i', 0, 0, 0, 0, 0, 0]); // opt_comment
        let file = file_with_blocks(&[(ENHANCED_PACKET, body)]);
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets[0].data, b"abc");
    }

    #[test]
    fn simple_packets_take_caplen_from_snaplen_and_the_previous_timestamp() {
        let mut w = PcapngWriter::new(Vec::new(), false).unwrap();
        // Snaplen 5: the block holds 8 bytes (padded), of which only 5 were captured.
        w.add_interface(linktype::ETHERNET, 5, TsResolution::Decimal(6)).unwrap();
        w.write_simple(b"abcde", 100).unwrap();
        w.write_enhanced(0, 9_000, b"wxyz", 4).unwrap();
        w.write_simple(b"ab", 2).unwrap();
        let file = w.into_inner();
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets[0].ts_nanos, 0);
        assert_eq!((packets[0].data, packets[0].orig_len), (&b"abcde"[..], 100));
        assert_eq!(packets[2].ts_nanos, 9_000);
        assert_eq!(packets[2].data, b"ab");
    }

    #[test]
    fn simple_packet_caplen_is_bounded_by_the_block_body() {
        let mut body = 1000u32.to_le_bytes().to_vec();
        body.extend_from_slice(b"12345678");
        let file = file_with_blocks(&[(SIMPLE_PACKET, body)]);
        let (packets, _) = read_all(&file);
        assert_eq!(packets[0].data, b"12345678");
        assert_eq!(packets[0].orig_len, 1000);
    }

    #[test]
    fn corrupt_block_lengths_are_typed_errors_at_the_block() {
        let good = file_with_blocks(&[(ENHANCED_PACKET, packet_body([0; 4], 1, 1, 1, b"a"))]);
        let at = FIRST_BLOCK;
        let cases: [(u32, CaptureErrorKind); 4] = [
            (13, CaptureErrorKind::BadBlockLength(13)),
            (8, CaptureErrorKind::BadBlockLength(8)),
            (0xFFFF_FFF0, CaptureErrorKind::TruncatedBlock { needed: 0xFFFF_FFF0, available: 36 }),
            (32, CaptureErrorKind::BlockLengthMismatch { leading: 32, trailing: u32::from_le_bytes(*b"a\0\0\0") }),
        ];
        for (length, kind) in cases {
            let mut file = good.clone();
            file[at + 4..at + 8].copy_from_slice(&length.to_le_bytes());
            let (packets, error) = read_all(&file);
            assert!(packets.is_empty());
            assert_eq!(error, Some(kind.at(at)), "length {length}");
        }
        let mut file = good.clone();
        let end = file.len();
        file[end - 4..].copy_from_slice(&40u32.to_le_bytes());
        let mismatch = CaptureErrorKind::BlockLengthMismatch { leading: 36, trailing: 40 };
        assert_eq!(read_all(&file).1, Some(mismatch.at(at)));
    }

    #[test]
    fn packet_blocks_with_bad_contents_are_typed_errors() {
        let cases = [
            ((ENHANCED_PACKET, packet_body([5, 0, 0, 0], 1, 1, 1, b"a")), CaptureErrorKind::UnknownInterface(5)),
            (
                (ENHANCED_PACKET, packet_body([0; 4], 1, 9, 9, b"abcd")),
                CaptureErrorKind::CaplenExceedsBlock { caplen: 9, room: 4 },
            ),
            (
                (ENHANCED_PACKET, vec![0; 16]),
                CaptureErrorKind::BlockTooShort { block_type: ENHANCED_PACKET, length: 28 },
            ),
            ((SIMPLE_PACKET, Vec::new()), CaptureErrorKind::BlockTooShort { block_type: SIMPLE_PACKET, length: 12 }),
            (
                (INTERFACE_DESCRIPTION, vec![1, 0, 0, 0]),
                CaptureErrorKind::BlockTooShort { block_type: INTERFACE_DESCRIPTION, length: 16 },
            ),
        ];
        for ((block_type, body), kind) in cases {
            let mut blocks = vec![(ENHANCED_PACKET, packet_body([0; 4], 1, 1, 1, b"a"))];
            blocks.push((block_type, body));
            let file = file_with_blocks(&blocks);
            let (packets, error) = read_all(&file);
            assert_eq!(packets.len(), 1);
            assert_eq!(error, Some(kind.at(FIRST_BLOCK + 36)), "{kind:?}");
        }
    }

    #[test]
    fn packet_before_any_interface_is_an_error() {
        let mut w = PcapngWriter::new(Vec::new(), false).unwrap();
        w.write_other_block(ENHANCED_PACKET, &packet_body([0; 4], 1, 1, 1, b"a")).unwrap();
        let file = w.into_inner();
        let error = CaptureErrorKind::PacketBeforeInterface.at(SHB_LEN);
        assert_eq!(read_all(&file).1, Some(error));
    }

    #[test]
    fn a_new_section_forgets_the_interfaces() {
        let mut w = PcapngWriter::new(Vec::new(), false).unwrap();
        w.add_interface(linktype::ETHERNET, 0, TsResolution::Decimal(6)).unwrap();
        w.new_section().unwrap();
        w.write_other_block(ENHANCED_PACKET, &packet_body([0; 4], 1, 1, 1, b"a")).unwrap();
        let file = w.into_inner();
        let error = CaptureErrorKind::PacketBeforeInterface.at(SHB_LEN * 2 + 20);
        assert_eq!(read_all(&file).1, Some(error));
    }

    #[test]
    fn section_header_errors() {
        let good = PcapngWriter::new(Vec::new(), false).unwrap().into_inner();
        let mut bad_magic = good.clone();
        bad_magic[8..12].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(PacketReader::new(&bad_magic).unwrap_err(), CaptureErrorKind::BadByteOrderMagic(0x0102_0304).at(0));
        let mut version_2 = good.clone();
        version_2[12..14].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(PacketReader::new(&version_2).unwrap_err(), CaptureErrorKind::UnsupportedVersion(2, 0).at(0));
        let mut short = good.clone();
        short[4..8].copy_from_slice(&24u32.to_le_bytes());
        short.drain(20..24);
        short[20..24].copy_from_slice(&24u32.to_le_bytes());
        let kind = CaptureErrorKind::BlockTooShort { block_type: SECTION_HEADER, length: 24 };
        assert_eq!(PacketReader::new(&short).unwrap_err(), kind.at(0));
        // A later damaged section header is reported at its own offset.
        let mut two = good.clone();
        two.extend_from_slice(&bad_magic);
        let error = CaptureErrorKind::BadByteOrderMagic(0x0102_0304).at(SHB_LEN);
        assert_eq!(read_all(&two).1, Some(error));
    }

    #[test]
    fn clock_resolutions_offsets_and_saturation() {
        let micros = Clock::new(None, 0);
        assert_eq!(micros.to_nanos(1_500_000), 1_500_000_000);
        assert_eq!(Clock::new(Some(9), 0).to_nanos(7), 7);
        assert_eq!(Clock::new(Some(0), 0).to_nanos(3), 3_000_000_000);
        assert_eq!(Clock::new(Some(3), 0).to_nanos(3), 3_000_000);
        assert_eq!(Clock::new(Some(12), 0).to_nanos(5_000_999), 5_000);
        assert_eq!(Clock::new(Some(127), 0).to_nanos(u64::MAX), 0);
        assert_eq!(Clock::new(Some(0x80), 0).to_nanos(2), 2_000_000_000);
        assert_eq!(Clock::new(Some(0x80 | 20), 0).to_nanos(1 << 20), 1_000_000_000);
        assert_eq!(Clock::new(Some(0x80 | 20), 0).to_nanos(1), 953);
        assert_eq!(Clock::new(Some(0xff), 0).to_nanos(u64::MAX), 0);
        assert_eq!(Clock::new(None, 10).to_nanos(1), 10_000_001_000);
        assert_eq!(Clock::new(None, -10).to_nanos(0), -10_000_000_000);
        assert_eq!(Clock::new(Some(0), 0).to_nanos(u64::MAX), i64::MAX);
        assert_eq!(Clock::new(Some(0), i64::MAX).to_nanos(u64::MAX), i64::MAX);
        assert_eq!(Clock::new(Some(0), i64::MIN).to_nanos(0), i64::MIN);
    }

    #[test]
    fn interface_options_are_read_leniently() {
        let order = ByteOrder::Little;
        let mut options = vec![9, 0, 1, 0, 3, 0, 0, 0]; // if_tsresol = 3
        options.extend_from_slice(&[14, 0, 8, 0]); // if_tsoffset = 2 s
        options.extend_from_slice(&2i64.to_le_bytes());
        options.extend_from_slice(&[0, 0, 0, 0]);
        let clock = read_clock_options(&options, order);
        assert_eq!(clock, Clock::new(Some(3), 2));
        // An option running past the end stops the list; what came before still counts.
        let mut overrun = options[..8].to_vec();
        overrun.extend_from_slice(&[2, 0, 200, 0, 1]);
        assert_eq!(read_clock_options(&overrun, order), Clock::new(Some(3), 0));
        // A wrongly sized tsresol is ignored.
        assert_eq!(read_clock_options(&[9, 0, 2, 0, 3, 3, 0, 0], order), Clock::new(None, 0));
    }
}
