//! ferret: a network detection rule engine for hunting covert channels.
//!
//! Data flows capture → decode → engine (compiled rules + state) → outputs:
//!
//! - [`capture`] reads pcap and pcapng files, streams and live interfaces as borrowed packet slices;
//! - [`decode`] turns a frame into a [`decode::Packet`] view and computes
//!   expensive features lazily;
//! - [`rules`] parses the rule language into a syntax tree with spans;
//! - [`engine`] compiles rules into a matcher tree and runs it with state;
//! - [`output`] writes alert lines, EVE JSON and the summary;
//! - [`scan`] is the loop tying them together over a [`capture::Source`];
//! - [`sensor`] keeps a long-running scan going: signals, rule reloads, periodic stats;
//! - [`cli`] is the command line;
//! - [`report`] writes incident reports from alerts and run statistics.
//!
//! See `ARCHITECTURE.md` for the map and its invariants.
#![deny(missing_docs)]
// Library code must not panic on input: no unwrap, expect or unchecked indexing.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

pub mod ascii;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod engine;
pub mod load;
pub mod output;
pub mod prefetch;
pub mod privileges;
pub mod profile;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sensor;
pub mod sweep;
