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
    if data.len() < 2 {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        if let Some(c) = counts.get_mut(usize::from(map(b))) {
            *c += 1;
        }
    }
    let n = data.len() as f64;
    let sum_c_log_c: f64 = counts
        .iter()
        .filter(|&&c| c > 1)
        .map(|&c| {
            let c = f64::from(c);
            c * c.log2()
        })
        .sum();
    // H = log2(n) - (1/n) * sum(c * log2(c)); exact, one pass over 256 counts.
    (n.log2() - sum_c_log_c / n).max(0.0)
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
