//! Fuzzes the decoder and the engine on one frame, skipping the capture container.
//!
//! The checks live in `check/packet.rs`, shared with `tests/suite/fuzz_seeds.rs`, which runs
//! every seed (and mutations of it) on a stable toolchain in the main test suite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod fuzz_common;
#[path = "check/packet.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
