//! The sample captures shipped in `samples/`, as bytes.
//!
//! `cargo run --example make-samples` writes them; a test checks that the
//! committed files are exactly what this produces, so the samples can never
//! drift from the code that made them.

use super::scenario;

/// `(file name, capture bytes)` of every shipped sample.
pub fn samples() -> std::io::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    let icmp = scenario::report_icmp();
    let dns_icmp = scenario::report_dns_icmp();
    let office = scenario::office(2000, 1);
    let mut buf = Vec::new();
    icmp.write_pcap(&mut buf, false)?;
    out.push(("report-icmp.pcap", std::mem::take(&mut buf)));
    icmp.write_pcapng(&mut buf)?;
    out.push(("report-icmp.pcapng", std::mem::take(&mut buf)));
    dns_icmp.write_pcap(&mut buf, false)?;
    out.push(("report-dns-icmp.pcap", std::mem::take(&mut buf)));
    dns_icmp.write_pcapng(&mut buf)?;
    out.push(("report-dns-icmp.pcapng", std::mem::take(&mut buf)));
    office.write_pcap(&mut buf, false)?;
    out.push(("office.pcap", std::mem::take(&mut buf)));
    scenario::tuning::two_networks().write_pcap(&mut buf, false)?;
    out.push(("two-networks.pcap", std::mem::take(&mut buf)));
    Ok(out)
}
