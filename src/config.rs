//! The YAML configuration file (`ferret.yaml`): variables, networks with their
//! own variable values, rule paths, rules to disable, alerts to suppress,
//! outputs, state limits, reassembly limits (IP fragments, DNS over TCP) and
//! the sensor's live-capture settings.
//!
//! Read with serde-saphyr (pure Rust) into a tree of located nodes, then
//! checked section by section, refusing unknown keys; every problem, not only
//! the first, becomes a [`Diagnostic`] on the config's text, shown with
//! `file:line:col`, the line and a caret like rule errors. A variable's value
//! keeps the span of the config line that set it, so the compiler blames a
//! bad value there, not on the rules that use it. Values are written in YAML but mean
//! what they mean in rules: a string such as `"10.0.0.0/8"`, `"10s"` or `TXT`
//! is read as a rule value, anything else as plain text.
//!
//! Where the config is found: `--config FILE`, else `$FERRET_CONFIG`, else
//! `ferret.yaml` in the current directory, else `/etc/ferret/ferret.yaml`;
//! without any, ferret runs on its built-in defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::compile::{NetworkVars, VarLayers};
use crate::engine::defrag::DefragLimits;
use crate::engine::dns_tcp::DnsTcpLimits;
use crate::engine::header::Net;
use crate::engine::suppress::{addr_set, Disable, Suppress, Suppression, Track};
use crate::load::{LoadFailure, RuleSource};
use crate::output::remote::{RemoteSpec, DEFAULT_BUFFER};
use crate::output::resp::Mode;
use crate::output::target::{self, SyslogDest, SyslogFormat, Target, Types};
use crate::rules::ast::{self, Value, ValueKind};
use crate::rules::diag::Diagnostic;
use crate::rules::parse::parse_value;
use crate::rules::span::{Span, CONFIG_OFFSET};

/// The `outputs` section; paths are relative to the config file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outputs {
    /// EVE JSON file (`-` for stdout).
    pub eve: Option<PathBuf>,
    /// The event types the EVE file takes (`eve: {path, types}`; default all).
    pub eve_types: Option<Types>,
    /// Redis, Unix socket and syslog outputs, in the order written.
    pub remote: Vec<RemoteSpec>,
    /// Append to the EVE file (default true, as Suricata); false truncates it at start.
    pub eve_append: Option<bool>,
    /// The sensor's name, written as EVE `host`.
    pub host: Option<String>,
    /// Print alert lines on stdout (default true).
    pub alerts: Option<bool>,
    /// Statistics JSON file.
    pub stats: Option<PathBuf>,
    /// Print the summary on stderr (default true).
    pub summary: Option<bool>,
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
    /// Where each of `vars`' names is written (for "undefined variable").
    pub var_keys: Vec<(String, Span)>,
    /// `networks`, in order.
    pub networks: Vec<NetworkVars>,
    /// `rules`, resolved against the config's directory (empty: not set).
    pub rules: Vec<RuleSource>,
    /// `outputs`, paths resolved against the config's directory.
    pub outputs: Outputs,
    /// `state.max_entries`.
    pub state_max_entries: Option<usize>,
    /// `state.idle`, in nanoseconds.
    pub state_idle_nanos: Option<u64>,
    /// `state.memcap`, in bytes.
    pub state_memcap_bytes: Option<usize>,
    /// `defrag`: the bounds of IP reassembly, defaults where not written.
    pub defrag: DefragLimits,
    /// `dns_tcp`: the bounds of DNS-over-TCP reassembly, defaults where not written.
    pub dns_tcp: DnsTcpLimits,
    /// `disable`: rules to leave out, each with its place in the file.
    pub disable: Vec<Disable>,
    /// `suppress`: alerts to drop, each with its place in the file.
    pub suppress: Vec<Suppress>,
    /// `sensor`, as written.
    pub sensor: Sensor,
    /// `sensor.stats_interval`, in nanoseconds (0: off).
    pub stats_interval_nanos: Option<u64>,
}

/// The `sensor` section: live capture and the long-running process.
/// Command-line flags win over it.
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// Watch the rule folders and reload on changes (default true).
    pub watch: Option<bool>,
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

/// Parses config text; `dir` anchors relative paths. Every problem is
/// reported, not only the first: the YAML is read into a tree of located
/// nodes, then each section is checked on its own.
pub fn parse(path: &str, text: &str, dir: &Path) -> Result<Config, LoadFailure> {
    let mut cx = Cx {
        path,
        text,
        dir,
        problems: Vec::new(),
        config: Config { path: path.to_string(), text: text.to_string(), ..Config::default() },
    };
    if !text.trim().is_empty() {
        match serde_saphyr::from_str::<Located>(text) {
            Ok(Located(root)) => cx.root(root),
            Err(e) => cx.problems.push(yaml_diagnostic(&e, text)),
        }
    }
    cx.problems.sort_by_key(|d| d.span.start);
    if cx.problems.is_empty() {
        Ok(cx.config)
    } else {
        Err(LoadFailure { problems: cx.problems.iter().map(|d| d.render(path, text).to_string()).collect() })
    }
}

/// The config's sections.
const SECTIONS: &[&str] =
    &["vars", "networks", "rules", "disable", "suppress", "outputs", "state", "defrag", "dns_tcp", "sensor"];

/// Checks the sections of a config as it reads them, collecting problems.
struct Cx<'t> {
    path: &'t str,
    text: &'t str,
    dir: &'t Path,
    problems: Vec<Diagnostic>,
    config: Config,
}

