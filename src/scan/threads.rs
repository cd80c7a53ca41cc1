//! The scan loop on several threads.
//!
//! Reading, decoding and most of matching need only the packet; the engine's
//! state (flows, echo memory, thresholds, rates) needs the packets in capture
//! order. So packets travel in chunks through a ring ([`Ring`]): whichever
//! thread is free (a worker, or the scan thread when the next chunk to
//! finish is not ready) takes the source's lock, reads the next chunk, lets
//! the source go and prepares the chunk itself: decodes it and matches it as
//! far as no state is needed ([`prematch`]). The scan thread, which owns the
//! engine, finishes the chunks in order ([`Engine::process_prematched`]:
//! state, alerts, sinks) and runs the supervisor. The alerts are those of
//! one thread, in the same order, and packets keep their capture numbers.
//!
//! Chunks are small and at most [`AHEAD`] are in flight, so a packet's bytes
//! are in cache when the thread that read them decodes them, and what it
//! learned is still in a cache when the scan thread finishes it: with
//! batches of thousands of packets, each step found its bytes gone from the
//! cache, and two threads spent three quarters more CPU time than one.
//!
//! When nothing watches packets ([`PacketObserver::sees_packets`]), a
//! packet no rule can match and the engine keeps nothing of
//! ([`Keeps::nothing_of`]) is counted by the thread that prepared it and
//! not handed over at all.
//!
//! A chunk read from a stream or a live interface copies its packets' bytes
//! into a buffer of its own (the source's buffer is reused as soon as a poll
//! returns); a mapped capture's packets are read in place. The buffers are
//! reused from chunk to chunk: nothing is allocated per packet once they
//! have grown.

use std::io;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::capture::source::SourceError;
use crate::capture::{CaptureData, Poll, RawPacket, Source};
use crate::decode::dns::DnsMessage;
use crate::decode::features::{FeatureCache, Features};
use crate::decode::Packet;
use crate::engine::prematch::{prematch, Prematched};
use crate::engine::ruleset::RuleSet;
use crate::engine::stats::Stats;
use crate::engine::{Engine, Keeps};

use super::{AlertSink, Outlets, PacketObserver, SourceEnd, Supervisor, FLUSH_EVERY};

/// Most packets per chunk.
const CHUNK: usize = 256;

/// Most chunks read and not yet finished (the ring's size).
const AHEAD: usize = 16;

/// A chunk stops taking packets copied from a stream once it holds this many
/// bytes: the ring holds at most [`AHEAD`] times this plus one record each,
/// whatever the packet sizes. (A live capture's chunk is bounded by the
/// kernel buffer one poll hands over.)
const CHUNK_BYTES: usize = 1 << 20;

/// How many times a worker tries the source's lock, pausing between tries,
/// before it sleeps on it (tens of microseconds: a few chunks' reading).
const SPINS: u32 = 2000;

/// On a file, the supervisor runs after this many packets at least (as
/// often as on one thread); on a stream or an interface, after every chunk
/// and whenever the source has nothing to read.
const SUPERVISE_EVERY: u64 = 4096;

/// One packet of a chunk: where its bytes are and what the capture says of it.
#[derive(Clone, Copy, Debug)]
struct Frame {
    number: u64,
    ts_nanos: i64,
    link_type: u32,
    orig_len: u32,
    offset: u64,
    /// Start and length in the shared capture (`in_map`) or the chunk's own bytes.
    bytes: (usize, usize),
    in_map: bool,
}

/// What a worker learned of one packet.
struct Learned {
    /// The decoded packet and its payload's place in the frame; `None` for an
    /// IP fragment (which the reassembler needs whole): decoded again in order.
    pkt: Option<(Packet<'static>, Range<usize>)>,
    cache: FeatureCache,
    pre: Prematched,
}

/// Packets read together, their bytes, and (once prepared) what was learned.
#[derive(Default)]
struct Chunk {
    /// A memory-mapped capture's bytes, which its packets are read from in place.
    map: Option<Arc<CaptureData>>,
    /// The bytes of packets from a stream or a live interface, copied.
    bytes: Vec<u8>,
    frames: Vec<Frame>,
    /// The rule set the chunk is prepared with.
    rules: Option<Arc<RuleSet>>,
    /// What the engine keeps of a packet no rule can match, if such packets
    /// may be counted on the worker (nothing else needs to see them).
    keeps: Option<Keeps>,
    /// Per frame: no rule can match it and the engine keeps nothing of it,
    /// so the worker counted it in `counts` and learned nothing of it.
    counted: Vec<bool>,
    counts: Stats,
    /// What was learned of each packet not counted, in order.
    learned: Vec<Learned>,
    entries: Vec<u32>,
    messages: Vec<DnsMessage<'static>>,
    candidates: Vec<u32>,
}

impl Chunk {
    fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
        self.rules = None;
        self.keeps = None;
        self.counted.clear();
        self.counts.clear_counted();
        self.learned.clear();
        self.entries.clear();
        self.messages.clear();
    }

