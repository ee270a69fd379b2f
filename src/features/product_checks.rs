//! Product sampling tests (抽查抽检): samples, failures, failure share.

use polars::prelude::*;

use super::spec::{windowed_name, Label, Measure, TableFeatures, Window, PRODUCT_CHECKS};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let history = opts.history_days;
    let mut t = TableFeatures::new("product_checks", &PRODUCT_CHECKS);
    let failed = t.predicate("failed", col("passed").not());
    t.windowed(&opts.windows, "pc_n", "product samples", "产品抽检次数", "product samples", 0, false);
    t.windowed(&opts.windows, "pc_failed", "failed product samples", "抽检不合格次数", "failed product samples", failed, true);
    t.add(
        windowed_name("pc_fail_share", history),
        format!("failed / all product samples in the {history} days before T; null when none was sampled"),
        Label::windowed(history, "抽检不合格比例", "share of product samples failed"),
        Measure::Share { num: failed, den: 0, window: Window::Within(history) },
    );
    t.days_since("pc_days_since_failed", "failed sample", "抽检不合格", "failed product sample", failed);
    t
}
