//! Fuzzes the whole offline path of `ferret scan`: capture bytes → pcap/pcapng reader →
//! link/IP/transport decoder → engine (defaults plus `engine.rules`) → alert outputs and
//! the end-of-run summary.
//!
//! Why: capture files come from anywhere (truncated downloads, tools with odd link types,
//! deliberately hostile files), and the project promises no panic, no hang and bounded
//! memory on every one of them.

use crate::fuzz_common as common;

use ferret::capture::PacketReader;
use ferret::decode::Packet;

/// One input, as the fuzz target runs it: panics on a broken promise.
pub fn run(data: &[u8]) {
    let Ok(reader) = PacketReader::new(data) else { return };
    let mut engine = common::engine();
    let mut number = 0u64;
    for raw in reader {
        // An error ends the capture (the reader is fused); what came before was processed.
        let Ok(raw) = raw else { break };
        number += 1;
        let pkt = Packet::decode(raw.link_type, raw.data, number, raw.ts_nanos, raw.orig_len);
        common::process(&mut engine, &pkt);
    }
    common::summarize(&engine);
}
