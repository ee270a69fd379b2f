//! The plan's follow-through: what became of the units a 双随机 plan selected, per department,
//! and violation-rate estimates that treat selected-but-not-visited units as non-response
//! (docs/plan.md, "Follow-through and unbiased estimates").
//!
//! Two counts with two purposes. A selected unit is *inspected* when any inspection of it falls
//! in the window, whatever its mode or department: someone went there, so the plan's work is
//! done and completion counts it. It *responded* when one of those inspections was of mode
//! `random`: only random-mode outcomes are the unbiased yardstick (as for the `random_label` of
//! `labels` and the backtests' `random inspections` population), so only they enter the rates.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::error::{Error, Result};

/// One unit a plan selected, and what the window recorded about it.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedUnit {
    pub department: String,
    /// The credit grade the plan was drawn with; department × grade is the weighting class.
    pub grade: String,
    pub stratum: String,
    /// π of the plan row, in (0, 1].
    pub inclusion_probability: f64,
    /// Inspected in the window by any mode (implied when `random_violation` is `Some`).
    pub inspected: bool,
    /// `Some(a violation was found)` when a `random` inspection in the window gave an outcome;
    /// `None` is non-response.
    pub random_violation: Option<bool>,
}

impl SelectedUnit {
    fn was_inspected(&self) -> bool {
        self.inspected || self.random_violation.is_some()
    }
}

/// What a department's units are grouped by for an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// Credit grade: the weighting class of the non-response adjustment.
    Grade,
    /// The plan's stratum (industry section and region).
    Stratum,
}

/// A Hájek (ratio-form Horvitz–Thompson) violation rate over a group of selected units, with
/// each responding unit weighted 1/(π·r), r the response rate of its department × grade.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RateEstimate {
    /// `department · grade G` or `department · stratum S`.
    pub group: String,
    pub department: String,
    pub grouping: Grouping,
    /// The grade or stratum.
    pub class: String,
    /// Units the plan selected in this group.
    pub selected: usize,
    /// … inspected in the window by any mode.
    pub inspected: usize,
    /// … with a random-inspection outcome: the respondents the rate is estimated from.
    pub responded: usize,
    /// inspected / selected.
    pub completion_rate: Option<f64>,
    /// responded / selected; for a grade it is the r of the adjusted weights.
    pub response_rate: Option<f64>,
    /// Respondents whose random inspection found a violation.
    pub violations: usize,
    /// Σ 1/(π·r) over respondents: the population the estimate stands for.
    pub estimated_population: f64,
    /// Σ y/(π·r) / Σ 1/(π·r) over respondents; `None` without respondents.
    pub rate: Option<f64>,
    /// √(Σ (1−π·r)/(π·r)² (y − rate)²) / Σ 1/(π·r): the linearised (Taylor) standard error of
    /// the ratio with response treated as a second Poisson phase of probability r.
    pub standard_error: Option<f64>,
}

/// One department's completion, over all its selected units.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DepartmentCompletion {
    pub department: String,
    pub selected: usize,
    /// Selected units inspected in the window by any mode.
    pub inspected: usize,
    /// Selected units with a random-inspection outcome in the window.
    pub responded: usize,
    /// inspected / selected.
    pub completion_rate: f64,
    /// responded / selected.
    pub response_rate: f64,
}

/// A department's follow-through: its completion, and the adjusted estimates per grade (the
/// weighting classes) and per stratum, each in name order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DepartmentFollowThrough {
    pub completion: DepartmentCompletion,
    pub by_grade: Vec<RateEstimate>,
    pub by_stratum: Vec<RateEstimate>,
}

