//! One human-readable line per alert.
//!
//! `2025-04-05 20:55:01.000000  [1:7100001:1] [critical] Potential ICMP tunneling
//! detected (byte length=159, entropy=6.78) {ICMP} 192.168.1.4 -> 192.168.1.6 (packet 18)`

use std::fmt::Write;

use crate::engine::alert::Alert;
use crate::engine::state::duration;
use crate::output::time;

/// Formats the line (without a newline). `file` names the capture when several are scanned.
pub fn alert_line(alert: &Alert, file: Option<&str>) -> String {
    let mut line = time::human(alert.ts_nanos);
    let (gid, sid, rev, severity) =
        alert.rule().map_or((1, 0, 0, "unknown"), |r| (r.gid, r.sid, r.rev, r.severity.keyword()));
    let _ = write!(line, "  [{gid}:{sid}:{rev}] [{severity}] {} {{{}}} ", alert.message, alert.proto);
    write_endpoint(&mut line, alert.src, alert.src_port);
    line.push_str(" -> ");
    write_endpoint(&mut line, alert.dst, alert.dst_port);
    let _ = match file {
        Some(f) => write!(line, " ({f} packet {})", alert.packet),
        None => write!(line, " (packet {})", alert.packet),
    };
    if let Some(s) = &alert.state {
        let _ = write!(line, " [{} by {}: {} in {}", s.clause, s.key, s.count, duration(s.window_nanos));
        if let Some(r) = s.rate_per_sec {
            let _ = write!(line, ", {r:.1}/s");
        }
        let _ = write!(line, ", packets {}-{}]", s.first_packet, s.last_packet);
    }
    line
}

fn write_endpoint(out: &mut String, ip: Option<std::net::IpAddr>, port: Option<u16>) {
    let _ = match (ip, port) {
        (Some(std::net::IpAddr::V6(ip)), Some(p)) => write!(out, "[{ip}]:{p}"),
        (Some(ip), Some(p)) => write!(out, "{ip}:{p}"),
        (Some(ip), None) => write!(out, "{ip}"),
        (None, _) => write!(out, "-"),
    };
}
