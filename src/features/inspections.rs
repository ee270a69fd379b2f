//! Inspections (行政检查): counts, outcomes, modes. Violation rates are shrunk in `peer`.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("inspections", "inspections");
    let violation = t.predicate("violation", col("outcome").eq(lit("violation")));
    let pass = t.predicate("pass", col("outcome").eq(lit("pass")));
    let issues = t.predicate("issues", col("outcome").eq(lit("issues")));
    let modes: Vec<(&str, u32)> = crate::contract::INSPECTION_MODES
        .iter()
        .map(|m| (*m, t.predicate(m, col("mode").eq(lit(*m)))))
        .collect();
    let issues_found = t.value("issues_found", col("issues_found").cast(DataType::Float64));
    t.windowed(&opts.windows, "insp_n", "inspections", 0);
    t.windowed(&opts.windows, "insp_violation", "inspections with outcome `violation`", violation);
    t.windowed(&opts.windows, "insp_issues", "inspections with outcome `issues` (责令改正)", issues);
    for (m, bit) in &modes {
        t.count_1095(format!("insp_{m}_1095d"), &format!("`{m}` inspections"), *bit);
    }
    let random = modes[0].1;
    t.count_1095("insp_random_violation_1095d", "violations found by `random` inspections (an unbiased sample)", random | violation);
    t.add(
        "insp_issues_found_1095d",
        "issues found (sum of `issues_found`) in the 1095 days before T",
        Measure::Sum { value: issues_found, window: Window::Within(1095), bits: 0 },
    );
    t.trend("insp_violation", "violations", violation);
    t.days_since("insp_days_since_last", "inspection", 0);
    t.days_since("insp_days_since_violation", "violation", violation);
    t.days_since("insp_days_since_random_pass", "`random` inspection passed without findings", random | pass);
    t
}
