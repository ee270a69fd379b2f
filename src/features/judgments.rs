//! Court judgments (司法判决): cases by type and role, amounts.

use polars::prelude::*;

use super::{Ctx, Family, Feature, FeatureOptions};

pub fn features(ctx: &Ctx, opts: &FeatureOptions) -> Vec<Feature> {
    let mut f = Family::new("judgments");
    f.windowed(ctx, opts, "jud_n", "judgments", lit(true));
    for role in ["defendant", "executed_party"] {
        f.count(
            format!("jud_{role}_1095d"),
            format!("judgments with the subject as {role} in the 1095 days before T"),
            ctx.count(ctx.within(1095).and(col("role").eq(lit(role)))),
        );
    }
    for case in ["enforcement", "criminal"] {
        f.count(
            format!("jud_{case}_1095d"),
            format!("{case} cases in the 1095 days before T"),
            ctx.count(ctx.within(1095).and(col("case_type").eq(lit(case)))),
        );
    }
    f.count(
        "jud_amount_log_1095d",
        "ln(1 + total amount in CNY) of cases as defendant or executed party in the 1095 days before T",
        (ctx.sum(col("amount_cny").fill_null(lit(0.0)), ctx.within(1095).and(col("role").neq(lit("plaintiff")))) + lit(1.0))
            .log(lit(std::f64::consts::E)),
    );
    f.days_since(ctx, "jud_days_since_last", "judgment", ctx.known());
    f.out
}
