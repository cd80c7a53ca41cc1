//! The default rule set, embedded in the binary so `ferret scan x.pcap` works
//! from any directory. The same files live in the repository's `rules/`
//! folder; a test keeps the two in step.

/// `(file name, text)` of every shipped rule file, in load order.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("icmp-tunnel.rules", include_str!("../../rules/icmp-tunnel.rules")),
    ("dns-tunnel.rules", include_str!("../../rules/dns-tunnel.rules")),
];

/// How embedded files are named in messages.
pub fn display_path(name: &str) -> String {
    format!("<builtin>/rules/{name}")
}