impl Cx<'_> {
    fn root(&mut self, root: Node) {
        let help = "the sections are vars, networks, rules, disable, suppress, outputs, state, defrag, dns_tcp \
                    and sensor; see ferret.example.yaml";
        for (key, value) in self.fields(root, "", SECTIONS, Some(help)) {
            match key.as_str() {
                "vars" => {
                    if let NodeKind::Map(entries) = &value.kind {
                        self.config.var_keys = entries
                            .iter()
                            .filter_map(|(k, _)| match &k.kind {
                                NodeKind::Str(name) => Some((name.clone(), k.span)),
                                _ => None,
                            })
                            .collect();
                    }
                    self.config.vars = self.vars(value, "vars")
                }
                "networks" => self.networks(value),
                "rules" => self.rules(value),
                "disable" => self.disable(value),
                "suppress" => self.suppress(value),
                "outputs" => self.outputs(value),
                "sensor" => self.sensor(value),
                "defrag" => self.defrag(value),
                "dns_tcp" => self.dns_tcp(value),
                _ => self.state(value),
            }
        }
    }

    /// The entries of a mapping whose keys are names the user picks (variables, networks).
    fn entries(&mut self, node: Node, what: &str) -> Vec<(String, Span, Node)> {
        let entries = match node.kind {
            NodeKind::Null => return Vec::new(),
            NodeKind::Map(entries) => entries,
            other => {
                self.expected(what, "a mapping of names to values", &other, node.span);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            match key.kind {
                NodeKind::Str(name) => out.push((name, key.span, value)),
                other => self.expected(&prefixed(what, "a key"), "a name", &other, key.span),
            }
        }
        out
    }

    /// The entries of a mapping with fixed keys; unknown keys are problems.
    fn fields(&mut self, node: Node, what: &str, known: &[&str], help: Option<&str>) -> Vec<(String, Node)> {
        let mut out = Vec::new();
        for (key, span, value) in self.entries(node, what) {
            if known.contains(&key.as_str()) {
                out.push((key, value));
                continue;
            }
            let list = match known {
                [a, b] => format!("`{a}` or `{b}`"),
                _ => format!("one of {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")),
            };
            let message = prefixed(what, &format!("unknown field `{key}`, expected {list}"));
            let mut d = Diagnostic::new(message, span, "here");
            if let Some(h) = help {
                d = d.with_help(h);
            }
            self.problems.push(d);
        }
        out
    }

    fn expected(&mut self, what: &str, expected: &str, found: &NodeKind, span: Span) {
        let span = widen(self.text, span);
        self.problems.push(Diagnostic::new(
            prefixed(what, &format!("expected {expected}, found {}", found.describe())),
            span,
            format!("expected {expected}"),
        ));
    }

    fn string(&mut self, node: Node, what: &str) -> Option<(String, Span)> {
        match node.kind {
            NodeKind::Str(s) => Some((s, node.span)),
            other => {
                self.expected(what, "a string", &other, node.span);
                None
            }
        }
    }

    fn strings(&mut self, node: Node, what: &str) -> Vec<(String, Span)> {
        match node.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Seq(items) => items.into_iter().filter_map(|i| self.string(i, what)).collect(),
            other => {
                self.expected(what, "a list of strings", &other, node.span);
                Vec::new()
            }
        }
    }

    fn boolean(&mut self, node: Node, what: &str) -> Option<bool> {
        match node.kind {
            NodeKind::Bool(b) => Some(b),
            other => {
                self.expected(what, "true or false", &other, node.span);
                None
            }
        }
    }

    /// Variables as rule values, each spanned on the config line that set it
    /// (shifted by [`CONFIG_OFFSET`], so the compiler's errors about it point here).
    fn vars(&mut self, node: Node, what: &str) -> Vec<(String, Value)> {
        let mut vars = Vec::new();
        for (name, _, value) in self.entries(node, what) {
            let Some(mut v) = self.convert(value, &name) else { continue };
            // `file("...")` values name data files relative to the config's folder.
            let base = crate::load::DataBase::Dir(self.dir.to_path_buf());
            for d in crate::load::expand_value(&mut v, &base) {
                let span = d.span.in_config().unwrap_or(d.span);
                self.problems.push(Diagnostic { span, ..d });
            }
            vars.push((name, v));
        }
        vars
    }

    /// A YAML value as a rule value.
    fn convert(&mut self, node: Node, name: &str) -> Option<Value> {
        let span =
            Span::new(node.span.start.saturating_add(CONFIG_OFFSET), node.span.end.saturating_add(CONFIG_OFFSET));
        let kind = match node.kind {
            NodeKind::Bool(b) => ValueKind::Bool(b),
            NodeKind::Int(n) => ValueKind::Number(n as f64),
            NodeKind::Float(n) => ValueKind::Number(n),
            NodeKind::Str(s) => match parse_value(&s) {
                Ok(mut v) => {
                    // Its inner spans are offsets into `s`: put them on the config line.
                    respan(&mut v, span);
                    v.kind
                }
                Err(_) => ValueKind::Str(s),
            },
            NodeKind::Seq(items) => {
                let mut list = Vec::new();
                for item in items {
                    list.push(self.convert(item, name)?);
                }
                ValueKind::List(list)
            }
            other @ (NodeKind::Null | NodeKind::Map(_)) => {
                let found = other.describe();
                self.problems.push(Diagnostic::new(
                    format!("variable '{name}' must be a number, string, boolean or list, not {found}"),
                    widen(self.text, node.span),
                    "this value",
                ));
                return None;
            }
        };
        Some(Value { kind, span })
    }

    fn networks(&mut self, node: Node) {
        for (name, name_span, value) in self.entries(node, "networks") {
            let mut nets = Vec::new();
            let mut vars = Vec::new();
            let mut has_cidrs = false;
            for (key, value) in self.fields(value, &format!("networks.{name}"), &["cidrs", "vars"], None) {
                if key == "vars" {
                    vars = self.vars(value, &format!("networks.{name}.vars"));
                    continue;
                }
                for (cidr, span) in self.strings(value, &format!("networks.{name}.cidrs")) {
                    has_cidrs = true;
                    match parse_cidr(&cidr) {
                        Some(n) => nets.push(n),
                        None => self.problems.push(Diagnostic::new(
                            format!("network '{name}': '{cidr}' is not an address or CIDR"),
                            widen(self.text, span),
                            "expected e.g. 10.20.0.0/16",
                        )),
                    }
                }
            }
            if !has_cidrs {
                self.problems.push(Diagnostic::new(
                    format!("network '{name}' has no cidrs"),
                    name_span,
                    "add `cidrs: [...]`",
                ));
            }
            self.config.networks.push(NetworkVars { name, nets, vars });
        }
    }

    fn rules(&mut self, node: Node) {
        for (entry, span) in self.strings(node, "rules") {
            match expand_rules(&entry, self.dir) {
                Ok(mut sources) => self.config.rules.append(&mut sources),
                Err(msg) => self.problems.push(Diagnostic::new(msg, widen(self.text, span), "here")),
            }
        }
    }

    fn outputs(&mut self, node: Node) {
        let known = ["eve", "eve_append", "host", "alerts", "stats", "summary", "redis", "unix_socket", "syslog"];
        for (key, value) in self.fields(node, "outputs", &known, None) {
            let what = format!("outputs.{key}");
            match key.as_str() {
                "eve" => self.eve(value),
                "stats" => {
                    self.config.outputs.stats = self.string(value, &what).map(|(p, _)| anchor(Path::new(&p), self.dir))
                }
                "eve_append" => self.config.outputs.eve_append = self.boolean(value, &what),
                "host" => self.config.outputs.host = self.string(value, &what).map(|(h, _)| h),
                "alerts" => self.config.outputs.alerts = self.boolean(value, &what),
                "redis" | "unix_socket" | "syslog" => {
                    let items = match value.kind {
                        NodeKind::Null => Vec::new(),
                        NodeKind::Map(_) => vec![value],
                        NodeKind::Seq(items) => items,
                        other => {
                            self.expected(&what, "a mapping or a list of mappings", &other, value.span);
                            Vec::new()
                        }
                    };
                    for item in items {
                        if let Some(spec) = self.remote(&key, item) {
                            self.config.outputs.remote.push(spec);
                        }
                    }
                }
                _ => self.config.outputs.summary = self.boolean(value, &what),
            }
        }
    }

    /// `eve: PATH` or `eve: {path: PATH, types: [...]}`.
    fn eve(&mut self, node: Node) {
        if let NodeKind::Str(p) = &node.kind {
            self.config.outputs.eve = Some(anchor(Path::new(p), self.dir));
            return;
        }
        if !matches!(node.kind, NodeKind::Map(_)) {
            self.expected("outputs.eve", "a path or a mapping with `path` and `types`", &node.kind, node.span);
            return;
        }
        let span = node.span;
        let mut path = None;
        for (key, value) in self.fields(node, "outputs.eve", &["path", "types"], None) {
            match key.as_str() {
                "path" => path = self.string(value, "outputs.eve.path").map(|(p, _)| anchor(Path::new(&p), self.dir)),
                _ => self.config.outputs.eve_types = self.types(value, "outputs.eve.types"),
            }
        }
        if path.is_none() {
            self.missing("outputs.eve", "path", span);
        }
        self.config.outputs.eve = path;
    }

    fn missing(&mut self, what: &str, key: &str, span: Span) {
        self.problems.push(Diagnostic::new(
            format!("{what}: `{key}` is missing"),
            widen(self.text, span),
            "in this output",
        ));
    }

    /// `types: [alert, stats, engine]`, each located when unknown.
    fn types(&mut self, node: Node, what: &str) -> Option<Types> {
        let mut types = Types::NONE;
        let mut ok = true;
        for (name, span) in self.strings(node, what) {
            if !types.add(&name) {
                ok = false;
                self.unknown_value(what, &name, Types::NAMES, span);
            }
        }
        ok.then_some(types)
    }

    fn unknown_value(&mut self, what: &str, value: &str, names: &str, span: Span) {
        self.problems.push(Diagnostic::new(
            format!("{what}: unknown value `{value}`, expected one of {names}"),
            widen(self.text, span),
            "here",
        ));
    }

    /// One Redis (`server`, `port`, `mode`, `key`), Unix socket (`path`,
    /// `type`) or syslog (`address`, `format`, `facility`) output, each with
    /// `types` and `buffer`.
    fn remote(&mut self, kind: &str, node: Node) -> Option<RemoteSpec> {
        let what = format!("outputs.{kind}");
        let span = node.span;
        let own: &[&str] = match kind {
            "redis" => &["server", "port", "mode", "key"],
            "unix_socket" => &["path", "type"],
            _ => &["address", "format", "facility"],
        };
        let known: Vec<&str> = own.iter().copied().chain(["types", "buffer"]).collect();
        let (mut types, mut buffer, mut ok) = (Types::default(), DEFAULT_BUFFER, true);
        let (mut server, mut port, mut mode, mut key) =
            ("127.0.0.1".to_string(), target::REDIS_PORT, Mode::Lpush, None);
        let (mut path, mut stream) = (None, false);
        let (mut address, mut format, mut facility) = (None, None, target::facility("local5").unwrap_or(21));
        for (k, value) in self.fields(node, &what, &known, None) {
            let w = format!("{what}.{k}");
            match k.as_str() {
                "types" => match self.types(value, &w) {
                    Some(t) => types = t,
                    None => ok = false,
                },
                "buffer" | "port" => {
                    let max = if k == "port" { i128::from(u16::MAX) } else { 10_000_000 };
                    match value.kind {
                        NodeKind::Int(n) if n > 0 && n <= max => {
                            if k == "port" {
                                port = n as u16;
                            } else {
                                buffer = n as usize;
                            }
                        }
                        other => {
                            ok = false;
                            self.expected(&w, &format!("a whole number from 1 to {max}"), &other, value.span);
                        }
                    }
                }
                "server" => match self.string(value, &w) {
                    Some((s, _)) => server = s,
                    None => ok = false,
                },
                "key" => key = self.string(value, &w).map(|(s, _)| s),
                "path" => path = self.string(value, &w).map(|(p, _)| anchor(Path::new(&p), self.dir)),
                "address" => address = self.string(value, &w).map(|(a, _)| a),
                "mode" | "type" | "format" | "facility" => {
                    let Some((v, vspan)) = self.string(value, &w) else {
                        ok = false;
                        continue;
                    };
                    let known = match k.as_str() {
                        "mode" => Mode::parse(&v).map(|m| mode = m).ok_or(Mode::NAMES),
                        "type" => match v.as_str() {
                            "dgram" | "unix_dgram" | "stream" | "unix_stream" => {
                                stream = v.ends_with("stream");
                                Ok(())
                            }
                            _ => Err("`dgram`, `stream`"),
                        },
                        "format" => SyslogFormat::parse(&v).map(|f| format = Some(f)).ok_or("`rfc5424`, `rfc3164`"),
                        _ => target::facility(&v)
                            .map(|f| facility = f)
                            .ok_or("`kern`, `user`, `mail`, `daemon`, `auth`, `syslog`, ..., `local0` to `local7`"),
                    };
                    if let Err(names) = known {
                        ok = false;
                        self.unknown_value(&w, &v, names, vspan);
                    }
                }
                _ => {}
            }
        }
        let target = match kind {
            "redis" => Target::Redis { server, port, key: key.unwrap_or_else(|| target::REDIS_KEY.into()), mode },
            "unix_socket" => {
                let Some(path) = path else {
                    self.missing(&what, "path", span);
                    return None;
                };
                if stream {
                    Target::UnixStream(path)
                } else {
                    Target::UnixDgram(path)
                }
            }
            _ => {
                let address = address.unwrap_or_else(|| "/dev/log".into());
                let dest = if address.starts_with('/') {
                    SyslogDest::Unix(PathBuf::from(address))
                } else if address.contains(':') && !address.ends_with(']') {
                    SyslogDest::Udp(address)
                } else {
                    SyslogDest::Udp(format!("{address}:514"))
                };
                // A local daemon reads BSD messages; a network collector gets RFC 5424.
                let default =
                    if matches!(dest, SyslogDest::Unix(_)) { SyslogFormat::Rfc3164 } else { SyslogFormat::Rfc5424 };
                Target::Syslog { dest, format: format.unwrap_or(default), facility }
            }
        };
        ok.then_some(RemoteSpec { target, types, buffer })
    }

    /// Where `span` is, as `file:line:col`.
    fn place(&self, span: Span) -> String {
        Diagnostic::new("", span, "").location(self.path, self.text).to_string()
    }

    /// A whole number that is a rule id.
    fn id(&mut self, node: Node, what: &str) -> Option<(u64, Span)> {
        match node.kind {
            NodeKind::Int(n) if n >= 0 => Some((n as u64, node.span)),
            other => {
                self.expected(what, "a rule id", &other, node.span);
                None
            }
        }
    }

    /// `disable: [ids]`, each remembering where it is written.
    fn disable(&mut self, node: Node) {
        let items = match node.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Seq(items) => items,
            NodeKind::Int(_) => vec![node],
            other => {
                self.expected("disable", "a list of rule ids", &other, node.span);
                return;
            }
        };
        for item in items {
            if let Some((sid, span)) = self.id(item, "disable") {
                let origin = format!("{}: disable {sid}", self.place(span));
                self.config.disable.push(Disable { sid, origin });
            }
        }
    }

    /// `suppress:` entries as Suricata's threshold.config writes them:
    /// `{id, track: by_src|by_dst|by_either, ip: address | CIDR | list}`;
    /// without `track` and `ip`, every alert of the rule.
    fn suppress(&mut self, node: Node) {
        let items = match node.kind {
            NodeKind::Null => Vec::new(),
            NodeKind::Seq(items) => items,
            other => {
                self.expected("suppress", "a list of entries", &other, node.span);
                return;
            }
        };
        for item in items {
            let entry_span = item.span;
            let (mut sid, mut track, mut ip) = (None, None, None);
            for (key, value) in self.fields(item, "suppress", &["id", "track", "ip"], None) {
                match key.as_str() {
                    "id" => sid = self.id(value, "suppress.id"),
                    "track" => {
                        let Some((t, span)) = self.string(value, "suppress.track") else { continue };
                        track = match t.as_str() {
                            "by_src" => Some(Track::BySrc),
                            "by_dst" => Some(Track::ByDst),
                            "by_either" => Some(Track::ByEither),
                            _ => {
                                self.problems.push(Diagnostic::new(
                                    format!("suppress.track: unknown value `{t}`, expected one of `by_src`, `by_dst`, `by_either`"),
                                    widen(self.text, span),
                                    "here",
                                ));
                                continue;
                            }
                        };
                    }
                    _ => ip = Some(value),
                }
            }
            let Some((sid, span)) = sid else {
                self.problems.push(Diagnostic::new(
                    "suppress: an entry without `id`",
                    widen(self.text, entry_span),
                    "this entry",
                ));
                continue;
            };
            let origin = format!("{}: suppress {sid}", self.place(span));
            let suppression = match (track, ip) {
                (None, None) => Suppression::All,
                (Some(track), Some(ip)) => match self.suppress_addrs(sid, ip) {
                    Some(entries) => Suppression::Addrs(track, addr_set(&entries)),
                    None => continue,
                },
                _ => {
                    self.problems.push(
                        Diagnostic::new(format!("suppress {sid}: `track` and `ip` go together"), span, "this entry")
                            .with_help(
                            "give both (track: by_src, ip: 10.0.5.20), or neither to suppress every alert of the rule",
                        ),
                    );
                    continue;
                }
            };
            self.config.suppress.push(Suppress { sid, suppression, origin });
        }
    }

    /// The addresses of a `suppress` entry's `ip`: one address or CIDR, or a
    /// list; `"!..."` (quoted: YAML reads a bare `!` as a tag) excludes.
    fn suppress_addrs(&mut self, sid: u64, ip: Node) -> Option<Vec<(bool, Net)>> {
        let ip_span = ip.span;
        let items = match ip.kind {
            NodeKind::Seq(items) => items,
            _ => vec![ip],
        };
        let mut out = Vec::new();
        for item in items {
            let NodeKind::Str(s) = &item.kind else {
                self.problems.push(
                    Diagnostic::new(format!("suppress {sid}: bad `ip`"), widen(self.text, item.span), "here").with_help(
                        r#"expected an address, a CIDR or a list of them; quote a negated address: "!10.0.0.0/8" (YAML reads a bare ! as a tag)"#,
                    ),
                );
                return None;
            };
            let (negated, addr) = match s.trim().strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, s.as_str()),
            };
            match parse_cidr(addr) {
                Some(n) => out.push((negated, Net::new(n.addr, n.prefix))),
                None => {
                    self.problems.push(Diagnostic::new(
                        format!("suppress {sid}: '{s}' is not an address or CIDR"),
                        widen(self.text, item.span),
                        "expected e.g. 10.0.5.20 or 10.0.0.0/8",
                    ));
                    return None;
                }
            }
        }
        if out.is_empty() {
            self.problems.push(Diagnostic::new(
                format!("suppress {sid}: `ip` is an empty list"),
                widen(self.text, ip_span),
                "here",
            ));
            return None;
        }
        Some(out)
    }

    fn sensor(&mut self, node: Node) {
        let known =
            ["interface", "bpf", "snaplen", "promiscuous", "buffer_size", "user", "group", "stats_interval", "watch"];
        for (key, value) in self.fields(node, "sensor", &known, None) {
            let what = format!("sensor.{key}");
            let number = |cx: &mut Self, value: Node| match value.kind {
                NodeKind::Int(n) if n > 0 && n <= i128::from(i32::MAX) => Some(n as i32),
                other => {
                    cx.expected(&what, "a positive whole number", &other, value.span);
                    None
                }
            };
            match key.as_str() {
                "interface" => self.config.sensor.interface = self.string(value, &what).map(|(s, _)| s),
                "bpf" => self.config.sensor.bpf = self.string(value, &what).map(|(s, _)| s),
                "user" => self.config.sensor.user = self.string(value, &what).map(|(s, _)| s),
                "group" => self.config.sensor.group = self.string(value, &what).map(|(s, _)| s),
                "snaplen" => self.config.sensor.snaplen = number(self, value),
                "buffer_size" => self.config.sensor.buffer_size = number(self, value),
                "promiscuous" => self.config.sensor.promiscuous = self.boolean(value, &what),
                "watch" => self.config.sensor.watch = self.boolean(value, &what),
                _ => {
                    let Some((interval, span)) = self.string(value, &what) else { continue };
                    match parse_value(&interval).ok().and_then(|v| match v.kind {
                        ValueKind::Number(n)
                            if n >= 0.0 && interval.trim_end().ends_with(|c: char| c.is_ascii_alphabetic()) =>
                        {
                            Some(n as u64)
                        }
                        _ => None,
                    }) {
                        Some(n) => self.config.stats_interval_nanos = Some(n),
                        None => self.problems.push(Diagnostic::new(
                            format!("sensor.stats_interval: '{interval}' is not a duration"),
                            widen(self.text, span),
                            "expected e.g. 60s or 5m",
                        )),
                    }
                }
            }
        }
    }

    fn state(&mut self, node: Node) {
        for (key, value) in self.fields(node, "state", &["max_entries", "idle", "memcap"], None) {
            let what = format!("state.{key}");
            match key.as_str() {
                "memcap" => {
                    if let Some(b) = self.size(value, &what, "64MiB") {
                        self.config.state_memcap_bytes = Some(b);
                    }
                }
                // 0 is taken as 1 (a table that keeps one key).
                "max_entries" => match value.kind {
                    NodeKind::Int(n) if n >= 0 => self.config.state_max_entries = usize::try_from(n).ok(),
                    other => self.expected(&what, "a whole number", &other, value.span),
                },
                _ => {
                    if let Some(n) = self.duration(value, &what, "300s or 5m") {
                        self.config.state_idle_nanos = Some(n);
                    }
                }
            }
        }
    }

    /// `defrag`: the bounds of IP reassembly (Suricata's `defrag` trackers,
    /// memcap, max-frags and timeout). A key not written keeps its default.
    fn defrag(&mut self, node: Node) {
        let known = ["max_datagrams", "memcap", "max_fragments", "timeout"];
        let mut limits = self.config.defrag;
        for (key, value) in self.fields(node, "defrag", &known, None) {
            let what = format!("defrag.{key}");
            match key.as_str() {
                "max_datagrams" => set(&mut limits.max_datagrams, self.count(value, &what)),
                "max_fragments" => set(&mut limits.max_fragments, self.count(value, &what)),
                "memcap" => set(&mut limits.max_bytes, self.size(value, &what, "32MiB")),
                _ => set(&mut limits.timeout_nanos, self.timeout(value, &what)),
            }
        }
        self.config.defrag = limits;
    }

    /// `dns_tcp`: the bounds of DNS-over-TCP reassembly. A key not written
    /// keeps its default.
    fn dns_tcp(&mut self, node: Node) {
        let known = ["max_streams", "max_message", "memcap", "timeout", "max_held_segments", "max_held_bytes"];
        let mut limits = self.config.dns_tcp;
        for (key, value) in self.fields(node, "dns_tcp", &known, None) {
            let what = format!("dns_tcp.{key}");
            match key.as_str() {
                "max_streams" => set(&mut limits.max_streams, self.count(value, &what)),
                "max_message" => set(&mut limits.max_message, self.message_len(value, &what)),
                "memcap" => set(&mut limits.max_bytes, self.size(value, &what, "32MiB")),
                "max_held_segments" => set(&mut limits.max_held_segments, self.count(value, &what)),
                "max_held_bytes" => set(&mut limits.max_held_bytes, self.size(value, &what, "64KiB")),
                _ => set(&mut limits.timeout_nanos, self.timeout(value, &what)),
            }
        }
        self.config.dns_tcp = limits;
    }

    /// A whole number above zero.
    fn count(&mut self, node: Node, what: &str) -> Option<usize> {
        match node.kind {
            NodeKind::Int(0) => {
                self.zero(what, node.span, "a whole number such as 1000");
                None
            }
            NodeKind::Int(n) if n > 0 && usize::try_from(n).is_ok() => usize::try_from(n).ok(),
            other => {
                self.expected(what, "a positive whole number", &other, node.span);
                None
            }
        }
    }

    /// A size in bytes above zero: a whole number or a string such as `64MiB`.
    fn size(&mut self, node: Node, what: &str, example: &str) -> Option<usize> {
        let bytes = match &node.kind {
            NodeKind::Int(0) => {
                self.zero(what, node.span, &format!("a size such as {example}"));
                return None;
            }
            NodeKind::Int(n) => usize::try_from(*n).ok(),
            NodeKind::Str(s) => parse_size(s),
            _ => None,
        };
        if bytes.is_none() {
            self.problems.push(Diagnostic::new(
                format!("{what}: {} is not a size in bytes", node.kind.describe()),
                widen(self.text, node.span),
                format!("expected e.g. {example}"),
            ));
        }
        bytes
    }

    /// `dns_tcp.max_message`: a length a DNS-over-TCP prefix can give (1 to 65,535 bytes).
    fn message_len(&mut self, node: Node, what: &str) -> Option<usize> {
        let span = node.span;
        let len = self.size(node, what, "16KiB")?;
        if len > usize::from(u16::MAX) {
            self.problems.push(
                Diagnostic::new(format!("{what}: {len} bytes is beyond 65535"), widen(self.text, span), "too long")
                    .with_help("a DNS message over TCP is at most 65535 bytes (its length prefix is 16 bits)"),
            );
            return None;
        }
        Some(len)
    }

    /// A duration above zero in nanoseconds: a string such as `300s` or `5m`.
    fn duration(&mut self, node: Node, what: &str, example: &str) -> Option<u64> {
        let (text, span) = self.string(node, what)?;
        let with_unit = text.trim_end().ends_with(|c: char| c.is_ascii_alphabetic());
        match parse_value(&text).ok().map(|v| v.kind) {
            Some(ValueKind::Number(n)) if with_unit && n >= 1.0 => Some(n as u64),
            Some(ValueKind::Number(n)) if with_unit && n == 0.0 => {
                self.zero(what, span, &format!("a duration such as {example}"));
                None
            }
            _ => {
                self.problems.push(Diagnostic::new(
                    format!("{what}: '{text}' is not a duration"),
                    widen(self.text, span),
                    format!("expected e.g. {example}"),
                ));
                None
            }
        }
    }

    /// A reassembly timeout: a duration above zero, in nanoseconds of packet time.
    fn timeout(&mut self, node: Node, what: &str) -> Option<i64> {
        let span = node.span;
        let nanos = self.duration(node, what, "60s")?;
        let timeout = i64::try_from(nanos).ok();
        if timeout.is_none() {
            self.problems.push(Diagnostic::new(
                format!("{what}: longer than ferret can count"),
                widen(self.text, span),
                "expected e.g. 60s",
            ));
        }
        timeout
    }

    /// A bound set to zero, where zero would keep nothing.
    fn zero(&mut self, what: &str, span: Span, expected: &str) {
        self.problems.push(
            Diagnostic::new(
                format!("{what}: must be more than 0"),
                widen(self.text, span),
                format!("expected {expected}"),
            )
            .with_help("0 would keep nothing; leave the key out for the default"),
        );
    }
}

