//! One human-readable line per alert.
//!
//! `2025-04-05 20:55:01.000000  [1:7100001:1] [critical] Potential ICMP tunneling
//! detected (byte length=159, entropy=6.78) {ICMP} 192.168.1.4 -> 192.168.1.6 (packet 18)`

use std::io::Write;
use std::net::IpAddr;

use crate::ascii;
use crate::engine::alert::Alert;
use crate::engine::state::duration;
use crate::output::time;

/// Formats the line (without a newline). `file` names the capture when several are scanned.
pub fn alert_line(alert: &Alert, file: Option<&str>) -> String {
    let mut line = Vec::with_capacity(160);
    write_alert_line(alert, file, &mut line);
    String::from_utf8_lossy(&line).into_owned()
}

/// Appends [`alert_line`]'s line (without a newline) to `out`, the common
/// pieces written digit by digit (see [`ascii`]).
pub fn write_alert_line(alert: &Alert, file: Option<&str>, out: &mut Vec<u8>) {
    time::human_bytes(alert.ts_nanos, out);
    let (gid, sid, rev, severity) =
        alert.rule().map_or((1, 0, 0, "unknown"), |r| (r.gid, r.sid, r.rev, r.severity.keyword()));
    out.extend_from_slice(b"  [");
    ascii::push_uint(out, gid);
    out.push(b':');
    ascii::push_uint(out, sid);
    out.push(b':');
    ascii::push_uint(out, rev);
    out.extend_from_slice(b"] [");
    out.extend_from_slice(severity.as_bytes());
    out.extend_from_slice(b"] ");
    out.extend_from_slice(alert.message.as_bytes());
    out.extend_from_slice(b" {");
    out.extend_from_slice(alert.proto.as_bytes());
    out.extend_from_slice(b"} ");
    write_endpoint(out, alert.src, alert.src_port);
    out.extend_from_slice(b" -> ");
    write_endpoint(out, alert.dst, alert.dst_port);
    out.extend_from_slice(b" (");
    if let Some(f) = file {
        out.extend_from_slice(f.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(b"packet ");
    ascii::push_uint(out, alert.packet);
    out.push(b')');
    if let Some(s) = &alert.state {
        let _ = write!(out, " [{} by {}: {} in {}", s.clause, s.key, s.count, duration(s.window_nanos));
        if let Some(r) = s.rate_per_sec {
            let _ = write!(out, ", {r:.1}/s");
        }
        let _ = write!(out, ", packets {}-{}]", s.first_packet, s.last_packet);
    }
}

fn write_endpoint(out: &mut Vec<u8>, ip: Option<IpAddr>, port: Option<u16>) {
    let Some(ip) = ip else {
        out.push(b'-');
        return;
    };
    let v6 = ip.is_ipv6() && port.is_some();
    if v6 {
        out.push(b'[');
    }
    ascii::push_ip(out, ip);
    if v6 {
        out.push(b']');
    }
    if let Some(p) = port {
        out.push(b':');
        ascii::push_uint(out, u64::from(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::eve::tests::{alert, rules, Rng};
    use std::fmt::Write as _;

    /// The line as `std::fmt` writes it (the form before the pieces were written by hand).
    fn reference_line(alert: &Alert, file: Option<&str>) -> String {
        let mut line = time::human(alert.ts_nanos);
        let (gid, sid, rev, severity) =
            alert.rule().map_or((1, 0, 0, "unknown"), |r| (r.gid, r.sid, r.rev, r.severity.keyword()));
        let _ = write!(line, "  [{gid}:{sid}:{rev}] [{severity}] {} {{{}}} ", alert.message, alert.proto);
        let endpoint = |out: &mut String, ip: Option<IpAddr>, port: Option<u16>| {
            let _ = match (ip, port) {
                (Some(IpAddr::V6(ip)), Some(p)) => write!(out, "[{ip}]:{p}"),
                (Some(ip), Some(p)) => write!(out, "{ip}:{p}"),
                (Some(ip), None) => write!(out, "{ip}"),
                (None, _) => write!(out, "-"),
            };
        };
        endpoint(&mut line, alert.src, alert.src_port);
        line.push_str(" -> ");
        endpoint(&mut line, alert.dst, alert.dst_port);
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

    #[test]
    fn lines_are_written_as_fmt_wrote_them() {
        let rules = rules();
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        for case in 0..3000 {
            let alert = alert(&rules, &mut r);
            let file = r.coin().then_some("capture.pcap");
            assert_eq!(alert_line(&alert, file), reference_line(&alert, file), "case {case}: {alert:?}");
        }
    }
}
