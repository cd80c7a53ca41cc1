//! Pretty-printer: turns a syntax tree back into canonical rule source.
//!
//! Used by `ferret fmt`-style tooling, by error messages that quote a rule, and by the parser's
//! round-trip tests. The output always parses back to the same tree (spans aside) for any tree
//! the parser produced: numbers print in the shortest form that re-reads as the same `f64`,
//! clause durations print as an exact whole number of the largest fitting unit (`10s`, `1500ms`),
//! and expressions get exactly the parentheses that precedence and nesting require.

use std::fmt::{self, Display, Formatter, Write};

use crate::rules::ast::{
    Action, AddrSpec, ContentItem, Direction, Expr, IpNet, Item, KeyPart, KeySpec, Pattern, PortSpec, Proto, Rule,
    RuleFile, RuleOption, ScopeSide, Severity, Spanned, Value, ValueKind, VarDecl,
};

/// Width option keys are padded to, so option values line up.
const KEY_WIDTH: usize = 9;

impl Display for RuleFile {
    /// Variables one per line; a blank line around each rule.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut previous: Option<&Item> = None;
        for item in &self.items {
            let both_vars = matches!((previous, item), (Some(Item::Var(_)), Item::Var(_)));
            if previous.is_some() && !both_vars {
                writeln!(f)?;
            }
            writeln!(f, "{item}")?;
            previous = Some(item);
        }
        Ok(())
    }
}

impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Item::Var(v) => v.fmt(f),
            Item::Rule(r) => r.fmt(f),
        }
    }
}

impl Display for VarDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "var {} = {}", self.name.node, self.value)
    }
}

impl Display for Rule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} {} {} {} {} {} {{",
            self.action.node,
            self.proto.node,
            self.src_addr,
            self.src_port,
            self.direction.node,
            self.dst_addr,
            self.dst_port
        )?;
        for option in &self.options {
            writeln!(f, "    {option}")?;
        }
        f.write_char('}')
    }
}

impl Display for RuleOption {
    /// `key value`, the key padded so values line up.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let w = KEY_WIDTH;
        match self {
            RuleOption::Id(n) => write!(f, "{:w$} {}", "id", n.node),
            RuleOption::Rev(n) => write!(f, "{:w$} {}", "rev", n.node),
            RuleOption::Msg(s) => write!(f, "{:w$} {}", "msg", Quoted(&s.node)),
            RuleOption::Severity(s) => write!(f, "{:w$} {}", "severity", s.node),
            RuleOption::Class(c) => write!(f, "{:w$} {}", "class", c.node),
            RuleOption::Tags(tags) => write!(f, "{:w$} {}", "tags", Tags(tags)),
            RuleOption::Reference(s) => write!(f, "{:w$} {}", "reference", Quoted(&s.node)),
            RuleOption::Recommend(s) => write!(f, "{:w$} {}", "recommend", Quoted(&s.node)),
            RuleOption::When(e) => write!(f, "{:w$} {e}", "when"),
            RuleOption::Scope(s) => {
                let side = match s.node {
                    ScopeSide::Src => "src",
                    ScopeSide::Dst => "dst",
                    ScopeSide::Home => "home",
                };
                write!(f, "{:w$} {side}", "scope")
            }
            RuleOption::Gid(n) => write!(f, "{:w$} {}", "gid", n.node),
            RuleOption::Noalert(_) => f.write_str("noalert"),
            RuleOption::Applies(s) => write!(f, "{:w$} {}", "applies", s.node.keyword()),
            RuleOption::Fixed(t) => write!(
                f,
                "{:w$} {} {} per {} {}",
                "fixed",
                t.kind.node.keyword(),
                t.count.node,
                Duration(t.window.node),
                t.key
            ),
            RuleOption::Threshold(t) => {
                write!(f, "{:w$} {} within {} {}", "threshold", t.count.node, Duration(t.window.node), t.key)
            }
            RuleOption::Rate(r) => {
                write!(f, "{:w$} > {}/{} {}", "rate", r.count.node, Per(r.per.node), r.key)
            }
            RuleOption::Limit(l) => {
                write!(f, "{:w$} {} per {} {}", "limit", l.count.node, Duration(l.window.node), l.key)
            }
            RuleOption::Distinct(d) => write!(
                f,
                "{:w$} {} > {} within {} {}",
                "distinct",
                d.field.name,
                d.count.node,
                Duration(d.window.node),
                d.key
            ),
        }
    }
}

/// `tags` value: a single word, or a list.
struct Tags<'a>(&'a [Spanned<String>]);

impl Display for Tags<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let [only] = self.0 {
            return f.write_str(&only.node);
        }
        f.write_char('[')?;
        for (n, tag) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&tag.node)?;
        }
        f.write_char(']')
    }
}

/// Duration units from largest to smallest, in nanoseconds.
const UNITS: [(&str, u64); 6] = [
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// A clause duration in nanoseconds, printed exactly in the largest unit that divides it.
pub struct Duration(pub u64);

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        let (unit, size) = UNITS.iter().copied().find(|&(_, size)| ns.is_multiple_of(size)).unwrap_or(("ns", 1));
        write!(f, "{}{unit}", ns / size)
    }
}

/// The period of a rate: a bare unit for one of it (`/s`), else a duration (`/10s`).
struct Per(u64);