/// Sets `slot` to `value` if there is one.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A size such as `64MiB`, `512KiB` or `1000000` in bytes.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    if !(s.ends_with('B') || s.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    match parse_value(s).ok()?.kind {
        ValueKind::Number(n) if n >= 1.0 && n.fract() == 0.0 && n < usize::MAX as f64 => Some(n as usize),
        _ => None,
    }
}

/// `what: message`, or the message alone at the top level.
fn prefixed(what: &str, message: &str) -> String {
    if what.is_empty() {
        message.to_string()
    } else {
        format!("{what}: {message}")
    }
}

/// Sets the span of `v` and of every value inside it.
fn respan(v: &mut Value, span: Span) {
    v.span = span;
    match &mut v.kind {
        ValueKind::List(items) => items.iter_mut().for_each(|i| respan(i, span)),
        ValueKind::Range(a, b) => {
            respan(a, span);
            respan(b, span);
        }
        ValueKind::Not(inner) => respan(inner, span),
        _ => {}
    }
}

/// An empty span (a mapping, a list) widened to the token that starts there.
fn widen(text: &str, span: Span) -> Span {
    if span.end > span.start {
        return span;
    }
    let end = text.get(span.start..).map_or(span.start, |rest| {
        span.start + rest.find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(rest.len()).max(1)
    });
    Span::new(span.start, end.min(text.len()))
}

