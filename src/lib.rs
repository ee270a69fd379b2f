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

pub mod bucket;
pub mod cli;
pub mod cmd;
pub mod codes;
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
