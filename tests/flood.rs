//! Bounded memory under a flood: 5 million spoofed source addresses through a
//! `by src` rule. The scan finishes, the state table stays at its bound, the
//! evictions are reported, and the peak memory of the ferret process (measured
//! with wait4's rusage) grows by less than the documented bound over a
//! stateless scan of the same capture.

mod common;

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
    std::fs::write(
        dir.path().join("state.rules"),
        "alert icmp any any -> any any {\n  id 1\n  threshold 1000 within 1h by src\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("plain.rules"), "alert icmp any any -> any any {\n  id 1\n  when ip.ttl == 0\n}\n")
        .unwrap();

    let max = MAX_ENTRIES.to_string();
    let (code, base_rss) = run_measured(&["scan", "-r", "plain.rules", "flood.pcap"], dir.path());
    assert_eq!(code, 0);
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
