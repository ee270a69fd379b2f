//! `riskwarn features`: load → validate → features as of each date → Parquet.

use std::time::Instant;

use crate::cli::{FeaturesArgs, Global};
use crate::error::Result;
use crate::validate::TableCounts;

#[derive(serde::Serialize)]
struct Summary<'a> {
    out: String,
    as_of: Vec<String>,
    rows: usize,
    features: usize,
    tables: &'a [TableCounts],
    seconds_load: f64,
    seconds_validate: f64,
    seconds_features: f64,
    seconds_write: f64,
}

pub fn run(args: &FeaturesArgs, global: &Global) -> Result<()> {
    let as_of = args.as_of_dates()?;
    let policy = crate::policy::Policy::load(&args.policy)?;
    let m = crate::messages::Messages::new(policy.language);
    let opts = policy.features;
    let t0 = Instant::now();
    let raw = crate::io::load_dir(&args.data, m)?;
    for n in &raw.notices {
        super::notice(global, n);
    }
    let t1 = Instant::now();
    let mut validated = crate::validate::validate(raw, &crate::validate::ValidateOptions::default())?;
    for n in crate::features::notices(&validated, &opts, m)? {
        super::notice(global, &n);
    }
    let t2 = Instant::now();
    let df = crate::features::compute_releasing(&mut validated, &as_of, &opts)?;
    let t3 = Instant::now();
    let rejected_path = args.out.with_extension("rejected.parquet");
    crate::io::write_parquet(&mut validated.rejected, &rejected_path)?;
    // The tables no feature read (subjects, relations …) are not needed either.
    validated.tables.clear();
    crate::io::write_parquet_wide(&df, &args.out)?;
    let t4 = Instant::now();
    let summary = Summary {
        out: args.out.display().to_string(),
        as_of: as_of.iter().map(|d| crate::dates::format(*d)).collect(),
        rows: df.height(),
        features: df.width() - 2,
        tables: &validated.counts,
        seconds_load: (t1 - t0).as_secs_f64(),
        seconds_validate: (t2 - t1).as_secs_f64(),
        seconds_features: (t3 - t2).as_secs_f64(),
        seconds_write: (t4 - t3).as_secs_f64(),
    };
    super::print_summary(global, &summary, || {
        let rejected: u64 = validated.counts.iter().map(|c| c.rejected).sum();
        let secs = [summary.seconds_load, summary.seconds_validate, summary.seconds_features, summary.seconds_write].map(|v| format!("{v:.2}"));
        m.fill(
            "summary.features",
            &[
                ("rows", &summary.rows),
                ("features", &summary.features),
                ("as_of", &summary.as_of.join(", ")),
                ("out", &summary.out),
                ("load", &secs[0]),
                ("validate", &secs[1]),
                ("compute", &secs[2]),
                ("write", &secs[3]),
                ("rejected", &rejected),
                ("file", &rejected_path.display()),
            ],
        ) + "\n"
    })
}
