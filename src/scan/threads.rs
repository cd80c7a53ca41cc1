//! The scan loop on several threads.
//!
//! Reading, decoding and most of matching need only the packet; the engine's
//! state (flows, echo memory, thresholds, rates) needs the packets in capture
//! order. So the loop is a pipeline of batches: while the scan thread finishes
//! batch *k − 1* in order ([`Engine::process_prematched`]: state, alerts,
//! sinks) and reads batch *k + 1* from the source, the workers (and the scan
//! thread, once it is done) decode batch *k* and match it as far as no state
//! is needed ([`prematch`]), in slices taken from a shared counter. The
//! alerts are those of one thread, in the same order, and packets keep their
//! capture numbers.
//!
//! A batch copies its packets' bytes into a buffer of its own (the source's
//! buffer is reused as soon as a poll returns): one copy per packet into a
//! buffer reused from batch to batch, nothing allocated per packet once the
//! buffers have grown.

use std::io;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::capture::source::SourceError;
use crate::capture::{CaptureData, Poll, RawPacket, Source};
use crate::decode::dns::DnsMessage;
use crate::decode::features::{FeatureCache, Features};
use crate::decode::Packet;
use crate::engine::prematch::{prematch, Prematched};
use crate::engine::ruleset::RuleSet;
use crate::engine::Engine;

use super::{AlertSink, PacketObserver, SourceEnd, Supervisor, FLUSH_EVERY};

/// Packets a worker takes at a time from a batch.
const SLICE: usize = 512;

/// Most packets per batch: larger than the one-thread loop's, so starting
/// and joining the workers of a batch costs little per packet. The
/// supervisor still runs after every batch, at least every 100 ms on a stream.
const BATCH: usize = 16_384;

/// A batch stops taking packets copied from a stream once it holds this many
/// bytes: with three batches in flight, the pipeline holds at most three
/// times this plus three records, whatever the packet sizes. (A live
/// capture's batch is bounded by the kernel buffer one poll hands over.)
const BATCH_BYTES: usize = 8 << 20;

/// Most bytes of a mapped capture a worker maps in ahead of the reader.
const PREFETCH_MAX: usize = 32 << 20;

/// One packet of a batch: where its bytes are and what the capture says of it.
#[derive(Clone, Copy, Debug)]
struct Frame {
    number: u64,
    ts_nanos: i64,
    link_type: u32,
    orig_len: u32,
    offset: u64,
    /// Start and length in the shared capture (`in_map`) or the batch's own bytes.
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

/// The work on one slice of a batch: the learned packets and their entries.
#[derive(Default)]
struct Slice {
    learned: Vec<Learned>,
    entries: Vec<u32>,
    messages: Vec<DnsMessage<'static>>,
    candidates: Vec<u32>,
}

/// Packets read together, their bytes, and (once prepared) what was learned.
#[derive(Default)]
struct Batch {
    /// A memory-mapped capture's bytes, which its packets are read from in place.
    map: Option<Arc<CaptureData>>,
    /// The bytes of packets from a stream or a live interface, copied.
    bytes: Vec<u8>,
    frames: Vec<Frame>,
    slices: Vec<Mutex<Slice>>,
    /// The rule set the batch was prepared with.
    rules: Option<Arc<RuleSet>>,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
        self.rules = None;
    }

    fn frame_bytes(&self, frame: &Frame) -> &[u8] {
        frame_data(self.map.as_deref(), &self.bytes, frame)
    }

    /// The bytes of the mapped capture this batch's packets span.
    fn read_range(&self) -> Option<Range<usize>> {
        let (first, last) = (self.frames.first()?, self.frames.last()?);
        (first.in_map && last.in_map).then(|| first.bytes.0..last.bytes.0 + last.bytes.1)
    }

    /// Makes room for the slices of this batch's frames.
    fn ready_slices(&mut self) {
        let n = self.frames.len().div_ceil(SLICE);
        while self.slices.len() < n {
            self.slices.push(Mutex::new(Slice::default()));
        }
    }
}

/// Decodes and pre-matches the slices of `batch` that `next` hands out, until none are left.
fn prepare(batch: &Batch, rules: &RuleSet, next: &AtomicUsize) {
    let n = batch.frames.len().div_ceil(SLICE);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            return;
        }
        let Some(frames) = batch.frames.get(i * SLICE..((i + 1) * SLICE).min(batch.frames.len())) else { return };
        let Some(slot) = batch.slices.get(i) else { return };
        let mut slice = slot.lock().unwrap_or_else(|e| e.into_inner());
        let Slice { learned, entries, messages, candidates } = &mut *slice;
        learned.clear();
        entries.clear();
        messages.clear();
        for frame in frames {
            let data = batch.frame_bytes(frame);
            let pkt = Packet::decode(frame.link_type, data, frame.number, frame.ts_nanos, frame.orig_len);
            let mut f = Features::new(&pkt);
            let pre = prematch(rules, &mut f, candidates, entries);
            let cache = f.detach(messages);
            let pkt = pkt.detach(data);
            learned.push(Learned { pkt, cache, pre });
        }
    }
}

