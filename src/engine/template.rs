//! Message templates: `"entropy={payload.entropy:.2}"` compiled once, rendered per alert.
//!
//! Placeholders name a packet field, or one of `src`, `dst`, `src.port`,
//! `dst.port`, `proto`, `sid`; `:.N` fixes the number of decimals. A missing
//! value renders as `-`. Bytes render as printable ASCII with `\xHH` escapes.

use std::fmt::Write;

use crate::decode::dns::write_escaped;
use crate::decode::features::{Features, FieldValue};
use crate::engine::field;
use crate::engine::predicate::Field;

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A packet field.
    Field(Field),
    /// The source address.
    Src,
    /// The destination address.
    Dst,
    /// The source port.
    SrcPort,
    /// The destination port.
    DstPort,
    /// The protocol name (ICMP, UDP, ...).
    Proto,
    /// The rule's signature id.
    Sid,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Text copied as is.
    Lit(String),
    /// A value, with optional fixed decimals.
    Value(Slot, Option<usize>),
}

/// A compiled message template.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    /// The pieces in order.
    pub parts: Vec<Part>,
}

/// A placeholder that could not be compiled: byte range inside the template text and the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateError {
    /// Start of the placeholder (byte offset in the template text).
    pub start: usize,
    /// End of the placeholder.
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// A suggestion, if any.
    pub help: Option<String>,
}

/// Longest rendered byte value, so a 64 KiB payload cannot flood an alert line.
const MAX_BYTES_RENDERED: usize = 256;

impl Template {
    /// Compiles a template; `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(c) = rest.chars().next() {
            let width = c.len_utf8();
            if rest.starts_with("{{") || rest.starts_with("}}") {
                lit.push(c);
                rest = rest.get(2..).unwrap_or("");
                offset += 2;
                continue;
            }
            if c == '{' {
                let close = rest.find('}').ok_or_else(|| TemplateError {
                    start: offset,
                    end: text.len(),
                    message: "unclosed '{' in message".into(),
                    help: Some("write '{{' for a literal brace".into()),
                })?;
                let inner = rest.get(1..close).unwrap_or("");
                let part = parse_placeholder(inner).map_err(|(message, help)| TemplateError {
                    start: offset,
                    end: offset + close + 1,
                    message,
                    help,
                })?;
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(part);
                rest = rest.get(close + 1..).unwrap_or("");
                offset += close + 1;
                continue;
            }
            lit.push(c);
            rest = rest.get(width..).unwrap_or("");
            offset += width;
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// The packet fields the template reads.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Value(Slot::Field(f), _) => Some(*f),
            _ => None,
        })
    }

    /// Renders into `out` for one packet.
    pub fn render(&self, f: &mut Features<'_, '_>, sid: u64, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Value(slot, precision) => render_slot(*slot, *precision, f, sid, out),
            }
        }
    }
}

fn parse_placeholder(inner: &str) -> Result<Part, (String, Option<String>)> {
    let (name, precision) = match inner.split_once(':') {
        Some((name, spec)) => {
            let digits = spec.strip_prefix('.').and_then(|d| d.parse::<usize>().ok()).filter(|&d| d <= 12);
            match digits {
                Some(d) => (name.trim(), Some(d)),
                None => {
                    return Err((
                        format!("bad format '{spec}' in placeholder"),
                        Some("use {field} or {field:.N} with N decimals (0-12)".into()),
                    ))
                }
            }
        }
        None => (inner.trim(), None),
    };
    let slot = match name {
        "src" | "ip.src" => Slot::Src,
        "dst" | "ip.dst" => Slot::Dst,
        "src.port" => Slot::SrcPort,
        "dst.port" => Slot::DstPort,
        "proto" => Slot::Proto,
        "sid" | "id" => Slot::Sid,
        _ => match field::lookup(name) {
            Some(info) => Slot::Field(info.field),
            None => {
                let help = field::suggest(name).map(|s| format!("did you mean '{s}'?"));
                return Err((format!("unknown field '{name}' in message"), help));
            }
        },
    };
    Ok(Part::Value(slot, precision))
}

fn render_slot(slot: Slot, precision: Option<usize>, f: &mut Features<'_, '_>, sid: u64, out: &mut String) {
    let pkt = f.packet();
    match slot {
        Slot::Src => push_or_dash(out, pkt.ip().map(|ip| ip.src)),
        Slot::Dst => push_or_dash(out, pkt.ip().map(|ip| ip.dst)),
        Slot::SrcPort => push_or_dash(out, pkt.ports().map(|p| p.0)),
        Slot::DstPort => push_or_dash(out, pkt.ports().map(|p| p.1)),
        Slot::Proto => out.push_str(pkt.proto_name()),
        Slot::Sid => {
            let _ = write!(out, "{sid}");
        }
        Slot::Field(field) => match f.get(field) {
            Some(FieldValue::Num(n)) => match field::value_name(field, n) {
                Some(word) => out.push_str(word),
                None => write_value(out, FieldValue::Num(n), precision),
            },
            Some(v) => write_value(out, v, precision),
            None => out.push('-'),
        },
    }
}

fn push_or_dash<T: std::fmt::Display>(out: &mut String, v: Option<T>) {
    let _ = match v {
        Some(v) => write!(out, "{v}"),
        None => write!(out, "-"),
    };
}

/// Writes a field value the way messages and reports show it.
pub fn write_value(out: &mut impl Write, v: FieldValue<'_>, precision: Option<usize>) {
    let _ = match v {
        FieldValue::Num(n) => match precision {
            Some(p) => write!(out, "{n:.p$}"),
            None if n.fract() == 0.0 && n.abs() < 1e15 => write!(out, "{}", n as i64),
            None => write!(out, "{n}"),
        },
        FieldValue::Bool(b) => write!(out, "{b}"),
        FieldValue::Ip(ip) => write!(out, "{ip}"),
        FieldValue::Bytes(b) => {
            let shown = b.get(..MAX_BYTES_RENDERED).unwrap_or(b);
            let r = write_escaped(shown, out);
            if shown.len() < b.len() {
                let _ = out.write_str("...");
            }
            r
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_placeholders_and_braces() {
        let t = Template::parse("len={payload.len} e={payload.entropy:.2} {{x}} {src}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                Part::Lit("len=".into()),
                Part::Value(Slot::Field(Field::PayloadLen), None),
                Part::Lit(" e=".into()),
                Part::Value(Slot::Field(Field::PayloadEntropy), Some(2)),
                Part::Lit(" {x} ".into()),
                Part::Value(Slot::Src, None),
            ]
        );
    }

    #[test]
    fn reports_bad_placeholders_with_position() {
        let e = Template::parse("a {payload.lenght} b").unwrap_err();
        assert_eq!((e.start, e.end), (2, 18));
        assert_eq!(e.help.as_deref(), Some("did you mean 'payload.len'?"));
        assert!(Template::parse("x {payload.len").is_err());
        assert!(Template::parse("{payload.len:7}").is_err());
    }

    #[test]
    fn writes_values() {
        let mut s = String::new();
        write_value(&mut s, FieldValue::Num(6.7812), Some(2));
        s.push(' ');
        write_value(&mut s, FieldValue::Num(159.0), None);
        s.push(' ');
        write_value(&mut s, FieldValue::Bytes(b"a\x01b"), None);
        assert_eq!(s, "6.78 159 a\\x01b");
    }
}
