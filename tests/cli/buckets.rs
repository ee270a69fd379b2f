//! Bucketed runs (docs/scale-out.md): any number of buckets gives the same bytes as one.

use std::path::Path;

use polars::prelude::*;

use crate::support::*;

/// Every output file of a run directory but the manifest (which records timings and buckets).
fn output_hashes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.json")
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// Runs `riskwarn run` on `data` with the given bucket flags; returns the run directory and manifest.
fn run_with(data: &Path, out: &Path, flags: &[&str]) -> (std::path::PathBuf, serde_json::Value) {
    let m = riskwarn()
        .args(["run", "--quiet", "--json", "--as-of", "2026-07-01", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(flags)
        .run()
        .status(0)
        .json();
    (out.join(m["run_id"].as_str().unwrap()), m)
}

fn assert_same_outputs(a: &Path, b: &Path, what: &str) {
    assert_same_outputs_but(a, b, what, &[]);
}

fn assert_same_outputs_but(a: &Path, b: &Path, what: &str, except: &[&str]) {
    let keep = |h: Vec<(String, Vec<u8>)>| h.into_iter().filter(|(n, _)| !except.contains(&n.as_str())).collect::<Vec<_>>();
    let (ha, hb) = (keep(output_hashes(a)), keep(output_hashes(b)));
    assert_eq!(ha.iter().map(|h| &h.0).collect::<Vec<_>>(), hb.iter().map(|h| &h.0).collect::<Vec<_>>(), "{what}: files");
    for ((name, x), (_, y)) in ha.iter().zip(&hb) {
        assert!(x == y, "{what}: {name} differs");
    }
}

#[test]
fn the_sample_gives_the_same_bytes_with_1_3_and_16_buckets() {
    let tmp = tempdir();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let (one, m1) = run_with(&sample, &tmp.path().join("b1"), &["--buckets", "1"]);
    assert_eq!(m1["buckets"], 1);
    assert_eq!(m1["spill_bytes"], 0);
    for b in ["3", "16"] {
        let out = tmp.path().join(format!("b{b}"));
        let (dir, m) = run_with(&sample, &out, &["--buckets", b]);
        assert_eq!(m["buckets"].to_string(), b);
        assert!(m["spill_bytes"].as_u64().unwrap() > 0, "more than one bucket goes through the spill");
        assert_same_outputs(&one, &dir, &format!("{b} buckets"));
        for key in ["tables", "levels", "grades", "hard_rules_fired", "plan", "cases", "relation_ids_capped", "stability", "notices"] {
            assert_eq!(m1[key], m[key], "manifest {key} with {b} buckets");
        }
        // The spill's temporary directory is gone.
        let left: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(left.iter().all(|n| !n.starts_with(".tmp-") && n != ".riskwarn-spill"), "left behind: {left:?}");
    }
}

#[test]
fn dirty_data_is_quarantined_the_same_way_in_any_number_of_buckets() {
    let tmp = tempdir();
    let data = tmp.path().join("data");
    riskwarn()
        .args(["generate", "--quiet", "--subjects", "1500", "--seed", "11", "--dirty", "0.05", "--end", "2026-06-30", "--out"])
        .arg(&data)
        .run()
        .status(0);
    let (one, m1) = run_with(&data, &tmp.path().join("b1"), &[]);
    let (seven, m7) = run_with(&data, &tmp.path().join("b7"), &["--buckets", "7"]);
    assert_same_outputs(&one, &seven, "7 buckets");
    assert_eq!(m1["tables"], m7["tables"]);
    let rejected = read(&one.join("rejected.parquet")).height() as u64;
    assert!(rejected > 100, "the dirty data has rejected rows: {rejected}");
    let mut total_rejected = 0;
    for t in m7["tables"].as_array().unwrap() {
        let (read, used, rej) = (t["read"].as_u64().unwrap(), t["used"].as_u64().unwrap(), t["rejected"].as_u64().unwrap());
        assert_eq!(read, used + rej, "{}", t["table"]);
        total_rejected += rej;
    }
    assert_eq!(total_rejected, rejected, "every rejected row is in rejected.parquet");
}

/// The sample's cases, and a subject of another bucket (of `buckets`) than the first case's.
fn sample_cases_and_a_subject_of_another_bucket(buckets: u32) -> (DataFrame, String) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let cases = read(&sample.join("cases.parquet"));
    let first_uscc = cases.column("uscc").unwrap().str().unwrap().get(0).unwrap().to_string();
    let home = riskwarn::bucket::of(Some(&first_uscc), buckets);
    let subjects = read(&sample.join("subjects.parquet"));
    let other = subjects.column("uscc").unwrap().str().unwrap().iter().flatten().find(|c| riskwarn::bucket::of(Some(c), buckets) != home).unwrap().to_string();
    (cases, other)
}

#[test]
fn a_case_id_repeated_in_another_bucket_is_rejected_as_in_one_bucket() {
    let tmp = tempdir();
    let data = tmp.path().join("data");
    sample_without(&["cases.parquet"], &data);
    let (cases, other) = sample_cases_and_a_subject_of_another_bucket(16);
    let first_id = cases.column("case_id").unwrap().str().unwrap().get(0).unwrap().to_string();
    let mut repeat = cases.head(Some(1));
    repeat.with_column(Column::new("uscc".into(), [other.as_str()])).unwrap();
    let mut cases = cases.vstack(&repeat).unwrap();
    write(&mut cases, &data.join("cases.parquet"));
    let (one, _) = run_with(&data, &tmp.path().join("b1"), &[]);
    let (many, m) = run_with(&data, &tmp.path().join("b16"), &["--buckets", "16"]);
    assert_same_outputs(&one, &many, "16 buckets");
    let rejected = read(&many.join("rejected.parquet"));
    let mask = rejected.column("table").unwrap().str().unwrap().equal("cases");
    let rows = rejected.filter(&mask).unwrap();
    assert_eq!(rows.height(), 1, "{rows}");
    assert_eq!(rows.column("uscc").unwrap().str().unwrap().get(0), Some(other.as_str()));
    assert!(rows.column("reason").unwrap().str().unwrap().get(0).unwrap().starts_with("duplicate (case_id)"));
    assert_eq!(rows.column("row").unwrap().u64().unwrap().get(0), Some(cases.height() as u64));
    let counts = m["tables"].as_array().unwrap().iter().find(|t| t["table"] == "cases").unwrap().clone();
    assert_eq!(counts["rejected"], 1);
    assert!(!first_id.is_empty());
}

#[test]
fn a_memory_limit_chooses_the_buckets() {
    let tmp = tempdir();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let (one, _) = run_with(&sample, &tmp.path().join("b1"), &[]);
    // The sample's ~5 MB of Parquet needs more than 4 MiB whatever the buckets: the run says so
    // (in its notices, so in the report) and goes on with the most buckets.
    let (small, m) = run_with(&sample, &tmp.path().join("small"), &["--memory-limit", "4MiB"]);
    assert_eq!(m["buckets"], riskwarn::bucket::FLOOR_BUCKETS);
    assert!(m["notices"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("低于本任务无论分多少桶都需要的内存")), "{}", m["notices"]);
    assert_same_outputs_but(&one, &small, "--memory-limit", &["report.html"]);
    // Within reach: enough buckets to fit, by the measured model.
    let (fits, m) = run_with(&sample, &tmp.path().join("fits"), &["--memory-limit", "60MiB"]);
    let b = m["buckets"].as_u64().unwrap();
    assert!(b > 1 && b < riskwarn::bucket::FLOOR_BUCKETS as u64, "{b}");
    assert_same_outputs(&one, &fits, "--memory-limit 60MiB");
    let (_, big) = run_with(&sample, &tmp.path().join("big"), &["--memory-limit", "64GiB"]);
    assert_eq!(big["buckets"], 1);
}

#[test]
fn training_in_buckets_gives_the_same_model() {
    let tmp = tempdir();
    // Someone else's temporary directory beside the model file is none of training's business.
    std::fs::create_dir(tmp.path().join(".tmp-mine")).unwrap();
    let train = |flags: &[&str], out: &str| {
        riskwarn().args(["train", "--quiet", "--data", "data/sample", "--model-out"]).arg(tmp.path().join(out)).args(flags).run().status(0);
        std::fs::read(tmp.path().join(out)).unwrap()
    };
    let one = train(&[], "one.json");
    assert!(one == train(&["--buckets", "4"], "four.json"), "the model trained in 4 buckets differs");
    assert!(one == std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/logistic-sample.json")).unwrap(), "models/logistic-sample.json is not what `riskwarn train` gives");
    let left: Vec<String> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|n| n == ".tmp-mine" || (!n.starts_with(".tmp-") && n != ".riskwarn-spill")), "left behind: {left:?}");
    assert!(tmp.path().join(".tmp-mine").is_dir(), "a directory training did not make was removed");
}

