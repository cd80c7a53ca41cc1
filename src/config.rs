//! The YAML configuration file (`ferret.yaml`): variables, networks with their
//! own variable values, rule paths, rules to disable, alerts to suppress,
//! outputs and state limits.
//!
//! Read with serde_yaml into structs that refuse unknown keys; every problem
//! becomes a [`Diagnostic`] on the config's text, shown with `file:line:col`,
//! the line and a caret like rule errors. Values are written in YAML but mean
//! what they mean in rules: a string such as `"10.0.0.0/8"`, `"10s"` or `TXT`
//! is read as a rule value, anything else as plain text.
//!
//! Where the config is found: `--config FILE`, else `$FERRET_CONFIG`, else
//! `ferret.yaml` in the current directory, else `/etc/ferret/ferret.yaml`;
//! without any, ferret runs on its built-in defaults.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::engine::compile::NetworkVars;
use crate::engine::header::Net;
use crate::engine::suppress::{addr_set, Disable, Suppress, Suppression, Track};
use crate::load::{LoadFailure, RuleSource};
use crate::rules::ast::{self, Value, ValueKind};
use crate::rules::diag::Diagnostic;
use crate::rules::parse::parse_value;
use crate::rules::span::Span;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    vars: IndexMap<String, serde_yaml::Value>,
    #[serde(default)]
    networks: IndexMap<String, NetworkFile>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    disable: Vec<u64>,
    #[serde(default)]
    suppress: Vec<SuppressFile>,
    #[serde(default)]
    outputs: Outputs,
    #[serde(default)]
    state: StateFile,
    #[serde(default)]
    sensor: Sensor,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    cidrs: Vec<String>,
    #[serde(default)]
    vars: IndexMap<String, serde_yaml::Value>,
}

/// The `outputs` section; paths are relative to the config file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    /// EVE JSON file (`-` for stdout).
    pub eve: Option<PathBuf>,
    /// Print alert lines on stdout (default true).
    pub alerts: Option<bool>,
    /// Statistics JSON file.
    pub stats: Option<PathBuf>,
    /// Print the summary on stderr (default true).
    pub summary: Option<bool>,
}

/// The `sensor` section: live capture and the long-running process.
/// Command-line flags win over it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sensor {
    /// Interface to capture from (as `-i`).
    pub interface: Option<String>,
    /// BPF capture filter (as `--bpf`).
    pub bpf: Option<String>,
    /// Bytes captured per packet (as `--snaplen`).
    pub snaplen: Option<i32>,
    /// Promiscuous mode (default true).
    pub promiscuous: Option<bool>,
    /// Kernel capture buffer in bytes (as `--buffer-size`).
    pub buffer_size: Option<i32>,
    /// User to run as once the capture is open (as `--user`).
    pub user: Option<String>,
    /// Group to run as once the capture is open (as `--group`).
    pub group: Option<String>,
    /// Statistics interval, e.g. `60s`; `0s` turns periodic statistics off.
    pub stats_interval: Option<String>,
    /// Watch the rule folders and reload on changes (default true).
    pub watch: Option<bool>,
}

/// One `suppress` entry, as Suricata's threshold.config writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressFile {
    id: u64,
    track: Option<TrackFile>,
    ip: Option<serde_yaml::Value>,
}

/// `track`, as Suricata spells it.
#[derive(Clone, Copy, Debug, Deserialize)]
enum TrackFile {
    #[serde(rename = "by_src")]
    Src,
    #[serde(rename = "by_dst")]
    Dst,
    #[serde(rename = "by_either")]
    Either,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    max_entries: Option<usize>,
    idle: Option<String>,
}

/// A loaded, checked configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Where it was read from.
    pub path: String,
    /// Its text (for diagnostics).
    pub text: String,
    /// `vars`, converted to rule values.
    pub vars: Vec<(String, Value)>,
    /// `networks`, in order.
    pub networks: Vec<NetworkVars>,
    /// `rules`, resolved against the config's directory (empty: not set).
    pub rules: Vec<RuleSource>,
    /// `disable`: rules to leave out, each with its place in the file.
    pub disable: Vec<Disable>,
    /// `suppress`: alerts to drop, each with its place in the file.
    pub suppress: Vec<Suppress>,
    /// `outputs`, paths resolved against the config's directory.
    pub outputs: Outputs,
    /// `state.max_entries`.
    pub state_max_entries: Option<usize>,
    /// `state.idle`, in nanoseconds.
    pub state_idle_nanos: Option<u64>,
    /// `sensor`, as written.
    pub sensor: Sensor,
    /// `sensor.stats_interval`, in nanoseconds (0: off).
    pub stats_interval_nanos: Option<u64>,
}

