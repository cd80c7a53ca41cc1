//! The field catalog: what each rule-language field is called, its type, which
//! rule protocols may use it, how costly it is, and the names its values go by.
//!
//! The compiler consults this table to check rules; `ferret explain` and the
//! docs list it. Adding a field means one row here plus its extraction in
//! `decode::features`.

use crate::decode::alphabet::NameAlphabet;
use crate::decode::features::Field;
use crate::decode::pattern::PayloadPattern;
use crate::rules::ast::Proto;

/// The type of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Numbers.
    Num,
    /// True/false.
    Bool,
    /// IP addresses.
    Ip,
    /// Text (DNS names; raw bytes may appear).
    Str,
    /// Raw bytes.
    Bytes,
}

impl FieldType {
    /// The type's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Num => "number",
            FieldType::Bool => "boolean",
            FieldType::Ip => "address",
            FieldType::Str => "text",
            FieldType::Bytes => "bytes",
        }
    }
}

/// Which packets can carry a field; decides the rule protocols allowed to use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Any frame.
    Frame,
    /// IPv4/IPv6.
    Ip,
    /// TCP or UDP ports.
    Ports,
    /// TCP only.
    Tcp,
    /// ICMPv4 or ICMPv6.
    Icmp,
    /// The layer-4 payload.
    Payload,
    /// DNS messages.
    Dns,
    /// ARP.
    Arp,
}

impl Layer {
    /// True if a rule for `proto` may test a field of this layer.
    pub fn allowed_in(self, proto: Proto) -> bool {
        use Proto::*;
        match self {
            Layer::Frame => true,
            Layer::Ip | Layer::Payload => proto != Arp,
            Layer::Ports => matches!(proto, Ip | Tcp | Udp | Dns),
            Layer::Tcp => matches!(proto, Ip | Tcp | Dns),
            Layer::Icmp => matches!(proto, Ip | Icmp | Icmp6),
            Layer::Dns => matches!(proto, Ip | Tcp | Udp | Dns),
            Layer::Arp => proto == Arp,
        }
    }
}

/// One row of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct FieldInfo {
    /// The packet-side field.
    pub field: Field,
    /// The name in the rule language.
    pub name: &'static str,
    /// The type of its values.
    pub ty: FieldType,
    /// Which packets have it.
    pub layer: Layer,
    /// Relative cost of reading it (1 = a header read); orders predicates.
    pub cost: u32,
    /// One line for docs and `explain`.
    pub doc: &'static str,
}

macro_rules! fields {
    ($( $field:ident $name:literal $ty:ident $layer:ident $cost:literal $doc:literal ;)*) => {
        /// Every field, in documentation order.
        pub const FIELDS: &[FieldInfo] = &[
            $( FieldInfo { field: Field::$field, name: $name, ty: FieldType::$ty, layer: Layer::$layer, cost: $cost, doc: $doc }, )*
        ];
    };
}

