//! Administrative penalties (行政处罚): counts by severity, fines, licence revocations.

use polars::prelude::*;

use super::spec::{windowed_name, Label, Measure, TableFeatures, Window, PENALTIES};
use super::FeatureOptions;

fn severity_label(severity: &str) -> (&'static str, &'static str) {
    match severity {
        "minor" => ("轻微处罚次数", "minor penalties"),
        "general" => ("一般处罚次数", "general penalties"),
        _ => ("严重处罚次数", "serious penalties"),
    }
}

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let (recent, history) = (opts.recent_days, opts.history_days);
    let mut t = TableFeatures::new("penalties", &PENALTIES);
    let severities: Vec<(&str, u32)> = crate::contract::SEVERITIES
        .iter()
        .map(|s| (*s, t.equals(s, "severity", *s)))
        .collect();
    let revoked = t.predicate("license_revoked", col("license_revoked"));
    let fine = t.value("fine_cny", col("fine_cny"));
    t.windowed(&opts.windows, "pen_n", "penalties", "行政处罚次数", "penalties", 0, true);
    for (s, bit) in &severities {
        let (zh, en) = severity_label(s);
        let f = t.count(&format!("pen_{s}"), history, &format!("`{s}` penalties"), zh, en, *bit);
        // A label-making severity never lowers risk; a minor penalty may mean a corrected lapse.
        if *s != "minor" {
            f.increasing();
        }
    }
    t.add(
        windowed_name("pen_fine_log", history),
        format!("ln(1 + total fines in CNY) in the {history} days before T"),
        Label::windowed(history, "罚没金额(对数)", "ln(1 + fines in CNY)"),
        Measure::Log1pSum { value: fine, window: Window::Within(history), bits: 0 },
    );
    for days in [recent, history] {
        t.count("pen_license_revoked", days, "penalties that revoked a licence", "吊销许可次数", "licences revoked by penalty", revoked);
    }
    t.trend("pen", recent, "penalties", "行政处罚次数", "penalties", 0);
    t.days_since("pen_days_since_last", "penalty", "处罚", "penalty", 0);
    t
}
