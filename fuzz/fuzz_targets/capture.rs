//! Fuzzes the whole offline path of `ferret scan`: capture bytes → pcap/pcapng reader →
//!
//! The checks live in `check/capture.rs`, shared with `tests/suite/fuzz_seeds.rs`, which runs
//! every seed (and mutations of it) on a stable toolchain in the main test suite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod fuzz_common;
#[path = "check/capture.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
