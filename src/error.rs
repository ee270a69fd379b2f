//! Library error type. Every failure is either the user's input (exit 2) or ours (exit 1).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be used at all: a missing file or column, a wrong type, a truncated file.
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    /// A flag, policy or model that is invalid before any data is touched.
    #[error("{0}")]
    BadArgument(String),
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile { path: path.into(), message: message.into() }
    }

    /// Exit code per SPEC §3: 2 for bad input, 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadFile { .. } | Error::BadArgument(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
