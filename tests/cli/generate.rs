//! The generator: deterministic for a seed and any thread count, realistic rates, and `--dirty`
//! rows that validation quarantines one for one.

use polars::prelude::*;

use crate::support::*;

fn generate(out: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    riskwarn()
        .args(["generate", "--subjects", "3000", "--years", "4", "--json", "--out"])
        .arg(out)
        .args(extra)
        .run()
        .status(0)
        .json()
}

#[test]
fn same_seed_same_bytes_any_thread_count() {
    let dir = tempdir();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    generate(&a, &["--seed", "7"]);
    riskwarn()
        .env("RAYON_NUM_THREADS", "1")
        .args(["generate", "--subjects", "3000", "--years", "4", "--seed", "7", "--out"])
        .arg(&b)
        .run()
        .status(0);
    generate(&c, &["--seed", "8"]);
    let (ha, hb, hc) = (sha256_files(&a), sha256_files(&b), sha256_files(&c));
    assert_eq!(ha.len(), 17, "sixteen contract tables plus truth: {ha:?}");
    assert_eq!(ha, hb);
    for (x, y) in ha.iter().zip(&hc) {
        if x.0 != std::path::Path::new("inspectors.parquet") {
            assert_ne!(x.1, y.1, "{:?} should differ with another seed", x.0);
        }
    }
}

#[test]
fn dirty_rows_are_quarantined_one_for_one() {
    let dir = tempdir();
    let (clean, dirty) = (dir.path().join("clean"), dir.path().join("dirty"));
    let clean_summary = generate(&clean, &[]);
    let dirty_summary = generate(&dirty, &["--dirty", "0.03"]);
    let report = riskwarn()
        .args(["validate", "--as-of", "2026-06-30", "--json", "--data"])
        .arg(&dirty)
        .arg("--out")
        .arg(dir.path().join("v"))
        .run()
        .status(0)
        .json();
    let injected = &dirty_summary["dirty_injected"];
    let mut kinds = std::collections::BTreeSet::new();
    for t in report["tables"].as_array().unwrap() {
        let table = t["table"].as_str().unwrap();
        let (read, used, rejected) = (t["read"].as_u64().unwrap(), t["used"].as_u64().unwrap(), t["rejected"].as_u64().unwrap());
        assert_eq!(read, used + rejected, "{table}");
        let expected: u64 = injected[table].as_object().map_or(0, |m| m.values().map(|v| v.as_u64().unwrap()).sum());
        assert_eq!(rejected, expected, "{table}: rejected vs injected {}", injected[table]);
        // Bad subjects are appended rows; bad event rows replace clean ones in place. Either way
        // the rows that pass are exactly the clean generation's rows (less those replaced).
        let clean_rows = clean_summary["rows"][table].as_u64().unwrap();
        if table == "subjects" {
            assert_eq!(used, clean_rows, "{table}");
        } else {
            assert_eq!(read, clean_rows, "{table}");
        }
        if let Some(m) = injected[table].as_object() {
            kinds.extend(m.keys().cloned());
        }
    }
    for k in ["invalid_uscc", "unknown_subject", "unknown_enum", "future_date", "date_before_1949", "negative_amount", "duplicate_subject"] {
        assert!(kinds.contains(k), "kind {k} never injected: {kinds:?}");
    }
    let rejected = read(&dir.path().join("v/rejected.parquet"));
    assert_eq!(
        rejected.get_column_names(),
        ["table", "file", "row", "column", "reason", "uscc"]
    );
}

#[test]
fn rates_look_like_supervision_data() {
    let dir = tempdir();
    let s = generate(dir.path(), &["--seed", "3"]);
    assert!(s["events"].as_u64().unwrap() > 3000 * 8, "{s}");
    let insp = read(&dir.path().join("inspections.parquet"));
    let stats = insp
        .lazy()
        .group_by([col("mode")])
        .agg([len().alias("n"), col("outcome").eq(lit("violation")).mean().alias("violation_rate")])
        .collect()
        .unwrap();
    let rate = |mode: &str| -> f64 {
        let f = stats.clone().lazy().filter(col("mode").eq(lit(mode))).collect().unwrap();
        f.column("violation_rate").unwrap().f64().unwrap().get(0).unwrap()
    };
    let random = rate("random");
    assert!((0.05..=0.15).contains(&random), "random-inspection violation rate {random}");
    // Targeted inspections follow earlier signals, so they find more.
    assert!(rate("targeted") > random * 1.3, "targeted {} vs random {random}", rate("targeted"));
    let truth = read(&dir.path().join("truth.parquet"));
    assert_eq!(truth.height(), 3000);
    let deteriorating = truth.column("change_delta").unwrap().f64().unwrap().into_no_null_iter().filter(|d| *d > 0.0).count();
    assert!(deteriorating > 150, "some subjects deteriorate: {deteriorating}");
}

#[test]
fn bad_arguments_exit_2() {
    riskwarn().args(["generate", "--subjects", "10", "--dirty", "0.9", "--out", "/tmp/x"]).run().status(2).stderr_contains("--dirty");
    riskwarn().args(["generate", "--subjects", "10", "--end", "2026-02-30", "--out", "/tmp/x"]).run().status(2).stderr_contains("not a date");
}
