//! Offline capture files: pcap and pcapng read without libpcap, and written back.
//!
//! Why it exists: ferret analyses captures of many gigabytes, so reading is zero-copy (every
//! [`RawPacket`] borrows from one buffer, usually a memory map), does no heap allocation per
//! packet, and never panics on hostile or truncated input: each problem becomes a small `Copy`
//! [`CaptureError`] carrying the byte offset where it was found, so the caller can report it
//! and keep everything read before it.
//!
//! [`CaptureData`] owns the bytes, [`PacketReader`] detects the format from the magic number and
//! iterates packets, and [`writer`] produces files for tests, sample generation and extraction.

#[cfg(feature = "live")]
pub mod live;
pub mod live_help;
mod pcap;
mod pcapng;
pub mod source;
pub mod stream;
pub mod writer;

pub use source::{Poll, Source};
pub use stream::StreamReader;
pub use writer::{PcapOptions, PcapWriter, PcapngWriter, TsResolution};

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Well-known link types (`LINKTYPE_*` numbers from the tcpdump.org registry).
pub mod linktype {
    /// BSD loopback: a 4-byte address family in host byte order, then the packet.
    pub const NULL: u32 = 0;
    /// IEEE 802.3 Ethernet.
    pub const ETHERNET: u32 = 1;
    /// Raw IP as written by some BSDs (DLT_RAW = 12).
    pub const BSD_RAW_12: u32 = 12;
    /// Raw IP as written by OpenBSD (DLT_RAW = 14).
    pub const BSD_RAW_14: u32 = 14;
    /// Raw IP, version taken from the first nibble.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux "cooked" capture, version 1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux "cooked" capture, version 2.
    pub const LINUX_SLL2: u32 = 276;
}

/// Owns the bytes of a capture: a memory map of a file, or a buffer read from stdin.
pub struct CaptureData {
    storage: Storage,
}

/// Where the bytes of a [`CaptureData`] live.
enum Storage {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl CaptureData {
    /// Memory-maps the file at `path`; an empty file gives an empty buffer, not an error.
    ///
    /// Something that is not a regular file (a FIFO, `/dev/stdin`) is read into memory instead.
    pub fn open(path: &Path) -> io::Result<CaptureData> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Self::from_reader(file);
        }
        Self::map_file(&file)
    }

    /// Memory-maps a regular file; an empty file gives an empty buffer.
    pub fn map_file(file: &File) -> io::Result<CaptureData> {
        if file.metadata()?.len() == 0 {
            return Ok(Self::from_vec(Vec::new()));
        }
        // SAFETY: the map is read-only and private to this value. If another process truncates
        // the file while it is mapped, reads past the new end fault (SIGBUS); every mmap-based
        // reader accepts that risk (ripgrep does too) in exchange for zero-copy reading.
        let map = unsafe { memmap2::Mmap::map(file)? };
        #[cfg(unix)]
        {
            // A hint only: reading still works if the kernel refuses it.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        Ok(CaptureData { storage: Storage::Mapped(map) })
    }

    /// Reads everything from `reader` into memory (used for `-`, standard input).
    pub fn from_reader(mut reader: impl Read) -> io::Result<CaptureData> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Ok(Self::from_vec(bytes))
    }

    /// Wraps bytes already in memory.
    pub fn from_vec(bytes: Vec<u8>) -> CaptureData {
        CaptureData { storage: Storage::Owned(bytes) }
    }

    /// Maps the pages of `range` in now (Linux 5.14 and later; a hint only),
    /// so that whoever reads them next does not stop at a page fault on each:
    /// the threaded scan has a worker do it for the reader, ahead of it.
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Storage::Mapped(map) = &self.storage {
            let start = range.start.min(map.len());
            let len = range.end.min(map.len()).saturating_sub(start);
            if len > 0 {
                let _ = map.advise_range(memmap2::Advice::PopulateRead, start, len);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = range;
    }

    /// Tells the kernel the pages before `offset` will not be read again, so a
    /// long file scan keeps a bounded resident set instead of the whole file's
    /// pages. Packets already read must no longer be borrowed from those pages
    /// (reading them again is still correct: the pages fault back in from the file).
    pub fn release_before(&self, offset: usize) {
        #[cfg(unix)]
        if let Storage::Mapped(map) = &self.storage {
            let len = offset.min(map.len());
            if len > 0 {
                // SAFETY: the map is a private, read-only mapping of a file: after
                // MADV_DONTNEED its pages read the file's bytes again, which is the
                // same content every slice of the map was made from. A hint only.
                let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, len) };
            }
        }
        #[cfg(not(unix))]
        let _ = offset;
    }

    /// The whole capture.
    pub fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Mapped(map) => map,
            Storage::Owned(bytes) => bytes,
        }
    }
}

