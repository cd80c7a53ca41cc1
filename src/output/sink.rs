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
use crate::output::{eve, text};

/// Where alerts go.
pub trait AlertSink {
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
        Ok(OutputFile { path: path.to_path_buf(), out: BufWriter::new(File::create(path)?) })
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
        self.out = BufWriter::new(file);
        Ok(())
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
}

impl<W: Output> EveSink<W> {
    /// Writes EVE lines to `out`.
    pub fn new(out: W) -> Self {
        EveSink { out, line: Vec::with_capacity(1024) }
    }

    /// The writer, back (tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Output> AlertSink for EveSink<W> {
    fn alert(&mut self, alert: &Alert, file: Option<&str>) -> io::Result<()> {
        self.line.clear();
        eve::write_alert(alert, file, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn stats(&mut self, event: &eve::StatsEvent<'_>) -> io::Result<()> {
        self.line.clear();
        eve::write_stats(event, &mut self.line).map_err(io::Error::other)?;
        self.out.write_all(&self.line)
    }

    fn engine_event(&mut self, event: &eve::EngineEvent<'_>) -> io::Result<()> {
        self.line.clear();
        eve::write_engine(event, &mut self.line).map_err(io::Error::other)?;
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
}
