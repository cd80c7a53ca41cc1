//! The long-running side of a scan: signals, rule reloads, periodic statistics.
//!
//! Why apart from the scan loop: the loop only reads packets and matches them;
//! everything a process that runs for months needs happens here, between two
//! batches of packets, where it cannot cut a packet in half. [`Sensor`] is the
//! loop's [`Supervisor`]: it stops on SIGINT/SIGTERM (the loop then flushes
//! every sink and the caller prints the summary), reopens outputs on SIGHUP,
//! swaps in rule sets the reload thread compiled, and writes EVE `stats`
//! events and the `--stats` file on a timer. The engine learns nothing of
//! this: it is lent to the sensor and gets a new `Arc<RuleSet>`.
//!
//! **Invariant that makes the swap safe:** the engine is only ever touched by
//! the thread running the loop, and a swap happens between two calls of
//! `Engine::process`, so every packet is matched by exactly one rule set, and
//! no packet is dropped or matched twice because of a reload.

pub mod reload;
pub mod signals;

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::capture::source::CaptureCounters;
use crate::capture::Source;
use crate::engine::Engine;
use crate::output::eve::{EngineEvent, StatsEvent};
use crate::output::remote::OutputCounters;
use crate::output::summary::{SensorCounters, StatsJson};
use crate::scan::{AlertSink, Supervisor};
use reload::{Loaded, Reloader};
use signals::Flags;

/// How loud a log line is (Suricata's levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Routine: a reload, reopened outputs.
    Notice,
    /// Something to look at: kernel drops, a refused rule file.
    Warning,
    /// Something failed: nothing could be reloaded, an output could not be written.
    Error,
}

impl Level {
    /// The name Suricata writes in EVE `log_level`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Notice => "Notice",
            Level::Warning => "Warning",
            Level::Error => "Error",
        }
    }
}

/// Where the sensor's log lines go (the binary prints them on stderr).
pub type Log = Box<dyn FnMut(Level, &str)>;

/// What a sensor does besides scanning.
pub struct SensorOptions {
    /// Write statistics this often (`None`: only at the end).
    pub stats_interval: Option<Duration>,
    /// Rewrite this statistics file on every tick (atomically).
    pub stats_file: Option<PathBuf>,
}

/// The supervisor of a scan that may run for months.
pub struct Sensor {
    flags: Arc<Flags>,
    reloader: Option<Reloader>,
    log: Log,
    started: Instant,
    options: SensorOptions,
    next_stats: Option<Instant>,
    last_reload_nanos: i64,
    counters: SensorCounters,
    drops_seen: u64,
    /// Events each output (by name) had lost at the last stats tick.
    output_drops_seen: std::collections::HashMap<String, u64>,
}

impl Sensor {
    /// A sensor answering `flags`, swapping in what `reloader` compiles, and
    /// `rules_failed` errors in the rules it started with.
    pub fn new(
        flags: Arc<Flags>,
        reloader: Option<Reloader>,
        options: SensorOptions,
        rules_failed: usize,
        log: Log,
    ) -> Sensor {
        let started = Instant::now();
        Sensor {
            flags,
            reloader,
            log,
            next_stats: options.stats_interval.map(|i| started + i),
            started,
            options,
            last_reload_nanos: wall_nanos(),
            counters: SensorCounters { rules_failed, ..SensorCounters::default() },
            drops_seen: 0,
            output_drops_seen: std::collections::HashMap::new(),
        }
    }

    /// The counters so far (uptime, capture, reloads).
    pub fn counters(&self) -> SensorCounters {
        SensorCounters { uptime_secs: self.started.elapsed().as_secs(), ..self.counters }
    }

    /// Writes a line to the sensor's log.
    pub fn log(&mut self, level: Level, text: &str) {
        (self.log)(level, text);
    }

    /// True once a signal asked the sensor to stop.
    pub fn stopped(&self) -> bool {
        self.flags.stop_requested()
    }

