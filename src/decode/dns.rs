//! DNS message decoder: a zero-copy, allocation-free view of the parts of a DNS message that
//! detection rules look at — the header and the first question.
//!
//! Why it looks like this: it runs on every port-53 packet at line rate, and the packets that
//! matter most (tunnels, fuzzers, attacks) are the hostile ones. So it never allocates, never
//! recurses, bounds every compression-pointer chain, and reports a malformed message as a small
//! `Copy` [`DnsError`] that callers count in statistics rather than log. The fixed-layout parts
//! (header, question type and class, record header) are nom 8 parsers; names are decoded by an
//! explicit loop because compression pointers may jump anywhere inside the whole message.
//!
//! Only the first question's name is decoded (into the inline [`DnsName`]); the other questions
//! and the record sections are not read, since no rule field looks at them.
//!
//! Every length byte from 64 to 127 (top bits `01`) is reported as [`DnsError::LabelTooLong`]:
//! the only label type ever defined there, the bit-string label `0x41`, is obsolete
//! (RFC 6891 §5), so in practice such a byte is an encoder writing a label longer than 63
//! bytes. Top bits `10` were never assigned and are [`DnsError::ReservedLabelType`].

use core::fmt;

use nom::number::complete::be_u16;
use nom::Parser;

/// Longest name in wire form (RFC 1035 §2.3.4), counting every length byte and the root byte.
pub const MAX_NAME_LEN: usize = 255;

/// Size of the fixed DNS header.
const HEADER_LEN: usize = 12;

/// Most compression pointers followed while decoding one name.
const MAX_POINTER_JUMPS: u8 = 16;

/// Bits of the header `flags` word (RFC 1035 §4.1.1).
mod flag {
    /// Set in responses, clear in queries.
    pub const RESPONSE: u16 = 0x8000;
    /// Where the 4-bit opcode starts.
    pub const OPCODE_SHIFT: u16 = 11;
    /// Set when the message was truncated to fit the transport.
    pub const TRUNCATED: u16 = 0x0200;
    /// Set when the client asks for recursion.
    pub const RECURSION_DESIRED: u16 = 0x0100;
    /// Mask of a 4-bit field once shifted down (opcode, rcode).
    pub const NIBBLE: u16 = 0x000f;
}

/// What nom parsers here return: failures carry nothing, callers map them to a [`DnsError`].
type Parsed<'a, T> = nom::IResult<&'a [u8], T, ()>;

/// Why a DNS message could not be decoded. Small and `Copy` so callers can count it per packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DnsError {
    /// The message is shorter than the 12-byte header.
    #[error("DNS message shorter than its 12-byte header")]
    TooShort,
    /// A name runs past the end of the message.
    #[error("DNS name runs past the end of the message")]
    TruncatedName,
    /// A length byte of 64..=127: a label longer than 63 bytes.
    #[error("DNS label longer than 63 bytes")]
    LabelTooLong,
    /// A name is longer than 255 bytes in wire form.
    #[error("DNS name longer than 255 bytes")]
    NameTooLong,
    /// A name follows more than 16 compression pointers (a loop, or an attack).
    #[error("DNS name follows more than 16 compression pointers")]
    PointerLoop,
    /// A compression pointer points at or beyond the end of the message.
    #[error("DNS compression pointer beyond the end of the message")]
    PointerOutOfRange,
    /// A length byte of 128..=191: a label type that was never assigned.
    #[error("DNS label of a reserved type")]
    ReservedLabelType,
    /// The first question ends before its type and class.
    #[error("DNS question ends before its type and class")]
    TruncatedQuestion,
    /// The DNS-over-TCP length prefix is too small to hold a message (zero included).
    #[error("DNS-over-TCP length prefix too small for a message")]
    BadTcpLength,
}

impl DnsError {
    /// A stable snake_case name for statistics, e.g. `"dns_label_too_long"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooShort => "dns_too_short",
            Self::TruncatedName => "dns_truncated_name",
            Self::LabelTooLong => "dns_label_too_long",
            Self::NameTooLong => "dns_name_too_long",
            Self::PointerLoop => "dns_pointer_loop",
            Self::PointerOutOfRange => "dns_pointer_out_of_range",
            Self::ReservedLabelType => "dns_reserved_label_type",
            Self::TruncatedQuestion => "dns_truncated_question",
            Self::BadTcpLength => "dns_bad_tcp_length",
        }
    }
}

/// A decoded domain name in dotted form, held inline (no heap): labels joined by `b'.'`, raw
/// label bytes kept as-is (tunnels such as iodine use raw 8-bit labels). The root name is empty
/// (len 0). A label that itself contains `b'.'` is not escaped; use [`DnsName::label_count`]
/// when the count matters.
#[derive(Clone, Copy)]
pub struct DnsName {
    /// Dotted bytes; only `..len` is meaningful.
    buf: [u8; MAX_NAME_LEN + 1],
    /// Length of the dotted form (at most 253 for a name that fits the wire limit).
    len: u16,
    /// Number of labels.
    labels: u8,
    /// Length of the longest label.
    max_label: u8,
}

impl DnsName {
    /// The root name: no labels, no bytes.
    pub const fn empty() -> Self {
        Self { buf: [0; MAX_NAME_LEN + 1], len: 0, labels: 0, max_label: 0 }
    }

    /// The dotted bytes, without a trailing dot.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len()).unwrap_or_default()
    }

    /// Length of the dotted form in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True for the root name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of labels (0 for the root name).
    pub fn label_count(&self) -> usize {
        usize::from(self.labels)
    }

    /// Length of the longest label (0 for the root name).
    pub fn max_label_len(&self) -> usize {
        usize::from(self.max_label)
    }

    /// Appends one label (1..=63 bytes), with a dot before it unless it is the first.
    fn push_label(&mut self, label: &[u8]) -> Result<(), DnsError> {
        let start = self.len();
        let separator = usize::from(self.labels > 0);
        let end = start + separator + label.len();
        let dest = self.buf.get_mut(start..end).ok_or(DnsError::NameTooLong)?;
        let (dot, text) = dest.split_at_mut_checked(separator).ok_or(DnsError::NameTooLong)?;
        dot.fill(b'.');
        text.copy_from_slice(label);
        self.len = u16::try_from(end).map_err(|_| DnsError::NameTooLong)?;
        self.labels = self.labels.saturating_add(1);
        let label_len = u8::try_from(label.len()).map_err(|_| DnsError::LabelTooLong)?;
        self.max_label = self.max_label.max(label_len);
        Ok(())
    }
}