impl Display for Per {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match UNITS.iter().find(|&&(_, size)| size == self.0) {
            Some((unit, _)) => f.write_str(unit),
            None => Duration(self.0).fmt(f),
        }
    }
}

impl Display for KeySpec {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("by ")?;
        for (n, part) in self.parts.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            part.node.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for KeyPart {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyPart::Src => "src",
            KeyPart::Dst => "dst",
            KeyPart::Pair => "pair",
            KeyPart::Flow => "flow",
            KeyPart::Rule => "rule",
            KeyPart::Field(name) => name,
        })
    }
}

impl Display for Action {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Alert => "alert",
            Action::Pass => "pass",
        })
    }
}

impl Display for Proto {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl Display for Direction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToDst => "->",
            Direction::Both => "<>",
        })
    }
}

impl Display for Severity {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl Display for AddrSpec {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AddrSpec::Any(_) => f.write_str("any"),
            AddrSpec::Net(net) => Net(net.node).fmt(f),
            AddrSpec::Var(name) => write!(f, "${}", name.node),
            AddrSpec::List(items) => write_list(f, &items.node),
            AddrSpec::Not(inner, _) => write!(f, "!{inner}"),
        }
    }
}

impl Display for PortSpec {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Any(_) => f.write_str("any"),
            PortSpec::Port(p) => write!(f, "{}", p.node),
            PortSpec::Range(r) => {
                let (low, high) = r.node;
                if low.is_none() && high.is_none() {
                    return f.write_str("0:65535");
                }
                if let Some(low) = low {
                    write!(f, "{low}")?;
                }
                f.write_char(':')?;
                if let Some(high) = high {
                    write!(f, "{high}")?;
                }
                Ok(())
            }
            PortSpec::Var(name) => write!(f, "${}", name.node),
            PortSpec::List(items) => write_list(f, &items.node),
            PortSpec::Not(inner, _) => write!(f, "!{inner}"),
        }
    }
}

/// `[a, b, c]`
fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    f.write_char('[')?;
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        item.fmt(f)?;
    }
    f.write_char(']')
}

/// An address with its prefix, the prefix left out for a single host.
struct Net(IpNet);

impl Display for Net {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let IpNet { addr, prefix } = self.0;
        let host = if addr.is_ipv4() { 32 } else { 128 };
        if prefix == host {
            write!(f, "{addr}")
        } else {
            write!(f, "{addr}/{prefix}")
        }
    }
}

/// Binding strength of an expression; operands of weaker strength need parentheses.
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Not(..) => 3,
        Expr::Test(_) | Expr::Field(_) | Expr::Bool(_) | Expr::Content(_) => 4,
    }
}

/// Writes `e`, in parentheses if it binds less tightly than `min`.
fn write_operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if precedence(e) < min {
        write!(f, "({e})")
    } else {
        e.fmt(f)
    }
}

/// `a or b`, `a and b`: an `or` inside `or` is parenthesised too, so nesting survives a re-parse.
fn write_chain(f: &mut Formatter<'_>, operands: &[Expr], op: &str, min: u8) -> fmt::Result {
    for (n, operand) in operands.iter().enumerate() {
        if n > 0 {
            write!(f, " {op} ")?;
        }
        write_operand(f, operand, min)?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(operands, _) => write_chain(f, operands, "or", 2),
            Expr::And(operands, _) => write_chain(f, operands, "and", 3),
            Expr::Not(inner, _) => {
                f.write_str("not ")?;
                write_operand(f, inner, 3)
            }
            Expr::Test(t) => write!(f, "{} {} {}", t.field.name, t.op.node.as_str(), t.value),
            Expr::Field(field) => f.write_str(&field.name),
            Expr::Bool(b) => write!(f, "{}", b.node),
            Expr::Content(c) => {
                write!(f, "{} has [", c.field.name)?;
                for (n, item) in c.items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(']')
            }
        }
    }
}

impl Display for ContentItem {
    /// The pattern, then its modifiers in a fixed order.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('!')?;
        }
        match &self.pattern {
            Pattern::Bytes(s) => ByteString(s).fmt(f)?,
            Pattern::Regex { pattern, flags } => write!(f, "{}{flags}", Regex(pattern))?,
        }
        let flags = [("nocase", self.nocase)];
        let numbers =
            [("offset", self.offset), ("depth", self.depth), ("distance", self.distance), ("within", self.within)];
        let tail = [
            ("startswith", self.startswith),
            ("endswith", self.endswith),
            ("relative", self.relative),
            ("fast_pattern", self.fast_pattern),
        ];
        for (name, _) in flags.iter().filter(|(_, on)| *on) {
            write!(f, " {name}")?;
        }
        for (name, n) in numbers.iter().filter_map(|(name, n)| n.map(|n| (name, n))) {
            write!(f, " {name} {n}")?;
        }
        for (name, _) in tail.iter().filter(|(_, on)| *on) {
            write!(f, " {name}")?;
        }
        Ok(())
    }
}

/// A string of bytes (characters up to U+00FF): printable ASCII as is, the rest `\xHH`.
struct ByteString<'a>(&'a str);

