//! Timestamps as text, from packet time (nanoseconds since the Unix epoch), in UTC.
//!
//! Hand-written to avoid a date crate for one conversion: days to a civil date
//! by Howard Hinnant's algorithm.

use std::fmt::Write;

/// Civil date and time of day of a timestamp.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn civil(ts_nanos: i64) -> Civil {
    let secs = ts_nanos.div_euclid(1_000_000_000);
    let nanos = ts_nanos.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    // Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil { year, month, day, hour: sod / 3600, minute: sod / 60 % 60, second: sod % 60, nanos }
}

/// Writes `YYYY-MM-DD{sep}hh:mm:ss.uuuuuu`.
fn write_micros(ts_nanos: i64, sep: char, out: &mut String) {
    let c = civil(ts_nanos);
    let (y, mo, d, h, mi, s, us) = (c.year, c.month, c.day, c.hour, c.minute, c.second, c.nanos / 1000);
    let _ = write!(out, "{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}.{us:06}");
}

/// RFC 3339 with microseconds and a numeric offset, as EVE wants:
/// `2025-04-05T20:55:01.123456+00:00`.
pub fn rfc3339_micros(ts_nanos: i64, out: &mut String) {
    write_micros(ts_nanos, 'T', out);
    out.push_str("+00:00");
}

/// EVE's timestamp, as Suricata writes it: microseconds and an offset without
/// a colon, `2025-04-05T20:55:01.123456+0000` (what Suricata's EVE schema requires).
pub fn eve_micros(ts_nanos: i64, out: &mut String) {
    write_micros(ts_nanos, 'T', out);
    out.push_str("+0000");
}

/// `YYYY-MM-DD{sep}hh:mm:ss.uuuuuu` digit by digit, for years 0 to 9999
/// (None for others, which the formatting machinery writes).
fn micros_text(ts_nanos: i64, sep: u8) -> Option<[u8; 26]> {
    let c = civil(ts_nanos);
    if !(0..=9999).contains(&c.year) {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000000";
    let mut digits = |at: usize, width: usize, mut n: u32| {
        for place in text.iter_mut().skip(at).take(width).rev() {
            *place = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    digits(0, 4, c.year as u32);
    digits(5, 2, c.month);
    digits(8, 2, c.day);
    digits(11, 2, c.hour);
    digits(14, 2, c.minute);
    digits(17, 2, c.second);
    digits(20, 6, c.nanos / 1000);
    if let Some(place) = text.get_mut(10) {
        *place = sep;
    }
    Some(text)
}

/// [`eve_micros`] appended to bytes (EVE lines are built as bytes, and
/// formatting machinery costs more than the conversion).
pub fn eve_micros_bytes(ts_nanos: i64, out: &mut Vec<u8>) {
    match micros_text(ts_nanos, b'T') {
        Some(text) => {
            out.extend_from_slice(&text);
            out.extend_from_slice(b"+0000");
        }
        None => {
            let mut s = String::with_capacity(32);
            eve_micros(ts_nanos, &mut s);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// A shorter form for people: `2025-04-05 20:55:01.123456`.
pub fn human(ts_nanos: i64) -> String {
    let mut out = String::with_capacity(26);
    write_micros(ts_nanos, ' ', &mut out);
    out
}

/// [`human`] appended to bytes.
pub fn human_bytes(ts_nanos: i64, out: &mut Vec<u8>) {
    match micros_text(ts_nanos, b' ') {
        Some(text) => out.extend_from_slice(&text),
        None => out.extend_from_slice(human(ts_nanos).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_forms_are_the_string_forms() {
        let instants = [0, 1, -1, 1_743_886_501_123_456_789, 951_782_400_000_000_000, -1_000_000_000_000_000_000];
        let more = (0..2000i64).map(|i| i.wrapping_mul(0x1234_5678_9abc_def1) >> 3);
        for ts in instants.into_iter().chain(more).chain([i64::MIN, i64::MAX]) {
            let mut s = String::new();
            eve_micros(ts, &mut s);
            let mut b = Vec::new();
            eve_micros_bytes(ts, &mut b);
            assert_eq!(b, s.as_bytes(), "{ts}");
            b.clear();
            human_bytes(ts, &mut b);
            assert_eq!(b, human(ts).as_bytes(), "{ts}");
        }
    }

    #[test]
    fn formats_known_instants() {
        let mut s = String::new();
        rfc3339_micros(0, &mut s);
        assert_eq!(s, "1970-01-01T00:00:00.000000+00:00");
        s.clear();
        // 2025-04-05T20:55:01.123456789Z
        rfc3339_micros(1_743_886_501_123_456_789, &mut s);
        assert_eq!(s, "2025-04-05T20:55:01.123456+00:00");
        s.clear();
        rfc3339_micros(951_782_400_000_000_000, &mut s); // leap day 2000
        assert_eq!(s, "2000-02-29T00:00:00.000000+00:00");
        s.clear();
        rfc3339_micros(-1_000, &mut s);
        assert_eq!(s, "1969-12-31T23:59:59.999999+00:00");
        s.clear();
        eve_micros(1_743_886_501_123_456_789, &mut s);
        assert_eq!(s, "2025-04-05T20:55:01.123456+0000");
        assert_eq!(human(1_743_886_501_000_000_000), "2025-04-05 20:55:01.000000");
    }
}
