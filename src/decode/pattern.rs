//! What a payload looks like: the fill patterns real ping tools use, an embedded IP packet,
//! text, or data as random as its length allows.
//!
//! Entropy alone cannot tell a tunnel from a ping. A Linux `ping -s 1000`
//! fills its payload with a counter (near 8 bits/byte, yet fully
//! predictable), plain text scores about 4 bits/byte (below an ordinary
//! ping), and 64 encrypted bytes cannot exceed 6. So rules ask what the bytes
//! *are*.
//!
//! Everything here reads a borrowed slice once or a few times and allocates
//! nothing; `decode::features` caches the results per packet.

/// What an ICMP (or any) payload looks like, from the most to the least
/// predictable. The first kind that fits wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadPattern {
    /// No bytes.
    Empty,
    /// Every byte zero (Windows tracert, fping, padding).
    Zeros,
    /// One unit of 1-64 bytes repeated at least twice over 8 bytes or more (`ping -p ff00`,
    /// Cisco's 0xABCD, 0xAA fills), after an optional timestamp of 4, 8, 12 or 16 bytes, when it
    /// is not a counter.
    Repeating,
    /// A counter: each byte one more than the one before, possibly cycling back to its first value
    /// (Windows' `abc...w` alphabet), after an optional timestamp of 4, 8, 12 or 16 bytes (Linux
    /// writes 16, macOS and BSD 8). Checked before `Repeating`.
    Incrementing,
    /// An IPv4 header with a valid checksum, or an IPv6 header whose length fits the rest, within
    /// the first 16 bytes: a whole IP packet (IP-over-ICMP tunnels; ICMP errors quoting the
    /// offending packet).
    Ip,
    /// At least 90% printable ASCII (tabs and line breaks count), 8 bytes or more.
    Text,
    /// 16 bytes or more, with at least 90% of the entropy uniformly random bytes of that length
    /// have on average (encrypted or compressed data).
    Random,
    /// Anything else: structured binary data.
    Binary,
    /// A ping tool's timestamp with nothing to fill: exactly 8 bytes of a
    /// `struct timeval` (32-bit, either byte order, as BSD and 32-bit Linux
    /// write it) or 16 (64-bit little endian: iputils `ping -s 16`), or a Go
    /// ping library's layout (pro-bing, go-ping: an 8-byte big-endian
    /// nanosecond time, its 16-byte tracker, then 0x01 padding). The time must
    /// fall in 1990-2100 and the microseconds below a million. Tested after
    /// `Ip` and before the content patterns; last in the list so the other
    /// codes keep their numbers.
    Stamped,
}

impl PayloadPattern {
    /// Every pattern, in numeric order.
    pub const ALL: [PayloadPattern; 9] = [
        PayloadPattern::Empty,
        PayloadPattern::Zeros,
        PayloadPattern::Repeating,
        PayloadPattern::Incrementing,
        PayloadPattern::Ip,
        PayloadPattern::Text,
        PayloadPattern::Random,
        PayloadPattern::Binary,
        PayloadPattern::Stamped,
    ];

    /// The word rules use for it.
    pub fn name(self) -> &'static str {
        match self {
            PayloadPattern::Empty => "empty",
            PayloadPattern::Zeros => "zeros",
            PayloadPattern::Repeating => "repeating",
            PayloadPattern::Incrementing => "incrementing",
            PayloadPattern::Ip => "ip",
            PayloadPattern::Text => "text",
            PayloadPattern::Random => "random",
            PayloadPattern::Binary => "binary",
            PayloadPattern::Stamped => "stamped",
        }
    }

    /// The number a rule compares (its position in [`PayloadPattern::ALL`]).
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Shortest counter tail that counts as a counter.
const MIN_COUNTER_TAIL: usize = 4;
/// Shortest fill (after any timestamp) that counts as repeating.
const MIN_REPEAT_FILL: usize = 8;
/// Longest unit a repeating payload may repeat.
const MAX_REPEAT_UNIT: usize = 64;
/// Offsets at which an embedded IP header is looked for.
const MAX_IP_OFFSET: usize = 16;
/// Shortest payload classified as text.
const MIN_TEXT_LEN: usize = 8;
/// Share of printable bytes that makes text.
const TEXT_PRINTABLE: f64 = 0.9;
/// Shortest payload classified as random.
const MIN_RANDOM_LEN: usize = 16;
/// Share of the expected entropy of random bytes that makes random.
const RANDOM_FRACTION: f64 = 0.9;

