//! The classification table `classtype` looks names up in: each class's
//! priority, as the `classification.config` Suricata ships gives it. The
//! priority becomes the rule's severity (1 critical, 2 high, 3 medium, 4 low,
//! 5 and above info), so EVE's `alert.severity` is Suricata's priority.

use crate::rules::ast::Severity;

/// `(classtype, priority)`, Suricata's default classes.
pub const CLASSES: [(&str, u64); 43] = [
    ("not-suspicious", 3),
    ("unknown", 3),
    ("bad-unknown", 2),
    ("attempted-recon", 2),
    ("successful-recon-limited", 2),
    ("successful-recon-largescale", 2),
    ("attempted-dos", 2),
    ("successful-dos", 2),
    ("attempted-user", 1),
    ("unsuccessful-user", 1),
    ("successful-user", 1),
    ("attempted-admin", 1),
    ("successful-admin", 1),
    ("rpc-portmap-decode", 2),
    ("shellcode-detect", 1),
    ("string-detect", 3),
    ("suspicious-filename-detect", 2),
    ("suspicious-login", 2),
    ("system-call-detect", 2),
    ("tcp-connection", 4),
    ("trojan-activity", 1),
    ("unusual-client-port-connection", 2),
    ("network-scan", 3),
    ("denial-of-service", 2),
    ("non-standard-protocol", 2),
    ("protocol-command-decode", 3),
    ("web-application-activity", 2),
    ("web-application-attack", 1),
    ("misc-activity", 3),
    ("misc-attack", 2),
    ("icmp-event", 3),
    ("inappropriate-content", 1),
    ("policy-violation", 1),
    ("default-login-attempt", 2),
    ("targeted-activity", 1),
    ("exploit-kit", 1),
    ("external-ip-check", 2),
    ("domain-c2", 1),
    ("pup-activity", 2),
    ("credential-theft", 1),
    ("social-engineering", 2),
    ("coin-mining", 2),
    ("command-and-control", 1),
];

/// The priority of a classtype, if the table has it.
pub fn priority(classtype: &str) -> Option<u64> {
    CLASSES.iter().find(|(name, _)| *name == classtype).map(|(_, p)| *p)
}

/// The severity for a Suricata priority.
pub fn severity(priority: u64) -> Severity {
    match priority {
        0 | 1 => Severity::Critical,
        2 => Severity::High,
        3 => Severity::Medium,
        4 => Severity::Low,
        _ => Severity::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_have_priorities_and_severities() {
        assert_eq!(priority("trojan-activity"), Some(1));
        assert_eq!(priority("misc-activity"), Some(3));
        assert_eq!(priority("no-such-class"), None);
        assert_eq!(severity(1), Severity::Critical);
        assert_eq!(severity(3), Severity::Medium);
        assert_eq!(severity(9), Severity::Info);
    }
}
