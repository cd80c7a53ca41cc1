//! Live capture on a real interface: a veth pair whose far end, in its own network namespace,
//! injects frames built by `ferret_synth`; `LiveCapture` reads them on the near end.
//!
//! Needs `--features live` and root (see `tests/common/netns.rs`); otherwise each test prints
//! `SKIPPED: <why>`, and fails instead when `FERRET_REQUIRE_LIVE=1` (CI).

mod common;

#[cfg(not(feature = "live"))]
#[test]
fn live_capture_needs_the_live_feature() {
    common::skip("FERRET_REQUIRE_LIVE", "built without --features live");
}

#[cfg(feature = "live")]
mod live {
    use std::net::Ipv4Addr;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use ferret::capture::linktype;
    use ferret::capture::live::{LiveCapture, LiveError, LiveOptions};
    use ferret_synth::frame;

    use crate::common::netns::{self, Veth};

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

    /// A packet as received, copied out of libpcap's buffer.
    #[derive(Debug)]
    struct Got {
        ts_nanos: i64,
        link_type: u32,
        data: Vec<u8>,
        orig_len: u32,
        offset: u64,
    }

    fn icmp_frame(payload: &[u8]) -> Vec<u8> {
        frame::icmp_echo(SRC, DST, false, 0x4242, 7, payload)
    }

    fn dns_frame() -> Vec<u8> {
        frame::udp(SRC, DST, 40_000, 53, &frame::dns_query(0x1234, "live-test.ferret.example", 16))
    }

