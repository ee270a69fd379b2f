//! Validation: each bad-row kind is rejected with its reason, counts reconcile, broken files stop.

use polars::prelude::*;
use riskwarn::validate::{validate, ValidateOptions};

use crate::support::*;


fn opts() -> ValidateOptions {
    ValidateOptions { reference_date: date("2026-06-30") }
}

fn load_and_validate(dir: &std::path::Path) -> riskwarn::validate::Validated {
    let raw = riskwarn::io::load_dir(dir, riskwarn::messages::Messages::EN).unwrap();
    validate(raw, &opts()).unwrap()
}

/// (row, column, reason) of the rejected rows of one table, by row.
fn rejections(v: &riskwarn::validate::Validated, table: &str) -> Vec<(u64, String, String)> {
    let df = v
        .rejected
        .clone()
        .lazy()
        .filter(col("table").eq(lit(table)))
        .sort(["row"], Default::default())
        .collect()
        .unwrap();
    let rows = df.column("row").unwrap().u64().unwrap();
    let cols = df.column("column").unwrap().str().unwrap();
    let reasons = df.column("reason").unwrap().str().unwrap();
    (0..df.height())
        .map(|i| (rows.get(i).unwrap(), cols.get(i).unwrap().to_string(), reasons.get(i).unwrap().to_string()))
        .collect()
}

/// The rejected rows of `table` are exactly `expect`: (row, column, a fragment of the reason).
fn assert_rejections(v: &riskwarn::validate::Validated, table: &str, expect: &[(u64, &str, &str)]) {
    let got = rejections(v, table);
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for ((row, column, reason), (er, ec, needle)) in got.iter().zip(expect) {
        assert_eq!((*row, column.as_str()), (*er, *ec), "{reason}");
        assert!(reason.contains(needle), "row {row}: {reason:?} lacks {needle:?}");
    }
}

#[test]
fn each_bad_subject_kind_is_rejected_with_its_reason() {
    let dir = tempdir();
    let mut codes: Vec<String> = (0..10).map(code).collect();
    codes[1] = "91110000600037341X".into(); // wrong check character
    codes[9] = codes[0].clone(); // duplicate of row 1
    let mut df = subjects_frame(&codes);
    let set = |df: &mut DataFrame, name: &str, row: usize, value: AnyValue| {
        let mut s = df.column(name).unwrap().as_materialized_series().clone();
        let mut v: Vec<AnyValue> = s.iter().map(|x| x.into_static()).collect();
        v[row] = value;
        s = Series::from_any_values_and_dtype(name.into(), &v, s.dtype(), true).unwrap();
        df.replace(name, s.into()).unwrap();
    };
    set(&mut df, "name", 2, AnyValue::StringOwned("  ".into()));
    set(&mut df, "subject_type", 3, AnyValue::StringOwned("partnership".into()));
    set(&mut df, "industry", 4, AnyValue::StringOwned("Z12".into()));
    set(&mut df, "region", 5, AnyValue::StringOwned("14050".into()));
    set(&mut df, "established_on", 6, AnyValue::Date(date("2030-01-01")));
    set(&mut df, "established_on", 7, AnyValue::Date(date("1949-09-30")));
    set(&mut df, "registered_capital", 8, AnyValue::Float64(-1.0));
    write(&mut df, &dir.path().join("subjects.parquet"));

    let v = load_and_validate(dir.path());
    assert_rejections(&v, "subjects", &[
        (2, "uscc", "check character"),
        (3, "name", "empty"),
        (4, "subject_type", "unknown value 'partnership'"),
        (5, "industry", "GB/T 4754"),
        (6, "region", "6-digit"),
        (7, "established_on", "in the future"),
        (8, "established_on", "before 1949-10-01"),
        (9, "registered_capital", "negative"),
        (10, "uscc", "duplicate"),
    ]);
    let c = &v.counts[0];
    assert_eq!((c.read, c.used, c.rejected), (10, 1, 9));
    assert_eq!(v.table("subjects").unwrap().column("uscc").unwrap().str().unwrap().get(0), Some(code(0).as_str()));
}

