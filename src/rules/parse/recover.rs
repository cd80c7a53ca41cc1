//! Recovery after an error: where to resume so that one bad rule never hides the next (just past
//! the rule's closing `}`, or at the next line starting with `alert`/`pass`/`var`).

use super::lex::{hspace, is_ident_char, keyword, split_while};

/// Where to resume after an error in the item starting at `from`: just past the `}` that closes
/// the rule's brace block, or the start of the next line beginning with `alert`/`pass`/`var`
/// (stray `}` outside any block are skipped over).
/// Strings, comments and regex literals (after `matches`) are skipped so braces inside them do
/// not count. Always returns an offset greater than `from` (or the end of the text).
pub(super) fn recover(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut pos = from;
    let mut depth = 0usize;
    let mut last_word_is_matches = false;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'"' => pos = skip_quoted(bytes, pos, b'"'),
            b'/' if last_word_is_matches => pos = skip_quoted(bytes, pos, b'/'),
            b'#' => pos = text.get(pos..).and_then(|r| r.find('\n')).map_or(text.len(), |n| pos + n),
            b'{' => {
                depth += 1;
                pos += 1;
            }
            b'}' => {
                if depth == 1 {
                    return pos + 1;
                }
                depth = depth.saturating_sub(1);
                pos += 1;
            }
            b'\n' => {
                pos += 1;
                let line = text.get(pos..).map(hspace).unwrap_or("");
                let starts_item = ["alert", "pass", "var"].iter().any(|k| keyword(line, k).is_some());
                if starts_item {
                    return text.len() - line.len();
                }
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let w = text.get(pos..).map_or("", |r| split_while(r, is_ident_char).0);
                last_word_is_matches = w == "matches";
                pos += w.len().max(1);
                continue;
            }
            _ => pos += 1,
        }
        if !b.is_ascii_whitespace() {
            last_word_is_matches = false;
        }
    }
    text.len()
}

/// Index just past a `quote`-delimited literal starting at `start` (or of the line's end).
pub(super) fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut pos = start + 1;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'\\' => pos += 2,
            b'\n' => return pos,
            _ if b == quote => return pos + 1,
            _ => pos += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {

    use crate::rules::ast::{Item, RuleOption};

    use crate::rules::parse::parse_rule_file;

    #[test]
    fn one_bad_rule_never_hides_the_next() {
        let text = "\
alert ip any any -> any any {
    id 1
    severity hgh
    msg \"braces { in strings } do not confuse recovery\"
}
alert ip any any -> any any {
    id 2
}
alert ip any any => any any {
    id 3
}
";
        let (file, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert_eq!(diags[0].message, "unknown severity 'hgh'");
        assert_eq!(diags[1].message, "expected one of '->', '<>', found '=>'");
        let [Item::Rule(rule)] = file.items.as_slice() else { panic!("{file:#?}") };
        assert!(matches!(&rule.options[0], RuleOption::Id(n) if n.node == 2));
    }

    #[test]
    fn recovery_skips_regexes_with_braces_and_junk_lines() {
        let text = "junk here {\n}\nalert ip any any -> any any { when a matches /}/ and b = 1\n}\nvar X = 1\n";
        let (file, diags) = parse_rule_file(text);
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert!(matches!(file.items.as_slice(), [Item::Var(v)] if v.name.node == "X"));
        let (file, diags) = parse_rule_file("}}} garbage\n\nvar Y = 2");
        assert_eq!((file.items.len(), diags.len()), (1, 1));
    }
}
