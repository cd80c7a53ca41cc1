//! The command line: flags parsed once by clap, turned into settings, commands run.
//!
//! Exit codes (documented in the README):
//! - 0: success (alerts or not); also when stdout is closed early (`| head`).
//! - 1: an input could not be read at all, or output could not be written.
//! - 2: usage error, or rules/variables with errors (nothing was scanned).
//! - 3: partial: a capture was truncated or corrupt part-way; everything
//!   before the damage was scanned, alerts written and the summary printed.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::engine::tables::TableLimits;
use crate::engine::Engine;
use crate::load::{self, LoadFailure, RuleSource};
use crate::output::remote::{self, RemoteSink};
use crate::output::sink::{Output, OutputFile};
use crate::output::summary;
use crate::output::target;
use crate::progress::Progress;
use crate::report::files::{self as report_files, ReportError, ScanExtras};
use crate::rules::ast::Value;
use crate::scan::{self, AlertSink, EveSink, Input, TextSink};

/// Success.
pub const EXIT_OK: i32 = 0;
/// An input could not be read, or output could not be written.
pub const EXIT_ERROR: i32 = 1;
/// Usage error or invalid rules.
pub const EXIT_USAGE: i32 = 2;
/// A capture was damaged part-way; results up to the damage were kept.
pub const EXIT_PARTIAL: i32 = 3;

/// ferret: a network detection rule engine for covert channels.
#[derive(Parser, Debug)]
#[command(name = "ferret", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan captures (pcap, pcapng, or - for stdin) and report alerts.
    Scan(Box<ScanArgs>),
    /// Validate rule files; errors show file:line:col, the line and a caret.
    Check(RuleArgs),
    /// Print the compiled matcher tree: groups, header checks, predicate order.
    Explain(ExplainArgs),
    /// Print the native form of each rule of a Suricata rule file (refusals as comments).
    Convert {
        /// The Suricata rule file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Distributions of payload and DNS name length and entropy per network, with suggested thresholds.
    Profile(ProfileArgs),
    /// Alerts and host pairs for each value of a variable, in one pass over the captures.
    Sweep(SweepArgs),
    /// Write an incident report from saved EVE alerts and run statistics.
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `ferret man > ferret.1`.
    Man,
}

