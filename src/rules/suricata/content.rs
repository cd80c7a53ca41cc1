//! Suricata's payload keywords: `content` strings (quoted, `\` escapes, `|hex|`
//! bytes), their modifiers, `pcre` patterns and flags, and the checks Suricata
//! makes when it loads them (a modifier needs a content, one of each per
//! content, relative and absolute positions do not mix, limits, a content
//! longer than `dsize` allows).

use regex_syntax::ParserBuilder;

use crate::rules::ast::{ContentItem, Pattern};

/// Largest distance or within Suricata accepts, either sign.
pub const MAX_RELATIVE: i64 = 1 << 20;

/// Decodes a quoted keyword value (`"..."` or `!"..."`): whether it is
/// negated and the text between the quotes with `\"`, `\\`, `\;`, `\:` resolved.
pub fn quoted(value: &str, keyword: &str) -> Result<(bool, String), String> {
    let v = value.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    let Some(inner) = v.strip_prefix('"') else {
        return Err(format!("{keyword} needs a quoted value"));
    };
    let mut out = String::new();
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\' | ';' | ':'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return Err(format!("{keyword}: a value cannot end with '\\'")),
            },
            '"' => {
                let rest = inner.get(i + 1..).unwrap_or("").trim();
                if rest.is_empty() {
                    return Ok((negated, out));
                }
                if rest.starts_with('"') {
                    return Err(format!("invalid unescaped double quote within {keyword}"));
                }
                return Err(format!("bad option value formatting (possible missing semicolon) for keyword {keyword}"));
            }
            c => out.push(c),
        }
    }
    Err(format!("{keyword}: missing closing quote"))
}

