//! `riskwarn evaluate`: lead time and Horvitz–Thompson (Hájek) estimates by hand, and a past
//! run evaluated against the sample's later outcomes through the CLI.

use riskwarn::evaluate::{hajek, lead_time};

use crate::support::*;

#[test]
fn hajek_estimate_and_standard_error_by_hand() {
    let e = hajek("g", 4, &[true, false, true], &[0.5, 0.25, 1.0]);
    // N̂ = 2 + 4 + 1 = 7, Ŷ = 2 + 1 = 3; var = [0.5/0.25·(4/7)² + 0.75/0.0625·(3/7)²] / 7² = (20/7) / 49.
    assert_eq!((e.selected, e.inspected, e.violations), (4, 3, 2));
    assert!((e.estimated_population - 7.0).abs() < 1e-12);
    assert!((e.rate.unwrap() - 3.0 / 7.0).abs() < 1e-12);
    assert!((e.standard_error.unwrap() - (20.0f64 / 7.0).sqrt() / 7.0).abs() < 1e-12);
    assert_eq!(hajek("empty", 2, &[], &[]).rate, None);
}

#[test]
fn lead_time_by_hand() {
    // Actual schedule: first inspections on days 10, 5, 20. Ranked, the slots 5, 10, 20 go to
    // subjects 1, 2, 0. Subject 1's violation (actual day 5) is found on day 5: 0 days earlier;
    // subject 2's (actual day 25) on day 10: 15 days earlier.
    let l = lead_time(&[0.1, 0.9, 0.5], &["a", "b", "c"], &[10, 5, 20], &[None, Some(5), Some(25)], 0);
    assert_eq!(l.positives, 2);
    assert!((l.mean_days_earlier.unwrap() - 7.5).abs() < 1e-12);
    let l = lead_time(&[0.1, 0.9, 0.5], &["a", "b", "c"], &[10, 5, 40], &[None, Some(5), Some(45)], 0);
    assert_eq!(l.found_in_30_days_actual, Some(0.5));
    assert_eq!(l.found_in_30_days_ranked, Some(1.0));
}

#[test]
fn a_past_run_is_evaluated_against_what_happened_next() {
    let out = tempdir();
    riskwarn().args(["run", "--quiet", "--as-of", "2026-01-02", "--out"]).arg(out.path()).run().status(0);
    let warnings = out.path().join("latest/warnings.parquet");
    let e = riskwarn().args(["evaluate", "--json", "--quiet", "--outcomes", "data/sample", "--warnings"]).arg(&warnings).run().status(0).json();
    assert_eq!(e["as_of"], "2026-01-02");
    let pops = e["populations"].as_array().unwrap();
    assert_eq!(pops[0]["population"], "all labelled");
    assert_eq!(pops[1]["population"], "random inspections");
    let auc = |p: usize, name: &str| {
        pops[p]["rankings"].as_array().unwrap().iter().find(|r| r["ranking"].as_str().unwrap().starts_with(name)).unwrap()["auc"].as_f64().unwrap()
    };
    assert!(auc(0, "model") > 0.65 && auc(0, "model") > auc(0, "past violations") && auc(0, "oracle") > auc(0, "random order"));
    assert!(e["lead_time_model"]["mean_days_earlier"].as_f64().unwrap() > e["lead_time_past_violations"]["mean_days_earlier"].as_f64().unwrap() - 5.0);
    // The plan beside the warnings is picked up: per department × grade estimates with errors.
    let est = e["plan_estimates"].as_array().unwrap();
    assert!(est.iter().any(|r| r["group"].as_str().unwrap().contains("grade D") && r["inspected"].as_u64().unwrap() > 0));
    for r in est.iter().filter(|r| r["inspected"].as_u64().unwrap() > 0) {
        let rate = r["rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rate) && r["standard_error"].as_f64().unwrap() >= 0.0);
    }
}