#[derive(Args, Debug)]
struct ProfileArgs {
    /// Captures to profile.
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// Configuration file whose networks group the traffic.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Rules whose variables the suggestions are for; `builtin` is the built-in rules (default: the config's rules, else the built-in rules).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// As on the other commands (repeatable, or comma-separated); profile reads rules only for their variables, so it just warns of ids no rule has.
    #[arg(long = "disable", value_name = "ID", value_delimiter = ',')]
    disable: Vec<u64>,
    /// Group by network (the config's, else /24 and /64) or by source host.
    #[arg(long, value_enum, default_value = "network")]
    by: ProfileBy,
    /// Percentile the suggested thresholds start from.
    #[arg(long, default_value_t = 99.9)]
    percentile: f64,
    /// Added to the percentile for the suggested threshold (in the metric's units).
    #[arg(long, default_value_t = 0.01)]
    margin: f64,
    /// Also write SVG histograms into DIR.
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,
    /// Leave out the text histograms.
    #[arg(long)]
    no_histograms: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ProfileBy {
    Network,
    Host,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// Captures to scan (each is read once).
    #[arg(required = true, value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// Rule file or directory; `builtin` is the built-in rules (repeatable; default: the config's rules, else the built-in rules).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// NAME=START..END:STEP or NAME=A,B,C to sweep; NAME=VALUE to fix (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUES", required = true)]
    vars: Vec<String>,
    /// Leave out the rule with this id (repeatable, or comma-separated; added to the config's `disable`).
    #[arg(long = "disable", value_name = "ID", value_delimiter = ',')]
    disable: Vec<u64>,
    /// Configuration file (networks keep their own values).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: crate::sweep::Format,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// EVE JSON files (from `ferret scan --eve`, or Suricata's eve.json); - reads stdin;
    /// redis://HOST:PORT/KEY reads a Redis list (?mode=rpush for one filled with RPUSH).
    /// Several files (e.g. one per sensor) are merged into one report: alerts in time
    /// order, each with its sensor (EVE `host`, else the file name), copies counted once.
    #[arg(required = true, value_name = "EVE_FILE")]
    eve: Vec<PathBuf>,
    /// Run statistics from `ferret scan --stats`, one per EVE file in order
    /// (default: NAME.stats.json, then stats.json, beside each EVE file; none for stdin).
    #[arg(long, value_name = "FILE")]
    stats: Vec<PathBuf>,
    /// Report file; the format follows the extension (.md, .html, .json). Default: Markdown on stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Format, overriding the extension: md, html or json.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
}

#[derive(Args, Debug)]
struct RuleArgs {
    /// Rule files or directories of *.rules files; `builtin` is the built-in rules (default: the config's rules, else the built-in rules).
    paths: Vec<PathBuf>,
    /// Rule file or directory, as for `scan` (repeatable; added to PATHS).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Set a variable, overriding rule files and the config: NAME=VALUE (e.g. ICMP_ENTROPY=6.5).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Leave out the rule with this id (repeatable, or comma-separated; added to the config's `disable`).
    #[arg(long = "disable", value_name = "ID", value_delimiter = ',')]
    disable: Vec<u64>,
    /// Configuration file (default: $FERRET_CONFIG, ./ferret.yaml, /etc/ferret/ferret.yaml).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Suricata rule files: a rule ferret cannot load refuses its whole file (default: the rest loads).
    #[arg(long)]
    strict: bool,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    #[command(flatten)]
    rules: RuleArgs,
    /// List every field rules can test, with types, instead.
    #[arg(long)]
    fields: bool,
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Captures to scan, in order; - reads standard input as a stream (so does a named pipe).
    #[arg(value_name = "CAPTURE")]
    captures: Vec<PathBuf>,
    /// Capture live from this network interface (a build with `--features live`).
    #[arg(short = 'i', long = "interface", value_name = "IFACE", conflicts_with = "captures")]
    interface: Option<String>,
    /// BPF capture filter for -i, e.g. 'icmp or port 53'.
    #[arg(long, value_name = "FILTER")]
    bpf: Option<String>,
    /// Bytes captured per packet with -i [default: 65535].
    #[arg(long, value_name = "BYTES")]
    snaplen: Option<i32>,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// Kernel capture buffer size in bytes for -i [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    buffer_size: Option<i32>,
    /// Once the interface is open, run as this user (name or uid).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Once the interface is open, run as this group (name or gid) [default: the user's].
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    /// While running live or on a stream: write statistics (EVE stats events, the --stats file)
    /// this often; 0 turns it off [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    stats_interval: Option<u64>,
    /// While running live or on a stream: do not watch the rule folders for changes (SIGUSR2 still reloads).
    #[arg(long)]
    no_watch: bool,
    /// Rule file or directory; `builtin` is the built-in rules (repeatable; default: the config's rules, else the built-in rules).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// Set a variable, overriding rule files and the config: NAME=VALUE.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Leave out the rule with this id (repeatable, or comma-separated; added to the config's `disable`).
    #[arg(long = "disable", value_name = "ID", value_delimiter = ',')]
    disable: Vec<u64>,
    /// Suricata rule files: a rule ferret cannot load refuses its whole file (default: the rest loads).
    #[arg(long)]
    strict: bool,
    /// Keep at most N alerts per packet, the most severe first (Suricata's packet-alert-max, 15 there; default: all).
    #[arg(long, value_name = "N")]
    packet_alert_max: Option<usize>,
    /// Threads to scan with: workers decode packets and match what needs no state, one thread keeps the state in capture order; the alerts are those of one thread [default: the machine's cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// Configuration file (default: $FERRET_CONFIG, ./ferret.yaml, /etc/ferret/ferret.yaml).
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write EVE JSON alerts to FILE (- for stdout, which then carries no alert lines); appended to, as Suricata does.
    /// Or send them to Redis: redis://HOST:PORT/KEY (LPUSH; ?mode=rpush, ?mode=channel for PUBLISH, ?mode=stream for XADD; &types=alert,stats,engine; &buffer=EVENTS).
    #[arg(long, value_name = "FILE|URL")]
    eve: Option<PathBuf>,
    /// Truncate the EVE file at start instead of appending to it.
    #[arg(long)]
    eve_truncate: bool,
    /// The sensor's name, written as EVE `host` in every event.
    #[arg(long, value_name = "NAME")]
    sensor_name: Option<String>,
    /// Write the run statistics as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Write an incident report to FILE; the format follows the extension (.md, .html, .json).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the flagged packets to FILE (pcap; pcapng if their link types differ).
    #[arg(long, value_name = "FILE")]
    extract: Option<PathBuf>,
    /// Do not print alert lines on stdout.
    #[arg(short, long)]
    quiet: bool,
    /// Do not print the summary on stderr.
    #[arg(long)]
    no_summary: bool,
    /// Most keys one state table may hold before evicting the least recently seen [default: 100000].
    #[arg(long, value_name = "N")]
    state_max_entries: Option<usize>,
    /// Drop state keys idle for this long (packet time), e.g. 300s, 5m [default: 300s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    state_idle: Option<u64>,
    /// Most bytes one state table may hold before evicting the least recently seen keys, e.g. 64MiB [default: 64MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_memcap)]
    state_memcap: Option<usize>,
}

/// Parses `64MiB`, `512KiB` or a number of bytes.
fn parse_memcap(s: &str) -> Result<usize, String> {
    config::parse_size(s).ok_or_else(|| format!("'{s}' is not a size like 64MiB"))
}

/// Parses `10s`, `500ms`, `5m`, `1h` into nanoseconds.
fn parse_duration(s: &str) -> Result<u64, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a duration like 300s or 5m"))?;
    let scale = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" | "" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return Err(format!("unknown unit '{unit}' (use ms, s, m or h)")),
    };
    Ok((n * scale) as u64)
}

