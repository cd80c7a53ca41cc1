//! Variables and network scoping: the built-ins, the layers that override them (rule file <
//! config `vars` < `--var` < the packet's network), resolving `$NAME` with a depth cap, and the
//! per-network copies of a condition whose variables a config network overrides.

use std::collections::HashMap;

use crate::engine::field;
use crate::engine::ruleset::{Scoped, Side, VarReport};
use crate::rules::ast::{self, AddrSpec, Expr, PortSpec, ScopeSide, Value, ValueKind};
use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::RuleCx;

/// Variables may refer to variables at most this deep.
pub(super) const MAX_VAR_DEPTH: usize = 16;

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
    ]
}

/// What shapes the compiled set from outside the rule files: variables, the
/// networks that scope them, rules turned off and alerts dropped.
#[derive(Clone, Debug, Default)]
pub struct VarLayers {
    /// The config's `vars`: override definitions in rule files.
    pub config: Vec<(String, Value)>,
    /// `--var NAME=VALUE`: override the config and the files.
    pub overrides: Vec<(String, Value)>,
    /// Named networks with their own values, which win for packets of that network.
    pub networks: Vec<NetworkVars>,
    /// Rules left out of the set (`--disable`, the config's `disable`).
    pub disable: Vec<crate::engine::suppress::Disable>,
    /// Alerts dropped (the config's `suppress`).
    pub suppress: Vec<crate::engine::suppress::Suppress>,
    /// A Suricata rule the loader refuses is an error (refusing its file), not a warning.
    pub strict: bool,
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

/// The variables visible to one rule.
#[derive(Clone, Copy)]
pub(super) struct Scope<'v> {
    pub(super) vars: &'v HashMap<String, Value>,
    pub(super) config: &'v [(String, Value)],
    pub(super) overrides: &'v [(String, Value)],
    /// Values of the network a condition is being compiled for (empty: the default).
    pub(super) network: &'v [(String, Value)],
}

