//! The syntax tree of a rule file, exactly as written.
//!
//! The parser builds these nodes and nothing else; every node that a later
//! stage may complain about carries a [`Span`] so that the complaint can point
//! at the text. Nothing here knows about packets: the compile step in
//! `engine::compile` resolves field names, variables and types.

use crate::rules::span::Span;

/// A value together with the text it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The parsed value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// A whole rule file: variable definitions and rules, in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RuleFile {
    /// Items in the order they appear.
    pub items: Vec<Item>,
}

/// One top-level item of a rule file.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `var NAME = VALUE`
    Var(VarDecl),
    /// `alert icmp ... { ... }`
    Rule(Rule),
}

/// `var HOME_NET = [10.0.0.0/8, 192.168.0.0/16]`: a named value usable as
/// `$HOME_NET` in headers and conditions of the rules that follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct VarDecl {
    /// The name, without `$`.
    pub name: Spanned<String>,
    /// The value: an address list, port list, number, string, ...
    pub value: Value,
    /// The whole declaration.
    pub span: Span,
}

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Raise an alert.
    Alert,
    /// Suppress every alert on the packet (an allowlist entry).
    Pass,
}

/// The protocol a rule applies to; it decides which fields the rule may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// Any IPv4 or IPv6 packet.
    Ip,
    /// ICMPv4.
    Icmp,
    /// ICMPv6.
    Icmp6,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// DNS over UDP or TCP port 53.
    Dns,
    /// ARP.
    Arp,
}

impl Proto {
    /// The protocol's keyword in the rule language.
    pub fn keyword(self) -> &'static str {
        match self {
            Proto::Ip => "ip",
            Proto::Icmp => "icmp",
            Proto::Icmp6 => "icmp6",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Dns => "dns",
            Proto::Arp => "arp",
        }
    }
}

/// `->` (source to destination) or `<>` (either direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The header's source side must be the packet's source.
    ToDst,
    /// The header matches the packet in either direction.
    Both,
}

/// A rule: header plus the option block between braces.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// `alert` or `pass`.
    pub action: Spanned<Action>,
    /// `ip`, `icmp`, `dns`, ...
    pub proto: Spanned<Proto>,
    /// Source addresses.
    pub src_addr: AddrSpec,
    /// Source ports.
    pub src_port: PortSpec,
    /// `->` or `<>`.
    pub direction: Spanned<Direction>,
    /// Destination addresses.
    pub dst_addr: AddrSpec,
    /// Destination ports.
    pub dst_port: PortSpec,
    /// Options in the order written.
    pub options: Vec<RuleOption>,
    /// From the action to the closing brace.
    pub span: Span,
}

/// An address set in a rule header.
#[derive(Clone, Debug, PartialEq)]
pub enum AddrSpec {
    /// `any`
    Any(Span),
    /// `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32` (a bare address is a /32 or /128).
    Net(Spanned<IpNet>),
    /// `$HOME_NET`
    Var(Spanned<String>),
    /// `[a, b, !c]`
    List(Spanned<Vec<AddrSpec>>),
    /// `!a`
    Not(Box<AddrSpec>, Span),
}

/// A port set in a rule header.
#[derive(Clone, Debug, PartialEq)]
pub enum PortSpec {
    /// `any`
    Any(Span),
    /// `53`
    Port(Spanned<u16>),
    /// `1024:65535`, `1024:` or `:1023` (bounds inclusive; a missing bound is open).
    Range(Spanned<(Option<u16>, Option<u16>)>),
    /// `$DNS_PORTS`
    Var(Spanned<String>),
    /// `[53, 5353, 8000:8100]`
    List(Spanned<Vec<PortSpec>>),
    /// `!53`
    Not(Box<PortSpec>, Span),
}

/// An IPv4 or IPv6 network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The address as written (host bits are masked off by the compiler).
    pub addr: std::net::IpAddr,
    /// Prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub prefix: u8,
}

