//! The engine: compiled rules plus state, applied to one decoded packet at a time.
//!
//! For each packet the engine asks the [`RuleSet`] for the candidate rules
//! (by protocol, then the [`index`]), evaluates pass rules first (any match suppresses
//! the packet's alerts), then alert rules in load order; a matching rule with
//! stateful clauses asks its state table whether to fire. Features are
//! computed lazily and shared by all rules of the packet. Nothing here
//! allocates unless an alert is raised or a state table meets a new key.

pub mod alert;
pub mod compile;
pub mod echo;
pub mod field;
pub mod flows;
pub mod header;
pub mod index;
pub mod networks;
pub mod predicate;
pub mod ruleset;
pub mod state;
pub mod stats;
pub mod suppress;
pub mod swap;
pub mod tables;
pub mod template;
pub mod window;

use std::sync::Arc;

use crate::decode::features::Features;
use crate::decode::Packet;
use alert::Alert;
use ruleset::RuleSet;
use stats::Stats;
use tables::{Decision, StateTables, TableLimits};

/// Runs a rule set over packets.
pub struct Engine {
    rules: Arc<RuleSet>,
    tables: StateTables,
    /// Echo request memory, when a rule reads the echo correlation fields.
    echo: Option<echo::EchoTable>,
    stats: Stats,
    limits: TableLimits,
    /// Matching alert rules of the current packet (reused; never shrinks).
    matched: Vec<u32>,
    /// Candidate rules of the current packet from the rule index (reused; never shrinks).
    candidates: Vec<u32>,
    /// Per-flow counters for EVE (`flow_id`, `flow{}`), when asked for.
    flows: Option<flows::FlowTable>,
}

impl Engine {
    /// An engine for `rules` with default state limits.
    pub fn new(rules: Arc<RuleSet>) -> Engine {
        Engine::with_limits(rules, TableLimits::default())
    }

    /// An engine for `rules` with the given state limits.
    pub fn with_limits(rules: Arc<RuleSet>, limits: TableLimits) -> Engine {
        let n = rules.rules().len();
        let stats = Stats {
            alerts_by_rule: vec![0; n],
            suppressed_by_rule: vec![0; n],
            limited_by_rule: vec![0; n],
            ..Stats::default()
        };
        let tables = StateTables::new(&rules, limits);
        let echo = rules.uses_echo().then(|| echo::EchoTable::new(limits));
        Engine {
            rules,
            tables,
            echo,
            stats,
            limits,
            matched: Vec::with_capacity(64),
            candidates: Vec::with_capacity(64),
            flows: None,
        }
    }

    /// Counts packets and bytes per flow from now on, so alerts carry their
    /// flow (EVE `flow_id` and `flow{}`). Bounded by the engine's state limits.
    pub fn track_flows(&mut self) {
        if self.flows.is_none() {
            self.flows = Some(flows::FlowTable::new(self.limits));
        }
    }

    /// The rule set in use.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Puts `rules` in place of the rule set in use, between two packets.
    ///
    /// Every rule whose id, revision, header, condition and stateful clauses
    /// are unchanged keeps its state (counters, windows, distinct sets); the
    /// others start fresh. Echo memory is kept while some rule reads it.
    /// Alert counts follow their rule ids; counts of rules no longer loaded
    /// stay in [`Stats::alerts_unloaded`].
    pub fn replace_rules(&mut self, rules: Arc<RuleSet>) -> swap::Swapped {
        let keep = swap::unchanged(&self.rules, &rules);
        let tables = std::mem::take(&mut self.tables);
        let (tables, kept) = tables.carry_over(&rules, self.limits, &keep);
        self.tables = tables;
        if !rules.uses_echo() {
            self.echo = None;
        } else if self.echo.is_none() {
            self.echo = Some(echo::EchoTable::new(self.limits));
        }
        self.stats.rekey_alerts(&self.rules, &rules);
        let stateful = rules.rules().iter().filter(|r| r.state.is_stateful()).count();
        let unchanged = keep.iter().filter(|k| k.is_some()).count();
        let swapped = swap::Swapped {
            rules: rules.rules().len(),
            unchanged,
            stateful,
            state_kept: kept,
            removed: self.rules.rules().len().saturating_sub(unchanged),
        };
        self.rules = rules;
        swapped
    }

    /// Statistics so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Counters of every state table (stateful clauses and echo memory).
    pub fn table_stats(&self) -> Vec<tables::TableStats> {
        let mut out = self.tables.stats();
        out.extend(self.echo.as_ref().map(echo::EchoTable::stats));
        out
    }

    /// Matches one packet, calling `emit` for each alert in rule load order.
    pub fn process(&mut self, pkt: &Packet<'_>, emit: &mut impl FnMut(Alert)) {
        self.stats.count_packet(pkt);
        let flow = self.flows.as_mut().and_then(|t| t.observe(pkt));
        let mut f = Features::new(pkt);
        if let Some(echo) = &mut self.echo {
            echo.observe(&mut f);
        }
        if self.rules.is_network_scoped() {
            if let Some(ip) = pkt.ip() {
                let map = self.rules.networks();
                f.set_networks(map.lookup(ip.src), map.lookup(ip.dst));
            }
        }
        let Engine { rules, matched, candidates, stats, tables, .. } = self;
        rules.candidates(&mut f, true, candidates);
        let passed = candidates.iter().any(|&i| rules.rule(i).is_some_and(|r| r.matches(&mut f)));
        matched.clear();
        if !passed {
            rules.candidates(&mut f, false, candidates);
            matched.extend(candidates.iter().copied().filter(|&i| rules.rule(i).is_some_and(|r| r.matches(&mut f))));
        }
        if let Some(e) = f.dns_error() {
            stats.count_dns_error(e);
        }
        if passed {
            stats.passed += 1;
            return;
        }
        for &index in matched.iter() {
            let Some(rule) = rules.rule(index) else { continue };
            let report = match tables.decide(index, rule, &mut f) {
                Decision::Fire(report) => report,
                Decision::Hold => {
                    stats.suppressed += 1;
                    continue;
                }
                Decision::Limited => {
                    stats.suppressed += 1;
                    if let Some(c) = stats.limited_by_rule.get_mut(index as usize) {
                        *c += 1;
                    }
                    continue;
                }
                Decision::Suppress => {
                    if let Some(c) = stats.suppressed_by_rule.get_mut(index as usize) {
                        *c += 1;
                    }
                    continue;
                }
            };
            if let Some(mut alert) = Alert::build(rules, index, &mut f) {
                alert.state = report;
                alert.flow = flow;
                if let Some(c) = stats.alerts_by_rule.get_mut(index as usize) {
                    *c += 1;
                }
                emit(alert);
            }
        }
    }
}
