//! Every Parquet output opens in the tools analysts use: plain Parquet logical types in the
//! file and its embedded Arrow schema (no view or large types), checked in Rust with arrow-rs
//! and, where Python has them, with pandas (pyarrow) and DuckDB.

use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType as ArrowType, Field};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::support::*;

/// Opens each file with pandas and DuckDB, checks its row count and, for warnings, that
/// `reasons` reads back as lists of {feature, value, contribution}. Exit 3 when a package is
/// missing.
const READ_BACK: &str = r#"
import json, sys
try:
    import duckdb, pandas, pyarrow.parquet
except ImportError:
    sys.exit(3)
for path, rows in json.loads(sys.argv[1]).items():
    schema = pyarrow.parquet.read_schema(path)
    for field in schema:
        assert "view" not in str(field.type) and "large" not in str(field.type), f"{path}: {field}"
    df = pandas.read_parquet(path, engine="pyarrow")
    assert len(df) == rows, f"{path}: pandas reads {len(df)} rows, riskwarn reported {rows}"
    con = duckdb.connect()
    got = con.execute("select * from read_parquet(?)", [path]).fetchall()
    assert len(got) == rows, f"{path}: DuckDB reads {len(got)} rows, riskwarn reported {rows}"
    if "reasons" in df.columns:
        keys = ["feature", "value", "contribution"]
        first = list(df["reasons"].iloc[0])
        assert len(first) == 3 and all(list(r.keys()) == keys for r in first), f"pandas reasons: {first}"
        assert isinstance(first[0]["feature"], str) and isinstance(first[0]["contribution"], float)
        ddb = con.execute("select reasons from read_parquet(?) limit 1", [path]).fetchone()[0]
        assert len(ddb) == 3 and all(list(r.keys()) == keys for r in ddb), f"DuckDB reasons: {ddb}"
        assert ddb[0]["feature"] == first[0]["feature"]
        assert con.execute("select count(*) from read_parquet(?) where len(reasons) = 3", [path]).fetchone()[0] == rows
    print(f"{path}: {rows} rows, pandas and DuckDB agree")
"#;

/// Types a reader without Arrow view/large support cannot open, anywhere in `field`.
fn exotic_types(field: &Field, out: &mut Vec<String>) {
    match field.data_type() {
        ArrowType::Utf8View | ArrowType::BinaryView | ArrowType::LargeUtf8 | ArrowType::LargeBinary | ArrowType::LargeList(_) | ArrowType::ListView(_) | ArrowType::LargeListView(_) => {
            out.push(format!("{}: {}", field.name(), field.data_type()))
        }
        _ => {}
    }
    match field.data_type() {
        ArrowType::List(f) | ArrowType::LargeList(f) => exotic_types(f, out),
        ArrowType::Struct(fields) => fields.iter().for_each(|f| exotic_types(f, out)),
        _ => {}
    }
}

/// The Arrow schema embedded in the file (`ARROW:schema`) holds only plain types.
fn assert_plain_arrow_schema(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
    let kv = meta.metadata().file_metadata().key_value_metadata();
    assert!(kv.is_some_and(|kv| kv.iter().any(|e| e.key == "ARROW:schema")), "{}: no embedded Arrow schema", path.display());
    let mut bad = Vec::new();
    for f in meta.schema().fields() {
        exotic_types(f, &mut bad);
    }
    assert!(bad.is_empty(), "{}: view or large types in the Arrow schema: {bad:?}", path.display());
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "parquet")).collect();
    v.sort();
    v
}

fn rejected_total(tables: &serde_json::Value) -> u64 {
    tables.as_array().unwrap().iter().map(|t| t["rejected"].as_u64().unwrap()).sum()
}

