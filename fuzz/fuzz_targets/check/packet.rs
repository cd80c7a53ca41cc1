//! Fuzzes the decoder and the engine on one frame, skipping the capture container.
//!
//! Input layout: byte 0 picks the link type (low nibble, modulo the table below; bit 7 set
//! means the frame was snapped, i.e. the wire length exceeds the captured bytes) and the
//! rest is the frame. Reaching the decoders directly finds decoder and feature bugs much
//! faster than mutating a pcap header first. The packet is processed three times, 400 ms
//! apart, so the thresholds, rates and limits of `engine.rules` go through their windows.

use crate::fuzz_common as common;

use ferret::decode::Packet;

/// Every link type ferret decodes (see `decode::link::SUPPORTED`).
const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

/// Nanoseconds between the repeated deliveries of the frame.
const REPEAT_GAP_NS: i64 = 400_000_000;

/// One input, as the fuzz target runs it: panics on a broken promise.
pub fn run(data: &[u8]) {
    let Some((&selector, frame)) = data.split_first() else { return };
    let link_type = LINK_TYPES[usize::from(selector & 0x0f) % LINK_TYPES.len()];
    let snapped = selector & 0x80 != 0;
    let captured = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    let wire_len = if snapped { captured.saturating_add(100) } else { captured };
    let mut engine = common::engine();
    for (number, ts) in (1u64..=3).zip((0i64..).map(|k| 1_600_000_000_000_000_000 + k * REPEAT_GAP_NS)) {
        let pkt = Packet::decode(link_type, frame, number, ts, wire_len);
        assert!(borrows_from(pkt.payload, frame), "payload is not a slice of the frame");
        common::process(&mut engine, &pkt);
    }
    common::summarize(&engine);
}

/// True when `part` lies inside `whole` (decoding is zero-copy: the payload borrows the frame).
fn borrows_from(part: &[u8], whole: &[u8]) -> bool {
    let whole = whole.as_ptr_range();
    let part = part.as_ptr_range();
    part.is_empty() || (whole.start <= part.start && part.end <= whole.end)
}
