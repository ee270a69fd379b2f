//! Training labels: the window [T, T+H), positives, unlabelled subjects, random-inspection labels.

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
    let mut insp = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| codes[r.0].as_str()).collect::<Vec<_>>()),
        dates("inspected_on", &rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
        Column::new("department".into(), vec!["市场监督管理局"; rows.len()]),
        Column::new("mode".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("outcome".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        Column::new("issues_found".into(), vec![None::<i32>; rows.len()]),
    ])
    .unwrap();
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

    let v = validate(riskwarn::io::load_dir(dir.path()).unwrap(), &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
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
