//! Hostile input: oversized rule files, deep nesting, exploding regexes, a
//! full disk, and arbitrary bytes for every link type. Each gets a clean
//! error or bounded work, never a panic.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_100_mib_rule_file_is_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(dir.path().join("huge.rules")).unwrap();
    f.set_len(100 << 20).unwrap();
    let out = run_ferret(&["check", "huge.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("huge.rules: rule file is 100.0 MiB; the limit is 16 MiB"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ten_thousand_nested_parentheses_give_one_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let cond = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
    std::fs::write(dir.path().join("deep.rules"), format!("alert ip any any -> any any {{\n id 1\n when {cond}\n}}\n"))
        .unwrap();
    let start = Instant::now();
    let out = run_ferret(&["check", "deep.rules"], dir.path(), b"");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("deep.rules:3:"), "{err}");
    assert!(err.contains("nested"), "{err}");
}

#[test]
fn an_exploding_regex_is_refused_by_its_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("re.rules"),
        "alert dns any any -> any any {\n id 1\n when dns.qname matches /(a{1000}){1000}/\n}\n",
    )
    .unwrap();
    let out = run_ferret(&["check", "re.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: bad regex: regex is too large once compiled"), "{err}");
    assert!(err.contains("re.rules:3:25"), "{err}");
}

#[test]
fn non_utf8_rule_files_are_refused_with_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.rules"), b"# ok\n\xff\xfe").unwrap();
    let out = run_ferret(&["check", "bin.rules"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bin.rules: not UTF-8 text (invalid byte at offset 5)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_full_disk_is_a_clear_error() {
    if !std::path::Path::new("/dev/full").exists() {
        common::skip("FERRET_REQUIRE_DEV_FULL", "no /dev/full on this system");
        return;
    }
    let sample = format!("{}/samples/report-icmp.pcap", env!("CARGO_MANIFEST_DIR"));
    let out = run_ferret(&["scan", "-q", "--eve", "/dev/full", &sample], &std::env::temp_dir(), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ferret: cannot write alerts: No space left on device"),
        "{}",
        text(&out.stderr)
    );
}

const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Decoding arbitrary bytes never panics, for each link type, and the
    /// engine with the default rules takes whatever comes out.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(kind in 0usize..LINK_TYPES.len(), frame in proptest::collection::vec(any::<u8>(), 0..300)) {
        let link_type = LINK_TYPES[kind];
        let pkt = ferret::decode::Packet::decode(link_type, &frame, 1, 0, frame.len() as u32 + 7);
        prop_assert!(pkt.payload.len() <= frame.len());
        let mut engine = ferret::engine::Engine::new(default_rules());
        engine.process(&pkt, &mut |_| {});
    }

    /// Arbitrary bytes after an IPv4 or IPv6 header prefix reach the transport decoders.
    #[test]
    fn arbitrary_transport_bytes_never_panic(v6 in any::<bool>(), proto in prop::sample::select(vec![1u8, 6, 17, 58]), body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut frame = Vec::new();
        if v6 {
            frame.extend_from_slice(&[0x60, 0, 0, 0]);
            frame.extend_from_slice(&(body.len() as u16).to_be_bytes());
            frame.extend_from_slice(&[proto, 64]);
            frame.extend_from_slice(&[0u8; 32]);
        } else {
            let total = (20 + body.len()) as u16;
            frame.extend_from_slice(&[0x45, 0]);
            frame.extend_from_slice(&total.to_be_bytes());
            frame.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        }
        frame.extend_from_slice(&body);
        let pkt = ferret::decode::Packet::decode(101, &frame, 1, 0, frame.len() as u32);
        let mut engine = ferret::engine::Engine::new(default_rules());
        engine.process(&pkt, &mut |_| {});
    }
}