/// Everything besides the rule files that shapes a rule set: the config's
/// `vars`, `networks`, `disable` and `suppress`, then `--var` overrides and
/// `--disable` ids (added to the config's). Built once at start: a sensor's
/// reload recompiles the rule files with these same layers.
pub fn layers(config: Option<&Config>, overrides: Vec<(String, Value)>, disable: &[u64]) -> VarLayers {
    let mut layers = VarLayers { overrides, ..VarLayers::default() };
    if let Some(c) = config {
        layers.config = c.vars.clone();
        layers.networks = c.networks.clone();
        layers.disable = c.disable.clone();
        layers.suppress = c.suppress.clone();
    }
    layers.disable.extend(disable.iter().map(|&sid| Disable { sid, origin: format!("--disable {sid}") }));
    layers
}

impl crate::load::ConfigCheck for Config {
    fn path(&self) -> &str {
        &self.path
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn check_names(&self, defined: &[String]) -> Result<(), LoadFailure> {
        Config::check_names(self, defined)
    }
}

impl Config {
    /// Checks that every variable `vars` and the networks set is one the rules know
    /// (`defined`: names the rule files define or use, and the built-ins), so a
    /// misspelt name is an error rather than silently ignored.
    pub fn check_names(&self, defined: &[String]) -> Result<(), LoadFailure> {
        let known = |n: &str| defined.iter().any(|d| d == n) || self.vars.iter().any(|(v, _)| v == n);
        let mut problems = Vec::new();
        for (var, _) in self.vars.iter().filter(|(v, _)| !defined.contains(v)) {
            let span = self.var_keys.iter().find(|(k, _)| k == var).map_or(Span::new(0, 0), |(_, s)| *s);
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
    // Wildcards only in the file name, and never `**`: a pattern such as `/*/*/*.rules`
    // or `/**` would walk the whole file system (found by fuzzing: a config that never
    // finished loading, then one that ran out of memory).
    if entry.contains("**") {
        return Err(format!(
            "rules: '{entry}' is a recursive pattern (`**`); name a folder to load its *.rules files, \
             or use wildcards in the file name only (rules.d/*.rules)"
        ));
    }
    let wild_dir = Path::new(entry).parent().is_some_and(|d| d.to_string_lossy().contains(['*', '?', '[']));
    if wild_dir {
        return Err(format!(
            "rules: '{entry}' has wildcards in its folders; they are allowed in the file name only (rules.d/*.rules)"
        ));
    }
    let pattern = anchored.to_string_lossy().into_owned();
    let paths = glob::glob(&pattern).map_err(|e| format!("rules: bad glob '{entry}': {e}"))?;
    let limit = crate::load::MAX_RULE_DIR_ENTRIES;
    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).take(limit + 1).collect();
    if found.len() > limit {
        return Err(format!("rules: '{entry}' matches more than {limit} files"));
    }
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

/// Best-effort span of `needle` in the config text, searched after `after` if given.
fn find(text: &str, needle: &str, after: Option<&str>) -> Span {
    let from = after.and_then(|a| text.find(a)).unwrap_or(0);
    match text.get(from..).and_then(|rest| rest.find(needle)) {
        Some(i) => Span::new(from + i, from + i + needle.len()),
        None => Span::new(0, 0),
    }
}

/// A YAML syntax error as a diagnostic at its location.
fn yaml_diagnostic(e: &serde_saphyr::Error, text: &str) -> Diagnostic {
    let plain = e.render_with_options(serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off });
    // The plain message ends in " at line L, column C"; the caret shows that already.
    let message = plain.split(" at line ").next().unwrap_or(&plain).trim().to_string();
    let start = e
        .location()
        .map_or(0, |l| match l.span().byte_offset().and_then(|o| usize::try_from(o).ok()) {
            Some(o) => o,
            None => line_col_offset(text, l.line(), l.column()),
        })
        .min(text.len());
    Diagnostic::new(message, widen(text, Span::new(start, start)), "here")
}

/// The byte offset of a 1-based line and (character) column.
fn line_col_offset(text: &str, line: u64, col: u64) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(usize::try_from(line - 2).unwrap_or(usize::MAX)).map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = text.get(line_start..).unwrap_or("");
    let skip = usize::try_from(col.saturating_sub(1)).unwrap_or(usize::MAX);
    line_start + rest.char_indices().nth(skip).map_or(rest.len(), |(i, _)| i)
}

/// A YAML node with where it is in the config text.
#[derive(Debug)]
struct Node {
    kind: NodeKind,
    span: Span,
}

#[derive(Debug)]
enum NodeKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl NodeKind {
    /// What it is, for "expected X, found Y".
    fn describe(&self) -> String {
        match self {
            NodeKind::Null => "nothing".into(),
            NodeKind::Bool(b) => format!("boolean {b}"),
            NodeKind::Int(i) => format!("number {i}"),
            NodeKind::Float(f) => format!("number {f}"),
            NodeKind::Str(s) => format!("string {s:?}"),
            NodeKind::Seq(_) => "a list".into(),
            NodeKind::Map(_) => "a mapping".into(),
        }
    }
}

/// Any YAML value with its location (serde-saphyr's `Spanned`), for serde.
struct Located(Node);

impl<'de> Deserialize<'de> for Located {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Kind>::deserialize(d)?;
        let span = spanned.referenced.span();
        let start = span.byte_offset().and_then(|o| usize::try_from(o).ok()).unwrap_or(0);
        let len = span.byte_len().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
        Ok(Located(Node { kind: spanned.value.0, span: Span::new(start, start.saturating_add(len)) }))
    }
}