#[test]
fn each_bad_event_kind_is_rejected_with_its_reason() {
    let dir = tempdir();
    let codes: Vec<String> = (0..3).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    let a = codes[0].as_str();
    let unknown = code(99);
    let mut penalties = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a, a, a, a, unknown.as_str(), a, a, a]),
        dates(
            "decided_on",
            &[Some("2025-01-01"), Some("2027-01-01"), Some("1940-01-01"), Some("2025-01-01"), Some("2025-01-01"), None, Some("2025-01-01"), Some("2025-01-01")],
        ),
        Column::new("department".into(), ["市场监督管理局"; 8]),
        Column::new("category".into(), ["价格违法"; 8]),
        Column::new("severity".into(), ["general", "general", "general", "grave", "general", "general", "minor", "minor"]),
        Column::new("fine_cny".into(), [1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0, -5.0, 10.0]),
        Column::new("license_revoked".into(), [false; 8]),
        dates(
            "recorded_on",
            &[Some("2025-01-02"), Some("2027-01-01"), None, None, None, None, None, Some("2024-12-31")],
        ),
    ])
    .unwrap();
    write(&mut penalties, &dir.path().join("penalties.parquet"));
    let mut lists = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a, a]),
        Column::new("list".into(), ["abnormal_operations", "abnormal_operations"]),
        dates("listed_on", &[Some("2024-01-01"), Some("2024-01-01")]),
        dates("removed_on", &[Some("2024-06-01"), Some("2023-12-31")]),
    ])
    .unwrap();
    write(&mut lists, &dir.path().join("credit_lists.parquet"));

    let v = load_and_validate(dir.path());
    assert_rejections(&v, "penalties", &[
        (2, "decided_on", "in the future"),
        (3, "decided_on", "before 1949-10-01"),
        (4, "severity", "unknown value 'grave'"),
        (5, "uscc", "no subject"),
        (6, "decided_on", "missing value"),
        (7, "fine_cny", "negative"),
        (8, "recorded_on", "before decided_on"),
    ]);
    let lists = rejections(&v, "credit_lists");
    assert_eq!(lists.len(), 1);
    assert_eq!((lists[0].0, lists[0].1.as_str()), (2, "removed_on"));
    for c in &v.counts {
        assert_eq!(c.read, c.used + c.rejected, "{c:?}");
    }
}

#[test]
fn events_of_a_rejected_subject_are_quarantined_not_lost() {
    let dir = tempdir();
    let mut codes: Vec<String> = (0..2).map(code).collect();
    let mut s = subjects_frame(&codes);
    s.replace("status", Series::new("status".into(), ["active", "dormant"]).into()).unwrap();
    write(&mut s, &dir.path().join("subjects.parquet"));
    codes.truncate(2);
    let mut complaints = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), &codes),
        dates("received_on", &[Some("2025-05-01"), Some("2025-05-01")]),
        Column::new("channel".into(), ["12315", "12345"]),
        Column::new("category".into(), ["价格收费", "价格收费"]),
        Column::new("substantiated".into(), [Some(true), None]),
    ])
    .unwrap();
    write(&mut complaints, &dir.path().join("complaints.parquet"));
    let v = load_and_validate(dir.path());
    let got = rejections(&v, "complaints");
    assert_eq!(got.len(), 1);
    assert!(got[0].2.contains("rejected there"), "{got:?}");
    assert_eq!(v.table("complaints").unwrap().height(), 1);
}

#[test]
fn table_directories_and_timestamps_are_read() {
    let dir = tempdir();
    let codes: Vec<String> = (0..4).map(code).collect();
    let mut s = subjects_frame(&codes);
    let ts = s.column("established_on").unwrap().cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap();
    s.replace("established_on", ts.take_materialized_series().into()).unwrap();
    let (mut a, mut b) = (s.slice(0, 2), s.slice(2, 2));
    write(&mut a, &dir.path().join("subjects/part=1/a.parquet"));
    write(&mut b, &dir.path().join("subjects/part=2/b.parquet"));
    let v = load_and_validate(dir.path());
    assert_eq!(v.table("subjects").unwrap().height(), 4);
    assert_eq!(v.table("subjects").unwrap().column("established_on").unwrap().dtype(), &DataType::Date);
}

