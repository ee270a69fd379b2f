//! The feature engine: known answers on a hand-written data set (window edges included),
//! no future leakage (property test), the catalogue, and ownership never used.

use polars::prelude::*;
use proptest::prelude::*;
use riskwarn::features::{compute, FeatureOptions};
use riskwarn::validate::{validate, ValidateOptions};

use crate::support::*;

const T: &str = "2025-01-01";

fn hand_data(dir: &std::path::Path) {
    let (a, b, c, d) = (code(1), code(2), code(3), code(4));
    let mut subjects = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a.as_str(), b.as_str(), c.as_str(), d.as_str()]),
        Column::new("name".into(), ["甲公司", "张三", "丙公司", "丁公司"]),
        Column::new("subject_type".into(), ["enterprise", "individual", "enterprise", "enterprise"]),
        Column::new("industry".into(), ["H6210", "F5211", "C1351", "I6510"]),
        Column::new("region".into(), ["140502", "140502", "140525", "140581"]),
        dates("established_on", &[Some("2015-03-01"), Some("2024-06-01"), Some("2010-01-01"), Some(T)]),
        Column::new("registered_capital".into(), [Some(99.0f64), None, Some(10.0), Some(5.0)]),
        Column::new("status".into(), ["active", "suspended", "cancelled", "active"]),
        Column::new("ownership".into(), [Some("state"), Some("private"), None, Some("private")]),
    ])
    .unwrap();
    write(&mut subjects, &dir.join("subjects.parquet"));
    let rows = [
        // (uscc, date, mode, outcome, recorded_on)
        (&a, "2024-12-31", "random", "violation", None),
        (&a, T, "random", "violation", None),                     // on T: not before T
        (&a, "2024-01-02", "targeted", "issues", None),           // exactly T - 365 days: inside 365d
        (&a, "2024-01-01", "complaint", "violation", None),       // T - 366: only in 1095d
        (&a, "2024-12-01", "random", "violation", Some("2025-01-05")), // recorded after T: unknown at T
        (&a, "2024-12-02", "random", "pass", Some("2024-12-31")),
        (&b, "2024-12-15", "joint", "pass", None),
    ];
    let mut insp = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
        dates("inspected_on", &rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
        Column::new("department".into(), vec!["市场监督管理局"; rows.len()]),
        Column::new("mode".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Column::new("outcome".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        Column::new("issues_found".into(), vec![Some(2i32); rows.len()]),
        dates("recorded_on", &rows.iter().map(|r| r.4).collect::<Vec<_>>()),
    ])
    .unwrap();
    write(&mut insp, &dir.join("inspections.parquet"));
    let mut lists = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a.as_str(), b.as_str(), a.as_str()]),
        Column::new("list".into(), ["abnormal_operations", "abnormal_operations", "serious_violation"]),
        dates("listed_on", &[Some("2024-06-01"), Some("2024-06-01"), Some(T)]),
        dates("removed_on", &[Some(T), Some("2024-12-31"), None]),
    ])
    .unwrap();
    write(&mut lists, &dir.join("credit_lists.parquet"));
    let mut reports = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [a.as_str(), a.as_str(), a.as_str(), b.as_str()]),
        Column::new("year".into(), [2023i32, 2022, 2021, 2023]),
        dates("filed_on", &[Some("2024-07-15"), None, Some("2022-03-01"), Some("2025-02-01")]),
    ])
    .unwrap();
    write(&mut reports, &dir.join("annual_reports.parquet"));
}

