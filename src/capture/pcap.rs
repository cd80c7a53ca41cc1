//! Reader for the classic libpcap file format.
//!
//! Why hand-written: the format is a 24-byte file header followed by records of a 16-byte header
//! and the packet bytes, so a few bounds-checked reads per record are all it takes, with no
//! copying and no allocation. Handles both byte orders, microsecond and nanosecond magic numbers,
//! and Alexey Kuznetsov's "modified" format whose record headers carry 8 more bytes.

use super::{ByteOrder, CaptureError, CaptureErrorKind, RawPacket};

/// Magic number of microsecond-resolution files.
pub(crate) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic number of nanosecond-resolution files.
pub(crate) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Magic number of the "modified" (Kuznetsov) format, microsecond resolution.
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Length of the file header.
pub(crate) const FILE_HEADER_LEN: usize = 24;
/// Length of a standard record header.
pub(crate) const RECORD_HEADER_LEN: usize = 16;

/// Extra record header bytes of the modified format: ifindex, protocol, packet type, padding.
const MODIFIED_EXTRA_LEN: usize = 8;
/// Largest captured length believed; anything above is a corrupt record header.
pub(crate) const MAX_CAPLEN: u32 = 0x0400_0000;
/// The major version every pcap writer uses.
const SUPPORTED_MAJOR_VERSION: u16 = 2;

/// Which flavour of pcap a magic number announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Variant {
    order: ByteOrder,
    nanos: bool,
    modified: bool,
}

impl Variant {
    /// Recognises a pcap magic number in either byte order.
    pub(crate) fn detect(magic: [u8; 4]) -> Option<Variant> {
        let little = u32::from_le_bytes(magic);
        let big = u32::from_be_bytes(magic);
        let (order, value) = if matches!(little, MAGIC_MICROS | MAGIC_NANOS | MAGIC_MODIFIED) {
            (ByteOrder::Little, little)
        } else {
            (ByteOrder::Big, big)
        };
        match value {
            MAGIC_MICROS => Some(Variant::new(order, false, false)),
            MAGIC_NANOS => Some(Variant::new(order, true, false)),
            MAGIC_MODIFIED => Some(Variant::new(order, false, true)),
            _ => None,
        }
    }

    fn new(order: ByteOrder, nanos: bool, modified: bool) -> Variant {
        Variant { order, nanos, modified }
    }
}

/// Iterates the records of a classic pcap file.
#[derive(Debug)]
pub(crate) struct PcapReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    state: PcapState,
}

/// What a pcap reader knows from the file header: all it needs to go on
/// reading records from another buffer (a stream's next chunk).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PcapState {
    order: ByteOrder,
    link_type: u32,
    /// Multiplier from the fraction field to nanoseconds (1000 for µs, 1 for ns).
    fraction_to_nanos: i64,
    /// Length of a record header (16, or 24 in the modified format).
    record_header_len: usize,
}

/// The fixed fields of a record header.
struct RecordHeader {
    ts_sec: u32,
    ts_fraction: u32,
    caplen: u32,
    orig_len: u32,
}

impl RecordHeader {
    /// Reads the header at the start of `rest`, or `None` if it is cut short.
    #[inline]
    fn parse(rest: &[u8], order: ByteOrder, header_len: usize) -> Option<RecordHeader> {
        if rest.len() < header_len {
            return None;
        }
        Some(RecordHeader {
            ts_sec: order.u32_at(rest, 0)?,
            ts_fraction: order.u32_at(rest, 4)?,
            caplen: order.u32_at(rest, 8)?,
            orig_len: order.u32_at(rest, 12)?,
        })
    }
}