#[test]
fn truncated_file_stops_with_exit_2_naming_the_file() {
    let dir = tempdir();
    let path = dir.path().join("subjects.parquet");
    write(&mut subjects_frame(&[code(1)]), &path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let out = dir.path().join("out");
    riskwarn()
        .args(["validate", "--data"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .run()
        .status(2)
        .stderr_contains("subjects.parquet")
        .stderr_contains("truncated or corrupt");
    assert!(!out.exists(), "nothing is written when a file is broken");
}

#[test]
fn missing_column_and_wrong_type_stop_with_exit_2() {
    let dir = tempdir();
    let s = subjects_frame(&[code(1)]);
    write(&mut s.drop("region").unwrap(), &dir.path().join("subjects.parquet"));
    riskwarn()
        .args(["validate", "--data"])
        .arg(dir.path())
        .run()
        .status(2)
        .stderr_contains("required column `region`");

    let mut s = subjects_frame(&[code(1)]);
    s.replace("registered_capital", Series::new("registered_capital".into(), ["100"]).into()).unwrap();
    write(&mut s, &dir.path().join("subjects.parquet"));
    riskwarn()
        .args(["validate", "--data"])
        .arg(dir.path())
        .run()
        .status(2)
        .stderr_contains("column `registered_capital`: expected float64");
}

#[test]
fn missing_required_table_stops_with_exit_2() {
    let dir = tempdir();
    riskwarn()
        .args(["validate", "--data"])
        .arg(dir.path())
        .run()
        .status(2)
        .stderr_contains("required table `subjects` not found");
}

#[test]
fn licence_rows_break_their_rules_with_reasons() {
    let dir = tempdir();
    let codes: Vec<String> = (0..2).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    let a = codes[0].as_str();
    let mut licences = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a, a, a, a, a, a]),
        Column::new("licence_type".into(), ["食品经营许可", " ", "食品经营许可", "食品经营许可", "食品经营许可", "酒类经营许可"]),
        dates("issued_on", &[Some("2024-01-01"), Some("2024-01-01"), Some("2024-01-01"), Some("2024-01-01"), Some("2027-01-01"), Some("2024-01-01")]),
        // After the reference date is allowed for an expiry, before issue is not.
        dates("expires_on", &[Some("2029-01-01"), None, Some("2023-12-31"), None, None, None]),
        dates("revoked_on", &[None, None, None, Some("2023-06-01"), None, Some("2026-07-01")]),
        Column::new("issuer".into(), [Some("市场监督管理局"), None, None, None, None, None]),
    ])
    .unwrap();
    write(&mut licences, &dir.path().join("licences.parquet"));
    let v = load_and_validate(dir.path());
    assert_rejections(&v, "licences", &[
        (2, "licence_type", "empty"),
        (3, "expires_on", "before issued_on"),
        (4, "revoked_on", "before issued_on"),
        (5, "issued_on", "in the future"),
        (6, "revoked_on", "in the future"),
    ]);
    let c = v.counts.iter().find(|c| c.table == "licences").unwrap();
    assert_eq!((c.read, c.used, c.rejected), (6, 1, 5));
}

#[test]
fn a_relation_to_a_name_is_rejected_not_used() {
    let dir = tempdir();
    let codes: Vec<String> = (0..2).map(code).collect();
    write(&mut subjects_frame(&codes), &dir.path().join("subjects.parquet"));
    let a = codes[0].as_str();
    let mut relations = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a, a, a, a]),
        Column::new("related".into(), [codes[1].as_str(), "张三", "P00000001", "P00000002"]),
        Column::new("relation".into(), ["branch_of", "legal_representative", "partner", "shareholder"]),
        dates("valid_from", &[Some("2020-01-01"), Some("2020-01-01"), Some("2020-01-01"), Some("2020-01-01")]),
        dates("valid_to", &[None, None, None, Some("2019-12-31")]),
    ])
    .unwrap();
    write(&mut relations, &dir.path().join("relations.parquet"));
    let v = load_and_validate(dir.path());
    assert_rejections(&v, "relations", &[(2, "related", "never give a name"), (3, "relation", "unknown value 'partner'"), (4, "valid_to", "before valid_from")]);
}

#[test]
fn kinds_of_check_ignore_the_rejected_value_they_quote() {
    use riskwarn::validate::check_kind;
    assert_eq!(check_kind("'x is before y' is not a GB/T 4754 code (section A-T, then 0-4 digits)"), "industry_code");
    assert_eq!(check_kind("'2031-01-01' is in the future (after 2026-06-30)"), "future_date");
    assert_eq!(check_kind("'1948-01-01' is before 1949-10-01"), "date_order");
    assert_eq!(check_kind("no subject 'is in the future' in subjects (absent or rejected there)"), "unknown_subject");
    assert_eq!(check_kind("missing value"), "missing");
    assert_eq!(check_kind("invalid check character: '91140502MA0K00000X'"), "uscc");
    assert_eq!(check_kind("something else"), "other");
}