impl fmt::Debug for CaptureData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.storage {
            Storage::Mapped(_) => "mapped",
            Storage::Owned(_) => "owned",
        };
        f.debug_struct("CaptureData").field("storage", &kind).field("len", &self.bytes().len()).finish()
    }
}

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format (including the nanosecond and "modified" variants).
    Pcap,
    /// pcapng (blocks, several interfaces and sections).
    Pcapng,
}

/// One packet, borrowed from the capture buffer.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_nanos: i64,
    /// `LINKTYPE_*` number of the interface the packet was captured on (see [`linktype`]).
    pub link_type: u32,
    /// The captured bytes (caplen of them), borrowed without copying.
    pub data: &'a [u8],
    /// Length of the packet on the wire, which may exceed `data.len()`.
    pub orig_len: u32,
    /// Byte offset of this packet's record (pcap) or block (pcapng) in the file.
    pub offset: u64,
    /// The next packet's captured bytes when the source holds them already
    /// (a mapped or buffered pcap file), else empty: a hint, so that what
    /// processing that packet will need can be loaded while this one is
    /// processed ([`crate::engine::Engine::preload`]). Never read as a packet.
    pub next: &'a [u8],
}

/// A capture that cannot be read further, and where the problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte offset {offset}: {kind}")]
pub struct CaptureError {
    /// Start of the file header, record or block that is damaged.
    pub offset: u64,
    /// What is wrong with it.
    pub kind: CaptureErrorKind,
}

/// What is wrong with a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptureErrorKind {
    /// The file has no bytes at all.
    #[error("the capture file is empty")]
    Empty,
    /// The first four bytes (shown in file order) are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng file (the file starts with {0:#010x})")]
    UnknownMagic(u32),
    /// The file ends inside the pcap file header or the first pcapng section header.
    #[error("the file header is truncated")]
    TruncatedFileHeader,
    /// The format version is not one this reader understands (major, minor).
    #[error("unsupported capture format version {0}.{1}")]
    UnsupportedVersion(u16, u16),
    /// The file ends inside a pcap packet record header.
    #[error("the file ends inside a packet record header")]
    TruncatedRecordHeader,
    /// The file ends inside a pcap packet record.
    #[error("packet record truncated: it needs {needed} bytes but only {available} are left")]
    TruncatedPacket {
        /// Bytes the record occupies, from its start.
        needed: u64,
        /// Bytes left in the file, from the record's start.
        available: u64,
    },
    /// A pcap record claims more captured bytes than any real packet has (corrupt header).
    #[error("captured length {0} exceeds the 64 MiB limit (corrupt record header)")]
    CaplenTooLarge(u32),
    /// The file ends inside the 8-byte header of a pcapng block (12 bytes for a section header).
    #[error("the file ends inside a pcapng block header")]
    TruncatedBlockHeader,
    /// The file ends inside a pcapng block.
    #[error("pcapng block truncated: it needs {needed} bytes but only {available} are left")]
    TruncatedBlock {
        /// Bytes the block occupies according to its length field.
        needed: u64,
        /// Bytes left in the file, from the block's start.
        available: u64,
    },
    /// A pcapng block length below 12 or not a multiple of 4.
    #[error("invalid pcapng block length {0} (must be at least 12 and a multiple of 4)")]
    BadBlockLength(u32),
    /// The length copy at the end of a pcapng block differs from the one at its start.
    #[error("pcapng block length {leading} does not match its trailing copy {trailing}")]
    BlockLengthMismatch {
        /// Length at the start of the block.
        leading: u32,
        /// Length at the end of the block.
        trailing: u32,
    },
    /// A pcapng block too short for the fixed fields of its type.
    #[error("pcapng block of type {block_type:#x} is too short ({length} bytes)")]
    BlockTooShort {
        /// The block type.
        block_type: u32,
        /// Its total length.
        length: u32,
    },
    /// A section header whose byte-order magic (shown in file order) is not 0x1A2B3C4D.
    #[error("invalid pcapng byte-order magic {0:#010x}")]
    BadByteOrderMagic(u32),
    /// A pcapng packet block whose captured length does not fit inside the block.
    #[error("captured length {caplen} does not fit in the {room} bytes the block has for it")]
    CaplenExceedsBlock {
        /// Captured length claimed by the block.
        caplen: u32,
        /// Bytes the block has after its fixed fields.
        room: u64,
    },
    /// A packet refers to an interface the current section has not described.
    #[error("packet refers to interface {0}, which the section does not describe")]
    UnknownInterface(u32),
    /// A packet block comes before any Interface Description Block of its section.
    #[error("packet block before any interface description block")]
    PacketBeforeInterface,
    /// A record or block in a stream larger than a stream may buffer.
    #[error("a record of {0} bytes is larger than the {limit} MiB a stream may buffer", limit = stream::MAX_RECORD_BYTES >> 20)]
    RecordTooLarge(u64),
}

