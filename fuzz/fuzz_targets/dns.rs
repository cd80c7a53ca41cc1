//! Fuzzes the DNS message decoder (`decode::dns`), over UDP and over TCP framing.
//!
//! The checks live in `check/dns.rs`, shared with `tests/suite/fuzz_seeds.rs`, which runs
//! every seed (and mutations of it) on a stable toolchain in the main test suite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "check/dns.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
