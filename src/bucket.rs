//! Buckets of subjects: a stable hash of `uscc` splits every subject-keyed table so that a
//! subject and all its rows land in the same bucket, whatever machine, run or thread count.
//! A bucketed run does everything per subject bucket by bucket (docs/scale-out.md).

use polars::prelude::*;

use crate::error::Result;

/// The bucket of a subject code among `buckets` (a null code: bucket 0, where it is rejected).
pub fn of(code: Option<&str>, buckets: u32) -> u32 {
    match code {
        None => 0,
        // FNV-1a's low bits mix poorly for codes sharing a prefix: take the high half.
        Some(c) => (((crate::digest::stable_hash(c) >> 32) * buckets as u64) >> 32) as u32,
    }
}

/// The rows of `frame` per bucket of its `uscc` column, each in the frame's order.
pub fn split(frame: &DataFrame, buckets: u32) -> Result<Vec<DataFrame>> {
    let codes = frame.column("uscc")?.str()?;
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); buckets as usize];
    for (i, code) in codes.iter().enumerate() {
        rows[of(code, buckets) as usize].push(i as IdxSize);
    }
    rows.into_iter().map(|r| Ok(frame.take(&IdxCa::from_vec("".into(), r))?)).collect()
}

/// Appends one bucket's part to what the buckets before it gave.
pub fn stack(acc: &mut Option<DataFrame>, part: DataFrame) -> Result<()> {
    match acc {
        None => *acc = Some(part),
        Some(a) => {
            a.vstack_mut(&part)?;
        }
    }
    Ok(())
}

/// Peak memory of a one-bucket run per byte of Parquet input, and the share of it that does
/// not shrink with buckets (the population-wide part: the warning list and its files, the plan,
/// the case book), measured at 4M subjects / 101M rows (benches/buckets.sh, docs/scale-out.md:
/// 12.9 GiB for 0.89 GB of input; 5.9 GiB with 4 buckets, 5.75 GiB with 16).
pub const PEAK_PER_INPUT_BYTE: f64 = 15.5;
pub const POPULATION_SHARE: f64 = 0.45;

/// Buckets `--memory-limit` takes at most when the limit is below the population-wide part.
pub const FLOOR_BUCKETS: u32 = 64;

/// The number of buckets that keeps a run of `input_bytes` of Parquet within `limit` bytes,
/// by the measured model peak(B) = peak(1) × (share + (1 − share) / B); with a notice when no
/// number can (the limit is below the part that does not shrink).
pub fn for_memory(input_bytes: u64, limit: u64) -> (u32, Option<String>) {
    let whole = input_bytes as f64 * PEAK_PER_INPUT_BYTE;
    let floor = whole * POPULATION_SHARE;
    let limit = limit.max(1) as f64;
    if limit >= whole {
        return (1, None);
    }
    if limit <= floor * 1.05 {
        let gib = |b: f64| b / (1u64 << 30) as f64;
        return (
            FLOOR_BUCKETS,
            Some(format!(
                "--memory-limit {:.2} GiB is below what this run needs whatever its buckets (about {:.2} GiB for its {} bytes of input: the warning list, its files and the plan are population-wide); running with {FLOOR_BUCKETS} buckets",
                gib(limit),
                gib(floor),
                input_bytes
            )),
        );
    }
    let per_bucket = whole * (1.0 - POPULATION_SHARE);
    ((per_bucket / (limit - floor)).ceil().clamp(1.0, FLOOR_BUCKETS as f64) as u32, None)
}
