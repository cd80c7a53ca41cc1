//! Reading a report's inputs from files and writing the report out: the
//! file handling of `ferret report` and of `scan --report/--extract/--stats`,
//! kept here so the CLI only maps outcomes to messages and exit codes.
//!
//! `ferret report` takes EVE sources ([`EveSource`]: files, standard input);
//! each file's run statistics are found with `--stats` or beside it
//! ([`input::stats_candidates`]); their alerts are merged in time order, each
//! once ([`merge`]). The stats file
//! `ferret scan --stats` writes is the summary's JSON plus the report's
//! additions ([`StatsFile`]); a report made at the end of a scan reads those
//! same numbers back from that JSON, so both paths give the same report.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::collect::Collector;
use super::input::{self, AlertRecord, EveRead, ReportSink, ReportStats, RunStats};
use super::merge;
use super::model::Extracted;
use super::source::EveSource;
use super::thresholds::thresholds;
use super::{extract, render, Format, Report};
use crate::engine::Engine;
use crate::output::summary::StatsJson;

/// The stats file: the summary numbers, plus the report's when collected.
#[derive(Serialize)]
pub struct StatsFile<'a> {
    /// Packets, bytes, protocols, alerts per rule, state tables.
    #[serde(flatten)]
    pub summary: StatsJson<'a>,
    /// Captures, packets per protocol, inspected points, rule limits.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub report: Option<&'a ReportStats>,
}

impl StatsFile<'_> {
    /// The same numbers as `ferret report` reads them from the file.
    pub fn as_run_stats(&self) -> serde_json::Result<RunStats> {
        serde_json::from_value(serde_json::to_value(self)?)
    }
}

/// Alerts and statistics read for `ferret report`.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Alerts of all inputs, merged in time order, each once ([`merge`]).
    pub alerts: Vec<AlertRecord>,
    /// Merged statistics, when every input had its stats.
    pub stats: Option<RunStats>,
    /// The inputs' labels (file names as given, `stdin`).
    pub eve_files: Vec<String>,
    /// Caveats for the report and stderr.
    pub notes: Vec<String>,
}

fn read_stats(path: &Path) -> Result<RunStats, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a ferret stats file ({e})", path.display()))
}

/// Reads EVE files (`-` is standard input) and their statistics. `stats` is
/// either empty (look beside each EVE file) or one file per EVE file.
/// Unreadable files are errors; missing stats and broken lines are notes.
pub fn load(eve: &[PathBuf], stats: &[PathBuf]) -> Result<Loaded, String> {
    let sources = eve.iter().map(|p| EveSource::open(p)).collect::<Result<Vec<_>, _>>()?;
    load_sources(sources, stats)
}

/// Reads every line of a source.
fn read_source(source: &mut EveSource) -> Result<EveRead, String> {
    let mut read = EveRead::default();
    for (n, line) in (1..).zip(&mut source.lines) {
        let line = line.map_err(|e| format!("{}:{n}: {e}", source.label))?;
        read.push_line(n, &line);
    }
    Ok(read)
}

