//! ferret as a sensor on a stream: alerts as packets arrive, clean stops on
//! signals, rules reloaded while it runs, periodic statistics, bounded memory.
//!
//! Each test starts the real binary with a pipe on its stdin and writes a
//! capture into it packet by packet, as `tcpdump -w - | ferret scan -` does.
#![cfg(unix)]

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use ferret::capture::{linktype, PcapOptions, PcapWriter};
use ferret_synth::frame;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

/// A running ferret reading a pcap stream from its stdin.
struct Sensor {
    child: Child,
    input: Option<PcapWriter<ChildStdin>>,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
    /// Lines of `stderr_seen` a wait has already matched (or passed).
    consumed: usize,
    ts: i64,
}

impl Sensor {
    fn start(args: &[&str], dir: &Path) -> Sensor {
        let mut child = Command::new(common::ferret_bin())
            .arg("scan")
            .args(args)
            .arg("-")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ferret starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take().unwrap();
        let opts = PcapOptions { link_type: linktype::ETHERNET, nanos: false, big_endian: false, snaplen: 65535 };
        let input = PcapWriter::new(stdin, opts).unwrap();
        let mut s = Sensor {
            child,
            input: Some(input),
            stderr: rx,
            stderr_seen: Vec::new(),
            consumed: 0,
            ts: 1_700_000_000_000_000_000,
        };
        s.wait_stderr("sensor running");
        s
    }

    /// Writes one echo request with `len` payload bytes, one second after the previous packet.
    fn ping(&mut self, len: usize) {
        self.ts += 1_000_000_000;
        let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let f = frame::icmp_echo(A, B, false, 1, 1, &payload);
        let w = self.input.as_mut().unwrap();
        w.write_packet(self.ts, &f, f.len() as u32).unwrap();
        w.get_mut().flush().unwrap();
    }

    /// Waits for a stderr line containing `needle`, after the last one a wait matched; returns it.
    fn wait_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        if let Some(i) = self.stderr_seen.iter().skip(self.consumed).position(|l| l.contains(needle)) {
            self.consumed += i + 1;
            return self.stderr_seen[self.consumed - 1].clone();
        }
        self.consumed = self.stderr_seen.len();
        while Instant::now() < deadline {
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(50)) {
                self.stderr_seen.push(line.clone());
                if line.contains(needle) {
                    self.consumed = self.stderr_seen.len();
                    return line;
                }
            }
        }
        panic!("no stderr line with {needle:?}; saw:\n{}", self.stderr_seen.join("\n"));
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Peak resident memory so far, in KiB (VmHWM).
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Sends SIGTERM and waits: exit code, stdout, all of stderr.
    fn terminate(mut self) -> (i32, String, String) {
        self.signal(libc::SIGTERM);
        let out = self.child.wait_with_output().unwrap();
        drop(self.input.take());
        let mut err = self.stderr_seen.join("\n");
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            err.push('\n');
            err.push_str(&l);
        }
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), err)
    }
}

/// EVE lines of `path` with `event_type`, once at least `n` are there.
fn wait_eve(path: &Path, event_type: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let events: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event_type"] == event_type)
            .collect();
        if events.len() >= n {
            return events;
        }
        assert!(Instant::now() < deadline, "{n} {event_type} events never arrived in {}:\n{text}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sids(events: &[serde_json::Value]) -> Vec<u64> {
    events.iter().map(|e| e["alert"]["signature_id"].as_u64().unwrap()).collect()
}

fn rule(id: u64, min_len: usize) -> String {
    format!("alert icmp any any -> any any {{\n    id {id}\n    msg \"echo over {min_len}\"\n    when payload.len > {min_len}\n}}\n")
}

#[test]
fn alerts_are_written_while_the_stream_is_open_and_sigterm_flushes_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.rules"), rule(1, 100)).unwrap();
    let mut s = Sensor::start(&["-r", "big.rules", "--eve", "eve.json"], dir.path());
    s.ping(200);
    let sent = Instant::now();
    let first = wait_eve(&dir.path().join("eve.json"), "alert", 1);
    let latency = sent.elapsed();
    eprintln!("alert in EVE {latency:?} after its packet was written");
    assert!(latency < Duration::from_secs(2), "alert took {latency:?}");
    assert_eq!(sids(&first), vec![1]);
    for _ in 0..50 {
        s.ping(300);
    }
    // SIGTERM stops reading (as Suricata's does), so the test waits until the
    // sensor has matched all 51 packets: on a loaded machine the signal could
    // otherwise overtake packets still in the pipe.
    wait_eve(&dir.path().join("eve.json"), "alert", 51);
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("packets: 51"), "no summary after SIGTERM:\n{err}");
    let text = std::fs::read_to_string(dir.path().join("eve.json")).unwrap();
    assert!(text.ends_with('\n'));
    let alerts = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).collect::<Vec<_>>();
    assert_eq!(alerts.iter().filter(|v| v["event_type"] == "alert").count(), 51);
}

