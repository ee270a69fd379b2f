//! Library error type. Every failure is either the user's input (exit 2) or ours or the
//! machine's (exit 1), and every message names what it is about: the file, and the column and
//! row where relevant. Each variant's text already holds its cause, so a message is printed
//! with `Display` alone (`error: {e}`), never followed by its source chain.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be used at all: a missing file or column, a wrong type, a truncated file,
    /// a riskwarn file of the wrong kind.
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    /// A flag, policy or model that is invalid before any data is touched.
    #[error("{0}")]
    BadArgument(String),
    /// A file operation that failed, with the path it was done on (made by `io`).
    #[error("cannot {action} {}: {source}", path.display())]
    Io { path: PathBuf, action: IoAction, source: std::io::Error },
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Internal(String),
}

/// What was being done to a path when the operating system refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAction {
    Open,
    Read,
    Write,
    CreateDir,
    ListDir,
    Remove,
    Rename,
    Lock,
    Link,
}

impl std::fmt::Display for IoAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IoAction::Open => "open",
            IoAction::Read => "read",
            IoAction::Write => "write",
            IoAction::CreateDir => "create directory",
            IoAction::ListDir => "list directory",
            IoAction::Remove => "remove",
            IoAction::Rename => "move into place",
            IoAction::Lock => "lock",
            IoAction::Link => "point at the run",
        })
    }
}

impl Error {
    pub fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile { path: path.into(), message: message.into() }
    }

    pub fn io(action: IoAction, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), action, source }
    }

    /// Exit code per SPEC §3: 2 for bad input, 1 for anything else.
    ///
    /// A file operation is bad input when the path the user gave is what is wrong: it does not
    /// exist, is not a directory (or is one where a file is wanted), may not be written, lies on
    /// a read-only file system, or is not valid text. A full disk or quota, and any other
    /// refusal, is exit 1: the command and its inputs are right and the same command succeeds
    /// once the machine has room, which is what a scheduler retrying on 1 and alerting a person
    /// on 2 should do. Either way the message names the path.
    pub fn exit_code(&self) -> i32 {
        use std::io::ErrorKind::*;
        match self {
            Error::BadFile { .. } | Error::BadArgument(_) => 2,
            Error::Io { source, .. } => match source.kind() {
                NotFound | PermissionDenied | NotADirectory | IsADirectory | ReadOnlyFilesystem | AlreadyExists
                | InvalidFilename | InvalidData | DirectoryNotEmpty => 2,
                _ => 1,
            },
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// linfa's errors, for the models' linfa `Fit` implementations: parameters and shapes are the
/// caller's (exit 2), anything else ours (exit 1).
impl From<linfa::error::Error> for Error {
    fn from(e: linfa::error::Error) -> Self {
        use linfa::error::Error as L;
        match e {
            L::Parameters(_) | L::Priors(_) | L::NotEnoughSamples | L::MismatchedShapes(..) | L::NdShape(_) => Error::BadArgument(format!("linfa: {e}")),
            _ => Error::Internal(format!("linfa: {e}")),
        }
    }
}
