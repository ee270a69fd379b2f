//! Administrative penalties (行政处罚): counts by severity, fines, licence revocations.

use polars::prelude::*;

use super::{Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("penalties");
    f.windowed(ctx, opts, "pen_n", "penalties", lit(true));
    for s in crate::contract::SEVERITIES {
        f.count(
            format!("pen_{s}_1095d"),
            format!("`{s}` penalties in the 1095 days before T"),
            ctx.count(ctx.within(1095).and(col("severity").eq(lit(s.to_string())))),
        );
    }
    f.count(
        "pen_fine_log_1095d",
        "ln(1 + total fines in CNY) in the 1095 days before T",
        (ctx.sum(col("fine_cny"), ctx.within(1095)) + lit(1.0)).log(lit(std::f64::consts::E)),
    );
    f.count(
        "pen_license_revoked_1095d",
        "penalties that revoked a licence in the 1095 days before T",
        ctx.count(ctx.within(1095).and(col("license_revoked"))),
    );
    f.trend(ctx, "pen", "penalties", lit(true));
    f.days_since(ctx, "pen_days_since_last", "penalty", ctx.known());
    f.out
}
