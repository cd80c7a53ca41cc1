//! The scan loop: sources in, alerts out.
//!
//! For each input (a capture file, a stream, a live interface): take the
//! packets the [`Source`] has, as borrowed slices, decode each, hand it to
//! the engine, pass alerts to the sinks. Between batches a [`Supervisor`]
//! gets control: the sensor uses it for signals, rule reloads and periodic
//! statistics; an unbounded source's sinks are flushed at least every 100 ms.
//! A capture that cannot be opened or is damaged part-way is reported and the
//! scan goes on with the next one; everything found before the damage is kept.

use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::capture::source::SourceError;
use crate::capture::{CaptureError, CaptureErrorKind, Poll, RawPacket, Source};
use crate::decode::Packet;
use crate::engine::alert::Alert;
use crate::engine::Engine;
mod threads;
pub use crate::output::sink::{AlertSink, EveSink, InputKind, InputStart, TextSink, VecSink};

/// Packets handed over per poll: the supervisor runs at least this often.
const BATCH: usize = 4096;

/// Longest time an unbounded source's alerts stay buffered.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Looks after a running scan between batches of packets (signals, timers,
/// rule reloads). The engine and the sinks are lent to it.
pub trait Supervisor {
    /// How long a source may wait for packets before control comes back.
    fn wait(&self) -> Duration {
        FLUSH_EVERY
    }
    /// Called after every batch and after every wait that brought nothing;
    /// `Break` stops the scan (the inputs not yet read are skipped).
    fn between(
        &mut self,
        engine: &mut Engine,
        sinks: &mut [&mut dyn AlertSink],
        source: &mut Source,
    ) -> io::Result<ControlFlow<()>>;
    /// Called when a source has ended, failed or been stopped (a last look at its counters).
    fn source_done(&mut self, _engine: &mut Engine, _sinks: &mut [&mut dyn AlertSink], _source: &mut Source) {}
}

/// No supervision: read every input to its end.
impl Supervisor for () {
    fn between(&mut self, _: &mut Engine, _: &mut [&mut dyn AlertSink], _: &mut Source) -> io::Result<ControlFlow<()>> {
        Ok(ControlFlow::Continue(()))
    }
}

/// Sees every packet after the engine has matched it (report statistics,
/// `--extract`). The unit type observes nothing and costs nothing.
pub trait PacketObserver {
    /// A new capture starts; `index` counts inputs from 0, `name` is [`Input::name`].
    fn start_file(&mut self, index: usize, name: &str);
    /// One packet: its raw record, its decoded view and how many alerts it raised.
    fn packet(&mut self, raw: &RawPacket<'_>, pkt: &Packet<'_>, alerts: u32);
    /// A packet the engine matched apart from the one just seen, with that
    /// one's number and time: the IP datagram it completed (rebuilt from its
    /// fragments), or a DNS message it completed in a TCP stream (then the
    /// rules read the message's DNS fields, not the segment's). `alerts` is
    /// the captured packet's count. Not a captured packet: nothing counts it
    /// as one.
    fn matched_apart(&mut self, _pkt: &Packet<'_>, _alerts: u32) {}
    /// False if [`PacketObserver::packet`] does nothing (then a packet no
    /// rule can match need not be handed to the thread that calls it).
    fn sees_packets(&self) -> bool {
        true
    }
}

impl PacketObserver for () {
    #[inline]
    fn start_file(&mut self, _: usize, _: &str) {}
    #[inline]
    fn packet(&mut self, _: &RawPacket<'_>, _: &Packet<'_>, _: u32) {}
    fn sees_packets(&self) -> bool {
        false
    }
}

impl<O: PacketObserver> PacketObserver for Option<O> {
    #[inline]
    fn start_file(&mut self, index: usize, name: &str) {
        if let Some(o) = self {
            o.start_file(index, name);
        }
    }
    #[inline]
    fn packet(&mut self, raw: &RawPacket<'_>, pkt: &Packet<'_>, alerts: u32) {
        if let Some(o) = self {
            o.packet(raw, pkt, alerts);
        }
    }
    fn matched_apart(&mut self, pkt: &Packet<'_>, alerts: u32) {
        if let Some(o) = self {
            o.matched_apart(pkt, alerts);
        }
    }
    fn sees_packets(&self) -> bool {
        self.as_ref().is_some_and(O::sees_packets)
    }
}

/// A capture to scan: a path, `-` for stdin, or a source already opened (a live interface).
#[derive(Debug)]
pub enum Input {
    /// A file (or a named pipe).
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// An opened source, read as it is.
    Opened(Box<Option<Source>>),
}

impl Input {
    /// From a command-line argument (`-` is stdin).
    pub fn from_arg(arg: &Path) -> Input {
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(arg.to_path_buf())
        }
    }