#[test]
fn every_parquet_output_opens_in_pandas_and_duckdb() {
    let tmp = tempdir();
    let out = tmp.path().join("runs");
    let m = riskwarn().args(["run", "--quiet", "--json", "--as-of", "2026-07-01", "--out"]).arg(&out).run().status(0).json();
    let run_dir = out.join(m["run_id"].as_str().unwrap());

    // A small dirty data set, so the features' quarantine file has rows of every kind.
    let data = tmp.path().join("data");
    riskwarn().args(["generate", "--subjects", "300", "--years", "2", "--dirty", "0.05", "--quiet", "--out"]).arg(&data).run().status(0);
    let features = tmp.path().join("features.parquet");
    let f = riskwarn()
        .args(["features", "--quiet", "--json", "--as-of", "2026-01-01", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&features)
        .run()
        .status(0)
        .json();
    let features_rejected = tmp.path().join("features.rejected.parquet");

    // riskwarn reads its own outputs back: `plan --warnings` on the written warnings.
    let replanned = tmp.path().join("plan.parquet");
    riskwarn().args(["plan", "--quiet", "--warnings"]).arg(run_dir.join("warnings.parquet")).arg("--out").arg(&replanned).run().status(0);

    let plan_rows = read(&run_dir.join("plan.parquet")).height() as u64;
    assert!(plan_rows > 0);
    let expected: Vec<(PathBuf, u64)> = vec![
        (run_dir.join("warnings.parquet"), m["scored"].as_u64().unwrap()),
        (run_dir.join("plan.parquet"), plan_rows),
        (run_dir.join("rejected.parquet"), rejected_total(&m["tables"])),
        (run_dir.join("cases.parquet"), m["cases"]["rows"][0]["cases"].as_u64().unwrap()),
        (run_dir.join("case_events.parquet"), read(&run_dir.join("case_events.parquet")).height() as u64),
        (features.clone(), f["rows"].as_u64().unwrap()),
        (features_rejected.clone(), rejected_total(&f["tables"])),
        (replanned.clone(), read(&replanned).height() as u64),
    ];
    assert_eq!(parquet_files(&run_dir).len(), 5, "warnings, plan, rejected, cases and case_events are the run's Parquet files");
    assert!(rejected_total(&f["tables"]) > 0, "the dirty data set has rejected rows");
    for (path, _) in &expected {
        assert_plain_arrow_schema(path);
    }

    let arg: serde_json::Map<String, serde_json::Value> =
        expected.iter().map(|(p, n)| (p.display().to_string(), serde_json::Value::from(*n))).collect();
    let python = std::process::Command::new("python3").arg("-c").arg(READ_BACK).arg(serde_json::Value::Object(arg).to_string()).output();
    match python {
        Err(_) => skipped("pandas/duckdb not installed (pip install pandas pyarrow duckdb)"),
        Ok(o) if o.status.code() == Some(3) => skipped("pandas/duckdb not installed (pip install pandas pyarrow duckdb)"),
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "pandas/DuckDB read-back failed:\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
            print!("{stdout}");
        }
    }
}

#[test]
fn parquet_outputs_do_not_depend_on_the_thread_count() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let ma = riskwarn().args(["run", "--quiet", "--json", "--as-of", "2026-07-01", "--out"]).arg(&a).run().status(0).json();
    let mb = riskwarn()
        .env("RAYON_NUM_THREADS", "1")
        .env("POLARS_MAX_THREADS", "1")
        .args(["run", "--quiet", "--json", "--as-of", "2026-07-01", "--out"])
        .arg(&b)
        .run()
        .status(0)
        .json();
    let (da, db) = (a.join(ma["run_id"].as_str().unwrap()), b.join(mb["run_id"].as_str().unwrap()));
    assert_eq!(sha256_files(&da), sha256_files(&db));
}

