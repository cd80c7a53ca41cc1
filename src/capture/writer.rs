//! Writers for classic pcap and pcapng files.
//!
//! Why: tests and sample generation need captures with known ground truth, and `--extract`
//! writes the packets that matched. The output is what Wireshark and tcpdump expect: correct
//! magic numbers, padding to 32 bits, both pcapng block-length copies and a section length of
//! -1 (unknown). Each record or block is encoded into a reused buffer and handed to the sink
//! with a single `write_all`, so wrap the sink in a `BufWriter` only if it is slow per call.
//! Values a file cannot represent (a timestamp before 1970, a packet over 4 GiB, an unknown
//! interface) are rejected with `io::ErrorKind::InvalidInput` instead of being written wrong.

use super::pcap::{MAGIC_MICROS, MAGIC_NANOS};
use super::pcapng::{
    BYTE_ORDER_MAGIC, ENHANCED_PACKET, IF_TSRESOL, INTERFACE_DESCRIPTION, OPT_END, SECTION_HEADER, SIMPLE_PACKET,
};
use super::{linktype, ByteOrder};
use std::io::{self, Write};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Options for a classic pcap file.
#[derive(Clone, Copy, Debug)]
pub struct PcapOptions {
    /// `LINKTYPE_*` number written in the file header (see [`linktype`]).
    pub link_type: u32,
    /// Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds.
    pub nanos: bool,
    /// Write big-endian instead of little-endian.
    pub big_endian: bool,
    /// Snapshot length written in the file header.
    pub snaplen: u32,
}

impl Default for PcapOptions {
    /// Ethernet, microseconds, little endian, snaplen 262144 (what tcpdump writes).
    fn default() -> Self {
        PcapOptions { link_type: linktype::ETHERNET, nanos: false, big_endian: false, snaplen: 262_144 }
    }
}

/// Writes a classic pcap file: a file header, then one record per packet.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    sink: W,
    encoder: Encoder,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(sink: W, opts: PcapOptions) -> io::Result<Self> {
        let mut writer = PcapWriter { sink, encoder: Encoder::new(opts.big_endian), nanos: opts.nanos };
        let magic = if opts.nanos { MAGIC_NANOS } else { MAGIC_MICROS };
        let encoder = &mut writer.encoder;
        encoder.u32(magic).u16(2).u16(4); // version 2.4
        encoder.u32(0).u32(0); // thiszone, sigfigs
        encoder.u32(opts.snaplen).u32(opts.link_type);
        encoder.write_to(&mut writer.sink)?;
        Ok(writer)
    }

    /// Writes one packet record: `data` is what was captured, `orig_len` its length on the wire.
    pub fn write_packet(&mut self, ts_nanos: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let secs = u32::try_from(ts_nanos.div_euclid(NANOS_PER_SEC))
            .map_err(|_| invalid_input("pcap timestamps must lie between 1970 and 2106"))?;
        let fraction_nanos = ts_nanos.rem_euclid(NANOS_PER_SEC) as u32;
        let fraction = if self.nanos { fraction_nanos } else { fraction_nanos / 1_000 };
        let caplen = length_u32(data.len())?;
        let encoder = &mut self.encoder;
        encoder.u32(secs).u32(fraction).u32(caplen).u32(orig_len);
        encoder.bytes(data);
        encoder.write_to(&mut self.sink)
    }

    /// The sink, to flush it while writing goes on (a stream).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.sink
    }

    /// Gives back the sink.
    pub fn into_inner(self) -> W {
        self.sink
    }
}

/// Timestamp resolution of a pcapng interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsResolution {
    /// Units of 10^-n seconds (`Decimal(6)` is microseconds, the pcapng default).
    Decimal(u8),
    /// Units of 2^-n seconds.
    Binary(u8),
}

impl TsResolution {
    /// The `if_tsresol` option byte, or `None` if `n` does not fit its 7 bits.
    fn option_byte(self) -> Option<u8> {
        match self {
            TsResolution::Decimal(n) if n < 0x80 => Some(n),
            TsResolution::Binary(n) if n < 0x80 => Some(0x80 | n),
            _ => None,
        }
    }