/// Reads EVE sources and their statistics (see [`load`]) and merges their
/// alerts. With several sources, an alert that names no sensor (EVE `host`)
/// is given its source's label as sensor, and one that names no capture the
/// capture its EVE line or its source's statistics name.
pub fn load_sources(mut sources: Vec<EveSource>, stats: &[PathBuf]) -> Result<Loaded, String> {
    if !stats.is_empty() && stats.len() != sources.len() {
        return Err(format!(
            "give one --stats file per EVE file, in the same order ({} EVE files, {} stats)",
            sources.len(),
            stats.len()
        ));
    }
    let several = sources.len() > 1;
    let mut out = Loaded::default();
    let mut merged: Option<RunStats> = None;
    let mut all_stats = true;
    let mut stats_used: Vec<(PathBuf, String)> = Vec::new();
    let mut per_source = Vec::with_capacity(sources.len());
    for (i, source) in sources.iter_mut().enumerate() {
        let name = source.label.clone();
        let read = read_source(source)?;
        if read.malformed > 0 {
            let first: Vec<String> = read.problems.iter().map(|p| p.render(&name)).collect();
            let more = if read.malformed > first.len() as u64 { "; ..." } else { "" };
            out.notes.push(format!(
                "{name}: {} unreadable line{} skipped ({}{more})",
                read.malformed,
                if read.malformed == 1 { "" } else { "s" },
                first.join("; ")
            ));
        }
        let stats_path = match (stats.get(i), &source.path) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(path)) => input::stats_candidates(path).into_iter().find(|p| p.is_file()),
            (None, None) => None,
        };
        // Two inputs finding one stats file (stats.json in a shared folder) must not count it twice.
        let seen_as = stats_path.as_ref().and_then(|p| {
            let id = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            match stats_used.iter().find(|(used, _)| *used == id) {
                Some((_, by)) => Some(by.clone()),
                None => {
                    stats_used.push((id, name.clone()));
                    None
                }
            }
        });
        let run = match (stats_path, seen_as) {
            (Some(p), Some(by)) => {
                all_stats = false;
                out.notes.push(format!(
                    "{name}: its run statistics {} are those already read for {by}; packet counts cover only part \
                     of the inputs, so they are left out",
                    p.display()
                ));
                None
            }
            (Some(p), None) => Some(read_stats(&p)?),
            (None, _) => {
                all_stats = false;
                out.notes.push(format!(
                    "{name}: no run statistics found (give --stats, or keep NAME.stats.json beside it); \
                     packet counts, protocol distribution and the entropy charts are missing"
                ));
                None
            }
        };
        let capture = match run.as_ref().map(|r| r.report.captures.as_slice()) {
            Some([one]) => Some(one.clone()),
            _ => None,
        };
        let mut alerts = read.alerts;
        if several {
            for a in &mut alerts {
                if a.sensor.is_none() {
                    a.sensor = Some(name.clone());
                }
                if a.file.is_none() {
                    a.file = a.origin.pcap_filename.clone().or_else(|| capture.clone());
                }
            }
        }
        per_source.push(alerts);
        if let Some(run) = run {
            match merged.as_mut() {
                Some(m) => m.merge(run),
                None => merged = Some(run),
            }
        }
        out.eve_files.push(name);
    }
    let joined = merge::merge(per_source);
    if joined.duplicates > 0 {
        out.notes.push(format!(
            "{} alert{} read more than once (same sensor, capture or interface, packet, rule and time) counted once",
            joined.duplicates,
            if joined.duplicates == 1 { "" } else { "s" }
        ));
    }
    out.alerts = joined.alerts;
    out.stats = if all_stats { merged } else { None };
    Ok(out)
}

/// Writes the report to `path` (`-` for stdout) in `format`.
pub fn write(report: &Report, path: &Path, format: Format) -> io::Result<()> {
    let text = render(report, format);
    if path.as_os_str() == "-" {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        return out.flush();
    }
    // Written whole to a temporary name, then renamed: no half report is left behind.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Why `ferret report` failed.
#[derive(Debug)]
pub enum ReportError {
    /// A bad format or option (exit 2).
    Usage(String),
    /// An input could not be read (exit 1).
    Input(String),
    /// The report could not be written (exit 1; a closed stdout is success).
    Output(PathBuf, io::Error),
}

/// `ferret report`: reads `eve` and their stats, writes the report to
/// `output` (stdout when `None` or `-`) in `format` (by name) or the output's
/// extension. Returns the caveats about the inputs, for stderr.
pub fn report_command(
    eve: &[PathBuf],
    stats: &[PathBuf],
    output: Option<&Path>,
    format: Option<&str>,
) -> Result<Vec<String>, ReportError> {
    let path = output.unwrap_or(Path::new("-"));
    let format = match format {
        Some(name) => Format::from_name(name)
            .ok_or_else(|| ReportError::Usage(format!("unknown report format '{name}' (use md, html or json)")))?,
        None if path.as_os_str() == "-" => Format::Markdown,
        None => Format::from_path(path).ok_or_else(|| {
            ReportError::Usage(format!(
                "cannot tell the report format of {}: use .md, .html or .json, or --format",
                path.display()
            ))
        })?,
    };
    if eve.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(ReportError::Usage("standard input (-) can be given only once".to_string()));
    }
    let loaded = load(eve, stats).map_err(ReportError::Input)?;
    let notes = loaded.notes.clone();
    let sources = super::Sources {
        alerts: &loaded.alerts,
        stats: loaded.stats.as_ref(),
        eve_files: loaded.eve_files,
        extracted: None,
        notes: loaded.notes,
    };
    write(&super::build(sources), path, format).map_err(|e| ReportError::Output(path.to_path_buf(), e))?;
    Ok(notes)
}