/// Runs the command line; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Check(args) => run_check(args),
        Command::Explain(args) => run_explain(args),
        Command::Convert { file } => run_convert(&file),
        Command::Profile(args) => run_profile(args),
        Command::Sweep(args) => run_sweep(args),
        Command::Report(args) => run_report(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ferret", &mut out);
            write_stdout(&out)
        }
        Command::Man => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => write_stdout(&out),
                Err(e) => {
                    eprintln!("ferret: cannot render the manual page: {e}");
                    EXIT_ERROR
                }
            }
        }
    }
}

/// Rules and the config they were loaded with.
struct Loaded {
    rules: crate::engine::ruleset::RuleSet,
    config: Option<Config>,
}

fn overrides(vars: &[String]) -> Result<Vec<(String, Value)>, LoadFailure> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for v in vars {
        match load::parse_var_override(v) {
            Ok(pair) => out.push(pair),
            Err(mut f) => problems.append(&mut f.problems),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(LoadFailure { problems })
    }
}

fn report_failure(failure: &LoadFailure, what: &str) -> i32 {
    let mut err = io::stderr().lock();
    for p in &failure.problems {
        let _ = writeln!(err, "{p}");
    }
    let n = failure.count();
    let _ = writeln!(err, "ferret: {n} error{} in {what}; nothing was scanned", if n == 1 { "" } else { "s" });
    EXIT_USAGE
}

/// Where rules come from: `paths` if given, else the config's `rules`, else the built-in rules.
/// A path written `builtin` stands for the built-in rules (a file of that name is `./builtin`).
fn rule_sources(paths: &[PathBuf], config: Option<&Config>) -> Vec<RuleSource> {
    if !paths.is_empty() {
        paths
            .iter()
            .map(|p| if p.as_os_str() == "builtin" { RuleSource::Defaults } else { RuleSource::Path(p.clone()) })
            .collect()
    } else if let Some(c) = config.filter(|c| !c.rules.is_empty()) {
        c.rules.clone()
    } else {
        vec![RuleSource::Defaults]
    }
}

/// Finds and reads the config, then loads the rules: `paths` if given, else the
/// config's `rules`, else the built-in rules, less the disabled ones. Prints
/// the loading warnings (ids that name no rule).
fn load_everything(
    config_arg: Option<&Path>,
    paths: &[PathBuf],
    vars: &[String],
    disable: &[u64],
    strict: bool,
) -> Result<Loaded, i32> {
    let config = match config::discover(config_arg) {
        Some(path) => Some(config::load(&path).map_err(|f| report_failure(&f, "the config"))?),
        None => None,
    };
    let sources = rule_sources(paths, config.as_ref());
    let overrides = overrides(vars).map_err(|f| report_failure(&f, "--var"))?;
    let mut layers = config::layers(config.as_ref(), overrides, disable);
    layers.strict = strict;
    let rules = load::load_configured(&sources, &layers, config.as_ref().map(|c| c as &dyn load::ConfigCheck))
        .map_err(|f| report_failure(&f, "rules"))?;
    print_warnings(rules.warnings());
    Ok(Loaded { rules, config })
}

fn print_warnings(warnings: &[String]) {
    let mut err = io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "warning: {w}");
    }
}

fn run_check(args: RuleArgs) -> i32 {
    let paths: Vec<PathBuf> = args.paths.iter().chain(&args.rules).cloned().collect();
    match load_everything(args.config.as_deref(), &paths, &args.vars, &args.disable, args.strict) {
        Ok(loaded) => {
            let sources = rule_sources(&paths, loaded.config.as_ref());
            for (path, ok, refused) in load::suricata_summary(&sources).unwrap_or_default() {
                println!("{path}: Suricata rules: {ok} loaded, {refused} refused");
            }
            let n = loaded.rules.rules().len();
            let networks = loaded.rules.networks().networks().len();
            let disabled = match loaded.rules.disabled().len() {
                0 => String::new(),
                d => format!(", {d} disabled"),
            };
            match &loaded.config {
                Some(c) => println!(
                    "ok: {n} rule{} compiled{disabled} with config {} ({networks} network{})",
                    if n == 1 { "" } else { "s" },
                    c.path,
                    if networks == 1 { "" } else { "s" }
                ),
                None => println!("ok: {n} rule{} compiled{disabled}", if n == 1 { "" } else { "s" }),
            }
            EXIT_OK
        }
        Err(code) => code,
    }
}

fn run_convert(file: &Path) -> i32 {
    let path = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ferret: {path}: {e}");
            return EXIT_ERROR;
        }
    };
    if !crate::rules::suricata::is_suricata(&text) {
        eprintln!("ferret: {path} is not in Suricata's syntax (its first rule has no '(' before a '{{')");
        return EXIT_USAGE;
    }
    let parsed = crate::rules::suricata::parse(&text);
    print!("{}", crate::rules::suricata::convert::to_native(&parsed, &path, &text));
    eprintln!("{path}: {} rules converted, {} refused", parsed.ast.items.len(), parsed.refused.len());
    EXIT_OK
}

