//! Shared helpers for integration tests: scan scenarios in memory, run the binary.
#![allow(dead_code)]

/// A network namespace and veth pair for live-capture tests (Linux only; needs root).
#[cfg(target_os = "linux")]
pub mod netns;
/// A real redis-server started by the test, and a client to read it back.
pub mod redis;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use ferret::engine::alert::Alert;
use ferret::engine::tables::TableLimits;
use ferret::engine::Engine;
use ferret::load::{self, RuleSource};
use ferret::scan::{self, VecSink};
use ferret_synth::Scenario;

/// Compiles rule text (panics with the rendered errors on failure).
pub fn rules(text: &str) -> Arc<ferret::engine::ruleset::RuleSet> {
    match load::compile_texts(vec![("test.rules".into(), text.into())], &[]) {
        Ok(r) => Arc::new(r),
        Err(f) => panic!("rules did not compile:\n{}", f.problems.concat()),
    }
}

/// The built-in default rules.
pub fn default_rules() -> Arc<ferret::engine::ruleset::RuleSet> {
    Arc::new(load::load(&[RuleSource::Defaults], &[]).expect("default rules compile"))
}

/// Capture formats a scenario can be written in.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    PcapMicros,
    PcapNanos,
    Pcapng,
}

/// Writes a scenario to bytes.
pub fn capture_bytes(s: &Scenario, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        Format::PcapMicros => s.write_pcap(&mut out, false),
        Format::PcapNanos => s.write_pcap(&mut out, true),
        Format::Pcapng => s.write_pcapng(&mut out),
    }
    .expect("scenario writes");
    out
}

/// Scans capture bytes with `rules`; returns the alerts and the engine.
pub fn scan_bytes(rules: Arc<ferret::engine::ruleset::RuleSet>, bytes: &[u8]) -> (Vec<Alert>, Engine) {
    scan_bytes_with(rules, bytes, TableLimits::default())
}

/// Like [`scan_bytes`] with state limits.
pub fn scan_bytes_with(
    rules: Arc<ferret::engine::ruleset::RuleSet>,
    bytes: &[u8],
    limits: TableLimits,
) -> (Vec<Alert>, Engine) {
    let mut engine = Engine::with_limits(rules, limits);
    let mut sink = VecSink::default();
    {
        let mut sinks: Vec<&mut dyn scan::AlertSink> = vec![&mut sink];
        scan::scan_bytes(&mut engine, bytes, None, &mut sinks, &mut |_, _| {})
            .expect("no sink error")
            .expect("capture reads");
    }
    (sink.alerts.into_iter().map(|(a, _)| a).collect(), engine)
}

/// Scans a scenario (written as `format`) with `rules`.
pub fn scan_scenario(rules: Arc<ferret::engine::ruleset::RuleSet>, s: &Scenario, format: Format) -> Vec<Alert> {
    scan_bytes(rules, &capture_bytes(s, format)).0
}

/// `(packet number, sid)` of each alert.
pub fn hits(alerts: &[Alert]) -> Vec<(u64, u64)> {
    alerts.iter().map(|a| (a.packet, a.rule().map_or(0, |r| r.sid))).collect()
}

/// The ferret binary built for these tests.
pub fn ferret_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferret"))
}

/// Runs ferret with `args` in `dir`, feeding `stdin`.
pub fn run_ferret(args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    let mut child = Command::new(ferret_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferret starts");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("ferret runs")
}

/// The shared real captures, if present (`../shared/pcaps` from the repo, or `$FERRET_PCAPS`).
pub fn shared_pcaps() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("FERRET_PCAPS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

/// Files in a directory, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Reports that a test could not run here and returns: written straight to
/// the process's stderr, which the test harness does not capture, so the
/// notice shows in `cargo test` output even when the test passes. When the
/// environment variable `require` is set (CI sets them), a skip is a failure.
pub fn skip(require: &str, why: &str) {
    assert!(std::env::var_os(require).is_none(), "{require} is set, but {why}");
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why} (set {require}=1 to make this a failure)");
}

/// Compares `actual` with `tests/golden/NAME`, or rewrites it when FERRET_UPDATE_GOLDEN is set.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("FERRET_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no golden file {name}; run with FERRET_UPDATE_GOLDEN=1 to create it"));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\n(FERRET_UPDATE_GOLDEN=1 rewrites it)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// The tunnel packets the built-in rules flag: all but the DNS responses, which
/// repeat their query's name and are not judged (rule 7100101 looks at queries).
pub fn flagged_tunnel_packets(scenario: &Scenario) -> Vec<u64> {
    (1u64..)
        .zip(&scenario.packets)
        .filter(|(_, p)| p.tunnel && p.note != "dns tunnel response")
        .map(|(n, _)| n)
        .collect()
}

/// The lines of a child's output as they come, read by a thread (a test waits on them with a timeout).
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A temporary directory, removed when dropped.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The path of a shipped sample capture (`samples/NAME`).
pub fn sample(name: &str) -> String {
    format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Output bytes as text, for assertion messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