/// Completion and non-response-adjusted violation rates per department, in department order.
///
/// Within each department × grade, r = responded / selected and a respondent's weight is
/// 1/(π·r): the two-phase view in which the plan draws with probability π and a drawn unit then
/// gets a random inspection with probability r, independently within its class (missing at
/// random given department and grade). Stratum estimates use the same weights, so a stratum
/// whose grades were followed through unevenly is not tilted towards the better-visited grade.
/// A grade with no respondent has no rate, and its units are absent from the strata estimates
/// (their `estimated_population` is smaller by that much).
pub fn follow_through(units: &[SelectedUnit]) -> Vec<DepartmentFollowThrough> {
    let mut by_department: BTreeMap<&str, BTreeMap<&str, Vec<&SelectedUnit>>> = BTreeMap::new();
    for u in units {
        by_department.entry(&u.department).or_default().entry(&u.grade).or_default().push(u);
    }
    by_department
        .into_iter()
        .map(|(department, classes)| {
            // (unit, π·r of its class); r > 0 for every respondent, since it responded.
            let mut weighted: Vec<(&SelectedUnit, f64)> = Vec::new();
            let mut by_grade = Vec::new();
            for (grade, members) in &classes {
                let r = members.iter().filter(|u| u.random_violation.is_some()).count() as f64 / members.len() as f64;
                let start = weighted.len();
                weighted.extend(members.iter().map(|u| (*u, u.inclusion_probability * r)));
                by_grade.push(estimate(department, Grouping::Grade, grade, &weighted[start..]));
            }
            let mut strata: BTreeMap<&str, Vec<(&SelectedUnit, f64)>> = BTreeMap::new();
            for &(u, p) in &weighted {
                strata.entry(&u.stratum).or_default().push((u, p));
            }
            let by_stratum = strata.into_iter().map(|(s, members)| estimate(department, Grouping::Stratum, s, &members)).collect();
            let inspected = weighted.iter().filter(|(u, _)| u.was_inspected()).count();
            let responded = weighted.iter().filter(|(u, _)| u.random_violation.is_some()).count();
            let share = |k: usize| k as f64 / weighted.len() as f64;
            DepartmentFollowThrough {
                completion: DepartmentCompletion {
                    department: department.to_string(),
                    selected: weighted.len(),
                    inspected,
                    responded,
                    completion_rate: share(inspected),
                    response_rate: share(responded),
                },
                by_grade,
                by_stratum,
            }
        })
        .collect()
}

/// `units` carry their effective inclusion probability π·r.
fn estimate(department: &str, grouping: Grouping, class: &str, units: &[(&SelectedUnit, f64)]) -> RateEstimate {
    let respondents: Vec<(f64, f64)> = units.iter().filter_map(|(u, p)| u.random_violation.map(|v| (f64::from(u8::from(v)), *p))).collect();
    // `+ 0.0`: an empty f64 sum is −0.0, which would print as "-0.000".
    let n_hat = respondents.iter().map(|(_, p)| 1.0 / p).sum::<f64>() + 0.0;
    let y_hat = respondents.iter().map(|(y, p)| y / p).sum::<f64>() + 0.0;
    let rate = (n_hat > 0.0).then(|| y_hat / n_hat);
    let standard_error = rate.map(|r| respondents.iter().map(|(y, p)| (1.0 - p) / (p * p) * (y - r).powi(2)).sum::<f64>().sqrt() / n_hat);
    let selected = units.len();
    let inspected = units.iter().filter(|(u, _)| u.was_inspected()).count();
    let share = |k: usize| (selected > 0).then(|| k as f64 / selected as f64);
    let label = match grouping {
        Grouping::Grade => "grade",
        Grouping::Stratum => "stratum",
    };
    RateEstimate {
        group: format!("{department} · {label} {class}"),
        department: department.to_string(),
        grouping,
        class: class.to_string(),
        selected,
        inspected,
        responded: respondents.len(),
        completion_rate: share(inspected),
        response_rate: share(respondents.len()),
        violations: respondents.iter().filter(|(y, _)| *y > 0.0).count(),
        estimated_population: n_hat,
        rate,
        standard_error,
    }
}

