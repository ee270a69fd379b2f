//! Annual reports (年报公示): late or missing filings among the last three due years.
//! The report for `year` is due on 30 June of `year + 1`; a filing counts only if made before T.

use super::spec::{Label, Measure, TableFeatures, ANNUAL_REPORTS};
use super::FeatureOptions;
use crate::dates;

/// The latest report year whose due date lies strictly before T.
pub fn last_due_year(t: i32) -> i32 {
    let y = dates::year_of(t);
    if dates::days_from_civil(y, 6, 30) < t { y - 1 } else { y - 2 }
}

pub fn declare(_opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("annual_reports", &ANNUAL_REPORTS);
    t.add("ar_due_3y", "report years due among the last three due years", Label::new("近三年应报年报数", "annual reports due in the last 3 years"), Measure::ReportsDue);
    t.add(
        "ar_missing_3y",
        "due reports of the last three due years not filed before T",
        Label::new("近三年未报年报数", "annual reports missing in the last 3 years"),
        Measure::ReportsMissing,
    )
    .increasing();
    t.add(
        "ar_late_3y",
        "due reports of the last three due years filed after 30 June of year+1",
        Label::new("近三年逾期年报数", "annual reports filed late in the last 3 years"),
        Measure::ReportsLate,
    )
    .increasing();
    t
}
