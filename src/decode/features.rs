//! Per-packet features, computed lazily and at most once.
//!
//! Header fields are read straight from the [`Packet`]. The expensive ones
//! (payload entropy, pattern and printable share, the DNS message, the
//! registered-domain split, the entropies and alphabet of names) are computed
//! the first time a rule asks and cached for the rest of that packet's rules. A [`Features`] lives on the stack for one
//! packet; nothing here allocates.

use std::net::IpAddr;

use super::alphabet::{self, NameAlphabet};
use super::dns::{self, DnsError, DnsMessage};
use super::entropy;
use super::name_shape;
use super::pattern::{self, PayloadPattern};
use super::{Packet, Transport};

/// Every field a rule can test. The rule language's names and types for these
/// live in `engine::field`; this enum is only the packet side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Field {
    IpSrc,
    IpDst,
    IpVersion,
    IpTtl,
    IpLen,
    IpProto,
    SrcPort,
    DstPort,
    TcpFlags,
    IcmpType,
    IcmpCode,
    IcmpId,
    IcmpSeq,
    IcmpReplyMismatch,
    IcmpUnpairedReply,
    IcmpSeqJump,
    IcmpTtlProbe,
    IcmpIsError,
    Payload,
    PayloadLen,
    PayloadWireLen,
    PayloadEntropy,
    PayloadEntropyNorm,
    PayloadPattern,
    PayloadPrintable,
    PktLen,
    PktSnapped,
    DnsId,
    DnsMalformed,
    DnsIsResponse,
    DnsOpcode,
    DnsRcode,
    DnsQname,
    DnsQnameLen,
    DnsQnameEntropy,
    DnsLabels,
    DnsLabelMaxlen,
    DnsQtype,
    DnsQclass,
    DnsAncount,
    DnsDomain,
    DnsDomainLen,
    DnsDomainEntropy,
    DnsSubdomain,
    DnsSubdomainLen,
    DnsSubdomainEntropy,
    DnsSubdomainAlphabet,
    DnsReverse,
    DnsService,
    ArpOp,
    IpId,
    FlowToServer,
    FlowEstablished,
    FlowFirst,
    IpReassembled,
    IpFragOverlap,
    IpFragTiny,
    IpFragInvalid,
    DnsTcpReassembled,
}

/// What IP reassembly says of a packet (set by the engine's reassembler on
/// fragments and on the datagrams it rebuilds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragStatus {
    /// A datagram rebuilt from its fragments.
    pub reassembled: bool,
    /// A fragment overlapping an earlier one with different bytes (on a
    /// datagram: one of its fragments did).
    pub overlap: bool,
    /// A first fragment too short to hold its transport header.
    pub tiny: bool,
    /// A fragment its datagram is given up for: it would make the datagram
    /// longer than 65,535 bytes, or it is one fragment too many.
    pub invalid: bool,
}

impl Field {
    /// True for the fields only the engine's flow table sets (a packet's
    /// place in its flow), for every packet.
    pub fn set_by_flow_table(self) -> bool {
        matches!(self, Field::FlowToServer | Field::FlowEstablished | Field::FlowFirst)
    }

    /// True for the fields whose value the engine's state sets (the flow
    /// table, the echo table, the reassembler), not the packet alone.
    pub fn set_by_engine(self) -> bool {
        matches!(
            self,
            Field::FlowToServer
                | Field::FlowEstablished
                | Field::FlowFirst
                | Field::IcmpReplyMismatch
                | Field::IcmpUnpairedReply
                | Field::IcmpSeqJump
                | Field::IcmpTtlProbe
                | Field::IpReassembled
                | Field::IpFragOverlap
                | Field::IpFragTiny
                | Field::IpFragInvalid
                | Field::DnsTcpReassembled
        )
    }
}

/// Where a packet stands in its flow (set by the engine's flow table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowPosition {
    /// It goes the way the flow's first packet went (client to server).
    pub to_server: bool,
    /// Packets have been seen both ways.
    pub established: bool,
    /// The first packet of its flow in its direction.
    pub first: bool,
}