/// The patterns that do not depend on entropy or printable share: `Empty`,
/// `Zeros`, `Incrementing`, `Repeating`, `Ip` and `Stamped`, tried in that order.
pub fn structural_pattern(data: &[u8]) -> Option<PayloadPattern> {
    if data.is_empty() {
        Some(PayloadPattern::Empty)
    } else if data.iter().all(|&b| b == 0) {
        Some(PayloadPattern::Zeros)
    } else if is_counter(data) {
        Some(PayloadPattern::Incrementing)
    } else if is_repeating(data) {
        Some(PayloadPattern::Repeating)
    } else if embeds_ip_packet(data) {
        Some(PayloadPattern::Ip)
    } else if is_stamped(data) {
        Some(PayloadPattern::Stamped)
    } else {
        None
    }
}

/// The pattern of a payload that has no [`structural_pattern`], from its
/// length, printable share (0-1) and Shannon entropy (bits per byte).
pub fn content_pattern(len: usize, printable: f64, entropy: f64) -> PayloadPattern {
    if len >= MIN_TEXT_LEN && printable >= TEXT_PRINTABLE {
        PayloadPattern::Text
    } else if len >= MIN_RANDOM_LEN && entropy >= RANDOM_FRACTION * expected_random_entropy(len) {
        PayloadPattern::Random
    } else {
        PayloadPattern::Binary
    }
}

/// Classifies a payload: its [`structural_pattern`], else its [`content_pattern`]. The printable
/// share and the entropy are asked for only in the second case, so a caller that caches them
/// (`decode::features`) computes them only when needed.
pub fn classify(data: &[u8], printable: impl FnOnce() -> f64, entropy: impl FnOnce() -> f64) -> PayloadPattern {
    match structural_pattern(data) {
        Some(p) => p,
        None => {
            let printable = printable();
            content_pattern(data.len(), printable, entropy())
        }
    }
}

/// Classifies a payload, computing what it needs (for tests and tools; the engine caches the parts).
pub fn payload_pattern(data: &[u8]) -> PayloadPattern {
    classify(data, || printable_ratio(data), || super::entropy::shannon(data))
}

/// Share of bytes that are printable ASCII (0x20-0x7e) or tab, line feed or
/// carriage return; 0 for an empty slice.
pub fn printable_ratio(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let printable = data.iter().filter(|&&b| matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r')).count();
    printable as f64 / data.len() as f64
}

/// The Shannon entropy `n` uniformly random bytes have on average, in bits
/// per byte: about 3.9 for 16 bytes, 5.77 for 64, 7.18 for 256, 7.8 for 1000.
///
/// Exact for `n <= 4096` (the expectation over the binomial count of each
/// byte value); beyond, the Miller-Madow approximation `8 - 255 / (2 n ln 2)`,
/// which is within 0.001 there.
pub fn expected_random_entropy(n: usize) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let nf = n as f64;
    if n > 4096 {
        return 8.0 - 255.0 / (2.0 * nf * std::f64::consts::LN_2);
    }
    // E[sum over values of c log2 c], c ~ Binomial(n, 1/256), summed while terms matter.
    let p: f64 = 1.0 / 256.0;
    let mut pmf = (1.0 - p).powf(nf); // P(c = 0)
    let mut sum = 0.0;
    let mean = nf * p;
    for k in 0..n {
        let kf = k as f64;
        if k >= 2 {
            sum += pmf * kf * kf.log2();
        }
        pmf *= (nf - kf) / (kf + 1.0) * p / (1.0 - p);
        if kf > mean && pmf < 1e-15 {
            break;
        }
    }
    nf.log2() - 256.0 * sum / nf
}

/// Where the filled part of a ping payload may start: right away, or after
/// the timestamp ping tools write first (4, 8, 12 or 16 bytes: BSD and 32-bit
/// systems write 8, 64-bit Linux 16).
const FILL_STARTS: [usize; 5] = [0, 4, 8, 12, 16];

/// The fills of `data` after each possible timestamp prefix.
fn fills(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    FILL_STARTS.iter().filter_map(move |&start| data.get(start..))
}

/// True when, after a prefix of 0-16 bytes, the data is one unit of 1..=64
/// bytes repeated at least twice.
fn is_repeating(data: &[u8]) -> bool {
    fills(data).filter(|fill| fill.len() >= MIN_REPEAT_FILL).any(|fill| {
        let longest = MAX_REPEAT_UNIT.min(fill.len() / 2);
        let Some(&first) = fill.first() else { return false };
        (1..=longest).any(|unit| fill.get(unit) == Some(&first) && repeats_with(fill, unit))
    })
}

/// True when `data[i] == data[i - unit]` for every `i >= unit` (one memcmp).
fn repeats_with(data: &[u8], unit: usize) -> bool {
    match (data.get(unit..), data.get(..data.len().saturating_sub(unit))) {
        (Some(later), Some(earlier)) => later == earlier,
        _ => false,
    }
}