impl Display for ByteString<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0, |c| !matches!(c, ' '..='~') && u32::from(c) <= 0xff)
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueKind::Number(n) => write!(f, "{n}"),
            ValueKind::Str(s) => Quoted(s).fmt(f),
            ValueKind::Net(net) => Net(*net).fmt(f),
            ValueKind::Word(w) => f.write_str(w),
            ValueKind::Var(name) => write!(f, "${name}"),
            ValueKind::List(items) => write_list(f, items),
            ValueKind::Range(low, high) => write!(f, "{low}..{high}"),
            ValueKind::Regex { pattern, flags } => write!(f, "{}{flags}", Regex(pattern)),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Not(inner) => write!(f, "!{inner}"),
            ValueKind::File(path) => write!(f, "file({})", Quoted(path)),
        }
    }
}

/// A string literal with `"`, `\`, and control characters escaped.
pub struct Quoted<'a>(pub &'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0, |c| c.is_ascii_control())
    }
}

/// `"s"` with `"`, `\`, newline, tab and return escaped, and `\xHH` for the characters `hex` picks.
fn write_quoted(f: &mut Formatter<'_>, s: &str, hex: impl Fn(char) -> bool) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if hex(c) => write!(f, "\\x{:02x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// A regex pattern between slashes; a bare `/` inside is written `\/`.
struct Regex<'a>(&'a str);