    /// Puts a finished load in place and tells what happened.
    fn apply(&mut self, engine: &mut Engine, sinks: &mut [&mut dyn AlertSink], loaded: Loaded) -> io::Result<()> {
        let now = wall_nanos();
        let mut lines = Vec::new();
        for r in &loaded.refused {
            let fate = if r.kept_previous { "its previous version stays loaded" } else { "not loaded" };
            let mut text = format!("rule file {} refused ({fate}):\n", r.file);
            for p in &r.problems {
                text.push_str(p);
            }
            lines.push((Level::Warning, text));
        }
        for p in &loaded.general {
            lines.push((Level::Error, p.clone()));
        }
        let took = loaded.took.as_secs_f64() * 1000.0;
        self.counters.rules_failed = loaded.errors();
        if !loaded.refused.is_empty() || !loaded.general.is_empty() {
            self.counters.reloads_with_refusals += 1;
        }
        match loaded.rules {
            Some(rules) => {
                let swapped = engine.replace_rules(rules);
                self.counters.reloads += 1;
                self.last_reload_nanos = now;
                lines.insert(
                    0,
                    (
                        Level::Notice,
                        format!(
                            "rules reloaded in {took:.1} ms: {} rules from {} files, {} unchanged, {} removed or changed; \
                             state kept for {} of {} stateful rules; {} file{} refused",
                            swapped.rules,
                            loaded.files.len(),
                            swapped.unchanged,
                            swapped.removed,
                            swapped.state_kept,
                            swapped.stateful,
                            loaded.refused.len(),
                            if loaded.refused.len() == 1 { "" } else { "s" },
                        ),
                    ),
                );
            }
            None => lines.insert(
                0,
                (Level::Error, format!("rules not reloaded ({took:.1} ms): nothing compiled; the running rules stay")),
            ),
        }
        for (level, text) in &lines {
            (self.log)(*level, text);
            let event = EngineEvent { now_nanos: now, level: level.name(), module: "rule-reload", message: text };
            for sink in sinks.iter_mut() {
                sink.engine_event(&event)?;
            }
        }
        Ok(())
    }

    fn tick(&mut self, engine: &Engine, sinks: &mut [&mut dyn AlertSink], source: &mut Source) -> io::Result<()> {
        self.read_counters(source);
        let now = wall_nanos();
        let stats = engine.stats();
        let outputs = output_counters(sinks);
        let event = StatsEvent {
            now_nanos: now,
            uptime_secs: self.started.elapsed().as_secs(),
            stats,
            alerts: stats.alerts(),
            capture: self.counters.capture,
            rules_loaded: engine.rules().rules().len(),
            rules_failed: self.counters.rules_failed,
            last_reload_nanos: self.last_reload_nanos,
        };
        for sink in sinks.iter_mut() {
            sink.stats(&event)?;
        }
        // Suricata's stats record has no place for an output's losses: they
        // go out as a warning `engine` event when they grow (and in full in
        // the stats file and the summary).
        for line in self.output_losses(&outputs) {
            (self.log)(Level::Warning, &line);
            let event = EngineEvent { now_nanos: now, level: Level::Warning.name(), module: "output", message: &line };
            for sink in sinks.iter_mut() {
                sink.engine_event(&event)?;
            }
        }
        for sink in sinks.iter_mut() {
            sink.flush()?;
        }
        if let Some(path) = &self.options.stats_file {
            if let Err(e) = write_stats_file(path, engine, self.counters(), outputs) {
                (self.log)(Level::Error, &format!("cannot write stats file {}: {e}", path.display()));
            }
        }
        Ok(())
    }

