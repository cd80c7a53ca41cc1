//! Numeric tests of every indexed rule on one field, as sorted bounds.
//!
//! `payload.len > 64` in one rule and `payload.len > 500` in another are two
//! lower bounds on one field; kept sorted, a packet's value finds every rule
//! it passes with one binary search (the bounds below it), whatever the
//! number of rules. Equality tests (`icmp.type in [0, 8]`) are a sorted list
//! searched the same way.

/// How a bound compares the packet's value `v` with the rule's `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundOp {
    /// `v > t`
    Gt,
    /// `v >= t`
    Ge,
    /// `v < t`
    Lt,
    /// `v <= t`
    Le,
    /// `v == t`
    Eq,
}

impl BoundOp {
    /// The operator as rules write it.
    pub fn as_str(self) -> &'static str {
        match self {
            BoundOp::Gt => ">",
            BoundOp::Ge => ">=",
            BoundOp::Lt => "<",
            BoundOp::Le => "<=",
            BoundOp::Eq => "==",
        }
    }
}

/// The bounds of several rules on one field.
#[derive(Debug, Default)]
pub struct Bounds {
    /// Per operator (in `BoundOp` order): `(t, rule)` sorted by `t`.
    by_op: [Vec<(f64, u32)>; 5],
}

fn slot(op: BoundOp) -> usize {
    match op {
        BoundOp::Gt => 0,
        BoundOp::Ge => 1,
        BoundOp::Lt => 2,
        BoundOp::Le => 3,
        BoundOp::Eq => 4,
    }
}

impl Bounds {
    /// Adds `rule`'s bound `v op t` (call [`Bounds::finish`] before looking up).
    pub fn insert(&mut self, op: BoundOp, t: f64, rule: u32) {
        if let Some(list) = self.by_op.get_mut(slot(op)) {
            list.push((t, rule));
        }
    }

    /// Sorts the bounds.
    pub fn finish(&mut self) {
        for list in &mut self.by_op {
            list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
    }

    /// True when no bound is kept.
    pub fn is_empty(&self) -> bool {
        self.by_op.iter().all(Vec::is_empty)
    }

    /// Number of bounds.
    pub fn len(&self) -> usize {
        self.by_op.iter().map(Vec::len).sum()
    }

    /// Pushes every rule whose bound `v` passes.
    pub fn lookup(&self, v: f64, out: &mut Vec<u32>) {
        if v.is_nan() {
            return;
        }
        let [gt, ge, lt, le, eq] = &self.by_op;
        let below = |list: &[(f64, u32)]| list.partition_point(|(t, _)| *t < v);
        let at_or_below = |list: &[(f64, u32)]| list.partition_point(|(t, _)| *t <= v);
        let ids = |list: &[(f64, u32)], out: &mut Vec<u32>| out.extend(list.iter().map(|e| e.1));
        ids(gt.get(..below(gt)).unwrap_or_default(), out);
        ids(ge.get(..at_or_below(ge)).unwrap_or_default(), out);
        ids(lt.get(at_or_below(lt)..).unwrap_or_default(), out);
        ids(le.get(below(le)..).unwrap_or_default(), out);
        ids(eq.get(below(eq)..at_or_below(eq)).unwrap_or_default(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_finds_exactly_the_bounds_it_passes() {
        let mut b = Bounds::default();
        let ops = [BoundOp::Gt, BoundOp::Ge, BoundOp::Lt, BoundOp::Le, BoundOp::Eq];
        let ts = [0.0, 5.8, 64.0, 64.5, 100.0];
        let mut rule = 0;
        for op in ops {
            for t in ts {
                b.insert(op, t, rule);
                rule += 1;
            }
        }
        b.finish();
        assert_eq!(b.len(), 25);
        assert!(!b.is_empty() && Bounds::default().is_empty());
        for v in [-1.0, 0.0, 3.0, 5.8, 64.0, 64.2, 64.5, 100.0, 1e9] {
            let mut got = Vec::new();
            b.lookup(v, &mut got);
            got.sort_unstable();
            let mut want = Vec::new();
            let mut rule = 0;
            for op in ops {
                for t in ts {
                    let pass = match op {
                        BoundOp::Gt => v > t,
                        BoundOp::Ge => v >= t,
                        BoundOp::Lt => v < t,
                        BoundOp::Le => v <= t,
                        BoundOp::Eq => v == t,
                    };
                    if pass {
                        want.push(rule);
                    }
                    rule += 1;
                }
            }
            assert_eq!(got, want, "value {v}");
        }
        let mut none = Vec::new();
        b.lookup(f64::NAN, &mut none);
        assert!(none.is_empty());
    }
}