fn features_at(dir: &std::path::Path, t: &str) -> DataFrame {
    let raw = riskwarn::io::load_dir(dir, riskwarn::messages::Messages::EN).unwrap();
    let v = validate(raw, &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    compute(&v, &[date(t)], &Default::default()).unwrap()
}

fn value(df: &DataFrame, uscc: &str, feature: &str) -> Option<f64> {
    let i = df.column("uscc").unwrap().str().unwrap().iter().position(|u| u == Some(uscc)).expect("subject scored");
    df.column(feature).unwrap_or_else(|_| panic!("no feature {feature}")).f64().unwrap().get(i)
}

#[test]
fn known_answers_on_hand_written_data() {
    let dir = tempdir();
    hand_data(dir.path());
    let df = features_at(dir.path(), T);
    let (a, b) = (code(1), code(2));
    // Scored: A (active) and B (suspended); C is cancelled, D is established on T.
    let scored: Vec<_> = df.column("uscc").unwrap().str().unwrap().iter().map(|u| u.unwrap().to_string()).collect();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(scored, expected);

    let f = |u: &str, name: &str| value(&df, u, name);
    assert_eq!(f(&a, "insp_n_30d"), Some(2.0), "12-31 and 12-02 (recorded 12-31)");
    assert_eq!(f(&a, "insp_n_365d"), Some(3.0), "T-365 is inside the window");
    assert_eq!(f(&a, "insp_n_1095d"), Some(4.0));
    assert_eq!(f(&a, "insp_violation_365d"), Some(1.0));
    assert_eq!(f(&a, "insp_violation_1095d"), Some(2.0));
    assert_eq!(f(&a, "insp_issues_365d"), Some(1.0));
    assert_eq!(f(&a, "insp_random_1095d"), Some(2.0));
    assert_eq!(f(&a, "insp_random_violation_1095d"), Some(1.0));
    assert_eq!(f(&a, "insp_complaint_1095d"), Some(1.0));
    assert_eq!(f(&a, "insp_issues_found_1095d"), Some(8.0));
    assert_eq!(f(&a, "insp_days_since_last"), Some(1.0));
    assert_eq!(f(&a, "insp_days_since_violation"), Some(1.0));
    // violations: last 365 days 1 (12-31), the 365 before: 1 (2024-01-01 is T-366)
    assert_eq!(f(&a, "insp_violation_trend"), Some(0.0));
    assert_eq!(f(&b, "insp_n_1095d"), Some(1.0));
    assert_eq!(f(&b, "insp_days_since_violation"), None, "no violation: null, not a magic number");

    assert_eq!(f(&a, "list_abnormal_now"), Some(1.0), "removed on T: still listed at T");
    assert_eq!(f(&a, "list_abnormal_days"), Some(214.0), "2024-06-01 to 2025-01-01");
    assert_eq!(f(&a, "list_serious_now"), Some(0.0), "listed on T: not before T");
    assert_eq!(f(&b, "list_abnormal_now"), Some(0.0), "removed before T (信用修复)");
    assert_eq!(f(&b, "list_abnormal_days"), None);
    assert_eq!(f(&b, "list_removed_n"), Some(1.0));

    // Due years at 2025-01-01: 2021..2023 (2023's report was due 2024-06-30).
    assert_eq!(f(&a, "ar_due_3y"), Some(3.0));
    assert_eq!(f(&a, "ar_missing_3y"), Some(1.0));
    assert_eq!(f(&a, "ar_late_3y"), Some(1.0));
    assert_eq!(f(&b, "ar_missing_3y"), Some(1.0), "filed after T: not filed as of T");

    assert_eq!(f(&a, "sub_age_days"), Some(3594.0));
    assert_eq!(f(&a, "sub_log_capital"), Some(100f64.ln()));
    assert_eq!(f(&b, "sub_log_capital"), None);
    assert_eq!(f(&a, "observation_period"), Some(0.0));
    assert_eq!(f(&b, "observation_period"), Some(1.0), "214 days old < 365");
    // Absent tables leave their features out.
    assert!(df.column("pen_n_30d").is_err() && df.column("cmp_n_30d").is_err());
    assert!(df.column("ownership").is_err(), "ownership is never a feature");
}

#[test]
fn empirical_bayes_rate_matches_hand_computation() {
    let dir = tempdir();
    hand_data(dir.path());
    let df = features_at(dir.path(), T);
    let (a, b) = (code(1), code(2));
    // A: 2 violations in 4 inspections; B: 0 in 1. Both in peer groups of their own
    // (H×1405 and F×1405), so each peer rate is (v + 1) / (n + 2) of the subject itself.
    // Prior strength m by moments over {2/4, 0/1}: mu = 2/5, var = ((0.5-0.4)^2 + (0-0.4)^2) = 0.17,
    // binomial part = 0.24/4 + 0.24/1 = 0.30 > var, so between-variance ≤ 0 and m = 1000.
    let peer_a = 3.0 / 6.0;
    let expect_a = (2.0 + 1000.0 * peer_a) / (4.0 + 1000.0);
    let got = value(&df, &a, "insp_violation_rate_eb").unwrap();
    assert!((got - expect_a).abs() < 1e-12, "{got} vs {expect_a}");
    let peer_b = 1.0 / 3.0;
    let got_b = value(&df, &b, "insp_violation_rate_eb").unwrap();
    assert!((got_b - 1000.0 * peer_b / 1001.0).abs() < 1e-12, "{got_b}");
    assert!((value(&df, &a, "insp_violation_rate_vs_peer").unwrap() - expect_a / peer_a).abs() < 1e-12);
}

#[test]
fn several_as_of_dates_equal_separate_calls() {
    let dir = tempdir();
    riskwarn().args(["generate", "--subjects", "400", "--years", "3", "--quiet", "--out"]).arg(dir.path()).run().status(0);
    let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
    let v = validate(raw, &ValidateOptions::default()).unwrap();
    let ts = [date("2024-07-01"), date("2025-01-01"), date("2025-07-01")];
    let together = compute(&v, &ts, &Default::default()).unwrap();
    let mut apart = compute(&v, &ts[..1], &Default::default()).unwrap();
    for t in &ts[1..] {
        apart.vstack_mut(&compute(&v, &[*t], &Default::default()).unwrap()).unwrap();
    }
    assert!(together.equals_missing(&apart));
    // One row per subject that is active/suspended and established before each T.
    let subjects = v.table("subjects").unwrap();
    let expected: usize = ts
        .iter()
        .map(|t| {
            let status = subjects.column("status").unwrap().str().unwrap();
            let est = subjects.column("established_on").unwrap().date().unwrap();
            (0..subjects.height())
                .filter(|&i| matches!(status.get(i), Some("active" | "suspended")) && est.phys.get(i).unwrap() < *t)
                .count()
        })
        .sum();
    assert_eq!(together.height(), expected);
}

#[test]
fn catalogue_doc_matches_code() {
    let policy = riskwarn::policy::Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap();
    let expected = riskwarn::features::catalogue_markdown(&policy.features);
    assert_generated_doc("docs/features.md", &expected);
    let names: Vec<String> = riskwarn::features::Registry::all(&FeatureOptions::default()).features.into_iter().map(|f| f.name).collect();
    assert!(names.iter().all(|n| !n.contains("ownership")), "{names:?}");
    assert!(names.len() > 80, "{}", names.len());
}

/// The committed policy's feature options (its declared indicators included).
fn policy_features() -> &'static riskwarn::options::Valid<FeatureOptions> {
    static OPTS: std::sync::OnceLock<riskwarn::policy::Policy> = std::sync::OnceLock::new();
    &OPTS.get_or_init(|| riskwarn::policy::Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap()).features
}

