//! Warning levels (红/橙/黄/蓝) and credit-risk grades (A/B/C/D) from the ranked scores, then the
//! policy's hard rules. Pure functions over slices; the policy says where the cuts are.

use crate::policy::{BandMethod, Grade, Grades, HardRule};

pub const LEVELS: [&str; 4] = ["red", "orange", "yellow", "blue"];

/// Class of every subject for three cuts ordered highest risk first (0 = highest, 3 = the rest).
/// `share`: the first round(Σ shares × n) ranks; `score`: score ≥ the cut. `rank` is 1-based.
pub fn classes(method: BandMethod, cuts: [f64; 3], score: &[f64], rank: &[u32]) -> Vec<u8> {
    let n = score.len() as f64;
    match method {
        BandMethod::Share => {
            let mut bounds = [0u32; 3];
            let mut cum = 0.0;
            for (b, s) in bounds.iter_mut().zip(cuts) {
                cum += s;
                *b = (cum * n).round() as u32;
            }
            rank.iter().map(|r| bounds.iter().position(|b| r <= b).unwrap_or(3) as u8).collect()
        }
        BandMethod::Score => score.iter().map(|s| cuts.iter().position(|c| s >= c).unwrap_or(3) as u8).collect(),
    }
}

/// One subject's grade: the score class, capped for the observation period, then the rules that
/// fire (in policy order). Returns the grade and the names of the rules that fired.
pub fn grade_one(score_class: u8, in_observation: bool, policy: &Grades, rule_values: &[Option<f64>]) -> (Grade, Vec<usize>) {
    let fired = fired_rules(policy, rule_values);
    (grade_fired(score_class, in_observation, policy, fired), (0..policy.rules.len()).filter(|r| fired & (1 << r) != 0).collect())
}

/// Most hard rules a policy may have: which fired is one bit each of a `u64`.
pub const MAX_RULES: usize = 64;

/// The hard rules that fire on a subject's rule values (bit r: rule r).
pub fn fired_rules(policy: &Grades, rule_values: &[Option<f64>]) -> u64 {
    let mut fired = 0;
    for (i, (rule, v)) in policy.rules.iter().zip(rule_values).enumerate() {
        if v.is_some_and(|v| v >= rule.min) {
            fired |= 1 << i;
        }
    }
    fired
}

/// [`grade_one`] of a subject whose rules `fired` ([`fired_rules`]).
pub fn grade_fired(score_class: u8, in_observation: bool, policy: &Grades, fired: u64) -> Grade {
    let mut g = [Grade::D, Grade::C, Grade::B, Grade::A][score_class as usize];
    if in_observation {
        g = g.min(policy.observation_cap);
    }
    for (i, rule) in policy.rules.iter().enumerate() {
        if fired & (1 << i) != 0 {
            g = rule.apply(g);
        }
    }
    g
}

/// A rule's audit label in the report language.
pub fn rule_label(rule: &HardRule, m: crate::messages::Messages) -> String {
    use crate::policy::RuleAction;
    let label = rule.label(m.language);
    match (rule.action, rule.grade, rule.steps) {
        (RuleAction::Set, Some(g), _) => m.fill("reason.rule_set", &[("label", &label), ("grade", &g.as_str())]),
        (RuleAction::AtLeast, Some(g), _) => m.fill("reason.rule_at_least", &[("label", &label), ("grade", &g.as_str())]),
        (_, _, Some(n)) => m.fill("reason.rule_raise", &[("label", &label), ("steps", &n)]),
        _ => label.to_string(),
    }
}
