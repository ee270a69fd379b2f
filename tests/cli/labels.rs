//! Training labels: the window [T, T+H), positives, unlabelled subjects, random-inspection labels;
//! labels from dispositions (`train --labels inspections,dispositions`) and their per-source backtest.

use polars::prelude::*;
use riskwarn::validate::{validate, ValidateOptions};

use crate::support::*;

#[test]
fn labels_follow_the_spec_window_and_outcomes() {
    let dir = tempdir();
    let codes: Vec<String> = (1..=5).map(code).collect();
    let mut subjects = subjects_frame(&codes);
    write(&mut subjects, &dir.path().join("subjects.parquet"));
    // T = 2025-01-01, H = 180 days: window [2025-01-01, 2025-06-30).
    let rows = [
        (0, "2025-01-01", "random", "violation"), // on T: inside, positive, random
        (1, "2025-06-29", "targeted", "pass"),    // last day inside: labelled negative
        (2, "2025-06-30", "random", "violation"), // T + H: outside
        (2, "2024-12-31", "random", "violation"), // before T: outside
        (3, "2025-03-01", "random", "pass"),
    ];
    let mut insp = inspections_frame(&codes, &rows);
    write(&mut insp, &dir.path().join("inspections.parquet"));
    let mut pen = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [codes[3].as_str(), codes[4].as_str()]),
        dates("decided_on", &[Some("2025-04-01"), Some("2025-04-01")]),
        Column::new("department".into(), ["市场监督管理局"; 2]),
        Column::new("category".into(), ["价格违法"; 2]),
        Column::new("severity".into(), ["general", "minor"]),
        Column::new("fine_cny".into(), [1000.0, 100.0]),
        Column::new("license_revoked".into(), [false, false]),
    ])
    .unwrap();
    write(&mut pen, &dir.path().join("penalties.parquet"));

    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    let l = riskwarn::labels::labels(&v, &[date("2025-01-01")], 180).unwrap();
    let row = |u: &str| -> Option<(bool, bool, Option<bool>)> {
        let i = l.column("uscc").unwrap().str().unwrap().iter().position(|x| x == Some(u))?;
        Some((
            l.column("label").unwrap().bool().unwrap().get(i).unwrap(),
            l.column("from_random").unwrap().bool().unwrap().get(i).unwrap(),
            l.column("random_label").unwrap().bool().unwrap().get(i),
        ))
    };
    assert_eq!(row(&codes[0]), Some((true, true, Some(true))));
    assert_eq!(row(&codes[1]), Some((false, false, None)));
    assert_eq!(row(&codes[2]), None, "nothing in the window: unlabelled");
    assert_eq!(row(&codes[3]), Some((true, true, Some(false))), "general penalty; the random check passed");
    assert_eq!(row(&codes[4]), Some((false, false, None)), "a minor penalty labels, negatively");
    assert_eq!(l.height(), 4);
}

/// A `dispositions` table: (subject index, handled_on, result), all `verify` by one department.
/// Inspections by (subject index, date, mode, outcome), all by one department.
fn inspections_frame(codes: &[String], rows: &[(usize, &str, &str, &str)]) -> DataFrame {
    DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| codes[r.0].as_str()).collect::<Vec<_>>()),
        dates("inspected_on", &rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
        Column::new("department".into(), vec!["市场监督管理局"; rows.len()]),
        Column::new("mode".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("outcome".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        Column::new("issues_found".into(), vec![None::<i32>; rows.len()]),
    ])
    .unwrap()
}

fn dispositions_frame(codes: &[String], rows: &[(usize, &str, &str)]) -> DataFrame {
    let n = rows.len();
    DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| codes[r.0].as_str()).collect::<Vec<_>>()),
        Column::new("case_id".into(), vec![None::<&str>; n]),
        Column::new("department".into(), vec!["市场监督管理局"; n]),
        dates("handled_on", &rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
        Column::new("action".into(), vec!["verify"; n]),
        Column::new("result".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("handler_id".into(), vec![None::<&str>; n]),
        Column::new("note".into(), vec![None::<&str>; n]),
    ])
    .unwrap()
}

/// A label row as (label, label_source, from_random, random_label, inspection_label, disposition_label).
type LabelRow = (bool, String, bool, Option<bool>, Option<bool>, Option<bool>);

