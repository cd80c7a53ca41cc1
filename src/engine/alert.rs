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

/// What a stateful rule saw when it fired.
#[derive(Clone, Debug, PartialEq)]
pub struct StateReport {
    /// Which clause decided (`threshold`, `rate`, `distinct`).
    pub clause: &'static str,
    /// The key, rendered (`192.168.1.4`, `10.0.0.1 <-> 10.0.0.2`, ...).
    pub key: String,
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