/// The value of a field on one packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldValue<'x> {
    /// Numbers (all numeric fields; integers are exact up to 2^53).
    Num(f64),
    /// Flags.
    Bool(bool),
    /// Addresses.
    Ip(IpAddr),
    /// Payload bytes and DNS names (raw bytes, possibly not UTF-8).
    Bytes(&'x [u8]),
}

/// How an echo reply relates to the requests seen before it (set by the engine's echo table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoStatus {
    /// A reply whose payload equals its request's.
    Echoed,
    /// A reply whose payload differs from its request's (same pair, id and seq).
    Mismatch,
    /// A reply with no request seen.
    Unpaired,
}

/// How an echo request follows the earlier requests of its (source,
/// destination, id) stream (set by the engine's echo table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StreamStatus {
    /// The sequence number went back or leapt ahead of the stream's last.
    pub seq_jump: bool,
    /// A low TTL in a stream whose TTL keeps changing: a route trace.
    pub ttl_probe: bool,
}

/// The DNS decoding state of one packet.
// The message lives inline on purpose: decoding must not allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
enum DnsState<'a> {
    NotTried,
    NotDns,
    Failed(DnsError),
    Ok(DnsMessage<'a>),
}

/// Lazily computed features of one packet.
pub struct Features<'p, 'a> {
    pkt: &'p Packet<'a>,
    payload_entropy: Option<f64>,
    payload_printable: Option<f64>,
    payload_pattern: Option<PayloadPattern>,
    dns: DnsState<'a>,
    /// Byte offset in the question name where the registered domain starts
    /// (`None` inside: the name has no registered domain).
    domain_start: Option<Option<usize>>,
    qname_entropy: Option<f64>,
    domain_entropy: Option<f64>,
    subdomain_entropy: Option<f64>,
    /// Upper bounds an early-stopped entropy comparison proved (payload,
    /// qname, domain, subdomain), kept apart from the exact values above.
    entropy_bounds: [f64; 4],
    subdomain_alphabet: Option<NameAlphabet>,
    echo: Option<EchoStatus>,
    stream: Option<StreamStatus>,
    /// Network ids of the source and destination addresses (set by the engine).
    networks: [Option<u16>; 2],
    /// The packet's place in its flow (set by the engine when rules ask).
    flow: Option<FlowPosition>,
    /// Reassembly's view (set by the engine on fragments and rebuilt datagrams).
    frag: FragStatus,
    /// On a DNS message the engine took out of a TCP stream: whether its
    /// bytes came in more than one segment. `None` on captured packets.
    dns_tcp: Option<bool>,
    /// Decode a DNS-over-TCP segment on its own, its first message as far
    /// as it goes (tools that sample packets outside the engine).
    segment_alone: bool,
}

/// The computed values of a [`Features`], without the packet: what one
/// thread learned of a packet, handed to another with the packet's bytes
/// (see [`Features::detach`]). It borrows nothing and is small: a decoded
/// DNS message (about 300 bytes, its name inline) is kept apart in a list
/// the caller reuses, its bytes as a range of the payload.
#[derive(Clone, Copy, Debug)]
pub struct FeatureCache {
    payload_entropy: Option<f64>,
    payload_printable: Option<f64>,
    payload_pattern: Option<PayloadPattern>,
    dns: CachedDns,
    domain_start: Option<Option<usize>>,
    qname_entropy: Option<f64>,
    domain_entropy: Option<f64>,
    subdomain_entropy: Option<f64>,
    subdomain_alphabet: Option<NameAlphabet>,
    entropy_bounds: [f64; 4],
    networks: [Option<u16>; 2],
}

/// [`DnsState`] in a [`FeatureCache`].
#[derive(Clone, Copy, Debug)]
enum CachedDns {
    NotTried,
    NotDns,
    Failed(DnsError),
    /// The message is `messages[index]`; its bytes are `payload[start..start + len]`.
    Ok {
        index: u32,
        start: u32,
        len: u32,
    },
}