/// Finds the config to use: `explicit`, else `$FERRET_CONFIG`, else
/// `./ferret.yaml`, else `/etc/ferret/ferret.yaml`; `None` if there is none.
pub fn discover(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("FERRET_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    [PathBuf::from("ferret.yaml"), PathBuf::from("/etc/ferret/ferret.yaml")].into_iter().find(|p| p.is_file())
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, LoadFailure> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadFailure { problems: vec![format!("error: config {shown}: {e}\n")] })?;
    parse(&shown, &text, path.parent().unwrap_or(Path::new("")))
}

/// Parses config text; `dir` anchors relative paths.
pub fn parse(path: &str, text: &str, dir: &Path) -> Result<Config, LoadFailure> {
    let fail = |d: Diagnostic| LoadFailure { problems: vec![d.render(path, text).to_string()] };
    let file: ConfigFile = if text.trim().is_empty() {
        ConfigFile::default()
    } else {
        serde_yaml::from_str(text).map_err(|e| fail(yaml_diagnostic(&e, text)))?
    };
    let mut problems = Vec::new();
    let mut config = Config { path: path.to_string(), text: text.to_string(), ..Config::default() };
    // `file("...")` values name data files relative to the config's folder.
    let base = crate::load::DataBase::Dir(dir.to_path_buf());
    let expand = |name: &str, mut v: Value, problems: &mut Vec<Diagnostic>| {
        for d in crate::load::expand_value(&mut v, &base) {
            problems.push(Diagnostic::new(d.message, find(text, name, None), d.label));
        }
        v
    };
    for (name, value) in &file.vars {
        match convert(value, text, name) {
            Ok(v) => {
                let v = expand(name, v, &mut problems);
                config.vars.push((name.clone(), v));
            }
            Err(d) => problems.push(d),
        }
    }
    for (name, network) in &file.networks {
        let mut nets = Vec::new();
        for cidr in &network.cidrs {
            match parse_cidr(cidr) {
                Some(n) => nets.push(n),
                None => problems.push(Diagnostic::new(
                    format!("network '{name}': '{cidr}' is not an address or CIDR"),
                    find(text, cidr, Some(name)),
                    "expected e.g. 10.20.0.0/16",
                )),
            }
        }
        if network.cidrs.is_empty() {
            problems.push(Diagnostic::new(
                format!("network '{name}' has no cidrs"),
                find(text, name, Some("networks")),
                "add `cidrs: [...]`",
            ));
        }
        let mut vars = Vec::new();
        for (var, value) in &network.vars {
            match convert(value, text, var) {
                Ok(v) => {
                    let v = expand(var, v, &mut problems);
                    vars.push((var.clone(), v));
                }
                Err(d) => problems.push(d),
            }
        }
        config.networks.push(NetworkVars { name: name.clone(), nets, vars });
    }
    for entry in &file.rules {
        match expand_rules(entry, dir) {
            Ok(mut sources) => config.rules.append(&mut sources),
            Err(msg) => problems.push(Diagnostic::new(msg, find(text, entry, Some("rules")), "here")),
        }
    }
    config.disable = disables(&file.disable, path, text);
    config.suppress = suppressions(&file.suppress, path, text, &mut problems);
    config.outputs = Outputs {
        eve: file.outputs.eve.map(|p| anchor(&p, dir)),
        stats: file.outputs.stats.map(|p| anchor(&p, dir)),
        ..file.outputs
    };
    config.state_max_entries = file.state.max_entries;
    if let Some(idle) = &file.state.idle {
        match parse_value(idle).ok().and_then(|v| match v.kind {
            ValueKind::Number(n) if n >= 1.0 => Some(n as u64),
            _ => None,
        }) {
            Some(n) if idle.trim_end().ends_with(|c: char| c.is_ascii_alphabetic()) => {
                config.state_idle_nanos = Some(n)
            }
            _ => problems.push(Diagnostic::new(
                format!("state.idle: '{idle}' is not a duration"),
                find(text, idle, Some("idle")),
                "expected e.g. 300s or 5m",
            )),
        }
    }
    if let Some(interval) = &file.sensor.stats_interval {
        match parse_value(interval).ok().and_then(|v| match v.kind {
            ValueKind::Number(n) if n >= 0.0 && interval.trim_end().ends_with(|c: char| c.is_ascii_alphabetic()) => {
                Some(n as u64)
            }
            _ => None,
        }) {
            Some(n) => config.stats_interval_nanos = Some(n),
            None => problems.push(Diagnostic::new(
                format!("sensor.stats_interval: '{interval}' is not a duration"),
                find(text, interval, Some("stats_interval")),
                "expected e.g. 60s or 5m",
            )),
        }
    }
    config.sensor = file.sensor;
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(LoadFailure { problems: problems.iter().map(|d| d.render(path, text).to_string()).collect() })
    }
}

