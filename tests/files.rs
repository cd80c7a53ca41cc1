//! Shipped files cannot drift: samples equal what the generator writes, the
//! embedded default rules equal `rules/`, and every rule file and grammar
//! example parses and compiles.

mod common;

use std::path::Path;

use ferret::load;
use ferret::rules::defaults::DEFAULT_RULES;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn samples_are_exactly_what_the_generator_writes() {
    for (name, bytes) in ferret::synth::samples::samples().unwrap() {
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
            if let Err(f) = load::compile_texts(vec![(format!("{doc} block {blocks}"), block.to_string())], &[]) {
                // Fragments without an id are allowed to be parse-only examples.
                let (_, diags) = ferret::rules::parse::parse_rule_file(block);
                assert!(diags.is_empty(), "{doc} block {blocks} does not parse:\n{}", f.problems.concat());
            }
            rest = &body[end + 3..];
        }
        assert!(blocks > 0, "{doc} has no ```ferret blocks");
    }
}
