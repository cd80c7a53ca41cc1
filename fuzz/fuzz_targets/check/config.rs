//! Fuzzes the YAML configuration loader (`config::parse`) and the checks run on it.
//!
//! Why: a config is handed to ferret by people and by deployment tools; whatever it
//! holds, loading must end in a config or in located errors, never a panic. Every
//! error is rendered (it carries a span into the text), and a config that loads is
//! checked against a fixed set of variable names and turned into networks.

use std::path::Path;

/// One input, as the fuzz target runs it: panics on a broken promise.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ferret::config::parse("fuzz.yaml", text, Path::new("/nonexistent")) {
        Ok(config) => {
            let names = ["ICMP_ENTROPY".to_string(), "DNS_ENTROPY".to_string(), "HOME_NET".to_string()];
            if let Err(f) = config.check_names(&names) {
                assert!(!f.problems.is_empty());
            }
            let nets = config
                .networks
                .iter()
                .map(|n| ferret::engine::networks::Network {
                    name: n.name.clone(),
                    nets: n.nets.iter().map(|i| ferret::engine::header::Net::new(i.addr, i.prefix)).collect(),
                })
                .collect();
            let _ = ferret::engine::networks::NetworkMap::new(nets);
        }
        Err(f) => assert!(!f.problems.is_empty(), "a failed load says why"),
    }
}
