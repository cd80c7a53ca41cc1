//! Regression tests for what fuzzing found, each named after what broke, with
//! the input inline (see fuzz/README.md).

use std::path::Path;
use std::time::{Duration, Instant};

/// fuzz target `config`, timeout: a `rules` glob with wildcards in its folders
/// (`//////*/////.../*/...`) made the loader walk the whole file system.
#[test]
fn config_rule_glob_with_wildcard_folders_is_refused_not_walked() {
    let text = format!(
        "vars: {{A-1}}\nrules: [\"//////*{}/.{}*{}.neop?*\", juiltin]\n",
        "/".repeat(40),
        "/".repeat(20),
        "/".repeat(40)
    );
    let start = Instant::now();
    let result = ferret::config::parse("fuzz.yaml", &text, Path::new("/nonexistent"));
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    let problems = result.unwrap_err().problems.concat();
    assert!(problems.contains("has wildcards in its folders"), "{problems}");
    // The exact bytes libFuzzer saved still load quickly and fail cleanly.
    let artifact: &[u8] = b"vars: {A-1}\x0arules: [\x22//////*///////////////////////////*//////////////////////////////////////////////////.///////*/////////////////////////////////////////////////////////////////.///////*//////////////////////////////////////////////////////////////////////////////.///////*/////////////////////////////////////////////////////////////.neop?*\x22, juiltin]\x0a";
    let artifact = std::str::from_utf8(artifact).unwrap();
    let start = Instant::now();
    assert!(ferret::config::parse("fuzz.yaml", artifact, Path::new("/")).is_err());
    assert!(start.elapsed() < Duration::from_secs(2));
}
