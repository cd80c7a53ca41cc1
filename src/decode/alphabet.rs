//! The alphabet of a DNS name: hex, base32/36, base64 and raw bytes are how tunnels encode
//! data, while hostnames are words with numbers at their edges.
//!
//! Names are judged with their case folded: case carries no meaning in DNS (RFC 4343) and
//! resolvers randomise it (DNS 0x20), so `546B03f5A6` is hex like `546b03f5a6`.
//!
//! Reads a borrowed slice and allocates nothing; `decode::features` caches the result per packet.

/// The alphabet of a DNS name part (normally `dns.subdomain`), judged over
/// all its labels together. The first kind that fits wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameAlphabet {
    /// No letters or digits at all (the name is its registered domain).
    Empty,
    /// Letters, with digits only at the edges of hyphen-separated parts or inside short parts
    /// (`www`, `mail2`, `eu-west-1`, `skype-prd-neu04`, `fe3cr`): how people name hosts.
    Text,
    /// Digits only (reversed IPv4 addresses, phone numbers).
    Numeric,
    /// Hexadecimal digits, with both letters and digits and a part of 8 characters or more
    /// (hashes, dnscat2).
    Hex,
    /// Letters and digits interleaved inside a part of 8 characters or more (`k3x9q2m7`,
    /// `4g5ednsz`): base32 and base36 encodings (iodine's default), DGA names, some CDN node
    /// names. Short numbered parts (`v10c`, `fe3cr`) are `Text`. Base64 without its symbols
    /// (dns2tcp, iodine's base64 mode) is `Alnum` too: its mixed case is no evidence, since
    /// resolvers mix case as well (DNS 0x20).
    Alnum,
    /// Base64 symbols (`+`, `/`, `=`).
    Base64,
    /// Bytes outside letters, digits, `-`, `_` and the base64 symbols: raw 8-bit labels
    /// (iodine's raw mode), spaces, control characters.
    Raw,
    /// A first label that is one machine-made identifier of a well-known shape (a UUID, an
    /// MD5 or SHA-1 hex digest, a printer's factory name, a Kubernetes pod name), the other
    /// labels text or numbers: `<uuid>.ods.opinsights`, `<md5>.ebl`, `BRW0080927AFBCE.office`,
    /// `web-7d9f8b6c5d-x2k4q.payments.svc`. One such value per name is what agents, hash
    /// lookups and printers ask for; a tunnel writing its data in such labels needs a new name
    /// for every few bytes, which the volume rules count.
    Ident,
}

impl NameAlphabet {
    /// Every alphabet, in numeric order.
    pub const ALL: [NameAlphabet; 8] = [
        NameAlphabet::Empty,
        NameAlphabet::Text,
        NameAlphabet::Numeric,
        NameAlphabet::Hex,
        NameAlphabet::Alnum,
        NameAlphabet::Base64,
        NameAlphabet::Raw,
        NameAlphabet::Ident,
    ];

    /// The word rules use for it.
    pub fn name(self) -> &'static str {
        match self {
            NameAlphabet::Empty => "empty",
            NameAlphabet::Text => "text",
            NameAlphabet::Numeric => "numeric",
            NameAlphabet::Hex => "hex",
            NameAlphabet::Alnum => "alnum",
            NameAlphabet::Base64 => "base64",
            NameAlphabet::Raw => "raw",
            NameAlphabet::Ident => "ident",
        }
    }

    /// The number a rule compares (its position in [`NameAlphabet::ALL`]).
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Classifies a dotted name (see [`NameAlphabet`]): an identifier host name
/// first, then by its characters.
pub fn name_alphabet(name: &[u8]) -> NameAlphabet {
    if is_identifier_host(name) {
        return NameAlphabet::Ident;
    }
    char_alphabet(name)
}

