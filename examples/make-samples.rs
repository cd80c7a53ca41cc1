//! Writes the sample captures into `samples/` (or the directory given),
//! with `--bench N FILE`, a benchmark capture of N generated packets, and
//! with `--corpus DIR` the red-team corpus: every labelled evasion scenario
//! (and the busy office) as `NAME.pcap` with `NAME.truth`, one line per
//! packet, `1` for a tunnel packet and `0` for any other, which
//! `benches/detection.py` scores a ferret binary against.
//!
//! `cargo run --example make-samples [DIR]`
//! `cargo run --release --example make-samples -- --bench 1000000 /tmp/bench.pcap`
//! `cargo run --example make-samples -- --corpus /tmp/corpus`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use ferret::capture::writer::{PcapOptions, PcapWriter};
use ferret_synth::{samples, scenario};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--bench") {
        let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
        let path = PathBuf::from(args.get(2).map_or("bench.pcap", String::as_str));
        let mut w = PcapWriter::new(BufWriter::new(File::create(&path)?), PcapOptions::default())?;
        for p in scenario::bench_mix(n, 7) {
            w.write_packet(p.ts_nanos, &p.frame, p.frame.len() as u32)?;
        }
        w.into_inner().flush()?;
        println!("{}: {n} packets", path.display());
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("--corpus") {
        let dir = PathBuf::from(args.get(1).map_or("corpus", String::as_str));
        std::fs::create_dir_all(&dir)?;
        let all = [
            scenario::evasions(),
            scenario::icmp_evasions(),
            scenario::dns_evasions(),
            scenario::frag_evasions(),
            scenario::dns_tcp_evasions(),
        ];
        for s in all.into_iter().flatten().chain([scenario::office(3000, 9)]) {
            let mut pcap = Vec::new();
            s.write_pcap(&mut pcap, true)?;
            std::fs::write(dir.join(format!("{}.pcap", s.name)), pcap)?;
            let truth: String = s.packets.iter().map(|p| if p.tunnel { "1\n" } else { "0\n" }).collect();
            std::fs::write(dir.join(format!("{}.truth", s.name)), truth)?;
            println!("{}: {} packets", s.name, s.packets.len());
        }
        return Ok(());
    }
    let dir = PathBuf::from(args.first().map_or("samples", String::as_str));
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in samples::samples()? {
        std::fs::write(dir.join(name), &bytes)?;
        println!("{}: {} bytes", dir.join(name).display(), bytes.len());
    }
    Ok(())
}