/// One `key value` line inside a rule's braces.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleOption {
    /// `id 1000001`: the rule's unique signature id.
    Id(Spanned<u64>),
    /// `rev 2`
    Rev(Spanned<u64>),
    /// `msg "text with {field} and {field:.2}"`
    Msg(Spanned<String>),
    /// `severity critical`
    Severity(Spanned<Severity>),
    /// `class covert-channel`
    Class(Spanned<String>),
    /// `tags [icmp, tunnel]` (or a single word)
    Tags(Vec<Spanned<String>>),
    /// `reference "https://..."` (may be repeated)
    Reference(Spanned<String>),
    /// `recommend "Isolate {src} and {dst}"` (may be repeated)
    Recommend(Spanned<String>),
    /// `when EXPR`: the condition.
    When(Expr),
    /// `threshold 5 within 10s by pair`
    Threshold(Threshold),
    /// `rate > 3/s by src`
    Rate(Rate),
    /// `limit 1 per 60s by src`
    Limit(Limit),
    /// `distinct dns.subdomain > 100 within 60s by src, dns.domain`
    Distinct(Distinct),
    /// `scope src`: which address picks the network for network-scoped variables.
    Scope(Spanned<ScopeSide>),
    /// `gid 1`: the generator id alerts carry (`[gid:sid:rev]`, EVE `gid`); default 1.
    Gid(Spanned<u64>),
    /// `noalert`: the rule matches and counts, but raises no alert (Suricata's `noalert`).
    Noalert(Span),
    /// `applies flow`: a pass rule that matches silences the rest of the packet's flow, both
    /// ways, as Suricata's `pass` does (`applies packet`, the default: only this packet).
    Applies(Spanned<PassScope>),
    /// `fixed threshold 5 per 60s by src`: Suricata's `threshold` / `detection_filter`,
    /// counted in fixed windows that start at a key's first match.
    Fixed(Fixed),
}

/// What a matching pass rule silences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PassScope {
    /// The packet only.
    Packet,
    /// The packet and every later packet of its flow, both directions.
    Flow,
}

impl PassScope {
    /// The keyword in the rule language.
    pub fn keyword(self) -> &'static str {
        match self {
            PassScope::Packet => "packet",
            PassScope::Flow => "flow",
        }
    }
}

/// How a [`Fixed`] clause decides, as Suricata's threshold types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FixedKind {
    /// `limit`: the first N matches of each window alert.
    Limit,
    /// `threshold`: every Nth match of a window alerts.
    Threshold,
    /// `both`: the Nth match of a window alerts, once.
    Both,
    /// `detection_filter`: every match after the Nth of a window alerts.
    DetectionFilter,
}

impl FixedKind {
    /// Every kind, in documentation order.
    pub const ALL: [FixedKind; 4] =
        [FixedKind::Limit, FixedKind::Threshold, FixedKind::Both, FixedKind::DetectionFilter];

    /// The keyword in the rule language (Suricata's name).
    pub fn keyword(self) -> &'static str {
        match self {
            FixedKind::Limit => "limit",
            FixedKind::Threshold => "threshold",
            FixedKind::Both => "both",
            FixedKind::DetectionFilter => "detection_filter",
        }
    }
}

/// `fixed KIND N per T by KEY`: counts a key's matches in a window of T that
/// opens at its first match and, once T has passed, at the next match.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixed {
    /// limit, threshold, both, detection_filter.
    pub kind: Spanned<FixedKind>,
    /// N
    pub count: Spanned<u64>,
    /// T, in nanoseconds.
    pub window: Spanned<u64>,
    /// KEY
    pub key: KeySpec,
    /// The whole clause.
    pub span: Span,
}

/// Which of a packet's addresses selects its network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopeSide {
    /// The source address.
    Src,
    /// The destination address.
    Dst,
    /// The side the rule header names `$HOME_NET`, else the source.
    Home,
}