/// Classifies the characters of a dotted name (every kind but `Ident`).
fn char_alphabet(name: &[u8]) -> NameAlphabet {
    let (mut letters, mut digit, mut non_hex_letter, mut base64_symbol) = (false, false, false, false);
    for &b in name {
        match b.to_ascii_lowercase() {
            b'.' | b'-' | b'_' => {}
            b'0'..=b'9' => digit = true,
            l @ b'a'..=b'z' => {
                letters = true;
                non_hex_letter |= l > b'f';
            }
            b'+' | b'/' | b'=' => base64_symbol = true,
            _ => return NameAlphabet::Raw,
        }
    }
    if base64_symbol {
        return NameAlphabet::Base64;
    }
    if !letters {
        return if digit { NameAlphabet::Numeric } else { NameAlphabet::Empty };
    }
    if digit && !non_hex_letter && longest_part(name) >= MIN_ENCODED_PART {
        return NameAlphabet::Hex;
    }
    if !digit || !interleaves_digits(name) {
        NameAlphabet::Text
    } else {
        NameAlphabet::Alnum
    }
}

/// True when the first label of `name` is one machine-made identifier in a
/// well-known shape ([`is_identifier`]) and every other label is written
/// like a host name (text, numbers): `<uuid>.ods.opinsights`,
/// `<md5>.ebl`, `BRW0080927AFBCE.office`, `deploy-7d9f8b6c5d-x2k4q.payments.svc`.
fn is_identifier_host(name: &[u8]) -> bool {
    let mut labels = name.split(|&b| b == b'.');
    labels.next().is_some_and(is_identifier)
        && labels.all(|l| matches!(char_alphabet(l), NameAlphabet::Empty | NameAlphabet::Text | NameAlphabet::Numeric))
}

/// A label that is exactly one identifier of a shape software names things
/// with: a UUID (`8-4-4-4-12` hex digits), an MD5 or SHA-1 digest in hex (32
/// or 40 digits; SHA-256 needs 64, more than a label holds), a printer's
/// default host name (a vendor prefix and the last 3 or all 6 bytes of its
/// MAC address: HP `NPI3C2AF4`, Brother `BRW0080927AFBCE`), or a Kubernetes
/// pod name (`<name>-<template hash>-<5 characters>`, in Kubernetes'
/// vowel-free alphabet).
pub fn is_identifier(label: &[u8]) -> bool {
    is_uuid(label) || is_digest(label) || is_printer_name(label) || is_pod_name(label)
}

fn all_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

fn is_uuid(label: &[u8]) -> bool {
    label.len() == 36
        && label
            .iter()
            .enumerate()
            .all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { *b == b'-' } else { b.is_ascii_hexdigit() })
}

fn is_digest(label: &[u8]) -> bool {
    matches!(label.len(), 32 | 40) && all_hex(label)
}

/// Vendor prefixes of printers' factory host names.
const PRINTER_PREFIXES: [&[u8]; 10] = [b"npi", b"hp", b"brw", b"brn", b"sec", b"xrx", b"rnp", b"epson", b"km", b"et"];

fn is_printer_name(label: &[u8]) -> bool {
    PRINTER_PREFIXES.iter().any(|prefix| {
        label.len() > prefix.len()
            && label.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            && label.get(prefix.len()..).is_some_and(|mac| matches!(mac.len(), 6 | 12) && all_hex(mac))
    })
}

/// Kubernetes' alphabet for generated name parts (`rand.SafeEncodeString`):
/// no vowels, no `0`, `1`, `3`.
fn is_k8s_safe(part: &[u8]) -> bool {
    part.iter().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b.to_ascii_lowercase()))
}

fn is_pod_name(label: &[u8]) -> bool {
    let mut parts = label.rsplit(|&b| b == b'-');
    let (Some(suffix), Some(hash)) = (parts.next(), parts.next()) else { return false };
    let name_left = parts.next().is_some_and(|p| !p.is_empty());
    name_left
        && suffix.len() == 5
        && is_k8s_safe(suffix)
        && (6..=10).contains(&hash.len())
        && is_k8s_safe(hash)
        && matches!(
            char_alphabet(label.get(..label.len() - suffix.len() - hash.len() - 2).unwrap_or_default()),
            NameAlphabet::Text | NameAlphabet::Numeric
        )
}