/// Base data for the leakage property: small, generated once.
fn leak_base() -> &'static (tempfile::TempDir, riskwarn::validate::Validated) {
    static BASE: std::sync::OnceLock<(tempfile::TempDir, riskwarn::validate::Validated)> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempdir();
        riskwarn().args(["generate", "--subjects", "300", "--years", "3", "--quiet", "--out"]).arg(dir.path()).run().status(0);
        let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
        let v = validate(raw, &ValidateOptions { reference_date: date("2099-12-31") }).unwrap();
        (dir, v)
    })
}

/// Appends `n` copies of existing rows of `table`, re-dated on or after T (or recorded after T).
/// Appended rows are re-dated per `mode`: 0 = dated on/after T (recorded the same day),
/// 1 = dated before T but recorded on/after T, 2 = dated on/after T with `recorded_on` null.
fn append_future(v: &riskwarn::validate::Validated, table: &str, t: i32, offsets: &[(usize, i32, u8)]) -> riskwarn::validate::Validated {
    let mut out = v.clone();
    let spec = riskwarn::contract::table(table).unwrap();
    let (_, df) = out.tables.iter_mut().find(|(s, _)| s.name == table).unwrap();
    let mut extra = Vec::new();
    for &(row, offset, mode) in offsets {
        let mut r = df.slice((row % df.height()) as i64, 1);
        let date_col = spec.event_date.unwrap_or("filed_on");
        if table == "annual_reports" {
            // a report year not yet due at T, filed on or after T
            let year = riskwarn::dates::year_of(t) + offset % 3;
            r.replace("year", Series::new("year".into(), [year]).into()).unwrap();
            r.replace(date_col, Series::new(date_col.into(), [t + offset]).cast(&DataType::Date).unwrap().into()).unwrap();
        } else if mode == 1 && r.schema().contains("recorded_on") {
            // dated before T, but entered into the system on or after T
            r.replace("recorded_on", Series::new("recorded_on".into(), [t + offset]).cast(&DataType::Date).unwrap().into()).unwrap();
            r.replace(date_col, Series::new(date_col.into(), [t - 1 - offset % 400]).cast(&DataType::Date).unwrap().into()).unwrap();
        } else {
            r.replace(date_col, Series::new(date_col.into(), [t + offset]).cast(&DataType::Date).unwrap().into()).unwrap();
            if r.schema().contains("recorded_on") {
                let recorded = (mode == 0).then_some(t + offset);
                r.replace("recorded_on", Series::new("recorded_on".into(), [recorded]).cast(&DataType::Date).unwrap().into()).unwrap();
            }
            if table == "credit_lists" {
                r.replace("removed_on", Series::new("removed_on".into(), [None::<i32>]).cast(&DataType::Date).unwrap().into()).unwrap();
            }
        }
        extra.push(r);
    }
    for r in extra {
        df.vstack_mut(&r).unwrap();
    }
    if table == "licences" {
        // A licence revoked on or after T (its revocation not yet known at T).
        let mut revoked: Vec<Option<i32>> = df.column("revoked_on").unwrap().date().unwrap().phys.iter().collect();
        for &(row, offset, mode) in offsets {
            let i = row % revoked.len();
            if mode == 2 && revoked[i].is_none_or(|d| d >= t) {
                revoked[i] = Some(t + offset);
            }
        }
        let column = Series::new("revoked_on".into(), revoked).cast(&DataType::Date).unwrap();
        df.replace("revoked_on", column.into()).unwrap();
    }
    out
}