/// Alert severity, highest last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The severity's keyword in the rule language (also how alerts and reports name it).
    pub fn keyword(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// `threshold N within T by KEY`: alert once a key has matched N times within T.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// N
    pub count: Spanned<u64>,
    /// T, in nanoseconds.
    pub window: Spanned<u64>,
    /// KEY
    pub key: KeySpec,
    /// The whole clause.
    pub span: Span,
}

/// `rate > N/T by KEY`: alert when matches per key exceed N per T.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    /// N
    pub count: Spanned<f64>,
    /// T, in nanoseconds (`/s` is one second, `/10s` ten).
    pub per: Spanned<u64>,
    /// KEY
    pub key: KeySpec,
    /// The whole clause.
    pub span: Span,
}

/// `limit N per T by KEY`: at most N alerts per key per T.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// N
    pub count: Spanned<u64>,
    /// T, in nanoseconds.
    pub window: Spanned<u64>,
    /// KEY
    pub key: KeySpec,
    /// The whole clause.
    pub span: Span,
}

/// `distinct FIELD > N within T by KEY`.
#[derive(Clone, Debug, PartialEq)]
pub struct Distinct {
    /// The field whose distinct values are counted.
    pub field: FieldRef,
    /// N
    pub count: Spanned<u64>,
    /// T, in nanoseconds.
    pub window: Spanned<u64>,
    /// KEY
    pub key: KeySpec,
    /// The whole clause.
    pub span: Span,
}

/// The key a stateful clause tracks: `by src`, `by pair`, `by src, dns.domain`.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySpec {
    /// Parts of the key, in order.
    pub parts: Vec<Spanned<KeyPart>>,
    /// From `by` to the last part.
    pub span: Span,
}

/// One part of a state key.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyPart {
    /// The packet's source address.
    Src,
    /// The packet's destination address.
    Dst,
    /// Both addresses, unordered (a->b and b->a are one key).
    Pair,
    /// The ordered 5-tuple.
    Flow,
    /// One key for the whole rule.
    Rule,
    /// Any packet field, e.g. `dns.domain`.
    Field(String),
}

/// A field reference such as `payload.entropy` or `dns.qname.len`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// The dotted name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A boolean condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a and b and c` (two or more operands).
    And(Vec<Expr>, Span),
    /// `a or b or c` (two or more operands).
    Or(Vec<Expr>, Span),
    /// `not a`
    Not(Box<Expr>, Span),
    /// `field OP value`, `field in [..]`, `field matches /re/`, ...
    Test(Test),
    /// A boolean field used on its own: `dns.is_response`.
    Field(FieldRef),
    /// `true` or `false`.
    Bool(Spanned<bool>),
    /// `payload has ["GET " depth 4, "host" nocase distance 0]`: Suricata-style content matching.
    Content(ContentTest),
}

/// `FIELD has [ITEM, ...]`: patterns matched in order in one buffer, each at
/// a position fixed by its modifiers or relative to the previous match.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentTest {
    /// The buffer (`payload`, `dns.qname`).
    pub field: FieldRef,
    /// The patterns, in order.
    pub items: Vec<ContentItem>,
    /// The whole test.
    pub span: Span,
}

/// A pattern to find in a buffer.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// Bytes, written as a string (characters up to U+00FF stand for one byte).
    Bytes(String),
    /// A regex, flags from `imsx`.
    Regex {
        /// The pattern between the slashes.
        pattern: String,
        /// The flag letters.
        flags: String,
    },
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern::Bytes(String::new())
    }
}