impl CaptureErrorKind {
    /// True when the capture merely ends inside a header, record or block: in a
    /// stream that means "wait for more bytes", in a file it is damage.
    pub fn is_truncation(self) -> bool {
        matches!(
            self,
            CaptureErrorKind::Empty
                | CaptureErrorKind::TruncatedFileHeader
                | CaptureErrorKind::TruncatedRecordHeader
                | CaptureErrorKind::TruncatedPacket { .. }
                | CaptureErrorKind::TruncatedBlockHeader
                | CaptureErrorKind::TruncatedBlock { .. }
        )
    }

    /// Bytes the damaged record or block needs from its start, when the error says.
    pub(crate) fn needed(self) -> Option<u64> {
        match self {
            CaptureErrorKind::TruncatedPacket { needed, .. } | CaptureErrorKind::TruncatedBlock { needed, .. } => {
                Some(needed)
            }
            _ => None,
        }
    }

    /// Attaches the byte offset where the problem was found.
    pub(crate) fn at(self, offset: usize) -> CaptureError {
        CaptureError { offset: offset as u64, kind: self }
    }
}

/// Iterates the packets of a pcap or pcapng capture held in memory.
#[derive(Debug)]
pub struct PacketReader<'a> {
    format: FormatReader<'a>,
    fused: bool,
}

/// What a suspended [`PacketReader`] knows of its capture's format.
#[derive(Debug)]
pub(crate) enum ReaderState {
    Pcap(pcap::PcapState),
    Pcapng(pcapng::PcapngState),
}

