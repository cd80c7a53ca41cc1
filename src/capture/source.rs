//! One interface for every place packets come from: a capture file, a stream
//! (standard input, a named pipe) and, with the `live` feature, an interface.
//!
//! Why one interface: the scan loop and the sensor loop must not care where a
//! packet came from, so a packet read from a file and the same packet seen
//! live raise the same alerts through the same code. [`Source::poll`] hands
//! over the packets available now, as borrowed slices, and waits at most a
//! given time when there are none, so the caller keeps control (signals,
//! timers, rule reloads) while a quiet link or a silent pipe gives nothing.

use std::fs::File;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use super::stream::Cursor;
use super::{CaptureData, CaptureError, RawPacket, StreamReader};

/// A file scan drops the pages behind it from its resident set every this many bytes.
const RELEASE_EVERY_BYTES: usize = 32 << 20;

/// A file scan maps in the pages up to this many bytes ahead of it.
const MAP_AHEAD_BYTES: usize = 8 << 20;

/// Gives back the pages before `pos` once it is [`RELEASE_EVERY_BYTES`] past `released`.
/// Maps in the file's pages [`MAP_AHEAD_BYTES`] ahead of `pos`, half that at a
/// time, in one call instead of a page fault every few pages: the readers
/// ask the CPU for the bytes ahead of them (a cache prefetch), which does
/// nothing for a page not mapped in yet.
fn map_ahead(data: &CaptureData, mapped: &mut usize, pos: usize) {
    if pos.saturating_add(MAP_AHEAD_BYTES / 2) >= *mapped {
        let from = (*mapped).max(pos);
        *mapped = from.saturating_add(MAP_AHEAD_BYTES);
        data.prefetch(from..*mapped);
    }
}

fn release_behind(data: &CaptureData, released: &mut usize, pos: usize) {
    if pos >= released.saturating_add(RELEASE_EVERY_BYTES) {
        *released = pos;
        data.release_before(pos);
    }
}

/// What one [`Source::poll`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Handed this many packets over (at least one).
    Packets(usize),
    /// Nothing arrived within the wait; more may come.
    Idle,
    /// The source has ended: a file or stream was read to its end.
    End,
}

/// Why a source stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The capture is damaged (or is not a capture) at an offset.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// The live capture failed.
    #[error("{0}")]
    Live(String),
}

/// Kernel and interface counters of a live capture (`pcap_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureCounters {
    /// Packets the kernel handed to the capture.
    pub received: u64,
    /// Packets dropped because the capture buffer was full.
    pub dropped: u64,
    /// Packets the interface or its driver dropped.
    pub if_dropped: u64,
}

/// Where packets come from.
pub struct Source {
    name: String,
    inner: Inner,
}

enum Inner {
    /// A regular file, memory-mapped: packets borrow from the map.
    /// `released`: pages before it are given back; `mapped`: pages before it
    /// are mapped in; `held`: the caller gives pages back
    /// ([`Source::hold_pages`]), not [`Source::poll`].
    Mapped { data: std::sync::Arc<CaptureData>, cursor: Cursor, released: usize, mapped: usize, held: bool },
    /// A byte stream read through a bounded buffer.
    Stream { reader: StreamReader<Box<dyn Read + Send>>, fd: Option<i32> },
    /// A live interface.
    #[cfg(feature = "live")]
    Live(Box<super::live::LiveCapture>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Mapped { .. } => "file",
            Inner::Stream { .. } => "stream",
            #[cfg(feature = "live")]
            Inner::Live(_) => "live",
        };
        f.debug_struct("Source").field("name", &self.name).field("kind", &kind).finish()
    }
}

impl Source {
    /// Opens the capture at `path`: a regular file is memory-mapped, anything
    /// else (a named pipe, a device, `/dev/stdin`) is read as a stream.
    pub fn open(path: &Path) -> io::Result<Source> {
        let name = path.display().to_string();
        let file = File::open(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a capture"));
        }
        Self::from_file(name, file)
    }

