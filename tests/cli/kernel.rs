//! The per-bucket kernel with Arrow in and out (docs/scale-out.md), driven as an engine would:
//! the sample read with arrow-rs, split into 3 buckets, partials merged by concatenation, and
//! the result compared with `riskwarn run` on the same files: the warning list and plan calls,
//! and the run directory `finish` makes, file for file.

use std::path::Path;

use arrow::array::{Array, BooleanArray, StringArray};
use arrow::record_batch::RecordBatch;
use polars::prelude::*;
use riskwarn::kernel::{self, Context};

use crate::support::*;

const AS_OF: &str = "2026-07-01";
const BUCKETS: u32 = 3;

fn read_batch(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn bucket_rows(batch: &RecordBatch, b: u32) -> RecordBatch {
    let codes = batch.column_by_name("uscc").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    let mask: BooleanArray = (0..codes.len()).map(|i| Some(riskwarn::bucket::of((!codes.is_null(i)).then(|| codes.value(i)), BUCKETS) == b)).collect();
    arrow::compute::filter_record_batch(batch, &mask).unwrap()
}

fn as_tables(bucket: &[(String, RecordBatch)]) -> Vec<(&str, &RecordBatch)> {
    bucket.iter().map(|(n, b)| (n.as_str(), b)).collect()
}

#[test]
fn the_sample_through_the_arrow_kernel_in_3_buckets_matches_riskwarn_run() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let policy = riskwarn::policy::Policy::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml"))).unwrap();
    let model = riskwarn::model::Model::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/logistic-sample.json"))).unwrap();
    let ctx = Context { policy: &policy, as_of: date(AS_OF), today: riskwarn::dates::today() };
    let mut tables: Vec<(String, RecordBatch)> = Vec::new();
    for t in riskwarn::contract::TABLES {
        let path = sample.join(format!("{}.parquet", t.name));
        if path.exists() {
            tables.push((t.name.to_string(), read_batch(&path)));
        }
    }
    let inspectors = tables.iter().find(|(n, _)| n == "inspectors").map(|(_, b)| b.clone());
    let present: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    // Each bucket's rows of every subject-keyed table (the roster goes to every call whole).
    let buckets: Vec<Vec<(String, RecordBatch)>> = (0..BUCKETS)
        .map(|b| tables.iter().filter(|(n, _)| n != "inspectors").map(|(n, batch)| (n.clone(), bucket_rows(batch, b))).collect())
        .collect();
    let partials: Vec<kernel::Partials> = buckets.iter().map(|b| kernel::partials(&as_tables(b), inspectors.as_ref(), &ctx, None).unwrap()).collect();
    let whole: Vec<(&str, &RecordBatch)> = partials.iter().flat_map(|p| p.whole.iter().map(|(n, b)| (*n, b))).collect();
    let quiet = riskwarn::io::from_record_batch(&kernel::quiet(&whole, None, &ctx).unwrap()).unwrap();
    let quiet: Vec<&str> = quiet.column("uscc").unwrap().str().unwrap().iter().flatten().collect();
    assert!(!quiet.is_empty(), "the sample's dispositions close cases not_confirmed: some subjects are quiet");
    // "Merging" is concatenation: the kernel adds the rows of equal keys.
    let concat = |get: &dyn Fn(&kernel::Partials) -> &RecordBatch| -> RecordBatch {
        let parts: Vec<RecordBatch> = partials.iter().map(|p| get(p).clone()).collect();
        arrow::compute::concat_batches(&parts[0].schema(), &parts).unwrap()
    };
    let groups = concat(&|p| &p.peer_groups);
    let moments = concat(&|p| &p.peer_moments);
    let indicators = concat(&|p| &p.indicator_rows);
    let nodes: Vec<&RecordBatch> = partials.iter().map(|p| p.relation_nodes.as_ref().unwrap()).collect();
    let edges: Vec<&RecordBatch> = partials.iter().map(|p| p.relation_edges.as_ref().unwrap()).collect();
    let subjects: Vec<&RecordBatch> = partials.iter().map(|p| &p.subjects).collect();
    let (relations, capped) = kernel::relation_features(&nodes, &edges, &subjects, &present, &ctx).unwrap();
    let scored: Vec<RecordBatch> = buckets
        .iter()
        .map(|b| kernel::score(&as_tables(b), inspectors.as_ref(), &groups, &moments, Some(&relations), &indicators, &quiet, &model, &ctx).unwrap().0)
        .collect();
    let overrides: Vec<&RecordBatch> = whole.iter().filter(|(n, _)| *n == "overrides").map(|(_, b)| *b).collect();
    assert_eq!(overrides.len(), BUCKETS as usize, "every bucket gives its overrides part");
    let list = kernel::warning_list(&scored.iter().collect::<Vec<_>>(), &overrides, None, &model, &ctx).unwrap();
    let list = riskwarn::io::from_record_batch(&list).unwrap();
    list_in_blocks_is_the_same_list(&scored, &overrides, &model, &policy);

    let tmp = tempdir();
    let m = riskwarn().args(["run", "--quiet", "--json", "--as-of", AS_OF, "--out"]).arg(tmp.path()).run().status(0).json();
    let run_dir = tmp.path().join(m["run_id"].as_str().unwrap());
    let native = read(&run_dir.join("warnings.parquet"));
    assert_eq!(list.height(), native.height());
    for name in ["rank", "uscc", "name", "score", "risk_level", "credit_grade", "reason_text", "reasons", "hard_rules", "grade_before_override", "observation_period", "days_since_random_pass", "change"] {
        let (a, b) = (list.column(name).unwrap(), native.column(name).unwrap());
        assert!(a.as_materialized_series().equals_missing(b.as_materialized_series()), "column {name} differs");
    }
    // Quarantine counts add up to the run's.
    let counts = riskwarn::io::from_record_batch(&concat(&|p| &p.counts)).unwrap();
    for t in m["tables"].as_array().unwrap() {
        let name = t["table"].as_str().unwrap();
        if name == "inspectors" {
            continue;
        }
        let read_total: u64 = counts
            .clone()
            .lazy()
            .filter(col("table").eq(lit(name)))
            .select([col("read").sum()])
            .collect()
            .unwrap()
            .column("read")
            .unwrap()
            .u64()
            .unwrap()
            .get(0)
            .unwrap_or(0);
        assert_eq!(read_total, t["read"].as_u64().unwrap(), "{name}");
    }
    // The plan drawn over the kernel's list selects the same units with the same probabilities.
    let plan = riskwarn::io::from_record_batch(&kernel::plan(&riskwarn::io::to_record_batch(&list).unwrap(), &ctx, policy.seed).unwrap()).unwrap();
    let native_plan = read(&run_dir.join("plan.parquet"));
    for name in ["uscc", "department", "stratum", "inclusion_probability", "selected"] {
        let (a, b) = (plan.column(name).unwrap(), native_plan.column(name).unwrap());
        assert!(a.as_materialized_series().equals_missing(b.as_materialized_series()), "plan column {name} differs");
    }

    // The run directory of every bucket's parts is `riskwarn run`'s, file for file.
    let files = |name: &str| riskwarn::run::FileHash { file: name.to_string(), sha256: riskwarn::io::sha256_file(&sample.join(name)).unwrap(), bytes: std::fs::metadata(sample.join(name)).unwrap().len() };
    let facts = kernel::RunFacts {
        present: present.iter().map(|n| n.to_string()).collect(),
        inputs: present.iter().map(|n| files(&format!("{n}.parquet"))).collect(),
        relation_ids_capped: Some(capped),
        score_notices: Vec::new(),
        buckets: BUCKETS,
        ..Default::default()
    };
    let all = |get: &dyn Fn(&kernel::Partials) -> &RecordBatch| -> Vec<&RecordBatch> { partials.iter().map(get).collect() };
    let parts = kernel::RunParts {
        scored: &scored.iter().collect::<Vec<_>>(),
        whole: &whole,
        inspectors: inspectors.as_ref(),
        window_inspections: &[],
        counts: &all(&|p| &p.counts),
        rejected: &all(&|p| &p.rejected),
        indicator_rows: &all(&|p| &p.indicator_rows),
        ranks: None,
    };
    let hashes = (riskwarn::run::FileHash::of(Path::new("models/logistic-sample.json")).unwrap(), riskwarn::run::FileHash::of(Path::new("riskwarn.toml")).unwrap());
    let artifacts = kernel::finish(&parts, facts, None, &model, hashes, &ctx, policy.seed).unwrap();
    let ours_out = tempdir();
    let ours = riskwarn::run::commit(artifacts, ours_out.path(), &|| {}).unwrap();
    assert_eq!(ours.manifest.run_id, m["run_id"].as_str().unwrap(), "the same inputs name the same run");
    let mut names: Vec<String> = std::fs::read_dir(&run_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names.iter().filter(|n| *n != "manifest.json") {
        let (a, b) = (std::fs::read(ours.run_dir.join(name)).unwrap(), std::fs::read(run_dir.join(name)).unwrap());
        assert!(a == b, "{name} differs from riskwarn run's");
    }
    let manifest = |dir: &Path| {
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        for k in ["timings_seconds", "buckets", "spill_bytes"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    assert_eq!(manifest(&ours.run_dir), manifest(&run_dir));
}

/// The list made from the buckets' scored rows (their keys, the rest spilled), its rows in
/// blocks of 1,000 ranks, gives the rows of the list made in one block: all of them, and any
/// range across blocks, read in any order (the blocks are read back from the spill).
fn list_in_blocks_is_the_same_list(scored: &[RecordBatch], overrides: &[&RecordBatch], model: &riskwarn::model::Model, policy: &riskwarn::policy::Policy) {
    let overrides = arrow::compute::concat_batches(&overrides[0].schema(), overrides.iter().copied()).unwrap();
    let overrides = riskwarn::io::from_record_batch(&overrides).unwrap();
    let list = |block_rows: usize| {
        let spill = riskwarn::io::Spill::memory();
        let mut keys = riskwarn::list::Keys::default();
        for (b, batch) in scored.iter().enumerate() {
            let frame = riskwarn::io::from_record_batch(batch).unwrap();
            let part = riskwarn::score::Scored::from_frame(&frame, model, policy, date(AS_OF)).unwrap();
            keys.push(part, &format!("scored/{b}"), &spill, model, policy).unwrap();
        }
        let input = riskwarn::score::WarningsInput { model, policy, previous: None, overrides: Some(&overrides) };
        riskwarn::list::List::make_in_blocks(keys, spill, &input, block_rows).unwrap().list
    };
    let (one, small) = (list(riskwarn::list::BLOCK), list(1_000));
    let n = one.len();
    assert!(n > 10_000, "the sample spans many blocks of 1,000");
    for (offset, len) in [(12_345, 2_100), (990, 20), (0, n), (n - 5, 5), (3_000, 1_000)] {
        let (a, b) = (one.rows_with_text(offset, len, None).unwrap(), small.rows_with_text(offset, len, None).unwrap());
        assert_eq!(a.height(), len);
        assert!(a.equals_missing(&b), "rows {offset}..{} differ", offset + len);
    }
}

