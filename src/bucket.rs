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

/// Memory a run needs per byte of Parquet input, measured at province scale (benches/scale.sh:
/// see docs/scale-out.md); `--memory-limit` divides the input by the limit with it.
pub const BYTES_PER_INPUT_BYTE: f64 = 6.0;

/// The number of buckets that keeps a run of `input_bytes` of Parquet within `limit` bytes.
pub fn for_memory(input_bytes: u64, limit: u64) -> u32 {
    let need = input_bytes as f64 * BYTES_PER_INPUT_BYTE;
    (need / limit.max(1) as f64).ceil().clamp(1.0, 4096.0) as u32
}