impl<'p, 'a> Features<'p, 'a> {
    /// Starts with nothing computed.
    pub fn new(pkt: &'p Packet<'a>) -> Self {
        Features {
            pkt,
            payload_entropy: None,
            payload_printable: None,
            payload_pattern: None,
            dns: DnsState::NotTried,
            domain_start: None,
            qname_entropy: None,
            domain_entropy: None,
            subdomain_entropy: None,
            entropy_bounds: [f64::INFINITY; 4],
            subdomain_alphabet: None,
            echo: None,
            stream: None,
            networks: [None, None],
            flow: None,
            frag: FragStatus::default(),
            dns_tcp: None,
            segment_alone: false,
        }
    }

    /// Takes the computed values apart from the packet, to be put back on the
    /// same packet (the same bytes, decoded the same way) with
    /// [`Features::attach`]; a decoded DNS message goes to `messages`. State
    /// the engine set (echo, stream, flow) is not kept: it belongs to the step
    /// that sets it.
    pub fn detach(&self, messages: &mut Vec<DnsMessage<'static>>) -> FeatureCache {
        let payload = self.pkt.payload;
        let dns = match &self.dns {
            DnsState::Ok(msg) => {
                let start = (msg.raw.as_ptr() as usize).wrapping_sub(payload.as_ptr() as usize);
                match payload.get(start..start.wrapping_add(msg.raw.len())) {
                    Some(raw) if raw.as_ptr() == msg.raw.as_ptr() || raw.is_empty() => {
                        messages.push(DnsMessage { raw: &[], ..*msg });
                        CachedDns::Ok { index: messages.len() as u32 - 1, start: start as u32, len: raw.len() as u32 }
                    }
                    // Not a slice of the payload (never expected): decoded again later.
                    _ => CachedDns::NotTried,
                }
            }
            DnsState::NotTried => CachedDns::NotTried,
            DnsState::NotDns => CachedDns::NotDns,
            DnsState::Failed(e) => CachedDns::Failed(*e),
        };
        // What was derived from the question name goes with the message.
        let named = |v| if matches!(dns, CachedDns::NotTried) { None } else { v };
        FeatureCache {
            payload_entropy: self.payload_entropy,
            payload_printable: self.payload_printable,
            payload_pattern: self.payload_pattern,
            dns,
            domain_start: if matches!(dns, CachedDns::NotTried) { None } else { self.domain_start },
            qname_entropy: named(self.qname_entropy),
            domain_entropy: named(self.domain_entropy),
            subdomain_entropy: named(self.subdomain_entropy),
            subdomain_alphabet: if matches!(dns, CachedDns::NotTried) { None } else { self.subdomain_alphabet },
            // Proven bounds hold for the same bytes, decoded again or not.
            entropy_bounds: self.entropy_bounds,
            networks: self.networks,
        }
    }

