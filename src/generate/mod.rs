//! `riskwarn generate`: realistic synthetic supervision data for every table of the contract,
//! plus `truth.parquet` with each subject's hidden risk propensity (read only by evaluation).
//!
//! Subjects are simulated in fixed-size chunks, each from its own seeded stream, in parallel;
//! chunks are written in order with arrow-rs `ArrowWriter`, one row group at a time, so output
//! is identical for any thread count and memory stays bounded at any size.

mod dirt;
mod feedback;
mod indicators;
mod licences;
mod relations;

mod simulate;
mod tables;
mod world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::dates;
use crate::error::{Error, Result};
use crate::options::{Check, Valid};
use crate::io::{AtomicOutput, WriteFailure};
pub use simulate::subject_uscc;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub subjects: usize,
    pub years: u32,
    pub seed: u64,
    /// Share of rows (per table) replaced or joined by a bad row of a kind SPEC §1 quarantines.
    pub dirty: f64,
    /// Extract date: the last day of data (days since 1970-01-01).
    pub end: i32,
    pub chunk_size: usize,
    /// Case policy and plan departments of the earlier simulated run's cases (routing, due days).
    pub cases: crate::policy::CasePolicy,
    pub departments: Vec<crate::policy::Department>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            subjects: 20_000,
            years: 5,
            seed: 42,
            dirty: 0.0,
            end: dates::days_from_civil(2026, 6, 30),
            chunk_size: 20_000,
            cases: crate::policy::CasePolicy::default(),
            departments: Vec::new(),
        }
    }
}

impl Check for GenerateOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::BadArgument(m));
        if self.subjects == 0 || self.subjects > 50_000_000 {
            return bad(format!("--subjects must be between 1 and 50000000, got {}", self.subjects));
        }
        if !(1..=30).contains(&self.years) {
            return bad(format!("--years must be between 1 and 30, got {}", self.years));
        }
        if !(0.0..=0.5).contains(&self.dirty) {
            return bad(format!("--dirty must be a rate between 0 and 0.5, got {}", self.dirty));
        }
        if self.end > dates::today() {
            return bad(format!("--end {} is after today; generated data may not lie in the future", dates::format(self.end)));
        }
        if dates::year_of(self.end) - self.years as i32 <= 1985 {
            return bad("--end minus --years must lie after 1985".into());
        }
        if self.chunk_size == 0 {
            return bad("chunk size must be positive".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerateSummary {
    pub out: String,
    pub seed: u64,
    pub subjects: usize,
    pub years: u32,
    pub end: String,
    /// Rows written per table (bad rows included).
    pub rows: BTreeMap<String, u64>,
    /// Bad rows injected by `--dirty`, per table and kind.
    pub dirty_injected: BTreeMap<String, BTreeMap<String, u64>>,
    pub events: u64,
    pub seconds: f64,
}

struct TableWriter {
    writer: ArrowWriter<AtomicOutput>,
    failure: WriteFailure,
    rows: u64,
}

struct Writers {
    dir: PathBuf,
    open: BTreeMap<&'static str, TableWriter>,
}

impl Writers {
    fn write(&mut self, table: &'static str, batch: &RecordBatch) -> Result<()> {
        if !self.open.contains_key(table) {
            let file = AtomicOutput::create(&self.dir.join(format!("{table}.parquet")))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
                .set_max_row_group_row_count(Some(1 << 20))
                .build();
            let failure = file.failure();
            let writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| failure.explain(e.into()))?;
            self.open.insert(table, TableWriter { writer, failure, rows: 0 });
        }
        let w = self.open.get_mut(table).expect("inserted above");
        w.writer.write(batch).map_err(|e| w.failure.explain(e.into()))?;
        w.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes every file and renames it into place; returns rows per table. Files not yet
    /// renamed when one fails are removed (dropped).
    fn finish(self) -> Result<BTreeMap<String, u64>> {
        let mut rows = BTreeMap::new();
        for (table, w) in self.open {
            w.writer.into_inner().map_err(|e| w.failure.explain(e.into()))?.commit()?;
            rows.insert(table.to_string(), w.rows);
        }
        Ok(rows)
    }
}

/// The inspector roster: a few inspectors per department and region.
fn inspectors(opts: &GenerateOptions) -> RecordBatch {
    let mut t = tables::Inspectors::default();
    let mut r = crate::rng::Rng::new(opts.seed, u64::MAX);
    let per_cell = simulate::inspectors_per_cell(opts.subjects);
    for (d, dept) in world::DEPARTMENTS.iter().enumerate() {
        for (ri, region) in world::REGIONS.iter().enumerate() {
            for k in 0..per_cell {
                t.inspector_id.append_value(simulate::inspector_id(d, ri, k));
                let mut name = String::from(*r.pick(world::SURNAMES));
                name.push_str(*r.pick(world::GIVEN));
                name.push_str(*r.pick(world::GIVEN));
                t.name.append_value(name);
                t.department.append_value(dept);
                t.region.append_value(region.code);
            }
        }
    }
    t.finish()
}

/// Generates every table into `out`. `progress(done, total)` is called after each chunk group.
pub fn generate(opts: &Valid<GenerateOptions>, out: &Path, progress: &dyn Fn(u64, u64)) -> Result<GenerateSummary> {
    let started = std::time::Instant::now();
    crate::io::create_dir_all(out)?;
    let mut writers = Writers { dir: out.to_path_buf(), open: BTreeMap::new() };
    let result: Result<BTreeMap<String, BTreeMap<String, u64>>> = (|| {
        writers.write(tables::Inspectors::TABLE, &inspectors(opts))?;
        let n_chunks = opts.subjects.div_ceil(opts.chunk_size) as u64;
        let group = (rayon::current_num_threads() * 2) as u64;
        let mut injected: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let mut g0 = 0;
        while g0 < n_chunks {
            let g1 = (g0 + group).min(n_chunks);
            let results: Vec<_> = (g0..g1)
                .into_par_iter()
                .map(|c| {
                    let first = c * opts.chunk_size as u64;
                    let len = (opts.subjects as u64 - first).min(opts.chunk_size as u64) as usize;
                    let (mut tables, dirt) = simulate::simulate(&simulate::Chunk { opts, first_index: first, len, index: c });
                    (tables.finish(), dirt)
                })
                .collect();
            for (batches, dirt) in results {
                for (table, batch) in batches {
                    writers.write(table, &batch)?;
                }
                for ((table, kind), n) in dirt.injected {
                    *injected.entry(table.to_string()).or_default().entry(kind.to_string()).or_default() += n;
                }
            }
            progress(g1, n_chunks);
            g0 = g1;
        }
        Ok(injected)
    })();
    // On an error the writers are dropped, which removes their temporary files.
    let injected = result?;
    let rows = writers.finish()?;
    let events = rows
        .iter()
        .filter(|(t, _)| !matches!(t.as_str(), "subjects" | "truth" | "inspectors" | "conflicts" | "annual_reports" | "cases" | "dispositions" | "overrides"))
        .map(|(_, n)| n)
        .sum::<u64>()
        + rows.get("annual_reports").copied().unwrap_or(0);
    Ok(GenerateSummary {
        out: out.display().to_string(),
        seed: opts.seed,
        subjects: opts.subjects,
        years: opts.years,
        end: dates::format(opts.end),
        rows,
        dirty_injected: injected,
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}
