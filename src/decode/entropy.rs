//! Shannon entropy of byte strings, in bits per byte.
//!
//! Entropy is the main signal for encrypted or compressed data hidden in
//! protocols that normally carry little of it. Two facts shape how it is used:
//! a string of `n` bytes cannot score more than `log2(n)` bits (64 random bytes
//! average about 5.7, not 8), so [`normalize`] divides by that ceiling to let
//! one threshold work across sizes; and the histogram lives on the stack, so
//! computing it allocates nothing.

/// Shannon entropy of `data` in bits per byte, from 0.0 (empty or one repeated
/// byte) to 8.0 (all 256 values equally often).
pub fn shannon(data: &[u8]) -> f64 {
    shannon_by(data, |b| b)
}

/// Shannon entropy of a DNS name with ASCII case folded: case carries no
/// meaning in DNS (RFC 4343), and resolvers randomise it (DNS 0x20), so
/// `ExAmPlE` measures as `example`.
pub fn shannon_nocase(name: &[u8]) -> f64 {
    shannon_by(name, |b| b.to_ascii_lowercase())
}

fn shannon_by(data: &[u8], map: impl Fn(u8) -> u8) -> f64 {
    shannon_until(data, map, f64::NEG_INFINITY).unwrap_or(0.0)
}

/// [`shannon`] (or [`shannon_nocase`]) when it is needed exactly, `None`
/// when it is surely at most `limit` (a rule's bound): the work stops as
/// soon as that is certain, before the histogram when the length alone
/// caps the entropy at `limit`. `Some` is the exact value, whatever it is.
///
/// Exact, not estimated: the result is `log2(n) - S/n` where `S` sums
/// `c * log2(c)` over the byte counts `c`, every term non-negative and added
/// in the same order as the full computation. A partial sum is at most the
/// full one in floating point too (adding a non-negative number never
/// rounds below the sum so far), and the expression is monotone in `S`, so
/// the value from a partial sum bounds the final value from above.
pub fn shannon_at_most(data: &[u8], nocase: bool, limit: f64) -> Option<f64> {
    if nocase {
        shannon_until(data, |b| b.to_ascii_lowercase(), limit)
    } else {
        shannon_until(data, |b| b, limit)
    }
}

fn shannon_until(data: &[u8], map: impl Fn(u8) -> u8, limit: f64) -> Option<f64> {
    if data.len() < 2 {
        return Some(0.0);
    }
    let n = data.len() as f64;
    let log_n = n.log2();
    let value = |sum_c_log_c: f64| (log_n - sum_c_log_c / n).max(0.0);
    if value(0.0) <= limit {
        return None;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        if let Some(c) = counts.get_mut(usize::from(map(b))) {
            *c += 1;
        }
    }
    // H = log2(n) - (1/n) * sum(c * log2(c)); exact, one pass over 256 counts.
    let can_stop = limit > f64::NEG_INFINITY;
    let mut sum_c_log_c = 0.0;
    for &c in counts.iter().filter(|&&c| c > 1) {
        let c = f64::from(c);
        sum_c_log_c += c * c.log2();
        if can_stop && value(sum_c_log_c) <= limit {
            return None;
        }
    }
    Some(value(sum_c_log_c))
}

/// The highest entropy `len` bytes can have: `log2(min(len, 256))`.
pub fn max_for_len(len: usize) -> f64 {
    (len.min(256) as f64).log2()
}

/// An entropy of `len` bytes divided by its maximum for that length, from 0.0
/// to 1.0 (`payload.entropy.norm`).
///
/// 1.0 means every byte is as varied as the length allows; strings shorter
/// than two bytes score 0.
pub fn normalize(entropy: f64, len: usize) -> f64 {
    let max = max_for_len(len);
    if max <= 0.0 {
        0.0
    } else {
        (entropy / max).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"a"), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-12);
        let all: Vec<u8> = (0..=255u8).collect();
        assert!((shannon(&all) - 8.0).abs() < 1e-12);
        assert!((normalize(shannon(&all), all.len()) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn short_strings_are_capped_by_length() {
        let distinct: Vec<u8> = (0..64u8).collect();
        assert!((shannon(&distinct) - 6.0).abs() < 1e-12);
        assert!((normalize(shannon(&distinct), distinct.len()) - 1.0).abs() < 1e-12);
        assert!((max_for_len(1000) - 8.0).abs() < 1e-12);
    }

    /// The value the early-stopping form must agree with: the sum as it was
    /// written before it could stop (`filter`, `map`, `sum`).
    fn reference(data: &[u8]) -> f64 {
        if data.len() < 2 {
            return 0.0;
        }
        let mut counts = [0u32; 256];
        data.iter().for_each(|&b| counts[usize::from(b)] += 1);
        let n = data.len() as f64;
        let s: f64 = counts.iter().filter(|&&c| c > 1).map(|&c| f64::from(c) * f64::from(c).log2()).sum();
        (n.log2() - s / n).max(0.0)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Stopping early never changes an answer: `None` only when the exact
        /// value is at most the limit, and `Some` is the exact value.
        #[test]
        fn early_stop_is_exact(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            alphabet in 1u16..=256,
            limit in -1.0f64..9.0,
            at_value in proptest::prelude::any::<bool>(),
        ) {
            // Narrow alphabets give low entropies and repeated counts.
            let data: Vec<u8> = data.iter().map(|&b| (u16::from(b) % alphabet) as u8).collect();
            let exact = reference(&data);
            proptest::prop_assert_eq!(shannon(&data).to_bits(), exact.to_bits());
            // A limit equal to the value itself, or just around it, is the edge case.
            let limits = if at_value { [exact, exact.next_down(), exact.next_up()] } else { [limit; 3] };
            for limit in limits {
                match shannon_at_most(&data, false, limit) {
                    None => proptest::prop_assert!(exact <= limit, "{} > {}", exact, limit),
                    Some(v) => proptest::prop_assert_eq!(v.to_bits(), exact.to_bits()),
                }
            }
            let folded: Vec<u8> = data.iter().map(u8::to_ascii_lowercase).collect();
            match shannon_at_most(&data, true, limit) {
                None => proptest::prop_assert!(reference(&folded) <= limit),
                Some(v) => proptest::prop_assert_eq!(v.to_bits(), reference(&folded).to_bits()),
            }
        }
    }

    #[test]
    fn stops_before_counting_when_the_length_caps_the_value() {
        // 8 bytes: at most 3 bits, so a bound of 3 is settled by the length.
        assert_eq!(shannon_at_most(b"abcdefgh", false, 3.0), None);
        assert_eq!(shannon_at_most(b"abcdefgh", false, 2.5), Some(3.0));
        assert_eq!(shannon_at_most(b"aaaaaaab", false, 1.0), None);
        assert_eq!(shannon_at_most(b"a", false, -1.0), Some(0.0));
    }

    #[test]
    fn matches_the_textbook_formula() {
        let data = b"hello, world";
        let mut counts = std::collections::HashMap::new();
        for &b in data {
            *counts.entry(b).or_insert(0usize) += 1;
        }
        let n = data.len() as f64;
        let expected: f64 = counts
            .values()
            .map(|&c| {
                let p = c as f64 / n;
                -p * p.log2()
            })
            .sum();
        assert!((shannon(data) - expected).abs() < 1e-12);
    }
}