    /// Features of `pkt` with the values another step computed on it (see
    /// [`Features::detach`]; `messages` is the list it pushed to).
    pub fn attach(pkt: &'p Packet<'a>, cache: FeatureCache, messages: &[DnsMessage<'static>]) -> Self {
        let dns = match cache.dns {
            CachedDns::Ok { index, start, len } => {
                let raw = pkt.payload.get(start as usize..(start + len) as usize);
                match (messages.get(index as usize), raw) {
                    (Some(msg), Some(raw)) => DnsState::Ok(DnsMessage { raw, ..*msg }),
                    _ => DnsState::NotTried,
                }
            }
            CachedDns::NotTried => DnsState::NotTried,
            CachedDns::NotDns => DnsState::NotDns,
            CachedDns::Failed(e) => DnsState::Failed(e),
        };
        let named = matches!(dns, DnsState::NotTried);
        Features {
            pkt,
            payload_entropy: cache.payload_entropy,
            payload_printable: cache.payload_printable,
            payload_pattern: cache.payload_pattern,
            dns,
            domain_start: if named { None } else { cache.domain_start },
            qname_entropy: if named { None } else { cache.qname_entropy },
            domain_entropy: if named { None } else { cache.domain_entropy },
            subdomain_entropy: if named { None } else { cache.subdomain_entropy },
            subdomain_alphabet: if named { None } else { cache.subdomain_alphabet },
            echo: None,
            stream: None,
            networks: cache.networks,
            flow: None,
            frag: FragStatus::default(),
            dns_tcp: None,
            segment_alone: false,
            entropy_bounds: cache.entropy_bounds,
        }
    }

    /// Records the packet's place in its flow.
    pub fn set_flow(&mut self, position: FlowPosition) {
        self.flow = Some(position);
    }

    /// Records what reassembly says of the packet.
    pub fn set_frag(&mut self, status: FragStatus) {
        self.frag = status;
    }

    /// Marks the packet as one DNS message the engine took out of a TCP
    /// stream (its payload: the length prefix and the message), `split`
    /// when its bytes came in more than one segment. Only such a packet
    /// has DNS fields on TCP port 53 (see [`Packet::is_dns_stream_segment`]).
    pub fn set_dns_message(&mut self, split: bool) {
        self.dns_tcp = Some(split);
    }

    /// Reads a segment of a DNS-over-TCP stream on its own: its first
    /// message, as far as the segment goes, as ferret read every segment
    /// before it reassembled streams. For tools that sample packets outside
    /// the engine (`report`, `profile`); matching never does this.
    pub fn read_segment_alone(&mut self) {
        self.segment_alone = true;
    }

    /// The packet these features describe.
    pub fn packet(&self) -> &'p Packet<'a> {
        self.pkt
    }

    /// Records the networks of the source and destination addresses.
    pub fn set_networks(&mut self, src: Option<u16>, dst: Option<u16>) {
        self.networks = [src, dst];
    }

    /// The network of the destination (`true`) or source (`false`) address.
    pub fn network(&self, destination: bool) -> Option<u16> {
        let [src, dst] = self.networks;
        if destination {
            dst
        } else {
            src
        }
    }

    /// Records how this echo reply relates to earlier requests.
    pub fn set_echo(&mut self, status: EchoStatus) {
        self.echo = Some(status);
    }

    /// Records how this echo request follows its stream.
    pub fn set_stream(&mut self, status: StreamStatus) {
        self.stream = Some(status);
    }

    /// Payload entropy in bits per byte (computed once).
    pub fn payload_entropy(&mut self) -> f64 {
        *self.payload_entropy.get_or_insert_with(|| entropy::shannon(self.pkt.payload))
    }

    /// For an entropy field, true when the packet has it and its value is
    /// surely at most `limit`, found with no more work than that takes
    /// ([`entropy::shannon_at_most`]); false when it is not, or when that is
    /// not known without the exact value, which is then cached for
    /// [`Features::get`]. An early answer caches no approximate value, only
    /// the bound (so the next rule with the same limit answers at once).
    pub fn entropy_at_most(&mut self, field: Field, limit: f64) -> bool {
        let slot = match field {
            Field::PayloadEntropy => 0,
            Field::DnsQnameEntropy => 1,
            Field::DnsDomainEntropy => 2,
            Field::DnsSubdomainEntropy => 3,
            _ => return false,
        };
        let exact = match slot {
            0 => self.payload_entropy,
            1 => self.qname_entropy,
            2 => self.domain_entropy,
            _ => self.subdomain_entropy,
        };
        if let Some(value) = exact {
            return value <= limit;
        }
        if self.entropy_bounds.get(slot).is_some_and(|&b| b <= limit) {
            return true;
        }
        let outcome = match slot {
            0 => Some(entropy::shannon_at_most(self.pkt.payload, false, limit)),
            1 => self.qname().map(|d| entropy::shannon_at_most(d, true, limit)),
            2 => self.dns_domain().map(|d| entropy::shannon_at_most(d, true, limit)),
            _ => self.dns_subdomain().map(|d| entropy::shannon_at_most(d, true, limit)),
        };
        match outcome {
            None => false,
            Some(None) => {
                if let Some(b) = self.entropy_bounds.get_mut(slot) {
                    *b = b.min(limit);
                }
                true
            }
            Some(Some(value)) => {
                let cache = match slot {
                    0 => &mut self.payload_entropy,
                    1 => &mut self.qname_entropy,
                    2 => &mut self.domain_entropy,
                    _ => &mut self.subdomain_entropy,
                };
                *cache = Some(value);
                value <= limit
            }
        }
    }

    /// Share of printable ASCII bytes in the payload, 0-1 (computed once).
    pub fn payload_printable(&mut self) -> f64 {
        *self.payload_printable.get_or_insert_with(|| pattern::printable_ratio(self.pkt.payload))
    }

    /// What the payload looks like (computed once; entropy and printable share
    /// only when no fill pattern or IP header explains it).
    pub fn payload_pattern(&mut self) -> PayloadPattern {
        if let Some(p) = self.payload_pattern {
            return p;
        }
        let data = self.pkt.payload;
        let (printable, ent) = (&mut self.payload_printable, &mut self.payload_entropy);
        let pattern = pattern::classify(
            data,
            || *printable.get_or_insert_with(|| pattern::printable_ratio(data)),
            || *ent.get_or_insert_with(|| entropy::shannon(data)),
        );
        self.payload_pattern = Some(pattern);
        pattern
    }

    /// The decoded DNS message, if the packet is DNS and decodes (decoded once).
    pub fn dns(&mut self) -> Option<&DnsMessage<'a>> {
        if let DnsState::NotTried = self.dns {
            self.dns = if self.pkt.payload.is_empty() {
                DnsState::NotDns
            } else if self.pkt.is_dns_stream_segment() && self.dns_tcp.is_none() && !self.segment_alone {
                // A segment of a DNS-over-TCP stream: its messages are
                // matched one by one once the engine has taken them out.
                DnsState::NotDns
            } else if !self.pkt.is_dns() {
                // Off port 53, DNS is recognised by its strict shape (whole UDP
                // messages only); what lacks it is not DNS, never malformed DNS.
                let udp = matches!(self.pkt.transport, Transport::Udp { .. });
                match dns::has_dns_shape(self.pkt.payload) && udp && !self.pkt.snapped() {
                    true => dns::parse_message(self.pkt.payload).map_or(DnsState::NotDns, DnsState::Ok),
                    false => DnsState::NotDns,
                }
            } else {
                // A snap length cuts the message: judge the part that was kept.
                let parsed = match (self.pkt.is_tcp(), self.pkt.snapped()) {
                    (true, false) => dns::parse_tcp(self.pkt.payload),
                    (true, true) => dns::parse_tcp_cut(self.pkt.payload),
                    (false, false) => dns::parse_message(self.pkt.payload),
                    (false, true) => dns::parse_cut(self.pkt.payload),
                };
                match parsed {
                    Ok(msg) => DnsState::Ok(msg),
                    Err(e) => DnsState::Failed(e),
                }
            };
        }
        match &self.dns {
            DnsState::Ok(msg) => Some(msg),
            _ => None,
        }
    }

