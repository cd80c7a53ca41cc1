//! Captures read as a stream: standard input, named pipes, sockets.
//!
//! Why it exists: `tcpdump -w - | ferret scan -` never ends, so it cannot be
//! read whole before scanning. [`StreamReader`] keeps one small buffer, hands
//! out every complete packet in it as a borrowed slice (the same [`RawPacket`]
//! a memory-mapped file gives), moves the unfinished tail to the front and
//! reads on. Memory stays at the buffer's size plus the largest record, and a
//! packet is scanned as soon as its last byte arrives.
//!
//! The format readers are the file readers, suspended at the end of one
//! buffer and resumed in the next (`PacketReader::suspend`); a record cut by
//! the buffer's end is "wait for more", a record cut by the stream's end is
//! damage, reported with its offset in the stream as for a file.

use std::io::{self, Read};
use std::ops::ControlFlow;

use super::{CaptureError, CaptureErrorKind, PacketReader, RawPacket, ReaderState};

/// Bytes asked of the input per read.
const CHUNK_BYTES: usize = 256 << 10;

/// The largest record or block a stream may buffer: a packet of the 64 MiB
/// captured-length limit plus its headers. Anything claiming more is damage.
pub const MAX_RECORD_BYTES: u64 = (64 << 20) + 4096;

/// Where a reader stands in a sequence of buffers: the format it detected and
/// the next unread byte.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    state: Option<ReaderState>,
    pos: usize,
}

