//! Reassembly limits from the config reach the engine, threaded or not:
//! `defrag` and `dns_tcp` change what the `--stats` file counts.

use crate::common;

use common::*;
use ferret_synth::scenario;

/// Scans both captures in `dir` with the default rules; the `--stats` JSON.
fn stats(dir: &std::path::Path, threads: &str, config: Option<&str>) -> serde_json::Value {
    let mut args = vec!["scan", "-q", "--threads", threads, "--stats", "stats.json"];
    if let Some(c) = config {
        args.extend(["--config", c]);
    }
    args.extend(["frag.pcap", "tcp.pcap"]);
    let out = run_ferret(&args, dir, b"");
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap()
}

#[test]
fn config_reassembly_limits_change_the_stats_counters() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes).unwrap();
    // 40 echo requests and 40 replies, each in two fragments; 240 DNS messages over TCP.
    write("frag.pcap", capture_bytes(&scenario::fragmented_icmp_tunnel(), Format::PcapMicros));
    write("tcp.pcap", capture_bytes(&scenario::dns_tcp_tunnel(), Format::PcapMicros));
    write("limits.yaml", b"defrag:\n  max_fragments: 1\ndns_tcp:\n  max_message: 12\n".to_vec());
    for threads in ["1", "2"] {
        let default = stats(dir.path(), threads, None);
        assert_eq!(
            (&default["defrag"]["reassembled"], &default["defrag"]["too_many_fragments"]),
            (&80.into(), &0.into())
        );
        assert_eq!((&default["dns_tcp"]["messages"], &default["dns_tcp"]["too_large"]), (&240.into(), &0.into()));
        let limited = stats(dir.path(), threads, Some("limits.yaml"));
        assert_eq!(
            (&limited["defrag"]["reassembled"], &limited["defrag"]["too_many_fragments"]),
            (&0.into(), &80.into())
        );
        // A bare header (12 bytes) is the longest kept: every query and answer is longer.
        assert_eq!((&limited["dns_tcp"]["messages"], &limited["dns_tcp"]["too_large"]), (&0.into(), &240.into()));
    }
}