/// Every dated table the features read: the leakage property appends future rows to each.
const DATED_TABLES: [&str; 10] =
    ["inspections", "penalties", "complaints", "product_checks", "judgments", "credit_lists", "annual_reports", "licences", "indicators", "relations"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn no_future_leakage(
        offsets in prop::collection::vec((0usize..100_000, prop_oneof![Just(0i32), 0i32..2000], 0u8..3), 1..40),
        t_pick in 0usize..3,
    ) {
        let (_dir, base) = leak_base();
        let t = [date("2024-03-15"), date("2025-01-01"), date("2025-10-31")][t_pick];
        let before = compute(base, &[t], policy_features()).unwrap();
        for table in DATED_TABLES {
            let changed = append_future(base, table, t, &offsets);
            let after = compute(&changed, &[t], policy_features()).unwrap();
            prop_assert_eq!(before.shape(), after.shape());
            for (x, y) in before.columns().iter().zip(after.columns()) {
                if x.dtype() == &DataType::Float64 {
                    let bits = |c: &Column| c.f64().unwrap().iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
                    prop_assert!(bits(x) == bits(y), "{}: feature {} changed", table, x.name());
                } else {
                    prop_assert!(x.as_materialized_series().equals_missing(y.as_materialized_series()), "{}: column {} changed", table, x.name());
                }
            }
        }
    }
}

#[test]
fn kernel_matches_the_polars_reference() {
    use riskwarn::features::{compute_with, Backend};
    let (_dir, base) = leak_base();
    let ts = [date("2023-12-31"), date("2025-01-01"), date("2026-06-30")];
    let fast = compute_with(base, &ts, policy_features(), Backend::Kernel).unwrap();
    let slow = compute_with(base, &ts, policy_features(), Backend::Reference).unwrap();
    assert!(fast.column("ind_social_arrears_last").is_ok() && fast.column("lic_lapsed_n").is_ok());
    let compared = assert_features_agree(&fast, &slow);
    assert!(compared > 50_000, "{compared}");
}

