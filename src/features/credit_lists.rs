//! Credit lists (经营异常名录、严重违法失信名单、失信被执行人): an entry is current at T while
//! `listed_on < T` and (`removed_on` null or ≥ T); a removed entry no longer counts (信用修复).


use super::spec::{Kind, Label, Measure, TableFeatures, CREDIT_LISTS};
use super::FeatureOptions;

/// Each list: its contract value, the feature stem, and its labels (on it now / days on it).
const LISTS: [(&str, &str, [&str; 4]); 3] = [
    ("abnormal_operations", "abnormal", ["当前列入经营异常名录", "列入经营异常名录天数", "on the abnormal operations list", "days on the abnormal operations list"]),
    ("serious_violation", "serious", ["当前列入严重违法失信名单", "列入严重违法失信名单天数", "on the serious violation list", "days on the serious violation list"]),
    ("dishonest_debtor", "debtor", ["当前为失信被执行人", "列为失信被执行人天数", "a dishonest judgment debtor", "days as a dishonest judgment debtor"]),
];

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("credit_lists", &CREDIT_LISTS);
    for (list, short, [now_zh, days_zh, now_en, days_en]) in LISTS {
        let bit = t.equals(short, "list", list);
        t.add(format!("list_{short}_now"), format!("1 if on the `{list}` list at T, else 0"), Label::new(now_zh, now_en), Measure::ListedNow { bits: bit })
            .kind(Kind::Flag)
            .increasing();
        t.add(
            format!("list_{short}_days"),
            format!("days since the earliest current `{list}` entry was listed; null when not listed"),
            Label::new(days_zh, days_en),
            Measure::ListedDays { bits: bit },
        );
    }
    t.add(
        "list_removed_n",
        "past list entries removed before T (信用修复)",
        Label::new("信用修复移出名录次数", "list entries removed (credit repair)"),
        Measure::RemovedBefore,
    );
    t.count("list_n", opts.history_days, "list entries made", "列入名录次数", "list entries", 0);
    t
}