#[test]
fn rule_files_added_changed_broken_fixed_and_removed_take_effect_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.d");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.rules"), rule(1, 100)).unwrap();
    let eve = dir.path().join("eve.json");
    let mut s = Sensor::start(&["-r", "rules.d", "--eve", "eve.json"], dir.path());
    let mut expected = 0;
    let mut check = |s: &mut Sensor, want: &[u64]| {
        s.ping(200);
        expected += want.len();
        let all = wait_eve(&eve, "alert", expected);
        let last: Vec<u64> = sids(&all[expected - want.len()..]);
        assert_eq!(last, want, "alerts of the last packet");
    };
    check(&mut s, &[1]);

    // A new file.
    let saved = Instant::now();
    std::fs::write(rules.join("b.rules"), rule(2, 50)).unwrap();
    s.wait_stderr("rules reloaded");
    eprintln!("new file live {:?} after it was saved", saved.elapsed());
    check(&mut s, &[1, 2]);

    // A bad file: refused with file:line:col, the others stay.
    std::fs::write(rules.join("c.rules"), rule(3, 10).replace("payload.len", "payload.lenght")).unwrap();
    let refused = s.wait_stderr("c.rules refused");
    assert!(refused.contains("not loaded"), "{refused}");
    s.wait_stderr("c.rules:4:10");
    check(&mut s, &[1, 2]);

    // Fixed.
    std::fs::write(rules.join("c.rules"), rule(3, 10)).unwrap();
    s.wait_stderr("0 files refused");
    check(&mut s, &[1, 2, 3]);

    // Broken again: its last good version stays.
    std::fs::write(rules.join("c.rules"), "alert icmp any any -> any any {\n").unwrap();
    s.wait_stderr("its previous version stays loaded");
    check(&mut s, &[1, 2, 3]);
    std::fs::write(rules.join("c.rules"), rule(3, 10)).unwrap();
    s.wait_stderr("0 files refused");

    // A changed threshold, written as editors do: a temporary file renamed over the old one.
    std::fs::write(rules.join(".a.rules.swp"), rule(1, 1000)).unwrap();
    std::fs::rename(rules.join(".a.rules.swp"), rules.join("a.rules")).unwrap();
    let line = s.wait_stderr("1 removed or changed");
    assert!(line.contains("3 rules"), "{line}");
    check(&mut s, &[2, 3]);

    // A removed file.
    std::fs::remove_file(rules.join("b.rules")).unwrap();
    s.wait_stderr("2 rules from 2 files");
    check(&mut s, &[3]);

    // Rapid saves: the last one wins.
    for len in [10, 20, 30, 40, 500] {
        std::fs::write(rules.join("c.rules"), rule(3, len)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(800));
    check(&mut s, &[]);
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("rule reloads:"), "{err}");
}

