//! The feedback tables of a generated world: an earlier simulated run's warning cases (`cases`),
//! what departments did about them (`dispositions`: delays, some overdue, results tied to the
//! hidden truth), and a few approved grade overrides (`overrides`).
//!
//! The earlier run ranks each chunk's subjects active at its date by a noisy view of their hidden
//! propensity (a model is imperfect) and warns the top `red`/`orange` shares of the policy, so a
//! run on the generated data shows cases in every state: closed by the field, overdue, escalated,
//! held back by a check that found nothing, and new. Each chunk draws from its own stream, so
//! output stays identical for any thread count, and the other tables are untouched.

use crate::rng::{sigmoid, Rng};

use super::tables::{Cases, Dispositions, Overrides};
use super::GenerateOptions;

/// Days before the extract date of the earlier simulated run.
pub const EARLIER_RUN_DAYS: i32 = 46;

/// What the earlier run needs to know of one subject.
pub struct Candidate {
    pub uscc: String,
    pub industry: &'static str,
    pub region: &'static str,
    /// Hidden logit at the earlier run's date.
    pub logit: f64,
}

#[derive(Default)]
pub struct FeedbackTables {
    pub cases: Cases,
    pub dispositions: Dispositions,
    pub overrides: Overrides,
}

const OVERRIDE_REASONS: &[&str] = &[
    "已完成信用修复：补报年度报告并公示",
    "异议申诉核准：处罚主体登记错误，已更正",
    "已履行行政处罚决定并完成整改，信用修复申请核准",
    "异议申诉核准：投诉举报经核查不属实",
];

/// The earlier run's date for these options.
pub fn earlier_run(opts: &GenerateOptions) -> i32 {
    opts.end - EARLIER_RUN_DAYS
}

/// Cases, dispositions and overrides for one chunk's candidates (subjects active at the earlier
/// run's date, in index order).
pub fn simulate(opts: &GenerateOptions, chunk: u64, candidates: &[Candidate]) -> FeedbackTables {
    let mut rng = Rng::new(opts.seed, u64::MAX - 1 - chunk);
    let mut out = FeedbackTables::default();
    let t0 = earlier_run(opts);
    let calendar = opts.cases.calendar().unwrap_or_default();
    // The earlier model's view: the hidden logit plus noise, ranked within the chunk.
    let noisy: Vec<f64> = candidates.iter().map(|c| c.logit + 0.8 * rng.normal()).collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| noisy[b].total_cmp(&noisy[a]).then(a.cmp(&b)));
    let n = candidates.len() as f64;
    let red = (n * 0.024).round() as usize;
    let orange = red + (n * 0.016).round() as usize;
    for (rank, &i) in order.iter().enumerate().take(orange) {
        let c = &candidates[i];
        let level = if rank < red { "red" } else { "orange" };
        if !opts.cases.open_levels.iter().any(|l| l == level) {
            continue;
        }
        let case_id = crate::cases::case_id(&c.uscc, t0);
        let department = opts.cases.department_for(&opts.departments, c.industry, c.region).to_string();
        let Some(due_days) = opts.cases.due_days_or_longest(level) else { continue };
        let due_on = calendar.add(t0, due_days);
        let t = &mut out.cases;
        t.case_id.append_value(&case_id);
        t.uscc.append_value(&c.uscc);
        t.department.append_value(&department);
        t.opened_on.append_value(t0);
        t.level.append_value(level);
        // Half the rows leave the due date to the policy.
        t.due_on.append_option(rng.chance(0.5).then_some(due_on));
        t.score_at_opening.append_value((sigmoid(noisy[i]) * 10_000.0).round() / 10_000.0);

        // 80 % are followed up, after a delay around the due period; a late one is overdue first.
        if !rng.chance(0.8) {
            continue;
        }
        let p_true = sigmoid(c.logit);
        let mut day = t0 + 1 + rng.exponential((due_on - t0) as f64 * 0.9) as i32;
        let mut results = Vec::new();
        if rng.chance(0.12) {
            results.push("pending");
        }
        let final_result = if rng.chance(0.07) {
            "unreachable"
        } else if rng.chance((2.5 * p_true).min(0.9)) {
            // A targeted visit looks harder than a routine inspection: it finds more.
            "confirmed"
        } else {
            "not_confirmed"
        };
        if results.is_empty() || rng.chance(0.6) {
            results.push(final_result);
        }
        for result in results {
            if day > opts.end {
                break;
            }
            let action = match result {
                "confirmed" => *rng.pick(&["order", "case", "interview", "refer"]),
                _ => "verify",
            };
            let d = &mut out.dispositions;
            d.uscc.append_value(&c.uscc);
            d.case_id.append_option(rng.chance(0.7).then_some(case_id.as_str()));
            d.department.append_value(&department);
            d.handled_on.append_value(day);
            d.action.append_value(action);
            d.result.append_value(result);
            d.handler_id.append_option(rng.chance(0.9).then(|| format!("H{:04}", rng.int(1, 400))));
            d.note.append_option(match result {
                "not_confirmed" => Some("现场核查未发现问题"),
                "pending" => Some("已约谈，待复查"),
                _ => None,
            });
            day += 1 + rng.exponential(6.0) as i32;
        }
    }
    // A few approved overrides (异议申诉 / 信用修复), some expired, one in ten not yet in force.
    for c in candidates {
        if !rng.chance(0.003) {
            continue;
        }
        let grade = if rng.chance(0.7) { "B" } else { "C" };
        let valid_from = if rng.chance(0.1) { opts.end } else { t0 - rng.int(0, 400) as i32 };
        let valid_to = match rng.weighted(&[0.5, 0.3, 0.2]) {
            0 => None,
            1 => Some(valid_from + 365),
            _ => Some(valid_from + rng.int(30, 120) as i32),
        };
        let o = &mut out.overrides;
        o.uscc.append_value(&c.uscc);
        o.grade.append_value(grade);
        o.reason.append_value(*rng.pick(OVERRIDE_REASONS));
        o.approved_by.append_value("信用监管科");
        o.valid_from.append_value(valid_from);
        o.valid_to.append_option(valid_to);
    }
    out
}
