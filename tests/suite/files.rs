//! Shipped files cannot drift: samples equal what the generator writes, the
//! embedded default rules and data files equal `rules/`, and every rule file
//! and grammar example parses and compiles. Also: how rule files find the
//! data files they name with `file("...")`.

use crate::common;

use std::path::Path;

use ferret::load::{self, RuleSource};
use ferret::rules::defaults::{DEFAULT_DATA, DEFAULT_RULES};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn samples_are_exactly_what_the_generator_writes() {
    for (name, bytes) in ferret_synth::samples::samples().unwrap() {
        let on_disk = std::fs::read(root().join("samples").join(name))
            .unwrap_or_else(|e| panic!("samples/{name}: {e}; run `cargo run --example make-samples`"));
        assert!(on_disk == bytes, "samples/{name} differs from the generator; run `cargo run --example make-samples`");
    }
}

#[test]
fn embedded_default_rules_equal_the_rules_folder() {
    let mut on_disk: Vec<String> = common::files_in(&root().join("rules"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = DEFAULT_RULES.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "rules/ and src/rules/defaults.rs list different files");
    for (name, text) in DEFAULT_RULES {
        assert_eq!(std::fs::read_to_string(root().join("rules").join(name)).unwrap(), *text);
    }
}

#[test]
fn embedded_data_files_equal_the_rules_folder() {
    let mut on_disk: Vec<String> = common::files_in(&root().join("rules/data"))
        .iter()
        .map(|p| format!("data/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = DEFAULT_DATA.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "rules/data/ and src/rules/defaults.rs list different files");
    for (name, text) in DEFAULT_DATA {
        assert_eq!(std::fs::read_to_string(root().join("rules").join(name)).unwrap(), *text);
        let entries: Vec<&str> = load::data_entries(text).collect();
        assert!(entries.len() > 50, "{name}: {} entries", entries.len());
        for e in entries {
            let ok = e.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            assert!(ok && e == e.to_ascii_lowercase(), "{name}: '{e}' is not a plain lowercase domain");
        }
    }
}

#[test]
fn data_files_are_read_beside_their_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules/lists")).unwrap();
    std::fs::write(
        dir.path().join("rules/lists/allow.txt"),
        "# comment\n\n  good.example  # trailing\nother.example\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules/local.rules"),
        "var ALLOW = [file(\"lists/allow.txt\"), \"third.example\"]\n\
         alert dns any any -> any any {\n  id 1\n  when not dns.qname under $ALLOW\n}\n",
    )
    .unwrap();
    let rules = std::sync::Arc::new(load::load(&[RuleSource::Path(dir.path().join("rules"))], &[]).unwrap());
    let fired = |name: &str| {
        let f = ferret_synth::frame::udp(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            4000,
            53,
            &ferret_synth::frame::dns_query(1, name, 1),
        );
        let pkt = ferret::decode::Packet::decode(1, &f, 1, 0, f.len() as u32);
        let mut n = 0;
        ferret::engine::Engine::new(rules.clone()).process(&pkt, &mut |_| n += 1);
        n
    };
    assert_eq!(fired("a.good.example"), 0);
    assert_eq!(fired("other.example"), 0);
    assert_eq!(fired("x.third.example"), 0);
    assert_eq!(fired("a.bad.example"), 1);
    assert_eq!(fired("trailing"), 1, "comments are not entries");
}

#[test]
fn a_missing_data_file_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.rules");
    std::fs::write(
        &path,
        "var A = file(\"nope.txt\")\nalert dns any any -> any any {\n  id 1\n  when dns.qname under $A\n}\n",
    )
    .unwrap();
    let problems = load::load(&[RuleSource::Path(path)], &[]).unwrap_err().problems.concat();
    assert!(problems.contains("error: cannot read data file 'nope.txt'"), "{problems}");
    assert!(problems.contains("x.rules:1:9"), "{problems}");
    assert!(problems.contains("^^^^^^^^^^^^^^^^"), "{problems}");
    assert!(problems.contains("relative to the folder of the rule file"), "{problems}");
    // A device is not a data file (and /dev/zero never ends).
    if Path::new("/dev/zero").exists() {
        let text = "alert dns any any -> any any {\n  id 1\n  when dns.qname under file(\"/dev/zero\")\n}\n";
        let problems = load::compile_texts(vec![("d.rules".into(), text.into())], &[]).unwrap_err().problems.concat();
        assert!(problems.contains("cannot read data file '/dev/zero': not a regular file"), "{problems}");
    }
}

#[test]
fn every_rule_file_and_grammar_example_compiles() {
    let mut paths = common::files_in(&root().join("rules"));
    paths.extend(common::files_in(&root().join("grammar/examples")));
    let paths: Vec<_> = paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "rules")).collect();
    assert!(paths.len() >= 4, "expected rule files and grammar examples, found {paths:?}");
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(f) = load::compile_texts(vec![(path.display().to_string(), text)], &[]) {
            panic!("{} does not compile:\n{}", path.display(), f.problems.concat());
        }
    }
}

#[test]
fn every_ferret_block_in_the_docs_compiles() {
    for doc in ["README.md", "grammar/README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        let mut blocks = 0;
        let mut rest = text.as_str();
        while let Some(start) = rest.find("```ferret\n") {
            let body = &rest[start + 10..];
            let end = body.find("```").expect("closed fence");
            let block = &body[..end];
            blocks += 1;
            // Named as if beside the default rules, so `file("data/...")` finds their data.
            let path = format!("{}/rules/{} block {blocks}", root().display(), doc.replace('/', "-"));
            if let Err(f) = load::compile_texts(vec![(path, block.to_string())], &[]) {
                panic!("{doc} block {blocks} does not compile:\n{block}\n{}", f.problems.concat());
            }
            rest = &body[end + 3..];
        }
        assert!(blocks > 0, "{doc} has no ```ferret blocks");
    }
}
