//! riskwarn: batch risk early warning for market supervision (市场监管事中事后监管).
//!
//! The pipeline: load+validate → features(as-of T) → matrix → model → score+reasons →
//! grade+level → plan → outputs+manifest+report. Each stage is a pure function over in-memory
//! frames; `io` is the only module that touches the file system (reads, writes, directories,
//! locks, the run directory's commit), and library code reads no environment variable.


/// mimalloc for every binary, test and benchmark linking the library: the pipeline allocates and
/// frees large column buffers and many small strings, where the system allocator spends much of
/// its time returning pages to the kernel and faulting them back in.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    fn mi_version() -> std::ffi::c_int;
}

/// `mi_option_purge_decommits` in mimalloc v3's `mi_option_e` (options are numbered by
/// version: another major version is left as it is).
const MI_OPTION_PURGE_DECOMMITS: std::ffi::c_int = 5;

/// Tunes the allocator for a batch job that frees and reallocates column buffers of gigabytes
/// (stage after stage, bucket after bucket): memory it frees is *reset* (`MADV_FREE`: the
/// kernel takes the pages back when it needs them) instead of decommitted (`MADV_DONTNEED`).
/// A decommitted page costs a fresh page fault, zeroed, when the buffer is allocated again —
/// on a virtual machine that reports free pages to its host, a page the host must back again
/// (docs/scale-out.md: a 4M-subject `riskwarn run` 150.7 → 115.7 s). The cost is that freed,
/// not yet reclaimed pages still count in the process's resident size.
pub fn reset_freed_memory() {
    RESETTING.store(true, std::sync::atomic::Ordering::Relaxed);
    set_purge_decommits(0);
}

/// Undoes [`reset_freed_memory`], if it was called: a job split into buckets to bound its
/// resident memory decommits what it frees, so that its peak resident size is its real need.
pub fn decommit_freed_memory() {
    if RESETTING.load(std::sync::atomic::Ordering::Relaxed) {
        set_purge_decommits(1);
    }
}

static RESETTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn set_purge_decommits(value: std::ffi::c_long) {
    // SAFETY: reads the linked mimalloc's version and sets one integer option; valid at any time.
    unsafe {
        if mi_version() / 10000 == 3 {
            mi_option_set(MI_OPTION_PURGE_DECOMMITS, value);
        }
    }
}

pub mod bucket;
pub mod cli;
pub mod cmd;
pub mod codes;
pub mod columns;
pub mod cases;
pub mod contract;
pub mod dates;
pub mod digest;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod generate;
pub mod grade;
pub mod io;
pub mod kernel;
pub mod labels;
pub mod list;
pub mod messages;
pub mod metrics;
pub mod model;
pub mod options;
pub mod overrides;
pub mod plan;
pub mod policy;
pub mod reason_text;
pub mod report;
pub mod rng;
pub mod run;
pub mod score;
pub mod uscc;
pub mod validate;

pub use error::{Error, Result};
