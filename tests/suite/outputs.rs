//! Outputs to the places alerts go, each tested against the real thing the
//! test starts: a `redis-server` on a free loopback port (list, channel and
//! stream modes; a restart in the middle of a streaming run), Unix datagram
//! and stream sockets the test listens on, and a UDP syslog listener.
//!
//! The Redis tests are skipped, visibly, when `redis-server` is not installed
//! (`apt-get install redis-server`); CI sets `FERRET_REQUIRE_REDIS=1` so a
//! skip there is a failure.
#![cfg(unix)]

use crate::common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::redis::{self, RedisServer, Value};
use ferret::capture::{linktype, PcapOptions, PcapWriter};
use ferret_synth::frame;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const RULE: &str = "alert icmp any any -> any any {\n    id 1\n    msg \"echo\"\n    when payload.len > 10\n}\n";
const T0: i64 = 1_700_000_000_000_000_000;

/// Writes echo requests `first..first + n` (one alert each) to `w`.
fn pings<W: Write>(w: &mut PcapWriter<W>, first: u32, n: u32) {
    for i in first..first + n {
        let f = frame::icmp_echo(A, B, false, 1, i as u16, &[0x41; 64]);
        w.write_packet(T0 + i64::from(i) * 1_000_000, &f, f.len() as u32).unwrap();
    }
}

fn pcap_opts() -> PcapOptions {
    PcapOptions { link_type: linktype::ETHERNET, nanos: false, big_endian: false, snaplen: 65535 }
}

/// A capture of `n` echo requests and the rule that flags each, in `dir`.
fn capture(dir: &Path, n: u32) {
    let mut w = PcapWriter::new(Vec::new(), pcap_opts()).unwrap();
    pings(&mut w, 0, n);
    std::fs::write(dir.join("pings.pcap"), w.into_inner()).unwrap();
    std::fs::write(dir.join("r.rules"), RULE).unwrap();
}

fn scan(dir: &Path, args: &[&str]) -> String {
    let out = common::run_ferret(&[&["scan", "-q", "-r", "r.rules"], args, &["pings.pcap"]].concat(), dir, b"");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

/// `pcap_cnt` of each EVE alert, in the order given.
fn packet_numbers(events: &[String]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).unwrap_or_else(|_| panic!("not JSON: {e}"));
            assert_eq!(v["event_type"], "alert", "{e}");
            v["pcap_cnt"].as_u64().unwrap()
        })
        .collect()
}

fn redis_or_skip() -> bool {
    if redis::available() {
        return true;
    }
    common::skip("FERRET_REQUIRE_REDIS", "redis-server is not installed (apt-get install redis-server)");
    false
}

#[test]
fn redis_list_rpush_channel_and_stream_get_every_alert_in_order() {
    if !redis_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = RedisServer::start(dir.path());
    let n = 300;
    capture(dir.path(), n);
    let want: Vec<u64> = (1..=u64::from(n)).collect();
    let url = |rest: &str| format!("redis://127.0.0.1:{}/{rest}", server.port);

    // list (LPUSH, Suricata's default): newest first.
    let err = scan(dir.path(), &["--eve", &url("alerts")]);
    let mut got = packet_numbers(&server.client().list("alerts"));
    got.reverse();
    assert_eq!(got, want);
    let name = format!("output redis://127.0.0.1:{}/alerts?mode=list: {n} events written, 0 dropped", server.port);
    assert!(err.contains(&name), "{err}");

    // rpush: oldest first.
    scan(dir.path(), &["--eve", &url("ordered?mode=rpush")]);
    assert_eq!(packet_numbers(&server.client().list("ordered")), want);

    // stream (XADD key * eve EVENT).
    scan(dir.path(), &["--eve", &url("events?mode=stream")]);
    assert_eq!(packet_numbers(&server.client().stream("events")), want);

    // channel (PUBLISH): a subscriber that is there before the scan hears every alert.
    let mut sub = server.client();
    assert_eq!(sub.cmd(&["SUBSCRIBE", "live"]).items()[0].text(), "subscribe");
    scan(dir.path(), &["--eve", &url("live?mode=channel")]);
    let heard: Vec<String> = (0..n)
        .map(|_| {
            let msg = sub.read();
            assert_eq!(msg.items()[1].text(), "live");
            msg.items()[2].text()
        })
        .collect();
    assert_eq!(packet_numbers(&heard), want);
}

