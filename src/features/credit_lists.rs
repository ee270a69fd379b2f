//! Credit lists (经营异常名录、严重违法失信名单、失信被执行人): an entry is current at T while
//! `listed_on < T` and (`removed_on` null or ≥ T); a removed entry no longer counts (信用修复).

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window};
use super::FeatureOptions;

pub fn declare(_opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("credit_lists", "credit_lists");
    for (list, short) in [("abnormal_operations", "abnormal"), ("serious_violation", "serious"), ("dishonest_debtor", "debtor")] {
        let bit = t.predicate(short, col("list").eq(lit(list)));
        t.add(format!("list_{short}_now"), format!("1 if on the `{list}` list at T, else 0"), Measure::ListedNow { bits: bit });
        t.add(
            format!("list_{short}_days"),
            format!("days since the earliest current `{list}` entry was listed; null when not listed"),
            Measure::ListedDays { bits: bit },
        );
    }
    t.add("list_removed_n", "past list entries removed before T (信用修复)", Measure::RemovedBefore);
    t.add("list_n_1095d", "list entries made in the 1095 days before T", Measure::Count { window: Window::Within(1095), bits: 0 });
    t
}