impl Config {
    /// Checks that every variable `vars` and the networks set is one the rules know
    /// (`defined`: names the rule files define or use, and the built-ins), so a
    /// misspelt name is an error rather than silently ignored.
    pub fn check_names(&self, defined: &[String]) -> Result<(), LoadFailure> {
        let known = |n: &str| defined.iter().any(|d| d == n) || self.vars.iter().any(|(v, _)| v == n);
        let mut problems = Vec::new();
        let vars_at = key_offset(&self.text, "vars");
        for (var, _) in self.vars.iter().filter(|(v, _)| !defined.contains(v)) {
            let span = self.text.get(vars_at..).map_or(Span::new(0, 0), |rest| {
                let at = find(rest, var, None);
                Span::new(at.start + vars_at, at.end + vars_at)
            });
            let d = Diagnostic::new(format!("undefined variable '{var}'"), span, "no rule file defines or uses it");
            let d = match crate::engine::field::closest(var, defined.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean '{s}'?")),
                None => d,
            };
            problems.push(d.render(&self.path, &self.text).to_string());
        }
        for network in &self.networks {
            for (var, _) in &network.vars {
                if known(var) {
                    continue;
                }
                let names = defined.iter().map(String::as_str).chain(self.vars.iter().map(|(v, _)| v.as_str()));
                let mut d = Diagnostic::new(
                    format!("network '{}' sets undefined variable '{var}'", network.name),
                    find(&self.text, var, Some(&network.name)),
                    "no rule file or `vars` defines it",
                );
                if let Some(s) = crate::engine::field::closest(var, names) {
                    d = d.with_help(format!("did you mean '{s}'?"));
                }
                problems.push(d.render(&self.path, &self.text).to_string());
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LoadFailure { problems })
        }
    }
}

/// The `disable` ids, each with where it is written (for the warning when no rule has it).
fn disables(ids: &[u64], path: &str, text: &str) -> Vec<Disable> {
    let mut cursor = key_offset(text, "disable");
    ids.iter()
        .map(|&sid| {
            let span = find_number(text, sid, &mut cursor, false);
            let at = Diagnostic::new("", span, "").location(path, text);
            Disable { sid, origin: format!("{at}: disable {sid}") }
        })
        .collect()
}

/// The `suppress` entries, checked: `track` and `ip` go together, addresses parse.
fn suppressions(entries: &[SuppressFile], path: &str, text: &str, problems: &mut Vec<Diagnostic>) -> Vec<Suppress> {
    let mut cursor = key_offset(text, "suppress");
    let mut out = Vec::new();
    for entry in entries {
        let sid = entry.id;
        let span = find_number(text, sid, &mut cursor, true);
        let origin = format!("{}: suppress {sid}", Diagnostic::new("", span, "").location(path, text));
        let suppression = match (entry.track, &entry.ip) {
            (None, None) => Suppression::All,
            (Some(track), Some(ip)) => {
                let track = match track {
                    TrackFile::Src => Track::BySrc,
                    TrackFile::Dst => Track::ByDst,
                    TrackFile::Either => Track::ByEither,
                };
                match suppress_addrs(sid, ip, text, cursor) {
                    Ok(entries) => Suppression::Addrs(track, addr_set(&entries)),
                    Err(d) => {
                        problems.push(d);
                        continue;
                    }
                }
            }
            _ => {
                problems.push(
                    Diagnostic::new(format!("suppress {sid}: `track` and `ip` go together"), span, "this entry")
                        .with_help(
                            "give both (track: by_src, ip: 10.0.5.20), or neither to suppress every alert of the rule",
                        ),
                );
                continue;
            }
        };
        out.push(Suppress { sid, suppression, origin });
    }
    out
}