    /// Decodes and pre-matches every packet of the chunk.
    fn prepare(&mut self) {
        let Chunk { map, bytes, frames, rules, keeps, counted, counts, learned, entries, messages, candidates } = self;
        let Some(rules) = rules.as_deref() else { return };
        let map = map.as_deref();
        for (i, frame) in frames.iter().enumerate() {
            if let Some(next) = frames.get(i + 1) {
                // The next packet's headers, while this one is matched.
                let head = frame_data(map, bytes, next);
                crate::prefetch::prefetch_lines(head.get(..128).unwrap_or(head));
            }
            let data = frame_data(map, bytes, frame);
            let mut pkt = Packet::undecoded(frame.link_type, frame.number, frame.ts_nanos, frame.orig_len);
            pkt.decode_frame(data);
            let mut f = Features::new(&pkt);
            let pre = prematch(rules, &mut f, candidates, entries);
            if pre.pass == 0 && pre.alert == 0 && keeps.is_some_and(|k| k.nothing_of(&pkt)) {
                counts.count_packet(&pkt);
                if let Some(e) = f.dns_error() {
                    counts.count_dns_error(e);
                }
                counted.push(true);
                continue;
            }
            let cache = f.detach(messages);
            let pkt = pkt.detach(data);
            learned.push(Learned { pkt, cache, pre });
            counted.push(false);
        }
    }
}

/// A ring slot's chunk is free, or being read and prepared.
const FREE: u8 = 0;
/// Its chunk is prepared, to be finished.
const READY: u8 = 1;

/// One chunk's place in the ring.
#[derive(Default)]
struct Slot {
    state: AtomicU8,
    chunk: Mutex<Chunk>,
}

/// The source and what reading it has come to, shared by whichever thread reads.
struct Reader<'s> {
    source: &'s mut Source,
    /// Packets read (the last one's number).
    number: u64,
    /// The rule set the chunks read now are prepared with.
    rules: Arc<RuleSet>,
    /// What the engine keeps of packets no rule matches, if workers may count them.
    keeps: Option<Keeps>,
    /// The source ended or failed.
    end: Option<Result<(), SourceError>>,
    /// The supervisor stopped the scan: nothing more is read.
    stopped: bool,
    /// The last poll found nothing to read (a stream or an interface).
    idle: bool,
}

/// The chunks in flight, shared by the scan thread and the workers.
///
/// Chunk `n` (counting from 0) lives in slot `n % AHEAD`. A thread that
/// reads takes the source's lock, reads the next chunk into its free slot,
/// counts it in `read`, lets the source go and prepares the chunk itself,
/// while the bytes are in its cache; the scan thread finishes chunks in
/// order, and a slot is free again once its chunk is finished.
struct Ring<'s> {
    slots: Vec<Slot>,
    reader: Mutex<Reader<'s>>,
    /// Chunks read.
    read: AtomicU64,
    /// Chunks finished.
    finished: AtomicU64,
    /// The file offset of the last packet finished (pages before it can go).
    release_before: AtomicU64,
    /// Counts every change a sleeping worker may wait for (a slot freed, the
    /// source let go, the ring closing), so none sleeps through one.
    epoch: AtomicU64,
    /// The workers are to stop.
    closing: AtomicBool,
    /// A worker panicked (the scan thread stops waiting for it).
    failed: AtomicBool,
    /// Workers with nothing to do sleep here.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
}

