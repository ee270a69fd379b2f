//! Credit lists (经营异常名录、严重违法失信名单、失信被执行人): current membership follows
//! `listed_on < T` and (`removed_on` null or ≥ T); a removed entry no longer counts (信用修复).

use polars::prelude::*;

use super::{Absent, Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, _opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("credit_lists");
    let t = || lit(ctx.t).cast(DataType::Date);
    let current = || ctx.known().and(col("removed_on").is_null().or(col("removed_on").gt_eq(t())));
    for (list, short) in [("abnormal_operations", "abnormal"), ("serious_violation", "serious"), ("dishonest_debtor", "debtor")] {
        let on = || current().and(col("list").eq(lit(list)));
        f.count(format!("list_{short}_now"), format!("1 if on the `{list}` list at T, else 0"), ctx.count(on()).gt(lit(0.0)).cast(DataType::Float64));
        f.add(
            format!("list_{short}_days"),
            format!("days since the earliest current `{list}` entry was listed; null when not listed"),
            lit(ctx.t as f64) - col("listed_on").filter(on()).min().cast(DataType::Int32).cast(DataType::Float64),
            Absent::Null,
        );
    }
    f.count(
        "list_removed_n",
        "past list entries removed before T (信用修复)",
        ctx.count(ctx.known().and(col("removed_on").lt(t()))),
    );
    f.count("list_n_1095d", "list entries made in the 1095 days before T", ctx.count(ctx.within(1095)));
    f.out
}
