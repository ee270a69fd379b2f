//! Product sampling tests (抽查抽检): samples, failures, failure share.

use polars::prelude::*;

use super::{Absent, Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("product_checks");
    let failed = || col("passed").not();
    f.windowed(ctx, opts, "pc_n", "product samples", lit(true));
    f.windowed(ctx, opts, "pc_failed", "failed product samples", failed());
    let n = ctx.count(ctx.within(1095));
    f.add(
        "pc_fail_share_1095d",
        "failed / all product samples in the 1095 days before T; null when none was sampled",
        when(n.clone().gt(lit(0.0))).then(ctx.count(ctx.within(1095).and(failed())) / n).otherwise(lit(NULL).cast(DataType::Float64)),
        Absent::Null,
    );
    f.days_since(ctx, "pc_days_since_failed", "failed sample", ctx.known().and(failed()));
    f.out
}
