//! The default rule set and its data files, embedded in the binary so
//! `ferret scan x.pcap` works from any directory. The same files live in the
//! repository's `rules/` folder (data files in `rules/data/`); a test keeps
//! the two in step.

/// `(file name, text)` of every shipped rule file, in load order.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("icmp-tunnel.rules", include_str!("../../rules/icmp-tunnel.rules")),
    ("dns-tunnel.rules", include_str!("../../rules/dns-tunnel.rules")),
    ("ip-evasion.rules", include_str!("../../rules/ip-evasion.rules")),
];

/// `(path relative to rules/, text)` of every shipped data file, which the
/// default rules read with `file("...")`.
pub const DEFAULT_DATA: &[(&str, &str)] =
    &[("data/dns-allowlist.txt", include_str!("../../rules/data/dns-allowlist.txt"))];

/// How embedded rule files are named: this prefix, then the file name.
pub const DISPLAY_PREFIX: &str = "<builtin>/rules/";

/// How embedded files are named in messages.
pub fn display_path(name: &str) -> String {
    format!("{DISPLAY_PREFIX}{name}")
}

/// The text of an embedded data file, by its path relative to `rules/`
/// (`data/dns-allowlist.txt`; a leading `./` is ignored).
pub fn builtin_data(path: &str) -> Option<&'static str> {
    let path = path.strip_prefix("./").unwrap_or(path);
    DEFAULT_DATA.iter().find(|(name, _)| *name == path).map(|(_, text)| *text)
}
