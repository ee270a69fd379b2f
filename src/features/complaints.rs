//! Complaints and reports (投诉举报): counts by channel, substantiated share, trend.

use polars::prelude::*;

use super::{Absent, Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("complaints");
    f.windowed(ctx, opts, "cmp_n", "complaints", lit(true));
    for ch in crate::contract::CHANNELS.iter().take(2) {
        f.count(
            format!("cmp_{ch}_365d"),
            format!("complaints through {ch} in the 365 days before T"),
            ctx.count(ctx.within(365).and(col("channel").eq(lit(ch.to_string())))),
        );
    }
    let substantiated = ctx.count(ctx.within(1095).and(col("substantiated").eq(lit(true))));
    let decided = ctx.count(ctx.within(1095).and(col("substantiated").is_not_null()));
    f.count(
        "cmp_substantiated_1095d",
        "substantiated complaints in the 1095 days before T",
        substantiated.clone(),
    );
    f.add(
        "cmp_substantiated_share_1095d",
        "substantiated / decided complaints in the 1095 days before T; null when none was decided",
        when(decided.clone().gt(lit(0.0))).then(substantiated / decided).otherwise(lit(NULL).cast(DataType::Float64)),
        Absent::Null,
    );
    f.trend(ctx, "cmp", "complaints", lit(true));
    f.days_since(ctx, "cmp_days_since_last", "complaint", ctx.known());
    f.out
}