/// A frame of every type riskwarn writes, with nulls at every level (null lists, null list
/// elements, null structs and struct fields), several chunks and a row-group boundary.
fn every_type_frame(rows: usize) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let part = |offset: usize, n: usize| -> DataFrame {
        let i = |k: usize| offset + k;
        let some = |k: usize, every: usize| i(k) % every != 0;
        let reasons: Vec<Option<Series>> = (0..n)
            .map(|k| {
                some(k, 7).then(|| {
                    let m = i(k) % 4;
                    let feature: Vec<Option<String>> = (0..m).map(|j| (j != 1).then(|| format!("特征_{}", i(k) + j))).collect();
                    let value: Vec<Option<f64>> = (0..m).map(|j| (j != 2).then_some(j as f64 * 0.5)).collect();
                    let contribution: Vec<f64> = (0..m).map(|j| -(j as f64)).collect();
                    StructChunked::from_series(
                        "item".into(),
                        m,
                        [Series::new("feature".into(), feature), Series::new("value".into(), value), Series::new("contribution".into(), contribution)].iter(),
                    )
                    .unwrap()
                    .into_series()
                })
            })
            .collect();
        let tags: Vec<Option<Series>> =
            (0..n).map(|k| some(k, 5).then(|| Series::new("".into(), (0..i(k) % 3).map(|j| (j != 1).then(|| "x".repeat(j + 1))).collect::<Vec<_>>()))).collect();
        DataFrame::new_infer_height(vec![
            Column::new("u32".into(), (0..n).map(|k| some(k, 3).then_some(i(k) as u32)).collect::<Vec<_>>()),
            Column::new("u64".into(), (0..n).map(|k| i(k) as u64 * 1_000_000_007).collect::<Vec<_>>()),
            Column::new("i32".into(), (0..n).map(|k| some(k, 4).then_some(-(i(k) as i32))).collect::<Vec<_>>()),
            Column::new("f64".into(), (0..n).map(|k| some(k, 6).then_some(i(k) as f64 / 3.0)).collect::<Vec<_>>()),
            Column::new("flag".into(), (0..n).map(|k| some(k, 9).then_some(i(k) % 2 == 0)).collect::<Vec<_>>()),
            Column::new("text".into(), (0..n).map(|k| some(k, 8).then(|| format!("行{}", i(k)))).collect::<Vec<_>>()),
            Column::new("day".into(), (0..n).map(|k| some(k, 10).then_some(i(k) as i32)).collect::<Vec<_>>()).cast(&DataType::Date).unwrap(),
            Column::new("reasons".into(), reasons),
            Column::new("tags".into(), tags),
        ])
        .unwrap()
    };
    // 997 distinct rows gathered to the length, in unequal chunks, so a row group starts
    // inside a chunk and spans two.
    let base = part(0, 997);
    let index = IdxCa::from_vec("".into(), (0..rows).map(|k| ((k * 7919) % 997) as IdxSize).collect());
    let all = base.take(&index).unwrap();
    let mut df = all.slice(0, rows / 3);
    df.vstack_mut(&all.slice((rows / 3) as i64, rows - rows / 3)).unwrap();
    if rows >= 3 {
        assert_eq!(df.column("reasons").unwrap().as_materialized_series().n_chunks(), 2);
    }
    df
}

#[test]
fn written_parquet_reads_back_equal_at_every_level() {
    let tmp = tempdir();
    for rows in [0, 1, 50, (1 << 20) + 3] {
        let mut df = every_type_frame(rows);
        let path = tmp.path().join(format!("t{rows}.parquet"));
        riskwarn::io::write_parquet(&mut df, &path).unwrap();
        assert_plain_arrow_schema(&path);
        let back = riskwarn::io::read_parquet(&path).unwrap();
        assert_eq!(back.schema(), df.schema(), "{rows} rows: riskwarn reads back the dtypes it wrote");
        assert!(back.equals_missing(&df), "{rows} rows: values, nulls and lists read back equal");
    }
}

/// A frame made a row group at a time as the file is written (the warning list's rows) gives the
/// bytes of the whole frame: across row groups, pages, and the dictionary's fallback to plain
/// values (more distinct texts than a dictionary page holds).
#[test]
fn a_frame_made_a_row_group_at_a_time_writes_the_bytes_of_a_held_one() {
    use polars::prelude::*;
    let tmp = tempdir();
    let rows = (1 << 20) + 250_003;
    let text = |k: usize| format!("理由{}：{}", (k * 7919) % 400_000, "近365天投诉次数".repeat(k % 4));
    let frame = |from: usize, to: usize| {
        DataFrame::new(to - from, vec![
            Column::new("id".into(), (from as u32..to as u32).collect::<Vec<_>>()),
            Column::new("text".into(), (from..to).map(text).collect::<Vec<_>>()),
            Column::new("after".into(), (from..to).map(|k| (k % 3) as f64).collect::<Vec<_>>()),
        ])
        .unwrap()
    };
    let mut held = frame(0, rows);
    let (a, b) = (tmp.path().join("held.parquet"), tmp.path().join("made.parquet"));
    riskwarn::io::write_parquet(&mut held, &a).unwrap();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let make = |offset: usize, len: usize| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(frame(offset, offset + len))
    };
    riskwarn::io::write_parquet_made(rows, &make, &b).unwrap();
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) > 2, "the frame is made a group at a time");
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "the same bytes");
}
