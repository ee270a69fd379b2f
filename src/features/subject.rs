//! Static features from the registry, and the set of subjects scored at T.
//! `ownership` is deliberately never read here (公平公正、一视同仁).

use polars::prelude::*;

use super::spec::{Feature, Kind, Label, SUBJECT};
use super::FeatureOptions;

pub const PEER_SECTION: &str = "industry_section";
pub const PEER_REGION: &str = "__peer_region";
/// Whether the subject's status is `active` (not `suspended`); read by `merged`, never a feature.
pub const ACTIVE: &str = "__active";

/// The static features, each with the expression that computes it from the registry as of `t`.
fn declared(t: i32, opts: &FeatureOptions) -> Vec<(Feature, Expr)> {
    let f = |name: &str, doc: String, zh: &str, en: &str| Feature::new(name, &SUBJECT, doc, Label::new(zh, en));
    let age = lit(t as f64) - col("established_on").cast(DataType::Int32).cast(DataType::Float64);
    let days = opts.observation_period_days;
    vec![
        (f("sub_age_days", "days from establishment to T".into(), "成立天数", "days since establishment"), age.clone()),
        (
            f("sub_log_capital", "ln(1 + registered capital in 10k CNY); null when not registered".into(), "注册资本(对数)", "ln(1 + registered capital)"),
            (col("registered_capital") + lit(1.0)).log(lit(std::f64::consts::E)),
        ),
        (
            Feature {
                kind: Kind::Categorical,
                ..f("subject_type", "`enterprise` · `individual` · `cooperative` · `branch` · `other` (categorical)".into(), "主体类型", "subject type")
            },
            col("subject_type"),
        ),
        (
            Feature { kind: Kind::Categorical, ..f(PEER_SECTION, "GB/T 4754 section letter of the industry (categorical)".into(), "行业门类", "industry section") },
            col("industry").str().slice(lit(0), lit(1)),
        ),
        (
            Feature {
                kind: Kind::Flag,
                ..f(
                    "observation_period",
                    format!("1 if younger than the observation period ({days} days) at T (包容审慎), else 0"),
                    "处于观察期",
                    "in the observation period",
                )
            },
            age.lt(lit(days as f64)).cast(DataType::Float64),
        ),
    ]
}

pub fn catalogue(opts: &FeatureOptions) -> Vec<Feature> {
    declared(0, opts).into_iter().map(|(f, _)| f).collect()
}

/// Subjects scored at T (status active/suspended, established before T) with static features.
pub fn base(subjects: &DataFrame, t: i32, opts: &FeatureOptions) -> LazyFrame {
    let t_date = lit(t).cast(DataType::Date);
    let scored = Series::new("".into(), crate::contract::SCORED_STATUSES);
    let columns = [col("uscc"), col(crate::validate::SID), t_date.clone().alias("as_of")]
        .into_iter()
        .chain(declared(t, opts).into_iter().map(|(f, e)| e.alias(f.name)))
        .chain([
            col("region").str().slice(lit(0), lit(opts.peer_region_digits as u64)).alias(PEER_REGION),
            col("status").eq(lit("active")).alias(ACTIVE),
        ])
        .collect::<Vec<_>>();
    subjects
        .clone()
        .lazy()
        .filter(col("status").is_in(lit(scored).implode(false), false).and(col("established_on").lt(t_date)))
        .select(columns)
}
