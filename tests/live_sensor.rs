//! `ferret scan -i IFACE`, the whole binary on a live interface: the same
//! alerts as an offline scan of the same frames, rules reloaded 20 times under
//! traffic without a packet lost or seen twice, BPF filters, statistics with
//! kernel counters, and privileges dropped once the capture is open.
//!
//! Frames come from `ferret_synth` and are injected on the far end of a veth
//! pair (tests/common/netns.rs). Needs `--features live` and root; otherwise
//! each test prints `SKIPPED: <why>`, and fails instead when
//! `FERRET_REQUIRE_LIVE=1` (CI).

mod common;

#[cfg(not(feature = "live"))]
#[test]
fn the_live_sensor_needs_the_live_feature() {
    common::skip("FERRET_REQUIRE_LIVE", "built without --features live");
    // A build without the feature answers -i with how to get it.
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_ferret(&["scan", "-i", "lo"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install libpcap-dev") && err.contains("--features live"), "{err}");
}

#[cfg(feature = "live")]
mod live {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    use ferret_synth::scenario::{evasions, office};

    use crate::common::{self, netns::Veth};

    /// Rules whose outcome does not depend on how fast frames are replayed:
    /// stateless tests, and stateful clauses with windows longer than the run.
    const RULES: &str = r#"
alert icmp any any -> any any {
    id 1
    msg "random echo payload"
    when icmp.type in [echo-request, echo-reply] and payload.pattern == random and payload.len >= 32
}
alert dns any any -> any any {
    id 2
    msg "long name"
    when dns.qname.len > 30
}
alert icmp any any -> any any {
    id 3
    msg "third echo of a pair"
    when icmp.type == echo-request and payload.len > 16
    threshold 3 within 1h by pair
}
alert dns any any -> any any {
    id 4
    msg "many subdomains"
    when dns.is_response == false
    distinct dns.subdomain > 5 within 1h by src, dns.domain
}
alert udp any any -> any 53 {
    id 5
    msg "first query of a host"
    when payload.len > 0
    limit 1 per 1h by src
}
"#;

    /// Ethernet frames of a busy office with tunnels and evasions in it.
    fn frames(office_packets: usize) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = office(office_packets, 7).packets.into_iter().map(|p| p.frame).collect();
        for s in evasions() {
            out.extend(s.packets.into_iter().filter(|p| p.link_type == 1).map(|p| p.frame));
        }
        out
    }

    fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
        let opts = ferret::capture::PcapOptions {
            link_type: ferret::capture::linktype::ETHERNET,
            nanos: false,
            big_endian: false,
            snaplen: 65535,
        };
        let mut w = ferret::capture::PcapWriter::new(std::fs::File::create(path).unwrap(), opts).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write_packet(1_700_000_000_000_000_000 + i as i64 * 1_000_000, f, f.len() as u32).unwrap();
        }
    }

    /// What identifies an alert apart from its time: rule, packet number, addresses and ports.
    fn alert_keys(eve: &Path) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for line in std::fs::read_to_string(eve).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["event_type"] != "alert" {
                continue;
            }
            let key = format!(
                "{} #{} {}:{} -> {}:{}",
                v["alert"]["signature_id"], v["pcap_cnt"], v["src_ip"], v["src_port"], v["dest_ip"], v["dest_port"]
            );
            *out.entry(key).or_insert(0) += 1;
        }
        out
    }

    /// A running `ferret scan -i`, with its stderr read line by line.
    struct Running {
        child: Child,
        stderr: Receiver<String>,
        seen: Vec<String>,
    }

    impl Running {
        fn start(iface: &str, dir: &Path, args: &[&str]) -> Running {
            let mut child = Command::new(common::ferret_bin())
                .args(["scan", "-i", iface, "--no-watch"])
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let (tx, rx) = mpsc::channel();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            let mut r = Running { child, stderr: rx, seen: Vec::new() };
            r.wait_for("sensor running", 1);
            r
        }

        /// Waits until `n` lines containing `needle` have been printed.
        fn wait_for(&mut self, needle: &str, n: usize) {
            let deadline = Instant::now() + Duration::from_secs(60);
            while self.seen.iter().filter(|l| l.contains(needle)).count() < n {
                assert!(Instant::now() < deadline, "waiting for {n}× {needle:?}; saw:\n{}", self.seen.join("\n"));
                if let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(50)) {
                    self.seen.push(l);
                }
            }
        }

        fn pid(&self) -> i32 {
            self.child.id() as i32
        }

        /// SIGTERM, then the exit code and everything it printed on stderr.
        fn stop(mut self) -> (i32, String) {
            // Let the last frames through the kernel and the capture buffer.
            std::thread::sleep(Duration::from_millis(500));
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(self.pid(), libc::SIGTERM) };
            let status = self.child.wait().unwrap();
            while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(300)) {
                self.seen.push(l);
            }
            (status.code().unwrap_or(-1), self.seen.join("\n"))
        }
    }

    fn summary_number(err: &str, prefix: &str) -> u64 {
        let line = err.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in\n{err}"));
        line[prefix.len()..].split_whitespace().next().unwrap().parse().unwrap()
    }

    #[test]
    fn a_packet_seen_live_raises_the_alerts_it_raises_in_a_file() {
        let Some(veth) = Veth::create() else { return };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.rules"), RULES).unwrap();
        let frames = frames(3000);
        write_pcap(&dir.path().join("same.pcap"), &frames);
        let offline =
            common::run_ferret(&["scan", "-q", "-r", "t.rules", "--eve", "offline.json", "same.pcap"], dir.path(), b"");
        assert_eq!(offline.status.code(), Some(0));
        let expected = alert_keys(&dir.path().join("offline.json"));
        assert!(expected.len() > 20, "the frames should raise alerts: {expected:?}");

        let running = Running::start(&veth.outer, dir.path(), &["-q", "-r", "t.rules", "--eve", "live.json"]);
        let replay = veth.replay_at_rate(&frames, 5000.0).unwrap();
        let (code, err) = running.stop();
        assert_eq!(code, 0, "{err}");
        assert_eq!(summary_number(&err, "packets: "), replay.sent as u64, "{err}");
        assert_eq!(alert_keys(&dir.path().join("live.json")), expected);
        // Live alerts name the interface (EVE in_iface) and no capture file.
        let live = std::fs::read_to_string(dir.path().join("live.json")).unwrap();
        for line in live.lines().filter(|l| l.contains(r#""event_type":"alert""#)) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["in_iface"].as_str(), Some(veth.outer.as_str()), "{line}");
            assert!(v.get("pcap_filename").is_none(), "{line}");
        }
    }

    #[test]
    fn twenty_reloads_under_traffic_lose_no_packet_and_change_no_alert() {
        let Some(veth) = Veth::create() else { return };
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.d");
        std::fs::create_dir(&rules).unwrap();
        std::fs::write(rules.join("t.rules"), RULES).unwrap();
        let frames = frames(20_000);
        write_pcap(&dir.path().join("same.pcap"), &frames);
        let offline =
            common::run_ferret(&["scan", "-q", "-r", "rules.d", "--eve", "offline.json", "same.pcap"], dir.path(), b"");
        assert_eq!(offline.status.code(), Some(0));
        let expected = alert_keys(&dir.path().join("offline.json"));

        let mut running = Running::start(&veth.outer, dir.path(), &["-q", "-r", "rules.d", "--eve", "live.json"]);
        let injector = veth.injector();
        let rate = 4000.0;
        let sender = std::thread::spawn(move || injector.replay_at_rate(&frames, rate).unwrap());
        // 20 reloads while the frames flow (about 5 s of traffic): the rule files are
        // rewritten (comments change, a never-matching rule comes and goes), so every
        // alerting rule stays unchanged and keeps its state.
        let started = Instant::now();
        for i in 0..20 {
            let extra = if i % 2 == 0 {
                "alert icmp any any -> any any { id 900 msg \"never\" when payload.len > 100000 }\n"
            } else {
                ""
            };
            std::fs::write(rules.join("t.rules"), format!("# revision {i}\n{RULES}")).unwrap();
            std::fs::write(rules.join("z.rules"), format!("# {i}\n{extra}")).unwrap();
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(running.pid(), libc::SIGUSR2) };
            running.wait_for("rules reloaded", i + 1);
            // Spread the reloads over the replay.
            std::thread::sleep(Duration::from_millis(200));
        }
        let reload_time = started.elapsed();
        let replay = sender.join().unwrap();
        assert!(reload_time < replay.elapsed, "the reloads happened while traffic flowed");
        let (code, err) = running.stop();
        assert_eq!(code, 0, "{err}");
        eprintln!("20 reloads in {reload_time:?} during {} packets in {:?}", replay.sent, replay.elapsed);
        assert!(err.contains("rule reloads: 20"), "{err}");
        assert_eq!(summary_number(&err, "packets: "), replay.sent as u64, "packets seen = packets sent\n{err}");
        let received = summary_number(&err, "capture: ");
        assert!(received >= replay.sent as u64, "kernel saw every packet: {err}");
        assert!(err.contains(" 0 dropped (0.00%)"), "no kernel drops: {err}");
        assert_eq!(alert_keys(&dir.path().join("live.json")), expected);
    }

    #[test]
    fn bpf_filters_apply_and_stats_carry_kernel_counters() {
        let Some(veth) = Veth::create() else { return };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.rules"), RULES).unwrap();
        let frames = frames(1000);
        let running = Running::start(
            &veth.outer,
            dir.path(),
            &[
                "-q",
                "-r",
                "t.rules",
                "--bpf",
                "icmp",
                "--snaplen",
                "96",
                "--eve",
                "live.json",
                "--stats-interval",
                "200ms",
            ],
        );
        veth.replay_at_rate(&frames, 5000.0).unwrap();
        let (code, err) = running.stop();
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(" udp 0 icmp "), "only ICMP passes the filter: {err}");
        assert!(err.contains("--snaplen 96 is shorter than what the rules read"), "{err}");
        let text = std::fs::read_to_string(dir.path().join("live.json")).unwrap();
        let stats: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["event_type"] == "stats")
            .collect();
        let last = stats.last().expect("periodic stats events");
        assert!(last["stats"]["capture"]["kernel_packets"].as_u64().unwrap() > 0, "{last}");
        assert_eq!(last["stats"]["capture"]["kernel_drops"], 0);
    }

    #[test]
    fn kernel_drops_are_counted_warned_about_and_summed_up() {
        let Some(veth) = Veth::create() else { return };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.rules"), RULES).unwrap();
        // A buffer of a few packets' room and a burst sent as fast as the link takes it.
        let mut running = Running::start(
            &veth.outer,
            dir.path(),
            &["-q", "-r", "t.rules", "--buffer-size", "1", "--stats-interval", "100ms"],
        );
        let frames = frames(20_000);
        veth.send_frames(&frames).unwrap();
        running.wait_for("packets dropped by the kernel or interface since the last look", 1);
        let (code, err) = running.stop();
        assert_eq!(code, 0, "{err}");
        let line = err.lines().find(|l| l.starts_with("capture: ")).unwrap();
        let dropped: u64 = line.split(", ").nth(1).and_then(|p| p.split(' ').next()).unwrap().parse().unwrap();
        assert!(dropped > 0, "{line}");
    }

    #[test]
    fn privileges_drop_once_the_capture_is_open_and_capture_goes_on() {
        let Some(veth) = Veth::create() else { return };
        let dir = tempfile::tempdir().unwrap();
        // nobody must be able to write the EVE file's folder for SIGHUP; here it only writes the open file.
        std::fs::write(dir.path().join("t.rules"), RULES).unwrap();
        let running = Running::start(&veth.outer, dir.path(), &["-q", "-r", "t.rules", "--user", "nobody"]);
        let status = std::fs::read_to_string(format!("/proc/{}/status", running.pid())).unwrap();
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap().to_string();
        let nobody = uid_line.split_whitespace().nth(1).unwrap().to_string();
        assert_ne!(nobody, "0", "{uid_line}");
        assert!(uid_line.split_whitespace().skip(1).all(|id| id == nobody), "real, effective, saved: {uid_line}");
        let frames = frames(200);
        veth.replay_at_rate(&frames, 2000.0).unwrap();
        let (code, err) = running.stop();
        assert_eq!(code, 0, "{err}");
        assert_eq!(summary_number(&err, "packets: "), frames.len() as u64, "{err}");
    }
}
