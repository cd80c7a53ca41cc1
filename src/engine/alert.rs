//! Alerts: what a matching rule reports about one packet.
//!
//! An alert owns its data (rendered message, measured values), so outputs and
//! the report can keep it after the packet's bytes are gone. Building one
//! allocates; alerts are rare, packets are not.

use std::net::IpAddr;
use std::sync::Arc;

use crate::decode::dns;
use crate::decode::features::{Features, FieldValue};
use crate::engine::field;
use crate::engine::flows::FlowInfo;
use crate::engine::ruleset::RuleSet;
use crate::engine::template::write_value;

/// A value a rule measured, for EVE and reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Measured {
    /// A number.
    Num(f64),
    /// A flag.
    Bool(bool),
    /// An address.
    Ip(IpAddr),
    /// Text (bytes rendered printable with `\xHH` escapes).
    Text(String),
}

impl Measured {
    fn from_value(v: FieldValue<'_>) -> Measured {
        match v {
            FieldValue::Num(n) => Measured::Num(n),
            FieldValue::Bool(b) => Measured::Bool(b),
            FieldValue::Ip(ip) => Measured::Ip(ip),
            FieldValue::Bytes(_) => {
                let mut s = String::new();
                write_value(&mut s, v, None);
                Measured::Text(s)
            }
        }
    }
}

/// A state key as text (`192.0.2.4`, `10.0.0.1 <-> 10.0.0.2`,
/// `dns.domain=example.com`). Keys of up to [`KeyText::INLINE`] bytes (IPv4
/// addresses, pairs and flows, short field values) are held inline, so a
/// stateful rule firing on every packet of a flood allocates nothing for its
/// key; longer ones (IPv6 pairs, long names) spill to a `String`.
#[derive(Clone, Default)]
pub struct KeyText(KeyRepr);

#[derive(Clone)]
enum KeyRepr {
    Inline { len: u8, buf: [u8; KeyText::INLINE] },
    Heap(String),
}

impl Default for KeyRepr {
    fn default() -> Self {
        KeyRepr::Inline { len: 0, buf: [0; KeyText::INLINE] }
    }
}

impl KeyText {
    /// Most bytes held without allocating.
    pub const INLINE: usize = 62;

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only whole `&str`s are ever appended, so the bytes are UTF-8.
            KeyRepr::Inline { len, buf } => {
                std::str::from_utf8(buf.get(..usize::from(*len)).unwrap_or_default()).unwrap_or_default()
            }
            KeyRepr::Heap(s) => s,
        }
    }

    /// Appends `s`.
    pub fn push_str(&mut self, s: &str) {
        match &mut self.0 {
            KeyRepr::Inline { len, buf } => {
                let start = usize::from(*len);
                match buf.get_mut(start..start + s.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(s.as_bytes());
                        *len = (start + s.len()) as u8;
                    }
                    None => {
                        let mut heap = String::with_capacity(2 * Self::INLINE);
                        heap.push_str(self.as_str());
                        heap.push_str(s);
                        self.0 = KeyRepr::Heap(heap);
                    }
                }
            }
            KeyRepr::Heap(h) => h.push_str(s),
        }
    }

    /// Appends bytes that are ASCII (as IP digits are) without checking them
    /// further; bytes that are not UTF-8 are dropped, so the text stays UTF-8.
    pub fn push_ascii(&mut self, bytes: &[u8]) {
        if let (true, KeyRepr::Inline { len, buf }) = (bytes.is_ascii(), &mut self.0) {
            let start = usize::from(*len);
            if let Some(dst) = buf.get_mut(start..start + bytes.len()) {
                dst.copy_from_slice(bytes);
                *len = (start + bytes.len()) as u8;
                return;
            }
        }
        self.push_str(std::str::from_utf8(bytes).unwrap_or_default());
    }

    /// True when the text spilled to the heap.
    pub fn is_heap(&self) -> bool {
        matches!(self.0, KeyRepr::Heap(_))
    }
}

impl std::fmt::Write for KeyText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl std::ops::Deref for KeyText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for KeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for KeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for KeyText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<&str> for KeyText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for KeyText {
    fn from(s: &str) -> Self {
        let mut k = KeyText::default();
        k.push_str(s);
        k
    }
}

#[cfg(test)]
mod key_text_tests {
    use super::KeyText;

