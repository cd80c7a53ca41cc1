//! Merging the alerts of several EVE inputs into one time line, each alert
//! counted once.
//!
//! **Order.** Each input keeps its own order (a sensor writes its alerts in
//! packet order); the inputs are interleaved by timestamp, an earlier input
//! first on equal times. With one input the order is the file's, so `ferret
//! report` on a scan's EVE file gives the report `scan --report` gave.
//!
//! **Duplicates.** The same alert can be read twice: a file given twice, a
//! rotated file and a copy a shipper made, two scans of one capture appended
//! to one file. Two alerts are one when EVE says the same about where and
//! when they were raised: sensor (`host`, as written), capture
//! (`pcap_filename`) or interface (`in_iface`), packet number in the run
//! (`pcap_cnt`), `flow_id`, rule (`signature_id`), timestamp, and the
//! addresses and ports. The timestamp is part of the key because `pcap_cnt`
//! starts again at 1 when a sensor restarts and appends to the same file; the
//! sensor's name as written (not the file name standing in for a missing one)
//! is part of it so copies of an unnamed sensor's file are still recognised.
//! The first copy read is kept.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::net::IpAddr;

use super::input::{AlertRecord, Origin};

/// What identifies one alert across copies of EVE.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    origin: Origin,
    sid: u64,
    ts_nanos: i64,
    src: Option<(IpAddr, Option<u16>)>,
    dst: Option<(IpAddr, Option<u16>)>,
}

impl Key {
    fn of(a: &AlertRecord) -> Key {
        Key {
            origin: a.origin.clone(),
            sid: a.sid,
            ts_nanos: a.ts_nanos,
            src: a.src.map(|ip| (ip, a.src_port)),
            dst: a.dst.map(|ip| (ip, a.dst_port)),
        }
    }
}

/// The merged alerts.
#[derive(Debug, Default)]
pub struct Merged {
    /// In time order across inputs, each once.
    pub alerts: Vec<AlertRecord>,
    /// Copies left out.
    pub duplicates: u64,
}

/// Merges the alerts of each input (in input order) into one list.
pub fn merge(inputs: Vec<Vec<AlertRecord>>) -> Merged {
    let total = inputs.iter().map(Vec::len).sum();
    let mut queues: Vec<VecDeque<AlertRecord>> = inputs.into_iter().map(VecDeque::from).collect();
    // The next alert of each input, earliest first, then by input.
    let mut heads: BinaryHeap<Reverse<(i64, usize)>> =
        queues.iter().enumerate().filter_map(|(i, q)| q.front().map(|a| Reverse((a.ts_nanos, i)))).collect();
    let mut seen: HashSet<Key> = HashSet::with_capacity(total);
    let mut out = Merged { alerts: Vec::with_capacity(total), duplicates: 0 };
    while let Some(Reverse((_, i))) = heads.pop() {
        let Some(queue) = queues.get_mut(i) else { continue };
        let Some(alert) = queue.pop_front() else { continue };
        if let Some(next) = queue.front() {
            heads.push(Reverse((next.ts_nanos, i)));
        }
        if seen.insert(Key::of(&alert)) {
            out.alerts.push(alert);
        } else {
            out.duplicates += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::Severity;

    fn alert(host: &str, pcap_cnt: u64, secs: i64, sid: u64) -> AlertRecord {
        AlertRecord {
            ts_nanos: secs * 1_000_000_000,
            sensor: Some(host.to_string()),
            file: None,
            packet: pcap_cnt,
            src: "10.0.0.1".parse().ok(),
            src_port: None,
            dst: "10.0.0.2".parse().ok(),
            dst_port: None,
            proto: "ICMP".into(),
            sid,
            message: String::new(),
            class: "t".into(),
            severity: Severity::High,
            measured: Default::default(),
            state: None,
            recommendations: Vec::new(),
            origin: Origin {
                host: Some(host.to_string()),
                in_iface: Some("eth0".into()),
                pcap_cnt: Some(pcap_cnt),
                ..Origin::default()
            },
        }
    }

    fn order(m: &Merged) -> Vec<(String, u64)> {
        m.alerts.iter().map(|a| (a.sensor.clone().unwrap_or_default(), a.packet)).collect()
    }

    #[test]
    fn inputs_interleave_by_time_keeping_their_own_order() {
        let a = vec![alert("a", 1, 10, 1), alert("a", 2, 30, 1), alert("a", 3, 20, 1)];
        let b = vec![alert("b", 1, 5, 1), alert("b", 2, 20, 1), alert("b", 3, 40, 1)];
        let m = merge(vec![a, b]);
        let want = [("b", 1), ("a", 1), ("b", 2), ("a", 2), ("a", 3), ("b", 3)];
        assert_eq!(order(&m), want.map(|(s, n)| (s.to_string(), n)).to_vec());
        assert_eq!(m.duplicates, 0);
    }

    #[test]
    fn one_input_keeps_its_order_even_when_time_goes_back() {
        let a = vec![alert("a", 1, 30, 1), alert("a", 2, 10, 1), alert("a", 3, 20, 1)];
        let m = merge(vec![a]);
        assert_eq!(m.alerts.iter().map(|a| a.packet).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn the_same_alert_in_two_inputs_counts_once() {
        let a = vec![alert("a", 1, 10, 1), alert("a", 2, 11, 1)];
        let copy = vec![alert("a", 2, 11, 1), alert("a", 3, 12, 1)];
        let m = merge(vec![a, copy]);
        assert_eq!(m.alerts.iter().map(|a| a.packet).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(m.duplicates, 1);
    }

    #[test]
    fn what_differs_keeps_alerts_apart() {
        let base = alert("a", 7, 10, 1);
        let mut other_rule = base.clone();
        other_rule.sid = 2;
        let mut other_sensor = base.clone();
        other_sensor.origin.host = Some("b".into());
        let mut other_iface = base.clone();
        other_iface.origin.in_iface = Some("eth1".into());
        // A restarted sensor appending to its file counts packets from 1 again.
        let mut after_restart = base.clone();
        after_restart.ts_nanos += 3_600_000_000_000;
        let mut other_capture = base.clone();
        other_capture.origin.pcap_filename = Some("b.pcap".into());
        let m = merge(vec![
            vec![base.clone()],
            vec![other_rule, other_sensor, other_iface, after_restart, other_capture],
            vec![base],
        ]);
        assert_eq!((m.alerts.len(), m.duplicates), (6, 1));
    }

    #[test]
    fn no_inputs_merge_to_nothing() {
        let m = merge(vec![Vec::new(), Vec::new()]);
        assert!(m.alerts.is_empty());
    }
}