fn label_row(l: &DataFrame, u: &str) -> Option<LabelRow> {
    let i = l.column("uscc").unwrap().str().unwrap().iter().position(|x| x == Some(u))?;
    let b = |c: &str| l.column(c).unwrap().bool().unwrap().get(i);
    Some((
        b("label").unwrap(),
        l.column("label_source").unwrap().str().unwrap().get(i).unwrap().to_string(),
        b("from_random").unwrap(),
        b("random_label"),
        b("inspection_label"),
        b("disposition_label"),
    ))
}

#[test]
fn disposition_labels_follow_the_window_and_results_and_combine_with_inspections() {
    use riskwarn::labels::{labels_from, LabelSource};
    let dir = tempdir();
    let codes: Vec<String> = (1..=8).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    // T = 2025-01-01, H = 180 days: window [2025-01-01, 2025-06-30).
    let inspections = [
        (4, "2025-02-01", "random", "pass"),
        (5, "2025-03-01", "targeted", "violation"),
        (6, "2025-03-01", "targeted", "pass"),
    ];
    let mut insp = inspections_frame(&codes, &inspections);
    write(&mut insp, &dir.path().join("inspections.parquet"));
    let mut disp = dispositions_frame(
        &codes,
        &[
            (0, "2025-01-01", "confirmed"),     // on T: inside, positive
            (1, "2025-06-29", "not_confirmed"), // last day inside: negative
            (2, "2025-06-30", "confirmed"),     // T + H: outside
            (2, "2024-12-31", "confirmed"),     // before T: outside
            (3, "2025-02-01", "unreachable"),   // nothing was found either way: no label
            (3, "2025-03-01", "pending"),
            (4, "2025-04-01", "confirmed"),     // both: the random check passed, the follow-up confirmed
            (5, "2025-04-01", "not_confirmed"), // both: a violation found, the follow-up not confirmed
            (7, "2025-05-01", "not_confirmed"), // two follow-ups, one confirmed: positive
            (7, "2025-05-20", "confirmed"),
        ],
    );
    write(&mut disp, &dir.path().join("dispositions.parquet"));
    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    let t = date("2025-01-01");
    let s = |v: &str| v.to_string();

    let both = labels_from(&v, &[t], 180, &[LabelSource::Inspections, LabelSource::Dispositions]).unwrap();
    let row = |u: usize| label_row(&both, &codes[u]);
    assert_eq!(row(0), Some((true, s("dispositions"), false, None, None, Some(true))));
    assert_eq!(row(1), Some((false, s("dispositions"), false, None, None, Some(false))));
    assert_eq!(row(2), None, "follow-ups on T + H and before T are outside the window");
    assert_eq!(row(3), None, "unreachable and pending give no label");
    assert_eq!(row(4), Some((true, s("both"), true, Some(false), Some(false), Some(true))), "positive if any source is");
    assert_eq!(row(5), Some((true, s("both"), false, None, Some(true), Some(false))));
    assert_eq!(row(6), Some((false, s("inspections"), false, None, Some(false), None)));
    assert_eq!(row(7), Some((true, s("dispositions"), false, None, None, Some(true))));
    assert_eq!(both.height(), 6);
    // A follow-up is an event of the window: subject 4's first event is its inspection
    // (2025-02-01), its first positive the confirmed follow-up (2025-04-01).
    let i = both.column("uscc").unwrap().str().unwrap().iter().position(|x| x == Some(codes[4].as_str())).unwrap();
    let day = |c: &str| both.column(c).unwrap().cast(&DataType::Int32).unwrap().i32().unwrap().get(i);
    assert_eq!((day("first_event_on"), day("first_positive_on")), (Some(date("2025-02-01")), Some(date("2025-04-01"))));

    // The default source ignores the dispositions table: today's labels.
    let default = riskwarn::labels::labels(&v, &[t], 180).unwrap();
    let row = |u: usize| label_row(&default, &codes[u]);
    assert_eq!(row(0), None);
    assert_eq!(row(4), Some((false, s("inspections"), true, Some(false), Some(false), None)));
    assert_eq!(row(5), Some((true, s("inspections"), false, None, Some(true), None)));
    assert_eq!(default.height(), 3);

    // Asking for dispositions where there is no such table is an error, not silence.
    std::fs::remove_file(dir.path().join("dispositions.parquet")).unwrap();
    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    let e = labels_from(&v, &[t], 180, &[LabelSource::Inspections, LabelSource::Dispositions]).unwrap_err();
    assert!(e.to_string().contains("dispositions table"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

/// Codes of scored subjects at `t` (a features row) with no inspection or penalty in [t, t+180),
/// and of those with one that found nothing (labelled negative by inspections).
fn unlabelled_and_negative(v: &riskwarn::validate::Validated, t: i32) -> (Vec<String>, Vec<String>) {
    let features = riskwarn::features::compute(v, &[t], &Default::default()).unwrap();
    let labels = riskwarn::labels::labels(v, &[t], 180).unwrap();
    let codes = labels.column("uscc").unwrap().str().unwrap();
    let label = labels.column("label").unwrap().bool().unwrap();
    let by_code: std::collections::HashMap<&str, bool> = codes.iter().zip(label.iter()).map(|(c, l)| (c.unwrap(), l.unwrap())).collect();
    let (mut unlabelled, mut negative) = (Vec::new(), Vec::new());
    for c in features.column("uscc").unwrap().str().unwrap().iter().flatten() {
        match by_code.get(c) {
            None => unlabelled.push(c.to_string()),
            Some(false) => negative.push(c.to_string()),
            Some(true) => {}
        }
    }
    (unlabelled, negative)
}

/// A `dispositions` table from (code, handled_on day, result).
fn dispositions_of(rows: &[(String, i32, &str)]) -> DataFrame {
    let n = rows.len();
    let days: Vec<i32> = rows.iter().map(|r| r.1).collect();
    DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
        Column::new("case_id".into(), vec![None::<&str>; n]),
        Column::new("department".into(), vec!["市场监督管理局"; n]),
        Series::new("handled_on".into(), days).cast(&DataType::Date).unwrap().into(),
        Column::new("action".into(), vec!["verify"; n]),
        Column::new("result".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("handler_id".into(), vec![None::<&str>; n]),
        Column::new("note".into(), vec![None::<&str>; n]),
    ])
    .unwrap()
}

fn population<'a>(backtest: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    backtest["test"].as_array().unwrap().iter().find(|p| p["population"] == name).unwrap_or_else(|| panic!("no population {name:?}"))
}

fn counts(p: &serde_json::Value) -> (u64, u64) {
    (p["rows"].as_u64().unwrap(), p["positives"].as_u64().unwrap())
}

#[test]
fn train_with_disposition_labels_reports_every_source_and_leaves_the_default_unchanged() {
    let dir = tempdir();
    let data = dir.path().join("data");
    riskwarn().args(["generate", "--subjects", "6000", "--years", "4", "--seed", "11", "--quiet", "--out"]).arg(&data).run().status(0);
    let train = |name: &str, extra: &[&str]| -> (serde_json::Value, std::path::PathBuf) {
        let out = dir.path().join(name);
        let summary = riskwarn().args(["train", "--quiet", "--json", "--data"]).arg(&data).args(extra).arg("--model-out").arg(&out).run().status(0).json();
        (summary, out)
    };
    let (default, default_file) = train("default.json", &[]);
    let (_, explicit_file) = train("explicit.json", &["--labels", "inspections"]);
    let default_bytes = std::fs::read(&default_file).unwrap();
    assert!(default_bytes == std::fs::read(&explicit_file).unwrap(), "--labels inspections is the default, byte for byte");
    let text = String::from_utf8(default_bytes).unwrap();
    assert!(!text.contains("label_source") && !text.contains("labelled by") && !text.contains("disposition"), "a default model file carries no trace of the option");
    assert_eq!(default["test"].as_array().unwrap().len(), 2, "all labelled and random inspections only");

    // Follow-ups, written by hand: at the test date, 40 subjects nothing else labels (20 confirmed,
    // 20 not) and 10 that inspections labelled negative (confirmed: positive now, `both`), plus
    // 10 unreachable or pending (no label); at the first training date 30 confirmed.
    let model: serde_json::Value = serde_json::from_str(&text).unwrap();
    let day = |k: &serde_json::Value| date(k.as_str().unwrap());
    let (t_test, t_train) = (day(&model["test_as_of"]), day(&model["train_as_of"][0]));
    let v = validate(riskwarn::io::load_dir(&data, riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions::default()).unwrap();
    let (unlabelled, negative) = unlabelled_and_negative(&v, t_test);
    let (unlabelled_train, _) = unlabelled_and_negative(&v, t_train);
    assert!(unlabelled.len() >= 50 && negative.len() >= 10 && unlabelled_train.len() >= 30);
    let mut rows: Vec<(String, i32, &str)> = Vec::new();
    for (i, c) in unlabelled.iter().take(40).enumerate() {
        rows.push((c.clone(), t_test + 10 + i as i32, if i % 2 == 0 { "confirmed" } else { "not_confirmed" }));
    }
    for c in negative.iter().take(10) {
        rows.push((c.clone(), t_test + 60, "confirmed"));
    }
    for (i, c) in unlabelled.iter().skip(40).take(10).enumerate() {
        rows.push((c.clone(), t_test + 20, if i % 2 == 0 { "unreachable" } else { "pending" }));
    }
    for c in unlabelled_train.iter().take(30) {
        rows.push((c.clone(), t_train + 30, "confirmed"));
    }
    write(&mut dispositions_of(&rows), &data.join("dispositions.parquet"));

    let (with, with_file) = train("with.json", &["--labels", "dispositions,inspections"]);
    let (all, random) = (counts(population(&default, "all labelled")), counts(population(&default, "random inspections")));
    assert_eq!(counts(population(&with, "random inspections")), random, "the honest yardstick is untouched");
    assert_eq!(counts(population(&with, "labelled by inspections")), all, "inspection labels are today's");
    assert_eq!(counts(population(&with, "labelled by dispositions")), (50, 30));
    assert_eq!(counts(population(&with, "all labelled")), (all.0 + 40, all.1 + 20 + 10));
    let by_source: Vec<(String, u64, u64)> = with["train_rows_by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["label_source"].as_str().unwrap().to_string(), c["rows"].as_u64().unwrap(), c["positives"].as_u64().unwrap()))
        .collect();
    let default_train_rows = default["train_rows"].as_u64().unwrap();
    assert_eq!(by_source[0].0, "inspections");
    assert_eq!(by_source[1..], [("dispositions".to_string(), 30, 30)], "{by_source:?}");
    assert_eq!(by_source[0].1 + 30, with["train_rows"].as_u64().unwrap());
    assert_eq!(by_source[0].1, default_train_rows);
    let loaded = riskwarn::model::Model::load(&with_file).unwrap();
    use riskwarn::labels::LabelSource;
    assert_eq!(loaded.label_sources, [LabelSource::Inspections, LabelSource::Dispositions]);
    assert_eq!(loaded.row_weights, "none");

    // Down-weighting the follow-up rows changes the fit, not the populations it is judged on.
    let (weighted, weighted_file) = train("weighted.json", &["--labels", "inspections,dispositions", "--disposition-weight", "0.25"]);
    let weighted_model = riskwarn::model::Model::load(&weighted_file).unwrap();
    assert_eq!(weighted_model.disposition_weight, 0.25);
    assert!(weighted_model.row_weights.contains("0.25"), "{}", weighted_model.row_weights);
    assert_ne!(weighted_model.coefficients, loaded.coefficients);
    for name in ["all labelled", "random inspections", "labelled by inspections", "labelled by dispositions"] {
        assert_eq!(counts(population(&weighted, name)), counts(population(&with, name)), "{name}");
    }
}

#[test]
fn bad_label_sources_are_exit_2_before_any_data_is_read() {
    let train = |args: &[&str]| riskwarn().args(["train", "--quiet", "--data", "/nonexistent/data", "--model-out", "/nonexistent/m.json"]).args(args).run();
    let unknown = train(&["--labels", "inspections,complaints"]).status(2);
    for needle in ["complaints", "inspections", "dispositions"] {
        assert!(unknown.stderr().contains(needle), "the message names {needle}: {}", unknown.stderr());
    }
    train(&["--labels", "dispositions"]).status(2).stderr_contains("use --labels inspections,dispositions");
    train(&["--disposition-weight", "0.5"]).status(2).stderr_contains("needs --labels with dispositions");
    train(&["--labels", "inspections,dispositions", "--disposition-weight", "0"]).status(2).stderr_contains("(0, 1]");
    riskwarn()
        .args(["evaluate", "--quiet", "--warnings", "/nonexistent/w.parquet", "--outcomes", "/nonexistent", "--labels", "dispositions"])
        .run()
        .status(2)
        .stderr_contains("leaves out inspections");
}

#[test]
fn train_with_dispositions_needs_a_dispositions_table() {
    let dir = tempdir();
    sample_without(&["dispositions.parquet"], dir.path());
    riskwarn()
        .args(["train", "--quiet", "--labels", "inspections,dispositions", "--data"])
        .arg(dir.path())
        .arg("--model-out")
        .arg(dir.path().join("m.json"))
        .run()
        .status(2)
        .stderr_contains("dispositions table");
}