impl Cursor {
    /// Offset of the next unread byte of the current buffer.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Hands the packets of `bytes[pos..]` to `each`, at most `max` of them.
    ///
    /// `base` is the capture offset of `bytes[0]` (added to packet and error
    /// offsets); `complete` says no byte will follow `bytes`, so a cut record
    /// is damage rather than a reason to wait. Returns how many packets were
    /// handed over; the cursor stays on the first unread record.
    pub(crate) fn drain(
        &mut self,
        bytes: &[u8],
        base: u64,
        complete: bool,
        max: usize,
        each: &mut impl FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    ) -> Result<usize, CaptureError> {
        let reader = match self.state.take() {
            Some(state) => PacketReader::resume(bytes, self.pos, state),
            None => match PacketReader::new(bytes) {
                Ok(reader) => reader,
                Err(e) if e.kind.is_truncation() && !complete => return Ok(0),
                Err(e) => return Err(shift(e, base)),
            },
        };
        let mut reader = reader;
        let mut count = 0;
        let mut failure = None;
        while count < max {
            match reader.next() {
                Some(Ok(mut raw)) => {
                    raw.offset += base;
                    count += 1;
                    if each(&raw).is_break() {
                        break;
                    }
                }
                Some(Err(e)) => {
                    if complete || !e.kind.is_truncation() {
                        failure = Some(shift(e, base));
                    } else if let Some(needed) = e.kind.needed().filter(|&n| n > MAX_RECORD_BYTES) {
                        failure = Some(shift(CaptureErrorKind::RecordTooLarge(needed).at(e.offset as usize), base));
                    }
                    break;
                }
                None => break,
            }
        }
        let (state, pos) = reader.suspend();
        self.state = Some(state);
        self.pos = pos;
        match failure {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// The buffer lost its first `n` bytes (moved to the front); positions follow.
    fn consumed(&mut self, n: usize) {
        self.pos -= n;
    }
}

fn shift(e: CaptureError, base: u64) -> CaptureError {
    CaptureError { offset: e.offset + base, kind: e.kind }
}

/// Reads a pcap or pcapng capture from a byte stream in bounded memory.
///
/// Use [`StreamReader::fill`] to read once from the input and
/// [`StreamReader::drain`] to hand out the complete packets buffered so far.
pub struct StreamReader<R> {
    input: R,
    buf: Vec<u8>,
    /// Capture offset of `buf[0]`.
    base: u64,
    cursor: Cursor,
    ended: bool,
}

impl<R: Read> StreamReader<R> {
    /// A reader of `input`; nothing is read yet.
    pub fn new(input: R) -> StreamReader<R> {
        StreamReader { input, buf: Vec::with_capacity(CHUNK_BYTES), base: 0, cursor: Cursor::default(), ended: false }
    }

    /// True once the input has reported its end.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Bytes held in the buffer (read but not yet handed out).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.cursor.pos()
    }

    /// Reads once from the input (blocking until something arrives); returns
    /// the bytes read, 0 at the end of the stream.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.ended {
            return Ok(0);
        }
        let done = self.cursor.pos();
        if done > 0 {
            self.buf.drain(..done);
            self.base += done as u64;
            self.cursor.consumed(done);
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK_BYTES, 0);
        let read = loop {
            match self.input.read(self.buf.get_mut(old..).unwrap_or_default()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = *read.as_ref().unwrap_or(&0);
        self.buf.truncate(old + n);
        if self.buf.capacity() > 4 * CHUNK_BYTES && self.buf.len() < CHUNK_BYTES {
            // A large record has passed: give its memory back.
            self.buf.shrink_to(2 * CHUNK_BYTES);
        }
        if n == 0 && read.is_ok() {
            self.ended = true;
        }
        read
    }

    /// Hands every complete packet buffered to `each` (at most `max`); after
    /// the end of the stream, a cut record is reported as damage.
    pub fn drain(
        &mut self,
        max: usize,
        mut each: impl FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    ) -> Result<usize, CaptureError> {
        let complete = self.ended;
        if complete && self.buf.len() == self.cursor.pos() && self.cursor.state.is_some() {
            return Ok(0);
        }
        self.cursor.drain(&self.buf, self.base, complete, max, &mut each)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{linktype, PcapOptions, PcapWriter, PcapngWriter, TsResolution};

    /// Yields its bytes a few at a time, as a pipe may.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn pcap_file(n: usize, size: usize) -> Vec<u8> {
        let opts = PcapOptions { link_type: linktype::RAW, nanos: true, big_endian: false, snaplen: 65535 };
        let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
        for i in 0..n {
            let data: Vec<u8> = (0..size + i % 7).map(|b| (b + i) as u8).collect();
            w.write_packet(i as i64 * 1000, &data, data.len() as u32).unwrap();
        }
        w.into_inner()
    }

    fn pcapng_file(n: usize) -> Vec<u8> {
        let mut w = PcapngWriter::new(Vec::new(), true).unwrap();
        let a = w.add_interface(linktype::ETHERNET, 0, TsResolution::Decimal(9)).unwrap();
        let b = w.add_interface(linktype::RAW, 0, TsResolution::Decimal(6)).unwrap();
        for i in 0..n {
            let data = vec![i as u8; 20 + i % 50];
            w.write_enhanced(if i % 2 == 0 { a } else { b }, 1_000_000 + i as i64 * 1000, &data, data.len() as u32)
                .unwrap();
        }
        w.into_inner()
    }

    /// (ts, link type, data, orig_len, offset) of a packet.
    type Seen = (i64, u32, Vec<u8>, u32, u64);

    /// Every packet, reading `bytes` whole.
    fn whole(bytes: &[u8]) -> Vec<Seen> {
        PacketReader::new(bytes)
            .unwrap()
            .map(|p| {
                let p = p.unwrap();
                (p.ts_nanos, p.link_type, p.data.to_vec(), p.orig_len, p.offset)
            })
            .collect()
    }

    fn streamed(bytes: &[u8], step: usize) -> (Vec<Seen>, Option<CaptureError>) {
        let mut r = StreamReader::new(Trickle { bytes: bytes.to_vec(), at: 0, step });
        let mut out = Vec::new();
        loop {
            let drained = r.drain(usize::MAX, |p| {
                out.push((p.ts_nanos, p.link_type, p.data.to_vec(), p.orig_len, p.offset));
                ControlFlow::Continue(())
            });
            if let Err(e) = drained {
                return (out, Some(e));
            }
            if r.ended() {
                return (out, None);
            }
            r.fill().unwrap();
        }
    }

    #[test]
    fn a_stream_yields_what_the_whole_file_yields_at_any_read_size() {
        for file in [pcap_file(300, 40), pcapng_file(300)] {
            let expected = whole(&file);
            for step in [1, 3, 17, 1000, 1 << 20] {
                let (got, error) = streamed(&file, step);
                assert_eq!(error, None, "step {step}");
                assert_eq!(got, expected, "step {step}");
            }
        }
    }

    #[test]
    fn a_record_cut_by_the_end_of_the_stream_is_damage_at_its_offset() {
        let file = pcap_file(10, 100);
        let expected = whole(&file);
        let cut = &file[..file.len() - 5];
        let (got, error) = streamed(cut, 64);
        assert_eq!(got.len(), 9);
        let error = error.unwrap();
        assert_eq!(error.offset, expected[9].4);
        assert!(matches!(error.kind, CaptureErrorKind::TruncatedPacket { .. }));
    }

    #[test]
    fn empty_and_garbage_streams_fail_like_files() {
        let (got, error) = streamed(&[], 10);
        assert!(got.is_empty());
        assert_eq!(error.unwrap().kind, CaptureErrorKind::Empty);
        let (_, error) = streamed(b"GET / HTTP/1.1\r\n\r\n", 4);
        assert!(matches!(error.unwrap().kind, CaptureErrorKind::UnknownMagic(_)));
    }

    #[test]
    fn a_block_claiming_gigabytes_is_refused_not_buffered() {
        let mut file = pcapng_file(1);
        // A block header claiming 1 GiB follows the real packets.
        file.extend_from_slice(&6u32.to_be_bytes());
        file.extend_from_slice(&(1u32 << 30).to_be_bytes());
        file.extend_from_slice(&[0; 64]);
        let mut r = StreamReader::new(Trickle { bytes: file, at: 0, step: 1 << 20 });
        r.fill().unwrap();
        let mut n = 0;
        let err = r
            .drain(usize::MAX, |_| {
                n += 1;
                ControlFlow::Continue(())
            })
            .unwrap_err();
        assert_eq!(n, 1);
        assert!(matches!(err.kind, CaptureErrorKind::RecordTooLarge(_)), "{err:?}");
    }

    #[test]
    fn memory_stays_bounded_over_a_long_stream() {
        // 20 MiB of packets through the reader: the buffer never holds more than a few chunks.
        let file = pcap_file(20_000, 1000);
        let mut r = StreamReader::new(Trickle { bytes: file, at: 0, step: 100_000 });
        let mut most = 0;
        let mut packets = 0;
        while !r.ended() {
            r.fill().unwrap();
            most = most.max(r.buf.capacity());
            packets += r.drain(usize::MAX, |_| ControlFlow::Continue(())).unwrap();
        }
        assert_eq!(packets, 20_000);
        assert!(most <= 2 * CHUNK_BYTES + 4096, "buffer grew to {most}");
    }
}
