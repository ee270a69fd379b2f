//! `riskwarn evaluate`: lead time and the plan's follow-through (completion, Hájek estimates
//! adjusted for non-response) by hand, and a past run evaluated against the sample's later
//! outcomes through the CLI.

use polars::prelude::*;
use riskwarn::evaluate::{follow_through, lead_time, plan_follow_through, Grouping, RateEstimate, SelectedUnit};

use crate::support::*;

fn unit(department: &str, grade: &str, stratum: &str, pi: f64, inspected: bool, random_violation: Option<bool>) -> SelectedUnit {
    SelectedUnit {
        department: department.into(),
        grade: grade.into(),
        stratum: stratum.into(),
        inclusion_probability: pi,
        inspected,
        random_violation,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn a_fully_followed_through_cell_is_the_classical_hajek_estimate() {
    let units = [unit("局", "C", "s", 0.5, true, Some(true)), unit("局", "C", "s", 0.25, true, Some(false)), unit("局", "C", "s", 1.0, true, Some(true))];
    let d = &follow_through(&units)[0];
    let e = &d.by_grade[0];
    // r = 1. N̂ = 2 + 4 + 1 = 7, Ŷ = 2 + 1 = 3; var = [0.5/0.25·(4/7)² + 0.75/0.0625·(3/7)²] / 7² = (20/7) / 49.
    assert_eq!((e.group.as_str(), e.selected, e.inspected, e.responded, e.violations), ("局 · grade C", 3, 3, 3, 2));
    assert_eq!((e.completion_rate, e.response_rate), (Some(1.0), Some(1.0)));
    assert!(close(e.estimated_population, 7.0));
    assert!(close(e.rate.unwrap(), 3.0 / 7.0));
    assert!(close(e.standard_error.unwrap(), (20.0f64 / 7.0).sqrt() / 7.0));
    // One stratum holding the whole grade gives the same estimate.
    assert_eq!((d.by_stratum[0].rate, d.by_stratum[0].standard_error), (e.rate, e.standard_error));
}

#[test]
fn selected_units_nobody_inspected_are_non_response_within_department_and_grade() {
    let units = [
        // Grade C: both selected (π = 0.5) answered, no violation: r = 1.
        unit("甲局", "C", "S", 0.5, true, Some(false)),
        unit("甲局", "C", "S", 0.5, true, Some(false)),
        // Grade D: all four selected with certainty; two random outcomes, one visited by a
        // targeted check only (inspected, not a response), one never visited: r = 1/2.
        unit("甲局", "D", "S", 1.0, true, Some(true)),
        unit("甲局", "D", "S", 1.0, true, Some(false)),
        unit("甲局", "D", "S", 1.0, true, None),
        unit("甲局", "D", "S", 1.0, false, None),
        // Grade B: nobody went.
        unit("甲局", "B", "T", 0.2, false, None),
        unit("甲局", "B", "T", 0.2, false, None),
        unit("甲局", "B", "T", 0.2, false, None),
        unit("乙局", "D", "S", 1.0, true, Some(true)),
    ];
    let all = follow_through(&units);
    let names: Vec<&str> = all.iter().map(|d| d.completion.department.as_str()).collect();
    assert_eq!(names, ["乙局", "甲局"]);
    let d = &all[1];
    let c = &d.completion;
    assert_eq!((c.selected, c.inspected, c.responded), (9, 5, 4));
    assert!(close(c.completion_rate, 5.0 / 9.0) && close(c.response_rate, 4.0 / 9.0));
    let find = |list: &[RateEstimate], class: &str| list.iter().find(|e| e.class == class).cloned().unwrap();

    // Grade D: weights 1/(1·½) = 2, N̂ = 4, rate ½. Each respondent adds (1−½)/½²·(y−½)² = ½:
    // var = 1/4², SE = 0.25 — where π = 1 alone would claim 0.
    let g = find(&d.by_grade, "D");
    assert_eq!((g.grouping, g.selected, g.inspected, g.responded, g.violations), (Grouping::Grade, 4, 3, 2, 1));
    assert_eq!((g.completion_rate, g.response_rate), (Some(0.75), Some(0.5)));
    assert!(close(g.estimated_population, 4.0) && close(g.rate.unwrap(), 0.5));
    assert!(close(g.standard_error.unwrap(), 0.25));

    // Grade B: no respondent, no rate; completion 0.
    let g = find(&d.by_grade, "B");
    assert_eq!((g.rate, g.standard_error, g.completion_rate, g.response_rate, g.estimated_population), (None, None, Some(0.0), Some(0.0), 0.0));

    // Stratum S crosses C and D: weights 2 (C: 1/(½·1)) and 2 (D: 1/(1·½)), N̂ = 8, Ŷ = 2,
    // rate ¼ (π alone would weight D's respondents 1: 1/6). Every π·r = ½, factor 2:
    // var = 2·[3·(¼)² + (¾)²] / 8² = 1.5 / 64.
    let s = find(&d.by_stratum, "S");
    assert_eq!((s.group.as_str(), s.grouping, s.selected, s.inspected, s.responded), ("甲局 · stratum S", Grouping::Stratum, 6, 5, 4));
    assert!(close(s.estimated_population, 8.0) && close(s.rate.unwrap(), 0.25));
    assert!(close(s.standard_error.unwrap(), 1.5f64.sqrt() / 8.0));
    assert_eq!(find(&d.by_stratum, "T").rate, None);

    // The other department's D is its own weighting class: π·r = 1, exact.
    let g = find(&all[0].by_grade, "D");
    assert_eq!((g.rate, g.standard_error, all[0].completion.completion_rate), (Some(1.0), Some(0.0), 1.0));
}

#[test]
fn plan_follow_through_reads_the_window_and_the_modes_from_the_tables() {
    let owned: Vec<String> = (1..=6).map(code).collect();
    let u: Vec<&str> = owned.iter().map(String::as_str).collect();
    let plan = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), &u),
        Column::new("department".into(), ["局"; 6]),
        Column::new("stratum".into(), ["S"; 6]),
        Column::new("inclusion_probability".into(), [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]),
        // The sixth row was not drawn: not part of the follow-through.
        Column::new("selected".into(), [true, true, true, true, true, false]),
    ])
    .unwrap();
    let grades = DataFrame::new_infer_height(vec![Column::new("uscc".into(), &u), Column::new("credit_grade".into(), ["D"; 6])]).unwrap();
    let inspections = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), &u),
        // Window [2026-01-01, 2026-02-01): the first day counts, the last one does not.
        dates("inspected_on", &[Some("2026-01-01"), Some("2026-01-31"), Some("2026-01-15"), Some("2026-02-01"), Some("2025-12-31"), Some("2026-01-10")]),
        Column::new("department".into(), ["局", "另一局", "局", "局", "局", "局"]),
        Column::new("mode".into(), ["random", "random", "complaint", "random", "random", "random"]),
        Column::new("outcome".into(), ["violation", "pass", "violation", "violation", "pass", "violation"]),
    ])
    .unwrap();
    let (from, to) = (date("2026-01-01"), date("2026-02-01"));
    let all = plan_follow_through(&plan, &grades, Some(&inspections), from, to).unwrap();
    let (c, g) = (&all[0].completion, &all[0].by_grade[0]);
    // Subjects 1 (random, violation) and 2 (random by another department, pass) responded;
    // 3 was inspected on a complaint (completion, not response); 4 and 5 fall outside.
    assert_eq!((c.selected, c.inspected, c.responded), (5, 3, 2));
    assert_eq!((g.violations, g.response_rate, g.rate), (1, Some(0.4), Some(0.5)));

    // Without an inspections table nothing was followed through.
    let none = plan_follow_through(&plan, &grades, None, from, to).unwrap();
    assert_eq!((none[0].completion.inspected, none[0].completion.completion_rate, none[0].by_grade[0].rate), (0, 0.0, None));

    // A selected subject missing from the warning list has no weighting class.
    let err = plan_follow_through(&plan, &grades.slice(1, 5), Some(&inspections), from, to).unwrap_err();
    assert!(err.to_string().contains(u[0]), "{err}");
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
    // The plan beside the warnings is picked up: completion per department, and per
    // department × grade estimates whose cells add up to the department.
    let est = e["plan_estimates"].as_array().unwrap();
    let completion = e["plan_completion"].as_array().unwrap();
    assert!(!completion.is_empty());
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    for d in completion {
        let cells: Vec<_> = est.iter().filter(|r| r["department"] == d["department"] && r["grouping"] == "grade").collect();
        for k in ["selected", "inspected", "responded"] {
            assert_eq!(cells.iter().map(|r| n(r, k)).sum::<u64>(), n(d, k), "{k} of {}", d["department"]);
        }
        assert!(n(d, "responded") <= n(d, "inspected") && n(d, "inspected") < n(d, "selected"));
        assert!((d["completion_rate"].as_f64().unwrap() - n(d, "inspected") as f64 / n(d, "selected") as f64).abs() < 1e-12);
    }
    assert!(est.iter().any(|r| r["class"] == "D" && r["responded"].as_u64().unwrap() > 0));
    for r in est.iter().filter(|r| r["responded"].as_u64().unwrap() > 0) {
        let rate = r["rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rate) && r["standard_error"].as_f64().unwrap() >= 0.0);
        // Partly visited, with both outcomes among the respondents: never an exact rate.
        if rate > 0.0 && rate < 1.0 && n(r, "responded") < n(r, "selected") {
            assert!(r["standard_error"].as_f64().unwrap() > 0.0, "{r}");
        }
    }
    let text = riskwarn().args(["evaluate", "--quiet", "--outcomes", "data/sample", "--warnings"]).arg(&warnings).run().status(0).stdout();
    let department = completion[0]["department"].as_str().unwrap();
    // The committed policy speaks Chinese (the summary's texts are the message table's).
    assert!(text.contains(&format!("计划 {department}：抽中 {}，已检查 {}（完成率 ", n(&completion[0], "selected"), n(&completion[0], "inspected"))), "{text}");
    assert!(text.lines().any(|l| l.starts_with("  D 类：") && l.contains("（应答率 ") && l.contains(" ± ")), "{text}");
}
