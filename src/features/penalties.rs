//! Administrative penalties (行政处罚): counts by severity, fines, licence revocations.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("penalties", "penalties");
    let severities: Vec<(&str, u32)> = crate::contract::SEVERITIES
        .iter()
        .map(|s| (*s, t.predicate(s, col("severity").eq(lit(*s)))))
        .collect();
    let revoked = t.predicate("license_revoked", col("license_revoked"));
    let fine = t.value("fine_cny", col("fine_cny"));
    t.windowed(&opts.windows, "pen_n", "penalties", 0);
    for (s, bit) in &severities {
        t.count_1095(format!("pen_{s}_1095d"), &format!("`{s}` penalties"), *bit);
    }
    t.add(
        "pen_fine_log_1095d",
        "ln(1 + total fines in CNY) in the 1095 days before T",
        Measure::Log1pSum { value: fine, window: Window::Within(1095), bits: 0 },
    );
    t.add(
        "pen_license_revoked_365d",
        "penalties that revoked a licence in the 365 days before T",
        Measure::Count { window: Window::Within(365), bits: revoked },
    );
    t.count_1095("pen_license_revoked_1095d", "penalties that revoked a licence", revoked);
    t.trend("pen", "penalties", 0);
    t.days_since("pen_days_since_last", "penalty", 0);
    t
}