    /// Standard input: mapped when it is a regular file (`< x.pcap`), else a stream.
    pub fn stdin() -> io::Result<Source> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = io::stdin().as_fd().try_clone_to_owned()?;
            Self::from_file("-".into(), File::from(fd))
        }
        #[cfg(not(unix))]
        Ok(Self::stream("-".into(), Box::new(io::stdin()), None))
    }

    fn from_file(name: String, file: File) -> io::Result<Source> {
        if file.metadata()?.is_file() {
            let data = std::sync::Arc::new(CaptureData::map_file(&file)?);
            return Ok(Source {
                name,
                inner: Inner::Mapped { data, cursor: Cursor::default(), released: 0, mapped: 0, held: false },
            });
        }
        #[cfg(unix)]
        let fd = {
            use std::os::fd::AsRawFd;
            use std::os::unix::fs::FileTypeExt;
            if file.metadata()?.file_type().is_fifo() {
                widen_pipe(file.as_raw_fd());
            }
            Some(file.as_raw_fd())
        };
        #[cfg(not(unix))]
        let fd = None;
        Ok(Self::stream(name, Box::new(file), fd))
    }

    /// A capture held in memory (tests, fuzzing).
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Source {
        let data = std::sync::Arc::new(CaptureData::from_vec(bytes));
        Source {
            name: name.into(),
            inner: Inner::Mapped { data, cursor: Cursor::default(), released: 0, mapped: 0, held: false },
        }
    }

    /// A capture read from any byte stream; reads block (no waiting limit).
    pub fn from_reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Source {
        Self::stream(name.into(), Box::new(reader), None)
    }

    fn stream(name: String, reader: Box<dyn Read + Send>, fd: Option<i32>) -> Source {
        Source { name, inner: Inner::Stream { reader: StreamReader::new(reader), fd } }
    }

    /// A live capture.
    #[cfg(feature = "live")]
    pub fn live(capture: super::live::LiveCapture) -> Source {
        let name = capture.interface().to_string();
        Source { name, inner: Inner::Live(Box::new(capture)) }
    }

    /// The name shown in messages and in EVE (`pcap_filename`, or the interface).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for sources without a known end (streams, live interfaces): their
    /// alerts must be written as they come, not at the end.
    pub fn is_unbounded(&self) -> bool {
        !matches!(self.inner, Inner::Mapped { .. })
    }

    /// The bytes of a memory-mapped (or in-memory) capture, which every packet
    /// this source hands over borrows from, shared: other threads can read
    /// packets from them while this source reads on. `None` for streams and
    /// live interfaces, whose buffers are reused.
    pub fn shared_bytes(&self) -> Option<std::sync::Arc<CaptureData>> {
        match &self.inner {
            Inner::Mapped { data, .. } => Some(std::sync::Arc::clone(data)),
            _ => None,
        }
    }

    /// For a caller that keeps packets past the poll that read them (other
    /// threads read them from [`Source::shared_bytes`]): from now on a file's
    /// pages are given back by [`Source::release_before`], once the caller is
    /// done with them, instead of by [`Source::poll`] behind its cursor.
    pub fn hold_pages(&mut self) {
        if let Inner::Mapped { held, .. } = &mut self.inner {
            *held = true;
        }
    }

    /// After [`Source::hold_pages`]: the caller is done with the packets
    /// before byte `offset` of the file; their pages are given back (every
    /// 32 MiB, as a poll would).
    pub fn release_before(&mut self, offset: u64) {
        if let Inner::Mapped { data, released, held: true, .. } = &mut self.inner {
            release_behind(data, released, usize::try_from(offset).unwrap_or(usize::MAX));
        }
    }

    /// True for a live interface.
    pub fn is_live(&self) -> bool {
        #[cfg(feature = "live")]
        if matches!(self.inner, Inner::Live(_)) {
            return true;
        }
        false
    }

    /// Kernel and interface counters, for a live capture.
    pub fn counters(&mut self) -> Option<CaptureCounters> {
        match &mut self.inner {
            #[cfg(feature = "live")]
            Inner::Live(capture) => capture.counters().ok().map(|c| CaptureCounters {
                received: c.received,
                dropped: c.dropped,
                if_dropped: c.if_dropped,
            }),
            _ => None,
        }
    }

    /// Hands over the packets available now, at most `max`, waiting at most
    /// `wait` for the first when none is. A file never waits.
    pub fn poll(
        &mut self,
        wait: Duration,
        max: usize,
        mut each: impl FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    ) -> Result<Poll, SourceError> {
        match &mut self.inner {
            Inner::Mapped { data, cursor, released, mapped, held } => {
                map_ahead(data, mapped, cursor.pos());
                let n = cursor.drain(data.bytes(), 0, true, max, &mut each)?;
                if !*held {
                    release_behind(data, released, cursor.pos());
                }
                Ok(if n == 0 { Poll::End } else { Poll::Packets(n) })
            }
            Inner::Stream { reader, fd } => {
                let n = reader.drain(max, &mut each)?;
                if n > 0 {
                    return Ok(Poll::Packets(n));
                }
                if reader.ended() {
                    return Ok(Poll::End);
                }
                if let Some(fd) = *fd {
                    if !readable(fd, wait)? {
                        return Ok(Poll::Idle);
                    }
                }
                reader.fill()?;
                let n = reader.drain(max, &mut each)?;
                Ok(if n > 0 {
                    Poll::Packets(n)
                } else if reader.ended() {
                    Poll::End
                } else {
                    Poll::Idle
                })
            }
            #[cfg(feature = "live")]
            Inner::Live(capture) => {
                let mut stop = false;
                let n = capture
                    .poll(wait, max, |raw| {
                        if !stop {
                            stop = each(&raw).is_break();
                        }
                    })
                    .map_err(|e| SourceError::Live(e.to_string()))?;
                Ok(if n == 0 { Poll::Idle } else { Poll::Packets(n) })
            }
        }
    }
}

