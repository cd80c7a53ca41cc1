//! The floor of issue 12: a hand-written single pass, no engine, that does
//! the least any tool doing the reports' job must do: read every packet,
//! find its ICMP payload or DNS query name by hand (Ethernet, IPv4 or IPv6
//! without extension headers, UDP port 53) and compute its Shannon entropy
//! with a plain byte histogram. Shared by `examples/floor` (the whole-process
//! floor `benches/bench.sh` runs) and `benches/throughput.rs` (its `floor` row).

use ferret::capture::PacketReader;

/// The floor over a capture's bytes: the sum of the entropies and the packets read.
pub fn floor(bytes: &[u8]) -> (f64, u64) {
    let mut name = [0u8; 256];
    let (mut sum, mut packets) = (0.0, 0u64);
    let Ok(reader) = PacketReader::new(bytes) else { return (sum, packets) };
    for raw in reader {
        let Ok(raw) = raw else { break };
        packets += 1;
        let Some((proto, l4)) = floor_ip(raw.data) else { continue };
        match proto {
            1 | 58 if l4.len() > 8 => sum += entropy(&l4[8..]),
            17 if l4.len() > 20 && (l4[0..2] == [0, 53] || l4[2..4] == [0, 53]) => {
                if let Some(len) = qname(&l4[20..], &mut name) {
                    sum += entropy(&name[..len]);
                }
            }
            _ => {}
        }
    }
    (sum, packets)
}

/// The IP protocol and layer-4 bytes of an Ethernet frame.
fn floor_ip(frame: &[u8]) -> Option<(u8, &[u8])> {
    let ip = frame.get(14..)?;
    match u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]) {
        0x0800 => Some((*ip.get(9)?, ip.get(usize::from(ip[0] & 0x0f) * 4..)?)),
        0x86dd => Some((*ip.get(6)?, ip.get(40..)?)),
        _ => None,
    }
}

/// The first question's name, labels joined by dots, into `out`; its length.
fn qname(mut q: &[u8], out: &mut [u8; 256]) -> Option<usize> {
    let mut len = 0usize;
    loop {
        let n = usize::from(*q.first()?);
        if n == 0 || n > 63 {
            return Some(len.saturating_sub(1));
        }
        let label = q.get(1..1 + n)?;
        out.get_mut(len..len + n)?.copy_from_slice(label);
        len += n;
        *out.get_mut(len)? = b'.';
        len += 1;
        q = &q[1 + n..];
    }
}

/// Shannon entropy in bits per byte, from a byte histogram.
fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(f64::from(c) / n) * (f64::from(c) / n).log2()).sum()
}
