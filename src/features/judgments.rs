//! Court judgments (司法判决): cases by type and role, amounts.

use polars::prelude::*;

use super::spec::{windowed_name, Label, Measure, TableFeatures, Window, JUDGMENTS};
use super::FeatureOptions;

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let history = opts.history_days;
    let mut t = TableFeatures::new("judgments", &JUDGMENTS);
    let roles: Vec<(&str, u32)> = ["defendant", "executed_party"]
        .iter()
        .map(|r| (*r, t.equals(r, "role", *r)))
        .collect();
    let cases: Vec<(&str, u32)> = ["enforcement", "criminal"]
        .iter()
        .map(|c| (*c, t.equals(c, "case_type", *c)))
        .collect();
    let liable = t.predicate("not_plaintiff", col("role").neq(lit("plaintiff")));
    let amount = t.value("amount_cny", col("amount_cny"));
    t.windowed(&opts.windows, "jud_n", "judgments", "司法案件数", "court cases", 0, false);
    for (r, bit) in &roles {
        let (zh, en) = match *r {
            "defendant" => ("作为被告案件数", "cases as defendant"),
            _ => ("作为被执行人案件数", "cases as executed party"),
        };
        let f = t.count(&format!("jud_{r}"), history, &format!("judgments with the subject as {r}"), zh, en, *bit);
        if *r == "executed_party" {
            f.increasing();
        }
    }
    for (c, bit) in &cases {
        let (zh, en) = match *c {
            "enforcement" => ("执行案件数", "enforcement cases"),
            _ => ("刑事案件数", "criminal cases"),
        };
        t.count(&format!("jud_{c}"), history, &format!("{c} cases"), zh, en, *bit);
    }
    t.add(
        windowed_name("jud_amount_log", history),
        format!("ln(1 + total amount in CNY) of cases as defendant or executed party in the {history} days before T"),
        Label::windowed(history, "涉案金额(对数)", "ln(1 + amount in CNY) of cases as defendant or executed party"),
        Measure::Log1pSum { value: amount, window: Window::Within(history), bits: liable },
    );
    t.days_since("jud_days_since_last", "judgment", "司法案件", "court case", 0);
    t
}