    /// A line for each output that lost events since the last look.
    fn output_losses(&mut self, outputs: &[OutputCounters]) -> Vec<String> {
        let mut lines = Vec::new();
        for o in outputs {
            let seen = self.output_drops_seen.entry(o.name.clone()).or_insert(0);
            if o.dropped > *seen {
                lines.push(format!(
                    "output {}: {} events dropped since the last look ({} in all: {} buffer full, {} refused); \
                     {} written, {} reconnects",
                    o.name,
                    o.dropped - *seen,
                    o.dropped,
                    o.dropped_buffer_full,
                    o.dropped_refused,
                    o.written,
                    o.reconnects,
                ));
                *seen = o.dropped;
            }
        }
        lines
    }

    /// Logs what the outputs have to say (a connection lost or made again).
    fn log_notices(&mut self, sinks: &mut [&mut dyn AlertSink]) {
        let mut notices = Vec::new();
        for sink in sinks.iter_mut() {
            sink.notices(&mut notices);
        }
        for n in &notices {
            (self.log)(Level::Warning, n);
        }
    }

    /// Reads a live capture's counters and warns when the kernel dropped packets since the last look.
    fn read_counters(&mut self, source: &mut Source) {
        let Some(c) = source.counters() else { return };
        self.counters.capture = Some(c);
        let drops = c.dropped + c.if_dropped;
        if drops > self.drops_seen {
            (self.log)(
                Level::Warning,
                &format!(
                    "{} packets dropped by the kernel or interface since the last look ({} in all, of {} received): \
                     raise --buffer-size, narrow --bpf, or add threads",
                    drops - self.drops_seen,
                    drops,
                    c.received
                ),
            );
            self.drops_seen = drops;
        }
    }
}

impl Supervisor for Sensor {
    fn between(
        &mut self,
        engine: &mut Engine,
        sinks: &mut [&mut dyn AlertSink],
        source: &mut Source,
    ) -> io::Result<ControlFlow<()>> {
        if self.flags.stop_requested() {
            self.read_counters(source);
            return Ok(ControlFlow::Break(()));
        }
        self.log_notices(sinks);
        if self.flags.take_reopen() {
            for sink in sinks.iter_mut() {
                sink.reopen()?;
            }
            (self.log)(Level::Notice, "SIGHUP: output files reopened");
        }
        if let Some(loaded) = self.reloader.as_ref().and_then(Reloader::try_take) {
            self.apply(engine, sinks, loaded)?;
        }
        if let Some(due) = self.next_stats.filter(|due| Instant::now() >= *due) {
            self.tick(engine, sinks, source)?;
            let interval = self.options.stats_interval.unwrap_or(Duration::MAX);
            // The next tick keeps the cadence, but never piles up after a stall.
            self.next_stats = Some((due + interval).max(Instant::now()));
        }
        Ok(ControlFlow::Continue(()))
    }

    fn source_done(&mut self, _engine: &mut Engine, _sinks: &mut [&mut dyn AlertSink], source: &mut Source) {
        self.read_counters(source);
    }
}

/// The counters of every output that can lose events.
pub fn output_counters(sinks: &[&mut dyn AlertSink]) -> Vec<OutputCounters> {
    let mut out = Vec::new();
    for sink in sinks {
        sink.output_counters(&mut out);
    }
    out
}

/// Wall-clock time in nanoseconds since the epoch (events about the sensor, not packets).
pub fn wall_nanos() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Writes the statistics JSON to `path` through a temporary file and a
/// rename, so a reader never sees half a file.
pub fn write_stats_file(
    path: &std::path::Path,
    engine: &Engine,
    sensor: SensorCounters,
    outputs: Vec<OutputCounters>,
) -> io::Result<()> {
    let tables = engine.table_stats();
    let mut json = StatsJson::new(engine.stats(), engine.rules(), &tables);
    json.sensor = Some(sensor);
    json.outputs = outputs;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut w = io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer_pretty(&mut w, &json).map_err(io::Error::other)?;
        writeln!(w)?;
        w.flush()?;
    }
    std::fs::rename(&tmp, path)
}

/// Kept for the summary of a live run: the counters at the end.
pub fn final_capture(sensor: &Sensor) -> Option<CaptureCounters> {
    sensor.counters.capture
}
