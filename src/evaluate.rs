//! Evaluation of a past run against what happened next (SPEC §3 `evaluate`): ranking metrics on
//! all labelled subjects and on random-inspection outcomes alone, beside the baselines and (on
//! generated data) the oracle; lead time; and, given the run's plan, its follow-through:
//! completion per department and Hájek violation rates per grade and stratum adjusted for the
//! selected units nobody inspected (`follow_through`).

mod follow_through;

use polars::prelude::*;

pub use follow_through::{follow_through, plan_follow_through, selected_units, DepartmentCompletion, DepartmentFollowThrough, Grouping, RateEstimate, SelectedUnit};

use crate::error::{Error, Result};
use crate::labels::{LabelSource, DEFAULT_LABEL_SOURCES};
use crate::model::train::{backtest_populations, oracle_scores, Population};

fn is_default_label_sources(sources: &[LabelSource]) -> bool {
    sources == DEFAULT_LABEL_SOURCES
}

/// How much earlier violations are found when the inspections that actually happened in the
/// window are re-ordered by the ranking (the Chicago food-inspection measure): the k-th highest
/// ranked labelled subject takes the k-th earliest actual inspection date.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LeadTime {
    pub positives: usize,
    /// Mean of (actual date found − date found under the ranking), in days, over positives.
    pub mean_days_earlier: Option<f64>,
    /// Share of positives found within the first 30 days of the window.
    pub found_in_30_days_actual: Option<f64>,
    pub found_in_30_days_ranked: Option<f64>,
}

/// `as_of` day; `first_event` and `first_positive` in days; rows are labelled subjects.
pub fn lead_time(scores: &[f64], codes: &[&str], first_event: &[i32], first_positive: &[Option<i32>], as_of: i32) -> LeadTime {
    let mut slots: Vec<i32> = first_event.to_vec();
    slots.sort_unstable();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(codes[a].cmp(codes[b])));
    let (mut sum, mut n, mut early_actual, mut early_ranked) = (0.0, 0usize, 0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if let Some(found) = first_positive[i] {
            // Under the ranking the subject is inspected at slot k; its violation is found then.
            let ranked = slots[k];
            sum += (found - ranked) as f64;
            n += 1;
            early_actual += (found < as_of + 30) as usize;
            early_ranked += (ranked < as_of + 30) as usize;
        }
    }
    let share = |c: usize| (n > 0).then(|| c as f64 / n as f64);
    LeadTime {
        positives: n,
        mean_days_earlier: (n > 0).then(|| sum / n as f64),
        found_in_30_days_actual: share(early_actual),
        found_in_30_days_ranked: share(early_ranked),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluation {
    pub as_of: String,
    pub horizon_days: i32,
    pub scored: usize,
    pub labelled: usize,
    /// Where the labels came from (`--labels`); absent when inspections and penalties alone.
    #[serde(skip_serializing_if = "is_default_label_sources")]
    pub label_sources: Vec<LabelSource>,
    pub populations: Vec<Population>,
    pub lead_time_model: LeadTime,
    pub lead_time_past_violations: LeadTime,
    /// Per department: selected units inspected in the window (from the plan beside the list).
    pub plan_completion: Vec<DepartmentCompletion>,
    /// Per department × grade, then per department × stratum, from the plan's selected units,
    /// adjusted for non-response within department × grade.
    pub plan_estimates: Vec<RateEstimate>,
}

pub struct EvaluateInput<'a> {
    /// warnings.parquet of the run being evaluated.
    pub warnings: &'a DataFrame,
    /// Labels over [T, T+H) from the outcome data (`labels::labels_from`).
    pub labels: &'a DataFrame,
    /// The sources those labels were made from.
    pub label_sources: &'a [LabelSource],
    /// Features as of T from the outcome data (for the past-violations baseline).
    pub features: &'a DataFrame,
    /// Their options (which window the past-violations baseline counts).
    pub feature_options: &'a crate::features::FeatureOptions,
    pub truth: Option<&'a DataFrame>,
    pub plan: Option<&'a DataFrame>,
    /// The outcome data's validated inspections, for the plan's follow-through.
    pub inspections: Option<&'a DataFrame>,
    pub as_of: i32,
    pub horizon_days: i32,
}

pub fn evaluate(input: &EvaluateInput) -> Result<Evaluation> {
    let join = |l: LazyFrame, r: LazyFrame| {
        l.join(r, [col("uscc")], [col("uscc")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Inner) })
    };
    let past_feature = crate::features::past_violations(input.feature_options);
    let past = match input.features.column(&past_feature) {
        Ok(_) => input.features.clone().lazy().select([col("uscc"), col(&past_feature)]),
        Err(_) => input.features.clone().lazy().select([col("uscc"), lit(0.0).alias(&past_feature)]),
    };
    let test = join(
        join(
            input.warnings.clone().lazy().select([col("uscc"), col("score"), col("credit_grade")]),
            input.labels.clone().lazy().select(
                ["uscc", "label", "random_label", "inspection_label", "disposition_label", "first_positive_on", "first_event_on"].map(col),
            ),
        ),
        past,
    )
    .collect()?;
    if test.height() == 0 {
        return Err(Error::BadArgument("no scored subject of the warning list has an inspection or penalty in the horizon after its as-of date".into()));
    }
    let scores: Vec<f64> = test.column("score")?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let oracle = input.truth.map(|t| oracle_scores(t, &test, input.as_of, input.horizon_days)).transpose()?;
    let populations = backtest_populations(&test, &scores, oracle.as_deref(), None, &past_feature, input.label_sources)?;
    let codes: Vec<&str> = test.column("uscc")?.str()?.iter().map(|v| v.unwrap_or("")).collect();
    let days = |c: &str| -> Result<Vec<Option<i32>>> { Ok(test.column(c)?.cast(&DataType::Int32)?.i32()?.iter().collect()) };
    let first_event: Vec<i32> = days("first_event_on")?.into_iter().map(|v| v.unwrap_or(input.as_of)).collect();
    let first_positive = days("first_positive_on")?;
    let past: Vec<f64> = test.column(&past_feature)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let lead_time_model = lead_time(&scores, &codes, &first_event, &first_positive, input.as_of);
    let lead_time_past_violations = lead_time(&past, &codes, &first_event, &first_positive, input.as_of);

    let follow_through = match input.plan {
        Some(plan) => plan_follow_through(plan, input.warnings, input.inspections, input.as_of, input.as_of + input.horizon_days)?,
        None => Vec::new(),
    };
    let plan_estimates = follow_through.iter().flat_map(|d| d.by_grade.iter().chain(&d.by_stratum).cloned()).collect();
    let plan_completion = follow_through.into_iter().map(|d| d.completion).collect();
    Ok(Evaluation {
        as_of: crate::dates::format(input.as_of),
        horizon_days: input.horizon_days,
        scored: input.warnings.height(),
        labelled: test.height(),
        label_sources: input.label_sources.to_vec(),
        populations,
        lead_time_model,
        lead_time_past_violations,
        plan_completion,
        plan_estimates,
    })
}
