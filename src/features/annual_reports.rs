//! Annual reports (年报公示): late or missing filings among the last three due years.
//! The report for `year` is due on 30 June of `year + 1`; a filing counts only if made before T.

use polars::prelude::*;

use super::{Ctx, Family, Feature, FeatureOptions};
use crate::dates;

/// The latest report year whose due date lies strictly before T.
pub fn last_due_year(t: i32) -> i32 {
    let y = dates::year_of(t);
    if dates::days_from_civil(y, 6, 30) < t { y - 1 } else { y - 2 }
}

pub fn features(ctx: &Ctx, _opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("annual_reports");
    let last = last_due_year(ctx.t);
    let t = lit(ctx.t).cast(DataType::Date);
    let in_scope = || col("year").gt_eq(lit(last - 2)).and(col("year").lt_eq(lit(last)));
    let filed = || col("filed_on").is_not_null().and(col("filed_on").lt(t.clone()));
    let filed_year = || col("filed_on").dt().year();
    let after_due = || {
        filed_year()
            .gt(col("year") + lit(1))
            .or(filed_year().eq(col("year") + lit(1)).and(col("filed_on").dt().month().gt(lit(6))))
    };
    f.count("ar_due_3y", "report years due among the last three due years", ctx.count(in_scope()));
    f.count("ar_missing_3y", "due reports of the last three due years not filed before T", ctx.count(in_scope().and(filed().not())));
    f.count("ar_late_3y", "due reports of the last three due years filed after 30 June of year+1", ctx.count(in_scope().and(filed()).and(after_due())));
    f.out
}
