//! The compiler: parsed rule files in, a [`RuleSet`] (the matcher tree) out.
//!
//! This is where meaning is checked: variables resolve, field names exist and
//! suit the rule's protocol, operators suit the field's type, regexes build
//! within their size limits, ids are unique. Every problem becomes a
//! [`Diagnostic`] on the exact text, and all problems of all files are
//! returned together so one bad rule never hides the next.

use std::collections::HashMap;

use regex::bytes::RegexBuilder;

use crate::decode::features::Field;
use crate::engine::field::{self, FieldInfo, FieldType};
use crate::engine::header::{HeaderMatch, Net, PortRange, SetMatch};
use crate::engine::networks::{Network, NetworkMap};
use crate::engine::predicate::{Check, CmpOp, DomainSet, Node, Predicate};
use crate::engine::ruleset::{CompiledRule, RuleSet, RuleSource, Scoped, Side, VarReport};
use crate::engine::state::{KeyItem, StateSpec, Window};
use crate::engine::template::Template;
use crate::rules::ast::{
    self, Action, AddrSpec, Expr, Item, PortSpec, Proto, RuleOption, ScopeSide, Severity, Spanned, Test, TestOp, Value,
    ValueKind,
};
use crate::rules::diag::Diagnostic;
use crate::rules::span::{LineCol, LineIndex, Span};

/// A parsed rule file ready to compile.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    /// Path as the user gave it (or `<default>/name` for embedded rules).
    pub path: String,
    /// The file's text.
    pub text: String,
    /// Its syntax tree.
    pub ast: ast::RuleFile,
}

/// A diagnostic and the index of the file it belongs to.
#[derive(Clone, Debug)]
pub struct FileDiagnostic {
    /// Index into the files passed to [`compile`], or [`CONFIG_FILE`].
    pub file: usize,
    /// The problem.
    pub diag: Diagnostic,
}

/// [`FileDiagnostic::file`] of a problem with a value of the config file.
pub const CONFIG_FILE: usize = usize::MAX - 1;

/// Regexes may compile to at most this many bytes (a rule cannot exhaust memory).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Variables may refer to variables at most this deep.
const MAX_VAR_DEPTH: usize = 16;

/// Built-in variables, overridable in rule files and on the command line.
pub fn builtin_vars() -> Vec<(String, Value)> {
    let home = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"];
    let list = home
        .iter()
        .filter_map(|s| {
            let (a, p) = s.split_once('/')?;
            Some(Value {
                kind: ValueKind::Net(ast::IpNet { addr: a.parse().ok()?, prefix: p.parse().ok()? }),
                span: Span::default(),
            })
        })
        .collect();
    vec![
        ("HOME_NET".into(), Value { kind: ValueKind::List(list), span: Span::default() }),
        ("EXTERNAL_NET".into(), Value { kind: ValueKind::Word("any".into()), span: Span::default() }),
        ("DNS_PORTS".into(), Value { kind: ValueKind::Number(53.0), span: Span::default() }),
    ]
}

/// Variables from outside the rule files, and the networks that scope them.
#[derive(Clone, Debug, Default)]
pub struct VarLayers {
    /// The config's `vars`: override definitions in rule files.
    pub config: Vec<(String, Value)>,
    /// `--var NAME=VALUE`: override the config and the files.
    pub overrides: Vec<(String, Value)>,
    /// Named networks with their own values, which win for packets of that network.
    pub networks: Vec<NetworkVars>,
}

impl VarLayers {
    /// Only command-line overrides.
    pub fn overrides(overrides: &[(String, Value)]) -> VarLayers {
        VarLayers { overrides: overrides.to_vec(), ..VarLayers::default() }
    }
}

/// One network of the config: its CIDRs and variable values.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkVars {
    /// Its name.
    pub name: String,
    /// Its CIDRs.
    pub nets: Vec<ast::IpNet>,
    /// Variable values for packets of this network.
    pub vars: Vec<(String, Value)>,
}