/// The bytes of a content string: text, with `|0a 0D|` hex runs.
pub fn content_bytes(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(pipe) = rest.find('|') {
        out.extend_from_slice(rest.get(..pipe).unwrap_or("").as_bytes());
        let after = rest.get(pipe + 1..).unwrap_or("");
        let Some(close) = after.find('|') else {
            return Err(format!("invalid hex code assembly in content: |{after}"));
        };
        let hex = after.get(..close).unwrap_or("");
        let mut nibble: Option<u8> = None;
        for c in hex.chars() {
            if c == ' ' {
                if nibble.is_some() {
                    return Err(format!("incomplete hex code in content: |{hex}|"));
                }
                continue;
            }
            let Some(d) = c.to_digit(16) else {
                return Err(format!("invalid hex code in content: |{hex}|, hex {c}"));
            };
            match nibble.take() {
                Some(high) => out.push(high << 4 | d as u8),
                None => nibble = Some(d as u8),
            }
        }
        if nibble.is_some() {
            return Err(format!("incomplete hex code in content: |{hex}|"));
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

/// The bytes as a native string (each byte one character up to U+00FF).
pub fn bytes_text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A `pcre` value: `"/pattern/flags"`, negated or not. Returns the item
/// (pattern and flags the native language takes, `relative` for `R`).
pub fn pcre(value: &str) -> Result<ContentItem, String> {
    let (negated, text) = quoted(value, "pcre")?;
    let body = text.strip_prefix('/').ok_or("pcre must start with '/'")?;
    let close = body.rfind('/').ok_or("pcre has no closing '/'")?;
    let pattern = body.get(..close).unwrap_or("");
    let flag_text = body.get(close + 1..).unwrap_or("");
    let mut flags = String::new();
    let mut relative = false;
    for f in flag_text.chars() {
        match f {
            'i' | 's' | 'm' | 'x' => {
                if !flags.contains(f) {
                    flags.push(f);
                }
            }
            'R' => relative = true,
            // Matching on raw bytes is all ferret does; the other Perl/Suricata flags it cannot honour.
            'B' => {}
            other => return Err(format!("pcre flag '{other}' is not supported (ferret supports i, s, m, x, R, B)")),
        }
    }
    check_regex(pattern, &flags)?;
    Ok(ContentItem {
        pattern: Pattern::Regex { pattern: pattern.to_string(), flags },
        negated,
        relative,
        ..ContentItem::default()
    })
}

/// Refuses a PCRE pattern Rust's regex cannot run (look-around, back-references,
/// ...), naming the feature. Only parses: the compiler builds the regex once.
fn check_regex(pattern: &str, flags: &str) -> Result<(), String> {
    let mut b = ParserBuilder::new();
    b.unicode(false).utf8(false).case_insensitive(flags.contains('i'));
    b.multi_line(flags.contains('m')).dot_matches_new_line(flags.contains('s')).ignore_whitespace(flags.contains('x'));
    b.build().parse(pattern).map(|_| ()).map_err(|e| {
        let text = e.to_string();
        let last = text.lines().last().unwrap_or("invalid regex").trim();
        format!("pcre cannot run here: {}", last.strip_prefix("error: ").unwrap_or(last))
    })
}

/// The least number of payload bytes the rule's contents need, as Suricata
/// counts it to refuse a rule that `dsize` makes unmatchable.
pub fn required_len(items: &[ContentItem]) -> i64 {
    let mut total = 0i64;
    for (n, item) in items.iter().enumerate() {
        let Pattern::Bytes(s) = &item.pattern else { continue };
        let len = s.chars().count() as i64;
        if n == 0 || !item.is_relative() {
            total = total.max(item.offset.unwrap_or(0) + len);
            continue;
        }
        if item.negated {
            total += item.within.unwrap_or(item.distance.unwrap_or(0) + len);
        } else {
            total += item.distance.unwrap_or(0) + len;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_runs_and_their_errors() {
        assert_eq!(content_bytes("data|0a 0A|x").unwrap(), b"data\n\nx");
        assert_eq!(content_bytes("|000102|").unwrap(), [0, 1, 2]);
        assert!(content_bytes("|l0 01 01|").unwrap_err().contains("invalid hex code"));
        assert!(content_bytes("|22 2 22|").unwrap_err().contains("incomplete hex code"));
        assert!(content_bytes("|1").unwrap_err().contains("assembly"));
    }

    #[test]
    fn quoted_values() {
        assert_eq!(quoted(r#" "a\"b\;c" "#, "content").unwrap(), (false, "a\"b;c".into()));
        assert_eq!(quoted(r#"!"x""#, "content").unwrap(), (true, "x".into()));
        assert!(quoted(r#""thisisbad"""#, "content").unwrap_err().contains("unescaped double quote"));
        assert!(quoted(r#""AA" depth:20"#, "content").unwrap_err().contains("missing semicolon"));
    }

    #[test]
    fn pcre_flags_and_refusals() {
        let item = pcre(r#""/^\.[a-z]{2,3}$/iR""#).unwrap();
        assert!(item.relative);
        assert_eq!(item.pattern, Pattern::Regex { pattern: r"^\.[a-z]{2,3}$".into(), flags: "i".into() });
        assert!(pcre(r#""/a/U""#).unwrap_err().contains("flag 'U'"));
        assert!(pcre(r#""/(?<=a)b/""#).unwrap_err().contains("look-around"));
    }

    #[test]
    fn required_length_counts_like_suricata() {
        let c = |s: &str| ContentItem { pattern: Pattern::Bytes(s.into()), ..ContentItem::default() };
        let boom = c("boom");
        let rel = |d| ContentItem { distance: Some(d), ..c("loom") };
        assert_eq!(required_len(&[boom.clone(), rel(10)]), 18);
        assert_eq!(required_len(&[boom.clone(), rel(-10)]), -2);
        assert_eq!(required_len(&[ContentItem { offset: Some(8), ..c("AAAA") }]), 12);
        let neg = |s: &str, d, w| ContentItem { negated: true, distance: Some(d), within: w, ..c(s) };
        let items =
            [c("abcdef"), neg("a", 0, None), ContentItem { distance: Some(0), ..c("789") }, neg("c", 1, Some(10))];
        assert_eq!(required_len(&items), 20);
    }
}