impl Default for DnsName {
    fn default() -> Self {
        Self::empty()
    }
}

impl PartialEq for DnsName {
    fn eq(&self, other: &Self) -> bool {
        self.labels == other.labels && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DnsName {}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DnsName(\"")?;
        write_escaped(self.as_bytes(), f)?;
        f.write_str("\")")
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(self.as_bytes(), f)
    }
}

/// Writes a name for humans/JSON: printable ASCII as-is, other bytes as `\xHH` (lowercase hex).
/// A backslash is written as `\x5c` so the output reads back unambiguously.
pub fn write_escaped(bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    // Each chunk is a run of plain bytes, possibly ending with one byte to escape.
    for chunk in bytes.split_inclusive(|&byte| !is_plain(byte)) {
        match chunk.split_last() {
            Some((&last, plain)) if !is_plain(last) => {
                write_plain(plain, out)?;
                write_hex_escape(last, out)?;
            }
            _ => write_plain(chunk, out)?,
        }
    }
    Ok(())
}

/// True for bytes [`write_escaped`] writes as they are.
fn is_plain(byte: u8) -> bool {
    (0x20..=0x7e).contains(&byte) && byte != b'\\'
}

/// Writes a run of plain (printable ASCII) bytes in one call.
fn write_plain(plain: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    match core::str::from_utf8(plain) {
        Ok(text) => out.write_str(text),
        // Plain bytes are ASCII, so this is never taken; it just avoids a panic path.
        Err(_) => plain.iter().try_for_each(|&b| out.write_char(char::from(b))),
    }
}

/// Writes one byte as `\xHH`.
fn write_hex_escape(byte: u8, out: &mut impl fmt::Write) -> fmt::Result {
    out.write_str("\\x")?;
    out.write_char(hex_digit(byte >> 4))?;
    out.write_char(hex_digit(byte & 0x0f))
}

/// The lowercase hex digit of a nibble.
fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('?')
}

/// One entry of the question section.
#[derive(Clone, Copy, Debug)]
pub struct Question {
    /// The queried name.
    pub name: DnsName,
    /// The query type (see [`qtype_name`]).
    pub qtype: u16,
    /// The query class (1 = IN).
    pub qclass: u16,
    /// The capture ended inside the question (a snap length): `name` holds
    /// the labels captured, the last perhaps in part, and `qtype`/`qclass`
    /// are unknown (0).
    pub cut: bool,
}

/// A decoded DNS message, borrowing the packet bytes.
#[derive(Clone, Copy, Debug)]
pub struct DnsMessage<'a> {
    /// Transaction id.
    pub id: u16,
    /// The raw flags word (see the accessor methods).
    pub flags: u16,
    /// Number of questions the header announces.
    pub qdcount: u16,
    /// Number of answers the header announces.
    pub ancount: u16,
    /// Number of authority records the header announces.
    pub nscount: u16,
    /// Number of additional records the header announces.
    pub arcount: u16,
    /// The first question, if the header announces one (a malformed one fails the decode).
    pub question: Option<Question>,
    /// The whole message.
    pub raw: &'a [u8],
}

impl DnsMessage<'_> {
    /// True for a response (QR bit set).
    pub fn is_response(&self) -> bool {
        self.flags & flag::RESPONSE != 0
    }

    /// The 4-bit opcode (0 = QUERY; see [`opcode_from_name`]).
    pub fn opcode(&self) -> u8 {
        nibble(self.flags >> flag::OPCODE_SHIFT)
    }

    /// The 4-bit response code (0 = NOERROR; see [`rcode_name`]).
    pub fn rcode(&self) -> u8 {
        nibble(self.flags)
    }

    /// True when the TC bit says the message was truncated.
    pub fn truncated(&self) -> bool {
        self.flags & flag::TRUNCATED != 0
    }

    /// True when the RD bit asks for recursion.
    pub fn recursion_desired(&self) -> bool {
        self.flags & flag::RECURSION_DESIRED != 0
    }
}

/// The low 4 bits of `word`.
fn nibble(word: u16) -> u8 {
    // The mask makes the value fit in a u8.
    (word & flag::NIBBLE) as u8
}

/// Decodes a DNS message carried in UDP.
pub fn parse_message(data: &[u8]) -> Result<DnsMessage<'_>, DnsError> {
    parse_with(data, false)
}

/// Decodes a DNS message a snap length cut short: a question that ends
/// early keeps the labels captured and is marked [`Question::cut`].
pub fn parse_cut(data: &[u8]) -> Result<DnsMessage<'_>, DnsError> {
    parse_with(data, true)
}

fn parse_with(data: &[u8], cut_ok: bool) -> Result<DnsMessage<'_>, DnsError> {
    let (body, header) = parse_header(data).map_err(|_| DnsError::TooShort)?;
    let question = match header.qdcount {
        0 => None,
        _ => match parse_question(data, body) {
            Ok((_, q)) => Some(q),
            Err(DnsError::TruncatedName | DnsError::TruncatedQuestion) if cut_ok => Some(cut_question(data, body)?),
            Err(e) => return Err(e),
        },
    };
    Ok(DnsMessage {
        id: header.id,
        flags: header.flags,
        qdcount: header.qdcount,
        ancount: header.ancount,
        nscount: header.nscount,
        arcount: header.arcount,
        question,
        raw: data,
    })
}

/// Decodes the first DNS message of a TCP segment (2-byte length prefix; a length longer than
/// the segment is decoded as far as the segment goes if the header and question fit; a length
/// too small for a header, zero included, is [`DnsError::BadTcpLength`]; a segment without a
/// whole length prefix is [`DnsError::TooShort`]). `raw` is the message without the prefix.
pub fn parse_tcp(data: &[u8]) -> Result<DnsMessage<'_>, DnsError> {
    let (segment, declared) = tcp_length(data).map_err(|_| DnsError::TooShort)?;
    let declared = usize::from(declared);
    if declared < HEADER_LEN {
        return Err(DnsError::BadTcpLength);
    }
    parse_message(segment.get(..declared).unwrap_or(segment))
}