#[test]
fn state_of_unchanged_rules_survives_a_reload_and_changed_rules_start_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.d");
    std::fs::create_dir(&rules).unwrap();
    let counted = |rev: u32| {
        format!(
            "alert icmp any any -> any any {{\n    id 7\n    rev {rev}\n    msg \"third echo\"\n    when payload.len > 10\n    threshold 3 within 1h by src\n}}\n"
        )
    };
    std::fs::write(rules.join("count.rules"), counted(1)).unwrap();
    let eve = dir.path().join("eve.json");
    let mut s = Sensor::start(&["-r", "rules.d", "--eve", "eve.json"], dir.path());
    s.ping(50);
    s.ping(50);
    // Another file changes: rule 7 is untouched and keeps its count of 2.
    std::fs::write(rules.join("other.rules"), rule(100, 5000)).unwrap();
    let line = s.wait_stderr("rules reloaded");
    assert!(line.contains("state kept for 1 of 1 stateful rules"), "{line}");
    s.ping(50);
    assert_eq!(sids(&wait_eve(&eve, "alert", 1)), vec![7]);
    // Rule 7 itself changes (a new rev): it counts from zero again.
    std::fs::write(rules.join("count.rules"), counted(2)).unwrap();
    let line = s.wait_stderr("state kept for 0 of 1");
    assert!(line.contains("1 removed or changed"), "{line}");
    s.ping(50);
    s.ping(50);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(wait_eve(&eve, "alert", 1).len(), 1, "a fresh rule fired before its third match");
    s.ping(50);
    assert_eq!(wait_eve(&eve, "alert", 2).len(), 2);
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
}

#[test]
fn sigusr2_reloads_without_a_watcher_and_sighup_reopens_the_eve_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.rules"), rule(1, 100)).unwrap();
    let eve = dir.path().join("eve.json");
    let mut s = Sensor::start(&["-r", "r.rules", "--eve", "eve.json", "--no-watch"], dir.path());
    s.ping(200);
    wait_eve(&eve, "alert", 1);
    std::fs::write(dir.path().join("r.rules"), rule(1, 100) + &rule(2, 100)).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(!s.stderr_seen.iter().any(|l| l.contains("reloaded")));
    s.signal(libc::SIGUSR2);
    s.wait_stderr("rules reloaded");
    // logrotate: move the file away, then SIGHUP.
    std::fs::rename(&eve, dir.path().join("eve.json.1")).unwrap();
    s.signal(libc::SIGHUP);
    s.wait_stderr("reopened");
    s.ping(200);
    assert_eq!(sids(&wait_eve(&eve, "alert", 2)), vec![1, 2]);
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
    let rotated = std::fs::read_to_string(dir.path().join("eve.json.1")).unwrap();
    assert_eq!(rotated.lines().filter(|l| l.contains("\"alert\"")).count(), 1);
}

#[test]
fn a_sensor_starts_with_the_good_files_and_refuses_to_start_with_none() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.d");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("bad.rules"), "alert icmp any any -> any any { id 9 when nonsense }\n").unwrap();
    let out = common::run_ferret(&["scan", "-r", "rules.d", "-"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the sensor does not start"));

    std::fs::write(rules.join("good.rules"), rule(1, 100)).unwrap();
    let eve = dir.path().join("eve.json");
    let s = Sensor::start(&["-r", "rules.d", "--eve", "eve.json"], dir.path());
    assert!(s.stderr_seen.iter().any(|l| l.contains("bad.rules refused")), "{:?}", s.stderr_seen);
    let mut s = s;
    s.ping(200);
    assert_eq!(sids(&wait_eve(&eve, "alert", 1)), vec![1]);
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
}

#[test]
fn periodic_stats_are_eve_stats_events_and_a_stats_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.rules"), rule(1, 100)).unwrap();
    let eve = dir.path().join("eve.json");
    let mut s = Sensor::start(
        &["-r", "r.rules", "--eve", "eve.json", "--stats", "stats.json", "--stats-interval", "200ms"],
        dir.path(),
    );
    s.ping(200);
    s.ping(20);
    let stats = wait_eve(&eve, "stats", 2);
    let last = stats.last().unwrap();
    assert_eq!(last["stats"]["decoder"]["pkts"], 2);
    assert_eq!(last["stats"]["detect"]["alert"], 1);
    assert_eq!(last["stats"]["detect"]["engines"][0]["rules_loaded"], 1);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(file["packets"], 2);
    assert_eq!(file["alerts_by_sid"]["1"], 1);
    assert!(file["sensor"]["uptime_secs"].is_u64());
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
}

