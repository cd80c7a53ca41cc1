//! Numbers and addresses as text, appended straight to byte buffers.
//!
//! The outputs write a line per alert and the engine renders a stateful
//! alert's key; going through `std::fmt` for each number and address was
//! most of an EVE line's cost (argument boxing, a dynamic call per piece,
//! padding logic), so the common pieces are written here digit by digit.
//! Each writes exactly what the `Display` it stands in for writes (tested).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

/// Appends `n` in decimal.
#[inline]
pub fn push_uint(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `n` in decimal.
#[inline]
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends an IPv4 address in dotted decimal.
pub fn push_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let (text, len) = ipv4_text(ip);
    out.extend_from_slice(text.get(..len).unwrap_or_default());
}

/// An IPv4 address in dotted decimal, in a buffer, and its length: each
/// octet's digits and a dot, four bytes written at once (a division per
/// digit was most of the cost), the last dot left out.
pub fn ipv4_text(ip: Ipv4Addr) -> ([u8; 16], usize) {
    let mut text = [0u8; 16];
    let mut len = 0;
    for n in ip.octets() {
        let Some((digits, n_len)) = OCTET_TEXT.get(usize::from(n)) else { continue };
        if let Some(d) = text.get_mut(len..len + 4) {
            d.copy_from_slice(digits);
        }
        len += usize::from(*n_len) + 1;
    }
    (text, len.saturating_sub(1))
}

/// Each octet's decimal digits followed by a dot, and the number of digits.
static OCTET_TEXT: [([u8; 4], u8); 256] = octet_text();

// Evaluated at compile time, where `get_mut` cannot be called yet; an index
// out of bounds there fails the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const fn octet_text() -> [([u8; 4], u8); 256] {
    let mut table = [([0u8; 4], 0u8); 256];
    let mut n = 0;
    while n < 256 {
        let [hundreds, tens, ones] = [b'0' + (n / 100) as u8, b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        table[n] = match n {
            0..=9 => ([ones, b'.', 0, 0], 1),
            10..=99 => ([tens, ones, b'.', 0], 2),
            _ => ([hundreds, tens, ones, b'.'], 3),
        };
        n += 1;
    }
    table
}

/// Appends an address as its `Display` writes it (IPv6 through `std::fmt`:
/// its compressed form has rules of its own).
pub fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_written_as_display_writes_them() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            state
        };
        let mut out = Vec::new();
        for n in [0, 1, 9, 10, 99, 100, u64::MAX].into_iter().chain((0..1000).map(|_| next() >> (next() % 64))) {
            out.clear();
            push_uint(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
            out.clear();
            push_int(&mut out, n as i64);
            assert_eq!(out, (n as i64).to_string().as_bytes());
        }
        let v4 = [0u32, 1, 0x0a00_0001, 0xc0a8_6401, 0x6400_0a09, u32::MAX]
            .into_iter()
            .chain((0..1000).map(|_| next() as u32));
        for a in v4 {
            let ip = IpAddr::V4(Ipv4Addr::from(a));
            out.clear();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string().as_bytes());
        }
        for a in [0u128, 1, u128::MAX, 0x2001_0db8 << 96, (0xffff << 32) | 0x0a00_0001]
            .into_iter()
            .chain((0..200).map(|_| u128::from(next()) << 64 | u128::from(next() & 0xffff)))
        {
            let ip = IpAddr::V6(a.into());
            out.clear();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string().as_bytes());
        }
    }
}