/// One pattern of a [`ContentTest`] with its position modifiers (Suricata's meaning).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ContentItem {
    /// The bytes or regex.
    pub pattern: Pattern,
    /// `!"x"`: the pattern must not be found where the modifiers say.
    pub negated: bool,
    /// `nocase`: ASCII case is ignored.
    pub nocase: bool,
    /// `offset N`: start looking N bytes into the buffer.
    pub offset: Option<i64>,
    /// `depth N`: look only at the N bytes from the offset.
    pub depth: Option<i64>,
    /// `distance N`: start N bytes after the end of the previous match (may be negative).
    pub distance: Option<i64>,
    /// `within N`: end at most N bytes after the previous match (plus distance).
    pub within: Option<i64>,
    /// `startswith`: at the start of the buffer.
    pub startswith: bool,
    /// `endswith`: ending at the end of the buffer.
    pub endswith: bool,
    /// `relative`: a regex searched from the end of the previous match.
    pub relative: bool,
    /// `fast_pattern`: accepted and kept (ferret has no prefilter to steer).
    pub fast_pattern: bool,
    /// The item's text.
    pub span: Span,
}

impl ContentItem {
    /// True when the item's position depends on the previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some() || self.relative
    }
}

impl Expr {
    /// The text the expression covers.
    pub fn span(&self) -> Span {
        match self {
            Expr::And(_, s) | Expr::Or(_, s) | Expr::Not(_, s) => *s,
            Expr::Test(t) => t.span,
            Expr::Field(f) => f.span,
            Expr::Bool(b) => b.span,
            Expr::Content(c) => c.span,
        }
    }
}

/// A test of one field against a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// The field on the left.
    pub field: FieldRef,
    /// The operator.
    pub op: Spanned<TestOp>,
    /// The value on the right.
    pub value: Value,
    /// The whole test.
    pub span: Span,
}

/// Operators between a field and a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in` (the value is a list or a range)
    In,
    /// `not in`
    NotIn,
    /// `contains`
    Contains,
    /// `starts_with`
    StartsWith,
    /// `ends_with`
    EndsWith,
    /// `matches` (the value is a regex literal)
    Matches,
    /// `under`: a DNS name equals one of the listed domains or lies below one.
    Under,
}

impl TestOp {
    /// The operator as written in the language.
    pub fn as_str(self) -> &'static str {
        match self {
            TestOp::Eq => "==",
            TestOp::Ne => "!=",
            TestOp::Lt => "<",
            TestOp::Le => "<=",
            TestOp::Gt => ">",
            TestOp::Ge => ">=",
            TestOp::In => "in",
            TestOp::NotIn => "not in",
            TestOp::Contains => "contains",
            TestOp::StartsWith => "starts_with",
            TestOp::EndsWith => "ends_with",
            TestOp::Matches => "matches",
            TestOp::Under => "under",
        }
    }
}

/// A literal value (or a variable standing for one).
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What kind of value.
    pub kind: ValueKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of literal values.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A number; integers and decimals alike. Units are already applied:
    /// sizes are in bytes (`1KiB` = 1024), durations in nanoseconds (`10s`).
    Number(f64),
    /// `"text"` with `\"`, `\\`, `\n`, `\t`, `\xHH` escapes resolved.
    Str(String),
    /// An address or network: `10.0.0.1`, `10.0.0.0/8`, `::1`.
    Net(IpNet),
    /// A bare word, e.g. a DNS type name `TXT` or a flag name `SYN`.
    Word(String),
    /// `$NAME`
    Var(String),
    /// `[v, v, ...]`
    List(Vec<Value>),
    /// `a..b`, inclusive at both ends.
    Range(Box<Value>, Box<Value>),
    /// `/pattern/flags`: flags from `i`, `m`, `s`, `x`.
    Regex {
        /// The pattern between the slashes (`\/` unescaped to `/`).
        pattern: String,
        /// The flag letters after the closing slash.
        flags: String,
    },
    /// `true` / `false`
    Bool(bool),
    /// `!v`: negation inside an address or port list held by a variable.
    Not(Box<Value>),
    /// `file("path")`: the non-empty, non-comment lines of a data file, as a list
    /// of strings. The loader reads the file (relative to the rule file) and
    /// replaces this node by that list before compiling.
    File(String),
}