fn run_explain(args: ExplainArgs) -> i32 {
    if args.fields {
        println!("{:<24} {:<8} MEANING", "FIELD", "TYPE");
        for f in crate::engine::field::FIELDS {
            println!("{:<24} {:<8} {}", f.name, f.ty.name(), f.doc);
        }
        return EXIT_OK;
    }
    let paths: Vec<PathBuf> = args.rules.paths.iter().chain(&args.rules.rules).cloned().collect();
    match load_everything(
        args.rules.config.as_deref(),
        &paths,
        &args.rules.vars,
        &args.rules.disable,
        args.rules.strict,
    ) {
        Ok(loaded) => {
            let mut out = String::new();
            let _ = loaded.rules.explain(&mut out);
            write_stdout(out.as_bytes())
        }
        Err(code) => code,
    }
}

fn run_profile(args: ProfileArgs) -> i32 {
    let config = match config::discover(args.config.as_deref()) {
        Some(path) => match config::load(&path) {
            Ok(c) => Some(c),
            Err(f) => return report_failure(&f, "the config"),
        },
        None => None,
    };
    let networks = config.as_ref().map(|c| c.networks.clone()).unwrap_or_default();
    let map = match crate::engine::networks::NetworkMap::new(
        networks
            .iter()
            .map(|n| crate::engine::networks::Network {
                name: n.name.clone(),
                nets: n.nets.iter().map(|i| crate::engine::header::Net::new(i.addr, i.prefix)).collect(),
            })
            .collect(),
    ) {
        Ok(m) => m,
        Err(o) => {
            eprintln!("ferret: {} is in both networks '{}' and '{}'", o.net, o.first, o.second);
            return EXIT_USAGE;
        }
    };
    let by = match args.by {
        ProfileBy::Network => crate::profile::GroupBy::Network,
        ProfileBy::Host => crate::profile::GroupBy::Host,
    };
    let (defrag, dns_tcp) = config.as_ref().map(|c| (c.defrag, c.dns_tcp)).unwrap_or_default();
    let opts = crate::profile::ProfileOptions { by, networks: &map, defrag, dns_tcp };
    let mut profile = crate::profile::Profile::default();
    let mut code = for_each_capture(&args.captures, "profiled", |data| profile.add_capture(data, &opts));
    let sources = rule_sources(&args.rules, config.as_ref());
    let defined = match load::defined_variables(&sources) {
        Ok(names) => names,
        Err(f) => return report_failure(&f, "rules"),
    };
    let layers = config::layers(config.as_ref(), Vec::new(), &args.disable);
    match load::disable_warnings(&sources, &layers.disable) {
        Ok(warnings) => print_warnings(&warnings),
        Err(f) => return report_failure(&f, "rules"),
    }
    let mut out = String::new();
    profile.write_table(&mut out, !args.no_histograms);
    out.push('\n');
    profile.write_suggestions(&mut out, args.percentile, args.margin, &defined);
    if let Some(dir) = &args.svg {
        match profile.write_svgs(dir) {
            Ok(files) => eprintln!("ferret: wrote {} SVG histograms to {}", files.len(), dir.display()),
            Err(e) => {
                eprintln!("ferret: cannot write SVG files to {}: {e}", dir.display());
                code = EXIT_ERROR;
            }
        }
    }
    let written = write_stdout(out.as_bytes());
    if written != EXIT_OK {
        written
    } else {
        code
    }
}

/// Opens each capture in turn and hands it to `work`; reports unreadable and
/// damaged captures and returns the exit code they call for.
fn for_each_capture(
    captures: &[PathBuf],
    done: &str,
    mut work: impl FnMut(&crate::capture::CaptureData) -> Result<(), crate::capture::CaptureError>,
) -> i32 {
    let (mut unreadable, mut damaged) = (false, false);
    for path in captures {
        let input = Input::from_arg(path);
        let opened = match &input {
            Input::Stdin => crate::capture::CaptureData::from_reader(io::stdin().lock()),
            _ => crate::capture::CaptureData::open(path),
        };
        match opened {
            Ok(data) => {
                if let Err(e) = work(&data) {
                    eprintln!("ferret: {}: capture damaged {e}; {done} what came before", input.name());
                    damaged = true;
                }
            }
            Err(e) => {
                eprintln!("ferret: {}: {e}", input.name());
                unreadable = true;
            }
        }
    }
    // As for `scan`: an input that could not be read at all outranks a damaged one.
    if unreadable {
        EXIT_ERROR
    } else if damaged {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    }
}

/// True for `START..END:STEP` or `A,B,C` (numbers), the values a sweep varies.
fn is_sweep_spec(value: &str) -> bool {
    let numeric = |s: &str| s.trim().parse::<f64>().is_ok();
    match value.split_once(':') {
        Some((range, step)) => range.split_once("..").is_some_and(|(a, b)| numeric(a) && numeric(b)) && numeric(step),
        None => value.contains(',') && value.split(',').all(numeric),
    }
}

