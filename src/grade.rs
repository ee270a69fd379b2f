//! Warning levels (红/橙/黄/蓝) and credit-risk grades (A/B/C/D) from the ranked scores, then the
//! policy's hard rules. Pure functions over slices; the policy says where the cuts are.

use crate::error::Result;
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
    let mut g = [Grade::D, Grade::C, Grade::B, Grade::A][score_class as usize];
    if in_observation {
        g = g.min(policy.observation_cap);
    }
    let mut fired = Vec::new();
    for (i, (rule, v)) in policy.rules.iter().zip(rule_values).enumerate() {
        if v.is_some_and(|v| v >= rule.min) {
            g = rule.apply(g);
            fired.push(i);
        }
    }
    (g, fired)
}

/// Grades for every subject. `rule_columns[r][i]` is rule r's feature value for subject i
/// (None = no value, the rule does not fire; a rule whose feature is absent gets an all-None column).
pub fn grades(
    policy: &Grades,
    score: &[f64],
    rank: &[u32],
    observation: &[bool],
    rule_columns: &[Vec<Option<f64>>],
) -> Result<(Vec<Grade>, Vec<Vec<usize>>)> {
    let class = classes(policy.method, [policy.d, policy.c, policy.b], score, rank);
    let mut grades = Vec::with_capacity(score.len());
    let mut fired = Vec::with_capacity(score.len());
    let mut values = vec![None; policy.rules.len()];
    for i in 0..score.len() {
        for (v, col) in values.iter_mut().zip(rule_columns) {
            *v = col[i];
        }
        let (g, f) = grade_one(class[i], observation[i], policy, &values);
        grades.push(g);
        fired.push(f);
    }
    Ok((grades, fired))
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