#[test]
fn a_bad_redis_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    capture(dir.path(), 1);
    let out =
        common::run_ferret(&["scan", "--eve", "redis://127.0.0.1:6379/k?mode=queue", "pings.pcap"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("ferret: --eve redis://127.0.0.1:6379/k?mode=queue: unknown mode `queue`"), "{err}");
}

/// ferret reading a pcap stream from a pipe, as `tcpdump -w - | ferret scan -`.
struct Streaming {
    child: Child,
    input: Option<PcapWriter<ChildStdin>>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
    next: u32,
}

impl Streaming {
    fn start(dir: &Path, args: &[&str]) -> Streaming {
        let mut child = Command::new(common::ferret_bin())
            .args(["scan", "-q", "-r", "r.rules"])
            .args(args)
            .arg("-")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = common::lines_of(child.stderr.take().unwrap());
        let input = PcapWriter::new(child.stdin.take().unwrap(), pcap_opts()).unwrap();
        let mut s = Streaming { child, input: Some(input), stderr: rx, seen: Vec::new(), next: 0 };
        s.wait_stderr("sensor running");
        s
    }

    fn send(&mut self, n: u32) {
        let w = self.input.as_mut().unwrap();
        pings(w, self.next, n);
        w.get_mut().flush().unwrap();
        self.next += n;
    }

    fn wait_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.seen.iter().any(|l| l.contains(needle)) {
            assert!(Instant::now() < deadline, "no {needle:?} on stderr:\n{}", self.seen.join("\n"));
            if let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(50)) {
                self.seen.push(l);
            }
        }
    }

    /// Closes the stream and waits for the exit; all of stderr.
    fn finish(mut self) -> String {
        drop(self.input.take());
        let status = self.child.wait().unwrap();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(l);
        }
        let err = self.seen.join("\n");
        assert_eq!(status.code(), Some(0), "{err}");
        err
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_redis_restart_mid_run_loses_only_what_the_stats_count() {
    if !redis_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    capture(dir.path(), 0);
    let mut server = RedisServer::start(dir.path());
    // A buffer of 100 events: alerts raised while Redis is down beyond those
    // (and the batch the writer holds) are dropped.
    let url = format!("redis://127.0.0.1:{}/k?mode=rpush&buffer=100&types=alert", server.port);
    let mut ferret =
        Streaming::start(dir.path(), &["--eve", &url, "--stats-interval", "100ms", "--stats", "stats.json"]);

    ferret.send(50);
    wait_for("the first 50 alerts in Redis", || server.client().cmd(&["LLEN", "k"]) == Value::Int(50));
    let before = server.client().list("k");
    server.kill();
    // While Redis is down: 400 alerts, more than the buffer holds.
    ferret.send(400);
    std::thread::sleep(Duration::from_millis(500));
    server.restart();
    ferret.wait_stderr("connected again");
    // Once the backlog is in Redis, the last 50 fit in the buffer.
    let mut last = -1;
    wait_for("the backlog to drain", || {
        std::thread::sleep(Duration::from_millis(300));
        let now = server.client().cmd(&["LLEN", "k"]);
        let settled = now == Value::Int(last);
        if let Value::Int(n) = now {
            last = n;
        }
        settled
    });
    ferret.send(50);
    let err = ferret.finish();

    let after = server.client().list("k");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stats.json")).unwrap()).unwrap();
    let raised = stats["alerts_by_sid"]["1"].as_u64().unwrap();
    let output = &stats["outputs"][0];
    let dropped = output["dropped"].as_u64().unwrap();
    let arrived = (before.len() + after.len()) as u64;
    assert_eq!(raised, 500);
    assert_eq!(arrived + dropped, raised, "{output}\n{err}");
    assert_eq!(output["written"].as_u64().unwrap(), arrived, "{output}");
    // The writer holds at most one batch (no more than the buffer) besides the buffer.
    assert!(dropped >= 400 - 2 * 100, "{output}");
    assert!(dropped > 0 && dropped == output["dropped_buffer_full"].as_u64().unwrap(), "{output}");
    assert!(output["reconnects"].as_u64().unwrap() >= 1, "{output}");
    // What arrived is in order, none twice; the last 50 (sent after the restart) all arrived.
    let numbers = packet_numbers(&[before, after].concat());
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(numbers.ends_with(&(451..=500).collect::<Vec<u64>>()), "{numbers:?}");
    assert!(err.contains("connection lost") || err.contains("cannot connect"), "{err}");
    assert!(err.contains(&format!("{dropped} dropped ({dropped} buffer full")), "{err}");
    // The loss is also said as it happens (an EVE `engine` event, logged too).
    assert!(err.contains("events dropped since the last look"), "{err}");
}

