//! Complaints and reports (投诉举报): counts by channel, substantiated share, trend. Internal:
//! complaint details are never published.

use polars::prelude::*;

use super::spec::{windowed_name, Label, Measure, TableFeatures, Window, COMPLAINTS};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let (recent, history) = (opts.recent_days, opts.history_days);
    let mut t = TableFeatures::new("complaints", &COMPLAINTS);
    let channels: Vec<(&str, u32)> = crate::contract::CHANNELS
        .iter()
        .take(2)
        .map(|c| (*c, t.equals(c, "channel", *c)))
        .collect();
    let substantiated = t.predicate("substantiated", col("substantiated").fill_null(lit(false)));
    let decided = t.predicate("decided", col("substantiated").is_not_null());
    t.windowed(&opts.windows, "cmp_n", "complaints", "投诉举报次数", "complaints", 0, false);
    for (c, bit) in &channels {
        t.count(&format!("cmp_{c}"), recent, &format!("complaints through {c}"), &format!("{c}投诉次数"), &format!("complaints through {c}"), *bit);
    }
    t.count("cmp_substantiated", history, "substantiated complaints", "属实投诉次数", "substantiated complaints", substantiated);
    t.add(
        windowed_name("cmp_substantiated_share", history),
        format!("substantiated / decided complaints in the {history} days before T; null when none was decided"),
        Label::windowed(history, "投诉属实比例", "share of complaints substantiated"),
        Measure::Share { num: substantiated, den: decided, window: Window::Within(history) },
    );
    t.trend("cmp", recent, "complaints", "投诉举报次数", "complaints", 0);
    t.days_since("cmp_days_since_last", "complaint", "投诉", "complaint", 0);
    t
}