    fn now_nanos() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
    }

    fn open(veth: &Veth, configure: impl FnOnce(&mut LiveOptions)) -> LiveCapture {
        let mut opts = LiveOptions::new(&veth.outer);
        configure(&mut opts);
        LiveCapture::open(&opts).unwrap_or_else(|e| panic!("open {}: {e}", veth.outer))
    }

    /// Polls until `done` says so or `timeout` passes; returns everything received.
    fn collect(capture: &mut LiveCapture, timeout: Duration, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while !done(&got) && Instant::now() < deadline {
            capture
                .poll(Duration::from_millis(50), 64, |p| {
                    got.push(Got {
                        ts_nanos: p.ts_nanos,
                        link_type: p.link_type,
                        data: p.data.to_vec(),
                        orig_len: p.orig_len,
                        offset: p.offset,
                    })
                })
                .unwrap();
        }
        got
    }

    fn contains(got: &[Got], frame: &[u8]) -> bool {
        got.iter().any(|g| g.data == frame)
    }

    #[test]
    fn injected_frames_arrive_byte_identical_with_sane_timestamps() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |_| {});
        assert_eq!(capture.link_type(), linktype::ETHERNET);
        assert_eq!(capture.snaplen(), 65_535);
        assert!(capture.nanosecond_timestamps(), "Linux gives nanosecond timestamps");
        let icmp = icmp_frame(b"ferret live test: a chosen ICMP payload 0123456789");
        let dns = dns_frame();

        let before = now_nanos();
        assert_eq!(veth.send_frames(&[&icmp, &dns]).unwrap(), 2);
        let got = collect(&mut capture, Duration::from_secs(5), |got| contains(got, &dns));
        let after = now_nanos();

        let ours: Vec<&Got> = got.iter().filter(|g| g.data == icmp || g.data == dns).collect();
        assert_eq!(ours.len(), 2, "each frame exactly once, got {got:?}");
        let (first, second) = (ours[0], ours[1]);
        assert_eq!((&first.data, &second.data), (&icmp, &dns), "in the order sent");
        for g in &ours {
            assert_eq!(g.link_type, linktype::ETHERNET);
            assert_eq!(g.orig_len as usize, g.data.len());
            assert!(before - 1_000_000_000 <= g.ts_nanos && g.ts_nanos <= after + 1_000_000_000, "{g:?}");
        }
        assert!(first.ts_nanos <= second.ts_nanos);
        assert!(first.offset < second.offset, "offsets count the bytes handed out");
        // Nothing but what was sent: the harness keeps the kernel quiet on the link.
        assert_eq!(got.len(), 2, "unexpected extra frames: {got:?}");
        // And the frames decode as what they are.
        let packet = ferret::decode::Packet::decode(first.link_type, &first.data, 1, first.ts_nanos, first.orig_len);
        assert_eq!(packet.error, None);
        assert_eq!(packet.payload, b"ferret live test: a chosen ICMP payload 0123456789");
    }

    #[test]
    fn a_bpf_filter_passes_icmp_and_drops_dns() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |o| o.bpf = Some("icmp".into()));
        let icmp = icmp_frame(b"filtered ICMP");
        let dns = dns_frame();
        veth.send_frames(&[&dns, &icmp, &dns]).unwrap();
        let mut got = collect(&mut capture, Duration::from_secs(5), |got| contains(got, &icmp));
        // Give a DNS frame that slipped through time to show up.
        got.extend(collect(&mut capture, Duration::from_millis(200), |_| false));
        assert!(contains(&got, &icmp), "{got:?}");
        assert!(!contains(&got, &dns), "the filter let DNS through");
        assert!(got.iter().all(|g| g.data.get(23) == Some(&1)), "only ICMP passes 'icmp': {got:?}");
    }

    #[test]
    fn a_bad_filter_gives_libpcaps_message() {
        let Some(veth) = Veth::create() else { return };
        let mut opts = LiveOptions::new(&veth.outer);
        opts.bpf = Some("icmp and and".into());
        let error = LiveCapture::open(&opts).unwrap_err();
        let LiveError::Filter { filter, message } = &error else { panic!("{error:?}") };
        assert_eq!(filter, "icmp and and");
        assert!(message.contains("syntax error"), "{message}");
        assert!(error.to_string().starts_with("bad capture filter 'icmp and and': "), "{error}");
    }

    #[test]
    fn a_missing_interface_lists_the_available_ones() {
        // No root needed: libpcap creates the handle, activation finds no such device.
        let error = LiveCapture::open(&LiveOptions::new("ferret-nope0")).unwrap_err();
        let LiveError::NoSuchInterface { name, available } = &error else { panic!("{error:?}") };
        assert_eq!(name, "ferret-nope0");
        assert!(available.iter().any(|n| n == "lo"), "{available:?}");
        let text = error.to_string();
        assert!(text.starts_with("cannot capture on 'ferret-nope0': no such network interface (available: "), "{text}");
    }

    #[test]
    fn poll_returns_within_wait_on_a_silent_link() {
        let Some(veth) = Veth::create() else { return };
        for immediate in [true, false] {
            let mut capture = open(&veth, |o| o.immediate = immediate);
            let mut seen = 0;
            for wait_ms in [0u64, 20, 200] {
                let wait = Duration::from_millis(wait_ms);
                let start = Instant::now();
                let n = capture.poll(wait, 100, |_| seen += 1).unwrap();
                let took = start.elapsed();
                assert_eq!(n, 0);
                assert!(took + Duration::from_millis(2) >= wait, "returned early: {took:?} for {wait:?}");
                assert!(took <= wait + Duration::from_millis(150), "immediate={immediate}: {took:?} for {wait:?}");
            }
            assert_eq!(seen, 0);
            assert_eq!(capture.poll(Duration::from_secs(5), 0, |_| seen += 1).unwrap(), 0, "max 0 reads nothing");
        }
    }

    #[test]
    fn without_immediate_mode_packets_still_arrive_promptly() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |o| o.immediate = false);
        let icmp = icmp_frame(b"buffered");
        let start = Instant::now();
        veth.send_frames(&[&icmp]).unwrap();
        let got = collect(&mut capture, Duration::from_secs(5), |got| contains(got, &icmp));
        assert!(contains(&got, &icmp));
        assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    }

    #[test]
    fn poll_hands_over_at_most_max_packets() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |_| {});
        let frames: Vec<Vec<u8>> = (0..10u8).map(|i| icmp_frame(&[i; 40])).collect();
        veth.send_frames(&frames).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut total = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while total < 10 && Instant::now() < deadline {
            let mut calls = 0;
            let n = capture.poll(Duration::from_millis(50), 3, |_| calls += 1).unwrap();
            assert!(n <= 3 && n == calls, "n={n} calls={calls}");
            total += n;
        }
        assert_eq!(total, 10);
    }

    #[test]
    fn counters_count_what_arrived() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |_| {});
        assert_eq!(capture.counters().unwrap().received, 0);
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| icmp_frame(&[i; 20])).collect();
        veth.send_frames(&frames).unwrap();
        let got = collect(&mut capture, Duration::from_secs(5), |got| got.len() >= 5);
        assert_eq!(got.len(), 5);
        let counters = capture.counters().unwrap();
        assert_eq!((counters.received, counters.dropped), (5, 0), "{counters:?}");
        // Counters accumulate across calls.
        veth.send_frames(&frames[..2]).unwrap();
        collect(&mut capture, Duration::from_secs(5), |got| got.len() >= 2);
        assert_eq!(capture.counters().unwrap().received, 7);
    }

    #[test]
    fn snaplen_cuts_and_orig_len_keeps_the_wire_length() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |o| o.snaplen = 100);
        assert_eq!(capture.snaplen(), 100);
        let big = icmp_frame(&[0xab; 1000]);
        assert_eq!(big.len(), 14 + 20 + 8 + 1000);
        veth.send_frames(&[&big]).unwrap();
        let got = collect(&mut capture, Duration::from_secs(5), |got| !got.is_empty());
        let [g] = &got[..] else { panic!("{got:?}") };
        assert_eq!(g.data, big[..100]);
        assert_eq!(g.orig_len as usize, big.len());
    }

    #[test]
    fn promiscuous_off_and_a_bigger_buffer_still_capture() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |o| {
            o.promiscuous = false;
            o.buffer_size = Some(8 << 20);
        });
        let icmp = icmp_frame(b"not promiscuous");
        veth.send_frames(&[&icmp]).unwrap();
        assert!(contains(&collect(&mut capture, Duration::from_secs(5), |got| contains(got, &icmp)), &icmp));
    }

    #[test]
    fn replay_at_rate_paces_the_frames() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |_| {});
        let frames: Vec<Vec<u8>> = (0..50u16).map(|i| icmp_frame(&i.to_be_bytes())).collect();
        let injector = veth.injector();
        let sender = std::thread::spawn(move || injector.replay_at_rate(&frames, 500.0).unwrap());
        let got = collect(&mut capture, Duration::from_secs(5), |got| got.len() >= 50);
        let replay = sender.join().unwrap();
        assert_eq!((replay.sent, got.len()), (50, 50));
        // 49 gaps of 2 ms.
        assert!(replay.elapsed >= Duration::from_millis(95), "{:?}", replay.elapsed);
        let span = got[49].ts_nanos - got[0].ts_nanos;
        assert!(span >= 90_000_000, "capture timestamps span {span} ns");
    }

    #[test]
    fn a_capture_file_replays_onto_the_link() {
        let Some(veth) = Veth::create() else { return };
        let mut capture = open(&veth, |o| o.buffer_size = Some(32 << 20));
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/report-icmp.pcap")).unwrap();
        let frames: Vec<Vec<u8>> = netns::frames_of(&bytes).into_iter().filter(|f| f.len() <= 1514).collect();
        assert!(frames.len() > 100);
        // A burst sent at full speed: libpcap's default 2 MiB ring holds only ~32 packets of
        // snaplen 65535 on a link with offloads (see bursts_beyond_the_ring_count_as_dropped),
        // so this uses a sensor-sized buffer, and reads while sending.
        let injector = veth.injector();
        let to_send = frames.clone();
        let sender = std::thread::spawn(move || injector.send_frames(&to_send).unwrap());
        let got = collect(&mut capture, Duration::from_secs(5), |got| got.len() >= frames.len());
        assert_eq!(sender.join().unwrap(), frames.len());
        let counters = capture.counters().unwrap();
        assert_eq!(got.len(), frames.len(), "{counters:?}");
        for (i, (g, sent)) in got.iter().zip(&frames).enumerate() {
            assert!(g.data == *sent, "frame {i} differs");
        }
    }

    #[test]
    fn bursts_beyond_the_ring_count_as_dropped() {
        let Some(veth) = Veth::create() else { return };
        // A small buffer, not read while the burst arrives.
        let mut capture = open(&veth, |o| o.buffer_size = Some(256 << 10));
        let frames: Vec<Vec<u8>> = (0..200u16).map(|i| icmp_frame(&[i as u8; 1000])).collect();
        veth.send_frames(&frames).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let got = collect(&mut capture, Duration::from_millis(300), |_| false);
        let counters = capture.counters().unwrap();
        assert!(counters.dropped > 0, "{counters:?}, read {}", got.len());
        assert_eq!(counters.received, 200, "{counters:?}");
        assert_eq!(got.len() as u64 + counters.dropped, 200, "{counters:?}");
    }

    /// As `nobody`, opening fails with a permission error naming the capabilities. The check
    /// runs in a forked child, which drops privileges for good.
    #[test]
    fn without_privileges_open_says_which_capabilities() {
        let Some(veth) = Veth::create() else { return };
        let opts = LiveOptions::new(&veth.outer);
        let target = ferret::privileges::resolve(Some("nobody"), None).unwrap();
        // SAFETY: the child makes system calls and library calls, then leaves with _exit
        // without unwinding into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = match target.apply() {
                Err(_) => 10,
                Ok(()) => match LiveCapture::open(&opts) {
                    Ok(_) => 11,
                    Err(e @ LiveError::PermissionDenied { .. }) => {
                        let text = e.to_string();
                        if text.contains("setcap cap_net_raw,cap_net_admin=eip") && !text.contains('\n') {
                            0
                        } else {
                            12
                        }
                    }
                    Err(e) => {
                        eprintln!("child: {e:?}");
                        13
                    }
                },
            };
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "status {status}");
        let meaning = match libc::WEXITSTATUS(status) {
            0 => return,
            10 => "dropping to nobody failed",
            11 => "nobody could open the capture",
            12 => "the permission error does not name the capabilities, or is not one line",
            13 => "a different error (printed above)",
            _ => "unknown",
        };
        panic!("child: {meaning}");
    }
}