fn run_sweep(args: SweepArgs) -> i32 {
    let (mut axes, mut fixed) = (Vec::new(), Vec::new());
    for v in &args.vars {
        let value = v.split_once('=').map_or("", |(_, value)| value);
        if is_sweep_spec(value) {
            match crate::sweep::parse_axis(v) {
                Ok(a) => axes.push(a),
                Err(e) => {
                    eprintln!("ferret: {e}");
                    return EXIT_USAGE;
                }
            }
        } else {
            fixed.push(v.clone());
        }
    }
    if axes.is_empty() {
        eprintln!("ferret: sweep needs at least one --var NAME=START..END:STEP or NAME=A,B,C");
        return EXIT_USAGE;
    }
    let loaded = match load_everything(args.config.as_deref(), &args.rules, &fixed, &args.disable, false) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let config = loaded.config.unwrap_or_default();
    let sources = rule_sources(&args.rules, Some(&config));
    let texts = match load::read_sources(&sources) {
        Ok(t) => t,
        Err(f) => return report_failure(&f, "rules"),
    };
    // A misspelt swept name would give a flat table that looks like a result.
    if let Err(f) = load::check_var_names(&texts, axes.iter().map(|a| a.name.as_str())) {
        return report_failure(&f, "--var");
    }
    let base = config::layers(Some(&config), overrides(&fixed).unwrap_or_default(), &args.disable);
    let limits = TableLimits {
        max_entries: config.state_max_entries.unwrap_or(TableLimits::default().max_entries),
        idle_nanos: config.state_idle_nanos.unwrap_or(TableLimits::default().idle_nanos),
        memcap_bytes: config.state_memcap_bytes.unwrap_or(TableLimits::default().memcap_bytes),
    };
    let new_engine = |rules| engine_for(rules, limits, &config);
    let compiled = crate::sweep::variants(&axes, &base, new_engine, |layers| {
        load::compile_with(texts.clone(), layers).map_err(|f| f.problems.concat())
    });
    let mut variants = match compiled {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}ferret: a swept value does not compile");
            return EXIT_USAGE;
        }
    };
    let code = for_each_capture(&args.captures, "swept", |data| crate::sweep::run(&mut variants, data).map(drop));
    let mut out = String::new();
    crate::sweep::write(&axes, &variants, args.format, &mut out);
    let written = write_stdout(out.as_bytes());
    if written != EXIT_OK {
        written
    } else {
        code
    }
}

fn write_stdout(bytes: &[u8]) -> i32 {
    match io::stdout().lock().write_all(bytes) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("ferret: cannot write output: {e}");
            EXIT_ERROR
        }
    }
}

/// True when an input has no known end (stdin or a pipe, not a regular file): the
/// scan then runs as a sensor (rule reloads, periodic statistics).
fn is_unbounded(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            return io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(std::fs::File::from)
                .and_then(|f| f.metadata())
                .map_or(true, |m| !m.is_file());
        }
        #[cfg(not(unix))]
        return true;
    }
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Kernel buffer of a live capture unless `--buffer-size` says otherwise.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
const DEFAULT_BUFFER_BYTES: i32 = 64 << 20;

/// Opens the live capture the flags and config ask for.
#[cfg(feature = "live")]
fn open_live(
    args: &ScanArgs,
    config: &Config,
    iface: &str,
    rules: &crate::engine::ruleset::RuleSet,
) -> Result<crate::capture::Source, i32> {
    use crate::capture::live::{LiveCapture, LiveOptions};
    let c = &config.sensor;
    let defaults = LiveOptions::new(iface);
    let opts = LiveOptions {
        bpf: args.bpf.clone().or_else(|| c.bpf.clone()),
        snaplen: args.snaplen.or(c.snaplen).unwrap_or(defaults.snaplen),
        promiscuous: !args.no_promisc && c.promiscuous.unwrap_or(defaults.promiscuous),
        // Immediate delivery on Linux gives each packet a snaplen-sized slot:
        // libpcap's 2 MiB default would hold some 32 packets of a burst.
        buffer_size: Some(args.buffer_size.or(c.buffer_size).unwrap_or(DEFAULT_BUFFER_BYTES)),
        immediate: true,
        ..defaults
    };
    let need = snaplen_need(rules);
    if opts.snaplen < need {
        eprintln!(
            "ferret: warning: --snaplen {} is shorter than what the rules read (payload and DNS fields need whole packets, up to {need} bytes): they will see truncated payloads",
            opts.snaplen
        );
    }
    match LiveCapture::open(&opts) {
        Ok(cap) => Ok(crate::capture::Source::live(cap)),
        Err(e) => {
            eprintln!("ferret: {iface}: {e}");
            Err(EXIT_ERROR)
        }
    }
}