/// Frames of a busy mixed link, with new hosts all the time (new state keys).
fn traffic_chunk(round: u32) -> Vec<u8> {
    let opts = PcapOptions { link_type: linktype::ETHERNET, nanos: false, big_endian: false, snaplen: 65535 };
    let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
    let ts = 1_700_000_000_000_000_000 + i64::from(round) * 1_000_000_000;
    for i in 0..1000u32 {
        let src = Ipv4Addr::from(0x0a00_0000 | (round.wrapping_mul(1000) + i) & 0x00ff_ffff);
        let payload: Vec<u8> = (0..1200).map(|b| (b as u32 ^ i ^ round) as u8).collect();
        let f = frame::icmp_echo(src, B, false, i as u16, round as u16, &payload);
        w.write_packet(ts + i64::from(i) * 1000, &f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

#[test]
fn a_multi_gigabyte_stream_runs_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sensor::start(&["-q", "--state-max-entries", "20000"], dir.path());
    let header_len = 24;
    let mut written: u64 = 0;
    let mut round = 0;
    let target: u64 = 2 << 30;
    let w = s.input.as_mut().unwrap().get_mut();
    while written < target {
        let chunk = traffic_chunk(round);
        w.write_all(&chunk[header_len..]).unwrap();
        written += chunk.len() as u64;
        round += 1;
    }
    w.flush().unwrap();
    let peak = s.peak_kib();
    eprintln!(
        "{:.2} GiB streamed in {round} rounds; peak RSS {} MiB",
        written as f64 / (1u64 << 30) as f64,
        peak / 1024
    );
    let (code, _, err) = s.terminate();
    assert_eq!(code, 0, "{err}");
    assert!(peak < 160 * 1024, "peak RSS {} MiB for a {} MiB stream", peak / 1024, written >> 20);
}

#[test]
fn scanning_a_large_file_keeps_resident_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.pcap");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut written = 0u64;
    for round in 0..800 {
        let chunk = traffic_chunk(round);
        let body = if round == 0 { &chunk[..] } else { &chunk[24..] };
        f.write_all(body).unwrap();
        written += body.len() as u64;
    }
    f.flush().unwrap();
    drop(f);
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "{} scan -q --no-summary --state-max-entries 20000 {} & pid=$!; peak=0; \
             while kill -0 $pid 2>/dev/null; do v=$(awk '/VmHWM/ {{print $2}}' /proc/$pid/status 2>/dev/null); \
             [ -n \"$v\" ] && [ \"$v\" -gt \"$peak\" ] && peak=$v; sleep 0.05; done; wait $pid; echo $? $peak",
            common::ferret_bin().display(),
            path.display()
        ))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    let mut parts = out.split_whitespace();
    let code: i32 = parts.next().unwrap().parse().unwrap();
    let peak: u64 = parts.next().unwrap().parse().unwrap();
    eprintln!("{} MiB file; peak RSS {} MiB", written >> 20, peak / 1024);
    assert_eq!(code, 0);
    assert!(peak < 160 * 1024, "peak RSS {} MiB for a {} MiB file", peak / 1024, written >> 20);
}

#[test]
fn a_named_pipe_is_read_as_a_stream_and_its_end_ends_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.rules"), rule(1, 100)).unwrap();
    let fifo = dir.path().join("capture.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = Command::new(common::ferret_bin())
        .args(["scan", "-r", "big.rules", "--eve", "eve.json", "capture.fifo"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening for writing waits for ferret to open the pipe for reading.
    let pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let opts = PcapOptions { link_type: linktype::ETHERNET, nanos: false, big_endian: false, snaplen: 65535 };
    let mut w = PcapWriter::new(pipe, opts).unwrap();
    let f = frame::icmp_echo(A, B, false, 1, 1, &[7; 300]);
    w.write_packet(1_700_000_000_000_000_000, &f, f.len() as u32).unwrap();
    w.get_mut().flush().unwrap();
    // The alert is there while the writer still holds the pipe open.
    assert_eq!(sids(&wait_eve(&dir.path().join("eve.json"), "alert", 1)), vec![1]);
    drop(w);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("packets: 1 "), "{err}");
}
