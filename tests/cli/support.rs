//! A chainable CLI test builder and helpers for small hand-written data sets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

pub struct Run {
    cmd: Command,
}

pub struct Done {
    pub out: Output,
}

pub fn riskwarn() -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_riskwarn"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    Run { cmd }
}

impl Run {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn run(mut self) -> Done {
        Done { out: self.cmd.output().expect("riskwarn binary runs") }
    }
}

impl Done {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    /// Asserts the exit code, showing stderr when it differs.
    pub fn status(self, code: i32) -> Self {
        assert_eq!(self.code(), code, "exit code; stderr:\n{}\nstdout:\n{}", self.stderr(), self.stdout());
        self
    }
    pub fn stderr_contains(self, needle: &str) -> Self {
        assert!(self.stderr().contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr());
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout()))
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn write(df: &mut DataFrame, path: &Path) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    ParquetWriter::new(std::fs::File::create(path).unwrap()).finish(df).unwrap();
}

pub fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

pub fn date(s: &str) -> i32 {
    riskwarn::dates::parse(s).unwrap()
}

/// A date column from `YYYY-MM-DD` strings (None = null).
pub fn dates(name: &str, values: &[Option<&str>]) -> Column {
    let days: Vec<Option<i32>> = values.iter().map(|v| v.map(date)).collect();
    Series::new(name.into(), days).cast(&DataType::Date).unwrap().into()
}

/// A valid USCC for test subject number `i`.
pub fn code(i: u64) -> String {
    riskwarn::generate::subject_uscc(i, b'1', "140502")
}

pub fn sha256_files(dir: &Path) -> Vec<(PathBuf, String)> {
    use sha2::Digest;
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let digest = sha2::Sha256::digest(&bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (PathBuf::from(p.file_name().unwrap()), hex)
        })
        .collect();
    out.sort();
    out
}

/// Asserts that a generated document in the repository equals `expected`; with
/// `RISKWARN_UPDATE_DOCS=1` it rewrites the file first (`cargo test --release` regenerates).
pub fn assert_generated_doc(relative: &str, expected: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("RISKWARN_UPDATE_DOCS").is_some() {
        std::fs::write(&path, expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(actual == expected, "{relative} is stale; regenerate with RISKWARN_UPDATE_DOCS=1 cargo test --release");
}

/// A valid `subjects` table for the given codes: active enterprises in H6210, region 140502.
pub fn subjects_frame(codes: &[String]) -> DataFrame {
    let n = codes.len();
    DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), codes),
        Column::new("name".into(), vec!["晋城市测试有限公司"; n]),
        Column::new("subject_type".into(), vec!["enterprise"; n]),
        Column::new("industry".into(), vec!["H6210"; n]),
        Column::new("region".into(), vec!["140502"; n]),
        dates("established_on", &vec![Some("2015-03-01"); n]),
        Column::new("registered_capital".into(), vec![Some(100.0f64); n]),
        Column::new("status".into(), vec!["active"; n]),
        Column::new("ownership".into(), vec![Some("private"); n]),
    ])
    .unwrap()
}

/// Asserts two feature frames agree: same shape and names, floats within 1e-9 (relative),
/// everything else equal (nulls included). Returns the number of float values compared.
pub fn assert_features_agree(fast: &DataFrame, slow: &DataFrame) -> usize {
    assert_eq!(fast.shape(), slow.shape());
    assert_eq!(fast.get_column_names(), slow.get_column_names());
    let mut compared = 0;
    for (a, b) in fast.columns().iter().zip(slow.columns()) {
        if a.dtype() != &DataType::Float64 {
            assert!(a.as_materialized_series().equals_missing(b.as_materialized_series()), "{}", a.name());
            continue;
        }
        for (x, y) in a.f64().unwrap().iter().zip(b.f64().unwrap().iter()) {
            match (x, y) {
                (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{}: {x} vs {y}", a.name()),
                (x, y) => assert_eq!(x, y, "{}", a.name()),
            }
            compared += 1;
        }
    }
    compared
}

/// Says that a test could not run what it needs, in one line the test harness does not capture
/// (it writes to the process's stderr directly, not through `print!`).
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// A copy of data/sample in `dir` without the named table files (e.g. `overrides.parquet`).
pub fn sample_without(files: &[&str], dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !files.contains(&name.as_str()) {
            std::fs::copy(&p, dir.join(&name)).unwrap();
        }
    }
}