    /// Whole units of this resolution in `ts_nanos` (rounded down).
    fn units(self, ts_nanos: i64) -> io::Result<u64> {
        let nanos = u128::try_from(ts_nanos).map_err(|_| invalid_input("pcapng timestamps cannot be before 1970"))?;
        let units = match self {
            TsResolution::Decimal(n) if n <= 9 => Some(nanos / 10u128.pow(u32::from(9 - n))),
            TsResolution::Decimal(n) => {
                10u128.checked_pow(u32::from(n - 9)).and_then(|factor| nanos.checked_mul(factor))
            }
            TsResolution::Binary(n) => 1u128
                .checked_shl(u32::from(n))
                .and_then(|factor| nanos.checked_mul(factor))
                .map(|scaled| scaled / NANOS_PER_SEC as u128),
        };
        units
            .and_then(|units| u64::try_from(units).ok())
            .ok_or_else(|| invalid_input("timestamp does not fit the interface's resolution"))
    }
}

/// What the writer remembers of an interface it described.
#[derive(Clone, Copy, Debug)]
struct WrittenInterface {
    snaplen: u32,
    tsresol: TsResolution,
}

/// Writes a pcapng file: a section header, interfaces, then packet blocks.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    sink: W,
    encoder: Encoder,
    interfaces: Vec<WrittenInterface>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes a Section Header Block in the chosen byte order.
    pub fn new(sink: W, big_endian: bool) -> io::Result<Self> {
        let mut writer = PcapngWriter { sink, encoder: Encoder::new(big_endian), interfaces: Vec::new() };
        writer.write_section_header()?;
        Ok(writer)
    }

    /// Writes an Interface Description Block and returns the new interface's id.
    ///
    /// `if_tsresol` is written unless the resolution is the default `Decimal(6)`.
    pub fn add_interface(&mut self, link_type: u32, snaplen: u32, tsresol: TsResolution) -> io::Result<u32> {
        let link_type = u16::try_from(link_type).map_err(|_| invalid_input("pcapng link types are 16-bit numbers"))?;
        let tsresol_byte =
            tsresol.option_byte().ok_or_else(|| invalid_input("timestamp resolution exponent must be below 128"))?;
        let id = u32::try_from(self.interfaces.len()).map_err(|_| invalid_input("too many interfaces"))?;
        let encoder = &mut self.encoder;
        encoder.begin_block(INTERFACE_DESCRIPTION);
        encoder.u16(link_type).u16(0).u32(snaplen);
        if tsresol != TsResolution::Decimal(6) {
            encoder.u16(IF_TSRESOL).u16(1).bytes(&[tsresol_byte]).pad();
            encoder.u16(OPT_END).u16(0);
        }
        encoder.end_block()?;
        encoder.write_to(&mut self.sink)?;
        self.interfaces.push(WrittenInterface { snaplen, tsresol });
        Ok(id)
    }

    /// Writes an Enhanced Packet Block on interface `iface`.
    pub fn write_enhanced(&mut self, iface: u32, ts_nanos: i64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let interface = usize::try_from(iface)
            .ok()
            .and_then(|index| self.interfaces.get(index))
            .ok_or_else(|| invalid_input("no such interface in this section"))?;
        let units = interface.tsresol.units(ts_nanos)?;
        let caplen = length_u32(data.len())?;
        let encoder = &mut self.encoder;
        encoder.begin_block(ENHANCED_PACKET);
        encoder.u32(iface).u32((units >> 32) as u32).u32(units as u32);
        encoder.u32(caplen).u32(orig_len).bytes(data);
        encoder.end_block()?;
        encoder.write_to(&mut self.sink)
    }

    /// Writes a Simple Packet Block (interface 0, no timestamp).
    ///
    /// Readers infer the captured length as `min(orig_len, snaplen of interface 0)`, so `data`
    /// must be exactly that long; anything else is rejected (craft odd blocks with
    /// [`write_other_block`](Self::write_other_block)).
    pub fn write_simple(&mut self, data: &[u8], orig_len: u32) -> io::Result<()> {
        let interface =
            self.interfaces.first().ok_or_else(|| invalid_input("a simple packet block needs interface 0"))?;
        let mut expected = u64::from(orig_len);
        if interface.snaplen != 0 {
            expected = expected.min(u64::from(interface.snaplen));
        }
        if data.len() as u64 != expected {
            return Err(invalid_input("simple packet data must be min(orig_len, snaplen) bytes long"));
        }
        let encoder = &mut self.encoder;
        encoder.begin_block(SIMPLE_PACKET);
        encoder.u32(orig_len).bytes(data);
        encoder.end_block()?;
        encoder.write_to(&mut self.sink)
    }

    /// Writes a block of any type with `body` as is (padded), e.g. a Name Resolution Block.
    ///
    /// The writer does not interpret it: an interface or section written this way is not
    /// known to [`write_enhanced`](Self::write_enhanced).
    pub fn write_other_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let encoder = &mut self.encoder;
        encoder.begin_block(block_type);
        encoder.bytes(body);
        encoder.end_block()?;
        encoder.write_to(&mut self.sink)
    }

    /// Starts another section with a new Section Header Block; interface ids start again at 0.
    pub fn new_section(&mut self) -> io::Result<()> {
        self.interfaces.clear();
        self.write_section_header()
    }

    /// Gives back the sink.
    pub fn into_inner(self) -> W {
        self.sink
    }

    /// A Section Header Block: version 1.0, section length -1 (unknown), no options.
    fn write_section_header(&mut self) -> io::Result<()> {
        let encoder = &mut self.encoder;
        encoder.begin_block(SECTION_HEADER);
        encoder.u32(BYTE_ORDER_MAGIC).u16(1).u16(0).u64(u64::MAX);
        encoder.end_block()?;
        encoder.write_to(&mut self.sink)
    }
}

