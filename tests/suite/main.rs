//! The integration tests, one module per area, linked into one test binary:
//! one link of the library instead of one per file, and one process whose
//! threads run every area's tests side by side. Run one area with
//! `cargo test --test suite detection_table`.
//!
//! Kept apart, as their own binaries: `tests/no_alloc*.rs` (each installs a
//! counting global allocator), `tests/live.rs` and `tests/live_sensor.rs`
//! (built with `--features live`, run as root) and `tests/soak.rs` (ignored
//! by default: 30 minutes).

#[path = "../common/mod.rs"]
mod common;

// The fuzz targets' shared helpers, where their checks (`fuzz_seeds`) look
// for them: at the crate root, as in the fuzz targets themselves.
#[path = "../../fuzz/fuzz_targets/common/mod.rs"]
mod fuzz_common;

mod cli;
mod cli_rules;
mod compile_errors;
mod detection_table;
mod dns_rules;
mod dns_tcp;
mod eve_schema;
mod files;
mod flood;
mod fuzz_seeds;
mod hostile;
mod index;
mod limits;
mod link_types;
mod outputs;
mod real_captures;
mod regressions;
mod report;
mod report_html;
mod report_scenarios;
mod report_sensors;
mod rule_management;
mod semantics;
mod sensor;
mod snaplen;
mod stateful;
mod suricata;
mod suricata_verify;
mod threads;
mod tuning;
