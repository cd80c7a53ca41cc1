//! The fuzz targets' checks on a stable toolchain: every seed in
//! `fuzz/seeds/TARGET/`, then mutations of it (bytes flipped, cut, spliced,
//! from a fixed seed, so a failure repeats), through the very code the
//! libFuzzer targets run (`fuzz/fuzz_targets/check/`). A parser regression
//! fails here, in `cargo test`, without cargo-fuzz or nightly flags;
//! `fuzz/run.sh SECONDS` is the real fuzzing session.

#[path = "../../fuzz/fuzz_targets/check/capture.rs"]
mod capture;
#[path = "../../fuzz/fuzz_targets/check/config.rs"]
mod config;
#[path = "../../fuzz/fuzz_targets/check/dns.rs"]
mod dns;
#[path = "../../fuzz/fuzz_targets/check/packet.rs"]
mod packet;
#[path = "../../fuzz/fuzz_targets/check/rules.rs"]
mod rules;

use std::path::Path;

/// Mutations tried per seed.
const MUTATIONS: usize = 256;

/// A small xorshift generator: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`: a few bytes changed, a cut, a duplicated run, or an interesting value.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            data.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(data.len());
        match rng.below(5) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0x00, 0xff, 0x7f, 0x80, 0x3f, 0xc0][rng.below(6)],
            2 => data.truncate(at),
            3 => {
                let len = rng.below(16).min(data.len() - at);
                let run = data[at..at + len].to_vec();
                data.splice(at..at, run);
            }
            _ => data[at] = rng.next() as u8,
        }
    }
    data
}

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// Runs `check` over every seed of `target` and `MUTATIONS` mutations of each.
fn run_target(target: &str, check: fn(&[u8]), mutations: usize) {
    let mut rng = Rng(0x6665_7272_6574_0001);
    let mut ran = 0;
    for (name, seed) in seeds(target) {
        let caught = std::panic::catch_unwind(|| check(&seed));
        assert!(caught.is_ok(), "{target}: seed {name} broke a check");
        for i in 0..mutations {
            let input = mutate(&seed, &mut rng);
            if std::panic::catch_unwind(|| check(&input)).is_err() {
                let hex: String = input.iter().take(256).map(|b| format!("{b:02x}")).collect();
                panic!("{target}: mutation {i} of {name} broke a check; input (hex, first 256 bytes): {hex}");
            }
            ran += 1;
        }
    }
    println!("{target}: {ran} mutated inputs");
}

#[test]
fn rules_seeds_and_mutations() {
    run_target("rules", rules::run, MUTATIONS);
}

#[test]
fn config_seeds_and_mutations() {
    run_target("config", config::run, MUTATIONS);
}

#[test]
fn dns_seeds_and_mutations() {
    run_target("dns", dns::run, MUTATIONS * 4);
}

#[test]
fn packet_seeds_and_mutations() {
    run_target("packet", packet::run, MUTATIONS);
}

#[test]
fn capture_seeds_and_mutations() {
    // Capture seeds are whole sample files: fewer mutations, each a whole scan.
    run_target("capture", capture::run, 8);
}

#[test]
fn mutations_change_the_input() {
    let mut rng = Rng(7);
    let seed = b"alert icmp any any -> any any { id 1 }".to_vec();
    let changed = (0..100).filter(|_| mutate(&seed, &mut rng) != seed).count();
    assert!(changed > 90, "{changed} of 100 mutations changed the seed");
}