/// Reads one source on `threads` threads (at least 2); see the module docs.
/// Ends as [`super::scan_source`] does, with the same alerts.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_source_threads<O: PacketObserver, S: Supervisor>(
    engine: &mut Engine,
    source: &mut Source,
    file: Option<&str>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    supervisor: &mut S,
    on_packet: &mut impl FnMut(u64, u64),
    threads: usize,
) -> io::Result<SourceEnd> {
    let workers = threads.saturating_sub(1).max(1);
    // Batches read in place from a mapped file outlive the poll that read them.
    source.hold_pages();
    let unbounded = source.is_unbounded();
    let mut number = 0u64;
    let mut last_flush = Instant::now();
    // `done`: batch k - 1, prepared, to finish in order; `read`: batch k, to prepare.
    let mut done: Option<Batch> = None;
    let mut read: Option<Batch> = None;
    let mut spare: Vec<Batch> = Vec::new();
    let mut end: Option<Result<(), SourceError>> = None;
    let mut stopped = false;
    loop {
        let rules = Arc::clone(engine.rules());
        if let Some(batch) = read.as_mut() {
            batch.ready_slices();
            batch.rules = Some(Arc::clone(&rules));
        }
        let in_flight = done.is_some() || read.is_some();
        let wait = if in_flight { Duration::ZERO } else { supervisor.wait() };
        let mut next = (end.is_none() && !stopped).then(|| spare.pop().unwrap_or_default());
        let counter = AtomicUsize::new(0);
        let (finished, polled) = std::thread::scope(|s| {
            if let Some(batch) = read.as_ref() {
                // One worker first maps in the file's next pages, which the
                // scan thread reads next (as much as this batch took).
                let ahead = batch.map.as_deref().zip(batch.read_range());
                for i in 0..workers.min(batch.frames.len().div_ceil(SLICE)) {
                    let ahead = ahead.clone().filter(|_| i == 0);
                    s.spawn(|| {
                        if let Some((map, range)) = ahead {
                            map.prefetch(range.end..range.end + range.len().min(PREFETCH_MAX));
                        }
                        prepare(batch, &rules, &counter)
                    });
                }
            }
            let finished = match done.as_mut() {
                Some(batch) => finish(engine, batch, file, sinks, observer, on_packet),
                None => Ok(()),
            };
            // The pages before the oldest batch still in flight can go.
            if let Some(frame) = read.as_ref().and_then(|b| b.frames.first()) {
                source.release_before(frame.offset);
            }
            let polled = next.as_mut().map(|batch| fill(source, batch, wait, &mut number));
            // Then help with the batch being prepared.
            if let Some(batch) = read.as_ref() {
                prepare(batch, &rules, &counter);
            }
            (finished, polled)
        });
        finished?;
        if let Some(mut batch) = done.take() {
            batch.clear();
            spare.push(batch);
        }
        let mut idle = false;
        match polled {
            Some(Ok(Poll::Packets(_))) => {}
            Some(Ok(Poll::Idle)) => idle = true,
            Some(Ok(Poll::End)) => end = Some(Ok(())),
            Some(Err(e)) => end = Some(Err(e)),
            None => {}
        }
        done = read.take();
        match next {
            Some(batch) if !batch.frames.is_empty() => read = Some(batch),
            Some(batch) => spare.push(batch),
            None => {}
        }
        if unbounded && (idle || last_flush.elapsed() >= FLUSH_EVERY) {
            for sink in sinks.iter_mut() {
                sink.flush()?;
            }
            last_flush = Instant::now();
        }
        if !stopped && supervisor.between(engine, sinks, source)?.is_break() {
            // What was read is still matched (a stop flushes every alert).
            stopped = true;
        }
        if done.is_none() && read.is_none() && (stopped || end.is_some()) {
            return Ok(match end {
                _ if stopped => SourceEnd::Stopped(number),
                Some(Err(e)) => SourceEnd::Failed(e, number),
                _ => SourceEnd::Complete(number),
            });
        }
    }
}

/// Reads what the source has (up to a batch) into `batch`.
/// Packets of a mapped capture stay where they are; others are copied.
fn fill(source: &mut Source, batch: &mut Batch, wait: Duration, number: &mut u64) -> Result<Poll, SourceError> {
    batch.map = source.shared_bytes();
    let stream = batch.map.is_none() && !source.is_live();
    let Batch { map, bytes, frames, .. } = batch;
    let map = map.as_deref().map(CaptureData::bytes);
    source.poll(wait, BATCH, |raw| {
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
        if stream && bytes.len() >= BATCH_BYTES {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
}

/// Finishes a prepared batch in capture order: engine state, alerts, sinks, observer.
fn finish<O: PacketObserver>(
    engine: &mut Engine,
    batch: &mut Batch,
    file: Option<&str>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    on_packet: &mut impl FnMut(u64, u64),
) -> io::Result<()> {
    let Some(rules) = batch.rules.clone() else { return Ok(()) };
    let mut sink_error = None;
    let Batch { map, bytes, frames, slices, .. } = batch;
    let mut frames = frames.iter();
    for slot in slices.iter_mut() {
        let slice = slot.get_mut().unwrap_or_else(|e| e.into_inner());
        for learned in &slice.learned {
            let Some(frame) = frames.next() else { break };
            let data = frame_data(map.as_deref(), bytes, frame);
            let mut alerts = 0u32;
            let mut emit = |alert: crate::engine::alert::Alert| {
                alerts += 1;
                super::deliver(sinks, &alert, file, &mut sink_error);
            };
            let pkt = match learned.pkt.clone() {
                Some((pkt, payload)) => {
                    let pkt = Packet::attach(pkt, data, payload);
                    let entries = learned.pre.split(&slice.entries);
                    engine.process_prematched(&pkt, learned.cache, &slice.messages, &rules, entries, &mut emit);
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
            };
            observer.packet(&raw, &pkt, alerts);
            on_packet(frame.number, u64::from(frame.orig_len));
        }
    }
    Ok(())
}

/// A frame's bytes: in the shared capture, or copied into the batch.
fn frame_data<'b>(map: Option<&'b CaptureData>, copied: &'b [u8], frame: &Frame) -> &'b [u8] {
    let (start, len) = frame.bytes;
    let bytes = match map {
        Some(map) if frame.in_map => map.bytes(),
        _ => copied,
    };
    bytes.get(start..start + len).unwrap_or(&[])
}
