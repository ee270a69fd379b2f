//! `riskwarn export`: the model as SQL, run in DuckDB and PostgreSQL over the sample's features,
//! gives riskwarn's own scores to 1e-9 (tests/sql/check_export.py) for both model kinds.

use std::path::Path;

use crate::support::{riskwarn, skipped, tempdir};

fn python_has(module: &str) -> bool {
    std::process::Command::new("python3").args(["-c", &format!("import {module}")]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn exported_sql_scores_as_riskwarn_does_in_duckdb_and_postgres() {
    if !python_has("duckdb") {
        return skipped("the SQL export check: DuckDB's Python package not installed (pip install duckdb)");
    }
    let dir = tempdir();
    let d = dir.path();
    let features = d.join("features.parquet");
    riskwarn().args(["features", "--quiet", "--data", "data/sample", "--as-of", "2026-01-01", "--out"]).arg(&features).run().status(0);
    for kind in ["logistic", "gbdt"] {
        let model = format!("models/{kind}-sample.json");
        let runs = d.join(format!("runs-{kind}"));
        riskwarn().args(["score", "--quiet", "--data", "data/sample", "--as-of", "2026-01-01", "--model", &model, "--out"]).arg(&runs).run().status(0);
        let sql = |dialect: &str| {
            let out = d.join(format!("{kind}-{dialect}.sql"));
            let summary = riskwarn().args(["export", "--json", "--model", &model, "--dialect", dialect, "--sql"]).arg(&out).run().status(0).json();
            assert_eq!(summary["dialect"], dialect);
            assert_eq!(summary["bytes"].as_u64().unwrap(), std::fs::metadata(&out).unwrap().len());
            out
        };
        let (duck, postgres) = (sql("duckdb"), sql("postgres"));
        let text = std::fs::read_to_string(&duck).unwrap();
        assert!(text.contains("FROM features") && text.contains("AS score"), "{}", &text[..300]);
        let out = std::process::Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sql/check_export.py"))
            .args([&features, &runs.join("latest/warnings.parquet"), &duck, &postgres])
            .output()
            .expect("python3 runs");
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match out.status.code() {
            Some(0) => print!("{kind}: {said}"),
            // DuckDB agreed (the script checks it first); PostgreSQL could not be started here.
            Some(3) if said.contains("duckdb: ") && said.contains("skipped: PostgreSQL") => skipped(&format!("{kind}: {}", said.lines().last().unwrap_or(""))),
            _ => panic!("{kind}: exported SQL disagrees with riskwarn:\n{said}"),
        }
    }
}

#[test]
fn export_of_a_file_that_is_no_model_is_exit_2_and_the_table_name_is_the_callers() {
    let dir = tempdir();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    riskwarn().args(["export", "--model"]).arg(&bad).arg("--sql").arg(dir.path().join("x.sql")).run().status(2);
    assert!(!dir.path().join("x.sql").exists(), "nothing written for a bad model");
    let out = dir.path().join("y.sql");
    riskwarn().args(["export", "--quiet", "--model", "models/logistic-sample.json", "--table", "warehouse.features_2026", "--sql"]).arg(&out).run().status(0);
    assert!(std::fs::read_to_string(Path::new(&out)).unwrap().contains("FROM warehouse.features_2026"));
}
