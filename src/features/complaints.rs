//! Complaints and reports (投诉举报): counts by channel, substantiated share, trend.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("complaints", "complaints");
    let channels: Vec<(&str, u32)> = crate::contract::CHANNELS
        .iter()
        .take(2)
        .map(|c| (*c, t.predicate(c, col("channel").eq(lit(*c)))))
        .collect();
    let substantiated = t.predicate("substantiated", col("substantiated").fill_null(lit(false)));
    let decided = t.predicate("decided", col("substantiated").is_not_null());
    t.windowed(&opts.windows, "cmp_n", "complaints", 0);
    for (c, bit) in &channels {
        t.add(
            format!("cmp_{c}_365d"),
            format!("complaints through {c} in the 365 days before T"),
            Measure::Count { window: Window::Within(365), bits: *bit },
        );
    }
    t.count_1095("cmp_substantiated_1095d", "substantiated complaints", substantiated);
    t.add(
        "cmp_substantiated_share_1095d",
        "substantiated / decided complaints in the 1095 days before T; null when none was decided",
        Measure::Share { num: substantiated, den: decided, window: Window::Within(1095) },
    );
    t.trend("cmp", "complaints", 0);
    t.days_since("cmp_days_since_last", "complaint", 0);
    t
}