impl<'a> PcapReader<'a> {
    /// Reads the file header of `bytes`, whose magic number announced `variant`.
    pub(crate) fn new(bytes: &'a [u8], variant: Variant) -> Result<PcapReader<'a>, CaptureError> {
        let header = bytes.get(..FILE_HEADER_LEN).ok_or(CaptureErrorKind::TruncatedFileHeader.at(0))?;
        let order = variant.order;
        let field16 = |at| order.u16_at(header, at).unwrap_or_default();
        let (major, minor) = (field16(4), field16(6));
        if major != SUPPORTED_MAJOR_VERSION {
            return Err(CaptureErrorKind::UnsupportedVersion(major, minor).at(0));
        }
        // The upper 16 bits hold FCS length and flags, not the link type.
        let link_type = order.u32_at(header, 20).unwrap_or_default() & 0xffff;
        let state = PcapState {
            order,
            link_type,
            fraction_to_nanos: if variant.nanos { 1 } else { 1_000 },
            record_header_len: if variant.modified {
                RECORD_HEADER_LEN + MODIFIED_EXTRA_LEN
            } else {
                RECORD_HEADER_LEN
            },
        };
        Ok(PcapReader { bytes, pos: FILE_HEADER_LEN, state })
    }

    /// Goes on reading at `pos` of `bytes` with the header knowledge of an earlier reader.
    pub(crate) fn resume(bytes: &'a [u8], pos: usize, state: PcapState) -> PcapReader<'a> {
        PcapReader { bytes, pos, state }
    }

    /// The header knowledge, for [`PcapReader::resume`].
    pub(crate) fn state(&self) -> PcapState {
        self.state
    }

    /// Offset of the next unread byte.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The next packet, an error at the damaged record, or `None` at a clean end of file.
    #[inline]
    pub(crate) fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        let rest = self.bytes.get(self.pos..).filter(|rest| !rest.is_empty())?;
        Some(self.read_record(rest).map_err(|kind| kind.at(self.pos)))
    }

    /// Reads the record at the start of `rest` and moves past it.
    #[inline]
    fn read_record(&mut self, rest: &'a [u8]) -> Result<RawPacket<'a>, CaptureErrorKind> {
        let state = self.state;
        let header_len = state.record_header_len;
        let header =
            RecordHeader::parse(rest, state.order, header_len).ok_or(CaptureErrorKind::TruncatedRecordHeader)?;
        if header.caplen > MAX_CAPLEN {
            return Err(CaptureErrorKind::CaplenTooLarge(header.caplen));
        }
        let end = header_len + header.caplen as usize;
        let data = rest
            .get(header_len..end)
            .ok_or(CaptureErrorKind::TruncatedPacket { needed: end as u64, available: rest.len() as u64 })?;
        let offset = self.pos as u64;
        self.pos += end;
        super::read_ahead(self.bytes, offset as usize..self.pos);
        // Cannot overflow: u32::MAX * 10^9 + u32::MAX * 1000 < i64::MAX.
        let ts_nanos =
            i64::from(header.ts_sec) * 1_000_000_000 + i64::from(header.ts_fraction) * state.fraction_to_nanos;
        let next = self.peek();
        Ok(RawPacket { ts_nanos, link_type: state.link_type, data, orig_len: header.orig_len, offset, next })
    }

    /// The captured bytes of the record at the reading position, if whole
    /// and sound; empty otherwise (see [`RawPacket::next`]).
    #[inline]
    fn peek(&self) -> &'a [u8] {
        let state = self.state;
        let header_len = state.record_header_len;
        let Some(rest) = self.bytes.get(self.pos..) else { return &[] };
        match RecordHeader::parse(rest, state.order, header_len) {
            Some(h) if h.caplen <= MAX_CAPLEN => rest.get(header_len..header_len + h.caplen as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_support::{assert_truncations, layout, read_all, Unit};
    use crate::capture::{linktype, PacketReader, PcapOptions, PcapWriter};

    /// (timestamp, data, orig_len) of the packets the round-trip files hold.
    fn sample_packets() -> Vec<(i64, Vec<u8>, u32)> {
        vec![
            (1_700_000_000_123_456_789, b"first packet".to_vec(), 12),
            (1_700_000_001_000_000_001, vec![0xab; 61], 1514),
            (0, Vec::new(), 0),
            (4_294_967_295_999_999_999, vec![7; 3], 3),
        ]
    }

    fn write_file(opts: PcapOptions) -> Vec<u8> {
        let mut writer = PcapWriter::new(Vec::new(), opts).unwrap();
        for (ts, data, orig_len) in sample_packets() {
            writer.write_packet(ts, &data, orig_len).unwrap();
        }
        writer.into_inner()
    }

    fn units_of(file_len: usize, header_len: usize) -> Vec<Unit> {
        let mut lengths = vec![(FILE_HEADER_LEN, false)];
        lengths.extend(sample_packets().iter().map(|(_, data, _)| (header_len + data.len(), true)));
        let units = layout(&lengths);
        assert_eq!(units.last().unwrap().end, file_len);
        units
    }

    #[test]
    fn round_trips_both_byte_orders_and_resolutions() {
        for big_endian in [false, true] {
            for nanos in [false, true] {
                let opts = PcapOptions { link_type: linktype::LINUX_SLL, nanos, big_endian, snaplen: 65535 };
                let file = write_file(opts);
                let magic = if nanos { MAGIC_NANOS } else { MAGIC_MICROS };
                let expected_magic = if big_endian { magic.to_be_bytes() } else { magic.to_le_bytes() };
                assert_eq!(file[..4], expected_magic);
                let (packets, error) = read_all(&file);
                assert_eq!(error, None);
                let units = units_of(file.len(), RECORD_HEADER_LEN);
                assert_eq!(packets.len(), 4);
                for ((packet, (ts, data, orig_len)), unit) in
                    packets.iter().zip(sample_packets()).zip(units.iter().skip(1))
                {
                    let resolution = if nanos { 1 } else { 1_000 };
                    assert_eq!(packet.ts_nanos, ts / resolution * resolution);
                    assert_eq!(packet.link_type, linktype::LINUX_SLL);
                    assert_eq!(packet.data, &data[..]);
                    assert_eq!(packet.orig_len, orig_len);
                    assert_eq!(packet.offset, unit.start as u64);
                }
            }
        }
    }

    #[test]
    fn each_packet_shows_the_next_ones_bytes_when_whole() {
        let file = write_file(PcapOptions::default());
        let mut reader = PacketReader::new(&file).unwrap();
        let mut seen = Vec::new();
        while let Some(Ok(p)) = reader.next() {
            seen.push((p.data.to_vec(), p.next.to_vec()));
        }
        let data: Vec<Vec<u8>> = sample_packets().into_iter().map(|p| p.1).collect();
        for (i, (_, next)) in seen.iter().enumerate() {
            assert_eq!(next, data.get(i + 1).unwrap_or(&Vec::new()), "packet {i}");
        }
        // The next record cut short: nothing to show.
        let cut = &file[..file.len() - 1];
        let mut reader = PacketReader::new(cut).unwrap();
        let third = reader.nth(2).unwrap().unwrap();
        assert!(third.next.is_empty());
    }

    #[test]
    fn caplen_below_orig_len_is_preserved() {
        let file = write_file(PcapOptions::default());
        let (packets, _) = read_all(&file);
        assert_eq!(packets[1].data.len(), 61);
        assert_eq!(packets[1].orig_len, 1514);
    }

    #[test]
    fn header_only_file_has_no_packets() {
        let file = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap().into_inner();
        assert_eq!(file.len(), FILE_HEADER_LEN);
        let (packets, error) = read_all(&file);
        assert!(packets.is_empty());
        assert_eq!(error, None);
    }

    #[test]
    fn link_type_upper_bits_are_masked() {
        let mut file = write_file(PcapOptions::default());
        // FCS length 4 and the F bit in the upper half of the link type field.
        file[20..24].copy_from_slice(&(0x9400_0000u32 | 1).to_le_bytes());
        let (packets, _) = read_all(&file);
        assert_eq!(packets[0].link_type, linktype::ETHERNET);
    }

    #[test]
    fn reads_a_hand_made_big_endian_micro_file() {
        let mut file = vec![0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 101];
        file.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 9, 0x45, 0x00]);
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].ts_nanos, 10_000_005_000);
        assert_eq!(packets[0].link_type, linktype::RAW);
        assert_eq!(packets[0].data, &[0x45, 0x00]);
        assert_eq!(packets[0].orig_len, 9);
        assert_eq!(packets[0].offset, 24);
    }