/// [`parse_tcp`] for a segment a snap length cut short (see [`parse_cut`]).
pub fn parse_tcp_cut(data: &[u8]) -> Result<DnsMessage<'_>, DnsError> {
    let (segment, declared) = tcp_length(data).map_err(|_| DnsError::TooShort)?;
    if usize::from(declared) < HEADER_LEN {
        return Err(DnsError::BadTcpLength);
    }
    parse_cut(segment.get(..usize::from(declared)).unwrap_or(segment))
}

/// Most resource records [`has_dns_shape`] walks.
const SHAPE_MAX_RECORDS: usize = 64;

/// True if a UDP payload has the strict shape of one DNS message: how DNS
/// is recognised off port 53. Stricter than [`parse_message`], so random
/// payloads (QUIC, RTP, games, VPNs) do not pass: one question; opcode
/// query, notify or update; the reserved Z bit clear; a question name of
/// labels of 1-63 bytes, 255 bytes at most and no compression pointer (there
/// is no earlier name to point to); a question class IN, CH, HS, NONE or ANY
/// and a type other than 0; a query (opcode 0) without answers or authority
/// records and with response code 0; then every counted record walks (names
/// whose pointers point back, fixed fields, data inside the message) and the
/// message ends exactly where the last record does. Reads the header and
/// the records once; allocates nothing.
pub fn has_dns_shape(data: &[u8]) -> bool {
    let word = |at: usize| data.get(at..).and_then(|b| b.first_chunk::<2>()).map(|b| u16::from_be_bytes(*b));
    let (Some(flags), Some(qd), Some(an), Some(ns), Some(ar)) = (word(2), word(4), word(6), word(8), word(10)) else {
        return false;
    };
    let opcode = (flags >> flag::OPCODE_SHIFT) & flag::NIBBLE;
    let response = flags & flag::RESPONSE != 0;
    if qd != 1 || flags & 0x0040 != 0 || !matches!(opcode, 0 | 4 | 5) {
        return false;
    }
    if opcode == 0 && !response && (an != 0 || ns != 0 || flags & flag::NIBBLE != 0) {
        return false;
    }
    let records = usize::from(an) + usize::from(ns) + usize::from(ar);
    if records > SHAPE_MAX_RECORDS || records * 11 > data.len() {
        return false;
    }
    let Some(mut at) = shape_name(data, HEADER_LEN, false) else { return false };
    let (Some(qtype), Some(qclass)) = (word(at), word(at + 2)) else { return false };
    if qtype == 0 || !matches!(qclass & 0x7fff, 1 | 3 | 4 | 254 | 255) {
        return false;
    }
    at += 4;
    for _ in 0..records {
        let Some(end) = shape_name(data, at, true) else { return false };
        let Some(rdlen) = word(end + 8) else { return false };
        at = end + 10 + usize::from(rdlen);
        if at > data.len() {
            return false;
        }
    }
    at == data.len()
}

/// Walks a name at `at` for [`has_dns_shape`]: where it ends, if it is
/// well formed (pointers, when allowed, must point back before the name).
fn shape_name(data: &[u8], start: usize, pointers: bool) -> Option<usize> {
    let (mut at, mut len) = (start, 0usize);
    loop {
        let byte = *data.get(at)?;
        match byte {
            0 => return Some(at + 1),
            1..=63 => {
                len += usize::from(byte) + 1;
                at += usize::from(byte) + 1;
                if len > MAX_NAME_LEN || at > data.len() {
                    return None;
                }
            }
            0xc0..=0xff if pointers => {
                let target = usize::from(u16::from_be_bytes([byte, *data.get(at + 1)?]) & 0x3fff);
                return (HEADER_LEN..start).contains(&target).then_some(at + 2);
            }
            _ => return None,
        }
    }
}

/// The DNS-over-TCP length prefix (RFC 1035 §4.2.2).
fn tcp_length(data: &[u8]) -> Parsed<'_, u16> {
    be_u16(data)
}

/// The six words of the fixed header.
struct Header {
    id: u16,
    flags: u16,
    qdcount: u16,
    ancount: u16,
    nscount: u16,
    arcount: u16,
}

/// Parses the 12-byte header.
fn parse_header(data: &[u8]) -> Parsed<'_, Header> {
    let (rest, (id, flags, qdcount, ancount, nscount, arcount)) =
        (be_u16, be_u16, be_u16, be_u16, be_u16, be_u16).parse_complete(data)?;
    let header = Header { id, flags, qdcount, ancount, nscount, arcount };
    Ok((rest, header))
}

/// Decodes a question starting at `input` (a suffix of `msg`).
fn parse_question<'a>(msg: &'a [u8], input: &'a [u8]) -> Result<(&'a [u8], Question), DnsError> {
    let (rest, name) = parse_name(msg, input)?;
    let (rest, (qtype, qclass)) = type_and_class(rest).map_err(|_| DnsError::TruncatedQuestion)?;
    Ok((rest, Question { name, qtype, qclass, cut: false }))
}

/// The part of a question the capture kept: every label up to the end of
/// the bytes, the last one perhaps in part.
fn cut_question(msg: &[u8], input: &[u8]) -> Result<Question, DnsError> {
    let mut name = DnsName::empty();
    let mut cursor = input;
    let mut jumps = 0;
    while let Some((&head, rest)) = cursor.split_first() {
        match LabelHead::classify(head) {
            LabelHead::End => break,
            LabelHead::Label(len) => {
                let (label, rest) = rest.split_at_checked(len).unwrap_or((rest, &[]));
                if label.is_empty() {
                    break;
                }
                name.push_label(label)?;
                cursor = rest;
            }
            LabelHead::Pointer(high) => {
                let Some(&low) = rest.first() else { break };
                if jumps == MAX_POINTER_JUMPS {
                    return Err(DnsError::PointerLoop);
                }
                jumps += 1;
                cursor = pointer_target(msg, high, low)?;
            }
            LabelHead::TooLong => return Err(DnsError::LabelTooLong),
            LabelHead::Reserved => return Err(DnsError::ReservedLabelType),
        }
    }
    Ok(Question { name, qtype: 0, qclass: 0, cut: true })
}

/// The type and class that end a question.
fn type_and_class(input: &[u8]) -> Parsed<'_, (u16, u16)> {
    (be_u16, be_u16).parse_complete(input)
}

