//! Reading a report's inputs from files and writing the report out.
//!
//! `ferret report` takes EVE files; each one's run statistics are found with
//! `--stats` or beside it ([`input::stats_candidates`]). The stats file
//! `ferret scan --stats` writes is the summary's JSON plus the report's
//! additions ([`StatsFile`]); a report made at the end of a scan reads those
//! same numbers back from that JSON, so both paths give the same report.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::input::{self, AlertRecord, ReportStats, RunStats};
use super::{render, Format, Report};
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
    /// Alerts of all EVE files, in order.
    pub alerts: Vec<AlertRecord>,
    /// Merged statistics, when every EVE file had its stats.
    pub stats: Option<RunStats>,
    /// EVE file names.
    pub eve_files: Vec<String>,
    /// Caveats for the report and stderr.
    pub notes: Vec<String>,
}

fn read_stats(path: &Path) -> Result<RunStats, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a ferret stats file ({e})", path.display()))
}

/// Reads EVE files and their statistics. `stats` is either empty (look
/// beside each EVE file) or one file per EVE file.
/// Unreadable files are errors; missing stats and broken lines are notes.
pub fn load(eve: &[PathBuf], stats: &[PathBuf]) -> Result<Loaded, String> {
    if !stats.is_empty() && stats.len() != eve.len() {
        return Err(format!(
            "give one --stats file per EVE file, in the same order ({} EVE files, {} stats)",
            eve.len(),
            stats.len()
        ));
    }
    let mut out = Loaded::default();
    let mut merged: Option<RunStats> = None;
    let mut all_stats = true;
    for (i, path) in eve.iter().enumerate() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        let read = input::read_eve(&text);
        if read.malformed > 0 {
            let first: Vec<String> = read.problems.iter().map(|(n, why)| format!("line {n}: {why}")).collect();
            out.notes.push(format!(
                "{name}: {} unreadable line{} skipped ({})",
                read.malformed,
                if read.malformed == 1 { "" } else { "s" },
                first.join("; ")
            ));
        }
        let stats_path = match stats.get(i) {
            Some(p) => Some(p.clone()),
            None => input::stats_candidates(path).into_iter().find(|p| p.is_file()),
        };
        let run = match stats_path {
            Some(p) => Some(read_stats(&p)?),
            None => {
                all_stats = false;
                out.notes.push(format!(
                    "{name}: no run statistics found (give --stats, or keep NAME.stats.json beside it); \
                     packet counts, protocol distribution and the entropy charts are missing"
                ));
                None
            }
        };
        // Several EVE files without capture names: name alerts by their stats' capture or EVE file.
        let label = (eve.len() > 1).then(|| match run.as_ref().map(|r| r.report.captures.as_slice()) {
            Some([one]) => one.clone(),
            _ => name.clone(),
        });
        out.alerts.extend(read.alerts.into_iter().map(|mut a| {
            if a.file.is_none() {
                a.file.clone_from(&label);
            }
            a
        }));
        if let Some(run) = run {
            match merged.as_mut() {
                Some(m) => m.merge(run),
                None => merged = Some(run),
            }
        }
        out.eve_files.push(name);
    }
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
