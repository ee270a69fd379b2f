//! Feature-stage benchmark on generated data: validation, the kernel, and the polars reference.
//! `cargo bench --bench features` (subjects: RISKWARN_BENCH_SUBJECTS, default 100,000).
//! For whole-process figures at province scale (4M subjects) use `benches/scale.sh`.

use std::sync::OnceLock;

use riskwarn::features::{compute_with, Backend};
use riskwarn::options::Check;
use riskwarn::validate::{validate, ValidateOptions, Validated};

fn main() {
    divan::main();
}

fn subjects() -> usize {
    std::env::var("RISKWARN_BENCH_SUBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

fn data_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let opts = riskwarn::generate::GenerateOptions { subjects: subjects(), seed: 1, ..Default::default() }.check().unwrap();
        riskwarn::generate::generate(&opts, dir.path(), &|_, _| {}).unwrap();
        dir
    })
    .path()
}

fn validated() -> &'static Validated {
    static V: OnceLock<Validated> = OnceLock::new();
    V.get_or_init(|| validate(riskwarn::io::load_dir(data_dir(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions::default()).unwrap())
}

fn as_of() -> i32 {
    riskwarn::dates::parse("2026-01-01").unwrap()
}

#[divan::bench(sample_count = 5)]
fn load_and_validate() -> Validated {
    validate(riskwarn::io::load_dir(data_dir(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions::default()).unwrap()
}

#[divan::bench(sample_count = 5)]
fn features_kernel_one_date() -> usize {
    compute_with(validated(), &[as_of()], &Default::default(), Backend::Kernel).unwrap().height()
}

#[divan::bench(sample_count = 3)]
fn features_kernel_eight_dates() -> usize {
    let dates: Vec<i32> = (0..8).map(|k| as_of() - 91 * k).collect::<Vec<_>>().into_iter().rev().collect();
    compute_with(validated(), &dates, &Default::default(), Backend::Kernel).unwrap().height()
}

#[divan::bench(sample_count = 3)]
fn features_polars_reference_one_date() -> usize {
    compute_with(validated(), &[as_of()], &Default::default(), Backend::Reference).unwrap().height()
}