    /// An input for a source opened by the caller.
    pub fn opened(source: Source) -> Input {
        Input::Opened(Box::new(Some(source)))
    }

    /// Opens the source: files are mapped, stdin and pipes read as streams.
    pub fn open(&mut self) -> io::Result<Source> {
        match self {
            Input::File(p) => Source::open(p),
            Input::Stdin => Source::stdin(),
            Input::Opened(source) => source.take().ok_or_else(|| io::Error::other("source already read")),
        }
    }

    /// The name shown in messages and EVE `pcap_filename`.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
            Input::Opened(source) => source.as_ref().as_ref().map_or_else(String::new, |s| s.name().to_string()),
        }
    }
}

/// A problem with one capture.
#[derive(Debug)]
pub enum InputProblem {
    /// The capture could not be read at all (missing, unreadable, not a capture).
    Unreadable {
        /// The capture.
        name: String,
        /// Why.
        reason: String,
    },
    /// The capture is damaged part-way; packets before the damage were scanned.
    Damaged {
        /// The capture.
        name: String,
        /// Where and what.
        error: CaptureError,
        /// Packets read before the damage.
        packets: u64,
    },
    /// Reading failed part-way (an I/O error on a stream, a live capture failing).
    Failed {
        /// The input.
        name: String,
        /// Why.
        reason: String,
        /// Packets read before the failure.
        packets: u64,
    },
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputProblem::Unreadable { name, reason } => write!(f, "{name}: {reason}"),
            InputProblem::Damaged { name, error, packets } => write!(
                f,
                "{name}: capture damaged {error}; the {packets} packets before it were scanned, the rest skipped"
            ),
            InputProblem::Failed { name, reason, packets } => {
                write!(f, "{name}: {reason}; the {packets} packets before it were scanned")
            }
        }
    }
}

/// How a scan ended.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Problems with individual captures, in order.
    pub problems: Vec<InputProblem>,
    /// True if the supervisor stopped the scan (a signal) before its inputs ended.
    pub stopped: bool,
}

impl ScanOutcome {
    /// True if some capture could not be read at all, or reading failed part-way.
    pub fn any_unreadable(&self) -> bool {
        self.problems.iter().any(|p| matches!(p, InputProblem::Unreadable { .. } | InputProblem::Failed { .. }))
    }

    /// True if some capture was damaged part-way.
    pub fn any_damaged(&self) -> bool {
        self.problems.iter().any(|p| matches!(p, InputProblem::Damaged { .. }))
    }
}

/// Scans `inputs` in order. Sink write errors abort the scan and are returned.
pub fn scan(
    engine: &mut Engine,
    inputs: Vec<Input>,
    sinks: &mut [&mut dyn AlertSink],
    on_packet: impl FnMut(u64, u64),
) -> io::Result<ScanOutcome> {
    scan_observed(engine, inputs, sinks, &mut (), &mut (), on_packet)
}

/// Like [`scan`], showing every packet to `observer` and lending the loop to
/// `supervisor` between batches.
pub fn scan_observed<O: PacketObserver, S: Supervisor>(
    engine: &mut Engine,
    inputs: Vec<Input>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    supervisor: &mut S,
    on_packet: impl FnMut(u64, u64),
) -> io::Result<ScanOutcome> {
    scan_threads(engine, inputs, sinks, observer, supervisor, on_packet, 1)
}

