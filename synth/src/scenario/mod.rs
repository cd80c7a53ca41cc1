//! Labelled scenarios: whole captures with ground truth per packet.
//!
//! * [`report_icmp`] and [`report_dns_icmp`] rebuild the two incident reports
//!   (tunnel packets at the reported packet numbers);
//! * [`office`] is benign-only traffic for false-positive rates;
//! * [`bench_mix`] streams millions of packets for benchmarks;
//! * [`link_types`] repeats one small tunnel capture under every link header;
//! * [`tuning::two_networks`] is the per-network tuning example (a lab and an office);
//! * [`evasions`] are tunnels built to slip past naive detectors and benign
//!   traffic built to trip them, one case per scenario; [`dns_evasions`] does
//!   the same for the DNS rules' exemptions and [`icmp_evasions`] for ICMP and
//!   IP (header carriers, one-off carriers, route traces, sweeps);
//!   [`frag_evasions`] covers IP fragments and DNS off port 53, and
//!   [`dns_tcp_evasions`] DNS over TCP (split, pipelined, retransmitted).

mod bench;
mod dns_evasions;
mod dns_tcp;
mod evasions;
mod frag_evasions;
mod icmp_evasions;
mod link_types;
mod office;
mod reports;
mod talk;
pub mod tuning;

pub use bench::{bench_mix, BenchMix};
pub use dns_evasions::*;
pub use dns_tcp::{benign_dns_over_tcp, dns_tcp_evasions, dns_tcp_tunnel, non_dns_on_tcp_53};
pub use evasions::{
    benign_dns_families, evasions, fixed_size_icmp_tunnel, icmp_errors_quoting_encrypted, large_linux_pings,
    monitoring_pings, rate_only_icmp_channel, short_label_dns_exfil, text_exfil_pings, txt_null_dns_tunnel,
};
pub use frag_evasions::{
    benign_udp_and_fragments, dns_tunnel_alt_port, frag_evasions, fragmented_icmp6_tunnel, fragmented_icmp_tunnel,
    overlapping_fragments,
};
pub use icmp_evasions::{
    dhcp_conflict_probes, echo_id_carrier, echo_seq_carrier, icmp_covert_chat, icmp_evasions, icmp_timestamp_carrier,
    ping_sweeps, route_traces,
};
pub use link_types::link_types;
pub use office::office;
pub use reports::{report_dns_icmp, report_icmp};

#[cfg(test)]
mod tests;