#[cfg(not(feature = "live"))]
fn open_live(
    _args: &ScanArgs,
    _config: &Config,
    iface: &str,
    _rules: &crate::engine::ruleset::RuleSet,
) -> Result<crate::capture::Source, i32> {
    eprintln!("ferret: -i {iface}: {}", crate::capture::live_help::LIVE_UNAVAILABLE);
    Err(EXIT_USAGE)
}

/// Bytes of each packet the rules read: whole packets when a rule reads the
/// payload or DNS, else the headers.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
fn snaplen_need(rules: &crate::engine::ruleset::RuleSet) -> i32 {
    let reads_payload = rules.rules().iter().any(|r| {
        r.measured.iter().any(|f| {
            let name = crate::engine::field::info(*f).name;
            name.starts_with("payload")
                || name.starts_with("dns")
                || name.starts_with("icmp.reply")
                || name.starts_with("icmp.unpaired")
        })
    });
    if reads_payload {
        65535
    } else {
        128
    }
}

/// Loads the rules of a sensor: file by file, so a bad file is refused and the rest load.
fn load_sensor_rules(
    config_arg: Option<&Path>,
    paths: &[PathBuf],
    vars: &[String],
    disable: &[u64],
) -> Result<(crate::sensor::reload::RuleLoader, Arc<crate::engine::ruleset::RuleSet>, Option<Config>, usize), i32> {
    let config = match config::discover(config_arg) {
        Some(path) => Some(config::load(&path).map_err(|f| report_failure(&f, "the config"))?),
        None => None,
    };
    let sources = rule_sources(paths, config.as_ref());
    let overrides = overrides(vars).map_err(|f| report_failure(&f, "--var"))?;
    let layers = config::layers(config.as_ref(), overrides, disable);
    let mut loader = crate::sensor::reload::RuleLoader::new(sources, layers);
    let loaded = loader.load();
    let mut err = io::stderr().lock();
    for r in &loaded.refused {
        let _ = writeln!(err, "ferret: warning: rule file {} refused; the sensor starts without it:", r.file);
        for p in &r.problems {
            let _ = err.write_all(p.as_bytes());
        }
    }
    for p in &loaded.general {
        let _ = err.write_all(p.as_bytes());
    }
    let failed = loaded.errors();
    match loaded.rules {
        Some(rules) if !rules.rules().is_empty() || loaded.refused.is_empty() => Ok((loader, rules, config, failed)),
        _ => {
            let _ = writeln!(err, "ferret: no rule could be loaded; the sensor does not start");
            Err(EXIT_USAGE)
        }
    }
}

