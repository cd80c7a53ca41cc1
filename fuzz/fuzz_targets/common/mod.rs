//! What the `capture` and `packet` targets share: one compiled rule set for the whole run.
//!
//! Compiling rules costs far more than matching a packet, so it happens once per process
//! (in a `OnceLock`) and every input gets a fresh [`Engine`] over the same `Arc<RuleSet>`,
//! which keeps runs independent of each other (no state leaks from one input to the next).
//!
//! The rule set is the built-in defaults plus `engine.rules`, a fuzz-only file that uses
//! every field, operator and stateful clause, so that feature extraction, the state
//! tables and alert templates are fuzzed too, not only the few fields the defaults test.

use std::sync::{Arc, OnceLock};

use ferret::decode::Packet;
use ferret::engine::ruleset::RuleSet;
use ferret::engine::Engine;
use ferret::load::{compile_texts, read_sources, RuleSource};
use ferret::output::{eve, summary, text};

/// The fuzz-only rules, compiled after the defaults.
const ENGINE_RULES: &str = include_str!("../engine.rules");

/// The rule set every input is matched against, compiled on first use.
pub fn rules() -> Arc<RuleSet> {
    static RULES: OnceLock<Arc<RuleSet>> = OnceLock::new();
    RULES.get_or_init(|| Arc::new(compile_rules())).clone()
}

/// Defaults plus `engine.rules`; a failure here is a broken harness, so it panics loudly.
fn compile_rules() -> RuleSet {
    let mut texts = match read_sources(&[RuleSource::Defaults]) {
        Ok(texts) => texts,
        Err(failure) => panic!("built-in rules unreadable:\n{}", failure.problems.concat()),
    };
    texts.push(("fuzz/fuzz_targets/engine.rules".into(), ENGINE_RULES.into()));
    match compile_texts(texts, &[]) {
        Ok(rules) => rules,
        Err(failure) => panic!("fuzz rules do not compile:\n{}", failure.problems.concat()),
    }
}

/// A fresh engine over the shared rule set.
pub fn engine() -> Engine {
    Engine::new(rules())
}

/// Runs one packet through `engine` and writes every alert as a text line and as EVE JSON,
/// so message templates and both alert outputs are fuzzed too.
pub fn process(engine: &mut Engine, pkt: &Packet<'_>) {
    engine.process(pkt, &mut |alert| {
        std::hint::black_box(text::alert_line(&alert, Some("fuzz.pcap")));
        let mut json = Vec::new();
        let written = eve::write_alert(&alert, Some("fuzz.pcap"), &eve::EveContext::default(), &mut json);
        assert!(written.is_ok(), "EVE output failed: {written:?}");
        std::hint::black_box(json);
    });
}

/// Writes the end-of-run summary (as `ferret scan` does after the last packet).
pub fn summarize(engine: &Engine) {
    let mut out = String::new();
    summary::write_summary(engine.stats(), engine.rules(), &engine.table_stats(), &mut out);
    std::hint::black_box(out);
}