/// Shortest part (between `.`, `-` and `_`) that can count as encoded data:
/// host names number short parts (`v10c`, `fe3cr`, `us05web`), encoders write long ones.
const MIN_ENCODED_PART: usize = 8;

fn parts(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    name.split(|b| matches!(b, b'.' | b'-' | b'_'))
}

fn longest_part(name: &[u8]) -> usize {
    parts(name).map(<[u8]>::len).max().unwrap_or(0)
}

/// True when some part of 8 characters or more switches between letters and
/// digits at least twice: `j9sede5jje0azz`, `4g5ednsz`, but not `mail2`,
/// `skypedataprdcolneu04` or the short `fe3cr`.
fn interleaves_digits(name: &[u8]) -> bool {
    parts(name).filter(|part| part.len() >= MIN_ENCODED_PART).any(|part| {
        let switches =
            part.windows(2).filter(|w| matches!(w, [a, b] if a.is_ascii_digit() != b.is_ascii_digit())).count();
        switches >= 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_alphabets() {
        use NameAlphabet::*;
        let cases: &[(&[u8], NameAlphabet)] = &[
            (b"", Empty),
            (b"www", Text),
            (b"skypedataprdcolneu04", Text),
            (b"b-tr-teams-euno-05.northeurope", Text),
            (b"_ldap._tcp.dc._msdcs", Text),
            (b"e6858.dscx", Text),
            (b"scontent-ams2-1.xx", Text),
            (b"WWW.ExAmple", Text),
            (b"25.206.119", Numeric),
            (b"b.a.9.8.7.6.5.0.4", Text),
            (b"dnscat.546b03f50000000000a6023ed4df184d", Alnum),
            (b"546b03f50000000000a6023ed4df184d.5a03b5b1", Hex),
            (b"j9sede5jje0azz", Alnum),
            (b"dmwardy7lysrw", Alnum),
            (b"r4---sn-4g5ednsz", Alnum),
            (b"fe3cr.delivery.mp", Text),
            (b"v10c.events.data", Text),
            (b"us05web", Text),
            (b"e1.fb", Text),
            (b"cafe0123.ab", Hex),
            // dns2tcp's base64 without symbols: case is no evidence (DNS 0x20).
            (b"hvOBgAABAEI5ODFGMjk4MEMyRTFFOEZD", Alnum),
            (b"546B03f50000000000A6023eD4Df184D.5A03b5B1", Hex),
            (b"dNsCaT.546B03F50000000000a6023ed4df184d", Alnum),
            (b"AAAAAO1kQA.=auth", Base64),
            (b"zi03aA-La-fl\xfbte", Raw),
            (b"my host", Raw),
            // One identifier of a well-known shape in the first label, text after it.
            (b"2f6c1a9e-8d3b-4c7a-9e21-5b0d7f3a8c64.ods.opinsights", Ident),
            (b"9e107d9d372bb6826bd81d3542a419d6.ebl", Ident),
            (b"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12.hashlookup", Ident),
            (b"NPI3C2AF4", Ident),
            (b"BRW0080927AFBCE.printers.office", Ident),
            (b"payments-api-7d9f8b6c5d-x2k4q.payments.svc", Ident),
            (b"4.3.2.1.zen", Text),
            // Two identifiers, an identifier after the first label, or encoded text after it: not.
            (b"9e107d9d372bb6826bd81d3542a419d6.9e107d9d372bb6826bd81d3542a419d6", Hex),
            (b"sync.2f6c1a9e-8d3b-4c7a-9e21-5b0d7f3a8c64", Alnum),
            (b"9e107d9d372bb6826bd81d3542a419d6.mzxw6ytboi2dc", Alnum),
            (b"9e107d9d372bb6826bd81d3542a419d", Hex),
            (b"web-7d9f8b6c5d-x2k4a", Alnum),
            (b"BRW0080927AFBC", Alnum),
        ];
        for (name, want) in cases {
            assert_eq!(name_alphabet(name), *want, "{}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn codes_follow_the_list() {
        for (i, a) in NameAlphabet::ALL.iter().enumerate() {
            assert_eq!(usize::from(a.code()), i);
        }
    }
}
