//! Whole-name shapes the DNS rules forgive, checked strictly so they cannot
//! become a carrier: a reverse-lookup name must have the shape of a reversed
//! address, and an underscore label is a service label only in its usual
//! place (`_dmarc.`, `sel._domainkey.`, `_ldap._tcp.`).
//!
//! Reads a borrowed dotted name (as `decode::dns` decodes it: no trailing dot)
//! and allocates nothing; `decode::features` caches each answer per packet.

/// True when `name` is a reverse-lookup name shaped like a reversed address
/// (or a prefix of one, as resolvers ask for zone cuts): under `in-addr.arpa`,
/// at most 4 labels, each a decimal number 0-255 written without leading
/// zeros; under `ip6.arpa`, at most 32 labels, each one hex digit. The zones
/// themselves count. Case is ignored.
pub fn is_reverse_name(name: &[u8]) -> bool {
    if let Some(rest) = strip_zone(name, b"in-addr.arpa") {
        labels(rest).count() <= 4 && labels(rest).all(is_octet)
    } else if let Some(rest) = strip_zone(name, b"ip6.arpa") {
        labels(rest).count() <= 32 && labels(rest).all(|l| matches!(l, [d] if d.is_ascii_hexdigit()))
    } else {
        false
    }
}

/// True when `name` carries underscore labels only as service labels in
/// their usual place, and its other labels are not encoded data:
///
/// * a leading `_dmarc`, `_mta-sts`, `_acme-challenge`, `_spf` or `_domainkey`
///   label (`_dmarc.example.com`);
/// * one selector label before `_domainkey` or `_bimi` (DKIM, BIMI:
///   `s1._domainkey.example.com`; the selector may be anything);
/// * an SRV or DNS-SD pair `_service._proto` (`_tcp`, `_udp`, `_tls`,
///   `_sctp`) at the start, or after one instance label that is not encoded (`_ldap._tcp`,
///   `_sip._udp`, `_smtp._tls`, `b._dns-sd._udp`); after it, Active
///   Directory's `_msdcs` and `_sites` labels
///   (`_kerberos._tcp.dc._msdcs.corp.example`).
///
/// A name without an underscore label is not a service name. Case is ignored.
pub fn is_service_name(name: &[u8]) -> bool {
    let mut iter = labels(name);
    let first = iter.next().unwrap_or_default();
    let second = iter.next().unwrap_or_default();
    let third = iter.next().unwrap_or_default();
    let skip = if one_of(first, &[b"_dmarc", b"_mta-sts", b"_acme-challenge", b"_spf", b"_domainkey"]) {
        1
    } else if (!first.starts_with(b"_") && one_of(second, &[b"_domainkey", b"_bimi"]))
        || (is_service_label(first) && is_proto_label(second))
    {
        2
    } else if !first.starts_with(b"_") && !is_encoded(first) && is_service_label(second) && is_proto_label(third) {
        3
    } else {
        return false;
    };
    let rest = labels(name).skip(skip);
    rest.clone().all(|l| !l.starts_with(b"_") || one_of(l, &[b"_msdcs", b"_sites"]))
        && rest.filter(|l| !l.starts_with(b"_")).all(|l| !is_encoded(l))
}

/// A label written in an encoding alphabet (hex, alnum, base64, raw).
fn is_encoded(label: &[u8]) -> bool {
    matches!(name_alphabet(label), NameAlphabet::Hex | NameAlphabet::Alnum | NameAlphabet::Base64 | NameAlphabet::Raw)
}

fn one_of(label: &[u8], words: &[&[u8]]) -> bool {
    words.iter().any(|w| label.eq_ignore_ascii_case(w))
}

