//! The soak: `ferret scan -i` with the default rules on a veth interface
//! under a steady packet rate for 30 minutes (`FERRET_SOAK_SECS`), printing
//! the sensor's resident memory every 30 s. Ignored by default (it takes half
//! an hour); run it with
//!
//! ```sh
//! cargo test --release --features live --test soak -- --ignored --nocapture
//! ```
//!
//! Traffic is the synthetic office (with its tunnels) replayed batch after
//! batch, each batch with a new seed, so hosts, names and state keys keep
//! changing as on a real link. Memory must level off: the test fails if the
//! last five minutes grew resident memory by more than 2 MiB, or the peak
//! passed 320 MiB (64 MiB of capture buffer plus bounded state tables).

mod common;

#[cfg(feature = "live")]
#[test]
#[ignore = "takes 30 minutes; run explicitly"]
fn thirty_minutes_at_a_steady_rate_keep_memory_flat() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use common::netns::Veth;
    use ferret_synth::scenario::office;

    let Some(veth) = Veth::create() else { return };
    let secs: u64 = std::env::var("FERRET_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(1800);
    let rate: f64 = std::env::var("FERRET_SOAK_PPS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000.0);
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(common::ferret_bin())
        .args([
            "scan",
            "-i",
            &veth.outer,
            "-q",
            "--eve",
            "eve.json",
            "--stats",
            "stats.json",
            "--stats-interval",
            "60s",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let pid = child.id();
    let rss = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let injector = veth.injector();
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        let mut seed = 1;
        let mut sent = 0;
        while started.elapsed() < Duration::from_secs(secs) {
            let frames: Vec<Vec<u8>> =
                office((rate * 10.0) as usize, seed).packets.into_iter().map(|p| p.frame).collect();
            sent += injector.replay_at_rate(&frames, rate).unwrap().sent;
            seed += 1;
        }
        sent
    });
    let mut curve = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(30));
        let (t, kib) = (started.elapsed().as_secs(), rss());
        eprintln!("soak: t={t:>5} s  rss={:.1} MiB", kib as f64 / 1024.0);
        curve.push((t, kib));
    }
    let sent = sender.join().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("soak: {sent} packets sent at {rate} pps\n{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    // State tables are bounded in keys and bytes, but their hash maps grow
    // their capacity in steps (and never shrink): memory may step up, never climb.
    // The last five minutes must be flat, and the peak under a fixed bound.
    let last: Vec<u64> = curve.iter().rev().take(10).map(|(_, kib)| *kib).collect();
    let (lo, hi) = (last.iter().min().unwrap(), last.iter().max().unwrap());
    assert!(hi - lo <= 2 * 1024, "resident memory still growing in the last five minutes: {curve:?}");
    let peak = curve.iter().map(|(_, kib)| *kib).max().unwrap();
    assert!(peak < 320 * 1024, "peak resident memory {} MiB: {curve:?}", peak / 1024);
}