/// The kernel reads the tables' own buffers chunk by chunk: a table read from many files (a
/// subject's rows cut across chunks, nulls on both sides of a cut) gives the same features, bit
/// for bit, as one file; event rows in reverse order (regrouped by a counting sort) agree too,
/// and both agree with the reference.
#[test]
fn features_do_not_depend_on_how_tables_are_chunked_or_ordered() {
    use riskwarn::features::{compute_with, Backend};
    let dir = tempdir();
    let whole = dir.path().join("whole");
    riskwarn().args(["generate", "--subjects", "300", "--years", "3", "--seed", "5", "--quiet", "--out"]).arg(&whole).run().status(0);
    let load = |d: &std::path::Path| validate(riskwarn::io::load_dir(d, riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2099-12-31") }).unwrap();
    for (variant, reverse) in [("split", false), ("reversed", true)] {
        let out = dir.path().join(variant);
        for entry in std::fs::read_dir(&whole).unwrap() {
            let path = entry.unwrap().path();
            let table = path.file_stem().unwrap().to_str().unwrap().to_string();
            let mut df = riskwarn::io::read_parquet(&path).unwrap();
            if reverse && table != "subjects" {
                df = df.reverse();
            }
            let n = df.height();
            let mut cuts = vec![0, 1, n / 7, n / 3, n / 2 + 1, n.saturating_sub(2), n];
            cuts.sort_unstable();
            cuts.dedup();
            std::fs::create_dir_all(out.join(&table)).unwrap();
            for (k, w) in cuts.windows(2).enumerate() {
                let mut part = df.slice(w[0] as i64, w[1] - w[0]);
                riskwarn::io::write_parquet(&mut part, &out.join(&table).join(format!("part-{k:02}.parquet"))).unwrap();
            }
        }
    }
    let ts = [date("2023-12-31"), date("2025-06-30")];
    let opts = policy_features();
    let base = compute_with(&load(&whole), &ts, opts, Backend::Kernel).unwrap();
    let split = load(&dir.path().join("split"));
    for table in ["indicators", "licences", "annual_reports", "complaints"] {
        assert!(split.table(table).unwrap().column("sid").unwrap().n_chunks() > 3, "{table} is read in chunks");
    }
    let fast = compute_with(&split, &ts, opts, Backend::Kernel).unwrap();
    assert!(fast.equals_missing(&base), "features of a table read in chunks differ");
    assert_features_agree(&fast, &compute_with(&split, &ts, opts, Backend::Reference).unwrap());
    let reversed = load(&dir.path().join("reversed"));
    let fast = compute_with(&reversed, &ts, opts, Backend::Kernel).unwrap();
    let compared = assert_features_agree(&fast, &base);
    assert!(compared > 60 * fast.height(), "{compared} values compared over {} rows", fast.height());
    assert_features_agree(&fast, &compute_with(&reversed, &ts, opts, Backend::Reference).unwrap());
}

#[test]
fn ownership_never_changes_a_feature() {
    let (_dir, base) = leak_base();
    let t = [date("2025-06-30")];
    let before = compute(base, &t, &Default::default()).unwrap();
    let mut changed = base.clone();
    let (_, subjects) = changed.tables.iter_mut().find(|(s, _)| s.name == "subjects").unwrap();
    let flipped: Vec<&str> = (0..subjects.height()).map(|i| ["state", "foreign", "private"][i % 3]).collect();
    subjects.replace("ownership", Column::new("ownership".into(), flipped)).unwrap();
    let after = compute(&changed, &t, &Default::default()).unwrap();
    assert!(before.equals_missing(&after));
}

#[test]
fn licence_features_at_window_edges() {
    let dir = tempdir();
    hand_data(dir.path());
    let (a, b) = (code(1), code(2));
    let rows: [(&str, &str, &str, Option<&str>, Option<&str>, Option<&str>); 10] = [
        // (uscc, type, issued_on, expires_on, revoked_on, recorded_on)
        (&a, "食品经营许可", "2020-01-01", Some("2024-12-31"), None, None), // expired T-1 …
        (&a, "食品经营许可", "2024-12-31", Some("2029-12-31"), None, None), // … renewed T-1: held, not lapsed
        (&a, "酒类经营许可", "2022-01-01", Some(T), None, None),            // expires on T: still current
        (&a, "烟草专卖零售许可", "2021-01-01", None, Some("2024-01-02"), None), // revoked T-365: in the window, lapsed
        (&a, "公共场所卫生许可", "2021-01-01", None, Some(T), None),        // revoked on T: not yet known
        (&a, "特种设备使用登记", "2024-06-01", None, None, Some("2025-01-02")), // recorded after T: unknown
        (&a, "排污许可", "2019-01-01", Some("2023-12-31"), Some("2024-01-01"), None), // revoked T-366: outside, lapsed
        (&a, "建筑业企业资质", "2023-01-01", None, None, None),             // undeclared type: still a licence
        (&b, "食品经营许可", "2020-01-01", Some("2024-06-30"), None, None), // lapsed, but B is suspended
        (&a, "药品经营许可", T, None, None, None),                         // issued on T: not before T
    ];
    type Row<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    fn opt_dates<'a>(rows: &[Row<'a>], name: &str, f: fn(&Row<'a>) -> Option<&'a str>) -> Column {
        dates(name, &rows.iter().map(f).collect::<Vec<_>>())
    }
    let mut licences = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("licence_type".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        opt_dates(&rows, "issued_on", |r| Some(r.2)),
        opt_dates(&rows, "expires_on", |r| r.3),
        opt_dates(&rows, "revoked_on", |r| r.4),
        Column::new("issuer".into(), vec![Some("市场监督管理局"); rows.len()]),
        opt_dates(&rows, "recorded_on", |r| r.5),
    ])
    .unwrap();
    write(&mut licences, &dir.path().join("licences.parquet"));
    // B's licence was revoked by a penalty decision: the merged fact sees it too.
    let mut penalties = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [b.as_str(), a.as_str()]),
        dates("decided_on", &[Some("2024-06-01"), Some("2023-12-31")]),
        Column::new("department".into(), ["市场监督管理局"; 2]),
        Column::new("category".into(), ["食品安全违法"; 2]),
        Column::new("severity".into(), ["serious"; 2]),
        Column::new("fine_cny".into(), [10_000.0; 2]),
        Column::new("license_revoked".into(), [true; 2]),
    ])
    .unwrap();
    write(&mut penalties, &dir.path().join("penalties.parquet"));
    let df = features_at(dir.path(), T);
    let f = |u: &str, name: &str| value(&df, u, name);
    assert_eq!(f(&a, "lic_food_trade_now"), Some(1.0));
    assert_eq!(f(&a, "lic_alcohol_trade_now"), Some(1.0), "expires on T: valid through that day");
    assert_eq!(f(&a, "lic_tobacco_retail_now"), Some(0.0), "revoked before T");
    assert_eq!(f(&a, "lic_public_venue_now"), Some(1.0), "a revocation on T is not known at T");
    assert_eq!(f(&a, "lic_special_equipment_now"), Some(0.0), "recorded after T");
    assert_eq!(f(&a, "lic_drug_trade_now"), Some(0.0), "issued on T");
    assert_eq!(f(&a, "lic_discharge_now"), Some(0.0));
    assert_eq!(f(&a, "lic_current_n"), Some(4.0), "food, alcohol, public venue and the undeclared 建筑业企业资质");
    assert_eq!(f(&a, "lic_lapsed_n"), Some(2.0), "tobacco (revoked) and discharge; food was renewed");
    assert_eq!(f(&a, "lic_revoked_365d"), Some(1.0), "T-365 in, T-366 out");
    assert_eq!(f(&a, "pen_license_revoked_365d"), Some(0.0), "decided T-367");
    assert_eq!(f(&a, "licence_revoked_365d"), Some(1.0));
    assert_eq!(f(&b, "lic_food_trade_now"), Some(0.0));
    assert_eq!(f(&b, "lic_lapsed_n"), Some(0.0), "a suspended subject needs no licence");
    assert_eq!(f(&b, "lic_revoked_365d"), Some(0.0));
    assert_eq!(f(&b, "licence_revoked_365d"), Some(1.0), "revoked by a penalty decision");
    // The polars reference computes the same.
    let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
    let v = validate(raw, &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    let slow = riskwarn::features::compute_with(&v, &[date(T)], &Default::default(), riskwarn::features::Backend::Reference).unwrap();
    assert_features_agree(&df, &slow);
}