    #[test]
    fn short_keys_stay_inline_and_long_ones_spill_whole() {
        let mut k = KeyText::default();
        k.push_str("10.0.0.1");
        k.push_str(" <-> ");
        k.push_str("10.0.0.2");
        assert_eq!(k.as_str(), "10.0.0.1 <-> 10.0.0.2");
        assert!(!k.is_heap());
        let long = "x".repeat(KeyText::INLINE - k.len());
        k.push_str(&long);
        assert!(!k.is_heap(), "exactly full is still inline");
        k.push_str("é");
        assert!(k.is_heap());
        assert_eq!(k.as_str(), format!("10.0.0.1 <-> 10.0.0.2{long}é"));
        assert_eq!(KeyText::from("dns.domain=example.com").to_string(), "dns.domain=example.com");
    }
}

/// What a stateful rule saw when it fired.
#[derive(Clone, Debug, PartialEq)]
pub struct StateReport {
    /// Which clause decided (`threshold`, `rate`, `distinct`).
    pub clause: &'static str,
    /// The key, rendered (`192.168.1.4`, `10.0.0.1 <-> 10.0.0.2`, ...).
    pub key: KeyText,
    /// Matches (or distinct values) counted in the window.
    pub count: u64,
    /// Window length in nanoseconds.
    pub window_nanos: u64,
    /// Rate per second, for `rate`.
    pub rate_per_sec: Option<f64>,
    /// First packet number in the window.
    pub first_packet: u64,
    /// Last packet number in the window (this packet).
    pub last_packet: u64,
}

/// The DNS message of an alerting packet, as EVE's `dns` object logs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsInfo {
    /// Transaction id.
    pub id: u16,
    /// The flags word.
    pub flags: u16,
    /// Questions and answers.
    pub records: dns::Records,
}

/// One alert.
#[derive(Clone, Debug)]
pub struct Alert {
    /// The rule set the rule belongs to (kept alive while the alert is).
    pub rules: Arc<RuleSet>,
    /// Index of the rule in `rules`.
    pub rule_index: u32,
    /// 1-based packet number in its file.
    pub packet: u64,
    /// Packet timestamp, ns since the epoch.
    pub ts_nanos: i64,
    /// Source address.
    pub src: Option<IpAddr>,
    /// Destination address.
    pub dst: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Protocol name as Suricata writes it (ICMP, UDP, ...).
    pub proto: &'static str,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    /// The rendered message.
    pub message: String,
    /// The rule's recommendations, rendered.
    pub recommendations: Vec<String>,
    /// Fields the rule read, with their values on this packet.
    pub measured: Vec<(&'static str, Measured)>,
    /// For stateful rules, what fired.
    pub state: Option<StateReport>,
    /// The packet's flow, when the engine tracks flows (EVE output).
    pub flow: Option<FlowInfo>,
    /// The packet's DNS message, when it is DNS and decodes.
    pub dns: Option<DnsInfo>,
}

impl Alert {
    /// Builds the alert for `rule_index` on the packet behind `f`.
    pub fn build(rules: &Arc<RuleSet>, rule_index: u32, f: &mut Features<'_, '_>) -> Option<Alert> {
        let rule = rules.rule(rule_index)?;
        let pkt = f.packet();
        let mut message = String::new();
        rule.msg.render(f, rule.sid, &mut message);
        let recommendations = rule
            .recommends
            .iter()
            .map(|t| {
                let mut s = String::new();
                t.render(f, rule.sid, &mut s);
                s
            })
            .collect();
        let measured = rule
            .measured
            .iter()
            .filter_map(|&fld| {
                let measured = match f.get(fld)? {
                    FieldValue::Num(n) => match field::value_name(fld, n) {
                        Some(word) => Measured::Text(word.to_string()),
                        None => Measured::Num(n),
                    },
                    v => Measured::from_value(v),
                };
                Some((field::info(fld).name, measured))
            })
            .collect();
        let dns = f.dns().map(|m| DnsInfo { id: m.id, flags: m.flags, records: dns::records(m) });
        Some(Alert {
            rules: Arc::clone(rules),
            rule_index,
            packet: pkt.number,
            ts_nanos: pkt.ts_nanos,
            src: pkt.ip().map(|ip| ip.src),
            dst: pkt.ip().map(|ip| ip.dst),
            src_port: pkt.ports().map(|p| p.0),
            dst_port: pkt.ports().map(|p| p.1),
            proto: pkt.proto_name(),
            icmp: pkt.icmp().map(|h| (h.icmp_type, h.code)),
            message,
            recommendations,
            measured,
            state: None,
            flow: None,
            dns,
        })
    }

    /// The rule that fired.
    pub fn rule(&self) -> Option<&crate::engine::ruleset::CompiledRule> {
        self.rules.rule(self.rule_index)
    }
}