/// Encodes one record or block into a buffer that is reused, so writing allocates only when a
/// packet is larger than any before.
#[derive(Debug)]
struct Encoder {
    order: ByteOrder,
    buf: Vec<u8>,
}

impl Encoder {
    fn new(big_endian: bool) -> Encoder {
        let order = if big_endian { ByteOrder::Big } else { ByteOrder::Little };
        Encoder { order, buf: Vec::new() }
    }

    fn u16(&mut self, value: u16) -> &mut Self {
        self.bytes(&self.order.u16_bytes(value))
    }

    fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes(&self.order.u32_bytes(value))
    }

    fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes(&self.order.u64_bytes(value))
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Zero bytes up to the next multiple of 4.
    fn pad(&mut self) -> &mut Self {
        self.buf.resize(self.buf.len().next_multiple_of(4), 0);
        self
    }

    /// Starts a pcapng block: its type and a length to be filled in by `end_block`.
    fn begin_block(&mut self, block_type: u32) {
        self.buf.clear();
        self.u32(block_type).u32(0);
    }

    /// Pads the body and writes the block length at both ends.
    fn end_block(&mut self) -> io::Result<()> {
        self.pad();
        let length = length_u32(self.buf.len() + 4)?;
        let encoded = self.order.u32_bytes(length);
        self.bytes(&encoded);
        if let Some(leading) = self.buf.get_mut(4..8) {
            leading.copy_from_slice(&encoded);
        }
        Ok(())
    }

    /// Hands the encoded bytes to `sink` and empties the buffer.
    fn write_to(&mut self, sink: &mut impl Write) -> io::Result<()> {
        let result = sink.write_all(&self.buf);
        self.buf.clear();
        result
    }
}

