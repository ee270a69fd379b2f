//! Court judgments (司法判决): cases by type and role, amounts.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("judgments", "judgments");
    let roles: Vec<(&str, u32)> = ["defendant", "executed_party"]
        .iter()
        .map(|r| (*r, t.predicate(r, col("role").eq(lit(*r)))))
        .collect();
    let cases: Vec<(&str, u32)> = ["enforcement", "criminal"]
        .iter()
        .map(|c| (*c, t.predicate(c, col("case_type").eq(lit(*c)))))
        .collect();
    let liable = t.predicate("not_plaintiff", col("role").neq(lit("plaintiff")));
    let amount = t.value("amount_cny", col("amount_cny"));
    t.windowed(&opts.windows, "jud_n", "judgments", 0);
    for (r, bit) in &roles {
        t.count_1095(format!("jud_{r}_1095d"), &format!("judgments with the subject as {r}"), *bit);
    }
    for (c, bit) in &cases {
        t.count_1095(format!("jud_{c}_1095d"), &format!("{c} cases"), *bit);
    }
    t.add(
        "jud_amount_log_1095d",
        "ln(1 + total amount in CNY) of cases as defendant or executed party in the 1095 days before T",
        Measure::Log1pSum { value: amount, window: Window::Within(1095), bits: liable },
    );
    t.days_since("jud_days_since_last", "judgment", 0);
    t
}
