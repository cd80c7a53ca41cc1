//! Numbers, addresses and times as text, appended straight to byte buffers.
//!
//! The outputs write a line per alert; going through `std::fmt` for each
//! number and address was most of an EVE line's cost (argument boxing, a
//! dynamic call per piece, padding logic), so the common pieces are written
//! here digit by digit. Each writes exactly what the `Display` it stands in
//! for writes (tested).

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
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        if octet >= 100 {
            out.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            out.push(b'0' + octet / 10 % 10);
        }
        out.push(b'0' + octet % 10);
    }
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