fn run_scan(mut args: ScanArgs) -> i32 {
    let config_arg = args.config.clone();
    // Live (-i, or the config's interface when no capture is named) or a stream: a sensor.
    let sensor_mode =
        args.interface.is_some() || args.captures.is_empty() || args.captures.iter().any(|p| is_unbounded(p));
    let (rules, config, loader, rules_failed) = if sensor_mode {
        match load_sensor_rules(config_arg.as_deref(), &args.rules, &args.vars, &args.disable) {
            Ok((loader, rules, config, failed)) => (rules, config.unwrap_or_default(), Some(loader), failed),
            Err(code) => return code,
        }
    } else {
        match load_everything(config_arg.as_deref(), &args.rules, &args.vars, &args.disable, args.strict) {
            Ok(loaded) => (Arc::new(loaded.rules), loaded.config.unwrap_or_default(), None, 0),
            Err(code) => return code,
        }
    };
    // Command-line flags win over the config file.
    let outputs = &config.outputs;
    args.eve = args.eve.or_else(|| outputs.eve.clone());
    args.stats = args.stats.or_else(|| outputs.stats.clone());
    args.quiet |= outputs.alerts == Some(false);
    args.no_summary |= outputs.summary == Some(false);
    let defaults = TableLimits::default();
    let limits = TableLimits {
        max_entries: args.state_max_entries.or(config.state_max_entries).unwrap_or(defaults.max_entries).max(1),
        idle_nanos: args.state_idle.or(config.state_idle_nanos).unwrap_or(defaults.idle_nanos),
        memcap_bytes: args.state_memcap.or(config.state_memcap_bytes).unwrap_or(defaults.memcap_bytes),
    };
    let interface = args.interface.clone().or_else(|| {
        // The config's interface applies when no capture is named.
        args.captures.is_empty().then(|| config.sensor.interface.clone()).flatten()
    });
    let mut inputs: Vec<Input> = args.captures.iter().map(|p| Input::from_arg(p)).collect();
    if inputs.iter().filter(|i| matches!(i, Input::Stdin)).count() > 1 {
        eprintln!("ferret: '-' (stdin) can be given only once");
        return EXIT_USAGE;
    }
    if interface.is_none() && inputs.is_empty() {
        eprintln!("ferret: nothing to scan: name captures, - for stdin, or an interface with -i (or sensor.interface in the config)");
        return EXIT_USAGE;
    }
    // Look the user and group up first, so a misspelt name fails before anything opens.
    let (user, group) =
        (args.user.clone().or(config.sensor.user.clone()), args.group.clone().or(config.sensor.group.clone()));
    let drop_to = match (&user, &group) {
        (None, None) => None,
        _ => match crate::privileges::resolve(user.as_deref(), group.as_deref()) {
            Ok(target) => Some(target),
            Err(e) => {
                eprintln!("ferret: cannot run as the --user/--group given: {e}");
                return EXIT_USAGE;
            }
        },
    };
    if let Some(iface) = &interface {
        match open_live(&args, &config, iface, &rules) {
            Ok(source) => inputs = vec![Input::opened(source)],
            Err(code) => return code,
        }
    }
    if let Some(target) = &drop_to {
        if let Err(e) = target.apply() {
            eprintln!("ferret: cannot drop privileges: {e}");
            return EXIT_ERROR;
        }
    }
    let mut engine = engine_for(rules, limits, &config);
    engine.set_packet_alert_max(args.packet_alert_max);
    let mut extras = match ScanExtras::new(args.stats.as_deref(), args.extract.as_deref(), args.report.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ferret: {e}");
            return EXIT_USAGE;
        }
    };
    let mut progress = Progress::for_stderr();
    let host = args.sensor_name.clone().or_else(|| outputs.host.clone());
    // `--eve redis://...` sends to Redis instead of a file; the config's Redis, socket and syslog outputs stay.
    let mut remote_specs = outputs.remote.clone();
    let mut eve_types = outputs.eve_types.filter(|_| args.eve == outputs.eve);
    if let Some(url) = args.eve.as_ref().and_then(|p| p.to_str()).filter(|u| target::is_redis_url(u)) {
        match target::parse_redis_url(url) {
            Ok(spec) => remote_specs.push(spec),
            Err(e) => {
                eprintln!("ferret: --eve {e}");
                return EXIT_USAGE;
            }
        }
        args.eve = None;
        eve_types = None;
    }
    let mut remote_sinks = Vec::with_capacity(remote_specs.len());
    for spec in &remote_specs {
        match RemoteSink::start(spec, host.clone(), remote::DEFAULT_DRAIN) {
            Ok(s) => remote_sinks.push(s),
            Err(e) => {
                eprintln!("ferret: cannot start output {}: {e}", spec.target);
                return EXIT_ERROR;
            }
        }
    }
    let eve_to_stdout = args.eve.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let mut text_sink = (!args.quiet && !eve_to_stdout).then(|| {
        if progress.is_shown() && io::stdout().is_terminal() {
            TextSink::new(progress.line_writer(io::stdout()))
        } else {
            TextSink::new(Box::new(io::BufWriter::new(io::stdout())) as Box<dyn Write>)
        }
    });
    let append = !args.eve_truncate && outputs.eve_append != Some(false);
    let eve_sink = match &args.eve {
        None => None,
        Some(_) if eve_to_stdout => Some(
            EveSink::new(Box::new(io::BufWriter::with_capacity(crate::output::sink::OUTPUT_BUFFER, io::stdout()))
                as Box<dyn Output>)
            .with_host(host.clone()),
        ),
        Some(path) => match if append { OutputFile::append(path) } else { OutputFile::create(path) } {
            Ok(f) => Some(EveSink::new(Box::new(f) as Box<dyn Output>).with_host(host.clone())),
            Err(e) => {
                eprintln!("ferret: cannot create EVE file {}: {e}", path.display());
                return EXIT_ERROR;
            }
        },
    };
    let mut eve_sink = eve_sink.map(|s| s.with_types(eve_types.unwrap_or_default()));
    if eve_sink.is_some() || !remote_sinks.is_empty() {
        engine.track_flows();
    }
    let mut sinks: Vec<&mut dyn AlertSink> = Vec::new();
    if let Some(s) = text_sink.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = eve_sink.as_mut() {
        sinks.push(s);
    }
    for s in remote_sinks.iter_mut() {
        sinks.push(s);
    }
    let (report_sink, collector) = extras.parts();
    if let Some(s) = report_sink {
        s.set_host(host.clone());
        sinks.push(s);
    }

    let reloader = match loader {
        Some(loader) => {
            let watch = !args.no_watch && config.sensor.watch != Some(false);
            match crate::sensor::reload::Reloader::start(loader, watch) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("ferret: cannot watch the rule folders: {e}");
                    return EXIT_ERROR;
                }
            }
        }
        None => None,
    };
    let flags = match crate::sensor::signals::listen(reloader.as_ref().map(|r| r.requester())) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("ferret: cannot handle signals: {e}");
            return EXIT_ERROR;
        }
    };
    let interval = args.stats_interval.or(config.stats_interval_nanos).unwrap_or(60_000_000_000);
    let options = crate::sensor::SensorOptions {
        stats_interval: (sensor_mode && interval > 0).then(|| std::time::Duration::from_nanos(interval)),
        stats_file: if sensor_mode { args.stats.clone() } else { None },
    };
    let log: crate::sensor::Log = Box::new(|level, text: &str| {
        let mut stamp = String::new();
        crate::output::time::rfc3339_micros(crate::sensor::wall_nanos(), &mut stamp);
        let level = match level {
            crate::sensor::Level::Notice => "",
            crate::sensor::Level::Warning => "warning: ",
            crate::sensor::Level::Error => "error: ",
        };
        eprint!("ferret: {stamp} {level}{text}{}", if text.ends_with('\n') { "" } else { "\n" });
    });
    let mut sensor = crate::sensor::Sensor::new(flags, reloader, options, rules_failed, log);
    if sensor_mode {
        let names: Vec<String> = inputs.iter().map(Input::name).collect();
        let watching = if args.no_watch || config.sensor.watch == Some(false) { "not watched" } else { "watched" };
        let every = match interval {
            0 => "no periodic statistics".to_string(),
            n => format!("statistics every {}", crate::engine::state::duration(n)),
        };
        sensor.log(
            crate::sensor::Level::Notice,
            &format!(
                "sensor running: reading {}; {} rules, rule folders {watching} (SIGUSR2 reloads); {every}",
                names.join(", "),
                engine.rules().rules().len()
            ),
        );
    }

    let threads = args.threads.map_or_else(default_threads, usize::from);
    let result = scan::scan_threads(
        &mut engine,
        inputs,
        &mut sinks,
        collector,
        &mut sensor,
        |_, bytes| progress.packet(bytes),
        threads,
    );
    progress.finish();
    let output_counters = crate::sensor::output_counters(&sinks);
    drop(sinks);
    // What the outputs said after the sensor's last look (a plain scan has no sensor log).
    let mut notices = Vec::new();
    for s in remote_sinks.iter_mut() {
        s.notices(&mut notices);
    }
    for n in &notices {
        eprintln!("ferret: warning: {n}");
    }
    let mut code = EXIT_OK;
    match &result {
        Ok(outcome) => {
            for p in &outcome.problems {
                eprintln!("ferret: {p}");
            }
            if outcome.any_unreadable() {
                code = EXIT_ERROR;
            } else if outcome.any_damaged() {
                code = EXIT_PARTIAL;
            }
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return EXIT_OK,
        Err(e) => {
            eprintln!("ferret: cannot write alerts: {e}");
            code = EXIT_ERROR;
        }
    }
    let tables = engine.table_stats();
    // After inputs that could not be read at all, a summary of zeros says nothing.
    let nothing_read = engine.stats().packets == 0 && code != EXIT_OK;
    if !args.no_summary && !nothing_read {
        let mut out = String::new();
        summary::write_summary(engine.stats(), engine.rules(), &tables, &mut out);
        if let Some(c) = crate::sensor::final_capture(&sensor) {
            summary::write_capture_counters(&c, &mut out);
        }
        summary::write_output_counters(&output_counters, &mut out);
        let counters = sensor.counters();
        if counters.reloads > 0 {
            out.push_str(&format!(
                "rule reloads: {} ({} refused a file)\n",
                counters.reloads, counters.reloads_with_refusals
            ));
        }
        let mut err = io::stderr().lock();
        if err.is_terminal() {
            let _ = writeln!(err);
        }
        let _ = err.write_all(out.as_bytes());
    }
    let outcome = extras.finish(&engine, sensor_mode.then(|| sensor.counters()), output_counters);
    for w in &outcome.warnings {
        eprintln!("ferret: {w}");
    }
    for e in &outcome.errors {
        eprintln!("ferret: {e}");
        code = EXIT_ERROR;
    }
    // The process ends next: freeing every state table's key one by one
    // (up to millions of small buffers) would only delay the exit.
    std::mem::forget(engine);
    code
}