impl Display for Regex<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        let mut escaped = false;
        for c in self.0.chars() {
            if c == '/' && !escaped {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
            escaped = c == '\\' && !escaped;
        }
        f.write_char('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::{Distinct, FieldRef, Limit, Rate, Test, TestOp, Threshold};
    use crate::rules::parse::{parse_expr, parse_rule_file, parse_value};
    use crate::rules::span::Span;
    use proptest::prelude::*;
    use std::net::IpAddr;

    const Z: Span = Span { start: 0, end: 0 };

    fn sp<T>(node: T) -> Spanned<T> {
        Spanned::new(node, Z)
    }

    fn val(kind: ValueKind) -> Value {
        Value { kind, span: Z }
    }

    // ----- span stripping: trees compared without positions -----

    fn strip_file(file: &RuleFile) -> RuleFile {
        let mut file = file.clone();
        for item in &mut file.items {
            match item {
                Item::Var(v) => {
                    v.span = Z;
                    v.name.span = Z;
                    strip_value(&mut v.value);
                }
                Item::Rule(r) => strip_rule(r),
            }
        }
        file
    }

    fn strip_rule(r: &mut Rule) {
        r.span = Z;
        r.action.span = Z;
        r.proto.span = Z;
        r.direction.span = Z;
        strip_addr(&mut r.src_addr);
        strip_addr(&mut r.dst_addr);
        strip_port(&mut r.src_port);
        strip_port(&mut r.dst_port);
        r.options.iter_mut().for_each(strip_option);
    }

    fn strip_addr(a: &mut AddrSpec) {
        match a {
            AddrSpec::Any(s) => *s = Z,
            AddrSpec::Net(n) => n.span = Z,
            AddrSpec::Var(v) => v.span = Z,
            AddrSpec::List(l) => {
                l.span = Z;
                l.node.iter_mut().for_each(strip_addr);
            }
            AddrSpec::Not(inner, s) => {
                *s = Z;
                strip_addr(inner);
            }
        }
    }

    fn strip_port(p: &mut PortSpec) {
        match p {
            PortSpec::Any(s) => *s = Z,
            PortSpec::Port(n) => n.span = Z,
            PortSpec::Range(r) => r.span = Z,
            PortSpec::Var(v) => v.span = Z,
            PortSpec::List(l) => {
                l.span = Z;
                l.node.iter_mut().for_each(strip_port);
            }
            PortSpec::Not(inner, s) => {
                *s = Z;
                strip_port(inner);
            }
        }
    }

    fn strip_key(k: &mut KeySpec) {
        k.span = Z;
        k.parts.iter_mut().for_each(|p| p.span = Z);
    }

    fn strip_option(o: &mut RuleOption) {
        match o {
            RuleOption::Id(n) | RuleOption::Rev(n) => n.span = Z,
            RuleOption::Msg(s) | RuleOption::Class(s) | RuleOption::Reference(s) | RuleOption::Recommend(s) => {
                s.span = Z
            }
            RuleOption::Severity(s) => s.span = Z,
            RuleOption::Scope(s) => s.span = Z,
            RuleOption::Tags(t) => t.iter_mut().for_each(|t| t.span = Z),
            RuleOption::When(e) => strip_expr(e),
            RuleOption::Gid(n) => n.span = Z,
            RuleOption::Noalert(s) => *s = Z,
            RuleOption::Applies(s) => s.span = Z,
            RuleOption::Fixed(t) => {
                (t.span, t.kind.span, t.count.span, t.window.span) = (Z, Z, Z, Z);
                strip_key(&mut t.key);
            }
            RuleOption::Threshold(t) => {
                (t.span, t.count.span, t.window.span) = (Z, Z, Z);
                strip_key(&mut t.key);
            }
            RuleOption::Rate(r) => {
                (r.span, r.count.span, r.per.span) = (Z, Z, Z);
                strip_key(&mut r.key);
            }
            RuleOption::Limit(l) => {
                (l.span, l.count.span, l.window.span) = (Z, Z, Z);
                strip_key(&mut l.key);
            }
            RuleOption::Distinct(d) => {
                (d.span, d.count.span, d.window.span, d.field.span) = (Z, Z, Z, Z);
                strip_key(&mut d.key);
            }
        }
    }

    fn strip_expr(e: &mut Expr) {
        match e {
            Expr::And(v, s) | Expr::Or(v, s) => {
                *s = Z;
                v.iter_mut().for_each(strip_expr);
            }
            Expr::Not(inner, s) => {
                *s = Z;
                strip_expr(inner);
            }
            Expr::Test(t) => {
                (t.span, t.field.span, t.op.span) = (Z, Z, Z);
                strip_value(&mut t.value);
            }
            Expr::Field(f) => f.span = Z,
            Expr::Bool(b) => b.span = Z,
            Expr::Content(c) => {
                (c.span, c.field.span) = (Z, Z);
                c.items.iter_mut().for_each(|i| i.span = Z);
            }
        }
    }

    fn strip_value(v: &mut Value) {
        v.span = Z;
        match &mut v.kind {
            ValueKind::List(items) => items.iter_mut().for_each(strip_value),
            ValueKind::Range(a, b) => {
                strip_value(a);
                strip_value(b);
            }
            ValueKind::Not(inner) => strip_value(inner),
            _ => {}
        }
    }

    /// Prints, re-parses and re-prints `file`; both prints must agree and the re-parsed tree
    /// must equal `file` (spans aside). Returns the printed text.
    fn assert_round_trip(file: &RuleFile) -> String {
        let printed = file.to_string();
        let (reparsed, diags) = parse_rule_file(&printed);
        assert!(diags.is_empty(), "printed text does not parse:\n{printed}\n{diags:#?}");
        assert_eq!(reparsed.to_string(), printed);
        assert_eq!(strip_file(&reparsed), strip_file(file), "printed:\n{printed}");
        check_spans(&printed, &reparsed);
        printed
    }

    // ----- span exactness: the text under every span re-parses to that node -----

    fn text_at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    fn reparsed_value(text: &str) -> Value {
        let mut v = parse_value(text).unwrap_or_else(|d| panic!("{text:?}: {d:?}"));
        strip_value(&mut v);
        v
    }

    fn check_value_spans(text: &str, v: &Value) {
        if v.span.start == v.span.end {
            return; // a bound filled in for `1024:` / `:1023`, which has no text
        }
        let mut expected = v.clone();
        strip_value(&mut expected);
        assert_eq!(reparsed_value(text_at(text, v.span)), expected, "span {:?}", v.span);
        match &v.kind {
            ValueKind::List(items) => items.iter().for_each(|i| check_value_spans(text, i)),
            ValueKind::Range(a, b) => {
                check_value_spans(text, a);
                check_value_spans(text, b);
            }
            ValueKind::Not(inner) => check_value_spans(text, inner),
            _ => {}
        }
    }

    fn check_expr_spans(text: &str, e: &Expr) {
        let mut expected = e.clone();
        strip_expr(&mut expected);
        let mut got = parse_expr(text_at(text, e.span())).unwrap();
        strip_expr(&mut got);
        assert_eq!(got, expected, "span {:?}", e.span());
        match e {
            Expr::And(v, _) | Expr::Or(v, _) => v.iter().for_each(|x| check_expr_spans(text, x)),
            Expr::Not(inner, s) => {
                assert!(text_at(text, *s).starts_with("not"));
                check_expr_spans(text, inner);
            }
            Expr::Test(t) => {
                assert_eq!(text_at(text, t.field.span), t.field.name);
                let op = text_at(text, t.op.span).split_whitespace().collect::<Vec<_>>();
                assert_eq!(op.join(" "), t.op.node.as_str());
                check_value_spans(text, &t.value);
            }
            Expr::Field(f) => assert_eq!(text_at(text, f.span), f.name),
            Expr::Bool(b) => assert_eq!(text_at(text, b.span), b.node.to_string()),
            Expr::Content(c) => {
                assert_eq!(text_at(text, c.field.span), c.field.name);
                assert!(text_at(text, c.span).ends_with(']'));
            }
        }
    }

    fn check_addr_spans(text: &str, a: &AddrSpec) {
        match a {
            AddrSpec::Any(s) => assert_eq!(text_at(text, *s), "any"),
            AddrSpec::Net(n) => {
                assert_eq!(reparsed_value(text_at(text, n.span)).kind, ValueKind::Net(n.node))
            }
            AddrSpec::Var(v) => assert_eq!(text_at(text, v.span), format!("${}", v.node)),
            AddrSpec::List(l) => {
                let t = text_at(text, l.span);
                assert!(t.starts_with('[') && t.ends_with(']'));
                l.node.iter().for_each(|x| check_addr_spans(text, x));
            }
            AddrSpec::Not(inner, s) => {
                assert!(text_at(text, *s).starts_with('!'));
                check_addr_spans(text, inner);
            }
        }
    }

    fn check_port_spans(text: &str, p: &PortSpec) {
        match p {
            PortSpec::Any(s) => assert_eq!(text_at(text, *s), "any"),
            PortSpec::Port(n) => assert_eq!(text_at(text, n.span), n.node.to_string()),
            PortSpec::Range(r) => {
                assert_eq!(text_at(text, r.span), PortSpec::Range(r.clone()).to_string())
            }
            PortSpec::Var(v) => assert_eq!(text_at(text, v.span), format!("${}", v.node)),
            PortSpec::List(l) => {
                let t = text_at(text, l.span);
                assert!(t.starts_with('[') && t.ends_with(']'));
                l.node.iter().for_each(|x| check_port_spans(text, x));
            }
            PortSpec::Not(inner, s) => {
                assert!(text_at(text, *s).starts_with('!'));
                check_port_spans(text, inner);
            }
        }
    }

    /// A clause window read back through a `limit` clause.
    fn reparsed_duration(text: &str) -> u64 {
        let src = format!("alert ip any any -> any any {{ limit 1 per {text} by src }}");
        let (file, diags) = parse_rule_file(&src);
        assert!(diags.is_empty(), "{text:?}");
        match &file.items[..] {
            [Item::Rule(r)] => match &r.options[..] {
                [RuleOption::Limit(l)] => l.window.node,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    fn check_key_spans(text: &str, clause: Span, k: &KeySpec) {
        assert!(text_at(text, k.span).starts_with("by"));
        assert_eq!(k.span.end, clause.end, "a clause ends with its key");
        for part in &k.parts {
            assert_eq!(text_at(text, part.span), part.node.to_string());
        }
    }

    fn check_option_spans(text: &str, o: &RuleOption) {
        let quoted = |s: &Spanned<String>| {
            let v = reparsed_value(text_at(text, s.span));
            assert_eq!(v.kind, ValueKind::Str(s.node.clone()));
        };
        let number = |n: &Spanned<u64>| assert_eq!(text_at(text, n.span), n.node.to_string());
        let window = |w: &Spanned<u64>| assert_eq!(reparsed_duration(text_at(text, w.span)), w.node);
        match o {
            RuleOption::Id(n) | RuleOption::Rev(n) => number(n),
            RuleOption::Msg(s) | RuleOption::Reference(s) | RuleOption::Recommend(s) => quoted(s),
            RuleOption::Severity(s) => assert_eq!(text_at(text, s.span), s.node.to_string()),
            RuleOption::Class(c) => assert_eq!(text_at(text, c.span), c.node),
            RuleOption::Scope(s) => assert!(["src", "dst", "home"].contains(&text_at(text, s.span))),
            RuleOption::Tags(tags) => tags.iter().for_each(|t| assert_eq!(text_at(text, t.span), t.node)),
            RuleOption::When(e) => check_expr_spans(text, e),
            RuleOption::Gid(n) => number(n),
            RuleOption::Noalert(s) => assert_eq!(text_at(text, *s), "noalert"),
            RuleOption::Applies(s) => assert_eq!(text_at(text, s.span), s.node.keyword()),
            RuleOption::Fixed(t) => {
                assert!(text_at(text, t.span).starts_with("fixed"));
                number(&t.count);
                window(&t.window);
                check_key_spans(text, t.span, &t.key);
            }
            RuleOption::Threshold(t) => {
                assert!(text_at(text, t.span).starts_with("threshold"));
                number(&t.count);
                window(&t.window);
                check_key_spans(text, t.span, &t.key);
            }
            RuleOption::Limit(l) => {
                assert!(text_at(text, l.span).starts_with("limit"));
                number(&l.count);
                window(&l.window);
                check_key_spans(text, l.span, &l.key);
            }
            RuleOption::Rate(r) => {
                assert!(text_at(text, r.span).starts_with("rate"));
                assert_eq!(text_at(text, r.count.span).parse::<f64>().unwrap(), r.count.node);
                let per = text_at(text, r.per.span);
                let per = match per.starts_with(|c: char| c.is_ascii_digit()) {
                    true => per.to_string(),
                    false => format!("1{per}"),
                };
                assert_eq!(reparsed_duration(&per), r.per.node);
                check_key_spans(text, r.span, &r.key);
            }
            RuleOption::Distinct(d) => {
                assert!(text_at(text, d.span).starts_with("distinct"));
                assert_eq!(text_at(text, d.field.span), d.field.name);
                number(&d.count);
                window(&d.window);
                check_key_spans(text, d.span, &d.key);
            }
        }
    }

    /// Parses the text under an item's span on its own: it must give the same item.
    fn check_item_alone(text: &str, span: Span, item: &Item) {
        let (again, diags) = parse_rule_file(text_at(text, span));
        assert!(diags.is_empty(), "{diags:?}");
        let alone = RuleFile { items: vec![item.clone()] };
        assert_eq!(strip_file(&again), strip_file(&alone));
    }

    /// Checks that every span in `file` covers exactly the text of its node.
    fn check_spans(text: &str, file: &RuleFile) {
        for item in &file.items {
            match item {
                Item::Var(v) => {
                    check_item_alone(text, v.span, item);
                    assert_eq!(text_at(text, v.name.span), v.name.node);
                    check_value_spans(text, &v.value);
                }
                Item::Rule(r) => {
                    check_item_alone(text, r.span, item);
                    assert_eq!(text_at(text, r.action.span), r.action.node.to_string());
                    assert_eq!(text_at(text, r.proto.span), r.proto.node.to_string());
                    assert_eq!(text_at(text, r.direction.span), r.direction.node.to_string());
                    check_addr_spans(text, &r.src_addr);
                    check_addr_spans(text, &r.dst_addr);
                    check_port_spans(text, &r.src_port);
                    check_port_spans(text, &r.dst_port);
                    r.options.iter().for_each(|o| check_option_spans(text, o));
                }
            }
        }
    }

    // ----- unit tests -----

    #[test]
    fn durations_print_exactly_in_the_largest_unit() {
        assert_eq!(Duration(10_000_000_000).to_string(), "10s");
        assert_eq!(Duration(1_500_000_000).to_string(), "1500ms");
        assert_eq!(Duration(250).to_string(), "250ns");
        assert_eq!(Duration(60_000_000_000).to_string(), "1m");
        assert_eq!(Duration(7_200_000_000_000).to_string(), "2h");
        assert_eq!(Duration(3_000).to_string(), "3us");
        assert_eq!(Duration(0).to_string(), "0s");
        assert_eq!(Duration(u64::MAX).to_string(), "18446744073709551615ns");
        assert_eq!(Per(1_000_000_000).to_string(), "s");
        assert_eq!(Per(10_000_000_000).to_string(), "10s");
    }

    #[test]
    fn expressions_get_only_needed_parentheses() {
        for (src, printed) in [
            ("a or b and c", "a or b and c"),
            ("(a or b) and c", "(a or b) and c"),
            ("a or (b or c)", "a or (b or c)"),
            ("((a))", "a"),
            ("not (a and b)", "not (a and b)"),
            ("not not a", "not not a"),
            ("not a and b", "not a and b"),
            ("x  not   in [1,2,]", "x not in [1, 2]"),
            ("p matches /a\\/b/i", "p matches /a\\/b/i"),
        ] {
            assert_eq!(parse_expr(src).unwrap().to_string(), printed, "{src}");
        }
    }

    #[test]
    fn values_print_canonically() {
        for (src, printed) in [
            ("64KiB", "65536"),
            ("10s", "10000000000"),
            ("0x1f", "31"),
            ("-0", "-0"),
            ("5.8", "5.8"),
            ("0.1", "0.1"),
            ("10.0.0.1/32", "10.0.0.1"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("::1", "::1"),
            ("1024:", "1024..65535"),
            ("[ !1 , \"a\\\"b\\x01\" ,]", "[!1, \"a\\\"b\\x01\"]"),
            ("$X", "$X"),
            ("true", "true"),
        ] {
            assert_eq!(parse_value(src).unwrap().to_string(), printed, "{src}");
        }
    }

    #[test]
    fn a_rule_prints_in_canonical_layout() {
        let (file, diags) = parse_rule_file(
            "var A=[1,2]\nvar B = 3\nalert  icmp $A any->any [53,1024:] { id 1; tags x\n when a and b; rate > 2.5/10s by src,dns.domain }",
        );
        assert!(diags.is_empty());
        assert_eq!(
            file.to_string(),
            "var A = [1, 2]\nvar B = 3\n\nalert icmp $A any -> any [53, 1024:] {\n    id        1\n    tags      x\n    when      a and b\n    rate      > 2.5/10s by src, dns.domain\n}\n"
        );
    }

    #[test]
    fn every_example_file_round_trips() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/examples");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let (file, diags) = parse_rule_file(&text);
            assert!(diags.is_empty(), "{}", path.display());
            check_spans(&text, &file);
            assert_round_trip(&file);
        }
    }

    // ----- property tests: random trees survive print -> parse -> print -----

    #[allow(clippy::ptr_arg)] // proptest filters receive &String
    fn not_reserved(s: &String) -> bool {
        !crate::rules::parse::lex::is_reserved(s)
    }

    fn field_name() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,5}(\\.[a-z0-9_]{1,4}){0,2}".prop_filter("reserved", not_reserved)
    }

    fn word() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_-]{0,6}".prop_filter("reserved", not_reserved)
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z_][A-Za-z0-9_]{0,6}".prop_filter("reserved", not_reserved)
    }

    fn text() -> impl Strategy<Value = String> {
        let special = prop_oneof![
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('\t'),
            Just('\r'),
            Just('\0'),
            Just('#'),
            Just('{'),
            Just('é'),
            Just('\u{ff}'),
        ];
        prop::collection::vec(
            prop_oneof![any::<char>(), special, "[a-z ]".prop_map(|s| s.chars().next().unwrap_or('a'))],
            0..12,
        )
        .prop_map(String::from_iter)
    }

    fn regex_pattern() -> impl Strategy<Value = String> {
        let plain = any::<char>().prop_filter("slash-free", |c| *c != '\\' && *c != '\n');
        let escaped =
            any::<char>().prop_filter("escapable", |c| *c != '/' && *c != '\n').prop_map(|c| format!("\\{c}"));
        prop::collection::vec(
            prop_oneof![3 => plain.prop_map(String::from), 1 => escaped, 1 => Just("/".to_string())],
            0..10,
        )
        .prop_map(|parts| parts.concat())
    }

    fn number() -> impl Strategy<Value = f64> {
        prop_oneof![(-1000i64..1000).prop_map(|n| n as f64), any::<f64>().prop_filter("finite", |f| f.is_finite()),]
    }

    fn ip_net() -> impl Strategy<Value = IpNet> {
        prop_oneof![
            (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, prefix)| IpNet { addr: IpAddr::from(a), prefix }),
            (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, prefix)| IpNet { addr: IpAddr::from(a), prefix }),
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            number().prop_map(ValueKind::Number),
            text().prop_map(ValueKind::Str),
            ip_net().prop_map(ValueKind::Net),
            word().prop_map(ValueKind::Word),
            name().prop_map(ValueKind::Var),
            any::<bool>().prop_map(ValueKind::Bool),
            (regex_pattern(), "[imsx]{0,3}").prop_map(|(pattern, flags)| ValueKind::Regex { pattern, flags }),
            text().prop_map(ValueKind::File),
        ]
        .prop_map(val)
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            4 => scalar(),
            1 => (scalar(), scalar()).prop_map(|(a, b)| val(ValueKind::Range(Box::new(a), Box::new(b)))),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            let elem = prop_oneof![3 => inner.clone(), 1 => inner.prop_map(|v| val(ValueKind::Not(Box::new(v))))];
            prop::collection::vec(elem, 0..4).prop_map(|items| val(ValueKind::List(items)))
        })
    }

    fn test_expr() -> impl Strategy<Value = Expr> {
        let op = prop_oneof![
            Just(TestOp::Eq),
            Just(TestOp::Ne),
            Just(TestOp::Lt),
            Just(TestOp::Le),
            Just(TestOp::Gt),
            Just(TestOp::Ge),
            Just(TestOp::In),
            Just(TestOp::NotIn),
            Just(TestOp::Contains),
            Just(TestOp::StartsWith),
            Just(TestOp::EndsWith),
            Just(TestOp::Under),
        ];
        let regex = prop_oneof![
            (regex_pattern(), "[imsx]{0,2}").prop_map(|(pattern, flags)| val(ValueKind::Regex { pattern, flags })),
            name().prop_map(|n| val(ValueKind::Var(n))),
        ];
        let op_value = prop_oneof![4 => (op, value()), 1 => (Just(TestOp::Matches), regex)];
        (field_name(), op_value).prop_map(|(name, (op, value))| {
            Expr::Test(Test { field: FieldRef { name, span: Z }, op: sp(op), value, span: Z })
        })
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            4 => test_expr(),
            1 => field_name().prop_map(|name| Expr::Field(FieldRef { name, span: Z })),
            1 => any::<bool>().prop_map(|b| Expr::Bool(sp(b))),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(|v| Expr::And(v, Z)),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|v| Expr::Or(v, Z)),
                inner.prop_map(|e| Expr::Not(Box::new(e), Z)),
            ]
        })
    }

    fn addr() -> impl Strategy<Value = AddrSpec> {
        let leaf = prop_oneof![
            Just(AddrSpec::Any(Z)),
            ip_net().prop_map(|n| AddrSpec::Net(sp(n))),
            name().prop_map(|n| AddrSpec::Var(sp(n))),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| AddrSpec::List(sp(v))),
                inner.prop_map(|a| AddrSpec::Not(Box::new(a), Z)),
            ]
        })
    }

    fn port() -> impl Strategy<Value = PortSpec> {
        let range = (any::<Option<u16>>(), any::<Option<u16>>())
            .prop_filter("a valid range", |(lo, hi)| match (lo, hi) {
                (None, None) => false,
                (Some(l), Some(h)) => l <= h,
                _ => true,
            })
            .prop_map(|r| PortSpec::Range(sp(r)));
        let leaf = prop_oneof![
            Just(PortSpec::Any(Z)),
            any::<u16>().prop_map(|p| PortSpec::Port(sp(p))),
            range,
            name().prop_map(|n| PortSpec::Var(sp(n))),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| PortSpec::List(sp(v))),
                inner.prop_map(|p| PortSpec::Not(Box::new(p), Z)),
            ]
        })
    }

    fn key() -> impl Strategy<Value = KeySpec> {
        let part = prop_oneof![
            Just(KeyPart::Src),
            Just(KeyPart::Dst),
            Just(KeyPart::Pair),
            Just(KeyPart::Flow),
            Just(KeyPart::Rule),
            field_name()
                .prop_filter("not a key word", |f| !["src", "dst", "pair", "flow", "rule"].contains(&f.as_str()))
                .prop_map(KeyPart::Field),
        ];
        prop::collection::vec(part.prop_map(sp), 1..4).prop_map(|parts| KeySpec { parts, span: Z })
    }

    fn severity() -> impl Strategy<Value = Severity> {
        prop_oneof![
            Just(Severity::Info),
            Just(Severity::Low),
            Just(Severity::Medium),
            Just(Severity::High),
            Just(Severity::Critical),
        ]
    }

    fn option() -> impl Strategy<Value = RuleOption> {
        let rate_count = prop_oneof![(0u32..1000).prop_map(f64::from), (0.0f64..1e12)];
        prop_oneof![
            any::<u64>().prop_map(|n| RuleOption::Id(sp(n))),
            any::<u64>().prop_map(|n| RuleOption::Rev(sp(n))),
            text().prop_map(|s| RuleOption::Msg(sp(s))),
            severity().prop_map(|s| RuleOption::Severity(sp(s))),
            word().prop_map(|w| RuleOption::Class(sp(w))),
            prop::collection::vec(word().prop_map(sp), 0..4).prop_map(RuleOption::Tags),
            text().prop_map(|s| RuleOption::Reference(sp(s))),
            text().prop_map(|s| RuleOption::Recommend(sp(s))),
            expr().prop_map(RuleOption::When),
            (any::<u64>(), any::<u64>(), key()).prop_map(|(c, w, key)| RuleOption::Threshold(Threshold {
                count: sp(c),
                window: sp(w),
                key,
                span: Z
            })),
            (rate_count, any::<u64>(), key()).prop_map(|(c, per, key)| RuleOption::Rate(Rate {
                count: sp(c),
                per: sp(per),
                key,
                span: Z
            })),
            (any::<u64>(), any::<u64>(), key()).prop_map(|(c, w, key)| RuleOption::Limit(Limit {
                count: sp(c),
                window: sp(w),
                key,
                span: Z
            })),
            (field_name(), any::<u64>(), any::<u64>(), key()).prop_map(|(f, c, w, key)| {
                RuleOption::Distinct(Distinct {
                    field: FieldRef { name: f, span: Z },
                    count: sp(c),
                    window: sp(w),
                    key,
                    span: Z,
                })
            }),
        ]
    }

    fn option_key(o: &RuleOption) -> std::mem::Discriminant<RuleOption> {
        std::mem::discriminant(o)
    }

    /// Options without duplicates of the non-repeatable ones (duplicates are a parse error).
    fn options() -> impl Strategy<Value = Vec<RuleOption>> {
        prop::collection::vec(option(), 0..8).prop_map(|opts| {
            let mut seen = Vec::new();
            opts.into_iter()
                .filter(|o| {
                    let repeatable =
                        matches!(o, RuleOption::Tags(_) | RuleOption::Reference(_) | RuleOption::Recommend(_));
                    let fresh = !seen.contains(&option_key(o));
                    seen.push(option_key(o));
                    repeatable || fresh
                })
                .collect()
        })
    }

    fn rule() -> impl Strategy<Value = Rule> {
        let action = prop_oneof![Just(Action::Alert), Just(Action::Pass)];
        let proto = prop_oneof![
            Just(Proto::Ip),
            Just(Proto::Icmp),
            Just(Proto::Icmp6),
            Just(Proto::Tcp),
            Just(Proto::Udp),
            Just(Proto::Dns),
            Just(Proto::Arp),
        ];
        let direction = prop_oneof![Just(Direction::ToDst), Just(Direction::Both)];
        (action, proto, addr(), port(), direction, addr(), port(), options()).prop_map(
            |(action, proto, src_addr, src_port, direction, dst_addr, dst_port, options)| Rule {
                action: sp(action),
                proto: sp(proto),
                src_addr,
                src_port,
                direction: sp(direction),
                dst_addr,
                dst_port,
                options,
                span: Z,
            },
        )
    }

    fn var_decl() -> impl Strategy<Value = VarDecl> {
        let value = prop_oneof![3 => value(), 1 => value().prop_map(|v| val(ValueKind::Not(Box::new(v))))];
        (name(), value).prop_map(|(n, value)| VarDecl { name: sp(n), value, span: Z })
    }

    fn rule_file() -> impl Strategy<Value = RuleFile> {
        let item = prop_oneof![var_decl().prop_map(Item::Var), rule().prop_map(Item::Rule)];
        prop::collection::vec(item, 0..5).prop_map(|items| RuleFile { items })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_files_round_trip(file in rule_file()) {
            assert_round_trip(&file);
        }

        #[test]
        fn random_expressions_round_trip(e in expr()) {
            let printed = e.to_string();
            let mut reparsed = parse_expr(&printed).map_err(|d| TestCaseError::fail(format!("{printed}: {d:?}")))?;
            prop_assert_eq!(reparsed.to_string(), printed.clone());
            strip_expr(&mut reparsed);
            prop_assert_eq!(reparsed, e);
        }

        #[test]
        fn random_values_round_trip(v in value()) {
            let printed = v.to_string();
            let mut reparsed = parse_value(&printed).map_err(|d| TestCaseError::fail(format!("{printed}: {d:?}")))?;
            prop_assert_eq!(reparsed.to_string(), printed.clone());
            strip_value(&mut reparsed);
            prop_assert_eq!(reparsed, v);
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_rule_file(&text);
            let _ = parse_value(&text);
            let _ = parse_expr(&text);
        }

        #[test]
        fn mangled_rules_never_panic_and_report_errors_in_bounds(
            cut in 0usize..400,
            insert in prop::sample::select(vec!["", "{", "}", "\"", "/", "(", "[", "!", "$", "\\", "\n", ":", "..", "é", "#"]),
        ) {
            let base = "var A = [1..5, \"x\", /r/i]\nalert dns $A any -> any 53 {\n    id 1; msg \"m\"\n    when a.b in [1, 2] and not (c matches /x\\/y/ or d)\n    rate > 3/s by src\n}\n";
            let cut = (0..=cut.min(base.len())).rev().find(|&i| base.is_char_boundary(i)).unwrap_or(0);
            let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
            let (_, diags) = parse_rule_file(&text);
            for d in diags {
                prop_assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "{:?} in {:?}", d, text);
                prop_assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end));
                let _ = d.render("x.rules", &text).to_string();
            }
        }
    }
}