#[test]
fn a_config_sends_to_a_file_redis_unix_sockets_and_syslog_at_once() {
    let with_redis = redis_or_skip();
    let dir = tempfile::tempdir().unwrap();
    let n = 50;
    capture(dir.path(), n);
    let server = with_redis.then(|| RedisServer::start(dir.path()));
    // Datagram receivers read while ferret writes: a Unix datagram queue holds few messages.
    let dgram = UnixDatagram::bind(dir.path().join("dgram.sock")).unwrap();
    dgram.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let datagrams = std::thread::spawn(move || {
        let mut buf = vec![0; 65536];
        (0..n)
            .map(|_| {
                let len = dgram.recv(&mut buf).unwrap();
                String::from_utf8(buf[..len].to_vec()).unwrap()
            })
            .collect::<Vec<_>>()
    });
    let stream = UnixListener::bind(dir.path().join("stream.sock")).unwrap();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = stream.accept().unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        text
    });
    let syslog = UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let syslog_addr = syslog.local_addr().unwrap();
    let messages = std::thread::spawn(move || {
        let mut buf = vec![0; 65536];
        (0..n)
            .map(|_| {
                let len = syslog.recv(&mut buf).unwrap();
                String::from_utf8(buf[..len].to_vec()).unwrap()
            })
            .collect::<Vec<_>>()
    });
    let mut config = format!(
        "outputs:\n  eve: {{path: eve.json, types: [alert]}}\n  host: sensor-7\n\
         \x20 unix_socket:\n    - {{path: dgram.sock, type: dgram}}\n    - {{path: stream.sock, type: stream, types: [alert]}}\n\
         \x20 syslog: {{address: \"{}\", facility: local5}}\n",
        syslog_addr
    );
    if let Some(s) = &server {
        config.push_str(&format!(
            "  redis:\n    server: 127.0.0.1\n    port: {}\n    mode: rpush\n    key: cfg\n",
            s.port
        ));
    }
    std::fs::write(dir.path().join("ferret.yaml"), config).unwrap();
    let err = scan(dir.path(), &["--config", "ferret.yaml"]);
    let want: Vec<u64> = (1..=u64::from(n)).collect();

    let file: Vec<String> =
        std::fs::read_to_string(dir.path().join("eve.json")).unwrap().lines().map(String::from).collect();
    assert_eq!(packet_numbers(&file), want);
    let datagrams = datagrams.join().unwrap();
    assert_eq!(packet_numbers(&datagrams), want);
    let lines: Vec<String> = reader.join().unwrap().lines().map(String::from).collect();
    assert_eq!(packet_numbers(&lines), want);
    let messages = messages.join().unwrap();
    // RFC 5424 to a UDP collector: local5.info is <174>; the EVE line is the message.
    let bodies: Vec<String> = messages
        .iter()
        .map(|m| {
            assert!(m.starts_with("<174>1 "), "{m}");
            let parts: Vec<&str> = m.splitn(8, ' ').collect();
            assert_eq!((parts[2], parts[3], parts[5], parts[6]), ("sensor-7", "ferret", "-", "-"), "{m}");
            parts[7].to_string()
        })
        .collect();
    assert_eq!(packet_numbers(&bodies), want);
    if let Some(s) = &server {
        assert_eq!(packet_numbers(&s.client().list("cfg")), want);
    }
    for name in ["unix_dgram:", "unix_stream:", "syslog:udp://"] {
        assert!(err.contains(&format!("{n} events written, 0 dropped")) && err.contains(name), "{name}: {err}");
    }
}

