//! Inspections (行政检查): counts, outcomes, modes. Violation rates are shrunk in `peer`.

use polars::prelude::*;

use super::{Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("inspections");
    let violation = || col("outcome").eq(lit("violation"));
    let issues = || col("outcome").eq(lit("issues"));
    let mode = |m: &str| col("mode").eq(lit(m.to_string()));
    f.windowed(ctx, opts, "insp_n", "inspections", lit(true));
    f.windowed(ctx, opts, "insp_violation", "inspections with outcome `violation`", violation());
    f.windowed(ctx, opts, "insp_issues", "inspections with outcome `issues` (责令改正)", issues());
    for m in crate::contract::INSPECTION_MODES {
        f.count(format!("insp_{m}_1095d"), format!("`{m}` inspections in the 1095 days before T"), ctx.count(ctx.within(1095).and(mode(m))));
    }
    f.count(
        "insp_random_violation_1095d",
        "violations found by `random` inspections (an unbiased sample) in the 1095 days before T",
        ctx.count(ctx.within(1095).and(mode("random")).and(violation())),
    );
    f.count(
        "insp_issues_found_1095d",
        "issues found (sum of `issues_found`) in the 1095 days before T",
        ctx.sum(col("issues_found").fill_null(lit(0)), ctx.within(1095)),
    );
    f.trend(ctx, "insp_violation", "violations", violation());
    f.days_since(ctx, "insp_days_since_last", "inspection", ctx.known());
    f.days_since(ctx, "insp_days_since_violation", "violation", ctx.known().and(violation()));
    f.out
}
