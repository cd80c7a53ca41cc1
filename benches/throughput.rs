//! Throughput of each stage of the pipeline over one generated capture
//! (`synth::scenario::bench_mix`: mostly TCP/UDP, ~10% DNS, ~10% ICMP, a few
//! ICMP tunnel packets), every row measured in the same run and printed as a
//! ratio against the read-only pass (1.00×), so the numbers mean something on
//! a shared, noisy machine:
//!
//! - `read`: pcap records as borrowed slices (the baseline);
//! - `floor`: a hand-written pass, no engine: read every packet, find its ICMP
//!   payload or DNS query name by hand and compute that one's Shannon entropy
//!   with a plain byte histogram: the least any tool doing the reports' job
//!   must do (issue 12's floor);
//! - `read_decode`: + `Packet::decode`;
//! - `dns_shape`: + the check that recognises DNS off port 53 by its shape,
//!   on every UDP payload off port 53, as the engine runs it when the rules
//!   have `dns` rules: its cost over `read_decode` is what that decoding adds
//!   (IP reassembly costs a non-fragment one branch);
//! - `two_rules`: + the engine with the reports' two rules (ICMP payload
//!   length and entropy, DNS name length and entropy);
//! - `rules_1000` / `rules_10000`: the two rules plus generated variants of
//!   them over the same fields (see [`generated`]): the cost of the rule count;
//! - `default_rules`: the built-in rules;
//! - `stateless` / `stateful`: conditions true on every IP packet, without
//!   and with threshold, rate and distinct clauses that fire on every match,
//!   so both raise the same alerts and the ratio is the cost of state (the
//!   harshest case: three rules, so nothing else dilutes it);
//! - `default_stateless` / `default_stateful`: the same three rules added to
//!   the built-in rules (a default-size rule set, as issue 12's goal puts
//!   it), without and with their clauses;
//! - `fixed_thresholds` / `network_scoped`: thresholds scoped by 256 networks;
//! - `two_rules_eve`: the two rules through the whole scan loop on one
//!   thread with EVE written (to a sink that drops the bytes, so the disk is
//!   not measured) and the flow table EVE turns on: compare with `floor`;
//! - `alerts_quiet` / `alerts_text`, `alerts_flows` / `alerts_eve`: the
//!   `stateless` rules (an alert on every packet, 1.2 alerts a packet)
//!   through the scan loop on one thread, writing nothing or the alert lines
//!   `ferret scan` prints, and, with the flow table on, nothing or EVE (to
//!   sinks that drop the bytes): what writing an alert costs;
//! - `threads`: the default rules through the whole scan loop over the
//!   capture as a mapped file, on one thread and on every core (at least 2):
//!   the ratio between them is what `--threads` gains.
//!
//! Each row is the best of `FERRET_BENCH_RUNS` (default 5) passes, the rows
//! timed round-robin so that a slow spell of a shared machine hits them alike.
//! Run: `cargo bench --bench throughput` (`FERRET_BENCH_PACKETS` sets the size, default 1,000,000).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferret::capture::writer::{PcapOptions, PcapWriter};
use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;

#[path = "../examples/floor/pass.rs"]
mod floor_pass;

fn capture(n: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
    for p in ferret_synth::scenario::bench_mix(n, 7) {
        w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32).unwrap();
    }
    w.into_inner()
}

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(ferret::load::compile_texts(vec![("bench.rules".into(), text.into())], &[]).unwrap())
}

/// The reports' two rules.
const TWO_RULES: [&str; 2] = [
    "alert icmp any any -> any any { id 1  when payload.len > 64 and payload.entropy > 5.8 }",
    "alert dns any any -> any any { id 2  when dns.qname.len > 24 and dns.qname.entropy > 3.5 }",
];