    /// True if the packet is DNS: TCP or UDP on port 53, or a UDP payload
    /// with the strict shape of a DNS message on any other port (checked
    /// here at most once per packet, and only when a rule asks).
    pub fn is_dns(&mut self) -> bool {
        self.pkt.is_dns() || self.dns().is_some()
    }

    /// The DNS decoding error of this packet, if DNS decoding was attempted and failed.
    pub fn dns_error(&self) -> Option<DnsError> {
        match self.dns {
            DnsState::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn qname(&mut self) -> Option<&[u8]> {
        self.dns()?.question.as_ref().map(|q| q.name.as_bytes())
    }

    /// The question name if the capture kept all of it. A snap length cuts a
    /// name's end, where its registered domain and suffix are: what depends
    /// on them (domain, subdomain, service and reverse shapes) is unknown for
    /// a cut name, so those fields are absent and their tests false.
    fn whole_qname(&mut self) -> Option<&[u8]> {
        self.dns()?.question.as_ref().filter(|q| !q.cut).map(|q| q.name.as_bytes())
    }

    /// Where the registered domain starts in the question name.
    fn domain_start(&mut self) -> Option<usize> {
        if let Some(cached) = self.domain_start {
            return cached;
        }
        let start = self.whole_qname().and_then(registered_domain_start);
        self.domain_start = Some(start);
        start
    }

    /// The registered domain of the question name (`example.co.uk`).
    pub fn dns_domain(&mut self) -> Option<&[u8]> {
        let start = self.domain_start()?;
        self.qname()?.get(start..)
    }

    /// The part of the question name before the registered domain (`a.b` of
    /// `a.b.example.com`; empty when the name is the registered domain).
    pub fn dns_subdomain(&mut self) -> Option<&[u8]> {
        let start = self.domain_start()?;
        self.qname()?.get(..start.saturating_sub(1))
    }

    /// The value of `field` on this packet, or `None` when the packet has no such field.
    pub fn get(&mut self, field: Field) -> Option<FieldValue<'_>> {
        use FieldValue::{Bool, Bytes, Ip, Num};
        let pkt = self.pkt;
        let num = |v: u64| Some(Num(v as f64));
        match field {
            Field::IpSrc => pkt.ip().map(|ip| Ip(ip.src)),
            Field::IpDst => pkt.ip().map(|ip| Ip(ip.dst)),
            Field::IpVersion => num(u64::from(pkt.ip()?.version)),
            Field::IpTtl => num(u64::from(pkt.ip()?.ttl)),
            Field::IpLen => num(u64::from(pkt.ip()?.total_len)),
            Field::IpProto => num(u64::from(pkt.ip()?.proto)),
            Field::IpId => num(u64::from(pkt.ip()?.id?)),
            Field::IpReassembled => pkt.ip().map(|_| Bool(self.frag.reassembled)),
            Field::IpFragOverlap => pkt.ip().map(|_| Bool(self.frag.overlap)),
            Field::IpFragTiny => pkt.ip().map(|_| Bool(self.frag.tiny)),
            Field::IpFragInvalid => pkt.ip().map(|_| Bool(self.frag.invalid)),
            Field::FlowToServer => self.flow.map(|p| Bool(p.to_server)),
            Field::FlowEstablished => self.flow.map(|p| Bool(p.established)),
            Field::FlowFirst => self.flow.map(|p| Bool(p.first)),
            Field::SrcPort => num(u64::from(pkt.ports()?.0)),
            Field::DstPort => num(u64::from(pkt.ports()?.1)),
            Field::TcpFlags => match pkt.transport {
                Transport::Tcp { flags, .. } => num(u64::from(flags)),
                _ => None,
            },
            Field::IcmpType => num(u64::from(pkt.icmp()?.icmp_type)),
            Field::IcmpCode => num(u64::from(pkt.icmp()?.code)),
            Field::IcmpId => num(u64::from(pkt.icmp()?.id?)),
            Field::IcmpSeq => num(u64::from(pkt.icmp()?.seq?)),
            Field::IcmpReplyMismatch => self.echo.map(|e| Bool(e == EchoStatus::Mismatch)),
            Field::IcmpUnpairedReply => self.echo.map(|e| Bool(e == EchoStatus::Unpaired)),
            Field::IcmpSeqJump => self.stream.map(|s| Bool(s.seq_jump)),
            Field::IcmpTtlProbe => self.stream.map(|s| Bool(s.ttl_probe)),
            Field::IcmpIsError => {
                let is_error = match pkt.transport {
                    Transport::Icmp(h) => matches!(h.icmp_type, 3 | 4 | 5 | 11 | 12),
                    Transport::Icmp6(h) => matches!(h.icmp_type, 1..=4),
                    _ => return None,
                };
                Some(Bool(is_error))
            }
            Field::Payload => Some(Bytes(pkt.payload)),
            Field::PayloadLen => num(pkt.payload.len() as u64),
            // A snap length cuts the frame's end, which is the payload's end.
            Field::PayloadWireLen => num(pkt.payload.len() as u64 + u64::from(pkt.snapped_bytes())),
            Field::PayloadEntropy => Some(Num(self.payload_entropy())),
            Field::PayloadEntropyNorm => Some(Num(entropy::normalize(self.payload_entropy(), pkt.payload.len()))),
            Field::PayloadPattern => Some(Num(f64::from(self.payload_pattern().code()))),
            Field::PayloadPrintable => Some(Num(self.payload_printable())),
            Field::PktLen => num(u64::from(pkt.wire_len)),
            Field::PktSnapped => Some(Bool(pkt.snapped())),
            Field::ArpOp => match pkt.network {
                super::Network::Arp { op } => num(u64::from(op)),
                _ => None,
            },
            Field::DnsId => num(u64::from(self.dns()?.id)),
            Field::DnsMalformed => {
                let _ = self.dns();
                match self.dns {
                    DnsState::Ok(_) => Some(Bool(false)),
                    DnsState::Failed(_) => Some(Bool(true)),
                    DnsState::NotTried | DnsState::NotDns => None,
                }
            }
            Field::DnsIsResponse => Some(Bool(self.dns()?.is_response())),
            Field::DnsOpcode => num(u64::from(self.dns()?.opcode())),
            Field::DnsRcode => num(u64::from(self.dns()?.rcode())),
            Field::DnsAncount => num(u64::from(self.dns()?.ancount)),
            Field::DnsQtype => num(u64::from(self.dns()?.question.as_ref().filter(|q| !q.cut)?.qtype)),
            Field::DnsQclass => num(u64::from(self.dns()?.question.as_ref().filter(|q| !q.cut)?.qclass)),
            Field::DnsLabels => num(self.dns()?.question.as_ref()?.name.label_count() as u64),
            Field::DnsLabelMaxlen => num(self.dns()?.question.as_ref()?.name.max_label_len() as u64),
            Field::DnsQname => self.qname().map(Bytes),
            Field::DnsQnameLen => num(self.qname()?.len() as u64),
            Field::DnsQnameEntropy => {
                if self.qname_entropy.is_none() {
                    self.qname_entropy = Some(entropy::shannon_nocase(self.qname()?));
                }
                self.qname_entropy.map(Num)
            }
            Field::DnsDomain => self.dns_domain().map(Bytes),
            Field::DnsDomainLen => num(self.dns_domain()?.len() as u64),
            Field::DnsDomainEntropy => {
                if self.domain_entropy.is_none() {
                    self.domain_entropy = Some(entropy::shannon_nocase(self.dns_domain()?));
                }
                self.domain_entropy.map(Num)
            }
            Field::DnsSubdomain => self.dns_subdomain().map(Bytes),
            Field::DnsSubdomainLen => num(self.dns_subdomain()?.len() as u64),
            Field::DnsSubdomainEntropy => {
                if self.subdomain_entropy.is_none() {
                    self.subdomain_entropy = Some(entropy::shannon_nocase(self.dns_subdomain()?));
                }
                self.subdomain_entropy.map(Num)
            }
            Field::DnsSubdomainAlphabet => {
                if self.subdomain_alphabet.is_none() {
                    self.subdomain_alphabet = Some(alphabet::name_alphabet(self.dns_subdomain()?));
                }
                self.subdomain_alphabet.map(|a| Num(f64::from(a.code())))
            }
            Field::DnsReverse => self.whole_qname().map(|name| Bool(name_shape::is_reverse_name(name))),
            Field::DnsService => self.whole_qname().map(|name| Bool(name_shape::is_service_name(name))),
            Field::DnsTcpReassembled => self.dns_tcp.map(Bool),
        }
    }
}

/// Byte offset where the registered domain (by the Public Suffix List) starts
/// in a dotted name, or `None` if the name is a public suffix itself or empty.
/// The lookup is case-insensitive and ignores a trailing dot.
pub fn registered_domain_start(name: &[u8]) -> Option<usize> {
    let mut lower = [0u8; dns::MAX_NAME_LEN + 1];
    let trimmed = name.strip_suffix(b".").unwrap_or(name);
    let buf = lower.get_mut(..trimmed.len())?;
    for (dst, src) in buf.iter_mut().zip(trimmed) {
        *dst = src.to_ascii_lowercase();
    }
    let domain = psl::domain(buf)?;
    trimmed.len().checked_sub(domain.as_bytes().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domain_split() {
        let name = b"a1b2.c3.Example.CO.uk";
        let start = registered_domain_start(name).unwrap();
        assert_eq!(&name[start..], b"Example.CO.uk");
        assert_eq!(registered_domain_start(b"com"), None);
        let start = registered_domain_start(b"x.pirate.sea").unwrap();
        assert_eq!(start, 2);
        assert_eq!(registered_domain_start(b""), None);
    }
}