    #[test]
    fn reads_the_modified_format_skipping_its_extra_bytes() {
        let mut file = MAGIC_MODIFIED.to_le_bytes().to_vec();
        file.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
        for (ts, payload) in [(1u32, &b"ab"[..]), (2, &b"cde"[..])] {
            file.extend_from_slice(&ts.to_le_bytes());
            file.extend_from_slice(&250u32.to_le_bytes());
            file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            file.extend_from_slice(&[9, 9, 9, 9, 8, 0, 4, 0]); // ifindex, protocol, type, pad
            file.extend_from_slice(payload);
        }
        let (packets, error) = read_all(&file);
        assert_eq!(error, None);
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].data, b"ab");
        assert_eq!(packets[0].ts_nanos, 1_000_250_000);
        assert_eq!(packets[1].data, b"cde");
        assert_eq!(packets[1].offset, 24 + 24 + 2);
        let modified_big = MAGIC_MODIFIED.to_be_bytes();
        assert!(Variant::detect(modified_big).is_some_and(|v| v.modified));
    }

    #[test]
    fn accepts_other_minor_versions_and_rejects_other_majors() {
        let mut file = write_file(PcapOptions::default());
        file[6] = 3; // 2.3
        assert_eq!(read_all(&file).0.len(), 4);
        file[4] = 1; // 1.3
        assert_eq!(PacketReader::new(&file).unwrap_err(), CaptureErrorKind::UnsupportedVersion(1, 3).at(0));
    }

    #[test]
    fn caplen_too_large_is_reported_at_its_record() {
        let mut file = write_file(PcapOptions::default());
        let second = FILE_HEADER_LEN + RECORD_HEADER_LEN + 12;
        file[second + 8..second + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
        let (packets, error) = read_all(&file);
        assert_eq!(packets.len(), 1);
        assert_eq!(error, Some(CaptureErrorKind::CaplenTooLarge(MAX_CAPLEN + 1).at(second)));
    }

    #[test]
    fn caplen_at_the_limit_is_only_truncated() {
        let mut file = write_file(PcapOptions::default());
        let first = FILE_HEADER_LEN;
        file[first + 8..first + 12].copy_from_slice(&MAX_CAPLEN.to_le_bytes());
        let (_, error) = read_all(&file);
        let needed = (RECORD_HEADER_LEN as u64) + u64::from(MAX_CAPLEN);
        let available = (file.len() - first) as u64;
        assert_eq!(error, Some(CaptureErrorKind::TruncatedPacket { needed, available }.at(first)));
    }

    #[test]
    fn every_truncation_reads_what_is_complete_then_one_error() {
        for big_endian in [false, true] {
            let opts = PcapOptions { big_endian, ..Default::default() };
            let file = write_file(opts);
            let units = units_of(file.len(), RECORD_HEADER_LEN);
            assert_truncations(&file, &units, |unit, cut| {
                let available = cut - unit.start;
                if unit.start == 0 {
                    CaptureErrorKind::TruncatedFileHeader
                } else if available < RECORD_HEADER_LEN {
                    CaptureErrorKind::TruncatedRecordHeader
                } else {
                    CaptureErrorKind::TruncatedPacket {
                        needed: (unit.end - unit.start) as u64,
                        available: available as u64,
                    }
                }
            });
        }
    }
}