fn run_report(args: ReportArgs) -> i32 {
    let result = report_files::report_command(&args.eve, &args.stats, args.output.as_deref(), args.format.as_deref());
    match result {
        Ok(notes) => {
            notes.iter().for_each(|n| eprintln!("ferret: {n}"));
            EXIT_OK
        }
        Err(ReportError::Usage(e)) => {
            eprintln!("ferret: {e}");
            EXIT_USAGE
        }
        Err(ReportError::Input(e)) => {
            eprintln!("ferret: {e}");
            EXIT_ERROR
        }
        Err(ReportError::Output(_, e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(ReportError::Output(path, e)) => {
            eprintln!("ferret: cannot write report {}: {e}", path.display());
            EXIT_ERROR
        }
    }
}

/// An engine for `rules` bounded by the state limits `tables` and the
/// config's reassembly limits (`defrag`, `dns_tcp`).
fn engine_for(rules: Arc<crate::engine::ruleset::RuleSet>, tables: TableLimits, config: &Config) -> Engine {
    let mut engine = Engine::with_limits(rules, tables);
    engine.set_defrag_limits(config.defrag);
    engine.set_dns_tcp_limits(config.dns_tcp);
    engine
}

/// The machine's cores, for `--threads` (1 if they cannot be told).
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("300s"), Ok(300_000_000_000));
        assert_eq!(parse_duration("5m"), Ok(300_000_000_000));
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