/// The reader for the detected format.
#[derive(Debug)]
enum FormatReader<'a> {
    Pcap(pcap::PcapReader<'a>),
    Pcapng(pcapng::PcapngReader<'a>),
}

impl<'a> PacketReader<'a> {
    /// Detects the format from the magic number and reads the file header / first section header.
    pub fn new(bytes: &'a [u8]) -> Result<PacketReader<'a>, CaptureError> {
        let Some(&magic) = bytes.first_chunk::<4>() else {
            let kind = if bytes.is_empty() { CaptureErrorKind::Empty } else { CaptureErrorKind::TruncatedFileHeader };
            return Err(kind.at(0));
        };
        let format = if pcapng::is_pcapng_magic(magic) {
            FormatReader::Pcapng(pcapng::PcapngReader::new(bytes)?)
        } else if let Some(variant) = pcap::Variant::detect(magic) {
            FormatReader::Pcap(pcap::PcapReader::new(bytes, variant)?)
        } else {
            return Err(CaptureErrorKind::UnknownMagic(u32::from_be_bytes(magic)).at(0));
        };
        Ok(PacketReader { format, fused: false })
    }

    /// The container format of the capture.
    pub fn format(&self) -> CaptureFormat {
        match self.format {
            FormatReader::Pcap(_) => CaptureFormat::Pcap,
            FormatReader::Pcapng(_) => CaptureFormat::Pcapng,
        }
    }

    /// Stops reading: what the reader knows of the format and where it got to,
    /// so that [`PacketReader::resume`] can go on in another buffer.
    pub(crate) fn suspend(self) -> (ReaderState, usize) {
        match self.format {
            FormatReader::Pcap(r) => (ReaderState::Pcap(r.state()), r.position()),
            FormatReader::Pcapng(r) => {
                let pos = r.position();
                (ReaderState::Pcapng(r.into_state()), pos)
            }
        }
    }

    /// Goes on reading at `pos` of `bytes`, which continue the capture a reader was suspended in.
    pub(crate) fn resume(bytes: &'a [u8], pos: usize, state: ReaderState) -> PacketReader<'a> {
        let format = match state {
            ReaderState::Pcap(s) => FormatReader::Pcap(pcap::PcapReader::resume(bytes, pos, s)),
            ReaderState::Pcapng(s) => FormatReader::Pcapng(pcapng::PcapngReader::resume(bytes, pos, s)),
        };
        PacketReader { format, fused: false }
    }

    /// Offset of the next unread byte (how far reading got).
    ///
    /// After an error this is the start of the damaged record or block.
    pub fn position(&self) -> u64 {
        let position = match &self.format {
            FormatReader::Pcap(reader) => reader.position(),
            FormatReader::Pcapng(reader) => reader.position(),
        };
        position as u64
    }
}

impl<'a> Iterator for PacketReader<'a> {
    type Item = Result<RawPacket<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.fused {
            return None;
        }
        let item = match &mut self.format {
            FormatReader::Pcap(reader) => reader.next_packet(),
            FormatReader::Pcapng(reader) => reader.next_packet(),
        };
        if matches!(item, Some(Err(_))) {
            self.fused = true;
        }
        item
    }
}

impl std::iter::FusedIterator for PacketReader<'_> {}

/// How far ahead of the reader a capture's bytes are asked for (see [`read_ahead`]).
const READ_AHEAD: usize = 8192;

/// Asks the CPU for the bytes of `bytes` that lie [`READ_AHEAD`] beyond
/// `read`, the record just read. Each record's header is found only once the
/// one before it is read: a cache miss the CPU cannot foresee, since records
/// are hundreds of bytes apart (it was two thirds of reading a capture).
/// Asking for each record's span again further on means the reader finds the
/// next headers, and the decoder the packets, already in cache.
#[inline]
fn read_ahead(bytes: &[u8], read: std::ops::Range<usize>) {
    let start = read.start.saturating_add(READ_AHEAD).min(bytes.len());
    let end = read.end.saturating_add(READ_AHEAD).min(bytes.len());
    crate::prefetch::prefetch_lines(bytes.get(start..end).unwrap_or(&[]));
}

/// Byte order of multi-byte fields in a file (pcap header, pcapng section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    /// Reads the `u16` at `at`, or `None` past the end.
    #[inline]
    pub(crate) fn u16_at(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw = *bytes.get(at..)?.first_chunk::<2>()?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(raw),
            ByteOrder::Big => u16::from_be_bytes(raw),
        })
    }

    /// Reads the `u32` at `at`, or `None` past the end.
    #[inline]
    pub(crate) fn u32_at(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw = *bytes.get(at..)?.first_chunk::<4>()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(raw),
            ByteOrder::Big => u32::from_be_bytes(raw),
        })
    }

    /// Reads the `u64` at `at`, or `None` past the end.
    #[inline]
    pub(crate) fn u64_at(self, bytes: &[u8], at: usize) -> Option<u64> {
        let raw = *bytes.get(at..)?.first_chunk::<8>()?;
        Some(match self {
            ByteOrder::Little => u64::from_le_bytes(raw),
            ByteOrder::Big => u64::from_be_bytes(raw),
        })
    }

    /// Encodes a `u16` in this byte order.
    pub(crate) fn u16_bytes(self, value: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }

    /// Encodes a `u32` in this byte order.
    pub(crate) fn u32_bytes(self, value: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }

    /// Encodes a `u64` in this byte order.
    pub(crate) fn u64_bytes(self, value: u64) -> [u8; 8] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }
}