/// The follow-through of a plan over the inspection window [`from`, `to`) (days since
/// 1970-01-01; for a run as of T evaluated over horizon H, T and T+H).
///
/// - `plan`: plan.parquet (`uscc`, `department`, `stratum`, `inclusion_probability`,
///   `selected`); only selected rows count.
/// - `grades`: `uscc`, `credit_grade` of the warning list the plan was drawn from (its
///   warnings.parquet): the grade the weighting classes use. A selected subject missing from it
///   is an error, since its class is unknown.
/// - `inspections`: the validated `inspections` table (`uscc`, `inspected_on`, `mode`,
///   `outcome`), or `None` when the data has none (nothing was followed through). An inspection
///   by any department counts: a joint visit (`joint_with`) is recorded once, under one of them.
///
/// Pure: reads no file. See [`follow_through`] for the estimates.
pub fn plan_follow_through(plan: &DataFrame, grades: &DataFrame, inspections: Option<&DataFrame>, from: i32, to: i32) -> Result<Vec<DepartmentFollowThrough>> {
    Ok(follow_through(&selected_units(plan, grades, inspections, from, to)?))
}

/// The plan's selected rows joined with their grade and what the window recorded about them.
pub fn selected_units(plan: &DataFrame, grades: &DataFrame, inspections: Option<&DataFrame>, from: i32, to: i32) -> Result<Vec<SelectedUnit>> {
    let left = || JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
    let visits = match inspections {
        Some(table) => {
            let in_window = col("inspected_on").gt_eq(lit(from).cast(DataType::Date)).and(col("inspected_on").lt(lit(to).cast(DataType::Date)));
            let random = col("mode").eq(lit("random"));
            table.clone().lazy().filter(in_window).group_by([col("uscc")]).agg([
                col("mode").is_not_null().any(true).alias("inspected"),
                random.clone().any(true).alias("responded"),
                random.and(col("outcome").eq(lit("violation"))).any(true).alias("random_violation"),
            ])
        }
        None => df!(
            "uscc" => Vec::<String>::new(),
            "inspected" => Vec::<bool>::new(),
            "responded" => Vec::<bool>::new(),
            "random_violation" => Vec::<bool>::new()
        )?
        .lazy(),
    };
    let selected = plan
        .clone()
        .lazy()
        .filter(col("selected"))
        .select([col("uscc"), col("department"), col("stratum"), col("inclusion_probability")])
        .join(grades.clone().lazy().select([col("uscc"), col("credit_grade")]), [col("uscc")], [col("uscc")], left())
        .join(visits, [col("uscc")], [col("uscc")], left())
        .collect()?;
    let text = |c: &str| -> Result<Vec<Option<String>>> { Ok(selected.column(c)?.str()?.iter().map(|v| v.map(str::to_string)).collect()) };
    let flag = |c: &str| -> Result<Vec<bool>> { Ok(selected.column(c)?.bool()?.iter().map(|v| v.unwrap_or(false)).collect()) };
    let (codes, departments, strata, grade) = (text("uscc")?, text("department")?, text("stratum")?, text("credit_grade")?);
    let pi: Vec<Option<f64>> = selected.column("inclusion_probability")?.f64()?.iter().collect();
    let (inspected, responded, violation) = (flag("inspected")?, flag("responded")?, flag("random_violation")?);
    let missing_grade: Vec<&str> = (0..selected.height()).filter(|&i| grade[i].is_none()).map(|i| codes[i].as_deref().unwrap_or("")).collect();
    if let Some(first) = missing_grade.first() {
        return Err(Error::BadArgument(format!(
            "the plan does not belong to the warning list: {} selected subject(s) have no credit grade there (first {first})",
            missing_grade.len()
        )));
    }
    (0..selected.height())
        .map(|i| {
            let code = codes[i].as_deref().unwrap_or("");
            let inclusion_probability = match pi[i] {
                Some(p) if p > 0.0 && p <= 1.0 => p,
                other => {
                    return Err(Error::BadArgument(format!(
                        "plan: selected subject {code} has inclusion probability {}, not in (0, 1]",
                        other.map_or_else(|| "null".into(), |p| p.to_string())
                    )));
                }
            };
            Ok(SelectedUnit {
                department: departments[i].clone().unwrap_or_default(),
                grade: grade[i].clone().unwrap_or_default(),
                stratum: strata[i].clone().unwrap_or_default(),
                inclusion_probability,
                inspected: inspected[i],
                random_violation: responded[i].then_some(violation[i]),
            })
        })
        .collect()
}
