//! Bounded memory under a flood: 5 million spoofed source addresses through a
//! `by src` rule. The scan finishes, the state table stays at its bound, the
//! evictions are reported, and the peak memory of the ferret process (measured
//! with wait4's rusage) grows by less than the documented bound over a
//! stateless scan of the same capture.

use crate::common;

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

use ferret::capture::writer::{PcapOptions, PcapWriter};

const PACKETS: u32 = 5_000_000;
const MAX_ENTRIES: usize = 100_000;
/// Documented bound of one counting table at 100,000 keys, with room to spare.
const STATE_BOUND_BYTES: i64 = 64 << 20;

/// A raw-IPv4 ICMP echo request from a spoofed source.
fn frame(i: u32) -> [u8; 28] {
    let mut f = [0u8; 28];
    f[0] = 0x45;
    f[2..4].copy_from_slice(&28u16.to_be_bytes());
    f[8] = 64;
    f[9] = 1;
    f[12..16].copy_from_slice(&(0x0a00_0000u32 | (i & 0x00ff_ffff) | ((i >> 24) << 30)).to_be_bytes());
    f[16..20].copy_from_slice(&[192, 168, 1, 1]);
    f[20] = 8;
    f
}

/// Runs ferret, returns (exit code, peak RSS in bytes).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std cannot do
fn run_measured(args: &[&str], dir: &std::path::Path) -> (i32, i64) {
    let child = Command::new(common::ferret_bin())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferret starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, status and usage point to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    (code, usage.ru_maxrss * 1024)
}

/// Writes `state.rules` (one rule with `clause`) and `plain.rules` (stateless)
/// into `dir`; returns the peak RSS of a stateless scan of `capture`.
fn stateless_rss(dir: &std::path::Path, capture: &str, clause: &str) -> i64 {
    let rule = |body: &str| format!("alert icmp any any -> any any {{\n  id 1\n  {body}\n}}\n");
    std::fs::write(dir.join("state.rules"), rule(clause)).unwrap();
    std::fs::write(dir.join("plain.rules"), rule("when ip.ttl == 0")).unwrap();
    let (code, rss) = run_measured(&["scan", "-r", "plain.rules", capture], dir);
    assert_eq!(code, 0);
    rss
}

#[test]
fn five_million_spoofed_sources_stay_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcap");
    let opts = PcapOptions { link_type: 228, ..PcapOptions::default() };
    let mut w = PcapWriter::new(BufWriter::new(std::fs::File::create(&path).unwrap()), opts).unwrap();
    for i in 0..PACKETS {
        let ts = 1_700_000_000_000_000_000 + i64::from(i) * 1_000;
        w.write_packet(ts, &frame(i), 28).unwrap();
    }
    w.into_inner().flush().unwrap();
    let base_rss = stateless_rss(dir.path(), "flood.pcap", "threshold 1000 within 1h by src");

    let max = MAX_ENTRIES.to_string();
    let (code, state_rss) = run_measured(
        &["scan", "-r", "state.rules", "--state-max-entries", &max, "--stats", "stats.json", "flood.pcap"],
        dir.path(),
    );
    assert_eq!(code, 0);
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["packets"], PACKETS);
    let table = &stats["state"][0];
    assert_eq!(table["clause"], "threshold");
    assert_eq!(table["peak"], MAX_ENTRIES);
    assert_eq!(table["inserted"], PACKETS);
    assert_eq!(table["evicted"], u64::from(PACKETS) - MAX_ENTRIES as u64);
    let grew = state_rss - base_rss;
    eprintln!("peak RSS: stateless {base_rss} B, stateful {state_rss} B, state {grew} B for {MAX_ENTRIES} keys");
    assert!(grew < STATE_BOUND_BYTES, "state used {grew} bytes, bound {STATE_BOUND_BYTES}");
}

/// A raw-IPv4 ICMP echo request from source number `src` with `len` payload bytes.
fn frame_with_payload(src: u32, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; 28 + len];
    f[0] = 0x45;
    f[2..4].copy_from_slice(&((28 + len) as u16).to_be_bytes());
    f[8] = 64;
    f[9] = 1;
    f[12..16].copy_from_slice(&(0x0a00_0000u32 | src).to_be_bytes());
    f[16..20].copy_from_slice(&[192, 168, 1, 1]);
    f[20] = 8;
    f
}

/// A distinct-count key holds up to ~4 KiB (128 exact values, then a sketch):
/// 16,000 spoofed sources sending 130 payload lengths each need about 48 MB
/// in one table (measured: peak RSS 274 MB against 226 MB stateless). With `--state-memcap 4MiB` the table stays within
/// 4 MiB (its own count of what it holds), evicts the least recently seen
/// keys and says so in the stats, and the process grows accordingly.
#[test]
fn distinct_count_flood_stays_within_the_memcap() {
    const SOURCES: u32 = 16_000;
    const LENGTHS: usize = 130;
    const MEMCAP: i64 = 4 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("distinct.pcap");
    let opts = PcapOptions { link_type: 228, ..PcapOptions::default() };
    let mut w = PcapWriter::new(BufWriter::new(std::fs::File::create(&path).unwrap()), opts).unwrap();
    let mut ts = 1_700_000_000_000_000_000i64;
    for len in 0..LENGTHS {
        for src in 0..SOURCES {
            let f = frame_with_payload(src, len);
            w.write_packet(ts, &f, f.len() as u32).unwrap();
            ts += 1_000;
        }
    }
    w.into_inner().flush().unwrap();
    let base_rss = stateless_rss(dir.path(), "distinct.pcap", "distinct payload.len > 1000 within 1h by src");
    let args = ["scan", "-r", "state.rules", "--state-memcap", "4MiB", "--stats", "stats.json", "distinct.pcap"];
    let (code, state_rss) = run_measured(&args, dir.path());
    assert_eq!(code, 0);
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    let table = &stats["state"][0];
    assert_eq!(table["clause"], "distinct");
    assert_eq!(table["evicted"], 0, "never full by count");
    assert!(table["memcap_evicted"].as_u64().unwrap() > 0, "{table}");
    let peak = table["peak_bytes"].as_i64().unwrap();
    assert!(peak <= MEMCAP, "peak {peak} bytes, memcap {MEMCAP}");
    let grew = state_rss - base_rss;
    eprintln!(
        "peak RSS: stateless {base_rss} B, distinct with 4 MiB memcap {state_rss} B (+{grew} B); table peak {peak} B"
    );
    assert!(grew < 4 * MEMCAP, "state used {grew} bytes with a memcap of {MEMCAP}");
}