/// The pipe buffer a stream read from a pipe asks for: Linux's default
/// `pipe-max-size`, the most an unprivileged process may set. The default
/// 64 KiB makes the writer (`tcpdump -w -`) and ferret take turns every
/// 64 KiB; with 1 MiB a pipe carries a capture about twice as fast.
pub const PIPE_BYTES: usize = 1 << 20;

/// Asks for a [`PIPE_BYTES`] buffer on the pipe `fd` (best effort: a
/// lower system limit keeps the pipe as it is).
#[cfg(target_os = "linux")]
fn widen_pipe(fd: i32) {
    let bytes = libc::c_int::try_from(PIPE_BYTES).unwrap_or(libc::c_int::MAX);
    // SAFETY: fcntl on a descriptor the caller owns; failure changes nothing.
    unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, bytes) };
}

#[cfg(all(unix, not(target_os = "linux")))]
fn widen_pipe(_fd: i32) {}

/// Waits up to `wait` for `fd` to have bytes (or its end) to read.
#[cfg(unix)]
fn readable(fd: i32, wait: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let millis = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut pfd, 1, millis) };
    if ready < 0 {
        let e = io::Error::last_os_error();
        // A signal arrived: the caller looks at its flags and polls again.
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(ready > 0)
}

#[cfg(not(unix))]
fn readable(_fd: i32, _wait: Duration) -> io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{linktype, PcapOptions, PcapWriter};

    fn capture(n: usize) -> Vec<u8> {
        let opts = PcapOptions { link_type: linktype::RAW, nanos: false, big_endian: false, snaplen: 65535 };
        let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
        for i in 0..n {
            w.write_packet(i as i64 * 1000, &[i as u8; 40], 40).unwrap();
        }
        w.into_inner()
    }

    fn all(source: &mut Source, max: usize) -> Vec<u64> {
        let mut offsets = Vec::new();
        loop {
            match source
                .poll(Duration::from_millis(10), max, |p| {
                    offsets.push(p.offset);
                    ControlFlow::Continue(())
                })
                .unwrap()
            {
                Poll::End => return offsets,
                Poll::Idle | Poll::Packets(_) => {}
            }
        }
    }

    #[test]
    fn files_and_streams_hand_over_the_same_packets_in_batches() {
        let bytes = capture(1000);
        let mapped = all(&mut Source::from_bytes("a", bytes.clone()), 7);
        let streamed = all(&mut Source::from_reader("b", io::Cursor::new(bytes)), 7);
        assert_eq!(mapped.len(), 1000);
        assert_eq!(mapped, streamed);
    }

    #[test]
    fn a_break_stops_the_batch_and_the_rest_follows_later() {
        let mut source = Source::from_bytes("a", capture(10));
        let mut seen = 0;
        let first = source
            .poll(Duration::ZERO, 100, |_| {
                seen += 1;
                if seen == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(first, Poll::Packets(3));
        assert_eq!(all(&mut source, 100).len(), 7);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_read_as_a_stream_gets_a_bigger_buffer() {
        use std::os::fd::AsRawFd;
        let (read, _write) = std::io::pipe().unwrap();
        let fd = read.as_raw_fd();
        // SAFETY: F_GETPIPE_SZ on a pipe this test owns.
        let before = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
        let _source = Source::from_file("pipe".into(), File::from(std::os::fd::OwnedFd::from(read))).unwrap();
        let after = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
        let max: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(PIPE_BYTES);
        assert_eq!(after as usize, PIPE_BYTES.min(max).max(before as usize), "{before} -> {after}");
        assert!(after > before, "the default is 64 KiB: {before} -> {after}");
    }

    #[cfg(unix)]
    #[test]
    fn a_silent_pipe_gives_idle_within_the_wait() {
        let (read, write) = std::io::pipe().unwrap();
        let mut source = Source::from_file("pipe".into(), File::from(std::os::fd::OwnedFd::from(read))).unwrap();
        let start = std::time::Instant::now();
        let r = source.poll(Duration::from_millis(50), 10, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(r, Poll::Idle);
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(write);
        let mut polls = 0;
        while source.poll(Duration::from_millis(50), 10, |_| ControlFlow::Continue(())).is_ok() {
            polls += 1;
            assert!(polls < 10);
        }
    }
}
