//! Labelled scenarios: whole captures with ground truth per packet.
//!
//! * [`report_icmp`] and [`report_dns_icmp`] rebuild the two incident reports
//!   (tunnel packets at the reported packet numbers);
//! * [`office`] is benign-only traffic for false-positive rates;
//! * [`bench_mix`] streams millions of packets for benchmarks;
//! * [`link_types`] repeats one small tunnel capture under every link header;
//! * [`tuning::two_networks`] is the per-network tuning example (a lab and an office).

mod bench;
mod link_types;
mod office;
mod reports;
mod talk;
pub mod tuning;

pub use bench::{bench_mix, BenchMix};
pub use link_types::link_types;
pub use office::office;
pub use reports::{report_dns_icmp, report_icmp};

#[cfg(test)]
mod tests;
