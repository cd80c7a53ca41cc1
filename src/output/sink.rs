//! Where alerts go: the sinks a scan writes to, apart from the loop that
//! finds the alerts (as ripgrep keeps its printers apart from its searcher).
//!
//! A sink takes finished [`Alert`]s, and from a long-running sensor also
//! periodic statistics and engine events; it can flush (a stream's alerts
//! are written as they come) and reopen its file (SIGHUP, after logrotate).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::alert::Alert;
use crate::output::target::Types;
use crate::output::{eve, remote, text};

/// The input a scan starts reading, as sinks are told of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputStart<'a> {
    /// What the input is.
    pub kind: InputKind<'a>,
    /// Packets read from the inputs before this one (EVE `pcap_cnt` counts across inputs).
    pub packets_before: u64,
}

/// What kind of input a scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind<'a> {
    /// A capture file (or a named pipe), by the name given.
    File(&'a str),
    /// Standard input.
    Stdin,
    /// A live interface, by its name.
    Interface(&'a str),
}

/// Where alerts go.
pub trait AlertSink {
    /// A new input starts (before its first packet); sinks that name inputs note it.
    fn start_input(&mut self, _input: &InputStart<'_>) {}
    /// Takes one alert; `file` names the capture when several are scanned.
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()>;
    /// Writes out what is buffered (a stream scan flushes at least every 100 ms).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Takes a periodic statistics record (EVE `stats`); sinks for people ignore it.
    fn stats(&mut self, _event: &eve::StatsEvent<'_>) -> io::Result<()> {
        Ok(())
    }
    /// Takes an engine event (a rule reload); sinks for people ignore it.
    fn engine_event(&mut self, _event: &eve::EngineEvent<'_>) -> io::Result<()> {
        Ok(())
    }
    /// Reopens the output file by its path (after logrotate moved it away).
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Adds the counters of an output that can lose events (Redis, sockets, syslog) to `out`.
    fn output_counters(&self, _out: &mut Vec<remote::OutputCounters>) {}
    /// Moves the messages an output has for the sensor's log (a lost connection) to `out`.
    fn notices(&mut self, _out: &mut Vec<String>) {}
    /// Flushes at the end of the run.
    fn finish(&mut self) -> io::Result<()>;
}

/// A writer a sink can ask to reopen its file.
pub trait Output: Write {
    /// Reopens the underlying file by its path; other writers do nothing.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output for Vec<u8> {}
impl<W: Write> Output for BufWriter<W> {}
impl<O: Output + ?Sized> Output for Box<O> {
    fn reopen(&mut self) -> io::Result<()> {
        (**self).reopen()
    }
}

/// Bytes an output file buffers: EVE lines reach the file in writes of this
/// size (one system call per batch of alerts, not per alert).
pub const OUTPUT_BUFFER: usize = 64 << 10;

/// A buffered output file that can be reopened by its path.
///
/// Reopening flushes what is buffered to the old file (which logrotate has
/// renamed, so it lands there), then opens the path anew, creating it.
pub struct OutputFile {
    path: PathBuf,
    out: BufWriter<File>,
}

impl OutputFile {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: &Path) -> io::Result<OutputFile> {
        Ok(OutputFile { path: path.to_path_buf(), out: BufWriter::with_capacity(OUTPUT_BUFFER, File::create(path)?) })
    }

    /// Opens the file at `path` for appending, creating it if needed (as Suricata opens eve.json).
    pub fn append(path: &Path) -> io::Result<OutputFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(OutputFile { path: path.to_path_buf(), out: BufWriter::with_capacity(OUTPUT_BUFFER, file) })
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Output for OutputFile {
    fn reopen(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.out = BufWriter::with_capacity(OUTPUT_BUFFER, file);
        Ok(())
    }
}

/// Human lines.
pub struct TextSink<W: Write> {
    out: W,
    /// The line being written (reused).
    line: Vec<u8>,
}

impl<W: Write> TextSink<W> {
    /// Writes lines to `out`.
    pub fn new(out: W) -> Self {
        TextSink { out, line: Vec::with_capacity(256) }
    }
}

impl<W: Write> AlertSink for TextSink<W> {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        self.line.clear();
        text::write_alert_line(alert, file, &mut self.line);
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// EVE JSON lines. Each line is built whole in a reused buffer before it is
/// written, so a failed write never leaves half a JSON object behind a clean exit.
pub struct EveSink<W: Output> {
    out: W,
    line: Vec<u8>,
    ctx: eve::EveContext,
    types: Types,
}

impl<W: Output> EveSink<W> {
    /// Writes EVE lines to `out`.
    pub fn new(out: W) -> Self {
        EveSink { out, line: Vec::with_capacity(1024), ctx: eve::EveContext::default(), types: Types::default() }
    }

    /// Writes only these event types (default: all).
    pub fn with_types(mut self, types: Types) -> Self {
        self.types = types;
        self
    }

    /// Names the sensor in every event (`host`).
    pub fn with_host(mut self, host: Option<String>) -> Self {
        self.ctx.host = host;
        self
    }

    /// The writer, back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Output> AlertSink for EveSink<W> {
    fn start_input(&mut self, input: &InputStart<'_>) {
        self.ctx.set_input(input);
    }

    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        if !self.types.alert {
            return Ok(());
        }
        self.line.clear();
        eve::write_alert(alert, file, &self.ctx, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn stats(&mut self, event: &eve::StatsEvent<'_>) -> io::Result<()> {
        if !self.types.stats {
            return Ok(());
        }
        self.line.clear();
        eve::write_stats(event, &self.ctx, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn engine_event(&mut self, event: &eve::EngineEvent<'_>) -> io::Result<()> {
        if !self.types.engine {
            return Ok(());
        }
        self.line.clear();
        eve::write_engine(event, &self.ctx, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.out.reopen()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reopened_file_writes_to_the_path_anew_and_the_old_file_keeps_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        let rotated = dir.path().join("eve.json.1");
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"one\n").unwrap();
        std::fs::rename(&path, &rotated).unwrap();
        out.write_all(b"two\n").unwrap();
        out.reopen().unwrap();
        out.write_all(b"three\n").unwrap();
        out.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&rotated).unwrap(), "one\ntwo\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
    }

    #[test]
    fn append_keeps_what_the_file_had_and_create_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eve.json");
        std::fs::write(&path, "old\n").unwrap();
        let mut out = OutputFile::append(&path).unwrap();
        out.write_all(b"new\n").unwrap();
        out.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\nnew\n");
        let mut out = OutputFile::create(&path).unwrap();
        out.write_all(b"only\n").unwrap();
        out.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "only\n");
    }
}
