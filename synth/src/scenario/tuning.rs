//! Two networks for the per-network tuning walk-through: a lab whose
//! monitoring pings with 1000-byte Linux-style payloads every second (entropy
//! near 8 bits/byte, yet nothing random), and an office where one host runs an
//! ICMP tunnel with random payloads. A single entropy threshold cannot serve
//! both; a per-network override can.

use std::net::Ipv4Addr;

use super::super::rng::Rng;
use super::super::{frame, payload, Scenario, SynthPacket};

/// The lab's network.
pub const LAB_CIDR: &str = "10.20.0.0/16";
/// The office's network.
pub const OFFICE_CIDR: &str = "10.1.0.0/16";
/// The office host running the tunnel.
pub const TUNNEL_CLIENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 23);
/// The tunnel's far end.
pub const TUNNEL_SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

const START: i64 = 1_743_500_000 * 1_000_000_000;
const SECOND: i64 = 1_000_000_000;

fn packet(ts: i64, frame: Vec<u8>, tunnel: bool, note: &'static str) -> SynthPacket {
    SynthPacket { ts_nanos: ts, link_type: 1, frame, tunnel, note }
}

/// Two minutes of lab monitoring, office pings and an office ICMP tunnel.
pub fn two_networks() -> Scenario {
    let mut rng = Rng::new(0x7475_6e65);
    let monitor = Ipv4Addr::new(10, 20, 0, 5);
    let lab_hosts = [Ipv4Addr::new(10, 20, 1, 1), Ipv4Addr::new(10, 20, 1, 2), Ipv4Addr::new(10, 20, 2, 1)];
    let office_hosts = [Ipv4Addr::new(10, 1, 0, 40), Ipv4Addr::new(10, 1, 0, 41)];
    let gateway = Ipv4Addr::new(10, 1, 0, 1);
    let mut packets = Vec::new();
    for (second, target) in (0..120i64).zip(lab_hosts.iter().copied().cycle()) {
        let t = START + second * SECOND;
        // Lab monitoring: `ping -s 1000` style, one target per second, answered.
        let data = payload::linux_ping(1000, t);
        let seq = second as u16;
        packets.push(packet(
            t,
            frame::icmp_echo(monitor, target, false, 0x4c41, seq, &data),
            false,
            "lab monitor ping",
        ));
        packets.push(packet(
            t + 300_000,
            frame::icmp_echo(target, monitor, true, 0x4c41, seq, &data),
            false,
            "lab reply",
        ));
        // Office: ordinary 56-byte pings to the gateway every 5 s.
        if second % 5 == 0 {
            for (i, host) in office_hosts.iter().enumerate() {
                let ts = t + 10_000_000 * (i as i64 + 1);
                let data = payload::linux_ping(56, ts);
                packets.push(packet(
                    ts,
                    frame::icmp_echo(*host, gateway, false, 0x100 + i as u16, seq, &data),
                    false,
                    "office ping",
                ));
                packets.push(packet(
                    ts + 500_000,
                    frame::icmp_echo(gateway, *host, true, 0x100 + i as u16, seq, &data),
                    false,
                    "office reply",
                ));
            }
        }
        // The tunnel: every 2 s a request and a reply carrying different random data.
        if second % 2 == 1 {
            let ts = t + 400_000_000;
            let up = payload::random(rng.range(180, 700) as usize, rng.next_u64());
            let down = payload::random(rng.range(180, 700) as usize, rng.next_u64());
            packets.push(packet(
                ts,
                frame::icmp_echo(TUNNEL_CLIENT, TUNNEL_SERVER, false, 0x7e57, seq, &up),
                true,
                "tunnel request",
            ));
            packets.push(packet(
                ts + 40_000_000,
                frame::icmp_echo(TUNNEL_SERVER, TUNNEL_CLIENT, true, 0x7e57, seq, &down),
                true,
                "tunnel reply",
            ));
        }
    }
    packets.sort_by_key(|p| p.ts_nanos);
    Scenario { name: "two-networks", packets }
}
