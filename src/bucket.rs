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

/// How a job's peak memory depends on its input and its buckets, measured at 4M subjects /
/// 101M rows (0.89 GB of Parquet; docs/scale-out.md): peak(B) = input bytes × `peak_per_input_byte`
/// × (`population_share` + (1 − `population_share`) / B).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryModel {
    pub peak_per_input_byte: f64,
    /// The part that does not shrink with buckets: for a run, the warning list, its files, the
    /// plan and the case book; for training, the fit on the panel's rows.
    pub population_share: f64,
}

/// `riskwarn run`: 12.3 GiB with one bucket, 4.45 with 16 (benches/buckets.sh).
pub const RUN_MEMORY: MemoryModel = MemoryModel { peak_per_input_byte: 14.8, population_share: 0.32 };
/// `riskwarn train`: 24.3 GiB with one bucket, 4.96 with 8 (4M subjects, 853 MB of Parquet).
pub const TRAIN_MEMORY: MemoryModel = MemoryModel { peak_per_input_byte: 29.2, population_share: 0.09 };

/// Buckets a memory limit takes at most when the limit is below the part that does not shrink.
pub const FLOOR_BUCKETS: u32 = 64;

impl MemoryModel {
    /// The number of buckets that keeps a job on `input_bytes` of Parquet within `limit`
    /// bytes; with a notice when no number can.
    pub fn buckets_for(&self, input_bytes: u64, limit: u64, m: crate::messages::Messages) -> (u32, Option<String>) {
        let whole = input_bytes as f64 * self.peak_per_input_byte;
        let floor = whole * self.population_share;
        let limit = limit.max(1) as f64;
        if limit >= whole {
            return (1, None);
        }
        if limit <= floor * 1.05 {
            let gib = |b: f64| b / (1u64 << 30) as f64;
            return (
                FLOOR_BUCKETS,
                Some(m.fill(
                    "notice.memory_below_floor",
                    &[("limit", &format!("{:.2}", gib(limit))), ("floor", &format!("{:.2}", gib(floor))), ("bytes", &input_bytes), ("buckets", &FLOOR_BUCKETS)],
                )),
            );
        }
        let per_bucket = whole * (1.0 - self.population_share);
        ((per_bucket / (limit - floor)).ceil().clamp(1.0, FLOOR_BUCKETS as f64) as u32, None)
    }
}