/// What a name's length byte announces (RFC 1035 §4.1.4, RFC 6891 §5).
enum LabelHead {
    /// The root label: the name ends here.
    End,
    /// An ordinary label of 1..=63 bytes.
    Label(usize),
    /// A compression pointer; holds the high 6 bits of the 14-bit offset.
    Pointer(u8),
    /// Top bits `01`: a length of 64..=127, too long for a label.
    TooLong,
    /// Top bits `10`: a label type never assigned.
    Reserved,
}

impl LabelHead {
    /// Classifies a length byte by its top two bits.
    fn classify(byte: u8) -> Self {
        match byte >> 6 {
            0b00 if byte == 0 => Self::End,
            0b00 => Self::Label(usize::from(byte)),
            0b11 => Self::Pointer(byte & 0x3f),
            0b01 => Self::TooLong,
            _ => Self::Reserved,
        }
    }
}

/// Decodes the name starting at `input` (a suffix of `msg`), following compression pointers
/// anywhere inside `msg` (at most [`MAX_POINTER_JUMPS`]). Returns what follows the name where
/// it started — after the first pointer, if there was one.
fn parse_name<'a>(msg: &'a [u8], input: &'a [u8]) -> Result<(&'a [u8], DnsName), DnsError> {
    let mut name = DnsName::empty();
    let mut cursor = input;
    let mut after_name: Option<&'a [u8]> = None;
    let mut wire_len = 1; // the root byte that ends every name
    let mut jumps = 0;
    loop {
        let (&head, rest) = cursor.split_first().ok_or(DnsError::TruncatedName)?;
        match LabelHead::classify(head) {
            LabelHead::End => return Ok((after_name.unwrap_or(rest), name)),
            LabelHead::Label(len) => {
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(DnsError::NameTooLong);
                }
                let (label, rest) = rest.split_at_checked(len).ok_or(DnsError::TruncatedName)?;
                name.push_label(label)?;
                cursor = rest;
            }
            LabelHead::Pointer(high) => {
                let (&low, rest) = rest.split_first().ok_or(DnsError::TruncatedName)?;
                if jumps == MAX_POINTER_JUMPS {
                    return Err(DnsError::PointerLoop);
                }
                jumps += 1;
                after_name.get_or_insert(rest);
                cursor = pointer_target(msg, high, low)?;
            }
            LabelHead::TooLong => return Err(DnsError::LabelTooLong),
            LabelHead::Reserved => return Err(DnsError::ReservedLabelType),
        }
    }
}

/// The bytes of `msg` a compression pointer points at; never empty.
fn pointer_target(msg: &[u8], high: u8, low: u8) -> Result<&[u8], DnsError> {
    let offset = usize::from(u16::from_be_bytes([high, low]));
    match msg.get(offset..) {
        Some(target) if !target.is_empty() => Ok(target),
        _ => Err(DnsError::PointerOutOfRange),
    }
}

/// Most questions and answers [`records`] reads.
pub const MAX_RECORDS: usize = 32;

/// One resource record of the answer section, as EVE logs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner name, escaped (see [`write_escaped`]).
    pub name: String,
    /// Record type.
    pub rtype: u16,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The data as text, for the types that have a textual form (A, AAAA, names, TXT).
    pub data: Option<String>,
}

/// The question and answer sections of a message, for output (alerts are rare: this allocates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// Every question (name escaped, type), at most [`MAX_RECORDS`].
    pub questions: Vec<(String, u16)>,
    /// The answers, at most [`MAX_RECORDS`]; the walk stops at the first malformed one.
    pub answers: Vec<Record>,
}

/// Reads the questions and answers of `msg` (what a bounded walk can read; never fails).
pub fn records(msg: &DnsMessage<'_>) -> Records {
    let mut out = Records::default();
    let raw = msg.raw;
    let Some(mut cursor) = raw.get(HEADER_LEN..) else { return out };
    for _ in 0..msg.qdcount {
        let Ok((rest, q)) = parse_question(raw, cursor) else { return out };
        if out.questions.len() < MAX_RECORDS {
            out.questions.push((q.name.to_string(), q.qtype));
        }
        cursor = rest;
    }
    for _ in 0..msg.ancount.min(MAX_RECORDS as u16) {
        let Ok((rest, name)) = parse_name(raw, cursor) else { break };
        let Ok((rest, (rtype, _class, ttl, data))) =
            (be_u16, be_u16, nom::number::complete::be_u32, nom::multi::length_data(be_u16)).parse_complete(rest)
                as Parsed<'_, (u16, u16, u32, &[u8])>
        else {
            break;
        };
        out.answers.push(Record { name: name.to_string(), rtype, ttl, data: rdata_text(raw, rtype, data) });
        cursor = rest;
    }
    out
}

/// The text of a record's data: addresses, names (CNAME, NS, PTR, MX's exchange), TXT strings.
fn rdata_text(msg: &[u8], rtype: u16, data: &[u8]) -> Option<String> {
    match rtype {
        1 => <[u8; 4]>::try_from(data).ok().map(|a| std::net::Ipv4Addr::from(a).to_string()),
        28 => <[u8; 16]>::try_from(data).ok().map(|a| std::net::Ipv6Addr::from(a).to_string()),
        2 | 5 | 12 => parse_name(msg, data).ok().map(|(_, n)| n.to_string()),
        15 => parse_name(msg, data.get(2..)?).ok().map(|(_, n)| n.to_string()),
        16 => {
            let mut text = String::new();
            let mut rest = data;
            while let Some((&len, tail)) = rest.split_first() {
                let (chunk, tail) = tail.split_at_checked(usize::from(len)).unwrap_or((tail, &[]));
                write_escaped(chunk, &mut text).ok()?;
                rest = tail;
            }
            Some(text)
        }
        _ => None,
    }
}