/// Helpers shared by the tests of the capture files.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Everything a reader yields: the packets, then the error that stopped it (if any).
    pub(crate) fn read_all(bytes: &[u8]) -> (Vec<RawPacket<'_>>, Option<CaptureError>) {
        let reader = match PacketReader::new(bytes) {
            Ok(reader) => reader,
            Err(error) => return (Vec::new(), Some(error)),
        };
        let mut packets = Vec::new();
        let mut error = None;
        // A bound that catches a reader that never ends: every item consumes at least 12 bytes.
        let mut reader = reader.take(bytes.len() + 2);
        for item in reader.by_ref() {
            match item {
                Ok(packet) => packets.push(packet),
                Err(e) => {
                    assert!(error.is_none(), "a second error after {error:?}: {e:?}");
                    error = Some(e);
                }
            }
        }
        assert!(packets.len() + usize::from(error.is_some()) <= bytes.len() / 12 + 1, "reader yielded too many items");
        (packets, error)
    }

    /// One record or block of a file: where it starts and ends, and whether it is a packet.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Unit {
        pub(crate) start: usize,
        pub(crate) end: usize,
        pub(crate) is_packet: bool,
    }

    /// Lays units end to end from their lengths.
    pub(crate) fn layout(lengths: &[(usize, bool)]) -> Vec<Unit> {
        let mut start = 0;
        lengths
            .iter()
            .map(|&(len, is_packet)| {
                let unit = Unit { start, end: start + len, is_packet };
                start += len;
                unit
            })
            .collect()
    }

    /// Cuts `file` at every length and checks what the reader makes of each prefix.
    ///
    /// Every complete packet before the cut is read; then the reader ends cleanly if the cut is
    /// at a unit boundary, or yields exactly one error at the start of the cut unit, whose kind
    /// `expected_kind(unit, cut)` gives.
    pub(crate) fn assert_truncations(
        file: &[u8],
        units: &[Unit],
        expected_kind: impl Fn(Unit, usize) -> CaptureErrorKind,
    ) {
        assert_eq!(units.last().map(|u| u.end), Some(file.len()));
        let (all_packets, error) = read_all(file);
        assert_eq!(error, None);
        for cut in 0..=file.len() {
            let prefix = &file[..cut];
            let (packets, error) = read_all(prefix);
            let complete = units.iter().filter(|u| u.is_packet && u.end <= cut).count();
            assert_eq!(packets.len(), complete, "cut at {cut}");
            for (got, want) in packets.iter().zip(&all_packets) {
                assert_eq!(got.offset, want.offset, "cut at {cut}");
                assert_eq!(got.data, want.data, "cut at {cut}");
                assert_eq!(got.ts_nanos, want.ts_nanos, "cut at {cut}");
            }
            let damaged = units.iter().find(|u| u.start < cut && cut < u.end);
            let expected = match damaged {
                _ if cut == 0 => Some(CaptureErrorKind::Empty.at(0)),
                Some(&unit) => Some(expected_kind(unit, cut).at(unit.start)),
                None => None,
            };
            assert_eq!(error, expected, "cut at {cut}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::read_all;
    use super::*;
    use proptest::prelude::*;
    use std::io::Write as _;
    use std::path::PathBuf;

    #[test]
    fn read_ahead_takes_any_range_near_or_past_the_end() {
        let bytes = vec![0u8; 3 * READ_AHEAD];
        for start in [0, 1, READ_AHEAD - 1, 2 * READ_AHEAD, 3 * READ_AHEAD, usize::MAX - 1] {
            for len in [0, 1, 63, 64, 1500, usize::MAX] {
                read_ahead(&bytes, start..start.saturating_add(len));
            }
        }
        read_ahead(&[], 0..10);
    }

    fn small_pcap() -> Vec<u8> {
        let mut writer = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
        writer.write_packet(1_000, b"abc", 3).unwrap();
        writer.write_packet(2_000, b"defg", 60).unwrap();
        writer.into_inner()
    }

    fn small_pcapng() -> Vec<u8> {
        let mut writer = PcapngWriter::new(Vec::new(), false).unwrap();
        writer.add_interface(linktype::ETHERNET, 0, TsResolution::Decimal(6)).unwrap();
        writer.write_enhanced(0, 5_000, b"hello", 5).unwrap();
        writer.write_simple(b"xy", 2).unwrap();
        writer.into_inner()
    }

    #[test]
    fn empty_input_is_a_typed_error_at_zero() {
        let error = PacketReader::new(&[]).unwrap_err();
        assert_eq!(error, CaptureErrorKind::Empty.at(0));
        assert_eq!(error.to_string(), "at byte offset 0: the capture file is empty");
    }

    #[test]
    fn fewer_than_four_bytes_is_a_truncated_header() {
        let error = PacketReader::new(&[0xd4, 0xc3, 0xb2]).unwrap_err();
        assert_eq!(error, CaptureErrorKind::TruncatedFileHeader.at(0));
    }

    #[test]
    fn unknown_magic_is_shown_in_file_order() {
        let error = PacketReader::new(b"PK\x03\x04rest of a zip").unwrap_err();
        assert_eq!(error, CaptureErrorKind::UnknownMagic(0x504b_0304).at(0));
        assert!(error.to_string().contains("0x504b0304"), "{error}");
    }

    #[test]
    fn detects_both_formats() {
        let pcap = small_pcap();
        let pcapng = small_pcapng();
        assert_eq!(PacketReader::new(&pcap).unwrap().format(), CaptureFormat::Pcap);
        assert_eq!(PacketReader::new(&pcapng).unwrap().format(), CaptureFormat::Pcapng);
    }

    #[test]
    fn position_tracks_reading_and_stays_at_the_damage() {
        let mut file = small_pcap();
        let mut reader = PacketReader::new(&file).unwrap();
        assert_eq!(reader.position(), 24);
        reader.next().unwrap().unwrap();
        assert_eq!(reader.position(), 24 + 16 + 3);
        reader.next().unwrap().unwrap();
        assert_eq!(reader.position(), file.len() as u64);
        assert!(reader.next().is_none());

        file.truncate(file.len() - 1);
        let mut reader = PacketReader::new(&file).unwrap();
        reader.next().unwrap().unwrap();
        let error = reader.next().unwrap().unwrap_err();
        assert_eq!(error.offset, 43);
        assert_eq!(reader.position(), 43);
    }

    #[test]
    fn iterator_is_fused_after_an_error() {
        let mut file = small_pcap();
        file.truncate(file.len() - 1);
        let mut reader = PacketReader::new(&file).unwrap();
        assert!(reader.next().unwrap().is_ok());
        assert!(reader.next().unwrap().is_err());
        assert!(reader.next().is_none());
        assert!(reader.next().is_none());
    }

    #[test]
    fn capture_data_from_file_stdin_and_vec() {
        let file_bytes = small_pcapng();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&file_bytes).unwrap();
        file.flush().unwrap();
        let mapped = CaptureData::open(file.path()).unwrap();
        assert_eq!(mapped.bytes(), &file_bytes[..]);
        assert!(format!("{mapped:?}").contains("mapped"));

        let read = CaptureData::from_reader(&file_bytes[..]).unwrap();
        assert_eq!(read.bytes(), &file_bytes[..]);
        assert_eq!(CaptureData::from_vec(vec![1, 2]).bytes(), &[1, 2]);
        assert_eq!(read_all(mapped.bytes()).0.len(), 2);
    }

    #[test]
    fn empty_file_opens_as_an_empty_buffer() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let data = CaptureData::open(file.path()).unwrap();
        assert!(data.bytes().is_empty());
        assert_eq!(PacketReader::new(data.bytes()).unwrap_err().kind, CaptureErrorKind::Empty);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = CaptureData::open(&dir.path().join("nope.pcap")).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }

    /// Checks the invariants every read must keep, whatever the input.
    fn assert_sane_read(bytes: &[u8]) {
        let (packets, _) = read_all(bytes);
        let range = bytes.as_ptr_range();
        let mut last_offset = None;
        for packet in &packets {
            let data = packet.data.as_ptr_range();
            assert!(range.start <= data.start && data.end <= range.end);
            assert!(packet.offset < bytes.len() as u64);
            assert!(last_offset < Some(packet.offset), "offsets must increase");
            last_offset = Some(packet.offset);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            assert_sane_read(&bytes);
        }

        #[test]
        fn arbitrary_bytes_after_valid_headers_never_panic(
            header in 0usize..4,
            tail in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let mut file = match header {
                0 => small_pcap()[..24].to_vec(),
                1 => {
                    let opts = PcapOptions { big_endian: true, nanos: true, ..Default::default() };
                    PcapWriter::new(Vec::new(), opts).unwrap().into_inner()
                }
                2 => PcapngWriter::new(Vec::new(), true).unwrap().into_inner(),
                _ => small_pcapng()[..48].to_vec(),
            };
            file.extend_from_slice(&tail);
            assert_sane_read(&file);
        }

        #[test]
        fn mutated_valid_files_never_panic(
            pcapng in any::<bool>(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let mut file = if pcapng { small_pcapng() } else { small_pcap() };
            for (at, value) in edits {
                let len = file.len();
                file[at % len] = value;
            }
            assert_sane_read(&file);
        }
    }

    /// The shared corpus of real captures, if this machine has it.
    fn corpus_dir() -> Option<PathBuf> {
        let candidates = [
            std::env::var_os("FERRET_PCAPS").map(PathBuf::from),
            Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps")),
            Some(PathBuf::from("/work/shared/pcaps")),
        ];
        candidates.into_iter().flatten().find(|dir| dir.is_dir())
    }

    /// `local_path -> packets` from the corpus manifest (the leading number of the column).
    fn manifest_counts(dir: &Path) -> Vec<(String, u64)> {
        let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let path_col = header.iter().position(|c| *c == "local_path").unwrap();
        let packets_col = header.iter().position(|c| *c == "packets").unwrap();
        lines
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let count: String = cols[packets_col].chars().take_while(char::is_ascii_digit).collect();
                (cols[path_col].to_string(), count.parse().unwrap())
            })
            .collect()
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).filter(|path| path.is_file()).collect();
        files.sort();
        files
    }

    #[test]
    fn real_captures_read_fully_with_manifest_counts() {
        let Some(dir) = corpus_dir() else {
            eprintln!("skipping: the shared pcaps folder (../shared/pcaps) is absent");
            return;
        };
        let manifest = manifest_counts(&dir);
        let mut checked = 0;
        for sub in ["benign", "tunnel-dns", "tunnel-icmp"] {
            for path in files_in(&dir.join(sub)) {
                let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
                let data = CaptureData::open(&path).unwrap();
                let (packets, error) = read_all(data.bytes());
                assert_eq!(error, None, "{name}");
                eprintln!("{name}: {} packets", packets.len());
                let expected = manifest.iter().find(|(p, _)| *p == name).map(|(_, n)| *n);
                assert_eq!(Some(packets.len() as u64), expected, "{name}");
                checked += 1;
            }
        }
        assert!(checked > 0, "no captures found under {}", dir.display());
    }

    #[test]
    fn odd_captures_never_panic() {
        let Some(dir) = corpus_dir() else {
            eprintln!("skipping: the shared pcaps folder (../shared/pcaps) is absent");
            return;
        };
        let (mut files, mut errors, mut packets) = (0, 0, 0);
        for path in files_in(&dir.join("odd")) {
            let data = CaptureData::open(&path).unwrap();
            let (read, error) = read_all(data.bytes());
            if let Some(error) = error {
                eprintln!("{}: {error}", path.display());
                errors += 1;
            }
            files += 1;
            packets += read.len();
        }
        eprintln!("odd: {files} files, {packets} packets, {errors} with errors");
    }
}