/// Like [`scan_observed`], on `threads` threads: with more than one, packets
/// are decoded and matched as far as no state is needed on worker threads,
/// and finished in capture order on this one (see `scan/threads.rs`). The
/// alerts, their order and the packet numbers are those of one thread.
pub fn scan_threads<O: PacketObserver, S: Supervisor>(
    engine: &mut Engine,
    inputs: Vec<Input>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    supervisor: &mut S,
    mut on_packet: impl FnMut(u64, u64),
    threads: usize,
) -> io::Result<ScanOutcome> {
    let mut outcome = ScanOutcome::default();
    let name_files = inputs.len() > 1;
    let mut packets_before = 0u64;
    for (index, mut input) in inputs.into_iter().enumerate() {
        let name = input.name();
        observer.start_file(index, &name);
        let mut source = match input.open() {
            Ok(s) => s,
            Err(e) => {
                outcome.problems.push(InputProblem::Unreadable { name, reason: open_reason(&e) });
                continue;
            }
        };
        let kind = if source.is_live() {
            InputKind::Interface(source.name())
        } else if matches!(input, Input::Stdin) {
            InputKind::Stdin
        } else {
            InputKind::File(&name)
        };
        for sink in sinks.iter_mut() {
            sink.start_input(&InputStart { kind, packets_before });
        }
        let file_label = name_files.then_some(name.as_str());
        let mut out = Outlets {
            sinks: &mut *sinks,
            observer: &mut *observer,
            supervisor: &mut *supervisor,
            on_packet: &mut on_packet,
        };
        let end = if threads > 1 {
            threads::scan_source_threads(engine, &mut source, file_label, &mut out, threads)?
        } else {
            scan_source(engine, &mut source, file_label, &mut out)?
        };
        supervisor.source_done(engine, sinks, &mut source);
        packets_before += match &end {
            SourceEnd::Complete(n) | SourceEnd::Stopped(n) | SourceEnd::Failed(_, n) => *n,
        };
        match end {
            SourceEnd::Complete(_) => {}
            SourceEnd::Stopped(_) => {
                outcome.stopped = true;
                break;
            }
            SourceEnd::Failed(SourceError::Capture(error), packets) => {
                if packets == 0 && is_header_error(error.kind) {
                    outcome.problems.push(InputProblem::Unreadable { name, reason: header_reason(error) });
                } else {
                    outcome.problems.push(InputProblem::Damaged { name, error, packets });
                }
            }
            SourceEnd::Failed(e, packets) => {
                outcome.problems.push(InputProblem::Failed { name, reason: e.to_string(), packets })
            }
        }
    }
    for sink in sinks.iter_mut() {
        sink.finish()?;
    }
    Ok(outcome)
}

fn open_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// How reading one source ended; each carries the packets read.
#[derive(Debug)]
pub enum SourceEnd {
    /// Read to its end.
    Complete(u64),
    /// The supervisor stopped the scan.
    Stopped(u64),
    /// Damaged or failing part-way.
    Failed(SourceError, u64),
}

/// Where the scan of one source hands what it finds: alerts to the sinks,
/// each matched packet to the observer and to `on_packet` (its number and
/// wire length, for progress), and control between batches to the supervisor.
pub struct Outlets<'o, 's, O, S, P> {
    /// Alert outputs, in order.
    pub sinks: &'o mut [&'s mut dyn AlertSink],
    /// Sees every packet after matching.
    pub observer: &'o mut O,
    /// Gets control between batches.
    pub supervisor: &'o mut S,
    /// Called with each packet's number and wire length.
    pub on_packet: &'o mut P,
}

/// Reads one source until it ends, fails, or the supervisor stops the scan.
/// Packets are numbered from 1. Sink errors are the outer `Err`.
pub fn scan_source<O: PacketObserver, S: Supervisor, P: FnMut(u64, u64)>(
    engine: &mut Engine,
    source: &mut Source,
    file: Option<&str>,
    out: &mut Outlets<'_, '_, O, S, P>,
) -> io::Result<SourceEnd> {
    let (sinks, observer, supervisor, on_packet) =
        (&mut *out.sinks, &mut *out.observer, &mut *out.supervisor, &mut *out.on_packet);
    let unbounded = source.is_unbounded();
    let mut number = 0u64;
    let mut sink_error = None;
    let mut last_flush = Instant::now();
    loop {
        let polled = source.poll(supervisor.wait(), BATCH, |raw| {
            number += 1;
            // Decoded in place: `Packet::decode` would copy the packet out.
            let mut pkt = Packet::undecoded(raw.link_type, number, raw.ts_nanos, raw.orig_len);
            pkt.decode_frame(raw.data);
            engine.preload(raw.link_type, raw.next);
            let mut alerts = 0u32;
            engine.process(&pkt, &mut |alert| {
                alerts += 1;
                deliver(sinks, &alert, file, &mut sink_error);
            });
            if sink_error.is_some() {
                return ControlFlow::Break(());
            }
            observer.packet(raw, &pkt, alerts);
            observe_matched_apart(engine, &pkt, alerts, observer);
            on_packet(number, u64::from(raw.orig_len));
            ControlFlow::Continue(())
        });
        if let Some(e) = sink_error.take() {
            return Err(e);
        }
        let polled = match polled {
            Ok(p) => p,
            Err(e) => return Ok(SourceEnd::Failed(e, number)),
        };
        if unbounded && (polled == Poll::Idle || last_flush.elapsed() >= FLUSH_EVERY) {
            for sink in sinks.iter_mut() {
                sink.flush()?;
            }
            last_flush = Instant::now();
        }
        if supervisor.between(engine, sinks, source)?.is_break() {
            return Ok(SourceEnd::Stopped(number));
        }
        if polled == Poll::End {
            return Ok(SourceEnd::Complete(number));
        }
    }
}