/// What `ferret scan` writes besides alerts: the stats file, `--extract`
/// and `--report`, with what it gathers for them during the scan.
pub struct ScanExtras {
    stats: Option<PathBuf>,
    extract: Option<PathBuf>,
    report: Option<(PathBuf, Format)>,
    sink: Option<ReportSink>,
    collector: Option<Collector>,
}

/// What went wrong or deserves a word after a scan's extra outputs.
#[derive(Debug, Default)]
pub struct ExtrasOutcome {
    /// Outputs that could not be written (exit 1).
    pub errors: Vec<String>,
    /// Things to tell (flagged packets left out of `--extract`).
    pub warnings: Vec<String>,
}

impl ScanExtras {
    /// Checks the options; an unknown report extension is a usage error.
    pub fn new(stats: Option<&Path>, extract: Option<&Path>, report: Option<&Path>) -> Result<ScanExtras, String> {
        let report = match report {
            None => None,
            Some(p) => Some((
                p.to_path_buf(),
                Format::from_path(p).ok_or_else(|| {
                    format!("cannot tell the report format of {}: use .md, .html or .json", p.display())
                })?,
            )),
        };
        let collect = stats.is_some() || extract.is_some() || report.is_some();
        Ok(ScanExtras {
            stats: stats.map(Path::to_path_buf),
            extract: extract.map(Path::to_path_buf),
            sink: report.is_some().then(ReportSink::default),
            collector: collect.then(|| Collector::new(extract.is_some())),
            report,
        })
    }

    /// The alert sink (when a report is wanted) and the packet observer for the scan.
    pub fn parts(&mut self) -> (Option<&mut ReportSink>, &mut Option<Collector>) {
        (self.sink.as_mut(), &mut self.collector)
    }

    /// After the scan: writes the stats file, the extract and the report.
    pub fn finish(
        self,
        engine: &Engine,
        sensor: Option<crate::output::summary::SensorCounters>,
        outputs: Vec<crate::output::remote::OutputCounters>,
    ) -> ExtrasOutcome {
        let mut out = ExtrasOutcome::default();
        let tables = engine.table_stats();
        let collected = self.collector.map(Collector::finish);
        let extras = collected.as_ref().map(|c| ReportStats::new(c, thresholds(engine.rules())));
        let mut summary = StatsJson::new(engine.stats(), engine.rules(), &tables);
        summary.sensor = sensor;
        summary.outputs = outputs;
        let stats_file = StatsFile { summary, report: extras.as_ref() };
        if let Some(path) = &self.stats {
            let written = std::fs::File::create(path).and_then(|f| {
                let mut w = io::BufWriter::new(f);
                serde_json::to_writer_pretty(&mut w, &stats_file).map_err(io::Error::other)?;
                writeln!(w)?;
                w.flush()
            });
            if let Err(e) = written {
                out.errors.push(format!("cannot write stats file {}: {e}", path.display()));
            }
        }
        let mut extracted = None;
        if let (Some(path), Some(c)) = (&self.extract, &collected) {
            let written = std::fs::File::create(path).and_then(|f| extract::write(&c.frames, io::BufWriter::new(f)));
            match written {
                Ok(format) => {
                    if c.frames_dropped > 0 {
                        out.warnings.push(format!(
                            "{}: {} flagged packets left out (memory limit for --extract reached)",
                            path.display(),
                            c.frames_dropped
                        ));
                    }
                    extracted = Some(Extracted {
                        path: path.display().to_string(),
                        format,
                        packets: c.frames.len() as u64,
                        dropped: c.frames_dropped,
                    });
                }
                Err(e) => out.errors.push(format!("cannot write extract file {}: {e}", path.display())),
            }
        }
        if let (Some((path, format)), Some(sink)) = (&self.report, &self.sink) {
            let run_stats = match stats_file.as_run_stats() {
                Ok(s) => Some(s),
                Err(e) => {
                    out.warnings.push(format!("run statistics unusable for the report: {e}"));
                    None
                }
            };
            let sources =
                super::Sources { alerts: &sink.alerts, stats: run_stats.as_ref(), extracted, ..Default::default() };
            if let Err(e) = write(&super::build(sources), path, *format) {
                out.errors.push(format!("cannot write report {}: {e}", path.display()));
            }
        }
        out
    }
}
