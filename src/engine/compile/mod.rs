//! The compiler: parsed rule files in, a [`RuleSet`] (the matcher tree) out.
//!
//! This is where meaning is checked: variables resolve, field names exist and
//! suit the rule's protocol, operators suit the field's type, regexes build
//! within their size limits, ids are unique. Every problem becomes a
//! [`Diagnostic`] on the exact text, and all problems of all files are
//! returned together so one bad rule never hides the next.
//!
//! This file compiles a rule's options and state clauses; the parts live beside it: `vars`
//! (variables and network scoping), `header`, `condition` (field and type checks) and `regexes`.

use std::collections::HashMap;

use crate::decode::features::Field;
use crate::engine::field;
use crate::engine::header::Net;
use crate::engine::networks::{Network, NetworkMap};
use crate::engine::predicate::Node;
use crate::engine::ruleset::{CompiledRule, DisabledRule, RuleSet, RuleSource};
use crate::engine::state::{KeyItem, StateSpec, Window};
use crate::engine::template::Template;
use crate::rules::ast::{self, Action, Item, Proto, RuleOption, Severity, Spanned, Value};
use crate::rules::diag::Diagnostic;
use crate::rules::span::{LineCol, LineIndex, Span};

mod condition;
mod header;
mod regexes;
#[cfg(test)]
mod test_support;
mod vars;