/// Shows `observer` what the engine matched apart from `pkt`: the datagram
/// it completed, the DNS messages it completed (see
/// [`PacketObserver::matched_apart`]).
fn observe_matched_apart<O: PacketObserver>(engine: &Engine, pkt: &Packet<'_>, alerts: u32, observer: &mut O) {
    if !observer.sees_packets() {
        return;
    }
    if let Some(datagram) = engine.completed_datagram() {
        let len = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
        let whole = Packet::decode(crate::engine::LINKTYPE_RAW, datagram, pkt.number, pkt.ts_nanos, len);
        observer.matched_apart(&whole, alerts);
        // A datagram that is itself a DNS-over-TCP segment.
        for message in engine.completed_dns_messages(&whole) {
            observer.matched_apart(&message, alerts);
        }
        return;
    }
    for message in engine.completed_dns_messages(pkt) {
        observer.matched_apart(&message, alerts);
    }
}

/// Hands an alert to every sink. The first write error is kept in `error`;
/// once there is one, alerts are dropped (the scan stops after the packet).
fn deliver(sinks: &mut [&mut dyn AlertSink], alert: &Alert, file: Option<&str>, error: &mut Option<io::Error>) {
    if error.is_some() {
        return;
    }
    for sink in sinks.iter_mut() {
        if let Err(e) = sink.alert(alert, file) {
            *error = Some(e);
            return;
        }
    }
}

fn is_header_error(kind: CaptureErrorKind) -> bool {
    matches!(
        kind,
        CaptureErrorKind::Empty
            | CaptureErrorKind::UnknownMagic(_)
            | CaptureErrorKind::TruncatedFileHeader
            | CaptureErrorKind::UnsupportedVersion(..)
    )
}

fn header_reason(error: CaptureError) -> String {
    match error.kind {
        CaptureErrorKind::Empty => "empty file, not a capture".into(),
        CaptureErrorKind::UnknownMagic(magic) => not_a_capture(magic),
        _ => format!("unreadable capture header {error}"),
    }
}

/// Why a file is not a capture, with a hint when its first bytes say what it is.
fn not_a_capture(magic: u32) -> String {
    let bytes = magic.to_be_bytes();
    let hint = match bytes {
        [0x1f, 0x8b, ..] => "; it is gzip-compressed: zcat FILE | ferret scan -",
        [0x28, 0xb5, 0x2f, 0xfd] => "; it is zstd-compressed: zstdcat FILE | ferret scan -",
        [b'B', b'Z', b'h', _] => "; it is bzip2-compressed: bzcat FILE | ferret scan -",
        [0xfd, b'7', b'z', b'X'] => "; it is xz-compressed: xzcat FILE | ferret scan -",
        [b'P', b'K', 3, 4] => "; it is a zip archive: unzip it first",
        [b'{', ..] | [b'[', ..] => "; it looks like JSON (EVE alerts are read by `ferret report`)",
        _ => "",
    };
    let shown: String = bytes.iter().map(|b| if b.is_ascii_graphic() { *b as char } else { '.' }).collect();
    format!(
        "not a pcap or pcapng file (it starts with {:02x} {:02x} {:02x} {:02x}, \"{shown}\"){hint}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

/// Scans one capture held in memory. Returns the packet count, or the capture
/// error and how many packets came before it; sink errors are the outer `Err`.
pub fn scan_bytes(
    engine: &mut Engine,
    bytes: &[u8],
    file: Option<&str>,
    sinks: &mut [&mut dyn AlertSink],
    on_packet: &mut impl FnMut(u64, u64),
) -> io::Result<Result<u64, (CaptureError, u64)>> {
    let mut source = Source::from_bytes(file.unwrap_or("-"), bytes.to_vec());
    let mut out = Outlets { sinks, observer: &mut (), supervisor: &mut (), on_packet };
    match scan_source(engine, &mut source, file, &mut out)? {
        SourceEnd::Complete(n) | SourceEnd::Stopped(n) => Ok(Ok(n)),
        SourceEnd::Failed(SourceError::Capture(e), n) => Ok(Err((e, n))),
        SourceEnd::Failed(e, _) => Err(io::Error::other(e.to_string())),
    }
}