/// A length as the `u32` the formats store, or an error past 4 GiB.
fn length_u32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| invalid_input("packet or block longer than 4 GiB"))
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_header_bytes_are_exact() {
        let opts = PcapOptions { link_type: linktype::RAW, nanos: true, big_endian: true, snaplen: 65535 };
        let file = PcapWriter::new(Vec::new(), opts).unwrap().into_inner();
        assert_eq!(file, [0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 101]);
    }

    #[test]
    fn pcap_record_bytes_are_exact() {
        let mut writer = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
        writer.write_packet(3_000_004_999, b"xy", 70).unwrap();
        let file = writer.into_inner();
        assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&file[24..], &[3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 70, 0, 0, 0, b'x', b'y']);
    }

    #[test]
    fn pcap_rejects_timestamps_it_cannot_store() {
        let mut writer = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
        for ts in [-1, (1 << 32) * NANOS_PER_SEC] {
            let error = writer.write_packet(ts, b"", 0).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        }
        assert_eq!(writer.into_inner().len(), 24, "nothing written on error");
    }

    #[test]
    fn pcapng_blocks_are_padded_with_both_lengths() {
        let mut writer = PcapngWriter::new(Vec::new(), false).unwrap();
        writer.add_interface(linktype::ETHERNET, 0, TsResolution::Binary(20)).unwrap();
        writer.write_enhanced(0, 0, b"abcde", 5).unwrap();
        let file = writer.into_inner();
        let shb = [
            0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 28, 0, 0, 0,
        ];
        assert_eq!(&file[..28], &shb);
        let idb = [1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 0x94, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0];
        assert_eq!(&file[28..60], &idb);
        let epb = &file[60..];
        assert_eq!(epb.len(), 40);
        assert_eq!(&epb[4..8], &40u32.to_le_bytes());
        assert_eq!(&epb[28..36], b"abcde\0\0\0");
        assert_eq!(&epb[36..], &40u32.to_le_bytes());
    }

    #[test]
    fn big_endian_section_header() {
        let file = PcapngWriter::new(Vec::new(), true).unwrap().into_inner();
        assert_eq!(&file[4..12], &[0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d]);
    }

    #[test]
    fn timestamp_units_per_resolution() {
        let ts = 1_700_000_000_123_456_789;
        assert_eq!(TsResolution::Decimal(6).units(ts).unwrap(), 1_700_000_000_123_456);
        assert_eq!(TsResolution::Decimal(9).units(ts).unwrap(), ts as u64);
        assert_eq!(TsResolution::Decimal(0).units(ts).unwrap(), 1_700_000_000);
        assert_eq!(TsResolution::Decimal(10).units(5).unwrap(), 50);
        assert_eq!(TsResolution::Binary(0).units(ts).unwrap(), 1_700_000_000);
        assert_eq!(TsResolution::Binary(20).units(NANOS_PER_SEC).unwrap(), 1 << 20);
        assert!(TsResolution::Decimal(19).units(ts).is_err(), "overflows u64");
        assert!(TsResolution::Decimal(6).units(-1).is_err());
    }

    #[test]
    fn pcapng_rejects_what_it_cannot_represent() {
        let mut writer = PcapngWriter::new(Vec::new(), false).unwrap();
        let invalid = |result: io::Result<()>| {
            assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        };
        invalid(writer.write_enhanced(0, 0, b"", 0));
        invalid(writer.write_simple(b"", 0));
        invalid(writer.add_interface(70_000, 0, TsResolution::Decimal(6)).map(drop));
        invalid(writer.add_interface(1, 0, TsResolution::Binary(128)).map(drop));
        writer.add_interface(1, 10, TsResolution::Decimal(6)).unwrap();
        invalid(writer.write_enhanced(1, 0, b"", 0));
        invalid(writer.write_simple(b"abc", 20));
        writer.write_simple(&[0; 10], 20).unwrap();
        writer.new_section().unwrap();
        invalid(writer.write_enhanced(0, 0, b"", 0));
    }

    #[test]
    fn other_blocks_are_padded() {
        let mut writer = PcapngWriter::new(Vec::new(), false).unwrap();
        writer.write_other_block(0xBAD, &[1, 2, 3]).unwrap();
        let file = writer.into_inner();
        assert_eq!(&file[28..], &[0xad, 0x0b, 0, 0, 16, 0, 0, 0, 1, 2, 3, 0, 16, 0, 0, 0]);
    }
}
