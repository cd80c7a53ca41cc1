//! The rule header: protocol, source and destination addresses and ports, and the direction
//! arrow, with Suricata's list syntax (`[a, !b]`, `$VAR`, port ranges `1024:`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::tag;
use nom::character::complete::digit1;
use nom::Err;

use crate::rules::ast::{AddrSpec, Direction, IpNet, PortSpec, Proto, Spanned};

use super::expect::{did_you_mean, fail, fail_help, failure, PError, PResult, Tok};
use super::lex::{ident, ip_run, is_word_char, keyword, split_while, word, ws, PROTOCOLS};
use super::{Cx, MAX_DEPTH};

impl<'s> Cx<'s> {
    pub(super) fn proto(&self, i: &'s str) -> PResult<'s, Spanned<Proto>> {
        let at = ws(i);
        let Some((w, rest)) = word(at) else {
            return self.cut_after(self.expected(at, Tok::Protocol), at, Tok::Protocol, "alert");
        };
        match PROTOCOLS.iter().find(|(name, _)| *name == w) {
            Some(&(_, proto)) => Ok((rest, Spanned::new(proto, self.span(at, rest)))),
            None => {
                let names: Vec<&str> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
                let help = did_you_mean(w, names.iter().copied())
                    .map(|c| format!("did you mean '{c}'?"))
                    .unwrap_or_else(|| format!("protocols are {}", names.join(", ")));
                fail_help(at, w.len(), format!("unknown protocol '{w}'"), "not a protocol", help)
            }
        }
    }

    pub(super) fn direction(&self, i: &'s str) -> PResult<'s, Spanned<Direction>> {
        let at = ws(i);
        let arrow: PResult<&str> = tag("->")(at);
        let both: PResult<&str> = tag("<>")(at);
        match (arrow, both) {
            (Ok((rest, _)), _) => Ok((rest, Spanned::new(Direction::ToDst, self.span(at, rest)))),
            (_, Ok((rest, _))) => Ok((rest, Spanned::new(Direction::Both, self.span(at, rest)))),
            _ => {
                self.note(at, Tok::Arrow);
                self.note(at, Tok::BothArrow);
                let set = Tok::Arrow.bit() | Tok::BothArrow.bit();
                Err(Err::Failure(PError::expected(at, set, None)))
            }
        }
    }

    // ----- header addresses and ports -----

    pub(super) fn addr(&self, i: &'s str, depth: usize) -> PResult<'s, AddrSpec> {
        let at = ws(i);
        if let Some(rest) = at.strip_prefix('!') {
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.addr(rest, d);
                self.cut_after(r, rest, Tok::Address, "!")
            })?;
            return Ok((rest, AddrSpec::Not(Box::new(inner), self.span(at, rest))));
        }
        if at.starts_with('[') {
            let (rest, items) = self.nested(at, depth, |d| self.header_list(at, Tok::Address, |i| self.addr(i, d)))?;
            return Ok((rest, AddrSpec::List(Spanned::new(items, self.span(at, rest)))));
        }
        if let Some(rest) = keyword(at, "any") {
            return Ok((rest, AddrSpec::Any(self.span(at, rest))));
        }
        if let Some((rest, name)) = self.var_ref(at)? {
            return Ok((rest, AddrSpec::Var(name)));
        }
        let looks_like_ip =
            at.get(..ip_run(at)).is_some_and(|run| run.contains(':')) || at.starts_with(|c: char| c.is_ascii_digit());
        if looks_like_ip {
            let (rest, net) = self.ip_net(at)?;
            self.boundary(rest, at, "address")?;
            return Ok((rest, AddrSpec::Net(Spanned::new(net, self.span(at, rest)))));
        }
        self.expected(at, Tok::Address)
    }

    pub(super) fn port(&self, i: &'s str, depth: usize) -> PResult<'s, PortSpec> {
        let at = ws(i);
        if let Some(rest) = at.strip_prefix('!') {
            let (rest, inner) = self.nested(at, depth, |d| {
                let r = self.port(rest, d);
                self.cut_after(r, rest, Tok::Port, "!")
            })?;
            return Ok((rest, PortSpec::Not(Box::new(inner), self.span(at, rest))));
        }
        if at.starts_with('[') {
            let (rest, items) = self.nested(at, depth, |d| self.header_list(at, Tok::Port, |i| self.port(i, d)))?;
            return Ok((rest, PortSpec::List(Spanned::new(items, self.span(at, rest)))));
        }
        if let Some(rest) = keyword(at, "any") {
            return Ok((rest, PortSpec::Any(self.span(at, rest))));
        }
        if let Some((rest, name)) = self.var_ref(at)? {
            return Ok((rest, PortSpec::Var(name)));
        }
        if !at.starts_with(|c: char| c.is_ascii_digit() || c == ':') {
            return self.expected(at, Tok::Port);
        }
        let (rest, low) = self.opt_port_number(at)?;
        let (rest, spec) = match rest.strip_prefix(':') {
            Some(after) => {
                let (after, high) = self.opt_port_number(after)?;
                if low.is_none() && high.is_none() {
                    return fail(at, 1, "expected a port before or after ':'", "empty port range");
                }
                self.check_port_order(at, after, low, high)?;
                (after, PortSpec::Range(Spanned::new((low, high), self.span(at, after))))
            }
            None => match low {
                Some(p) => (rest, PortSpec::Port(Spanned::new(p, self.span(at, rest)))),
                None => return self.expected(at, Tok::Port),
            },
        };
        self.boundary(rest, at, "port")?;
        Ok((rest, spec))
    }

    pub(super) fn opt_port_number(&self, i: &'s str) -> PResult<'s, Option<u16>> {
        let digits: PResult<&str> = digit1(i);
        match digits {
            Ok((rest, d)) => self.port_number(i, d).map(|p| (rest, Some(p))),
            Err(_) => Ok((i, None)),
        }
    }

    /// A port number; `at` is where its digits `d` start.
    pub(super) fn port_number(&self, at: &'s str, d: &str) -> Result<u16, Err<PError>> {
        match d.parse::<u32>() {
            Ok(p) if p <= 65535 => Ok(p as u16),
            _ => Err(Err::Failure(PError::message(
                at,
                d.len(),
                format!("port {d} out of range"),
                "ports are 0 to 65535",
            ))),
        }
    }

    pub(super) fn check_port_order(
        &self,
        at: &'s str,
        end: &'s str,
        low: Option<u16>,
        high: Option<u16>,
    ) -> Result<(), Err<PError>> {
        match (low, high) {
            (Some(l), Some(h)) if l > h => Err(Err::Failure(PError::message(
                at,
                at.len() - end.len(),
                format!("empty port range {l}:{h}"),
                "the first port is greater than the second",
            ))),
            _ => Ok(()),
        }
    }

    /// `[item, item, ...]` in a rule header; at least one item, trailing comma allowed.
    pub(super) fn header_list<T>(
        &self,
        at: &'s str,
        what: Tok,
        mut item: impl FnMut(&'s str) -> PResult<'s, T>,
    ) -> PResult<'s, Vec<T>> {
        let (rest, items) = self.list(at, what, &mut item)?;
        if items.is_empty() {
            let len = at.len() - rest.len();
            let label = format!("write at least one {}", if what == Tok::Port { "port" } else { "address" });
            return fail(at, len, "empty list in rule header", label);
        }
        Ok((rest, items))
    }

    /// `[item, item, ...]` (possibly empty, trailing comma allowed); `at` starts with `[`.
    pub(super) fn list<T>(
        &self,
        at: &'s str,
        what: Tok,
        item: &mut impl FnMut(&'s str) -> PResult<'s, T>,
    ) -> PResult<'s, Vec<T>> {
        let mut i = at.get(1..).unwrap_or("");
        let mut items = Vec::new();
        loop {
            let next = ws(i);
            if let Some(rest) = next.strip_prefix(']') {
                return Ok((rest, items));
            }
            self.note(next, Tok::RBracket);
            let (rest, v) = match item(next) {
                Ok(ok) => ok,
                Err(Err::Error(e)) if e.rem == next.len() => {
                    let set = what.bit() | Tok::RBracket.bit();
                    return Err(Err::Failure(PError::expected(next, set, None)));
                }
                Err(Err::Error(e)) => return Err(Err::Failure(e)),
                Err(e) => return Err(e),
            };
            items.push(v);
            let sep = ws(rest);
            if let Some(rest) = sep.strip_prefix(',') {
                i = rest;
            } else if let Some(rest) = sep.strip_prefix(']') {
                return Ok((rest, items));
            } else {
                self.note(sep, Tok::Comma);
                self.note(sep, Tok::RBracket);
                let set = Tok::Comma.bit() | Tok::RBracket.bit();
                return Err(Err::Failure(PError::expected(sep, set, None)));
            }
        }
    }

    /// Runs `p` one level deeper, or fails cleanly at `at` past [`MAX_DEPTH`].
    pub(super) fn nested<T>(
        &self,
        at: &'s str,
        depth: usize,
        p: impl FnOnce(usize) -> PResult<'s, T>,
    ) -> PResult<'s, T> {
        if depth >= MAX_DEPTH {
            return fail(
                at,
                1,
                format!("nested too deeply (more than {MAX_DEPTH} levels)"),
                "nesting limit reached here",
            );
        }
        p(depth + 1)
    }

    /// `$NAME`, if `at` starts with `$`.
    pub(super) fn var_ref(&self, at: &'s str) -> Result<Option<(&'s str, Spanned<String>)>, Err<PError>> {
        let Some(after) = at.strip_prefix('$') else {
            return Ok(None);
        };
        match ident(after) {
            Some((name, rest)) => Ok(Some((rest, Spanned::new(name.to_string(), self.span(at, rest))))),
            None => Err(Err::Failure(PError::expected(after, Tok::VarName.bit(), Some("$")))),
        }
    }

    /// Fails if an address, port or number runs straight into more word characters.
    pub(super) fn boundary(&self, rest: &'s str, at: &'s str, what: &str) -> Result<(), Err<PError>> {
        let stray_dot = rest.starts_with('.') && !rest.starts_with("..");
        if stray_dot || rest.starts_with(|c: char| is_word_char(c) || c == ':') {
            let tail = split_while(rest, |c| is_word_char(c) || c == '.' || c == ':').0;
            let len = at.len() - rest.len() + tail.len();
            let text = at.get(..len).unwrap_or("");
            return Err(failure(at, len, format!("invalid {what} '{text}'"), format!("not a valid {what}")));
        }
        Ok(())
    }

    /// An IPv4 or IPv6 address with an optional `/prefix`.
    pub(super) fn ip_net(&self, at: &'s str) -> PResult<'s, IpNet> {
        let (run, rest) = at.split_at_checked(ip_run(at)).unwrap_or((at, ""));
        let addr = if run.contains(':') {
            match run.parse::<Ipv6Addr>() {
                Ok(a) => IpAddr::V6(a),
                Err(_) => return fail(at, run.len(), format!("invalid IPv6 address '{run}'"), "not an IPv6 address"),
            }
        } else {
            IpAddr::V4(self.ipv4(at, run)?)
        };
        let (rest, prefix) = self.prefix(rest, addr)?;
        Ok((rest, IpNet { addr, prefix }))
    }

    /// A dotted quad; `run` is the candidate text at `at`.
    pub(super) fn ipv4(&self, at: &'s str, run: &str) -> Result<Ipv4Addr, Err<PError>> {
        let invalid = || {
            Err::Failure(PError::message(
                at,
                run.len(),
                format!("invalid IPv4 address '{run}'"),
                "expected four numbers 0-255 separated by '.'",
            ))
        };
        let mut octets = [0u8; 4];
        let mut parts = run.split('.');
        let mut offset = 0;
        for slot in &mut octets {
            let part = parts.next().ok_or_else(invalid)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            *slot = match part.parse::<u32>() {
                Ok(v) if v <= 255 => v as u8,
                _ => {
                    let octet_at = at.get(offset..).unwrap_or(at);
                    return Err(Err::Failure(PError::message(
                        octet_at,
                        part.len(),
                        format!("invalid IPv4 address '{run}'"),
                        format!("{part} is greater than 255"),
                    )));
                }
            };
            offset += part.len() + 1;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(Ipv4Addr::from(octets))
    }

    /// `/N` after an address (or nothing, meaning a single host).
    pub(super) fn prefix(&self, i: &'s str, addr: IpAddr) -> PResult<'s, u8> {
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let Some(after) = i.strip_prefix('/') else {
            return Ok((i, max));
        };
        let digits: PResult<&str> = digit1(after);
        let Ok((rest, d)) = digits else {
            return fail(i, 1, "expected a prefix length after '/'", "expected a number");
        };
        match d.parse::<u16>() {
            Ok(p) if p <= u16::from(max) => Ok((rest, p as u8)),
            _ => {
                let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
                fail(
                    after,
                    d.len(),
                    format!("prefix length {d} out of range"),
                    format!("{family} prefixes are 0 to {max}"),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ast::{AddrSpec, IpNet, PortSpec};

    use crate::rules::parse::test_support::*;

    fn header(src: &str, dst: &str) -> (AddrSpec, PortSpec, String) {
        let text = format!("alert ip {src} -> {dst} {{}}");
        let rule = only_rule(&text);
        (rule.src_addr, rule.src_port, text)
    }

    #[test]
    fn header_addresses() {
        let (a, _, _) = header("10.0.0.1 any", "any any");
        assert!(matches!(a, AddrSpec::Net(n) if n.node == IpNet { addr: "10.0.0.1".parse().unwrap(), prefix: 32 }));
        let (a, _, t) = header("2001:db8::/32 any", "any any");
        let AddrSpec::Net(n) = a else { panic!() };
        assert_eq!(n.node.prefix, 32);
        assert_eq!(at(&t, n.span), "2001:db8::/32");
        let (a, _, _) = header("::1 any", "any any");
        assert!(matches!(a, AddrSpec::Net(n) if n.node.prefix == 128));
        let (a, _, t) = header("[10.0.0.0/8, ![192.168.0.0/16, $X], fe80::/10] any", "any any");
        let AddrSpec::List(list) = a else { panic!() };
        assert_eq!(at(&t, list.span), "[10.0.0.0/8, ![192.168.0.0/16, $X], fe80::/10]");
        let AddrSpec::Not(inner, span) = &list.node[1] else { panic!() };
        assert_eq!(at(&t, *span), "![192.168.0.0/16, $X]");
        let AddrSpec::List(inner) = &**inner else { panic!() };
        assert!(matches!(&inner.node[1], AddrSpec::Var(v) if v.node == "X" && at(&t, v.span) == "$X"));
        let (a, _, _) = header("!any any", "any any");
        assert!(matches!(a, AddrSpec::Not(b, _) if matches!(*b, AddrSpec::Any(_))));
    }

    #[test]
    fn header_ports() {
        let port = |p: &str| header(&format!("any {p}"), "any any").1;
        assert!(matches!(port("53"), PortSpec::Port(p) if p.node == 53));
        assert!(matches!(port("1024:65535"), PortSpec::Range(r) if r.node == (Some(1024), Some(65535))));
        assert!(matches!(port("1024:"), PortSpec::Range(r) if r.node == (Some(1024), None)));
        assert!(matches!(port(":1023"), PortSpec::Range(r) if r.node == (None, Some(1023))));
        assert!(matches!(port("$DNS_PORTS"), PortSpec::Var(v) if v.node == "DNS_PORTS"));
        assert!(matches!(port("!53"), PortSpec::Not(p, _) if matches!(*p, PortSpec::Port(_))));
        let (_, p, t) = header("any [53, [5353, 8000:8100],]", "any any");
        let PortSpec::List(list) = p else { panic!() };
        assert_eq!(list.node.len(), 2);
        assert_eq!(at(&t, list.span), "[53, [5353, 8000:8100],]");
    }

    #[test]
    fn error_wrong_direction() {
        let d = error("alert icmp $HOME_NET any to any any {\n}\n", "expected one of '->', '<>', found 'to'", "to");
        assert!(d.help.unwrap().contains("'->'"));
    }

    #[test]
    fn error_ports_out_of_range() {
        error("alert udp any 70000 -> any any {}", "port 70000 out of range", "70000");
        error("alert udp any any -> any 1:99999 {}", "port 99999 out of range", "99999");
        error("alert udp any 200:100 -> any any {}", "empty port range 200:100", "200:100");
        error("alert udp any : -> any any {}", "expected a port before or after ':'", ":");
        error_in("when p in 70000:", "port 70000 out of range", "70000");
    }

    #[test]
    fn error_addresses() {
        let d = error("alert ip 10.0.300.1 any -> any any {}", "invalid IPv4 address '10.0.300.1'", "300");
        assert_eq!(d.label, "300 is greater than 255");
        error("alert ip 10.0.0 any -> any any {}", "invalid IPv4 address '10.0.0'", "10.0.0");
        let d = error("alert ip 10.0.0.0/33 any -> any any {}", "prefix length 33 out of range", "33");
        assert_eq!(d.label, "IPv4 prefixes are 0 to 32");
        error("alert ip ::/129 any -> any any {}", "prefix length 129 out of range", "129");
        error("alert ip 1:2:3 any -> any any {}", "invalid IPv6 address '1:2:3'", "1:2:3");
        error("alert ip 10.0.0.0/ any -> any any {}", "expected a prefix length after '/'", "/");
        error("alert ip [] any -> any any {}", "empty list in rule header", "[]");
        error("alert ip foo any -> any any {}", "expected an address, found 'foo'", "foo");
        error_in("when ip.src == 1.2.3.400", "invalid IPv4 address '1.2.3.400'", "400");
        error_in("when ip.src == 1.2.3", "invalid number or address '1.2.3'", "1.2.3");
    }

    #[test]
    fn error_missing_header_parts() {
        let d = error("alert icmp any -> any any {}", "expected a port, found '->'", "->");
        assert!(d.help.unwrap().contains("SRC_PORT"));
        error("alert icmp any any -> any any\n", "expected '{', found end of input", "");
        error("alert icmp any any -> any any id 5 }", "expected '{', found 'id'", "id");
        let d = error("alert icmpv6 any any -> any any {}", "unknown protocol 'icmpv6'", "icmpv6");
        assert_eq!(d.help.as_deref(), Some("did you mean 'icmp6'?"));
        let d = error("alrt ip any any -> any any {}", "expected one of 'alert', 'pass', 'var', found 'alrt'", "alrt");
        assert_eq!(d.help.as_deref(), Some("did you mean 'alert'?"));
    }
}
