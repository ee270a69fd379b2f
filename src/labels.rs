//! Training labels (SPEC §1): for as-of T and horizon H, subjects with at least one inspection
//! or penalty in [T, T+H) are labelled; positive = an inspection with outcome `violation` or a
//! penalty of severity `general`/`serious` in that window. Outcomes of `random` inspections are
//! an unbiased sample, so each row also carries the random-inspection label on its own.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::validate::{Validated, SID};

/// The label horizon H in days unless the user says otherwise (SPEC §1).
pub const DEFAULT_HORIZON_DAYS: i32 = 180;
/// The longest horizon accepted: ten years (a label window is the time until an outcome counts).
pub const MAX_HORIZON_DAYS: i32 = 10 * crate::dates::DAYS_PER_YEAR;

/// One row per labelled (subject, T): `sid`, `uscc`, `as_of`, `label`, `from_random` (a random
/// inspection in the window), `random_label` (a random inspection found a violation; null when
/// there was none), `first_positive_on` (date of the first positive outcome in the window),
/// `first_event_on` (date of the first inspection or penalty in the window: the actual schedule).
pub fn labels(data: &Validated, as_of: &[i32], horizon_days: i32) -> Result<DataFrame> {
    if horizon_days <= 0 {
        return Err(Error::BadArgument(format!("horizon must be positive, got {horizon_days} days")));
    }
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let codes = subjects.clone().lazy().select([col(SID), col("uscc")]);
    let mut out: Option<DataFrame> = None;
    for &t in as_of {
        let (start, end) = (lit(t).cast(DataType::Date), lit(t + horizon_days).cast(DataType::Date));
        let mut parts: Vec<LazyFrame> = Vec::new();
        if let Some(insp) = data.table("inspections") {
            let in_window = col("inspected_on").gt_eq(start.clone()).and(col("inspected_on").lt(end.clone()));
            let violation = col("outcome").eq(lit("violation"));
            let random = col("mode").eq(lit("random"));
            parts.push(insp.clone().lazy().filter(in_window).select([
                col(SID),
                violation.clone().alias("positive"),
                random.clone().alias("random"),
                random.and(violation.clone()).alias("random_positive"),
                when(violation).then(col("inspected_on")).otherwise(lit(NULL).cast(DataType::Date)).alias("positive_on"),
                col("inspected_on").alias("event_on"),
            ]));
        }
        if let Some(pen) = data.table("penalties") {
            let in_window = col("decided_on").gt_eq(start.clone()).and(col("decided_on").lt(end.clone()));
            let grave = col("severity").is_in(lit(Series::new("".into(), ["general", "serious"])).implode(false), false);
            parts.push(pen.clone().lazy().filter(in_window).select([
                col(SID),
                grave.clone().alias("positive"),
                lit(false).alias("random"),
                lit(false).alias("random_positive"),
                when(grave).then(col("decided_on")).otherwise(lit(NULL).cast(DataType::Date)).alias("positive_on"),
                col("decided_on").alias("event_on"),
            ]));
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
                col("positive_on").min().alias("first_positive_on"),
                col("event_on").min().alias("first_event_on"),
            ])
            .join(codes.clone(), [col(SID)], [col(SID)], JoinArgs::new(JoinType::Inner))
            .select([
                col(SID),
                col("uscc"),
                lit(t).cast(DataType::Date).alias("as_of"),
                col("label"),
                col("from_random"),
                when(col("from_random")).then(col("random_positive")).otherwise(lit(NULL).cast(DataType::Boolean)).alias("random_label"),
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
