//! Static features from the registry, and the set of subjects scored at T.
//! `ownership` is deliberately never read here (公平公正、一视同仁).

use polars::prelude::*;

use super::{FeatureDoc, FeatureOptions};

pub const PEER_SECTION: &str = "industry_section";
pub const PEER_REGION: &str = "__peer_region";

pub fn catalogue(opts: &FeatureOptions) -> Vec<FeatureDoc> {
    let f = |name: &str, doc: String| FeatureDoc { name: name.into(), family: "subject".into(), doc };
    vec![
        f("sub_age_days", "days from establishment to T".into()),
        f("sub_log_capital", "ln(1 + registered capital in 10k CNY); null when not registered".into()),
        f("subject_type", "`enterprise` · `individual` · `cooperative` · `branch` · `other` (categorical)".into()),
        f(PEER_SECTION, "GB/T 4754 section letter of the industry (categorical)".into()),
        f(
            "observation_period",
            format!("1 if younger than the observation period ({} days) at T (包容审慎), else 0", opts.observation_period_days),
        ),
    ]
}

/// Subjects scored at T (status active/suspended, established before T) with static features.
pub fn base(subjects: &DataFrame, t: i32, opts: &FeatureOptions) -> LazyFrame {
    let t_date = lit(t).cast(DataType::Date);
    let scored = Series::new("".into(), crate::contract::SCORED_STATUSES);
    let age = lit(t as f64) - col("established_on").cast(DataType::Int32).cast(DataType::Float64);
    subjects
        .clone()
        .lazy()
        .filter(col("status").is_in(lit(scored).implode(false), false).and(col("established_on").lt(t_date.clone())))
        .select([
            col("uscc"),
            col(crate::validate::SID),
            t_date.alias("as_of"),
            age.clone().alias("sub_age_days"),
            (col("registered_capital") + lit(1.0)).log(lit(std::f64::consts::E)).alias("sub_log_capital"),
            col("subject_type"),
            col("industry").str().slice(lit(0), lit(1)).alias(PEER_SECTION),
            age.lt(lit(opts.observation_period_days as f64)).cast(DataType::Float64).alias("observation_period"),
            col("region").str().slice(lit(0), lit(opts.peer_region_digits as u64)).alias(PEER_REGION),
        ])
}