/// Options declaring `measure` features over indicator `x` (and one over `z`, which has no rows).
fn indicator_options() -> riskwarn::options::Valid<FeatureOptions> {
    use riskwarn::features::{Dimension, Direction, IndicatorFeature, IndicatorMeasure};
    use riskwarn::options::Check;
    let f = |name: &str, indicator: &str, measure: IndicatorMeasure, window: Option<i32>| IndicatorFeature {
        name: name.into(),
        indicator: indicator.into(),
        measure,
        window,
        direction: Direction::Increasing,
        zh: format!("{name}（中文）"),
        en: name.replace('_', " "),
        dimension: Dimension::Dynamic,
        public: false,
    };
    FeatureOptions {
        indicators: vec![
            f("x_last", "x", IndicatorMeasure::Last, Some(365)),
            f("x_sum", "x", IndicatorMeasure::Sum, Some(365)),
            f("x_count", "x", IndicatorMeasure::Count, Some(365)),
            f("x_max", "x", IndicatorMeasure::Max, Some(365)),
            f("x_mean", "x", IndicatorMeasure::Mean, Some(365)),
            f("x_days_since", "x", IndicatorMeasure::DaysSince, None),
            f("x_count_all", "x", IndicatorMeasure::Count, None),
            f("x_max_all", "x", IndicatorMeasure::Max, None),
            f("z_last", "z", IndicatorMeasure::Last, None),
        ],
        ..Default::default()
    }
    .check()
    .unwrap()
}