fields! {
    IpSrc "ip.src" Ip Ip 1 "source address";
    IpDst "ip.dst" Ip Ip 1 "destination address";
    IpVersion "ip.version" Num Ip 1 "4 or 6";
    IpTtl "ip.ttl" Num Ip 1 "TTL (IPv6: hop limit)";
    IpLen "ip.len" Num Ip 1 "IP total length from the header";
    IpProto "ip.proto" Num Ip 1 "protocol number of the IP payload";
    IpId "ip.id" Num Ip 1 "IPv4 identification (absent on IPv6)";
    IpReassembled "ip.reassembled" Bool Ip 1 "a datagram ferret rebuilt from IP fragments (matched once whole, at the fragment that completed it; the fragments are matched too, as IP packets without a transport layer)";
    IpFragOverlap "ip.frag.overlap" Bool Ip 1 "a fragment that overlaps an earlier fragment of its datagram with different bytes (evasion), or two last fragments that disagree on the length; on a rebuilt datagram: one of its fragments did";
    IpFragTiny "ip.frag.tiny" Bool Ip 1 "a first fragment (more to come) too short to hold its transport header (TCP 20 bytes; UDP, ICMP 8; RFC 1858); on a rebuilt datagram: its first fragment was";
    IpFragInvalid "ip.frag.invalid" Bool Ip 1 "a fragment ferret gives its datagram up for: it would make the datagram longer than 65,535 bytes (the ping of death) or it is one fragment too many (over 256); nothing reassembled is matched for that datagram";
    FlowToServer "flow.to_server" Bool Ip 2 "the packet goes the way its flow's first packet went (client to server)";
    FlowEstablished "flow.established" Bool Ip 2 "its flow has seen packets both ways";
    FlowFirst "flow.first" Bool Ip 2 "the first packet of its flow in its direction (Suricata's IP-only rules match only these)";
    SrcPort "src.port" Num Ports 1 "TCP/UDP source port";
    DstPort "dst.port" Num Ports 1 "TCP/UDP destination port";
    TcpFlags "tcp.flags" Num Tcp 1 "TCP flags byte";
    IcmpType "icmp.type" Num Icmp 1 "ICMP/ICMPv6 type";
    IcmpCode "icmp.code" Num Icmp 1 "ICMP/ICMPv6 code";
    IcmpId "icmp.id" Num Icmp 1 "echo identifier (echo request/reply only)";
    IcmpSeq "icmp.seq" Num Icmp 1 "echo sequence number (echo request/reply only)";
    IcmpReplyMismatch "icmp.reply_mismatch" Bool Icmp 2 "echo reply whose payload differs from its request (same pair, id, seq)";
    IcmpUnpairedReply "icmp.unpaired_reply" Bool Icmp 2 "echo reply with no request seen";
    IcmpSeqJump "icmp.seq_jump" Bool Icmp 2 "echo request whose sequence number goes back, or more than 4096 ahead, of the last request of its (src, dst, id) within 60 s";
    IcmpTtlProbe "icmp.ttl_probe" Bool Icmp 2 "echo request with TTL 30 or less in a (src, dst, id) stream whose TTL changed within 60 s (traceroute, mtr, tracert)";
    IcmpIsError "icmp.is_error" Bool Icmp 1 "an ICMP error that quotes another packet (v4 types 3 4 5 11 12, v6 types 1-4)";
    Payload "payload" Bytes Payload 4 "layer-4 payload (ICMP: after the 8-byte header)";
    PayloadLen "payload.len" Num Payload 1 "payload length in bytes, as captured";
    PayloadWireLen "payload.wire_len" Num Payload 1 "payload length on the wire: payload.len plus what a snap length cut off";
    PayloadEntropy "payload.entropy" Num Payload 20 "Shannon entropy of the payload, bits per byte (0-8)";
    PayloadEntropyNorm "payload.entropy.norm" Num Payload 20 "payload entropy / log2(min(len, 256)) (0-1)";
    PayloadPattern "payload.pattern" Num Payload 24 "what the payload looks like: empty zeros repeating incrementing ip text random binary stamped";
    PayloadPrintable "payload.printable" Num Payload 6 "share of printable ASCII bytes in the payload (0-1)";
    PktLen "pkt.len" Num Frame 1 "frame length on the wire";
    PktSnapped "pkt.snapped" Bool Frame 1 "the capture kept less of the frame than was on the wire (a snap length): payload and DNS fields see only what was kept";
    DnsId "dns.id" Num Dns 10 "DNS transaction id";
    DnsMalformed "dns.malformed" Bool Dns 10 "a payload on port 53 that does not decode as a DNS message (on TCP: a message of the reassembled stream, or a length prefix under 12 bytes; absent off port 53 and on empty payloads)";
    DnsIsResponse "dns.is_response" Bool Dns 10 "true for responses (QR bit)";
    DnsOpcode "dns.opcode" Num Dns 10 "DNS opcode";
    DnsRcode "dns.rcode" Num Dns 10 "DNS response code";
    DnsQname "dns.qname" Str Dns 12 "first question name, dotted, no trailing dot";
    DnsQnameLen "dns.qname.len" Num Dns 10 "length of the question name";
    DnsQnameEntropy "dns.qname.entropy" Num Dns 14 "Shannon entropy of the question name";
    DnsLabels "dns.labels" Num Dns 10 "number of labels in the question name";
    DnsLabelMaxlen "dns.label.maxlen" Num Dns 10 "longest label of the question name";
    DnsQtype "dns.qtype" Num Dns 10 "question type";
    DnsQclass "dns.qclass" Num Dns 10 "question class";
    DnsAncount "dns.ancount" Num Dns 10 "number of answers";
    DnsDomain "dns.domain" Str Dns 16 "registered domain of the question (Public Suffix List)";
    DnsDomainLen "dns.domain.len" Num Dns 16 "length of dns.domain";
    DnsDomainEntropy "dns.domain.entropy" Num Dns 18 "Shannon entropy of dns.domain";
    DnsSubdomain "dns.subdomain" Str Dns 16 "the question name before dns.domain";
    DnsSubdomainLen "dns.subdomain.len" Num Dns 16 "length of dns.subdomain";
    DnsSubdomainEntropy "dns.subdomain.entropy" Num Dns 18 "Shannon entropy of dns.subdomain";
    DnsSubdomainAlphabet "dns.subdomain.alphabet" Num Dns 18 "characters of dns.subdomain: empty text numeric hex alnum base64 raw ident";
    DnsService "dns.service" Bool Dns 12 "question name whose underscore labels are service labels in their usual place (_dmarc, sel._domainkey, _acme-challenge, _mta-sts, _spf, _service._proto as in SRV) and whose other labels are not encoded";
    DnsReverse "dns.reverse" Bool Dns 12 "question name is a reverse lookup shaped like an address (in-addr.arpa: up to 4 labels 0-255; ip6.arpa: up to 32 hex nibbles)";
    DnsTcpReassembled "dns.tcp.reassembled" Bool Dns 2 "on DNS over TCP (port 53), each message is taken out of its reassembled stream and matched once: true when its bytes came in more than one segment, false when one segment held it whole (absent on UDP)";
    ArpOp "arp.op" Num Arp 1 "ARP operation (1 request, 2 reply)";
}

