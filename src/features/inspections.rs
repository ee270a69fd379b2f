//! Inspections (行政检查): counts, outcomes, modes. Violation rates are shrunk in `peer`.

use polars::prelude::*;

use super::spec::{Measure, TableFeatures, Window, INSPECTIONS};
use super::FeatureOptions;

fn mode_label(mode: &str) -> (&'static str, &'static str) {
    match mode {
        "random" => ("双随机抽查次数", "random inspections"),
        "targeted" => ("定向检查次数", "targeted inspections"),
        "complaint" => ("投诉引发检查次数", "complaint-driven inspections"),
        "joint" => ("联合检查次数", "joint inspections"),
        _ => ("检查次数", "inspections"),
    }
}

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let (windows, history) = (&opts.windows, opts.history_days);
    let mut t = TableFeatures::new("inspections", &INSPECTIONS);
    let violation = t.equals("violation", "outcome", "violation");
    let pass = t.equals("pass", "outcome", "pass");
    let issues = t.equals("issues", "outcome", "issues");
    let modes: Vec<(&str, u32)> = crate::contract::INSPECTION_MODES
        .iter()
        .map(|m| (*m, t.equals(m, "mode", *m)))
        .collect();
    let issues_found = t.value("issues_found", col("issues_found").cast(DataType::Float64));
    t.windowed(windows, "insp_n", "inspections", "检查次数", "inspections", 0, false);
    t.windowed(windows, "insp_violation", "inspections with outcome `violation`", "检查发现违法次数", "inspections finding a violation", violation, true);
    t.windowed(windows, "insp_issues", "inspections with outcome `issues` (责令改正)", "检查责令改正次数", "inspections ordering corrections", issues, true);
    for (m, bit) in &modes {
        let (zh, en) = mode_label(m);
        t.count(&format!("insp_{m}"), history, &format!("`{m}` inspections"), zh, en, *bit);
    }
    let random = modes[0].1;
    t.count(
        "insp_random_violation",
        history,
        "violations found by `random` inspections (an unbiased sample)",
        "双随机抽查发现违法次数",
        "violations found by random inspections",
        random | violation,
    );
    t.add(
        super::spec::windowed_name("insp_issues_found", history),
        format!("issues found (sum of `issues_found`) in the {history} days before T"),
        super::spec::Label::windowed(history, "检查发现问题数", "issues found by inspections"),
        Measure::Sum { value: issues_found, window: Window::Within(history), bits: 0 },
    )
    .increasing();
    t.trend("insp_violation", opts.recent_days, "violations", "检查违法次数", "violations found", violation).increasing();
    t.days_since("insp_days_since_last", "inspection", "检查", "inspection", 0);
    t.days_since("insp_days_since_violation", "violation", "违法", "violation", violation);
    t.days_since("insp_days_since_random_pass", "`random` inspection passed without findings", "双随机抽查合格", "random inspection passed", random | pass);
    t
}