impl<'s> Ring<'s> {
    fn new(source: &'s mut Source, rules: Arc<RuleSet>, keeps: Option<Keeps>) -> Ring<'s> {
        let reader = Reader { source, number: 0, rules, keeps, end: None, stopped: false, idle: false };
        Ring {
            slots: (0..AHEAD).map(|_| Slot::default()).collect(),
            reader: Mutex::new(reader),
            read: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            release_before: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// The slot of chunk `n`.
    #[allow(clippy::indexing_slicing)] // the index is below AHEAD, the slots' count
    fn slot(&self, n: u64) -> &Slot {
        &self.slots[(n % AHEAD as u64) as usize]
    }

    /// Reads the next chunk into its slot, if there is room; the caller
    /// lets the source go, then prepares the chunk ([`Ring::prepare`]).
    /// Waits at most `wait` for packets (the scan thread only, with nothing
    /// in flight; workers never wait on the source).
    fn read_chunk(&self, reader: &mut Reader<'_>, wait: Duration) -> Option<Read<'_>> {
        if reader.end.is_some() || reader.stopped {
            return None;
        }
        let n = self.read.load(Ordering::SeqCst);
        if n - self.finished.load(Ordering::SeqCst) >= AHEAD as u64 {
            return None;
        }
        // The pages before the oldest chunk still in flight can go.
        reader.source.release_before(self.release_before.load(Ordering::SeqCst));
        let slot = self.slot(n);
        let mut chunk = lock(&slot.chunk);
        let polled = fill(reader.source, &mut chunk, wait, &mut reader.number);
        reader.idle = false;
        match polled {
            Ok(Poll::Packets(_)) => {}
            Ok(Poll::Idle) => reader.idle = true,
            Ok(Poll::End) => reader.end = Some(Ok(())),
            Err(e) => reader.end = Some(Err(e)),
        }
        if chunk.frames.is_empty() {
            chunk.clear();
            return None;
        }
        chunk.rules = Some(Arc::clone(&reader.rules));
        chunk.keeps = reader.keeps;
        self.read.store(n + 1, Ordering::SeqCst);
        Some(Read { slot, chunk })
    }

    /// Prepares a chunk just read (the source already let go) and marks it ready.
    fn prepare(&self, read: Read<'_>) {
        // Another thread may read the next chunk now.
        self.changed();
        let Read { slot, mut chunk } = read;
        chunk.prepare();
        slot.state.store(READY, Ordering::Release);
    }

    /// A worker: reads and prepares chunks until the ring closes.
    fn work(&self) {
        let _flag = PanicFlag(&self.failed);
        while !self.closing.load(Ordering::SeqCst) {
            let epoch = self.epoch.load(Ordering::SeqCst);
            let read = self.read_chunk(&mut self.lock_reader(), Duration::ZERO);
            match read {
                Some(read) => self.prepare(read),
                None => self.sleep_unless_changed(epoch),
            }
        }
    }

    /// The source, for a worker. Another thread reading holds it for the
    /// microseconds a chunk takes, so the worker spins a while before it
    /// sleeps on the lock: waking a sleeper took longer than the read it
    /// waited for (a tenth of the worker's time went to waiting). The scan
    /// thread holds it longer only to wait on an idle stream, with no chunk
    /// in flight, when there is nothing to do anyway.
    fn lock_reader(&self) -> MutexGuard<'_, Reader<'s>> {
        for _ in 0..SPINS {
            match self.reader.try_lock() {
                Ok(reader) => return reader,
                Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
            }
        }
        lock(&self.reader)
    }

    /// Sleeps until the epoch moves on from `epoch` (at once if it has).
    fn sleep_unless_changed(&self, epoch: u64) {
        let sleep = lock(&self.sleep);
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        // Checked after counting itself a sleeper: `changed` moves the epoch
        // before it looks for sleepers, so one of the two sees the other.
        if self.epoch.load(Ordering::SeqCst) == epoch && !self.closing.load(Ordering::SeqCst) {
            drop(self.wake.wait(sleep).unwrap_or_else(|e| e.into_inner()));
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Something a sleeping worker may wait for happened: wakes them.
    fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _sleep = lock(&self.sleep);
            self.wake.notify_all();
        }
    }

    /// Tells the workers to stop.
    fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.changed();
    }
}

/// A chunk just read, its slot still locked.
struct Read<'r> {
    slot: &'r Slot,
    chunk: MutexGuard<'r, Chunk>,
}

/// Sets its flag if dropped while its thread panics.
struct PanicFlag<'f>(&'f AtomicBool);

impl Drop for PanicFlag<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads one source on `threads` threads (at least 2); see the module docs.
/// Ends as [`super::scan_source`] does, with the same alerts.
pub(super) fn scan_source_threads<O: PacketObserver, S: Supervisor, P: FnMut(u64, u64)>(
    engine: &mut Engine,
    source: &mut Source,
    file: Option<&str>,
    out: &mut Outlets<'_, '_, O, S, P>,
    threads: usize,
) -> io::Result<SourceEnd> {
    let workers = threads.saturating_sub(1).max(1);
    // Chunks read in place from a mapped file outlive the poll that read them.
    source.hold_pages();
    let unbounded = source.is_unbounded();
    let count_on_workers = !out.observer.sees_packets();
    let ring = Ring::new(source, Arc::clone(engine.rules()), count_on_workers.then(|| engine.keeps()));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| ring.work());
        }
        let end = run(&ring, unbounded, engine, file, out);
        ring.close();
        end
    })
}