/// `_` and a service name as IANA registers them (RFC 6335: 1-15 letters,
/// digits and hyphens), or a port number as DANE writes it (`_25`).
fn is_service_label(label: &[u8]) -> bool {
    matches!(label.split_first(), Some((b'_', svc)) if (1..=15).contains(&svc.len())
        && svc.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'))
}

fn is_proto_label(label: &[u8]) -> bool {
    one_of(label, &[b"_tcp", b"_udp", b"_tls", b"_sctp"])
}

/// The part of `name` before `zone` (`Some(b"")` for the zone itself), if
/// `name` is `zone` or lies below it, ignoring case.
fn strip_zone<'n>(name: &'n [u8], zone: &[u8]) -> Option<&'n [u8]> {
    if name.eq_ignore_ascii_case(zone) {
        return Some(b"");
    }
    let cut = name.len().checked_sub(zone.len() + 1)?;
    let (head, tail) = name.split_at(cut);
    let tail = tail.strip_prefix(b".")?;
    tail.eq_ignore_ascii_case(zone).then_some(head)
}

use super::alphabet::{name_alphabet, NameAlphabet};

/// The labels of a dotted name; none for the empty name.
fn labels(name: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    name.split(|&b| b == b'.').filter(move |_| !name.is_empty())
}

/// A decimal number 0-255 without leading zeros.
fn is_octet(label: &[u8]) -> bool {
    let canonical = match label {
        [] => false,
        [d] => d.is_ascii_digit(),
        [b'0', ..] => false,
        _ => label.len() <= 3 && label.iter().all(u8::is_ascii_digit),
    };
    canonical && label.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 255
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_labels_count_only_in_their_usual_place() {
        let yes = [
            "_dmarc.example.com",
            "_MTA-STS.example.com",
            "_acme-challenge.www.shop.example.org",
            "_spf.google.com",
            "s1._domainkey.example.com",
            "ug7nbtf4gccmlpwj322ax3p6ow6yfsug._domainkey.amazonses.com",
            "default._bimi.example.com",
            "_ldap._tcp.dc._msdcs.corp.example",
            "_kerberos._tcp.Default-First-Site-Name._sites.dc._msdcs.corp.example",
            "_sip._udp.example.com",
            "_smtp._tls.example.com",
            "_25._tcp.mx1.example.com",
            "b._dns-sd._udp.0.20.10.in-addr.arpa",
        ];
        for name in yes {
            assert!(is_service_name(name.as_bytes()), "{name}");
        }
        let no = [
            "www.example.com",
            "_x.mzxw6ytboi2dcnrtgq3tsmjqgezdg.tun-relay.net",
            "mzxw6ytboi2dcnrtgq3tsmjqgezdgnbv._x.mzxw6ytb.tun-relay.net",
            "k3x9q2._t.relay-data.org",
            "_dmarc._x.example.com",
            "x._dmarc.example.com",
            "a.b._domainkey.example.com",
            "_ldap._tcp.mzxw6ytboi2dcnrtgq3tsmjqgezdg.evil.example",
            "_averyveryverylongservice._tcp.example.com",
            "_ldap._xyz.example.com",
            "_ldap._tcp._x.example.com",
            "mzxw6ytboi2dcnrtgq3t._x._tcp.evil.example",
        ];
        for name in no {
            assert!(!is_service_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn reverse_names_have_the_shape_of_addresses() {
        let nibbles = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4";
        let yes = [
            "4.3.2.1.in-addr.arpa".to_string(),
            "255.0.10.IN-ADDR.ARPA".into(),
            "10.in-addr.arpa".into(),
            "in-addr.arpa".into(),
            format!("{nibbles}.ip6.arpa"),
            "8.b.d.0.1.0.0.2.ip6.arpa".into(),
            "ip6.arpa".into(),
        ];
        for name in &yes {
            assert!(is_reverse_name(name.as_bytes()), "{name}");
        }
        let no = [
            // Hex labels of 7 characters: a carrier, not an address.
            "a3f09c1.77be2d0.c0ffee1.in-addr.arpa".to_string(),
            "1.2.3.4.5.in-addr.arpa".into(),
            "256.1.2.3.in-addr.arpa".into(),
            "01.2.3.4.in-addr.arpa".into(),
            "1..2.in-addr.arpa".into(),
            "b._dns-sd._udp.0.20.10.in-addr.arpa".into(),
            format!("0.{nibbles}.ip6.arpa"),
            "ab.c.ip6.arpa".into(),
            "4.3.2.1.xin-addr.arpa".into(),
            "www.example.com".into(),
            "".into(),
        ];
        for name in &no {
            assert!(!is_reverse_name(name.as_bytes()), "{name}");
        }
    }
}