impl Scope<'_> {
    pub(super) fn get(&self, name: &str) -> Option<&Value> {
        find_var(self.network, name)
            .or_else(|| find_var(self.overrides, name))
            .or_else(|| find_var(self.config, name))
            .or_else(|| self.vars.get(name))
    }

    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .keys()
            .map(String::as_str)
            .chain(self.config.iter().map(|(n, _)| n.as_str()))
            .chain(self.overrides.iter().map(|(n, _)| n.as_str()))
    }

    /// Replaces `$NAME` (recursively) by its value, keeping the use-site span
    /// (the config's span for a value the config set).
    pub(super) fn resolve(&self, value: &Value) -> Result<Value, Diagnostic> {
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

    pub(super) fn undefined(&self, name: &str, span: Span) -> Diagnostic {
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

impl RuleCx<'_> {
    /// Compiles the condition again for each network that gives one of its
    /// variables its own value, and lists the variables with their values.
    pub(super) fn scoped(
        &mut self,
        rule: &ast::Rule,
        expr: &Expr,
        side: Option<ScopeSide>,
    ) -> (Option<Scoped>, Vec<VarReport>) {
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

    pub(super) fn resolve(&mut self, v: &Value) -> Option<Value> {
        match self.scope.resolve(v) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }
}

/// The last definition of `name` in a layer.
pub(super) fn find_var<'l>(layer: &'l [(String, Value)], name: &str) -> Option<&'l Value> {
    layer.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Names of the variables an expression refers to, in first-use order.
pub(super) fn expr_vars(e: &Expr, out: &mut Vec<String>, depth: usize) {
    if depth > 256 {
        return;
    }
    match e {
        Expr::And(items, _) | Expr::Or(items, _) => items.iter().for_each(|i| expr_vars(i, out, depth + 1)),
        Expr::Not(inner, _) => expr_vars(inner, out, depth + 1),
        Expr::Test(t) => value_vars(&t.value, out, depth + 1),
        Expr::Field(_) | Expr::Bool(_) | Expr::Content(_) => {}
    }
}

pub(super) fn value_vars(v: &Value, out: &mut Vec<String>, depth: usize) {
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

/// The variables an address spec of a header names.
pub(super) fn addr_vars(spec: &AddrSpec, out: &mut Vec<String>, depth: usize) {
    match spec {
        _ if depth > 256 => {}
        AddrSpec::Var(name) if !out.contains(&name.node) => out.push(name.node.clone()),
        AddrSpec::List(items) => items.node.iter().for_each(|i| addr_vars(i, out, depth + 1)),
        AddrSpec::Not(inner, _) => addr_vars(inner, out, depth + 1),
        AddrSpec::Var(_) | AddrSpec::Any(_) | AddrSpec::Net(_) => {}
    }
}

/// The variables a port spec of a header names.
pub(super) fn port_vars(spec: &PortSpec, out: &mut Vec<String>, depth: usize) {
    match spec {
        _ if depth > 256 => {}
        PortSpec::Var(name) if !out.contains(&name.node) => out.push(name.node.clone()),
        PortSpec::List(items) => items.node.iter().for_each(|i| port_vars(i, out, depth + 1)),
        PortSpec::Not(inner, _) => port_vars(inner, out, depth + 1),
        PortSpec::Var(_) | PortSpec::Any(_) | PortSpec::Port(_) | PortSpec::Range(_) => {}
    }
}

/// True if an address spec names `$HOME_NET` (directly or in a list).
pub(super) fn names_home(spec: &AddrSpec) -> bool {
    match spec {
        AddrSpec::Var(name) => name.node == "HOME_NET",
        AddrSpec::List(items) => items.node.iter().any(names_home),
        AddrSpec::Not(..) | AddrSpec::Any(_) | AddrSpec::Net(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compile::test_support::{
        compile_with, covered, error, error_with, ok, only, rule, tree, tree_of,
    };
    use crate::rules::parse::{parse_expr, parse_value};

    fn var(name: &str, value: &str) -> (String, Value) {
        (name.into(), parse_value(value).unwrap())
    }

    fn lab(vars: Vec<(String, Value)>) -> NetworkVars {
        let net = match parse_value("10.20.0.0/16").unwrap().kind {
            ValueKind::Net(n) => n,
            other => panic!("{other:?}"),
        };
        NetworkVars { name: "lab".into(), nets: vec![net], vars }
    }

    const WHEN_N: &str = "when payload.len > $N";

    #[test]
    fn layers_resolve_from_strongest_to_weakest() {
        let text = format!("var N = 1\n{}", rule("ip", "any any -> any any", WHEN_N));
        assert!(tree(&text).contains("payload.len > 1"));
        let config = VarLayers { config: vec![var("N", "2")], ..VarLayers::default() };
        assert!(tree_of(&only(&compile_with(&text, &config).unwrap()).cond).contains("payload.len > 2"));
        let both = VarLayers { overrides: vec![var("N", "3")], ..config };
        assert!(tree_of(&only(&compile_with(&text, &both).unwrap()).cond).contains("payload.len > 3"));
    }

    #[test]
    fn builtins_are_defined_and_a_file_may_redefine_them() {
        let names: Vec<String> = builtin_vars().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["HOME_NET", "EXTERNAL_NET"]);
        assert!(tree(&rule("ip", "any any -> any any", "when ip.src in $HOME_NET")).contains("192.168.0.0/16"));
        let text =
            format!("var HOME_NET = [10.1.0.0/16]\n{}", rule("ip", "any any -> any any", "when ip.src in $HOME_NET"));
        let t = tree(&text);
        assert!(t.contains("10.1.0.0/16") && !t.contains("192.168.0.0/16"), "{t}");
    }

    #[test]
    fn a_variable_may_name_another() {
        let text = format!("var A = $B\nvar B = 7\n{}", rule("ip", "any any -> any any", "when payload.len > $A"));
        assert!(tree(&text).contains("payload.len > 7"));
    }

    #[test]
    fn an_undefined_variable_suggests_a_close_name() {
        let text = format!("var ICMP_MIN = 5\n{}", rule("ip", "any any -> any any", "when payload.len > $ICMP_MNI"));
        let d = error(&text);
        assert_eq!(d.message, "undefined variable '$ICMP_MNI'");
        assert_eq!(covered(&text, &d), "$ICMP_MNI");
        assert!(d.help.unwrap().starts_with("did you mean '$ICMP_MIN'?"));
        let d = error(&rule("ip", "any any -> any any", "when payload.len > $ZZZZZZ"));
        assert!(d.help.unwrap().starts_with("define it with `var ZZZZZZ = ...`"));
    }

    #[test]
    fn a_cycle_is_an_error_not_a_hang() {
        let text = format!("var A = $B\nvar B = $A\n{}", rule("ip", "any any -> any any", "when payload.len > $A"));
        assert_eq!(error(&text).message, "variables refer to each other too deeply (a cycle?)");
    }

    #[test]
    fn expression_variables_in_first_use_order() {
        let mut names = Vec::new();
        expr_vars(&parse_expr("a > $X and (b in [$Y, 1..$Z] or not c == $X)").unwrap(), &mut names, 0);
        assert_eq!(names, ["X", "Y", "Z"]);
    }

    #[test]
    fn find_var_takes_the_last_definition() {
        let layer = [var("A", "1"), var("B", "2"), var("A", "3")];
        assert_eq!(find_var(&layer, "A").map(ToString::to_string).as_deref(), Some("3"));
        assert!(find_var(&layer, "C").is_none());
    }

    #[test]
    fn a_network_override_compiles_the_condition_once_more() {
        let text = format!("var N = 1\n{}", rule("ip", "$HOME_NET any -> any any", WHEN_N));
        let layers = VarLayers {
            networks: vec![lab(vec![var("N", "9")]), NetworkVars { name: "office".into(), nets: vec![], vars: vec![] }],
            ..VarLayers::default()
        };
        let set = compile_with(&text, &layers).unwrap();
        let r = only(&set);
        let scoped = r.scoped.as_ref().unwrap();
        assert_eq!(scoped.side, Side::Src);
        let [Some(lab_cond), None] = scoped.by_network.as_slice() else { panic!("{:?}", scoped.by_network) };
        assert!(tree_of(lab_cond).contains("payload.len > 9"));
        assert!(tree_of(&r.cond).contains("payload.len > 1"));
        assert_eq!(r.variables.len(), 1);
        assert_eq!((r.variables[0].name.as_str(), r.variables[0].default.as_str()), ("N", "1"));
        assert_eq!(r.variables[0].per_network, [("lab".to_string(), "9".to_string())]);
    }

    #[test]
    fn the_scoped_side_follows_home_net_or_the_scope_option() {
        let layers = VarLayers { networks: vec![lab(vec![var("N", "9")])], ..VarLayers::default() };
        let side = |header: &str, extra: &str| {
            let text = format!("var N = 1\n{}", rule("ip", header, &format!("{WHEN_N}\n    {extra}")));
            let set = compile_with(&text, &layers).unwrap();
            only(&set).scoped.as_ref().unwrap().side
        };
        assert_eq!(side("any any -> $HOME_NET any", ""), Side::Dst);
        assert_eq!(side("any any -> any any", ""), Side::Src);
        assert_eq!(side("$HOME_NET any -> any any", "scope dst"), Side::Dst);
    }

    #[test]
    fn rules_without_network_overrides_are_not_scoped() {
        let text = format!("var N = 1\n{}", rule("ip", "any any -> any any", WHEN_N));
        let layers = VarLayers { networks: vec![lab(vec![var("OTHER", "9")])], ..VarLayers::default() };
        assert!(only(&compile_with(&text, &layers).unwrap()).scoped.is_none());
        assert!(only(&ok(&text)).scoped.is_none());
    }

    #[test]
    fn an_error_under_a_network_value_names_the_network() {
        let text = format!("var N = 1\n{}", rule("ip", "any any -> any any", WHEN_N));
        let layers = VarLayers { networks: vec![lab(vec![var("N", "\"x\"")])], ..VarLayers::default() };
        let d = error_with(&text, &layers);
        assert!(d.message.ends_with("(with the values of network 'lab')"), "{}", d.message);
    }
}