/// The scan thread's part: finish in order, read and prepare when the next
/// chunk is not ready, supervise; see the module docs.
fn run<O: PacketObserver, S: Supervisor, P: FnMut(u64, u64)>(
    ring: &Ring<'_>,
    unbounded: bool,
    engine: &mut Engine,
    file: Option<&str>,
    out: &mut Outlets<'_, '_, O, S, P>,
) -> io::Result<SourceEnd> {
    let (sinks, observer, supervisor, on_packet) =
        (&mut *out.sinks, &mut *out.observer, &mut *out.supervisor, &mut *out.on_packet);
    let mut last_flush = Instant::now();
    let (mut finished, mut supervised) = (0u64, 0u64);
    loop {
        // Finish the chunks that are ready, in order.
        let mut freed = false;
        while finished < ring.read.load(Ordering::SeqCst) && ring.slot(finished).state.load(Ordering::Acquire) == READY
        {
            let slot = ring.slot(finished);
            let mut chunk = lock(&slot.chunk);
            finish(engine, &mut chunk, file, sinks, observer, on_packet)?;
            supervised += chunk.frames.len() as u64;
            if let Some(frame) = chunk.frames.last() {
                ring.release_before.store(frame.offset, Ordering::SeqCst);
            }
            chunk.clear();
            slot.state.store(FREE, Ordering::Release);
            finished += 1;
            ring.finished.store(finished, Ordering::SeqCst);
            freed = true;
        }
        if freed {
            ring.changed();
        }
        // The next chunk is not ready, or none is in flight: read one, unless
        // a worker is reading (then the next chunk is on its way).
        let in_flight = finished < ring.read.load(Ordering::SeqCst);
        let reader = if in_flight {
            match ring.reader.try_lock() {
                Ok(reader) => Some(reader),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        } else {
            Some(lock(&ring.reader))
        };
        let (read, idle, over) = match reader {
            Some(mut reader) => {
                let wait = if in_flight { Duration::ZERO } else { supervisor.wait() };
                let read = ring.read_chunk(&mut reader, wait);
                (read, reader.idle, reader.end.is_some() || reader.stopped)
            }
            None => (None, false, false),
        };
        let read = match read {
            Some(read) => {
                ring.prepare(read);
                true
            }
            None if in_flight => {
                // The workers have the chunks in flight.
                if ring.failed.load(Ordering::SeqCst) {
                    return Err(io::Error::other("a scan worker thread failed"));
                }
                std::thread::yield_now();
                false
            }
            None => false,
        };
        if unbounded && (idle || last_flush.elapsed() >= FLUSH_EVERY) {
            for sink in sinks.iter_mut() {
                sink.flush()?;
            }
            last_flush = Instant::now();
        }
        let done = over && !in_flight && !read;
        if idle || done || supervised >= SUPERVISE_EVERY || (unbounded && freed) {
            supervised = 0;
            let mut reader = lock(&ring.reader);
            if !reader.stopped && supervisor.between(engine, sinks, reader.source)?.is_break() {
                // What was read is still matched (a stop flushes every alert).
                reader.stopped = true;
            }
            if !Arc::ptr_eq(&reader.rules, engine.rules()) {
                reader.rules = Arc::clone(engine.rules());
                reader.keeps = reader.keeps.map(|_| engine.keeps());
            }
        }
        if done && finished == ring.read.load(Ordering::SeqCst) {
            let mut reader = lock(&ring.reader);
            let number = reader.number;
            return Ok(match reader.end.take() {
                _ if reader.stopped => SourceEnd::Stopped(number),
                Some(Err(e)) => SourceEnd::Failed(e, number),
                _ => SourceEnd::Complete(number),
            });
        }
    }
}

/// Reads what the source has (up to a chunk) into `chunk`.
/// Packets of a mapped capture stay where they are; others are copied.
fn fill(source: &mut Source, chunk: &mut Chunk, wait: Duration, number: &mut u64) -> Result<Poll, SourceError> {
    chunk.map = source.shared_bytes();
    let stream = chunk.map.is_none() && !source.is_live();
    let Chunk { map, bytes, frames, .. } = chunk;
    let map = map.as_deref().map(CaptureData::bytes);
    source.poll(wait, CHUNK, |raw| {
        *number += 1;
        let in_place = map.and_then(|map| {
            let start = (raw.data.as_ptr() as usize).checked_sub(map.as_ptr() as usize)?;
            let in_map = map.get(start..start + raw.data.len())?;
            (in_map.as_ptr() == raw.data.as_ptr()).then_some(start)
        });
        let (start, in_map) = match in_place {
            Some(start) => (start, true),
            None => {
                bytes.extend_from_slice(raw.data);
                (bytes.len() - raw.data.len(), false)
            }
        };
        frames.push(Frame {
            number: *number,
            ts_nanos: raw.ts_nanos,
            link_type: raw.link_type,
            orig_len: raw.orig_len,
            offset: raw.offset,
            bytes: (start, raw.data.len()),
            in_map,
        });
        // A live capture hands over one kernel buffer at most (and would drop
        // the rest of it on a break); a stream stops here and resumes later.
        if stream && bytes.len() >= CHUNK_BYTES {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
}

/// Finishes a prepared chunk in capture order: engine state, alerts, sinks, observer.
fn finish<O: PacketObserver>(
    engine: &mut Engine,
    chunk: &mut Chunk,
    file: Option<&str>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    on_packet: &mut impl FnMut(u64, u64),
) -> io::Result<()> {
    let Some(rules) = chunk.rules.clone() else { return Ok(()) };
    // Packets counted on the worker were judged with the rule set in use;
    // after a reload they are matched here like the others.
    let counted_ok = Arc::ptr_eq(&rules, engine.rules());
    if counted_ok {
        engine.add_counted(&chunk.counts);
    }
    let mut sink_error = None;
    let Chunk { map, bytes, frames, counted, learned, entries, messages, .. } = chunk;
    // What the worker wrote is in its core's cache: ask for the next
    // record and frames while this packet is finished.
    let ahead = |i: usize| {
        if let Some(frame) = frames.get(i + 4) {
            crate::prefetch::prefetch(frame);
        }
    };
    let mut learned = learned.iter().peekable();
    for (i, (frame, &counted)) in frames.iter().zip(counted.iter()).enumerate() {
        ahead(i);
        if counted && counted_ok {
            on_packet(frame.number, u64::from(frame.orig_len));
            continue;
        }
        let data = frame_data(map.as_deref(), bytes, frame);
        let mut alerts = 0u32;
        let mut emit = |alert: crate::engine::alert::Alert| {
            alerts += 1;
            super::deliver(sinks, &alert, file, &mut sink_error);
        };
        let prepared = if counted { None } else { learned.next() };
        if let Some(next) = learned.peek() {
            crate::prefetch::prefetch_whole(*next);
        }
        if let Some(next) = frames.get(i + 1) {
            engine.preload(next.link_type, frame_data(map.as_deref(), bytes, next));
        }
        let pkt = match prepared.and_then(|l| Some((l.pkt.clone()?, l))) {
            Some(((pkt, payload), learned)) => {
                let pkt = Packet::attach(pkt, data, payload);
                let entries = learned.pre.split(entries);
                engine.process_prematched(&pkt, learned.cache, messages, &rules, entries, &mut emit);
                pkt
            }
            None => {
                let pkt = Packet::decode(frame.link_type, data, frame.number, frame.ts_nanos, frame.orig_len);
                engine.process(&pkt, &mut emit);
                pkt
            }
        };
        if let Some(e) = sink_error.take() {
            return Err(e);
        }
        let raw = RawPacket {
            ts_nanos: frame.ts_nanos,
            link_type: frame.link_type,
            data,
            orig_len: frame.orig_len,
            offset: frame.offset,
            next: &[],
        };
        observer.packet(&raw, &pkt, alerts);
        super::observe_matched_apart(engine, &pkt, alerts, observer);
        on_packet(frame.number, u64::from(frame.orig_len));
    }
    Ok(())
}

/// A frame's bytes: in the shared capture, or copied into the chunk.
fn frame_data<'b>(map: Option<&'b CaptureData>, copied: &'b [u8], frame: &Frame) -> &'b [u8] {
    let (start, len) = frame.bytes;
    let bytes = match map {
        Some(map) if frame.in_map => map.bytes(),
        _ => copied,
    };
    bytes.get(start..start + len).unwrap_or(&[])
}
