//! The scan loop: captures in, alerts out.
//!
//! For each capture: read packets as borrowed slices, decode, hand to the
//! engine, pass alerts to the sinks. A capture that cannot be opened or is
//! damaged part-way is reported and the scan goes on with the next one;
//! everything found before the damage is kept.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::capture::{CaptureData, CaptureError, CaptureErrorKind, PacketReader, RawPacket};
use crate::decode::Packet;
use crate::engine::alert::Alert;
use crate::engine::Engine;
use crate::output::{eve, text};

/// Where alerts go.
pub trait AlertSink {
    /// Takes one alert; `file` names the capture when several are scanned.
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()>;
    /// Flushes at the end of the run.
    fn finish(&mut self) -> io::Result<()>;
}

/// Sees every packet after the engine has matched it (report statistics,
/// `--extract`). The unit type observes nothing and costs nothing.
pub trait PacketObserver {
    /// A new capture starts; `index` counts inputs from 0, `name` is [`Input::name`].
    fn start_file(&mut self, index: usize, name: &str);
    /// One packet: its raw record, its decoded view and how many alerts it raised.
    fn packet(&mut self, raw: &RawPacket<'_>, pkt: &Packet<'_>, alerts: u32);
}

impl PacketObserver for () {
    #[inline]
    fn start_file(&mut self, _: usize, _: &str) {}
    #[inline]
    fn packet(&mut self, _: &RawPacket<'_>, _: &Packet<'_>, _: u32) {}
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
}

/// Human lines.
pub struct TextSink<W: Write> {
    out: W,
}

impl<W: Write> TextSink<W> {
    /// Writes lines to `out`.
    pub fn new(out: W) -> Self {
        TextSink { out }
    }
}

impl<W: Write> AlertSink for TextSink<W> {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        writeln!(self.out, "{}", text::alert_line(alert, file))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// EVE JSON lines. Each line is built whole before it is written, so a
/// failed write never leaves half a JSON object behind a clean exit.
pub struct EveSink<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> EveSink<W> {
    /// Writes EVE lines to `out`.
    pub fn new(out: W) -> Self {
        EveSink { out, line: Vec::with_capacity(1024) }
    }
}

impl<W: Write> AlertSink for EveSink<W> {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        self.line.clear();
        eve::write_alert(alert, file, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Collects alerts in memory (tests, reports).
#[derive(Default)]
pub struct VecSink {
    /// Alerts with the capture they came from.
    pub alerts: Vec<(Alert, Option<String>)>,
}

impl AlertSink for VecSink {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        self.alerts.push((alert.clone(), file.map(str::to_string)));
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A capture to scan: a path, or `-` for stdin.
#[derive(Clone, Debug)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
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

    /// Maps the file, or reads all of stdin.
    pub fn open(&self) -> io::Result<CaptureData> {
        match self {
            Input::File(p) => CaptureData::open(p),
            Input::Stdin => CaptureData::from_reader(io::stdin().lock()),
        }
    }

    /// The name shown in messages and EVE `pcap_filename`.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
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
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputProblem::Unreadable { name, reason } => write!(f, "{name}: {reason}"),
            InputProblem::Damaged { name, error, packets } => write!(
                f,
                "{name}: capture damaged {error}; the {packets} packets before it were scanned, the rest skipped"
            ),
        }
    }
}

/// How a scan ended.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Problems with individual captures, in order.
    pub problems: Vec<InputProblem>,
}

impl ScanOutcome {
    /// True if some capture could not be read at all.
    pub fn any_unreadable(&self) -> bool {
        self.problems.iter().any(|p| matches!(p, InputProblem::Unreadable { .. }))
    }

    /// True if some capture was damaged part-way.
    pub fn any_damaged(&self) -> bool {
        self.problems.iter().any(|p| matches!(p, InputProblem::Damaged { .. }))
    }
}

/// Scans `inputs` in order. Sink write errors abort the scan and are returned.
pub fn scan(
    engine: &mut Engine,
    inputs: &[Input],
    sinks: &mut [&mut dyn AlertSink],
    on_packet: impl FnMut(u64, u64),
) -> io::Result<ScanOutcome> {
    scan_observed(engine, inputs, sinks, &mut (), on_packet)
}

/// Like [`scan`], showing every packet to `observer` too.
pub fn scan_observed<O: PacketObserver>(
    engine: &mut Engine,
    inputs: &[Input],
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    mut on_packet: impl FnMut(u64, u64),
) -> io::Result<ScanOutcome> {
    let mut outcome = ScanOutcome::default();
    let name_files = inputs.len() > 1;
    for (index, input) in inputs.iter().enumerate() {
        let name = input.name();
        observer.start_file(index, &name);
        let data = match input.open() {
            Ok(d) => d,
            Err(e) => {
                outcome.problems.push(InputProblem::Unreadable { name, reason: e.to_string() });
                continue;
            }
        };
        let file_label = name_files.then_some(name.as_str());
        match scan_bytes_observed(engine, data.bytes(), file_label, sinks, observer, &mut on_packet)? {
            Ok(_) => {}
            Err((error, packets)) if packets == 0 && is_header_error(error.kind) => {
                outcome.problems.push(InputProblem::Unreadable { name, reason: header_reason(error) });
            }
            Err((error, packets)) => outcome.problems.push(InputProblem::Damaged { name, error, packets }),
        }
    }
    for sink in sinks.iter_mut() {
        sink.finish()?;
    }
    Ok(outcome)
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
        CaptureErrorKind::UnknownMagic(_) => format!("not a pcap or pcapng file ({error})"),
        _ => format!("unreadable capture header {error}"),
    }
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
    scan_bytes_observed(engine, bytes, file, sinks, &mut (), on_packet)
}

/// Like [`scan_bytes`], showing every packet to `observer` too.
pub fn scan_bytes_observed<O: PacketObserver>(
    engine: &mut Engine,
    bytes: &[u8],
    file: Option<&str>,
    sinks: &mut [&mut dyn AlertSink],
    observer: &mut O,
    on_packet: &mut impl FnMut(u64, u64),
) -> io::Result<Result<u64, (CaptureError, u64)>> {
    let reader = match PacketReader::new(bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Err((e, 0))),
    };
    let mut number = 0u64;
    let mut sink_error = None;
    for raw in reader {
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => return sink_result(sink_error, Err((e, number))),
        };
        number += 1;
        let pkt = Packet::decode(raw.link_type, raw.data, number, raw.ts_nanos, raw.orig_len);
        let mut alerts = 0u32;
        engine.process(&pkt, &mut |alert| {
            alerts += 1;
            if sink_error.is_some() {
                return;
            }
            for sink in sinks.iter_mut() {
                if let Err(e) = sink.alert(&alert, file) {
                    sink_error = Some(e);
                    return;
                }
            }
        });
        if let Some(e) = sink_error.take() {
            return Err(e);
        }
        observer.packet(&raw, &pkt, alerts);
        on_packet(number, u64::from(raw.orig_len));
    }
    sink_result(sink_error, Ok(number))
}

fn sink_result<T>(sink_error: Option<io::Error>, r: T) -> io::Result<T> {
    match sink_error {
        Some(e) => Err(e),
        None => Ok(r),
    }
}
