//! Assembles a scenario packet by packet: a running clock, and tunnel packets
//! pinned to exact packet numbers.
//!
//! The incident reports name tunnel packets by their number in the capture
//! (as Wireshark shows it), so scenarios must put them exactly there while
//! benign conversations flow around them; a pinned packet is emitted as soon
//! as the capture reaches its number, even in the middle of a conversation.

use super::rng::Rng;
use super::{Scenario, SynthPacket};
use std::collections::VecDeque;

/// A tunnel packet that must appear as packet number `number` (1-based).
#[derive(Debug, Clone)]
pub(crate) struct Pinned {
    /// 1-based position in the capture.
    pub number: u64,
    /// Nanoseconds after the previous packet.
    pub gap: i64,
    /// The Ethernet frame.
    pub frame: Vec<u8>,
    /// Ground-truth description.
    pub note: &'static str,
}

/// A scenario under construction.
#[derive(Debug)]
pub(crate) struct Timeline {
    packets: Vec<SynthPacket>,
    clock: i64,
    pinned: VecDeque<Pinned>,
    /// Randomness for the scenario's choices (gaps, hosts, payloads).
    pub rng: Rng,
}

impl Timeline {
    /// An empty timeline whose clock starts at `start_nanos`.
    pub fn new(start_nanos: i64, seed: u64) -> Self {
        Self { packets: Vec::new(), clock: start_nanos, pinned: VecDeque::new(), rng: Rng::new(seed) }
    }

    /// Pins tunnel packets; they are emitted in number order.
    pub fn pin(&mut self, mut pins: Vec<Pinned>) {
        pins.extend(self.pinned.drain(..));
        pins.sort_by_key(|p| p.number);
        self.pinned = pins.into();
    }

    /// Packets so far.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// How many benign packets still fit in a capture of `total` packets.
    pub fn room(&self, total: usize) -> usize {
        total.saturating_sub(self.packets.len() + self.pinned.len())
    }

    /// Emits a benign packet `gap` nanoseconds after the previous one; `build`
    /// gets the packet's timestamp and returns its Ethernet frame.
    pub fn push(&mut self, gap: i64, note: &'static str, build: impl FnOnce(i64) -> Vec<u8>) {
        self.flush_pinned();
        self.clock = self.clock.saturating_add(gap.max(0));
        let frame = build(self.clock);
        self.record(frame, false, note);
        self.flush_pinned();
    }

    /// Emits a benign packet whose frame does not depend on its timestamp.
    pub fn push_frame(&mut self, gap: i64, note: &'static str, frame: Vec<u8>) {
        self.push(gap, note, |_| frame);
    }

    /// Emits a tunnel packet (`tunnel == true`) `gap` nanoseconds after the
    /// previous one; `build` gets its timestamp. For scenarios whose tunnel
    /// traffic is not pinned to packet numbers.
    pub fn push_tunnel(&mut self, gap: i64, note: &'static str, build: impl FnOnce(i64) -> Vec<u8>) {
        self.flush_pinned();
        self.clock = self.clock.saturating_add(gap.max(0));
        let frame = build(self.clock);
        self.record(frame, true, note);
        self.flush_pinned();
    }

    /// The time of the last packet emitted (the start time before any).
    pub fn now(&self) -> i64 {
        self.clock
    }

    /// Emits any pinned packets left (normally none) and returns the scenario.
    pub fn finish(mut self, name: &'static str) -> Scenario {
        self.flush_pinned();
        while let Some(pin) = self.pinned.pop_front() {
            self.emit_pinned(pin);
        }
        Scenario { name, packets: self.packets }
    }

    fn flush_pinned(&mut self) {
        while self.pinned.front().is_some_and(|p| p.number == self.packets.len() as u64 + 1) {
            if let Some(pin) = self.pinned.pop_front() {
                self.emit_pinned(pin);
            }
        }
    }

    fn emit_pinned(&mut self, pin: Pinned) {
        self.clock = self.clock.saturating_add(pin.gap.max(0));
        self.record(pin.frame, true, pin.note);
    }

    fn record(&mut self, frame: Vec<u8>, tunnel: bool, note: &'static str) {
        let packet = SynthPacket { ts_nanos: self.clock, link_type: 1, frame, tunnel, note };
        self.packets.push(packet);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(number: u64) -> Pinned {
        Pinned { number, gap: 5, frame: vec![number as u8], note: "pin" }
    }

    #[test]
    fn pinned_packets_land_on_their_numbers() {
        let mut tl = Timeline::new(100, 1);
        tl.pin(vec![pin(3), pin(1), pin(4)]);
        assert_eq!(tl.room(6), 3);
        tl.push_frame(10, "a", vec![0xa]);
        tl.push(10, "b", |ts| vec![ts as u8]);
        tl.push_frame(10, "c", vec![0xc]);
        let s = tl.finish("t");
        assert_eq!(s.tunnel_packet_numbers(), vec![1, 3, 4]);
        let frames: Vec<u8> = s.packets.iter().map(|p| p.frame[0]).collect();
        assert_eq!(frames, vec![1, 0xa, 3, 4, 135, 0xc]);
        let times: Vec<i64> = s.packets.iter().map(|p| p.ts_nanos).collect();
        assert_eq!(times, vec![105, 115, 120, 125, 135, 145]);
    }

    #[test]
    fn leftover_pins_are_appended() {
        let mut tl = Timeline::new(0, 1);
        tl.pin(vec![pin(9)]);
        tl.push_frame(1, "a", vec![0]);
        let s = tl.finish("t");
        assert_eq!(s.packets.len(), 2);
        assert!(s.packets[1].tunnel);
    }
}