struct Kind(NodeKind);

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> serde::de::Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Null))
    }
    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Null))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Int(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Int(v.into())))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Int(v)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Kind, E> {
        Ok(Kind(i128::try_from(v).map_or(NodeKind::Float(v as f64), NodeKind::Int)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Str(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Kind, E> {
        Ok(Kind(NodeKind::Str(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(Located(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Kind(NodeKind::Seq(items)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some((Located(k), Located(v))) = map.next_entry()? {
            entries.push((k, v));
        }
        Ok(Kind(NodeKind::Map(entries)))
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
             rules: [builtin]\noutputs:\n  eve: alerts.json\n  alerts: false\nstate:\n  max_entries: 5000\n  idle: 2m\n  memcap: 16MiB\n",
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
        assert_eq!(c.state_memcap_bytes, Some(16 << 20));
        assert_eq!(parse_size("512KiB"), Some(512 << 10));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("10s"), None);
    }

    #[test]
    fn several_outputs_are_read_each_with_its_types() {
        let c = parse_text(
            "outputs:\n  eve: {path: eve.json, types: [alert]}\n  redis:\n    - {port: 6380, mode: stream, key: k, types: [alert, stats], buffer: 50}\n\
             \x20   - {server: redis.lan}\n  unix_socket: {path: /run/s.sock, type: stream}\n\
             \x20 syslog: [{}, {address: \"10.0.0.9\", format: rfc3164, facility: daemon}]\n",
        )
        .unwrap();
        assert_eq!(c.outputs.eve, Some(PathBuf::from("/nonexistent/eve.json")));
        assert_eq!(c.outputs.eve_types, Some(Types { alert: true, stats: false, engine: false }));
        let remote = &c.outputs.remote;
        assert_eq!(remote.len(), 5);
        assert_eq!(
            remote[0],
            RemoteSpec {
                target: Target::Redis { server: "127.0.0.1".into(), port: 6380, key: "k".into(), mode: Mode::Xadd },
                types: Types { alert: true, stats: true, engine: false },
                buffer: 50
            }
        );
        assert_eq!(remote[1].target.to_string(), "redis://redis.lan:6379/suricata?mode=list");
        assert_eq!(remote[1].types, Types::default());
        assert_eq!(remote[2].target, Target::UnixStream(PathBuf::from("/run/s.sock")));
        assert_eq!(
            remote[3].target,
            Target::Syslog { dest: SyslogDest::Unix("/dev/log".into()), format: SyslogFormat::Rfc3164, facility: 21 }
        );
        assert_eq!(
            remote[4].target,
            Target::Syslog { dest: SyslogDest::Udp("10.0.0.9:514".into()), format: SyslogFormat::Rfc3164, facility: 3 }
        );
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
        assert!(e.contains("error: state.max_entries: expected a whole number, found string \"lots\""), "{e}");
        assert!(e.contains("ferret.yaml:2:16"), "{e}");
        let e = parse_text("networks:\n  lab:\n    cidrs: [10.20.0.0/33]\n").unwrap_err();
        assert!(e.contains("network 'lab': '10.20.0.0/33' is not an address or CIDR"), "{e}");
        assert!(e.contains("ferret.yaml:3:13"), "{e}");
        let e = parse_text("state:\n  idle: soon\n").unwrap_err();
        assert!(e.contains("state.idle: 'soon' is not a duration"), "{e}");
    }

    #[test]
    fn reassembly_limits_are_read_and_default_where_not_written() {
        let c = parse_text(
            "defrag:\n  max_datagrams: 100\n  memcap: 1MiB\n  max_fragments: 16\n  timeout: 30s\n\
             dns_tcp:\n  max_streams: 64\n  max_message: 16KiB\n  memcap: 65536\n  timeout: 2m\n\
             \x20 max_held_segments: 8\n  max_held_bytes: 16KiB\n",
        )
        .unwrap();
        let defrag =
            DefragLimits { max_datagrams: 100, max_bytes: 1 << 20, max_fragments: 16, timeout_nanos: 30_000_000_000 };
        assert_eq!(c.defrag, defrag);
        let dns_tcp = DnsTcpLimits {
            max_streams: 64,
            max_message: 16 << 10,
            max_bytes: 65536,
            timeout_nanos: 120_000_000_000,
            max_held_segments: 8,
            max_held_bytes: 16 << 10,
        };
        assert_eq!(c.dns_tcp, dns_tcp);
        let c = parse_text("defrag:\n  max_fragments: 2\ndns_tcp: {}\n").unwrap();
        assert_eq!(c.defrag, DefragLimits { max_fragments: 2, ..DefragLimits::default() });
        assert_eq!(c.dns_tcp, DnsTcpLimits::default());
        let c = parse_text("dns_tcp:\n  max_message: 65535\n").unwrap();
        assert_eq!(c.dns_tcp.max_message, 65535);
        assert_eq!(parse_text("").unwrap().defrag, DefragLimits::default());
    }

    #[test]
    fn bad_reassembly_limits_are_located() {
        let e = parse_text(
            "defrag:\n  max_fragments: 0\n  memcap: 0\n  timeout: 0s\n  max_datagrams: many\n\
             dns_tcp:\n  max_mesage: 512\n  max_message: 70000\n  memcap: lots\n  timeout: 60\n  max_streams: -4\n",
        )
        .unwrap_err();
        let expected = [
            ("defrag.max_fragments: must be more than 0", "ferret.yaml:2:18"),
            ("defrag.memcap: must be more than 0", "ferret.yaml:3:11"),
            ("defrag.timeout: must be more than 0", "ferret.yaml:4:12"),
            ("defrag.max_datagrams: expected a positive whole number, found string \"many\"", "ferret.yaml:5:18"),
            (
                "dns_tcp: unknown field `max_mesage`, expected one of `max_streams`, `max_message`, `memcap`, `timeout`, `max_held_segments`, `max_held_bytes`",
                "ferret.yaml:7:3",
            ),
            ("dns_tcp.max_message: 70000 bytes is beyond 65535", "ferret.yaml:8:16"),
            ("dns_tcp.memcap: string \"lots\" is not a size in bytes", "ferret.yaml:9:11"),
            ("dns_tcp.timeout: expected a string, found number 60", "ferret.yaml:10:12"),
            ("dns_tcp.max_streams: expected a positive whole number, found number -4", "ferret.yaml:11:16"),
        ];
        let mut rest = e.as_str();
        for (message, location) in expected {
            let at = rest.find(&format!("error: {message}\n")).unwrap_or_else(|| panic!("{message} in order:\n{e}"));
            rest = &rest[at..];
            let next = rest[1..].find("error: ").map_or(rest.len(), |i| i + 1);
            assert!(rest[..next].contains(&format!("--> {location}\n")), "{location}:\n{}", &rest[..next]);
        }
        assert_eq!(e.matches("error: ").count(), expected.len(), "{e}");
        assert!(e.contains("help: 0 would keep nothing; leave the key out for the default"), "{e}");
        let e = parse_text("defrg: {}\n").unwrap_err();
        assert!(e.contains("`state`, `defrag`, `dns_tcp`, `sensor`"), "{e}");
        assert!(e.contains("state, defrag, dns_tcp and sensor; see ferret.example.yaml"), "{e}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = parse_text(
            "vars:\n  A: {x: 1}\n  B: 2\nnetwroks: {}\nnetworks:\n  lab:\n    cidrs: [10.0.0.0/33, nope]\n    vrs: {}\n\
             rules: [7]\noutputs:\n  alerts: maybe\nstate:\n  max_entries: -1\n  idle: soon\n",
        )
        .unwrap_err();
        let expected = [
            ("variable 'A' must be a number, string, boolean or list, not a mapping", "ferret.yaml:2:6"),
            ("unknown field `netwroks`, expected one of", "ferret.yaml:4:1"),
            ("network 'lab': '10.0.0.0/33' is not an address or CIDR", "ferret.yaml:7:13"),
            ("network 'lab': 'nope' is not an address or CIDR", "ferret.yaml:7:26"),
            ("networks.lab: unknown field `vrs`, expected `cidrs` or `vars`", "ferret.yaml:8:5"),
            ("rules: expected a string, found number 7", "ferret.yaml:9:9"),
            ("outputs.alerts: expected true or false, found string \"maybe\"", "ferret.yaml:11:11"),
            ("state.max_entries: expected a whole number, found number -1", "ferret.yaml:13:16"),
            ("state.idle: 'soon' is not a duration", "ferret.yaml:14:9"),
        ];
        let mut rest = e.as_str();
        for (message, location) in expected {
            let at = rest.find(&format!("error: {message}")).unwrap_or_else(|| panic!("{message} in order:\n{e}"));
            rest = &rest[at..];
            let next = rest[1..].find("error: ").map_or(rest.len(), |i| i + 1);
            assert!(rest[..next].contains(&format!("--> {location}\n")), "{location}:\n{}", &rest[..next]);
        }
        assert_eq!(e.matches("error: ").count(), expected.len(), "{e}");
    }

    #[test]
    fn values_keep_the_span_of_the_config_line() {
        let c = parse_text("vars:\n  ICMP_ENTROPY: high\n  LIST: [\"10.0.0.0/8\", 2]\n").unwrap();
        let text = "vars:\n  ICMP_ENTROPY: high\n  LIST: [\"10.0.0.0/8\", 2]\n";
        let span = c.vars[0].1.span.in_config().unwrap();
        assert_eq!(&text[span.start..span.end], "high");
        let ValueKind::List(items) = &c.vars[1].1.kind else { panic!() };
        let second = items[1].span.in_config().unwrap();
        assert_eq!(&text[second.start..second.end], "2");
    }

    #[test]
    fn yaml_syntax_errors_are_located() {
        let e = parse_text("vars:\n  A: [1, 2\n").unwrap_err();
        assert!(e.starts_with("error: "), "{e}");
        assert!(e.contains("--> ferret.yaml:"), "{e}");
        assert!(!e.contains(" at line "), "{e}");
    }

    #[test]
    fn disable_suppress_and_sensor_are_read_with_their_places() {
        let c = parse_text(
            "disable: [7100004, 7100011]\nsuppress:\n  - id: 7100001\n    track: by_src\n    ip: 10.0.5.20\n\
             \x20 - {id: 7100001, track: by_either, ip: [10.0.0.0/8, \"!10.9.0.0/16\"]}\n  - id: 7100101\n\
             sensor:\n  interface: eth0\n  bpf: icmp\n  snaplen: 1500\n  stats_interval: 10s\n  watch: false\n",
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
        assert_eq!(c.sensor.interface.as_deref(), Some("eth0"));
        assert_eq!(c.sensor.bpf.as_deref(), Some("icmp"));
        assert_eq!(c.sensor.snaplen, Some(1500));
        assert_eq!(c.sensor.watch, Some(false));
        assert_eq!(c.stats_interval_nanos, Some(10_000_000_000));
    }

    #[test]
    fn bad_suppress_entries_and_sensor_values_are_located() {
        let e = parse_text("suppress:\n  - id: 7\n    track: by_src\n    ip: 10.0.0.300\n").unwrap_err();
        assert!(e.starts_with("error: suppress 7: '10.0.0.300' is not an address or CIDR\n"), "{e}");
        assert!(e.contains("--> ferret.yaml:4:9"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    track: by_src\n").unwrap_err();
        assert!(e.starts_with("error: suppress 7: `track` and `ip` go together\n"), "{e}");
        assert!(e.contains("--> ferret.yaml:2:9"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    track: by_source\n    ip: 10.0.0.1\n").unwrap_err();
        assert!(e.contains("unknown value `by_source`, expected one of `by_src`, `by_dst`, `by_either`"), "{e}");
        assert!(e.contains("ferret.yaml:3:12"), "{e}");
        let e = parse_text("suppress:\n  - id: 7\n    trak: by_src\n").unwrap_err();
        assert!(e.contains("unknown field `trak`, expected one of `id`, `track`, `ip`"), "{e}");
        assert!(e.contains("ferret.yaml:3:5"), "{e}");
        let e = parse_text("disable: [7100001, seven]\n").unwrap_err();
        assert!(e.contains("ferret.yaml:1:20"), "{e}");
        let e = parse_text("sensor:\n  stats_interval: often\n  snaplen: -1\n").unwrap_err();
        assert!(e.contains("sensor.stats_interval: 'often' is not a duration"), "{e}");
        assert!(e.contains("sensor.snaplen: expected a positive whole number"), "{e}");
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