pub use self::regexes::REGEX_SIZE_LIMIT;
use self::vars::Scope;
pub use self::vars::{builtin_vars, NetworkVars, VarLayers};

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
    let (rules, disabled, warnings) = manage(rules, layers);
    match NetworkMap::new(networks) {
        Ok(map) => Ok(RuleSet::with_networks(rules, map).with_management(disabled, warnings)),
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

/// Applies `disable` and `suppress`: returns the rules kept, the rules left
/// out and a warning for each id that names no rule (or a pass rule, which
/// raises no alerts to suppress).
fn manage(rules: Vec<CompiledRule>, layers: &VarLayers) -> (Vec<CompiledRule>, Vec<DisabledRule>, Vec<String>) {
    let mut warnings = Vec::new();
    for d in &layers.disable {
        if !rules.iter().any(|r| r.sid == d.sid) {
            warnings.push(format!("{}: no rule has this id", d.origin));
        }
    }
    let (disabled, mut kept): (Vec<_>, Vec<_>) =
        rules.into_iter().partition(|r| layers.disable.iter().any(|d| d.sid == r.sid));
    for s in &layers.suppress {
        match kept.iter_mut().find(|r| r.sid == s.sid) {
            Some(rule) if rule.action == Action::Pass => {
                warnings.push(format!("{}: rule {} is a pass rule; it raises no alerts to suppress", s.origin, s.sid))
            }
            Some(rule) => rule.suppress.push(s.suppression.clone()),
            None if disabled.iter().any(|r| r.sid == s.sid) => {}
            None => warnings.push(format!("{}: no rule has this id", s.origin)),
        }
    }
    let disabled = disabled
        .into_iter()
        .map(|r| DisabledRule { sid: r.sid, rev: r.rev, action: r.action, source: r.source })
        .collect();
    (kept, disabled, warnings)
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

/// Every variable name the rule files define or use (plus the built-ins): the
/// names a config's `vars` or a `--var` may set. A name outside it is a
/// misspelling that would otherwise be ignored.
pub fn known_var_names(files: &[ParsedFile]) -> Vec<String> {
    let mut names = defined_var_names(files);
    for file in files {
        for item in &file.ast.items {
            match item {
                Item::Var(decl) => vars::value_vars(&decl.value, &mut names, 0),
                Item::Rule(rule) => {
                    for spec in [&rule.src_addr, &rule.dst_addr] {
                        vars::addr_vars(spec, &mut names, 0);
                    }
                    for spec in [&rule.src_port, &rule.dst_port] {
                        vars::port_vars(spec, &mut names, 0);
                    }
                    for option in &rule.options {
                        if let RuleOption::When(expr) = option {
                            vars::expr_vars(expr, &mut names, 0);
                        }
                    }
                }
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

/// Compiles one rule, collecting its diagnostics.
struct RuleCx<'v> {
    scope: Scope<'v>,
    proto: Proto,
    diags: Vec<Diagnostic>,
    networks: &'v [NetworkVars],
}

impl RuleCx<'_> {
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
        let mut gid = 1;
        let mut noalert = false;
        let mut pass_flow = false;
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
                RuleOption::Gid(v) => gid = v.node,
                RuleOption::Noalert(_) => noalert = true,
                RuleOption::Applies(v) => {
                    pass_flow = v.node == ast::PassScope::Flow;
                    if rule.action.node != Action::Pass {
                        self.diags.push(Diagnostic::new("'applies' is for pass rules", v.span, "not a pass rule"));
                    }
                }
                RuleOption::Fixed(t) => {
                    state.fixed = Some((t.kind.node, t.count.node, self.window(&t.window), self.key(&t.key)));
                }
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
                "pass rules cannot carry threshold, rate, limit, distinct or fixed clauses",
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
        let mut read = measured.clone();
        for node in scoped.iter().flat_map(|s| s.by_network.iter().flatten()) {
            node.fields(&mut read);
        }
        let reads_engine_state = read.iter().any(|f| f.set_by_engine());
        let reads_flow_state = read.iter().any(|f| f.set_by_flow_table());
        let reads_dns = read.iter().any(|f| crate::engine::field::info(*f).layer == crate::engine::field::Layer::Dns);
        let msg = msg.unwrap_or_else(|| Template::parse(&format!("rule {sid}")).unwrap_or_default());
        for f in msg.fields().chain(recommends.iter().flat_map(Template::fields)) {
            if !measured.contains(&f) {
                measured.push(f);
            }
        }
        Some(CompiledRule {
            gid,
            sid,
            rev,
            action: rule.action.node,
            noalert,
            pass_flow,
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
            reads_engine_state,
            reads_flow_state,
            reads_dns,
            state,
            source: RuleSource { path: file.path.clone(), line: line.line },
            scoped,
            variables,
            suppress: Vec::new(),
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
}

/// The field behind a key item, for validation by callers.
pub fn key_field(item: &KeyItem) -> Option<Field> {
    match item {
        KeyItem::Field(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{compile_with, covered, error, ok, only, rule};
    use super::*;
    use crate::rules::parse::parse_rule_file;

    #[test]
    fn every_rule_of_every_file_compiles_in_load_order() {
        let text = format!(
            "{}{}",
            rule("ip", "any any -> any any", ""),
            rule("icmp", "any any -> any any", "").replace("id 1", "id 2")
        );
        let set = ok(&text);
        let sids: Vec<u64> = set.rules().iter().map(|r| r.sid).collect();
        assert_eq!(sids, [1, 2]);
        assert_eq!(set.rules()[1].source.line, 5);
        assert_eq!(set.rules()[1].source.path, "t.rules");
    }

    #[test]
    fn a_duplicate_id_points_at_the_first_use() {
        let text = format!("{}{}", rule("ip", "any any -> any any", ""), rule("ip", "any any -> any any", ""));
        let d = error(&text);
        assert_eq!(d.message, "duplicate rule id 1");
        assert_eq!(d.help.as_deref(), Some("first used at t.rules:2:8"));
    }

    #[test]
    fn a_rule_needs_an_id() {
        let d = error("alert ip any any -> any any { msg \"x\" }");
        assert_eq!(d.message, "rule has no id");
    }

    #[test]
    fn pass_rules_carry_no_state_and_windows_are_not_empty() {
        let d = error(&rule("ip", "any any -> any any", "threshold 5 within 10s by src").replace("alert", "pass"));
        assert_eq!(d.message, "pass rules cannot carry threshold, rate, limit, distinct or fixed clauses");
        let text = rule("ip", "any any -> any any", "threshold 5 within 0s by src");
        let d = error(&text);
        assert_eq!(d.message, "a time window must be longer than zero");
        assert_eq!(covered(&text, &d), "0s");
    }

    #[test]
    fn message_fields_are_measured_and_checked() {
        let set = ok(&rule("ip", "any any -> any any", "msg \"len={payload.len}\""));
        assert_eq!(only(&set).measured, [Field::PayloadLen]);
        let d = error(&rule("icmp", "any any -> any any", "msg \"{dns.qname}\""));
        assert_eq!(d.message, "field 'dns.qname' is not available in icmp rules");
    }

    #[test]
    fn overlapping_networks_are_refused() {
        let net = |name: &str, cidr: &str| {
            let (addr, prefix) = cidr.split_once('/').unwrap();
            NetworkVars {
                name: name.into(),
                nets: vec![ast::IpNet { addr: addr.parse().unwrap(), prefix: prefix.parse().unwrap() }],
                vars: vec![],
            }
        };
        let layers =
            VarLayers { networks: vec![net("a", "10.0.0.0/8"), net("b", "10.0.0.0/8")], ..VarLayers::default() };
        let errors = compile_with(&rule("ip", "any any -> any any", ""), &layers).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("is in both networks 'a' and 'b'"), "{}", errors[0].message);
    }

    #[test]
    fn defined_variable_names_include_the_built_ins() {
        let (ast, _) = parse_rule_file("var B = 1\nvar A = 2\nvar B = 3\n");
        let file = ParsedFile { path: String::new(), text: String::new(), ast };
        assert_eq!(defined_var_names(&[file]), ["A", "B", "EXTERNAL_NET", "HOME_NET"]);
    }
}
