//! Training labels (SPEC §1): for as-of T and horizon H, subjects with at least one inspection
//! or penalty in [T, T+H) are labelled; positive = an inspection with outcome `violation` or a
//! penalty of severity `general`/`serious` in that window. Outcomes of `random` inspections are
//! an unbiased sample, so each row also carries the random-inspection label on its own.
//! With the `dispositions` source, a follow-up of a warning handled in the window labels too
//! (`confirmed` positive, `not_confirmed` negative); every row records which sources labelled it.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::validate::{Validated, SID};

/// The label horizon H in days unless the user says otherwise (SPEC §1).
pub const DEFAULT_HORIZON_DAYS: i32 = 180;
/// The longest horizon accepted: ten years (a label window is the time until an outcome counts).
pub const MAX_HORIZON_DAYS: i32 = 10 * crate::dates::DAYS_PER_YEAR;

/// Where a label comes from (`riskwarn train --labels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// Inspections and penalties (SPEC §1): the default.
    Inspections,
    /// Results of the follow-ups of warnings: `confirmed` positive, `not_confirmed` negative;
    /// `unreachable` and `pending` give no label.
    Dispositions,
}

impl LabelSource {
    pub fn name(self) -> &'static str {
        match self {
            LabelSource::Inspections => "inspections",
            LabelSource::Dispositions => "dispositions",
        }
    }
}

/// The sources used unless the user says otherwise: today's labels.
pub const DEFAULT_LABEL_SOURCES: &[LabelSource] = &[LabelSource::Inspections];

/// Label sources as typed after `--labels`: `inspections,dispositions`.
pub fn source_list(sources: &[LabelSource]) -> String {
    sources.iter().map(|s| s.name()).collect::<Vec<_>>().join(",")
}

/// `label_source` of a row that both sources labelled.
pub const BOTH_SOURCES: &str = "both";

/// One row per labelled (subject, T) from inspections and penalties: [`labels_from`] with the
/// default source.
pub fn labels(data: &Validated, as_of: &[i32], horizon_days: i32) -> Result<DataFrame> {
    labels_from(data, as_of, horizon_days, DEFAULT_LABEL_SOURCES)
}

/// One row per labelled (subject, T): `sid`, `uscc`, `as_of`, `label` (positive if any source
/// is), `label_source` (`inspections`, `dispositions` or `both`: which sources had an outcome in
/// the window), `from_random` (a random inspection in the window), `random_label` (a random
/// inspection found a violation; null when there was none), `inspection_label` and
/// `disposition_label` (each source's own label; null when it had no outcome in the window),
/// `first_positive_on` (date of the first positive outcome in the window), `first_event_on`
/// (date of the first inspection, penalty or decided disposition in the window: the actual
/// schedule).
pub fn labels_from(data: &Validated, as_of: &[i32], horizon_days: i32, sources: &[LabelSource]) -> Result<DataFrame> {
    if horizon_days <= 0 {
        return Err(Error::BadArgument(format!("horizon must be positive, got {horizon_days} days")));
    }
    let use_inspections = sources.contains(&LabelSource::Inspections);
    let use_dispositions = sources.contains(&LabelSource::Dispositions);
    if !use_inspections && !use_dispositions {
        return Err(Error::BadArgument("at least one label source is needed".into()));
    }
    let dispositions = match (use_dispositions, data.table("dispositions")) {
        (false, _) => None,
        (true, Some(d)) => Some(d),
        (true, None) => return Err(Error::BadArgument("labels from dispositions need a dispositions table (dispositions.parquet) in the data".into())),
    };
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let codes = subjects.clone().lazy().select([col(SID), col("uscc")]);
    let null_date = || lit(NULL).cast(DataType::Date);
    let null_bool = || lit(NULL).cast(DataType::Boolean);
    let mut out: Option<DataFrame> = None;
    for &t in as_of {
        let (start, end) = (lit(t).cast(DataType::Date), lit(t + horizon_days).cast(DataType::Date));
        let in_window = |c: &str| col(c).gt_eq(start.clone()).and(col(c).lt(end.clone()));
        // Every outcome in the window, one row each, in one shape whatever its source.
        let outcome = |positive: Expr, random: Expr, on: &str, from_inspections: bool| {
            vec![
                col(SID),
                positive.clone().alias("positive"),
                random.clone().alias("random"),
                random.and(positive.clone()).alias("random_positive"),
                when(positive.clone()).then(col(on)).otherwise(null_date()).alias("positive_on"),
                col(on).alias("event_on"),
                lit(from_inspections).alias("by_inspections"),
                lit(!from_inspections).alias("by_dispositions"),
            ]
        };
        let mut parts: Vec<LazyFrame> = Vec::new();
        if let Some(insp) = data.table("inspections").filter(|_| use_inspections) {
            let violation = col("outcome").eq(lit("violation"));
            let random = col("mode").eq(lit("random"));
            parts.push(insp.clone().lazy().filter(in_window("inspected_on")).select(outcome(violation, random, "inspected_on", true)));
        }
        if let Some(pen) = data.table("penalties").filter(|_| use_inspections) {
            let grave = col("severity").is_in(lit(Series::new("".into(), ["general", "serious"])).implode(false), false);
            parts.push(pen.clone().lazy().filter(in_window("decided_on")).select(outcome(grave, lit(false), "decided_on", true)));
        }
        if let Some(disp) = dispositions {
            let decided = col("result").is_in(lit(Series::new("".into(), ["confirmed", "not_confirmed"])).implode(false), false);
            let confirmed = col("result").eq(lit("confirmed"));
            parts.push(disp.clone().lazy().filter(in_window("handled_on").and(decided)).select(outcome(confirmed, lit(false), "handled_on", false)));
        }
        if parts.is_empty() {
            return Err(Error::BadArgument("labels need an inspections or penalties table".into()));
        }
        let rows = concat(parts, UnionArgs::default())?;
        let df = rows
            .group_by([col(SID)])
            .agg([
                col("positive").any(true).alias("label"),
                col("random").any(true).alias("from_random"),
                col("random_positive").any(true).alias("random_positive"),
                col("positive").filter(col("by_inspections")).any(true).alias("inspection_positive"),
                col("positive").filter(col("by_dispositions")).any(true).alias("disposition_positive"),
                col("by_inspections").any(true),
                col("by_dispositions").any(true),
                col("positive_on").min().alias("first_positive_on"),
                col("event_on").min().alias("first_event_on"),
            ])
            .join(codes.clone(), [col(SID)], [col(SID)], JoinArgs::new(JoinType::Inner))
            .select([
                col(SID),
                col("uscc"),
                lit(t).cast(DataType::Date).alias("as_of"),
                col("label"),
                when(col("by_inspections").and(col("by_dispositions")))
                    .then(lit(BOTH_SOURCES))
                    .when(col("by_inspections"))
                    .then(lit(LabelSource::Inspections.name()))
                    .otherwise(lit(LabelSource::Dispositions.name()))
                    .alias("label_source"),
                col("from_random"),
                when(col("from_random")).then(col("random_positive")).otherwise(null_bool()).alias("random_label"),
                when(col("by_inspections")).then(col("inspection_positive")).otherwise(null_bool()).alias("inspection_label"),
                when(col("by_dispositions")).then(col("disposition_positive")).otherwise(null_bool()).alias("disposition_label"),
                col("first_positive_on"),
                col("first_event_on"),
            ])
            .sort([SID], SortMultipleOptions::default())
            .collect()?;
        match out.as_mut() {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df)?;
            }
        }
    }
    out.ok_or_else(|| Error::BadArgument("at least one as-of date is needed".into()))
}
