//! Whole-name shapes the DNS rules forgive, checked strictly so they cannot
//! become a carrier: a reverse-lookup name must have the shape of a reversed
//! address.
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
