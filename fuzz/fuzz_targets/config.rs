//! Fuzzes the YAML configuration loader (`config::parse`) and the checks run on it.
//!
//! The checks live in `check/config.rs`, shared with `tests/suite/fuzz_seeds.rs`, which runs
//! every seed (and mutations of it) on a stable toolchain in the main test suite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "check/config.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
