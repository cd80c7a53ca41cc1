//! Fuzzes the rule language front to back: parser, diagnostics rendering, printer round
//!
//! The checks live in `check/rules.rs`, shared with `tests/suite/fuzz_seeds.rs`, which runs
//! every seed (and mutations of it) on a stable toolchain in the main test suite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "check/rules.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