#[test]
fn config_outputs_are_checked_and_located() {
    let dir = tempfile::tempdir().unwrap();
    capture(dir.path(), 1);
    std::fs::write(
        dir.path().join("ferret.yaml"),
        "outputs:\n  redis:\n    port: 99999\n    mode: queue\n    types: [alert, flows]\n  unix_socket:\n    type: dgram\n  syslog: {facility: local9, format: json}\n  eve: {types: [alert]}\n",
    )
    .unwrap();
    let out = common::run_ferret(&["scan", "--config", "ferret.yaml", "pings.pcap"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for (message, place) in [
        ("outputs.redis.port: expected a whole number from 1 to 65535, found number 99999", "ferret.yaml:3:11"),
        ("outputs.redis.mode: unknown value `queue`, expected one of `list`", "ferret.yaml:4:11"),
        ("outputs.redis.types: unknown value `flows`, expected one of `alert`, `stats`, `engine`", "ferret.yaml:5:20"),
        ("outputs.unix_socket: `path` is missing", "ferret.yaml:7:5"),
        ("outputs.syslog.facility: unknown value `local9`", "ferret.yaml:8:22"),
        ("outputs.syslog.format: unknown value `json`, expected one of `rfc5424`, `rfc3164`", "ferret.yaml:8:38"),
        ("outputs.eve: `path` is missing", "ferret.yaml:9:8"),
    ] {
        let at = err.find(&format!("error: {message}")).unwrap_or_else(|| panic!("{message}:\n{err}"));
        let next = err[at + 1..].find("error: ").map_or(err.len(), |i| at + 1 + i);
        assert!(err[at..next].contains(&format!("--> {place}\n")), "{place}:\n{}", &err[at..next]);
    }
}

#[test]
fn a_report_reads_a_redis_list_as_it_reads_the_eve_file() {
    if !redis_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = RedisServer::start(dir.path());
    // More alerts than one LRANGE chunk (1000), so the list is read in pieces.
    let n = 2500;
    capture(dir.path(), n);
    let url = |rest: &str| format!("redis://127.0.0.1:{}/{rest}", server.port);
    scan(dir.path(), &["--sensor-name", "edge-1", "--eve", "eve.json"]);
    scan(dir.path(), &["--sensor-name", "edge-1", "--eve", &url("alerts")]);
    scan(dir.path(), &["--sensor-name", "edge-1", "--eve", &url("ordered?mode=rpush")]);
    let report = |source: &str| {
        let out = common::run_ferret(&["report", "--format", "json", source], dir.path(), b"");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json
    };
    let from_file = report("eve.json");
    let evidence = |r: &serde_json::Value| r["evidence"].as_array().unwrap().clone();
    assert_eq!(from_file["summary"]["detections"], u64::from(n));
    for source in [url("alerts"), url("ordered?mode=rpush")] {
        let from_redis = report(&source);
        assert_eq!(evidence(&from_redis), evidence(&from_file), "{source}");
        assert_eq!(from_redis["summary"], from_file["summary"], "{source}");
    }
    // A channel keeps nothing to read back: an input error, as a missing file.
    let out = common::run_ferret(&["report", &url("live?mode=channel")], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a channel keeps no events"));
}
