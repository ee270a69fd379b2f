//! Product sampling tests (抽查抽检): samples, failures, failure share.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("product_checks", "product_checks");
    let failed = t.predicate("failed", col("passed").not());
    t.windowed(&opts.windows, "pc_n", "product samples", 0);
    t.windowed(&opts.windows, "pc_failed", "failed product samples", failed);
    t.add(
        "pc_fail_share_1095d",
        "failed / all product samples in the 1095 days before T; null when none was sampled",
        Measure::Share { num: failed, den: 0, window: Window::Within(1095) },
    );
    t.days_since("pc_days_since_failed", "failed sample", failed);
    t
}