#[test]
fn bad_bucket_flags_are_refused_with_exit_2() {
    for (flags, message) in [
        (vec!["--buckets", "0"], "--buckets: 0 is not between 1 and 4096"),
        (vec!["--memory-limit", "8 parsecs"], "--memory-limit: '8 parsecs' is not a size"),
        (vec!["--memory-limit", "0GiB"], "not a positive size"),
        (vec!["--buckets", "2", "--memory-limit", "1GiB"], "cannot be used with"),
    ] {
        riskwarn().args(["run", "--quiet", "--out", "/nonexistent/never"]).args(&flags).run().status(2).stderr_contains(message);
    }
}

#[test]
fn a_bad_file_stops_a_bucketed_run_with_the_same_message() {
    let tmp = tempdir();
    let data = tmp.path().join("data");
    sample_without(&["penalties.parquet"], &data);
    let mut bad = df!("uscc" => ["x"], "decided_on" => ["not a date"]).unwrap();
    write(&mut bad, &data.join("penalties.parquet"));
    let message = |flags: &[&str]| {
        let done = riskwarn()
            .args(["run", "--quiet", "--as-of", "2026-07-01", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .args(flags)
            .run()
            .status(2);
        done.stderr()
    };
    let one = message(&[]);
    assert!(one.contains("penalties.parquet"), "{one}");
    assert_eq!(one, message(&["--buckets", "5"]));
}

#[test]
fn files_of_a_table_directory_are_in_reading_order_for_any_split() {
    // `cases/2024/q1.parquet` is read before `cases/2024-extra.parquet` (paths compare part by
    // part), though as text '-' sorts before '/'. The same case id in both, for subjects of
    // different buckets: the row of 2024/q1 is kept whatever the split.
    let tmp = tempdir();
    let data = tmp.path().join("data");
    sample_without(&["cases.parquet"], &data);
    let (cases, other) = sample_cases_and_a_subject_of_another_bucket(4);
    let mut first = cases.head(Some(10));
    let mut extra = cases.head(Some(1));
    extra.with_column(Column::new("uscc".into(), [other.as_str()])).unwrap();
    write(&mut first, &data.join("cases/2024/q1.parquet"));
    write(&mut extra, &data.join("cases/2024-extra.parquet"));
    let (one, _) = run_with(&data, &tmp.path().join("b1"), &[]);
    let (four, _) = run_with(&data, &tmp.path().join("b4"), &["--buckets", "4"]);
    assert_same_outputs(&one, &four, "4 buckets");
    let rejected = read(&four.join("rejected.parquet"));
    let rows = rejected.filter(&rejected.column("table").unwrap().str().unwrap().equal("cases")).unwrap();
    assert_eq!(rows.height(), 1, "{rows}");
    assert_eq!(rows.column("file").unwrap().str().unwrap().get(0), Some("cases/2024-extra.parquet"));
    assert_eq!(rows.column("uscc").unwrap().str().unwrap().get(0), Some(other.as_str()));
}