/// Record types rules can name.
const QTYPES: [(u16, &str); 24] = [
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (10, "NULL"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (28, "AAAA"),
    (33, "SRV"),
    (35, "NAPTR"),
    (41, "OPT"),
    (43, "DS"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (252, "AXFR"),
    (255, "ANY"),
    (257, "CAA"),
];

/// Response codes rules can name (RFC 1035 §4.1.1).
const RCODES: [(u8, &str); 6] =
    [(0, "NOERROR"), (1, "FORMERR"), (2, "SERVFAIL"), (3, "NXDOMAIN"), (4, "NOTIMP"), (5, "REFUSED")];

/// Opcodes rules can name (RFC 1035, RFC 1996, RFC 2136).
const OPCODES: [(u8, &str); 5] = [(0, "QUERY"), (1, "IQUERY"), (2, "STATUS"), (4, "NOTIFY"), (5, "UPDATE")];

/// The name of `value` in `table`.
fn name_in<T: PartialEq>(table: &[(T, &'static str)], value: T) -> Option<&'static str> {
    table.iter().find(|(known, _)| *known == value).map(|&(_, name)| name)
}

/// The value named `name` in `table`, ignoring ASCII case.
fn value_in<T: Copy>(table: &[(T, &'static str)], name: &str) -> Option<T> {
    table.iter().find(|(_, known)| known.eq_ignore_ascii_case(name)).map(|&(value, _)| value)
}

/// The mnemonic of a record type: A NS CNAME SOA PTR NULL HINFO MX TXT AAAA SRV NAPTR OPT DS
/// RRSIG NSEC DNSKEY NSEC3 SVCB HTTPS SPF CAA AXFR ANY.
pub fn qtype_name(t: u16) -> Option<&'static str> {
    name_in(&QTYPES, t)
}

/// The record type of a mnemonic (see [`qtype_name`]), ignoring ASCII case; also accepts the
/// generic `TYPEnnn` form of RFC 3597 for types without a mnemonic.
pub fn qtype_from_name(s: &str) -> Option<u16> {
    value_in(&QTYPES, s).or_else(|| generic_type(s))
}

/// Parses `TYPEnnn` (any case) into `nnn`.
fn generic_type(s: &str) -> Option<u16> {
    let (prefix, digits) = s.split_at_checked(4)?;
    let is_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !prefix.eq_ignore_ascii_case("TYPE") || !is_digits {
        return None;
    }
    digits.parse().ok()
}

/// The response code of a name: NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED (any case).
pub fn rcode_from_name(s: &str) -> Option<u8> {
    value_in(&RCODES, s)
}

/// The name of a response code (see [`rcode_from_name`]).
pub fn rcode_name(rcode: u8) -> Option<&'static str> {
    name_in(&RCODES, rcode)
}

/// The opcode of a name: QUERY IQUERY STATUS NOTIFY UPDATE (any case).
pub fn opcode_from_name(s: &str) -> Option<u8> {
    value_in(&OPCODES, s)
}

/// The name of an opcode (see [`opcode_from_name`]).
pub fn opcode_name(opcode: u8) -> Option<&'static str> {
    name_in(&OPCODES, opcode)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` (type A, class IN), as a stub resolver sends it.
    fn shaped_query(name: &str, edns: bool) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)];
        for label in name.split('.') {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        if edns {
            m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        }
        m
    }

    #[test]
    fn dns_shape_accepts_queries_and_responses() {
        assert!(has_dns_shape(&shaped_query("www.example.com", false)));
        assert!(has_dns_shape(&shaped_query("mfrggzdfmztwq2lk.t.example", true)));
        let mut response = shaped_query("www.example.com", false);
        response[2] = 0x81;
        response[3] = 0x80;
        response[7] = 1;
        response.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        assert!(has_dns_shape(&response));
        // One byte more or less than the records say is not DNS.
        let mut longer = response.clone();
        longer.push(0);
        assert!(!has_dns_shape(&longer));
        assert!(!has_dns_shape(&response[..response.len() - 1]));
        // A pointer in the question (nothing earlier to point to).
        let mut pointer = shaped_query("a.b", false);
        pointer[12] = 0xc0;
        assert!(!has_dns_shape(&pointer));
    }

    #[test]
    fn random_and_quic_payloads_are_not_dns_shaped() {
        // xorshift: deterministic random payloads of every usual UDP size.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut buf = vec![0u8; 1500];
        for i in 0..200_000 {
            let len = 12 + (next() % 1400) as usize;
            for b in buf.iter_mut().take(len) {
                *b = next() as u8;
            }
            let data = &mut buf[..len];
            match i % 4 {
                // QUIC long header (Initial, version 1).
                0 => data[..6].copy_from_slice(&[0xc3, 0, 0, 0, 1, 8]),
                // QUIC short header.
                1 => data[0] = 0x40 | (data[0] & 0x3f),
                // RTP (version 2, Opus).
                2 => data[..2].copy_from_slice(&[0x80, 111]),
                _ => {}
            }
            assert!(!has_dns_shape(data), "payload {i} taken for DNS: {:02x?}", &data[..16]);
        }
        // The hardest case: a header that passes, random bytes after it.
        let mut passing_header = 0;
        for _ in 0..50_000 {
            let len = 20 + (next() % 1200) as usize;
            for b in buf.iter_mut().take(len) {
                *b = next() as u8;
            }
            buf[2..12].copy_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
            passing_header += usize::from(has_dns_shape(&buf[..len]));
        }
        assert_eq!(passing_header, 0, "a valid header alone is not enough");
    }

    use proptest::prelude::*;

    // ---- test-only encoder -------------------------------------------------------------

    /// Encodes labels in wire form, ending with the root byte.
    fn encode_name(labels: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_labels(&mut out, labels);
        out.push(0);
        out
    }

    /// Appends labels in wire form without the root byte (so a pointer may follow).
    fn encode_labels(out: &mut Vec<u8>, labels: &[&[u8]]) {
        for label in labels {
            out.push(u8::try_from(label.len()).unwrap());
            out.extend_from_slice(label);
        }
    }

    /// A 12-byte header.
    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [id, flags].into_iter().chain(counts) {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// A one-question query for `labels`.
    fn query(labels: &[&[u8]], qtype: u16) -> Vec<u8> {
        let mut out = header(0x1234, 0x0100, [1, 0, 0, 0]);
        out.extend(encode_name(labels));
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out
    }

    /// A message whose first question's name is the wire bytes `name` (and type A, class IN).
    fn with_question_name(name: &[u8]) -> Vec<u8> {
        let mut out = header(7, 0, [1, 0, 0, 0]);
        out.extend_from_slice(name);
        out.extend_from_slice(&[0, 1, 0, 1]);
        out
    }

    /// The first question's name, or the error.
    fn question_name(msg: &[u8]) -> Result<Vec<u8>, DnsError> {
        let message = parse_message(msg)?;
        Ok(message.question.unwrap().name.as_bytes().to_vec())
    }

    fn escaped(bytes: &[u8]) -> String {
        let mut out = String::new();
        write_escaped(bytes, &mut out).unwrap();
        out
    }

    // ---- fixtures ------------------------------------------------------------------------

    /// `www.example.com A IN`, recursion desired.
    const A_QUERY: [u8; 33] = [
        0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
        0x03, b'w', b'w', b'w', 0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'c', b'o', b'm',
        0x00, // name
        0x00, 0x01, 0x00, 0x01, // A IN
    ];

    /// Response: `www.example.com CNAME cdn.example.com`, `cdn.example.com A 93.184.216.34`,
    /// both owners and the CNAME target compressed.
    const CNAME_RESPONSE: [u8; 67] = [
        0xab, 0xcd, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // header
        0x03, b'w', b'w', b'w', 0x07, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0x03, b'c', b'o', b'm', 0x00, 0x00,
        0x01, 0x00, 0x01, // question, ends at 33
        0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x06, // CNAME hdr
        0x03, b'c', b'd', b'n', 0xc0, 0x10, // rdata at 45: cdn + -> example.com
        0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, // A hdr
        93, 184, 216, 34, // rdata
    ];

    // ---- well-formed messages ------------------------------------------------------------

    #[test]
    fn decodes_a_query() {
        let msg = parse_message(&A_QUERY).unwrap();
        assert_eq!((msg.id, msg.qdcount, msg.ancount), (0xabcd, 1, 0));
        assert!(!msg.is_response() && msg.recursion_desired() && !msg.truncated());
        assert_eq!((msg.opcode(), msg.rcode()), (0, 0));
        let question = msg.question.unwrap();
        assert_eq!(question.name.as_bytes(), b"www.example.com");
        assert_eq!((question.qtype, question.qclass), (1, 1));
        assert_eq!(question.name.label_count(), 3);
        assert_eq!(question.name.max_label_len(), 7);
        assert_eq!(msg.raw.len(), A_QUERY.len());
    }

    #[test]
    fn decodes_compressed_cname_response() {
        let msg = parse_message(&CNAME_RESPONSE).unwrap();
        assert!(msg.is_response());
        assert_eq!(msg.question.unwrap().name.as_bytes(), b"www.example.com");
    }

    #[test]
    fn follows_nested_pointers_in_answers() {
        let msg = &CNAME_RESPONSE[..];
        // The A owner at 51 points at "cdn" which points at "example.com".
        let (rest, name) = parse_name(msg, &msg[51..]).unwrap();
        assert_eq!(name.as_bytes(), b"cdn.example.com");
        assert_eq!(name.label_count(), 3);
        assert_eq!(rest, &msg[53..]);
    }

    #[test]
    fn reads_header_flags() {
        // QR, opcode UPDATE, TC, RD, rcode NXDOMAIN.
        let flags = 0x8000 | (5 << 11) | 0x0200 | 0x0100 | 3;
        let bytes = header(1, flags, [0; 4]);
        let msg = parse_message(&bytes).unwrap();
        assert!(msg.is_response() && msg.truncated() && msg.recursion_desired());
        assert_eq!(msg.opcode(), 5);
        assert_eq!(msg.rcode(), 3);
        assert!(msg.question.is_none());
    }

    #[test]
    fn decodes_long_tunnel_like_txt_query() {
        let hex: Vec<u8> = (0..63).map(|i| b"0123456789abcdef"[i % 16]).collect();
        let labels: [&[u8]; 6] = [&hex, &hex, &hex, b"t", b"example", b"com"];
        let bytes = query(&labels, 16);
        let msg = parse_message(&bytes).unwrap();
        let question = msg.question.unwrap();
        assert_eq!(question.qtype, 16);
        assert_eq!(question.name.as_bytes(), labels.join(&b'.').as_slice());
        assert_eq!(question.name.label_count(), 6);
        assert_eq!(question.name.max_label_len(), 63);
        assert_eq!(question.name.len(), 3 * 64 + 2 + 8 + 3);
    }

    #[test]
    fn keeps_raw_8bit_label_bytes() {
        let raw_label: &[u8] = &[0x00, 0xff, 0x80, b'.', 0xc0, b'\\', b'a'];
        let bytes = query(&[raw_label, b"pirate", b"sea"], 10);
        let msg = parse_message(&bytes).unwrap();
        let name = msg.question.unwrap().name;
        assert_eq!(name.as_bytes(), b"\x00\xff\x80.\xc0\\a.pirate.sea");
        assert_eq!(name.label_count(), 3);
        assert_eq!(escaped(name.as_bytes()), r"\x00\xff\x80.\xc0\x5ca.pirate.sea");
        assert_eq!(format!("{name:?}"), r#"DnsName("\x00\xff\x80.\xc0\x5ca.pirate.sea")"#);
        assert_eq!(name.to_string(), r"\x00\xff\x80.\xc0\x5ca.pirate.sea");
    }

    #[test]
    fn escapes_only_unprintable_bytes() {
        assert_eq!(escaped(b"plain text~ \"q\""), "plain text~ \"q\"");
        assert_eq!(escaped(b"\x7f\x1f"), r"\x7f\x1f");
        assert_eq!(escaped(b""), "");
    }

    #[test]
    fn root_name_is_empty() {
        let bytes = with_question_name(&[0]);
        let msg = parse_message(&bytes).unwrap();
        let name = msg.question.unwrap().name;
        assert!(name.is_empty());
        assert_eq!((name.len(), name.label_count(), name.max_label_len()), (0, 0, 0));
        assert_eq!(name, DnsName::empty());
    }

    // ---- compression pointers -------------------------------------------------------------

    #[test]
    fn pointer_to_itself_is_a_loop() {
        assert_eq!(question_name(&with_question_name(&[0xc0, 12])), Err(DnsError::PointerLoop));
    }

    #[test]
    fn pointers_a_b_a_are_a_loop() {
        // Name at 12 points at 14, which points back at 12.
        let mut msg = header(7, 0, [1, 0, 0, 0]);
        msg.extend_from_slice(&[0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(question_name(&msg), Err(DnsError::PointerLoop));
    }

    #[test]
    fn label_then_pointer_back_is_a_loop() {
        let msg = with_question_name(&[1, b'a', 0xc0, 12]);
        assert_eq!(question_name(&msg), Err(DnsError::PointerLoop));
    }

    /// A question whose name is a chain of `jumps` pointers ending at `a.`.
    fn pointer_chain(jumps: usize) -> Vec<u8> {
        let mut msg = header(7, 0, [1, 0, 0, 0]);
        let chain_start = 18;
        msg.extend_from_slice(&[0xc0, chain_start, 0, 1, 0, 1]);
        for hop in 1..jumps {
            msg.extend_from_slice(&[0xc0, u8::try_from(chain_start as usize + 2 * hop).unwrap()]);
        }
        msg.extend_from_slice(&[1, b'a', 0]);
        msg
    }

    #[test]
    fn sixteen_jumps_are_allowed_seventeen_are_not() {
        assert_eq!(question_name(&pointer_chain(16)).unwrap(), b"a");
        assert_eq!(question_name(&pointer_chain(17)), Err(DnsError::PointerLoop));
    }

    #[test]
    fn forward_pointer_in_range_is_valid() {
        // Name at 12 points forward past the question tail, to 18.
        let mut msg = header(7, 0, [1, 0, 0, 0]);
        msg.extend_from_slice(&[0xc0, 18, 0, 16, 0, 1, 3, b'f', b'w', b'd', 0]);
        let parsed = parse_message(&msg).unwrap();
        let question = parsed.question.unwrap();
        assert_eq!(question.name.as_bytes(), b"fwd");
        assert_eq!(question.qtype, 16);
    }

    #[test]
    fn pointer_beyond_message_is_out_of_range() {
        let msg = with_question_name(&[0xc0, 200]);
        assert_eq!(question_name(&msg), Err(DnsError::PointerOutOfRange));
        // Exactly one past the last byte is out of range too.
        let len = u8::try_from(msg.len()).unwrap();
        let msg = with_question_name(&[0xc0, len]);
        assert_eq!(question_name(&msg), Err(DnsError::PointerOutOfRange));
        let far = with_question_name(&[0xff, 0xff]);
        assert_eq!(question_name(&far), Err(DnsError::PointerOutOfRange));
    }

    #[test]
    fn pointer_into_header_is_followed() {
        // Offset 2 is the flags word 0x0000: a root name.
        let bytes = with_question_name(&[0xc0, 2]);
        let msg = parse_message(&bytes).unwrap();
        assert!(msg.question.unwrap().name.is_empty());
    }

    // ---- label and name limits ------------------------------------------------------------

    #[test]
    fn label_of_64_bytes_is_too_long() {
        let mut name = vec![64];
        name.extend([b'x'; 64]);
        name.push(0);
        assert_eq!(question_name(&with_question_name(&name)), Err(DnsError::LabelTooLong));
        assert_eq!(question_name(&with_question_name(&[0x7f])), Err(DnsError::LabelTooLong));
    }

    #[test]
    fn label_of_63_bytes_is_fine() {
        let label = [b'y'; 63];
        let name = question_name(&query(&[&label], 1)).unwrap();
        assert_eq!(name, label);
    }

    #[test]
    fn top_bits_10_are_reserved() {
        for byte in [0x80, 0xbf] {
            let msg = with_question_name(&[byte, 0]);
            assert_eq!(question_name(&msg), Err(DnsError::ReservedLabelType));
        }
    }

    #[test]
    fn name_of_255_wire_bytes_fits() {
        let long = [b'a'; 63];
        let last = [b'b'; 61];
        let labels: [&[u8]; 4] = [&long, &long, &long, &last];
        assert_eq!(encode_name(&labels).len(), 255);
        let bytes = query(&labels, 1);
        let msg = parse_message(&bytes).unwrap();
        let name = msg.question.unwrap().name;
        assert_eq!(name.len(), 253);
        assert_eq!(name.as_bytes(), labels.join(&b'.').as_slice());
    }

    #[test]
    fn name_over_255_wire_bytes_is_too_long() {
        let long = [b'a'; 63];
        let last = [b'b'; 62];
        let labels: [&[u8]; 4] = [&long, &long, &long, &last];
        assert_eq!(encode_name(&labels).len(), 256);
        assert_eq!(question_name(&query(&labels, 1)), Err(DnsError::NameTooLong));
    }

    #[test]
    fn name_over_255_through_pointers_is_too_long() {
        // "a" * 63 three times, then a pointer back to the start: the 4th label overflows.
        let mut name = Vec::new();
        encode_labels(&mut name, &[&[b'a'; 63], &[b'a'; 63], &[b'a'; 63]]);
        name.extend_from_slice(&[0xc0, 12]);
        assert_eq!(question_name(&with_question_name(&name)), Err(DnsError::NameTooLong));
    }

    // ---- truncation ----------------------------------------------------------------------

    #[test]
    fn query_truncated_at_every_byte() {
        let name_end = 12 + 17;
        for cut in 0..A_QUERY.len() {
            let expected = if cut < HEADER_LEN {
                DnsError::TooShort
            } else if cut < name_end {
                DnsError::TruncatedName
            } else {
                DnsError::TruncatedQuestion
            };
            assert_eq!(parse_message(&A_QUERY[..cut]).unwrap_err(), expected, "cut {cut}");
        }
    }

    #[test]
    fn response_truncated_at_every_byte() {
        let question_end = 33;
        for cut in question_end..CNAME_RESPONSE.len() {
            let msg = parse_message(&CNAME_RESPONSE[..cut]).unwrap();
            assert_eq!(msg.question.unwrap().name.as_bytes(), b"www.example.com");
        }
        for cut in 0..question_end {
            assert!(parse_message(&CNAME_RESPONSE[..cut]).is_err(), "cut {cut}");
        }
    }

    // ---- TCP framing -----------------------------------------------------------------------

    fn framed(message: &[u8], declared: u16) -> Vec<u8> {
        let mut out = declared.to_be_bytes().to_vec();
        out.extend_from_slice(message);
        out
    }

    #[test]
    fn tcp_decodes_framed_message() {
        let segment = framed(&A_QUERY, 33);
        let msg = parse_tcp(&segment).unwrap();
        assert_eq!(msg.question.unwrap().name.as_bytes(), b"www.example.com");
        assert_eq!(msg.raw, &A_QUERY);
    }

    #[test]
    fn tcp_decodes_only_the_first_message() {
        let mut segment = framed(&A_QUERY, 33);
        segment.extend(framed(&CNAME_RESPONSE, 67));
        let msg = parse_tcp(&segment).unwrap();
        assert_eq!(msg.raw, &A_QUERY);
        assert!(!msg.is_response());
    }

    #[test]
    fn tcp_length_longer_than_segment_decodes_what_is_there() {
        let segment = framed(&CNAME_RESPONSE[..60], 67);
        let msg = parse_tcp(&segment).unwrap();
        assert_eq!(msg.raw.len(), 60);
        let cut_in_question = framed(&CNAME_RESPONSE[..20], 67);
        assert_eq!(parse_tcp(&cut_in_question).unwrap_err(), DnsError::TruncatedName);
    }

    #[test]
    fn tcp_bad_lengths() {
        assert_eq!(parse_tcp(&framed(&A_QUERY, 0)).unwrap_err(), DnsError::BadTcpLength);
        assert_eq!(parse_tcp(&framed(&A_QUERY, 11)).unwrap_err(), DnsError::BadTcpLength);
        assert_eq!(parse_tcp(&[]).unwrap_err(), DnsError::TooShort);
        assert_eq!(parse_tcp(&[0]).unwrap_err(), DnsError::TooShort);
        assert_eq!(parse_tcp(&framed(&A_QUERY[..5], 33)).unwrap_err(), DnsError::TooShort);
    }

    // ---- names of codes --------------------------------------------------------------------

    #[test]
    fn qtype_names_round_trip() {
        for (number, name) in QTYPES {
            assert_eq!(qtype_name(number), Some(name));
            assert_eq!(qtype_from_name(name), Some(number));
            assert_eq!(qtype_from_name(&name.to_ascii_lowercase()), Some(number));
        }
        assert_eq!(qtype_from_name("aAaA"), Some(28));
        assert_eq!(qtype_name(9999), None);
        assert_eq!(qtype_from_name("FOO"), None);
        assert_eq!(qtype_from_name(""), None);
    }

    #[test]
    fn generic_type_names() {
        assert_eq!(qtype_from_name("TYPE65399"), Some(65399));
        assert_eq!(qtype_from_name("type1"), Some(1));
        assert_eq!(qtype_from_name("TYPE"), None);
        assert_eq!(qtype_from_name("TYPE65536"), None);
        assert_eq!(qtype_from_name("TYPE+1"), None);
        assert_eq!(qtype_from_name("TYPÉ1"), None);
    }

    #[test]
    fn rcode_and_opcode_names_round_trip() {
        for (number, name) in RCODES {
            assert_eq!(rcode_name(number), Some(name));
            assert_eq!(rcode_from_name(&name.to_ascii_lowercase()), Some(number));
        }
        for (number, name) in OPCODES {
            assert_eq!(opcode_name(number), Some(name));
            assert_eq!(opcode_from_name(name), Some(number));
        }
        assert_eq!(rcode_from_name("nxdomain"), Some(3));
        assert_eq!(opcode_from_name("update"), Some(5));
        assert_eq!((rcode_name(6), opcode_name(3)), (None, None));
    }

    #[test]
    fn error_names_are_stable() {
        assert_eq!(DnsError::LabelTooLong.as_str(), "dns_label_too_long");
        assert_eq!(DnsError::PointerOutOfRange.as_str(), "dns_pointer_out_of_range");
        assert_eq!(DnsError::BadTcpLength.as_str(), "dns_bad_tcp_length");
    }

    // ---- properties ------------------------------------------------------------------------

    /// Random labels whose wire form fits in 255 bytes.
    fn well_formed_labels() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..=63), 0..12).prop_map(|mut labels| {
            while labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1 > MAX_NAME_LEN {
                labels.pop();
            }
            labels
        })
    }

    fn check_decoded(name: &DnsName, labels: &[Vec<u8>]) -> Result<(), TestCaseError> {
        let dotted = labels.join(&b'.');
        prop_assert_eq!(name.as_bytes(), dotted.as_slice());
        prop_assert_eq!(name.label_count(), labels.len());
        let longest = labels.iter().map(Vec::len).max().unwrap_or(0);
        prop_assert_eq!(name.max_label_len(), longest);
        Ok(())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_message(&data);
            let _ = parse_tcp(&data);
        }

        #[test]
        fn arbitrary_bodies_never_panic(
            counts in prop::array::uniform4(0u16..6),
            body in prop::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut msg = header(1, 0x8180, counts);
            msg.extend(body);
            if let Ok(parsed) = parse_message(&msg) {
                if let Some(question) = parsed.question {
                    prop_assert!(question.name.len() <= MAX_NAME_LEN - 2);
                }
            }
            let _ = parse_tcp(&framed(&msg, u16::try_from(msg.len()).unwrap()));
        }

        #[test]
        fn well_formed_names_round_trip(labels in well_formed_labels()) {
            let refs: Vec<&[u8]> = labels.iter().map(Vec::as_slice).collect();
            let bytes = query(&refs, 1);
        let msg = parse_message(&bytes).unwrap();
            check_decoded(&msg.question.unwrap().name, &labels)?;
        }

        #[test]
        fn compressed_names_round_trip(labels in well_formed_labels(), split in any::<prop::sample::Index>()) {
            // Head labels, then a forward pointer to the tail placed after the question.
            let split = split.index(labels.len() + 1);
            let (head, tail) = labels.split_at(split);
            let head: Vec<&[u8]> = head.iter().map(Vec::as_slice).collect();
            let tail: Vec<&[u8]> = tail.iter().map(Vec::as_slice).collect();
            let mut msg = header(3, 0, [1, 0, 0, 0]);
            encode_labels(&mut msg, &head);
            let tail_offset = u16::try_from(msg.len() + 2 + 4).unwrap();
            msg.extend_from_slice(&(0xc000 | tail_offset).to_be_bytes());
            msg.extend_from_slice(&[0, 28, 0, 1]);
            msg.extend(encode_name(&tail));
            let parsed = parse_message(&msg).unwrap();
            let question = parsed.question.unwrap();
            prop_assert_eq!(question.qtype, 28);
            check_decoded(&question.name, &labels)?;
        }
    }
}
