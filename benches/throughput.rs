//! Packets per second over one generated capture of 1,000,000 packets
//! (`synth::scenario::bench_mix`: mostly TCP/UDP, ~10% DNS, ~10% ICMP), at
//! each stage of the pipeline, so every number is a ratio against the stage
//! before it, measured in the same run:
//!
//! - `read`: pcap records as borrowed slices (the baseline);
//! - `read_decode`: + `Packet::decode`;
//! - `scan_default`: + the engine with the default rules;
//! - `scan_stateless` / `scan_stateful`: the same conditions without and with
//!   threshold, rate and distinct clauses that fire on every match, so both
//!   raise the same alerts and the ratio is the cost of state.
//!
//! Run: `cargo bench --bench throughput` (set `FERRET_BENCH_PACKETS` to change the size).

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferret::capture::writer::{PcapOptions, PcapWriter};
use ferret::capture::PacketReader;
use ferret::decode::Packet;
use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;

fn capture(n: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), PcapOptions::default()).unwrap();
    for p in ferret::synth::scenario::bench_mix(n, 7) {
        w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32).unwrap();
    }
    w.into_inner()
}

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(ferret::load::compile_texts(vec![("bench.rules".into(), text.into())], &[]).unwrap())
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

fn scan(bytes: &[u8], rules: &Arc<RuleSet>) -> u64 {
    let mut engine = Engine::new(Arc::clone(rules));
    let mut alerts = 0u64;
    for (i, raw) in PacketReader::new(bytes).unwrap().enumerate() {
        let raw = raw.unwrap();
        let pkt = Packet::decode(raw.link_type, raw.data, i as u64 + 1, raw.ts_nanos, raw.orig_len);
        engine.process(&pkt, &mut |_| alerts += 1);
    }
    alerts
}

fn pipeline(c: &mut Criterion) {
    let n: usize = std::env::var("FERRET_BENCH_PACKETS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let bytes = capture(n);
    let defaults = Arc::new(ferret::load::load(&[ferret::load::RuleSource::Defaults], &[]).unwrap());
    let stateless = rules(&CONDITIONS.map(|c| format!("{c} }}\n")).concat());
    let stateful = rules(&CONDITIONS.iter().zip(CLAUSES).map(|(c, s)| format!("{c}  {s}\n")).collect::<String>());

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(n as u64)).sample_size(10);
    g.bench_function("read", |b| {
        b.iter(|| PacketReader::new(&bytes).unwrap().map(|r| r.unwrap().data.len()).sum::<usize>())
    });
    g.bench_function("read_decode", |b| {
        b.iter(|| {
            let mut payload = 0usize;
            for raw in PacketReader::new(&bytes).unwrap() {
                let raw = raw.unwrap();
                payload += Packet::decode(raw.link_type, raw.data, 1, raw.ts_nanos, raw.orig_len).payload.len();
            }
            payload
        })
    });
    g.bench_function("scan_default", |b| b.iter(|| scan(&bytes, &defaults)));
    g.bench_function("scan_stateless", |b| b.iter(|| scan(&bytes, &stateless)));
    g.bench_function("scan_stateful", |b| b.iter(|| scan(&bytes, &stateful)));
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
