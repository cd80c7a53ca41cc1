//! Regexes of `matches` tests: built over bytes (not UTF-8) with their flags, under size limits
//! so no rule can exhaust memory, and with the regex crate's reason when one is refused.

use regex::bytes::RegexBuilder;

use crate::rules::diag::Diagnostic;
use crate::rules::span::Span;

use super::RuleCx;

/// Regexes may compile to at most this many bytes (a rule cannot exhaust memory).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl RuleCx<'_> {
    pub(super) fn regex(&mut self, pattern: &str, flags: &str, span: Span) -> Option<regex::bytes::Regex> {
        let mut b = RegexBuilder::new(pattern);
        b.unicode(false).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).nest_limit(64);
        for flag in flags.chars() {
            match flag {
                'i' => b.case_insensitive(true),
                'm' => b.multi_line(true),
                's' => b.dot_matches_new_line(true),
                'x' => b.ignore_whitespace(true),
                other => {
                    self.diags.push(
                        Diagnostic::new(format!("unknown regex flag '{other}'"), span, "in this regex")
                            .with_help("flags are i, m, s and x"),
                    );
                    return None;
                }
            };
        }
        match b.build() {
            Ok(re) => Some(re),
            Err(e) => {
                let reason = match &e {
                    regex::Error::CompiledTooBig(limit) => {
                        format!("regex is too large once compiled (limit {limit} bytes)")
                    }
                    other => {
                        let text = other.to_string();
                        let last = text.lines().last().unwrap_or("invalid regex").trim();
                        last.strip_prefix("error: ").unwrap_or(last).to_string()
                    }
                };
                self.diags.push(Diagnostic::new(format!("bad regex: {reason}"), span, "this regex"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::compile::test_support::{error, rule, tree, with_cx};
    use crate::rules::ast::Proto;
    use crate::rules::span::Span;

    #[test]
    fn regexes_build_on_bytes_with_their_flags() {
        let re = with_cx(Proto::Ip, |cx| cx.regex("^ab.c$", "ims", Span::default())).unwrap();
        assert!(re.is_match(b"AB\nC"));
        assert!(re.is_match(b"x\nab\xffc"), "bytes, not UTF-8");
        assert!(tree(&rule("ip", "any any -> any any", "when payload matches /x/i")).contains("matches"));
    }

    #[test]
    fn an_unknown_flag_is_an_error() {
        let diags = with_cx(Proto::Ip, |cx| {
            assert!(cx.regex("a", "q", Span::new(1, 2)).is_none());
            cx.diags.clone()
        });
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "unknown regex flag 'q'");
    }

    #[test]
    fn a_bad_regex_says_why() {
        let d = error(&rule("ip", "any any -> any any", "when payload matches /(a/"));
        assert!(d.message.starts_with("bad regex: "), "{}", d.message);
        assert_eq!(d.label, "this regex");
    }

    #[test]
    fn a_regex_too_large_once_compiled_is_refused() {
        let d = error(&rule("ip", "any any -> any any", "when payload matches /(?:[a-z]{1000}){1000}/"));
        assert!(d.message.starts_with("bad regex: regex is too large once compiled"), "{}", d.message);
    }
}