/// A counter after a prefix of 0-16 bytes (see [`PayloadPattern::Incrementing`]).
fn is_counter(data: &[u8]) -> bool {
    fills(data).any(|fill| fill.len() >= MIN_COUNTER_TAIL && counts_up(fill))
}

/// Each byte one more than the previous (wrapping at 255), except that the
/// run may restart at its first value after `p >= 2` bytes and then repeat
/// with period `p`, as Windows' `abcdefghijklmnopqrstuvw` alphabet does.
fn counts_up(tail: &[u8]) -> bool {
    let Some(&first) = tail.first() else { return false };
    let period = tail.windows(2).position(|w| matches!(w, [a, b] if *b != a.wrapping_add(1))).map(|i| i + 1);
    match period {
        None => true,
        Some(p) => p >= 2 && tail.get(p) == Some(&first) && repeats_with(tail, p),
    }
}

/// Seconds since the epoch a ping timestamp may hold: 1990-01-01 to 2100-01-01.
const STAMP_SECS: std::ops::Range<u64> = 631_152_000..4_102_444_800;

/// A ping tool's timestamp alone, or a Go ping library's timestamp, tracker
/// and padding (see [`PayloadPattern::Stamped`]).
fn is_stamped(data: &[u8]) -> bool {
    let timeval = |sec: u64, usec: u64| STAMP_SECS.contains(&sec) && usec < 1_000_000;
    let u32_at = |at: usize, big: bool| {
        let b: [u8; 4] = data.get(at..at + 4).and_then(|s| s.try_into().ok()).unwrap_or_default();
        u64::from(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let u64_at = |at: usize, big: bool| {
        let b: [u8; 8] = data.get(at..at + 8).and_then(|s| s.try_into().ok()).unwrap_or_default();
        if big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    };
    match data.len() {
        8 => [true, false].into_iter().any(|big| timeval(u32_at(0, big), u32_at(4, big))),
        16 => timeval(u64_at(0, false), u64_at(8, false)),
        n if n >= 24 => {
            let nanos = u64_at(0, true);
            STAMP_SECS.contains(&(nanos / 1_000_000_000))
                && data.get(24..).is_some_and(|pad| pad.iter().all(|&b| b == 1))
        }
        _ => false,
    }
}

/// True when an IP packet starts at one of the first 17 offsets: an IPv4
/// header (version 4, header length 20-60, total length at least the header
/// and, past offset 0, no more than what follows) with a correct checksum, or
/// an IPv6 header (version 6) whose payload length is exactly what follows.
pub fn embeds_ip_packet(data: &[u8]) -> bool {
    (0..=MAX_IP_OFFSET).any(|offset| data.get(offset..).is_some_and(|rest| ipv4_at(rest, offset == 0) || ipv6_at(rest)))
}

fn ipv4_at(rest: &[u8], truncation_allowed: bool) -> bool {
    let Some(&first) = rest.first() else { return false };
    if first >> 4 != 4 {
        return false;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    let Some(header) = rest.get(..header_len) else { return false };
    if header_len < 20 {
        return false;
    }
    let total = match header {
        [_, _, hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => return false,
    };
    if total < header_len || (!truncation_allowed && total > rest.len()) {
        return false;
    }
    internet_checksum(header) == 0
}

fn ipv6_at(rest: &[u8]) -> bool {
    match rest {
        [first, _, _, _, hi, lo, ..] if rest.len() >= 40 && first >> 4 == 6 => {
            usize::from(u16::from_be_bytes([*hi, *lo])) + 40 == rest.len()
        }
        _ => false,
    }
}

/// The ones' complement sum of 16-bit words (0 over a header whose checksum is right).
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| match c {
            [hi, lo] => u32::from(u16::from_be_bytes([*hi, *lo])),
            [hi] => u32::from(*hi) << 8,
            _ => 0,
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_synth::payload;

    #[test]
    fn ping_tools_are_patterns_not_random() {
        let ts = 1_743_886_500_123_456_789;
        for len in [8, 20, 56, 100, 1000, 1472] {
            assert_eq!(payload_pattern(&payload::linux_ping(len, ts)), PayloadPattern::Incrementing, "linux {len}");
        }
        // `ping -s 16` sends the timestamp alone: a stamp, not data.
        assert_eq!(payload_pattern(&payload::linux_ping(16, ts)), PayloadPattern::Stamped);
        assert_eq!(payload_pattern(&payload::macos_ping(8, ts)), PayloadPattern::Stamped);
        // A Go ping library: nanoseconds, a 16-byte tracker, 0x01 padding.
        let mut go = ts.to_be_bytes().to_vec();
        go.extend_from_slice(&payload::random(16, 3));
        assert_eq!(payload_pattern(&go), PayloadPattern::Stamped);
        go.extend_from_slice(&[1; 32]);
        assert_eq!(payload_pattern(&go), PayloadPattern::Stamped);
        go.push(2);
        assert_ne!(payload_pattern(&go), PayloadPattern::Stamped);
        // Sixteen bytes that are no time are not a stamp.
        assert_ne!(payload_pattern(b"0123456789abcdef"), PayloadPattern::Stamped);
        for len in [12, 56, 1000] {
            assert_eq!(payload_pattern(&payload::macos_ping(len, ts)), PayloadPattern::Incrementing, "macos {len}");
        }
        for len in [32, 64, 500] {
            assert_eq!(payload_pattern(&payload::windows_ping(len)), PayloadPattern::Incrementing, "windows {len}");
        }
        assert_eq!(payload_pattern(&payload::zeros(64)), PayloadPattern::Zeros);
        assert_eq!(payload_pattern(&[0xab, 0xcd].repeat(50)), PayloadPattern::Repeating);
        assert_eq!(payload_pattern(&[0xff; 8]), PayloadPattern::Repeating);
        assert_eq!(payload_pattern(&[0xff; 3]), PayloadPattern::Binary);
        // `ping -s 1000 -p dead`: the timestamp, then the pattern.
        let mut patterned = [0xde, 0xad].repeat(500);
        patterned[..16].copy_from_slice(&payload::linux_ping(16, ts));
        assert_eq!(payload_pattern(&patterned), PayloadPattern::Repeating);
        assert_eq!(payload_pattern(b""), PayloadPattern::Empty);
    }

    #[test]
    fn random_text_and_binary() {
        for len in [16, 32, 48, 64, 128, 159, 256, 300, 1000] {
            for seed in 0..20 {
                assert_eq!(payload_pattern(&payload::random(len, seed)), PayloadPattern::Random, "{len} {seed}");
            }
        }
        assert_eq!(payload_pattern(&payload::text(95, 1)), PayloadPattern::Text);
        assert_eq!(payload_pattern(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), PayloadPattern::Text);
        let mut structured = vec![0u8; 40];
        structured[..8].copy_from_slice(&[0x0d, 0, 0, 0, 0x0d, 0, 0, 0]);
        structured[20] = 0x18;
        assert_eq!(payload_pattern(&structured), PayloadPattern::Binary);
        // Too short to judge.
        assert_eq!(payload_pattern(&payload::random(12, 1)), PayloadPattern::Binary);
    }

    #[test]
    fn ip_packets_inside_payloads() {
        // A whole IPv4 echo request carried as data, at offset 0 and after a 5-byte tool header.
        let inner = ferret_synth::frame::icmp_echo(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            false,
            7,
            1,
            &payload::linux_ping(56, 0),
        );
        let ip = &inner[14..];
        assert_eq!(payload_pattern(ip), PayloadPattern::Ip);
        let mut framed = b"hans\x01".to_vec();
        framed.extend_from_slice(ip);
        assert_eq!(payload_pattern(&framed), PayloadPattern::Ip);
        // A quote (header + 8 bytes) is an IP packet at offset 0 even though it is cut short.
        assert!(embeds_ip_packet(&ip[..28]));
        // A broken checksum is not.
        let mut bad = ip.to_vec();
        bad[10] ^= 1;
        assert!(!embeds_ip_packet(&bad));
        // IPv6: exact length.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        v6.extend_from_slice(&[0u8; 32]);
        v6.extend_from_slice(&[1u8; 8]);
        assert!(embeds_ip_packet(&v6));
        v6.push(0);
        assert!(!embeds_ip_packet(&v6[..v6.len() - 2]));
    }

    #[test]
    fn expected_entropy_matches_known_values() {
        for (n, want) in [(16, 3.942), (64, 5.766), (128, 6.55), (256, 7.175), (1000, 7.804)] {
            let got = expected_random_entropy(n);
            assert!((got - want).abs() < 0.002, "{n}: {got}");
        }
        assert!((expected_random_entropy(5000) - 7.9632).abs() < 0.002);
        assert_eq!(expected_random_entropy(1), 0.0);
    }

    #[test]
    fn printable_share() {
        assert_eq!(printable_ratio(b""), 0.0);
        assert_eq!(printable_ratio(b"ab\n\x00"), 0.75);
    }

    #[test]
    fn codes_follow_the_list() {
        for (i, p) in PayloadPattern::ALL.iter().enumerate() {
            assert_eq!(usize::from(p.code()), i);
        }
    }
}