/// The addresses of a `suppress` entry's `ip`: one address or CIDR, or a list;
/// `"!..."` (quoted: YAML reads a bare `!` as a tag) excludes.
fn suppress_addrs(sid: u64, ip: &serde_yaml::Value, text: &str, from: usize) -> Result<Vec<(bool, Net)>, Diagnostic> {
    let at = |needle: &str| {
        let rest = text.get(from..).unwrap_or("");
        match rest.find(needle) {
            Some(i) => Span::new(from + i, from + i + needle.len()),
            None => find(text, needle, Some("suppress")),
        }
    };
    let items: Vec<&serde_yaml::Value> = match ip {
        serde_yaml::Value::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        let serde_yaml::Value::String(s) = item else {
            let hint = if matches!(item, serde_yaml::Value::Tagged(_)) {
                r#"quote a negated address: "!10.0.0.0/8" (YAML reads a bare ! as a tag)"#
            } else {
                "expected an address, a CIDR or a list of them"
            };
            return Err(Diagnostic::new(format!("suppress {sid}: bad `ip`"), at("ip"), "here").with_help(hint));
        };
        let (negated, addr) = match s.trim().strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        match parse_cidr(addr) {
            Some(n) => out.push((negated, Net::new(n.addr, n.prefix))),
            None => {
                return Err(Diagnostic::new(
                    format!("suppress {sid}: '{s}' is not an address or CIDR"),
                    at(s),
                    "expected e.g. 10.0.5.20 or 10.0.0.0/8",
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(Diagnostic::new(format!("suppress {sid}: `ip` is an empty list"), at("ip"), "here"));
    }
    Ok(out)
}

/// Where the top-level key `key:` starts (0 if absent).
fn key_offset(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')) {
            return offset;
        }
        offset += line.len();
    }
    0
}

/// The span of the number `n` at or after `*cursor` (after `id:` if `keyed`),
/// moving the cursor past it; best effort, like [`find`].
fn find_number(text: &str, n: u64, cursor: &mut usize, keyed: bool) -> Span {
    let digits = n.to_string();
    let bytes = text.as_bytes();
    let mut from = *cursor;
    while let Some(i) = text.get(from..).and_then(|rest| rest.find(&digits)).map(|i| from + i) {
        let end = i + digits.len();
        let before = text.get(..i).unwrap_or("");
        let standalone = !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/')
            && !bytes.get(end).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/' || *c == b':');
        let after_key = !keyed || before.trim_end().strip_suffix(':').is_some_and(|b| b.trim_end().ends_with("id"));
        if standalone && after_key {
            *cursor = end;
            return Span::new(i, end);
        }
        from = end;
    }
    Span::new(0, 0)
}

fn anchor(p: &Path, dir: &Path) -> PathBuf {
    if p.is_absolute() || p.as_os_str() == "-" {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// `builtin` (the default rules), a file, a directory, or a glob.
fn expand_rules(entry: &str, dir: &Path) -> Result<Vec<RuleSource>, String> {
    if entry == "builtin" {
        return Ok(vec![RuleSource::Defaults]);
    }
    let anchored = anchor(Path::new(entry), dir);
    if !entry.contains(['*', '?', '[']) {
        if !anchored.exists() {
            return Err(format!("rules: {} does not exist", anchored.display()));
        }
        return Ok(vec![RuleSource::Path(anchored)]);
    }
    // Wildcards only in the file name: a pattern such as `/*/*/*.rules` would walk
    // the whole file system (found by fuzzing: a config that never finished loading).
    let wild_dir = Path::new(entry).parent().is_some_and(|d| d.to_string_lossy().contains(['*', '?', '[']));
    if wild_dir {
        return Err(format!(
            "rules: '{entry}' has wildcards in its folders; they are allowed in the file name only (rules.d/*.rules)"
        ));
    }
    let pattern = anchored.to_string_lossy().into_owned();
    let paths = glob::glob(&pattern).map_err(|e| format!("rules: bad glob '{entry}': {e}"))?;
    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("rules: '{entry}' matches no file"));
    }
    Ok(found.into_iter().map(RuleSource::Path).collect())
}

fn parse_cidr(s: &str) -> Option<ast::IpNet> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a.trim(), Some(p.trim().parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    let addr: std::net::IpAddr = addr.parse().ok()?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(full);
    (prefix <= full).then_some(ast::IpNet { addr, prefix })
}

/// A YAML value as a rule value.
fn convert(value: &serde_yaml::Value, text: &str, key: &str) -> Result<Value, Diagnostic> {
    let kind = match value {
        serde_yaml::Value::Bool(b) => ValueKind::Bool(*b),
        serde_yaml::Value::Number(n) => ValueKind::Number(n.as_f64().unwrap_or(0.0)),
        serde_yaml::Value::String(s) => match parse_value(s) {
            Ok(v) => v.kind,
            Err(_) => ValueKind::Str(s.clone()),
        },
        serde_yaml::Value::Sequence(items) => {
            ValueKind::List(items.iter().map(|i| convert(i, text, key)).collect::<Result<_, _>>()?)
        }
        serde_yaml::Value::Null | serde_yaml::Value::Mapping(_) | serde_yaml::Value::Tagged(_) => {
            return Err(Diagnostic::new(
                format!("variable '{key}' must be a number, string, boolean or list"),
                find(text, key, None),
                "this variable",
            ))
        }
    };
    Ok(Value { kind, span: Span::default() })
}

/// Best-effort span of `needle` in the config text, searched after `after` if given.
fn find(text: &str, needle: &str, after: Option<&str>) -> Span {
    let from = after.and_then(|a| text.find(a)).unwrap_or(0);
    match text.get(from..).and_then(|rest| rest.find(needle)) {
        Some(i) => Span::new(from + i, from + i + needle.len()),
        None => Span::new(0, 0),
    }
}

/// A serde_yaml error as a diagnostic at its location.
fn yaml_diagnostic(e: &serde_yaml::Error, text: &str) -> Diagnostic {
    let message = e.to_string();
    // serde_yaml appends " at line L column C"; the caret shows that already.
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    let start = e.location().map_or(0, |l| l.index().min(text.len()));
    let end = text
        .get(start..)
        .map_or(start, |rest| start + rest.find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(rest.len()).max(1));
    let help = if message.contains("unknown field") {
        Some("the sections are vars, networks, rules, disable, suppress, outputs and state; see ferret.example.yaml")
    } else {
        None
    };
    let d = Diagnostic::new(message, Span::new(start, end.min(text.len())), "here");
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, String> {
        parse("ferret.yaml", text, Path::new("/nonexistent")).map_err(|f| f.problems.concat())
    }

    #[test]
    fn reads_every_section() {
        let c = parse_text(
            "vars:\n  ICMP_ENTROPY: 6.5\n  LABS: [\"10.20.0.0/16\", \"10.30.0.0/16\"]\n  WINDOW: 10s\n  NAME: hello world\n\
             networks:\n  lab:\n    cidrs: [10.20.0.0/16, \"2001:db8::/32\"]\n    vars:\n      ICMP_ENTROPY: 7.999\n\
             rules: [builtin]\noutputs:\n  eve: alerts.json\n  alerts: false\nstate:\n  max_entries: 5000\n  idle: 2m\n",
        )
        .unwrap();
        assert_eq!(c.vars[0].1.kind, ValueKind::Number(6.5));
        assert!(matches!(&c.vars[1].1.kind, ValueKind::List(l) if l.len() == 2));
        assert_eq!(c.vars[2].1.kind, ValueKind::Number(10e9));
        assert_eq!(c.vars[3].1.kind, ValueKind::Str("hello world".into()));
        assert_eq!(c.networks[0].name, "lab");
        assert_eq!(c.networks[0].nets.len(), 2);
        assert_eq!(c.networks[0].vars[0].1.kind, ValueKind::Number(7.999));
        assert!(matches!(c.rules[..], [RuleSource::Defaults]));
        assert_eq!(c.outputs.eve, Some(PathBuf::from("/nonexistent/alerts.json")));
        assert_eq!(c.outputs.alerts, Some(false));
        assert_eq!(c.state_max_entries, Some(5000));
        assert_eq!(c.state_idle_nanos, Some(120_000_000_000));
    }

    #[test]
    fn unknown_keys_point_at_the_key() {
        let e = parse_text("vars: {}\nnetwroks:\n  lab: {}\n").unwrap_err();
        assert!(e.starts_with("error: unknown field `netwroks`, expected one of"), "{e}");
        assert!(e.contains("--> ferret.yaml:2:1"), "{e}");
        assert!(e.contains("2 | netwroks:\n  | ^^^^^^^^ here"), "{e}");
    }

    #[test]
    fn wrong_types_and_bad_cidrs_are_located() {
        let e = parse_text("state:\n  max_entries: lots\n").unwrap_err();
        assert!(e.contains("invalid type: string \"lots\", expected usize"), "{e}");
        assert!(e.contains("ferret.yaml:2:16"), "{e}");
        let e = parse_text("networks:\n  lab:\n    cidrs: [10.20.0.0/33]\n").unwrap_err();
        assert!(e.contains("network 'lab': '10.20.0.0/33' is not an address or CIDR"), "{e}");
        assert!(e.contains("ferret.yaml:3:13"), "{e}");
        let e = parse_text("state:\n  idle: soon\n").unwrap_err();
        assert!(e.contains("state.idle: 'soon' is not a duration"), "{e}");
    }

    #[test]
    fn disable_and_suppress_are_read_with_their_places() {
        let c = parse_text(
            "disable: [7100004, 7100011]\nsuppress:\n  - id: 7100001\n    track: by_src\n    ip: 10.0.5.20\n\
             \x20 - {id: 7100001, track: by_either, ip: [10.0.0.0/8, \"!10.9.0.0/16\"]}\n  - id: 7100101\n",
        )
        .unwrap();
        let ids: Vec<u64> = c.disable.iter().map(|d| d.sid).collect();
        assert_eq!(ids, [7100004, 7100011]);
        assert_eq!(c.disable[1].origin, "ferret.yaml:1:20: disable 7100011");
        let shown: Vec<String> =
            c.suppress.iter().map(|s| format!("{} {}: {}", s.origin, s.sid, s.suppression)).collect();
        assert_eq!(
            shown,
            [
                "ferret.yaml:3:9: suppress 7100001 7100001: by_src 10.0.5.20",
                "ferret.yaml:6:10: suppress 7100001 7100001: by_either [10.0.0.0/8, !10.9.0.0/16]",
                "ferret.yaml:7:9: suppress 7100101 7100101: every alert",
            ]
        );
    }

    #[test]
    fn bad_suppress_entries_are_located() {
        let e = parse_text("suppress:\n  - id: 7\n    track: by_src\n    ip: 10.0.0.300\n").unwrap_err();
        assert!(e.starts_with("error: suppress 7: '10.0.0.300' is not an address or CIDR\n"), "{e}");
        assert!(e.contains("--> ferret.yaml:4:9"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    track: by_src\n").unwrap_err();
        assert!(e.starts_with("error: suppress 7: `track` and `ip` go together\n"), "{e}");
        assert!(e.contains("--> ferret.yaml:2:9"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    track: by_source\n    ip: 10.0.0.1\n").unwrap_err();
        assert!(e.contains("unknown variant `by_source`, expected one of `by_src`, `by_dst`, `by_either`"), "{e}");
        assert!(e.contains("ferret.yaml:3:12"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    track: by_src\n    ip: !10.0.0.0/8\n").unwrap_err();
        assert!(e.contains("quote a negated address"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    trak: by_src\n").unwrap_err();
        assert!(e.contains("unknown field `trak`, expected one of `id`, `track`, `ip`"), "{e}");
        assert!(e.contains("ferret.yaml:3:5"), "{e}");
        let e = parse_text("disable: [7100001, seven]\n").unwrap_err();
        assert!(e.contains("ferret.yaml:1:20"), "{e}");
    }

    #[test]
    fn undefined_network_variables_are_errors() {
        let c = parse_text("networks:\n  lab:\n    cidrs: [10.0.0.0/8]\n    vars:\n      ICMP_ENTROPYY: 7\n").unwrap();
        let e = c.check_names(&["ICMP_ENTROPY".to_string()]).unwrap_err().problems.concat();
        assert!(e.contains("network 'lab' sets undefined variable 'ICMP_ENTROPYY'"), "{e}");
        assert!(e.contains("ferret.yaml:5:7"), "{e}");
        assert!(e.contains("did you mean 'ICMP_ENTROPY'?"), "{e}");
    }
}