/// Looks a field up by its rule-language name.
pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.name == name)
}

/// The catalog row of a packet field.
pub fn info(field: Field) -> &'static FieldInfo {
    // Every Field has exactly one row (checked by a test); the fallback is never used.
    const UNKNOWN: FieldInfo =
        FieldInfo { field: Field::PktLen, name: "?", ty: FieldType::Num, layer: Layer::Frame, cost: 1, doc: "" };
    FIELDS.iter().find(|f| f.field == field).unwrap_or(&UNKNOWN)
}

/// The closest known field name, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    closest(name, FIELDS.iter().map(|f| f.name))
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (word.len() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Names a numeric field's values go by: `echo-request` for `icmp.type`, `TXT` for `dns.qtype`.
pub fn word_value(field: Field, word: &str) -> Option<f64> {
    let lower = word.to_ascii_lowercase();
    let w = lower.as_str();
    let v: u32 = match field {
        Field::IcmpType => match w {
            "echo-reply" => 0,
            "dest-unreachable" | "destination-unreachable" => 3,
            "source-quench" => 4,
            "redirect" => 5,
            "echo-request" => 8,
            "router-advertisement" => 9,
            "router-solicitation" => 10,
            "time-exceeded" => 11,
            "parameter-problem" => 12,
            "timestamp" => 13,
            "timestamp-reply" => 14,
            "information-request" => 15,
            "information-reply" => 16,
            "address-mask-request" => 17,
            "address-mask-reply" => 18,
            // ICMPv6 names.
            "echo6-request" => 128,
            "echo6-reply" => 129,
            "packet-too-big" => 2,
            _ => return None,
        },
        Field::TcpFlags => match w {
            "fin" => 0x01,
            "syn" => 0x02,
            "rst" => 0x04,
            "psh" => 0x08,
            "ack" => 0x10,
            "urg" => 0x20,
            "ece" => 0x40,
            "cwr" => 0x80,
            _ => return None,
        },
        Field::IpProto => match w {
            "icmp" => 1,
            "tcp" => 6,
            "udp" => 17,
            "icmpv6" | "icmp6" => 58,
            _ => return None,
        },
        Field::DnsQtype => u32::from(crate::decode::dns::qtype_from_name(word)?),
        Field::DnsRcode => u32::from(crate::decode::dns::rcode_from_name(word)?),
        Field::DnsOpcode => u32::from(crate::decode::dns::opcode_from_name(word)?),
        Field::ArpOp => match w {
            "request" => 1,
            "reply" => 2,
            _ => return None,
        },
        Field::PayloadPattern => u32::from(PayloadPattern::ALL.iter().find(|p| p.name() == w)?.code()),
        Field::DnsSubdomainAlphabet => u32::from(NameAlphabet::ALL.iter().find(|a| a.name() == w)?.code()),
        _ => return None,
    };
    Some(f64::from(v))
}

/// For fields whose values are words rather than quantities (`payload.pattern`,
/// `dns.subdomain.alphabet`), the word for a value: messages and EVE show
/// `random`, not `6`.
pub fn value_name(field: Field, value: f64) -> Option<&'static str> {
    match field {
        Field::PayloadPattern => PayloadPattern::ALL.iter().find(|p| f64::from(p.code()) == value).map(|p| p.name()),
        Field::DnsSubdomainAlphabet => {
            NameAlphabet::ALL.iter().find(|a| f64::from(a.code()) == value).map(|a| a.name())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_unique_and_findable() {
        for f in FIELDS {
            assert_eq!(lookup(f.name).unwrap().field, f.field);
            assert_eq!(info(f.field).name, f.name);
            assert_eq!(FIELDS.iter().filter(|g| g.field == f.field).count(), 1);
        }
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("payload.lenght"), Some("payload.len"));
        assert_eq!(suggest("dns.qnam"), Some("dns.qname"));
        assert_eq!(suggest("zzzzzz"), None);
    }

    #[test]
    fn words_resolve() {
        assert_eq!(word_value(Field::IcmpType, "echo-request"), Some(8.0));
        assert_eq!(word_value(Field::TcpFlags, "SYN"), Some(2.0));
        assert_eq!(word_value(Field::PayloadLen, "SYN"), None);
        assert_eq!(word_value(Field::PayloadPattern, "random"), Some(6.0));
        assert_eq!(word_value(Field::DnsSubdomainAlphabet, "HEX"), Some(3.0));
        assert_eq!(word_value(Field::DnsSubdomainAlphabet, "random"), None);
        assert_eq!(value_name(Field::PayloadPattern, 3.0), Some("incrementing"));
        assert_eq!(value_name(Field::DnsSubdomainAlphabet, 6.0), Some("raw"));
        assert_eq!(value_name(Field::IcmpType, 8.0), None);
    }
}
