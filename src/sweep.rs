//! `ferret sweep`: how many alerts and host pairs each value of a variable gives.
//!
//! `--var ICMP_ENTROPY=5.0..8.0:0.25` (or a list `5,6,7`) compiles the rules
//! once per value (the cartesian product when several variables sweep), then
//! reads each capture once, decoding every packet once and running it through
//! every variant's engine. The result is the trade-off curve a threshold
//! implies: alerts and distinct (unordered) host pairs per value.

use std::collections::HashSet;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;

use crate::capture::{CaptureData, CaptureError, PacketReader};
use crate::decode::Packet;
use crate::engine::compile::VarLayers;
use crate::engine::ruleset::RuleSet;
use crate::engine::Engine;
use crate::rules::ast::{Value, ValueKind};
use crate::rules::span::Span;

/// Most rule-set variants one sweep may compile.
pub const MAX_VARIANTS: usize = 2_000;

/// One swept variable and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The variable's name.
    pub name: String,
    /// The values to try, in order.
    pub values: Vec<f64>,
}

/// Parses `NAME=START..END:STEP` or `NAME=A,B,C`.
pub fn parse_axis(arg: &str) -> Result<Axis, String> {
    let (name, spec) = arg.split_once('=').ok_or_else(|| format!("--var {arg}: expected NAME=START..END:STEP"))?;
    let name = name.trim().trim_start_matches('$').to_string();
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| format!("--var {arg}: '{}' is not a number", s.trim()));
    let values = if let Some((range, step)) = spec.split_once(':') {
        let (start, end) = range.split_once("..").ok_or_else(|| format!("--var {arg}: expected START..END:STEP"))?;
        let (start, end, step) = (num(start)?, num(end)?, num(step)?);
        if step <= 0.0 || end < start {
            return Err(format!("--var {arg}: the step must be positive and END at least START"));
        }
        let n = ((end - start) / step + 1e-9).floor() as usize + 1;
        if n > MAX_VARIANTS {
            return Err(format!("--var {arg}: {n} values; at most {MAX_VARIANTS}"));
        }
        (0..n).map(|i| ((start + step * i as f64) * 1e9).round() / 1e9).collect()
    } else {
        spec.split(',').map(num).collect::<Result<Vec<_>, _>>()?
    };
    Ok(Axis { name, values })
}

/// Every combination of the axes' values, first axis slowest.
pub fn combinations(axes: &[Axis]) -> Result<Vec<Vec<f64>>, String> {
    let total: usize = axes.iter().map(|a| a.values.len().max(1)).product();
    if total > MAX_VARIANTS {
        return Err(format!("{total} combinations; at most {MAX_VARIANTS}"));
    }
    let mut out = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| axis.values.iter().map(move |v| [prefix.clone(), vec![*v]].concat()))
            .collect();
    }
    Ok(out)
}

/// The rule-set variant for one combination of values.
pub struct Variant {
    /// The values, in axis order.
    pub values: Vec<f64>,
    engine: Engine,
    /// Alerts raised.
    pub alerts: u64,
    pairs: HashSet<(Option<IpAddr>, Option<IpAddr>)>,
}

impl Variant {
    /// Distinct unordered host pairs with alerts.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }
}

/// Compiles one engine per combination; `compile` builds a rule set from
/// layers, `new_engine` an engine for it (with the run's limits).
pub fn variants(
    axes: &[Axis],
    base: &VarLayers,
    new_engine: impl Fn(Arc<RuleSet>) -> Engine,
    mut compile: impl FnMut(&VarLayers) -> Result<RuleSet, String>,
) -> Result<Vec<Variant>, String> {
    combinations(axes)?
        .into_iter()
        .map(|values| {
            let mut layers = base.clone();
            for (axis, v) in axes.iter().zip(&values) {
                layers
                    .overrides
                    .push((axis.name.clone(), Value { kind: ValueKind::Number(*v), span: Span::default() }));
            }
            let rules = compile(&layers)?;
            Ok(Variant { values, engine: new_engine(Arc::new(rules)), alerts: 0, pairs: HashSet::new() })
        })
        .collect()
}

/// Reads one capture once, running every packet through every variant.
pub fn run(variants: &mut [Variant], data: &CaptureData) -> Result<u64, CaptureError> {
    let mut packets = 0;
    for raw in PacketReader::new(data.bytes())? {
        let raw = raw?;
        packets += 1;
        let pkt = Packet::decode(raw.link_type, raw.data, packets, raw.ts_nanos, raw.orig_len);
        for v in variants.iter_mut() {
            let Variant { engine, alerts, pairs, .. } = v;
            engine.process(&pkt, &mut |a| {
                *alerts += 1;
                let pair = if a.src <= a.dst { (a.src, a.dst) } else { (a.dst, a.src) };
                pairs.insert(pair);
            });
        }
    }
    Ok(packets)
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Writes the results.
pub fn write(axes: &[Axis], variants: &[Variant], format: Format, out: &mut String) {
    match format {
        Format::Table => {
            let mut header: String = axes.iter().map(|a| format!("{:>22}", a.name)).collect();
            header.push_str(&format!("{:>10}{:>12}", "alerts", "host pairs"));
            let _ = writeln!(out, "{header}");
            for v in variants {
                let mut row: String = v.values.iter().map(|x| format!("{x:>22}")).collect();
                let _ = writeln!(row, "{:>10}{:>12}", v.alerts, v.pairs());
                out.push_str(&row);
            }
        }
        Format::Csv => {
            let names: Vec<&str> = axes.iter().map(|a| a.name.as_str()).collect();
            let _ = writeln!(out, "{},alerts,host_pairs", names.join(","));
            for v in variants {
                let vals: Vec<String> = v.values.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "{},{},{}", vals.join(","), v.alerts, v.pairs());
            }
        }
        Format::Json => {
            let rows: Vec<serde_json::Value> = variants
                .iter()
                .map(|v| {
                    let mut obj = serde_json::Map::new();
                    for (a, x) in axes.iter().zip(&v.values) {
                        obj.insert(a.name.clone(), serde_json::json!(x));
                    }
                    obj.insert("alerts".into(), serde_json::json!(v.alerts));
                    obj.insert("host_pairs".into(), serde_json::json!(v.pairs()));
                    serde_json::Value::Object(obj)
                })
                .collect();
            let _ = writeln!(out, "{}", serde_json::Value::Array(rows));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_lists() {
        assert_eq!(parse_axis("X=5.0..6.0:0.25").unwrap().values, vec![5.0, 5.25, 5.5, 5.75, 6.0]);
        assert_eq!(parse_axis("$Y=1,2,4").unwrap(), Axis { name: "Y".into(), values: vec![1.0, 2.0, 4.0] });
        assert!(parse_axis("X=6..5:1").is_err());
        assert!(parse_axis("X=0..1:0").is_err());
        assert!(parse_axis("X").is_err());
    }

    #[test]
    fn combines_axes() {
        let a = Axis { name: "A".into(), values: vec![1.0, 2.0] };
        let b = Axis { name: "B".into(), values: vec![10.0, 20.0, 30.0] };
        let c = combinations(&[a, b]).unwrap();
        assert_eq!(c.len(), 6);
        assert_eq!(c[0], vec![1.0, 10.0]);
        assert_eq!(c[5], vec![2.0, 30.0]);
    }
}