#[test]
fn declared_indicator_features_at_window_edges() {
    let dir = tempdir();
    hand_data(dir.path());
    let (a, b) = (code(1), code(2));
    let rows: [(&str, &str, &str, Option<f64>, Option<&str>); 8] = [
        // (uscc, indicator, observed_on, value, recorded_on)
        (&a, "x", "2024-01-02", Some(5.0), None),                 // T-365: inside the 365-day window
        (&a, "x", "2024-01-01", Some(100.0), None),               // T-366: outside it
        (&a, "x", "2024-12-31", Some(2.0), None),                 // T-1 …
        (&a, "x", "2024-12-31", Some(3.0), None),                 // … and a later row of the same day: the last
        (&a, "x", "2024-12-15", None, None),                      // observed without a value
        (&a, "x", T, Some(50.0), None),                           // on T: not before T
        (&a, "x", "2024-12-20", Some(40.0), Some("2025-01-02")),  // recorded after T
        (&b, "y", "2024-06-01", Some(7.0), None),                 // declared by nothing
    ];
    let mut indicators = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("indicator".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        dates("observed_on", &rows.iter().map(|r| Some(r.2)).collect::<Vec<_>>()),
        Column::new("value".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
        dates("recorded_on", &rows.iter().map(|r| r.4).collect::<Vec<_>>()),
    ])
    .unwrap();
    write(&mut indicators, &dir.path().join("indicators.parquet"));
    let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
    let v = validate(raw, &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    let opts = indicator_options();
    let df = compute(&v, &[date(T)], &opts).unwrap();
    let f = |u: &str, name: &str| value(&df, u, name);
    assert_eq!(f(&a, "x_last"), Some(3.0), "the later row of the latest day");
    assert_eq!(f(&a, "x_sum"), Some(10.0), "5 + 2 + 3; a row without a value adds nothing");
    assert_eq!(f(&a, "x_count"), Some(4.0), "the row without a value is an observation");
    assert_eq!(f(&a, "x_max"), Some(5.0));
    assert_eq!(f(&a, "x_mean"), Some(10.0 / 3.0));
    assert_eq!(f(&a, "x_days_since"), Some(1.0));
    assert_eq!(f(&a, "x_count_all"), Some(5.0), "no window: T-366 counts");
    assert_eq!(f(&a, "x_max_all"), Some(100.0));
    for name in ["x_last", "x_max", "x_mean", "x_days_since"] {
        assert_eq!(f(&b, name), None, "{name}: no observation is null, not 0");
    }
    assert_eq!((f(&b, "x_sum"), f(&b, "x_count")), (Some(0.0), Some(0.0)));
    assert!(df.column("z_last").is_err(), "a declared indicator without rows is left out");
    let notices = riskwarn::features::notices(&v, &opts, riskwarn::messages::Messages::EN).unwrap();
    assert!(notices.iter().any(|n| n.contains("`y` (1 rows)") && n.contains("ignored")), "{notices:?}");
    assert!(notices.iter().any(|n| n.contains("`z_last`") && n.contains("left out")), "{notices:?}");
    let slow = riskwarn::features::compute_with(&v, &[date(T)], &opts, riskwarn::features::Backend::Reference).unwrap();
    assert_features_agree(&df, &slow);
    // The registry carries the declaration: direction, dimension, labels.
    let registry = riskwarn::features::Registry::all(&opts);
    let x = registry.get("x_max").unwrap();
    assert_eq!((x.direction, x.dimension, x.label_en.as_str()), (riskwarn::features::Direction::Increasing, riskwarn::features::Dimension::Dynamic, "x max"));
    assert_eq!(x.visibility, riskwarn::features::Visibility::Internal, "not published unless the policy says so");
}

#[test]
fn declared_indicators_cannot_shadow_a_feature_or_be_malformed() {
    use riskwarn::options::Check;
    let mut opts = (*indicator_options()).clone();
    opts.indicators[0].name = "insp_n_30d".into();
    let e = opts.clone().check().unwrap_err().to_string();
    assert!(e.contains("`insp_n_30d` is declared twice"), "{e}");
    opts.indicators[0].name = "X last".into();
    assert!(opts.clone().check().unwrap_err().to_string().contains("lowercase"));
    opts.indicators[0].name = "x_last".into();
    opts.indicators[0].window = Some(0);
    assert!(opts.check().unwrap_err().to_string().contains("window must be 1 to"));
}

#[test]
fn relation_features_by_hand() {
    let dir = tempdir();
    let s: Vec<String> = (0..8).map(code).collect();
    let mut subjects = subjects_frame(&s);
    let status: Vec<&str> = (0..8).map(|i| if i == 7 { "cancelled" } else { "active" }).collect();
    subjects.replace("status", Column::new("status".into(), status)).unwrap();
    write(&mut subjects, &dir.path().join("subjects.parquet"));
    let one = |n: usize, v: &'static str| vec![v; n];
    let mut insp = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [s[1].as_str(), &s[1], &s[1], &s[2]]),
        dates("inspected_on", &[Some("2024-06-01"), Some("2024-12-31"), Some("2024-01-01"), Some("2024-10-01")]), // T-366 is outside
        Column::new("department".into(), one(4, "市场监督管理局")),
        Column::new("mode".into(), one(4, "random")),
        Column::new("outcome".into(), one(4, "violation")),
        Column::new("issues_found".into(), vec![Some(1i32); 4]),
    ])
    .unwrap();
    write(&mut insp, &dir.path().join("inspections.parquet"));
    let mut pen = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [s[2].as_str(), &s[7]]),
        dates("decided_on", &[Some("2024-05-01"), Some("2024-05-01")]),
        Column::new("department".into(), one(2, "市场监督管理局")),
        Column::new("category".into(), one(2, "价格违法")),
        Column::new("severity".into(), one(2, "general")),
        Column::new("fine_cny".into(), [1000.0; 2]),
        Column::new("license_revoked".into(), [false; 2]),
    ])
    .unwrap();
    write(&mut pen, &dir.path().join("penalties.parquet"));
    let mut lists = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [s[3].as_str()]),
        Column::new("list".into(), ["serious_violation"]),
        dates("listed_on", &[Some("2024-01-01")]),
        dates("removed_on", &[None]),
    ])
    .unwrap();
    write(&mut lists, &dir.path().join("credit_lists.parquet"));
    let (p1, p2) = ("P0000000001", "P0000000002");
    let rows: [(&str, &str, &str, &str, Option<&str>, Option<&str>); 14] = [
        // (uscc, related, relation, valid_from, valid_to, recorded_on)
        (&s[0], &s[1], "branch_of", "2020-01-01", None, None),
        (&s[2], &s[0], "shareholder", "2024-12-31", None, None),          // from T-1: valid
        (&s[3], &s[0], "shareholder", T, None, None),                     // from T: not yet
        (&s[4], &s[0], "shareholder", "2020-01-01", Some("2024-12-31"), None), // ended T-1
        (&s[5], &s[0], "shareholder", "2020-01-01", Some(T), None),       // ends on T: still valid
        (&s[7], &s[0], "shareholder", "2020-01-01", None, None),          // s7 is not scored
        (&s[0], p1, "legal_representative", "2020-01-01", None, None),
        (&s[3], p1, "legal_representative", "2020-01-01", None, None),
        (&s[6], p1, "shareholder", "2020-01-01", None, Some("2025-01-02")), // recorded after T
        (&s[0], p1, "shareholder", "2021-01-01", None, None),             // the same pair again
        (&s[1], p2, "shareholder", "2020-01-01", None, None),
        (&s[2], p2, "shareholder", "2020-01-01", None, None),
        (&s[3], p2, "shareholder", "2020-01-01", None, None),
        (&s[1], &s[0], "shareholder", "2020-01-01", None, None),          // both directions: one link
    ];
    let mut relations = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Column::new("related".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Column::new("relation".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        dates("valid_from", &rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>()),
        dates("valid_to", &rows.iter().map(|r| r.4).collect::<Vec<_>>()),
        dates("recorded_on", &rows.iter().map(|r| r.5).collect::<Vec<_>>()),
    ])
    .unwrap();
    write(&mut relations, &dir.path().join("relations.parquet"));
    let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
    let v = validate(raw, &ValidateOptions { reference_date: date("2026-06-30") }).unwrap();
    assert_eq!(v.rejected.height(), 0, "{:?}", v.rejected);
    let df = compute(&v, &[date(T)], &Default::default()).unwrap();
    let f = |i: usize, name: &str| value(&df, &s[i], name).unwrap();
    // Direct: s0 — s1, s2, s5 (s3 not yet, s4 ended, s7 not scored).
    assert_eq!([f(0, "rel_direct_n"), f(1, "rel_direct_n"), f(2, "rel_direct_n"), f(3, "rel_direct_n"), f(4, "rel_direct_n"), f(5, "rel_direct_n")], [3.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    assert_eq!(f(0, "rel_direct_violation_365d"), 3.0, "s1's two in the window and s2's one");
    assert_eq!(f(0, "rel_direct_penalty_365d"), 1.0, "s2's; s7's does not count");
    assert_eq!(f(0, "rel_direct_listed_n"), 0.0);
    assert_eq!(f(1, "rel_direct_violation_365d"), 0.0);
    // Through a person: p1 relates s0 and s3 (s6 recorded after T); p2 relates s1, s2, s3.
    assert_eq!([f(0, "rel_person_n"), f(1, "rel_person_n"), f(2, "rel_person_n"), f(3, "rel_person_n"), f(6, "rel_person_n")], [1.0, 2.0, 2.0, 3.0, 0.0]);
    assert_eq!(f(0, "rel_person_listed_n"), 1.0, "s3 is on the serious-violation list");
    assert_eq!(f(3, "rel_person_listed_n"), 0.0, "its own listing is not a relation's");
    assert_eq!((f(3, "rel_person_violation_365d"), f(3, "rel_person_penalty_365d")), (3.0, 1.0));
    assert_eq!((f(1, "rel_person_listed_n"), f(1, "rel_person_violation_365d"), f(1, "rel_person_penalty_365d")), (1.0, 1.0, 1.0));
    assert_eq!(riskwarn::features::capped_relation_ids(&v, date(T), &FeatureOptions::default()).unwrap(), Some(0));
    // A cap of 2 subjects per id leaves p2 (3 subjects) out.
    use riskwarn::options::Check;
    let capped = FeatureOptions { relation_person_cap: 2, ..Default::default() }.check().unwrap();
    let df = compute(&v, &[date(T)], &capped).unwrap();
    assert_eq!((value(&df, &s[3], "rel_person_n"), value(&df, &s[1], "rel_person_n")), (Some(1.0), Some(0.0)));
    assert_eq!(riskwarn::features::capped_relation_ids(&v, date(T), &capped).unwrap(), Some(1));
}