/// The two rules and `n - 2` variants of them over the same fields,
/// alternating ICMP and DNS: address variants (the rule for one /24 of
/// another site, `10.100.0.0/24` onwards) and threshold variants (fixed-length
/// tunnels: `payload.len == 65 + v`, `dns.qname.len == 25 + v`, with the
/// rule's entropy bound), so a packet fires at most one variant of each kind.
pub fn generated(n: usize) -> String {
    let mut out: String = TWO_RULES.iter().map(|r| format!("{r}\n")).collect();
    for k in 0..n.saturating_sub(2) {
        let (icmp, v) = (k % 2 == 0, k / 2);
        let id = k + 3;
        let text = match (icmp, v % 2 == 0) {
            (true, true) => format!(
                "alert icmp 10.{}.{}.0/24 any -> any any {{ id {id} when payload.len > 64 and payload.entropy > 5.8 }}",
                100 + v / 512,
                (v / 2) % 256
            ),
            (false, true) => format!(
                "alert dns 10.{}.{}.0/24 any -> any any {{ id {id} when dns.qname.len > 24 and dns.qname.entropy > 3.5 }}",
                100 + v / 512,
                (v / 2) % 256
            ),
            (true, false) => format!(
                "alert icmp any any -> any any {{ id {id} when payload.len == {} and payload.entropy > 5.8 }}",
                65 + v / 2
            ),
            (false, false) => format!(
                "alert dns any any -> any any {{ id {id} when dns.qname.len == {} and dns.qname.entropy > 3.5 }}",
                25 + v / 2
            ),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}

const CONDITIONS: [&str; 3] = [
    "alert icmp any any -> any any { id 1  when payload.len > 16",
    "alert ip any any -> any any { id 2  when ip.ttl > 0",
    "alert dns any any -> any any { id 3  when dns.qname.len > 0",
];
/// Clauses that fire on every match, so both rule sets raise the same alerts
/// and the difference between them is the cost of keeping state.
const CLAUSES: [&str; 3] = [
    "threshold 1 within 10s by pair }",
    "rate > 0/s by src }",
    "distinct dns.subdomain > 0 within 60s by src, dns.domain }",
];

// What a pass leaves to free: dropped after the pass is timed, as `ferret`
// ends without freeing its engine (millions of small buffers, one by one,
// would only delay the exit) and a sensor keeps its engine.
std::thread_local!(static LEFT: std::cell::RefCell<Vec<Box<dyn std::any::Any>>> = const { std::cell::RefCell::new(Vec::new()) });

/// Keeps `engine` to drop after the pass is timed.
fn leave(engine: Engine) {
    LEFT.with(|left| left.borrow_mut().push(Box::new(engine)));
}

fn scan(bytes: &[u8], rules: &Arc<RuleSet>) -> u64 {
    let mut engine = Engine::new(Arc::clone(rules));
    let mut alerts = 0u64;
    for (i, raw) in PacketReader::new(bytes).unwrap().enumerate() {
        let raw = raw.unwrap();
        // Decoded in place, as the scan loop does.
        let mut pkt = Packet::undecoded(raw.link_type, i as u64 + 1, raw.ts_nanos, raw.orig_len);
        pkt.decode_frame(raw.data);
        engine.process(&pkt, &mut |_| alerts += 1);
    }
    leave(engine);
    alerts
}

/// Counts alerts (the scan loop's sink side, without writing anything).
struct Count(u64);

impl ferret::scan::AlertSink for Count {
    fn alert(&mut self, _: &ferret::engine::alert::Alert, _: Option<&str>) -> std::io::Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The whole scan loop (`ferret::scan`) over a mapped capture file on `threads` threads.
fn scan_loop(path: &std::path::Path, rules: &Arc<RuleSet>, threads: usize) -> u64 {
    let mut engine = Engine::new(Arc::clone(rules));
    let mut count = Count(0);
    let inputs = vec![ferret::scan::Input::File(path.to_path_buf())];
    ferret::scan::scan_threads(&mut engine, inputs, &mut [&mut count], &mut (), &mut (), |_, _| {}, threads).unwrap();
    leave(engine);
    count.0
}

/// What [`scan_loop_out`] writes the alerts as.
#[derive(Clone, Copy)]
enum Out {
    /// Nothing (the alerts are counted).
    Nothing,
    /// Nothing, flow table on as EVE has it.
    Flows,
    /// EVE (flow table on), as `ferret scan --eve` writes it.
    Eve,
    /// The alert lines `ferret scan` prints.
    Text,
}

/// [`scan_loop`] on one thread writing `out` into a sink that drops the
/// bytes, so the disk is not measured; returns the alert count.
fn scan_loop_out(path: &std::path::Path, rules: &Arc<RuleSet>, out: Out) -> u64 {
    use ferret::output::sink::{EveSink, TextSink, OUTPUT_BUFFER};
    let mut engine = Engine::new(Arc::clone(rules));
    let mut count = Count(0);
    let buffer = || std::io::BufWriter::with_capacity(OUTPUT_BUFFER, std::io::sink());
    let (mut eve, mut text);
    let mut sinks: Vec<&mut dyn ferret::scan::AlertSink> = vec![&mut count];
    match out {
        Out::Nothing => {}
        Out::Flows => engine.track_flows(),
        Out::Eve => {
            engine.track_flows();
            eve = EveSink::new(buffer());
            sinks.push(&mut eve);
        }
        Out::Text => {
            text = TextSink::new(buffer());
            sinks.push(&mut text);
        }
    }
    let inputs = vec![ferret::scan::Input::File(path.to_path_buf())];
    ferret::scan::scan_threads(&mut engine, inputs, &mut sinks, &mut (), &mut (), |_, _| {}, 1).unwrap();
    drop(sinks);
    leave(engine);
    count.0
}

/// One row of the table: its name and the pass it times, which returns the
/// alert count for rows that raise alerts.
type Row<'a> = (String, Box<dyn FnMut() -> Option<u64> + 'a>);

/// Times every row `runs` times, round-robin (one pass of each row, then the
/// next round), and keeps each row's best: on a shared machine a slow spell
/// then hits every row alike instead of the rows that ran during it.
fn best_of(runs: usize, rows: &mut [Row<'_>]) -> Vec<(Duration, Option<u64>)> {
    let mut out = vec![(Duration::MAX, None); rows.len()];
    for _ in 0..runs {
        for ((_, pass), (fastest, alerts)) in rows.iter_mut().zip(&mut out) {
            let start = Instant::now();
            let v = black_box(pass());
            *fastest = (*fastest).min(start.elapsed());
            *alerts = v;
            LEFT.with(|left| left.borrow_mut().clear());
        }
    }
    out
}

const SCOPED_RULES: &str = "
var ICMP_ENTROPY = 5.8
var DNS_ENTROPY = 3.5
alert icmp any any -> any any { id 1  when payload.len > 64 and payload.entropy > $ICMP_ENTROPY }
alert dns any any -> any any { id 2  when dns.qname.len > 24 and dns.qname.entropy > $DNS_ENTROPY }
alert ip any any -> any any { id 3  when ip.ttl < 2 and payload.entropy > $ICMP_ENTROPY }
";

fn networks(n: u16) -> ferret::engine::compile::VarLayers {
    use ferret::engine::compile::{NetworkVars, VarLayers};
    use ferret::rules::ast::{IpNet, Value, ValueKind};
    let num = |v| Value { kind: ValueKind::Number(v), span: Default::default() };
    VarLayers {
        networks: (0..n)
            .map(|i| NetworkVars {
                name: format!("net{i}"),
                nets: vec![IpNet { addr: std::net::Ipv4Addr::new(10, 20, (i % 256) as u8, 0).into(), prefix: 24 }],
                vars: vec![("ICMP_ENTROPY".into(), num(7.0)), ("DNS_ENTROPY".into(), num(4.0))],
            })
            .collect(),
        ..VarLayers::default()
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word, if any, picks rows by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let n: usize = std::env::var("FERRET_BENCH_PACKETS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = std::env::var("FERRET_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let bytes = capture(n);
    let defaults = Arc::new(ferret::load::load(&[ferret::load::RuleSource::Defaults], &[]).unwrap());
    let stateless_text = CONDITIONS.map(|c| format!("{c} }}\n")).concat();
    let stateful_text = CONDITIONS.iter().zip(CLAUSES).map(|(c, s)| format!("{c}  {s}\n")).collect::<String>();
    let with_defaults = |text: &str| {
        let mut texts = ferret::load::read_sources(&[ferret::load::RuleSource::Defaults]).unwrap();
        texts.push(("bench.rules".into(), text.replace("id ", "id 99")));
        Arc::new(ferret::load::compile_texts(texts, &[]).unwrap())
    };
    let (default_stateless, default_stateful) = (with_defaults(&stateless_text), with_defaults(&stateful_text));
    let (stateless, stateful) = (rules(&stateless_text), rules(&stateful_text));
    let scoped_layers = networks(256);
    let sets: Vec<(&str, Arc<RuleSet>)> = vec![
        ("two_rules", rules(&generated(2))),
        ("rules_1000", rules(&generated(1000))),
        ("rules_10000", rules(&generated(10_000))),
        ("default_rules", defaults),
        ("stateless", stateless),
        ("stateful", stateful),
        ("default_stateless", default_stateless),
        ("default_stateful", default_stateful),
        ("fixed_thresholds", rules(SCOPED_RULES)),
        (
            "network_scoped",
            Arc::new(
                ferret::load::compile_with(vec![("bench.rules".into(), SCOPED_RULES.into())], &scoped_layers).unwrap(),
            ),
        ),
    ];
    // Several words, comma-separated, pick the rows of any (`-- floor,two_rules`).
    let wanted =
        |name: &str| filter.as_deref().is_none_or(|f| name == "read" || f.split(',').any(|w| name.contains(w)));

    // The scan loop on one thread and on every core, over the capture as a mapped file.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let path = std::env::temp_dir().join(format!("ferret-bench-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let find = |name: &str| &sets.iter().find(|s| s.0 == name).unwrap().1;
    let (two, defaults) = (find("two_rules"), find("default_rules"));

    println!("ferret pipeline throughput: {n} packets, {} bytes, best of {runs}, rows timed round-robin", bytes.len());
    let bytes = &bytes;
    let mut rows: Vec<Row<'_>> = vec![(
        "read".into(),
        Box::new(|| {
            black_box(PacketReader::new(bytes).unwrap().map(|r| r.unwrap().data.len()).sum::<usize>());
            None
        }),
    )];
    rows.push((
        "floor".into(),
        Box::new(|| {
            black_box(floor_pass::floor(bytes));
            None
        }),
    ));
    rows.push((
        "read_decode".into(),
        Box::new(|| {
            let mut payload = 0usize;
            for raw in PacketReader::new(bytes).unwrap() {
                let raw = raw.unwrap();
                payload += Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len).payload.len();
            }
            black_box(payload);
            None
        }),
    ));
    rows.push((
        "dns_shape".into(),
        Box::new(|| {
            let mut shaped = 0usize;
            for raw in PacketReader::new(bytes).unwrap() {
                let raw = raw.unwrap();
                let pkt = Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len);
                let udp = matches!(pkt.transport, ferret::decode::Transport::Udp { .. });
                if udp && !pkt.is_dns() && !pkt.payload.is_empty() {
                    shaped += usize::from(ferret::decode::dns::has_dns_shape(pkt.payload));
                }
            }
            black_box(shaped);
            None
        }),
    ));
    for (name, set) in &sets {
        rows.push((format!("{name} ({} rules)", set.rules().len()), Box::new(move || Some(scan(bytes, set)))));
    }
    let path = &path;
    rows.push(("two_rules_eve (scan loop, EVE)".into(), Box::new(move || Some(scan_loop_out(path, two, Out::Eve)))));
    let every = find("stateless");
    let outs = [
        ("alerts_quiet", Out::Nothing),
        ("alerts_text", Out::Text),
        ("alerts_flows", Out::Flows),
        ("alerts_eve", Out::Eve),
    ];
    for (name, out) in outs {
        rows.push((format!("{name} (scan loop, 3 rules)"), Box::new(move || Some(scan_loop_out(path, every, out)))));
    }
    for (name, threads) in [("threads_1", 1), ("threads_n", cores.max(2))] {
        rows.push((
            format!("{name} (default, {threads} threads)"),
            Box::new(move || Some(scan_loop(path, defaults, threads))),
        ));
    }
    rows.retain(|(name, _)| wanted(name));
    let times = best_of(runs, &mut rows);
    let _ = std::fs::remove_file(path);
    let rows: Vec<(String, Duration, Option<u64>)> =
        rows.into_iter().zip(times).map(|((name, _), (t, alerts))| (name, t, alerts)).collect();
    let read = rows[0].1;
    let time_of = |prefix: &str| rows.iter().find(|r| r.0.starts_with(prefix)).map(|r| r.1.as_secs_f64());
    let ratios: Vec<String> = [
        ("two_rules_eve", "floor", "two rules with EVE / floor"),
        ("rules_1000", "two_rules", "1,000 rules / two rules"),
        ("rules_10000", "two_rules", "10,000 rules / two rules"),
        ("stateful", "stateless", "stateful / stateless"),
        ("default_stateful", "default_stateless", "default-size stateful / stateless"),
        ("threads_1", "threads_n", "scan loop 1 thread / N threads (speedup)"),
        ("alerts_eve", "alerts_flows", "EVE for an alert on every packet / no output"),
        ("alerts_text", "alerts_quiet", "alert lines for an alert on every packet / no output"),
    ]
    .iter()
    .filter_map(|(a, b, label)| Some(format!("{label}: {:.2}x", time_of(a)? / time_of(b)?)))
    .chain((|| {
        let added = time_of("dns_shape")? - time_of("read_decode")?;
        Some(format!("DNS by shape / default rules: {:.1}%", 100.0 * added / time_of("default_rules")?))
    })())
    .collect();
    for (name, t, alerts) in &rows {
        let secs = t.as_secs_f64();
        let alerts = alerts.map_or_else(String::new, |a| format!("  {a} alerts"));
        println!(
            "{name:<28} {secs:8.3} s  {:>12.0} packets/s  {:6.2}x read{alerts}",
            n as f64 / secs,
            secs / read.as_secs_f64()
        );
    }
    if !ratios.is_empty() {
        println!("{}", ratios.join("; "));
    }
}
