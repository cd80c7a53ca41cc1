//! Real captures from public test suites (`../shared/pcaps`, see its
//! MANIFEST): every one is read to the end and decoded without a panic, the
//! odd and malformed corpus included, each within a time bound, with exit 0 or
//! a documented clean error. Skips with a message when the folder is absent.

use crate::common;

use std::time::{Duration, Instant};

use common::*;

fn manifest_counts(root: &std::path::Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let n = cols.get(5)?.split_whitespace().next()?.parse().ok()?;
            Some((cols.first()?.to_string(), n))
        })
        .collect()
}

#[test]
fn labelled_captures_read_fully_with_the_manifest_counts() {
    let Some(root) = shared_pcaps() else {
        common::skip("FERRET_REQUIRE_PCAPS", "../shared/pcaps is absent (set FERRET_PCAPS to point at it)");
        return;
    };
    let counts = manifest_counts(&root);
    let mut checked = 0;
    for dir in ["benign", "tunnel-dns", "tunnel-icmp"] {
        for path in files_in(&root.join(dir)) {
            let bytes = std::fs::read(&path).unwrap();
            let (_, engine) = scan_bytes(default_rules(), &bytes);
            let rel = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            let expected = counts.iter().find(|(p, _)| *p == rel).map(|(_, n)| *n);
            assert_eq!(Some(engine.stats().packets), expected, "{rel}");
            checked += 1;
        }
    }
    assert!(checked >= 19, "expected the 19 labelled captures, found {checked}");
}

#[test]
fn odd_corpus_never_crashes_or_hangs() {
    let Some(root) = shared_pcaps() else {
        common::skip("FERRET_REQUIRE_PCAPS", "../shared/pcaps is absent (set FERRET_PCAPS to point at it)");
        return;
    };
    let files = files_in(&root.join("odd"));
    assert!(files.len() > 250, "odd corpus: {} files", files.len());
    let dir = tempfile::tempdir().unwrap();
    let mut codes = std::collections::BTreeMap::new();
    for chunk in files.chunks(40) {
        for path in chunk {
            let start = Instant::now();
            let p = path.to_string_lossy().into_owned();
            let out = run_ferret(&["scan", "-q", "--eve", "e.json", &p], dir.path(), b"");
            let took = start.elapsed();
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(code.is_some(), "{p}: killed by a signal\n{stderr}");
            assert!(matches!(code, Some(0 | 1 | 3)), "{p}: exit {code:?}\n{stderr}");
            assert!(!stderr.contains("panicked"), "{p}: {stderr}");
            assert!(took < Duration::from_secs(20), "{p}: took {took:?}");
            if code != Some(0) {
                assert!(stderr.contains("ferret: "), "{p}: a non-zero exit must say why\n{stderr}");
            }
            *codes.entry(code.unwrap_or(-1)).or_insert(0) += 1;
            for line in std::fs::read_to_string(dir.path().join("e.json")).unwrap_or_default().lines() {
                serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{p}: bad EVE line {e}"));
            }
        }
    }
    eprintln!("odd corpus exit codes: {codes:?}");
}
