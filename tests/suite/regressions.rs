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

/// A config with `rules: ["/**"]` walked the whole file system until memory ran
/// out (8 GiB in 3.5 minutes): `**` in the file-name part was let through.
#[test]
fn config_rule_glob_that_recurses_is_refused_not_walked() {
    for pattern in ["/**", "/**/*.rules", "**", "rules/**.rules"] {
        let text = format!("rules: [\"{pattern}\"]\n");
        let start = Instant::now();
        let result = ferret::config::parse("ferret.yaml", &text, Path::new("/"));
        assert!(start.elapsed() < Duration::from_secs(2), "{pattern} took {:?}", start.elapsed());
        let problems = result.unwrap_err().problems.concat();
        assert!(problems.contains("is a recursive pattern (`**`)"), "{pattern}: {problems}");
    }
}

/// The same walk through a folder: `rules: [/]` or `-r /` is bounded by entries.
#[test]
fn rule_folder_walk_is_bounded_by_entries_depth_and_symlink_loops() {
    use ferret::load::{read_sources, RuleSource, MAX_RULE_DIR_DEPTH, MAX_RULE_DIR_ENTRIES};
    let start = Instant::now();
    let problems = read_sources(&[RuleSource::Path("/".into())]).unwrap_err().problems.concat();
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    assert!(
        problems.contains(&format!("more than {MAX_RULE_DIR_ENTRIES} files and folders below it"))
            || problems.contains("folders nest more than"),
        "{problems}"
    );

    // Too many entries.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..=MAX_RULE_DIR_ENTRIES {
        std::fs::write(dir.path().join(format!("{i}.txt")), "").unwrap();
    }
    let problems = read_sources(&[RuleSource::Path(dir.path().into())]).unwrap_err().problems.concat();
    assert!(problems.contains(&format!("more than {MAX_RULE_DIR_ENTRIES} files and folders")), "{problems}");

    // Too deep.
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    for _ in 0..=MAX_RULE_DIR_DEPTH {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.rules"), "").unwrap();
    let problems = read_sources(&[RuleSource::Path(dir.path().into())]).unwrap_err().problems.concat();
    assert!(problems.contains(&format!("folders nest more than {MAX_RULE_DIR_DEPTH} deep")), "{problems}");

    // A symlink loop is walked once.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::write(dir.path().join("a/x.rules"), "alert icmp any any -> any any {\n  id 1\n}\n").unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
    let texts = read_sources(&[RuleSource::Path(dir.path().into())]).unwrap();
    assert_eq!(texts.len(), 1, "{:?}", texts.iter().map(|t| &t.0).collect::<Vec<_>>());
}

/// Rule errors were reported in quadratic time (20,000 bad lines took 2 s,
/// 40,000 took 14 s): each was located by counting lines from the start.
/// Now each file's lines are indexed once and at most
/// `MAX_ERRORS_PER_FILE` problems are shown, the rest counted.
#[test]
fn many_rule_errors_are_capped_per_file_and_counted() {
    use ferret::load::{compile_texts, MAX_ERRORS_PER_FILE};
    let bad: String = (0..40_000).map(|i| format!("alert icmp any any -> any any {{ id x{i} }}\n")).collect();
    let good = "alert icmp any any -> any any {\n  id 1\n  when payload.lenght > 1\n}\n".to_string();
    let failure = compile_texts(vec![("bad.rules".into(), bad), ("good.rules".into(), good)], &[]).unwrap_err();
    assert_eq!(failure.problems.len(), MAX_ERRORS_PER_FILE + 2, "capped, plus one line for the rest, plus good.rules");
    assert!(failure.problems[0].contains("--> bad.rules:1:"), "{}", failure.problems[0]);
    let last_shown = &failure.problems[MAX_ERRORS_PER_FILE - 1];
    assert!(last_shown.contains(&format!("--> bad.rules:{MAX_ERRORS_PER_FILE}:")), "{last_shown}");
    let more = &failure.problems[MAX_ERRORS_PER_FILE];
    assert_eq!(more, &format!("error: … and {} more errors in bad.rules\n", 40_000 - MAX_ERRORS_PER_FILE));
    assert!(failure.problems[MAX_ERRORS_PER_FILE + 1].contains("--> good.rules:3:"));
    assert_eq!(failure.count(), 40_001);
}