/// Compiles every rule of every file. Variables resolve, from strongest to
/// weakest: the packet's network (config `networks`), `--var`, the config's
/// `vars`, `var` lines in the rule file, [`builtin_vars`].
pub fn compile(files: &[ParsedFile], layers: &VarLayers) -> Result<RuleSet, Vec<FileDiagnostic>> {
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut seen_ids: HashMap<u64, (usize, Span)> = HashMap::new();
    for (file_index, file) in files.iter().enumerate() {
        let lines = LineIndex::new(&file.text);
        let mut vars: HashMap<String, Value> = builtin_vars().into_iter().collect();
        let mut diags = Vec::new();
        for item in &file.ast.items {
            match item {
                Item::Var(decl) => {
                    vars.insert(decl.name.node.clone(), decl.value.clone());
                }
                Item::Rule(rule) => {
                    let scope =
                        Scope { vars: &vars, config: &layers.config, overrides: &layers.overrides, network: &[] };
                    let mut cx =
                        RuleCx { scope, proto: rule.proto.node, diags: Vec::new(), networks: &layers.networks };
                    let line = lines.locate(&file.text, rule.span.start).0;
                    if let Some(compiled) = cx.rule(rule, file, line) {
                        if let Some((first_file, first_span)) = seen_ids.get(&compiled.sid) {
                            let first = files.get(*first_file).map_or(String::new(), |f| {
                                Diagnostic::new("", *first_span, "").location(&f.path, &f.text)
                            });
                            let span = id_span(rule).unwrap_or(rule.action.span);
                            cx.diags.push(
                                Diagnostic::new(format!("duplicate rule id {}", compiled.sid), span, "used again here")
                                    .with_help(format!("first used at {first}")),
                            );
                        } else {
                            seen_ids.insert(compiled.sid, (file_index, id_span(rule).unwrap_or(rule.action.span)));
                            if cx.diags.is_empty() {
                                rules.push(compiled);
                            }
                        }
                    }
                    diags.append(&mut cx.diags);
                }
            }
        }
        for diag in diags {
            let Some(span) = diag.span.in_config() else {
                errors.push(FileDiagnostic { file: file_index, diag });
                continue;
            };
            // About a value the config set: shown once, on the config line.
            let help =
                diag.help.clone().unwrap_or_else(|| format!("the config sets this value; {} uses it", file.path));
            let diag = Diagnostic { span, help: Some(help), ..diag };
            let seen =
                errors.iter().any(|e| e.file == CONFIG_FILE && e.diag.span == span && e.diag.message == diag.message);
            if !seen {
                errors.push(FileDiagnostic { file: CONFIG_FILE, diag });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let networks = layers
        .networks
        .iter()
        .map(|n| Network { name: n.name.clone(), nets: n.nets.iter().map(|i| Net::new(i.addr, i.prefix)).collect() })
        .collect();
    match NetworkMap::new(networks) {
        Ok(map) => Ok(RuleSet::with_networks(rules, map)),
        Err(o) => Err(vec![FileDiagnostic {
            file: usize::MAX,
            diag: Diagnostic::new(
                format!("{} is in both networks '{}' and '{}'", o.net, o.first, o.second),
                Span::default(),
                "",
            ),
        }]),
    }
}

/// Every variable name a set of rule files defines (plus the built-ins), for
/// checking names a config refers to.
pub fn defined_var_names(files: &[ParsedFile]) -> Vec<String> {
    let mut names: Vec<String> = builtin_vars().into_iter().map(|(n, _)| n).collect();
    for file in files {
        for item in &file.ast.items {
            if let Item::Var(decl) = item {
                names.push(decl.name.node.clone());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn id_span(rule: &ast::Rule) -> Option<Span> {
    rule.options.iter().find_map(|o| match o {
        RuleOption::Id(id) => Some(id.span),
        _ => None,
    })
}

/// The variables visible to one rule.
#[derive(Clone, Copy)]
struct Scope<'v> {
    vars: &'v HashMap<String, Value>,
    config: &'v [(String, Value)],
    overrides: &'v [(String, Value)],
    /// Values of the network a condition is being compiled for (empty: the default).
    network: &'v [(String, Value)],
}

impl Scope<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        find_var(self.network, name)
            .or_else(|| find_var(self.overrides, name))
            .or_else(|| find_var(self.config, name))
            .or_else(|| self.vars.get(name))
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .keys()
            .map(String::as_str)
            .chain(self.config.iter().map(|(n, _)| n.as_str()))
            .chain(self.overrides.iter().map(|(n, _)| n.as_str()))
    }

    /// Replaces `$NAME` (recursively) by its value, keeping the use-site span
    /// (the config's span for a value the config set).
    fn resolve(&self, value: &Value) -> Result<Value, Diagnostic> {
        let mut current = value.clone();
        for _ in 0..MAX_VAR_DEPTH {
            match &current.kind {
                ValueKind::Var(name) => {
                    let found = self.get(name).ok_or_else(|| self.undefined(name, value.span))?;
                    // A value the config set is blamed on the config line that set it.
                    let span = if found.span.in_config().is_some() { found.span } else { value.span };
                    current = Value { kind: found.kind.clone(), span };
                }
                _ => return Ok(current),
            }
        }
        Err(Diagnostic::new("variables refer to each other too deeply (a cycle?)", value.span, "while resolving this"))
    }

    fn undefined(&self, name: &str, span: Span) -> Diagnostic {
        let d = Diagnostic::new(format!("undefined variable '${name}'"), span, "not defined");
        match field::closest(name, self.names()) {
            Some(s) => {
                d.with_help(format!("did you mean '${s}'? (define it with `var {name} = ...` or --var {name}=...)"))
            }
            None => {
                d.with_help(format!("define it with `var {name} = ...` at the top of the file or --var {name}=..."))
            }
        }
    }
}

/// Compiles one rule, collecting its diagnostics.
struct RuleCx<'v> {
    scope: Scope<'v>,
    proto: Proto,
    diags: Vec<Diagnostic>,
    networks: &'v [NetworkVars],
}

impl RuleCx<'_> {
    /// Compiles the condition again for each network that gives one of its
    /// variables its own value, and lists the variables with their values.
    fn scoped(&mut self, rule: &ast::Rule, expr: &Expr, side: Option<ScopeSide>) -> (Option<Scoped>, Vec<VarReport>) {
        let mut used = Vec::new();
        expr_vars(expr, &mut used, 0);
        let mut report = Vec::new();
        for name in &used {
            let default = self.scope.get(name).map_or_else(|| "undefined".to_string(), ToString::to_string);
            let per_network = self
                .networks
                .iter()
                .filter_map(|n| {
                    n.vars.iter().rev().find(|(v, _)| v == name).map(|(_, val)| (n.name.clone(), val.to_string()))
                })
                .collect();
            report.push(VarReport { name: name.clone(), default, per_network });
        }
        let overriding: Vec<bool> =
            self.networks.iter().map(|n| n.vars.iter().any(|(v, _)| used.contains(v))).collect();
        if !overriding.contains(&true) {
            return (None, report);
        }
        let side = match side.unwrap_or(ScopeSide::Home) {
            ScopeSide::Src => Side::Src,
            ScopeSide::Dst => Side::Dst,
            ScopeSide::Home if names_home(&rule.src_addr) => Side::Src,
            ScopeSide::Home if names_home(&rule.dst_addr) => Side::Dst,
            ScopeSide::Home => Side::Src,
        };
        let networks = self.networks;
        let mut by_network = Vec::with_capacity(networks.len());
        for (network, overrides) in networks.iter().zip(overriding) {
            if !overrides {
                by_network.push(None);
                continue;
            }
            let saved = self.scope.network;
            self.scope.network = &network.vars;
            let before = self.diags.len();
            let node = self.expr(expr, 0).optimize();
            self.scope.network = saved;
            for d in self.diags.iter_mut().skip(before) {
                d.message = format!("{} (with the values of network '{}')", d.message, network.name);
            }
            by_network.push(Some(node));
        }
        (Some(Scoped { side, by_network }), report)
    }

    /// Compiles one rule of `file` that starts on `line`.
    fn rule(&mut self, rule: &ast::Rule, file: &ParsedFile, line: LineCol) -> Option<CompiledRule> {
        let header = self.header(rule);
        let mut sid = None;
        let mut rev = 1;
        let mut msg = None;
        let mut severity = Severity::Medium;
        let mut class = String::from("unclassified");
        let mut tags = Vec::new();
        let mut references = Vec::new();
        let mut recommends = Vec::new();
        let mut cond = Node::Const(true);
        let mut when = None;
        let mut scope_side = None;
        let mut state = StateSpec::default();
        for opt in &rule.options {
            match opt {
                RuleOption::Id(v) => sid = Some(v.node),
                RuleOption::Rev(v) => rev = v.node,
                RuleOption::Msg(v) => msg = self.template(v),
                RuleOption::Severity(v) => severity = v.node,
                RuleOption::Class(v) => class = v.node.clone(),
                RuleOption::Tags(v) => tags.extend(v.iter().map(|t| t.node.clone())),
                RuleOption::Reference(v) => references.push(v.node.clone()),
                RuleOption::Recommend(v) => recommends.extend(self.template(v)),
                RuleOption::When(expr) => {
                    cond = self.expr(expr, 0);
                    when = Some(expr);
                }
                RuleOption::Scope(side) => scope_side = Some(side.node),
                RuleOption::Threshold(t) => {
                    state.threshold = Some((t.count.node, self.window(&t.window), self.key(&t.key)));
                }
                RuleOption::Rate(r) => {
                    let per = self.window(&r.per);
                    state.rate = Some((r.count.node, per, self.key(&r.key)));
                }
                RuleOption::Limit(l) => state.limit = Some((l.count.node, self.window(&l.window), self.key(&l.key))),
                RuleOption::Distinct(d) => {
                    let f = self.field(&d.field);
                    state.distinct = f.map(|f| (f.field, d.count.node, self.window(&d.window), self.key(&d.key)));
                }
            }
        }
        let Some(sid) = sid else {
            self.diags.push(
                Diagnostic::new("rule has no id", rule.action.span, "this rule")
                    .with_help("add `id N` with a number unique across all rule files"),
            );
            return None;
        };
        if rule.action.node == Action::Pass && state.is_stateful() {
            self.diags.push(Diagnostic::new(
                "pass rules cannot carry threshold, rate, limit or distinct clauses",
                rule.action.span,
                "a pass rule",
            ));
        }
        let cond = cond.optimize();
        let (scoped, variables) = match when {
            Some(expr) => self.scoped(rule, expr, scope_side),
            None => (None, Vec::new()),
        };
        let mut measured = Vec::new();
        cond.fields(&mut measured);
        let msg = msg.unwrap_or_else(|| Template::parse(&format!("rule {sid}")).unwrap_or_default());
        for f in msg.fields().chain(recommends.iter().flat_map(Template::fields)) {
            if !measured.contains(&f) {
                measured.push(f);
            }
        }
        Some(CompiledRule {
            sid,
            rev,
            action: rule.action.node,
            proto: rule.proto.node,
            header: header?,
            cond,
            msg,
            severity,
            class,
            tags,
            references,
            recommends,
            measured,
            state,
            source: RuleSource { path: file.path.clone(), line: line.line },
            scoped,
            variables,
        })
    }

    fn window(&mut self, w: &Spanned<u64>) -> Window {
        if w.node == 0 {
            self.diags.push(Diagnostic::new("a time window must be longer than zero", w.span, "zero"));
        }
        Window { nanos: w.node.max(1) }
    }

    fn key(&mut self, key: &ast::KeySpec) -> Vec<KeyItem> {
        key.parts
            .iter()
            .filter_map(|p| match &p.node {
                ast::KeyPart::Src => Some(KeyItem::Src),
                ast::KeyPart::Dst => Some(KeyItem::Dst),
                ast::KeyPart::Pair => Some(KeyItem::Pair),
                ast::KeyPart::Flow => Some(KeyItem::Flow),
                ast::KeyPart::Rule => Some(KeyItem::Rule),
                ast::KeyPart::Field(name) => {
                    self.field(&ast::FieldRef { name: name.clone(), span: p.span }).map(|f| KeyItem::Field(f.field))
                }
            })
            .collect()
    }

    fn template(&mut self, text: &Spanned<String>) -> Option<Template> {
        match Template::parse(&text.node) {
            Ok(t) => {
                for f in t.fields() {
                    let info = field::info(f);
                    if !info.layer.allowed_in(self.proto) {
                        self.diags.push(Diagnostic::new(
                            format!("field '{}' is not available in {} rules", info.name, self.proto.keyword()),
                            text.span,
                            "used in this message",
                        ));
                    }
                }
                Some(t)
            }
            Err(e) => {
                // +1 skips the opening quote; exact unless escapes precede the placeholder.
                let start = (text.span.start + 1 + e.start).min(text.span.end);
                let end = (text.span.start + 1 + e.end).min(text.span.end);
                let mut d = Diagnostic::new(e.message, Span::new(start, end), "here");
                if let Some(h) = e.help {
                    d = d.with_help(h);
                }
                self.diags.push(d);
                None
            }
        }
    }

    fn header(&mut self, rule: &ast::Rule) -> Option<HeaderMatch> {
        let src = self.addrs(&rule.src_addr, 0);
        let dst = self.addrs(&rule.dst_addr, 0);
        let src_ports = self.ports(&rule.src_port, 0);
        let dst_ports = self.ports(&rule.dst_port, 0);
        let header = HeaderMatch {
            src: src?,
            src_ports: src_ports?,
            dst: dst?,
            dst_ports: dst_ports?,
            both_directions: rule.direction.node == ast::Direction::Both,
        };
        if matches!(self.proto, Proto::Icmp | Proto::Icmp6 | Proto::Arp)
            && !(header.src_ports.is_any() && header.dst_ports.is_any())
        {
            let span = port_span(&rule.src_port).to(port_span(&rule.dst_port));
            self.diags.push(
                Diagnostic::new(format!("{} has no ports", self.proto.keyword()), span, "ports given here")
                    .with_help("write 'any' for both ports"),
            );
            return None;
        }
        Some(header)
    }

    fn addrs(&mut self, spec: &AddrSpec, depth: usize) -> Option<SetMatch<Net>> {
        match spec {
            AddrSpec::Any(_) => Some(SetMatch::Any),
            AddrSpec::Net(n) => Some(SetMatch::One(Net::new(n.node.addr, n.node.prefix))),
            AddrSpec::Var(name) => {
                let v = self.resolve(&Value { kind: ValueKind::Var(name.node.clone()), span: name.span })?;
                self.addrs_from_value(&v, depth + 1)
            }
            AddrSpec::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in &items.node {
                    match item {
                        AddrSpec::Not(inner, _) => exclude.push(self.addrs(inner, depth + 1)?),
                        other => include.push(self.addrs(other, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            AddrSpec::Not(inner, _) => Some(SetMatch::Not(Box::new(self.addrs(inner, depth + 1)?))),
        }
    }

    fn addrs_from_value(&mut self, v: &Value, depth: usize) -> Option<SetMatch<Net>> {
        if depth > MAX_VAR_DEPTH {
            self.diags.push(Diagnostic::new("address list nested too deeply", v.span, "here"));
            return None;
        }
        match &v.kind {
            ValueKind::Word(w) if w == "any" => Some(SetMatch::Any),
            ValueKind::Net(n) => Some(SetMatch::One(Net::new(n.addr, n.prefix))),
            ValueKind::Var(_) => {
                let r = self.resolve(v)?;
                self.addrs_from_value(&r, depth + 1)
            }
            ValueKind::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in items {
                    match &item.kind {
                        ValueKind::Not(inner) => exclude.push(self.addrs_from_value(inner, depth + 1)?),
                        _ => include.push(self.addrs_from_value(item, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            ValueKind::Not(inner) => Some(SetMatch::Not(Box::new(self.addrs_from_value(inner, depth + 1)?))),
            _ => {
                self.diags.push(Diagnostic::new(
                    "expected an address, network, list of them, or 'any'",
                    v.span,
                    format!("this is {}", describe(v)),
                ));
                None
            }
        }
    }

    fn ports(&mut self, spec: &PortSpec, depth: usize) -> Option<SetMatch<PortRange>> {
        match spec {
            PortSpec::Any(_) => Some(SetMatch::Any),
            PortSpec::Port(p) => Some(SetMatch::One(PortRange { lo: p.node, hi: p.node })),
            PortSpec::Range(r) => {
                let (lo, hi) = (r.node.0.unwrap_or(0), r.node.1.unwrap_or(u16::MAX));
                if lo > hi {
                    self.diags.push(Diagnostic::new("port range is empty", r.span, "low end above high end"));
                    return None;
                }
                Some(SetMatch::One(PortRange { lo, hi }))
            }
            PortSpec::Var(name) => {
                let v = self.resolve(&Value { kind: ValueKind::Var(name.node.clone()), span: name.span })?;
                self.ports_from_value(&v, depth + 1)
            }
            PortSpec::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in &items.node {
                    match item {
                        PortSpec::Not(inner, _) => exclude.push(self.ports(inner, depth + 1)?),
                        other => include.push(self.ports(other, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            PortSpec::Not(inner, _) => Some(SetMatch::Not(Box::new(self.ports(inner, depth + 1)?))),
        }
    }

    fn ports_from_value(&mut self, v: &Value, depth: usize) -> Option<SetMatch<PortRange>> {
        if depth > MAX_VAR_DEPTH {
            self.diags.push(Diagnostic::new("port list nested too deeply", v.span, "here"));
            return None;
        }
        let port = |n: f64| (n.fract() == 0.0 && (0.0..=65535.0).contains(&n)).then_some(n as u16);
        match &v.kind {
            ValueKind::Word(w) if w == "any" => Some(SetMatch::Any),
            ValueKind::Number(n) if port(*n).is_some() => port(*n).map(|p| SetMatch::One(PortRange { lo: p, hi: p })),
            ValueKind::Range(a, b) => match (&a.kind, &b.kind) {
                (ValueKind::Number(a), ValueKind::Number(b)) if port(*a).is_some() && port(*b).is_some() && a <= b => {
                    Some(SetMatch::One(PortRange { lo: port(*a)?, hi: port(*b)? }))
                }
                _ => {
                    self.diags.push(Diagnostic::new("expected a port range like 1024..65535", v.span, "here"));
                    None
                }
            },
            ValueKind::Var(_) => {
                let r = self.resolve(v)?;
                self.ports_from_value(&r, depth + 1)
            }
            ValueKind::List(items) => {
                let (mut include, mut exclude) = (Vec::new(), Vec::new());
                for item in items {
                    match &item.kind {
                        ValueKind::Not(inner) => exclude.push(self.ports_from_value(inner, depth + 1)?),
                        _ => include.push(self.ports_from_value(item, depth + 1)?),
                    }
                }
                Some(SetMatch::List { include, exclude })
            }
            ValueKind::Not(inner) => Some(SetMatch::Not(Box::new(self.ports_from_value(inner, depth + 1)?))),
            _ => {
                self.diags.push(Diagnostic::new(
                    "expected a port (0-65535), a range, a list of them, or 'any'",
                    v.span,
                    format!("this is {}", describe(v)),
                ));
                None
            }
        }
    }

    fn resolve(&mut self, v: &Value) -> Option<Value> {
        match self.scope.resolve(v) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    fn field(&mut self, f: &ast::FieldRef) -> Option<&'static FieldInfo> {
        let Some(info) = field::lookup(&f.name) else {
            let d = Diagnostic::new(format!("unknown field '{}'", f.name), f.span, "unknown field");
            self.diags.push(match field::suggest(&f.name) {
                Some(s) => d.with_help(format!("did you mean '{s}'?")),
                None => d.with_help("`ferret explain --fields` lists every field"),
            });
            return None;
        };
        if !info.layer.allowed_in(self.proto) {
            self.diags.push(Diagnostic::new(
                format!("field '{}' is not available in {} rules", info.name, self.proto.keyword()),
                f.span,
                format!("{} packets never have it", self.proto.keyword()),
            ));
            return None;
        }
        Some(info)
    }

    /// Compiles a condition; on error records it and returns a placeholder.
    fn expr(&mut self, e: &Expr, depth: usize) -> Node {
        if depth > 256 {
            self.diags.push(Diagnostic::new("condition nested too deeply", e.span(), "here"));
            return Node::Const(false);
        }
        match e {
            Expr::And(items, _) => Node::And(items.iter().map(|i| self.expr(i, depth + 1)).collect()),
            Expr::Or(items, _) => Node::Or(items.iter().map(|i| self.expr(i, depth + 1)).collect()),
            Expr::Not(inner, _) => Node::Not(Box::new(self.expr(inner, depth + 1))),
            Expr::Bool(b) => Node::Const(b.node),
            Expr::Field(f) => match self.field(f) {
                Some(info) if info.ty == FieldType::Bool => {
                    Node::Pred(Predicate { field: info.field, check: Check::Bool(true) })
                }
                Some(info) => {
                    self.diags.push(
                        Diagnostic::new(
                            format!("'{}' is a {}, not a condition", info.name, info.ty.name()),
                            f.span,
                            "needs a comparison",
                        )
                        .with_help(format!(
                            "compare it, e.g. `{} {}`",
                            info.name,
                            example_test(info.ty)
                        )),
                    );
                    Node::Const(false)
                }
                None => Node::Const(false),
            },
            Expr::Test(t) => self.test(t).unwrap_or(Node::Const(false)),
        }
    }

    fn test(&mut self, t: &Test) -> Option<Node> {
        let info = self.field(&t.field)?;
        let value = self.resolve(&t.value)?;
        let op = t.op.node;
        let pred = |check| Node::Pred(Predicate { field: info.field, check });
        let negate = |n: Node| Node::Not(Box::new(n));
        let node = match (info.ty, op) {
            (FieldType::Num, TestOp::Eq | TestOp::Ne | TestOp::Lt | TestOp::Le | TestOp::Gt | TestOp::Ge) => {
                let n = self.number(info, &value)?;
                let cmp = match op {
                    TestOp::Eq => CmpOp::Eq,
                    TestOp::Ne => CmpOp::Ne,
                    TestOp::Lt => CmpOp::Lt,
                    TestOp::Le => CmpOp::Le,
                    TestOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                pred(Check::Num(cmp, n))
            }
            (FieldType::Num, TestOp::In | TestOp::NotIn) => {
                let node = self.num_set(info, &value)?;
                if op == TestOp::NotIn {
                    negate(node)
                } else {
                    node
                }
            }
            (FieldType::Bool, TestOp::Eq | TestOp::Ne) => match value.kind {
                ValueKind::Bool(b) => pred(Check::Bool(b == (op == TestOp::Eq))),
                _ => return self.mismatch(&value, "true or false"),
            },
            (FieldType::Ip, TestOp::Eq | TestOp::Ne | TestOp::In | TestOp::NotIn) => {
                let mut nets = Vec::new();
                self.nets(&value, &mut nets, 0)?;
                let node = pred(Check::IpIn(nets));
                if matches!(op, TestOp::Ne | TestOp::NotIn) {
                    negate(node)
                } else {
                    node
                }
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Eq | TestOp::Ne | TestOp::In | TestOp::NotIn) => {
                let nocase = info.ty == FieldType::Str;
                let mut values = Vec::new();
                self.strings(&value, &mut values, 0)?;
                if nocase {
                    values.iter_mut().for_each(|v| v.make_ascii_lowercase());
                }
                let node = pred(Check::BytesIn { values, nocase });
                if matches!(op, TestOp::Ne | TestOp::NotIn) {
                    negate(node)
                } else {
                    node
                }
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Contains | TestOp::StartsWith | TestOp::EndsWith) => {
                let ValueKind::Str(s) = &value.kind else {
                    return self.mismatch(&value, "a quoted string");
                };
                let nocase = info.ty == FieldType::Str;
                let needle = if nocase { s.to_ascii_lowercase().into_bytes() } else { literal_bytes(s) };
                pred(match op {
                    TestOp::Contains => Check::Contains { needle, nocase },
                    TestOp::StartsWith => Check::StartsWith { needle, nocase },
                    _ => Check::EndsWith { needle, nocase },
                })
            }
            (FieldType::Str, TestOp::Under) => {
                let mut values = Vec::new();
                self.strings(&value, &mut values, 0)?;
                pred(Check::Under(DomainSet::new(values.iter().map(Vec::as_slice))))
            }
            (FieldType::Str | FieldType::Bytes, TestOp::Matches) => {
                let ValueKind::Regex { pattern, flags } = &value.kind else {
                    return self.mismatch(&value, "a regex like /pattern/i");
                };
                pred(Check::Regex(self.regex(pattern, flags, value.span)?))
            }
            (ty, _) => {
                let ops = match ty {
                    FieldType::Num => "==, !=, <, <=, >, >=, in, not in",
                    FieldType::Bool => "== or !=, or the field on its own",
                    FieldType::Ip => "==, !=, in, not in",
                    FieldType::Str => "==, !=, in, not in, contains, starts_with, ends_with, matches, under",
                    FieldType::Bytes => "==, !=, in, not in, contains, starts_with, ends_with, matches",
                };
                self.diags.push(
                    Diagnostic::new(
                        format!("'{}' cannot be used on {} (a {})", op.as_str(), info.name, ty.name()),
                        t.op.span,
                        format!("not an operator for a {}", ty.name()),
                    )
                    .with_help(format!("a {} takes {ops}", ty.name())),
                );
                return None;
            }
        };
        Some(node)
    }

    fn mismatch<T>(&mut self, value: &Value, expected: &str) -> Option<T> {
        self.diags.push(Diagnostic::new(
            format!("expected {expected}, found {}", describe(value)),
            value.span,
            format!("expected {expected}"),
        ));
        None
    }

    fn number(&mut self, info: &FieldInfo, value: &Value) -> Option<f64> {
        match &value.kind {
            ValueKind::Number(n) => Some(*n),
            ValueKind::Word(w) => match field::word_value(info.field, w) {
                Some(n) => Some(n),
                None => {
                    self.diags.push(Diagnostic::new(
                        format!("unknown value '{w}' for {}", info.name),
                        value.span,
                        "not a known name",
                    ));
                    None
                }
            },
            _ => self.mismatch(value, "a number"),
        }
    }

    fn num_set(&mut self, info: &FieldInfo, value: &Value) -> Option<Node> {
        let pred = |check| Node::Pred(Predicate { field: info.field, check });
        match &value.kind {
            ValueKind::Range(a, b) => {
                let (lo, hi) = (self.number(info, a)?, self.number(info, b)?);
                if lo > hi {
                    self.diags.push(Diagnostic::new("range is empty", value.span, "low end above high end"));
                    return None;
                }
                Some(pred(Check::NumRange(lo, hi)))
            }
            ValueKind::List(items) => {
                let mut set = Vec::new();
                let mut ranges = Vec::new();
                for item in items {
                    let item = self.resolve(item)?;
                    match &item.kind {
                        ValueKind::Range(..) | ValueKind::List(_) => ranges.push(self.num_set(info, &item)?),
                        _ => set.push(self.number(info, &item)?),
                    }
                }
                set.sort_by(f64::total_cmp);
                set.dedup();
                let mut alts = ranges;
                match set.len() {
                    0 => {}
                    1 => alts.push(pred(Check::Num(CmpOp::Eq, set.first().copied().unwrap_or(0.0)))),
                    _ => alts.push(pred(Check::NumSet(set))),
                }
                Some(Node::Or(alts))
            }
            _ => self.mismatch(value, "a list [a, b] or a range a..b"),
        }
    }

    fn nets(&mut self, value: &Value, out: &mut Vec<Net>, depth: usize) -> Option<()> {
        if depth > MAX_VAR_DEPTH {
            return self.mismatch(value, "a shallower list");
        }
        match &value.kind {
            ValueKind::Net(n) => out.push(Net::new(n.addr, n.prefix)),
            ValueKind::List(items) => {
                for item in items {
                    let item = self.resolve(item)?;
                    self.nets(&item, out, depth + 1)?;
                }
            }
            ValueKind::Not(_) => {
                self.diags.push(
                    Diagnostic::new("'!' is not allowed in a condition's address list", value.span, "negated")
                        .with_help("use `not in` or `!=` instead"),
                );
                return None;
            }
            _ => return self.mismatch(value, "an address, a network or a list of them"),
        }
        Some(())
    }

    fn strings(&mut self, value: &Value, out: &mut Vec<Vec<u8>>, depth: usize) -> Option<()> {
        if depth > MAX_VAR_DEPTH {
            return self.mismatch(value, "a shallower list");
        }
        match &value.kind {
            ValueKind::Str(s) => out.push(literal_bytes(s)),
            ValueKind::List(items) => {
                for item in items {
                    let item = self.resolve(item)?;
                    self.strings(&item, out, depth + 1)?;
                }
            }
            _ => return self.mismatch(value, "a quoted string or a list of them"),
        }
        Some(())
    }

    fn regex(&mut self, pattern: &str, flags: &str, span: Span) -> Option<regex::bytes::Regex> {
        let mut b = RegexBuilder::new(pattern);
        b.unicode(false).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).nest_limit(64);
        for flag in flags.chars() {
            match flag {
                'i' => b.case_insensitive(true),
                'm' => b.multi_line(true),
                's' => b.dot_matches_new_line(true),
                'x' => b.ignore_whitespace(true),
                other => {
                    self.diags.push(
                        Diagnostic::new(format!("unknown regex flag '{other}'"), span, "in this regex")
                            .with_help("flags are i, m, s and x"),
                    );
                    return None;
                }
            };
        }
        match b.build() {
            Ok(re) => Some(re),
            Err(e) => {
                let reason = match &e {
                    regex::Error::CompiledTooBig(limit) => {
                        format!("regex is too large once compiled (limit {limit} bytes)")
                    }
                    other => {
                        let text = other.to_string();
                        let last = text.lines().last().unwrap_or("invalid regex").trim();
                        last.strip_prefix("error: ").unwrap_or(last).to_string()
                    }
                };
                self.diags.push(Diagnostic::new(format!("bad regex: {reason}"), span, "this regex"));
                None
            }
        }
    }
}

/// The bytes a string literal stands for when compared with packet bytes:
/// characters U+0000..=U+00FF (which is what `\xHH` escapes produce) are
/// single bytes, so `"\xde\xad"` matches those two raw bytes; a string with
/// any character beyond U+00FF is taken as UTF-8.
fn literal_bytes(s: &str) -> Vec<u8> {
    if s.chars().all(|c| u32::from(c) <= 0xff) {
        s.chars().map(|c| u32::from(c) as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

fn port_span(p: &PortSpec) -> Span {
    match p {
        PortSpec::Any(s) | PortSpec::Not(_, s) => *s,
        PortSpec::Port(x) => x.span,
        PortSpec::Range(x) => x.span,
        PortSpec::Var(x) => x.span,
        PortSpec::List(x) => x.span,
    }
}

/// The last definition of `name` in a layer.
fn find_var<'l>(layer: &'l [(String, Value)], name: &str) -> Option<&'l Value> {
    layer.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Names of the variables an expression refers to, in first-use order.
fn expr_vars(e: &Expr, out: &mut Vec<String>, depth: usize) {
    if depth > 256 {
        return;
    }
    match e {
        Expr::And(items, _) | Expr::Or(items, _) => items.iter().for_each(|i| expr_vars(i, out, depth + 1)),
        Expr::Not(inner, _) => expr_vars(inner, out, depth + 1),
        Expr::Test(t) => value_vars(&t.value, out, depth + 1),
        Expr::Field(_) | Expr::Bool(_) => {}
    }
}

fn value_vars(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 256 {
        return;
    }
    match &v.kind {
        ValueKind::Var(name) if !out.contains(name) => out.push(name.clone()),
        ValueKind::List(items) => items.iter().for_each(|i| value_vars(i, out, depth + 1)),
        ValueKind::Range(a, b) => {
            value_vars(a, out, depth + 1);
            value_vars(b, out, depth + 1);
        }
        ValueKind::Not(inner) => value_vars(inner, out, depth + 1),
        _ => {}
    }
}

/// True if an address spec names `$HOME_NET` (directly or in a list).
fn names_home(spec: &AddrSpec) -> bool {
    match spec {
        AddrSpec::Var(name) => name.node == "HOME_NET",
        AddrSpec::List(items) => items.node.iter().any(names_home),
        AddrSpec::Not(..) | AddrSpec::Any(_) | AddrSpec::Net(_) => false,
    }
}

fn example_test(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Num => "> 0",
        FieldType::Ip => "in 10.0.0.0/8",
        _ => "contains \"x\"",
    }
}

fn describe(v: &Value) -> String {
    match &v.kind {
        ValueKind::Number(n) => format!("the number {n}"),
        ValueKind::Str(s) => format!("the string {s:?}"),
        ValueKind::Net(n) => format!("the address {}/{}", n.addr, n.prefix),
        ValueKind::Word(w) => format!("the word '{w}'"),
        ValueKind::Var(n) => format!("the variable ${n}"),
        ValueKind::List(_) => "a list".into(),
        ValueKind::Range(..) => "a range".into(),
        ValueKind::Regex { .. } => "a regex".into(),
        ValueKind::Bool(b) => format!("{b}"),
        ValueKind::Not(_) => "a negation".into(),
        ValueKind::File(path) => format!("file({path:?}), which was not read"),
    }
}

/// The field behind a key item, for validation by callers.
pub fn key_field(item: &KeyItem) -> Option<Field> {
    match item {
        KeyItem::Field(f) => Some(*f),
        _ => None,
    }
}
