//! Files: the only module that touches the file system. Every other module works on loaded
//! values and hands what it produced back to `io` to write.
//!
//! Input tables are found in a data directory, their footers checked with arrow-rs `parquet`
//! (schema and integrity, before any data is loaded), then read with polars and cast to the
//! contract's logical types. riskwarn's own outputs are read back through [`read_output`], which
//! checks they are of the expected kind. Outputs are written to a temporary name and renamed
//! into place ([`AtomicOutput`]); a run's directory is committed by [`RunDir`]. Every failing file
//! operation becomes an [`Error::Io`] naming its path.

mod run_dir;
mod spill;

use std::fs::File;
use std::path::{Path, PathBuf};

pub use run_dir::{list_runs, RunDir, RunEntry};
pub use spill::Spill;

use arrow::datatypes::DataType as ArrowType;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use polars::prelude::*;

use crate::contract::{ColType, TableSpec, TABLES};
use crate::error::{Error, IoAction, Result};
use crate::messages::Messages;

/// Attaches the path and the action to an operating-system error.
trait At<T> {
    fn at(self, action: IoAction, path: &Path) -> Result<T>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, action: IoAction, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(action, path, e))
    }
}

/// Hidden bookkeeping columns carried from load to quarantine.
pub const FILE_COL: &str = "__file";
pub const ROW_COL: &str = "__row";

/// Where one table's rows live: a single file or every `*.parquet` below a directory.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub spec: &'static TableSpec,
    pub files: Vec<PathBuf>,
    /// The files as rejected.parquet names them: their paths from the data directory
    /// (`penalties.parquet`, `inspections/2025/part-0.parquet`).
    pub names: Vec<String>,
}

/// A file's path from the data directory, with `/` between its parts.
fn relative_name(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// A table as read: contract columns cast to their logical types, plus `__file` (index into
/// `files`) and `__row` (1-based row within that file).
#[derive(Debug, Clone)]
pub struct RawTable {
    pub spec: &'static TableSpec,
    pub files: Vec<PathBuf>,
    /// The files as rejected.parquet names them ([`TableSource::names`]).
    pub names: Vec<String>,
    pub frame: DataFrame,
    /// Columns present in the files but not in the contract (ignored, with a notice).
    pub extra_columns: Vec<String>,
}

/// Every table found in a data directory: read, or found and not read yet ([`load_dir`]
/// defers reading each table until it is taken, so a consumer that takes one table at a time
/// never holds every table as read).
#[derive(Debug, Clone, Default)]
pub struct RawData {
    pub tables: Vec<RawTable>,
    /// Things the user should hear once: absent optional tables, ignored columns and files.
    pub notices: Vec<String>,
    /// Tables whose footers were checked and whose rows are read when taken, with their
    /// columns unknown to the contract.
    unread: Vec<(TableSource, Vec<String>)>,
}

impl RawData {
    /// Tables already read.
    pub fn new(tables: Vec<RawTable>, notices: Vec<String>) -> Self {
        RawData { tables, notices, unread: Vec::new() }
    }

    /// Whether the data holds table `name` (read or not).
    pub fn has(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t.spec.name == name) || self.unread.iter().any(|(s, _)| s.spec.name == name)
    }

    /// Reads every table not read yet (in contract order, as found).
    pub fn read_all(&mut self) -> Result<()> {
        for (source, extra) in std::mem::take(&mut self.unread) {
            self.tables.push(load_table(&source, extra)?);
        }
        Ok(())
    }

    /// Whether every table has been read.
    pub fn is_read(&self) -> bool {
        self.unread.is_empty()
    }

    /// Takes table `name` out of the data, reading its files now if they were not read yet.
    pub fn take(&mut self, name: &str) -> Result<Option<RawTable>> {
        if let Some(i) = self.tables.iter().position(|t| t.spec.name == name) {
            return Ok(Some(self.tables.remove(i)));
        }
        match self.unread.iter().position(|(s, _)| s.spec.name == name) {
            Some(i) => {
                let (source, extra) = self.unread.remove(i);
                load_table(&source, extra).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Finds the tables of the contract in `dir`.
pub fn discover(dir: &Path, m: Messages) -> Result<(Vec<TableSource>, Vec<String>)> {
    if !dir.is_dir() {
        return Err(Error::bad_file(dir, "data directory not found"));
    }
    let mut sources = Vec::new();
    for spec in TABLES {
        let file = dir.join(format!("{}.parquet", spec.name));
        let sub = dir.join(spec.name);
        let files = match (file.is_file(), sub.is_dir()) {
            (true, true) => {
                return Err(Error::bad_file(
                    dir,
                    format!("both {}.parquet and {}/ exist; keep one", spec.name, spec.name),
                ));
            }
            (true, false) => vec![file],
            (false, true) => {
                let mut files = Vec::new();
                collect_parquet(&sub, &mut files)?;
                files.sort();
                if files.is_empty() {
                    return Err(Error::bad_file(&sub, "directory holds no *.parquet file"));
                }
                files
            }
            (false, false) => {
                if spec.required {
                    return Err(Error::bad_file(
                        dir,
                        format!("required table `{}` not found ({}.parquet or {}/)", spec.name, spec.name, spec.name),
                    ));
                }
                continue;
            }
        };
        let names = files.iter().map(|f| relative_name(dir, f)).collect();
        sources.push(TableSource { spec, files, names });
    }
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(dir).at(IoAction::ListDir, dir)? {
        let name = entry.at(IoAction::ListDir, dir)?.file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(".parquet").unwrap_or(&name);
        let looks_like_data = name.ends_with(".parquet") || dir.join(&name).is_dir();
        if looks_like_data && TABLES.iter().all(|t| t.name != stem) && !name.starts_with('.') && stem != "truth" {
            unknown.push(name);
        }
    }
    let present: Vec<&str> = sources.iter().map(|s| s.spec.name).collect();
    Ok((sources, discovery_notices(&present, &unknown, m)))
}

/// The loader's notices on what a data directory holds: each optional table it lacks (but the
/// feedback tables, which a bureau adds when it has them), in contract order, then each entry
/// that is no table of the contract, by name.
pub fn discovery_notices(present: &[&str], unknown: &[String], m: Messages) -> Vec<String> {
    let absent = TABLES.iter().filter(|t| !t.required && !present.contains(&t.name) && !crate::contract::FEEDBACK_TABLES.contains(&t.name));
    let mut notices: Vec<String> = absent.map(|t| m.fill("notice.absent_table", &[("table", &t.name)])).collect();
    let mut unknown: Vec<&String> = unknown.iter().collect();
    unknown.sort();
    notices.extend(unknown.iter().map(|name| m.fill("notice.unknown_table", &[("name", name)])));
    notices
}

/// The notice on a table's columns the contract does not know, if it has any.
pub fn extra_column_notice(table: &str, extra: &[String], m: Messages) -> Option<String> {
    (!extra.is_empty()).then(|| m.fill("notice.extra_columns", &[("table", &table), ("columns", &extra.join(", "))]))
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).at(IoAction::ListDir, dir)? {
        let path = entry.at(IoAction::ListDir, dir)?.path();
        if path.is_dir() {
            collect_parquet(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

fn type_fits(ty: ColType, arrow: &ArrowType) -> bool {
    use ArrowType::*;
    match ty {
        ColType::Str => match arrow {
            Utf8 | LargeUtf8 | Utf8View => true,
            Dictionary(_, v) => matches!(**v, Utf8 | LargeUtf8 | Utf8View),
            _ => false,
        },
        ColType::Date => matches!(arrow, Date32 | Date64 | Timestamp(_, _)),
        ColType::F64 => arrow.is_numeric() && !matches!(arrow, Decimal128(..) | Decimal256(..)),
        ColType::I32 => arrow.is_integer(),
        ColType::Bool => matches!(arrow, Boolean),
    }
}

/// Reads one file's footer and checks it against the contract: a truncated or unreadable file,
/// a missing required column or a column of the wrong type is an error naming file and column.
/// Returns the names of the file's columns that the contract does not know.
pub fn check_footer(path: &Path, spec: &TableSpec) -> Result<Vec<String>> {
    let file = File::open(path).at(IoAction::Open, path)?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| Error::bad_file(path, format!("not a readable Parquet file (truncated or corrupt?): {e}")))?;
    let schema = meta.schema();
    for c in spec.columns {
        match schema.field_with_name(c.name) {
            Ok(field) if !type_fits(c.ty, field.data_type()) => {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "table `{}`, column `{}`: expected {}, found {}",
                        spec.name,
                        c.name,
                        c.ty.describe(),
                        field.data_type()
                    ),
                ));
            }
            Ok(_) => {}
            Err(_) if c.optional => {}
            Err(_) => {
                return Err(Error::bad_file(
                    path,
                    format!("table `{}`: required column `{}` ({}) is missing", spec.name, c.name, c.ty.describe()),
                ));
            }
        }
    }
    Ok(schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| spec.column(n).is_none())
        .collect())
}

fn logical_dtype(ty: ColType) -> DataType {
    match ty {
        ColType::Str => DataType::String,
        ColType::Date => DataType::Date,
        ColType::F64 => DataType::Float64,
        ColType::I32 => DataType::Int32,
        ColType::Bool => DataType::Boolean,
    }
}

/// Checks the footers of a table's files; returns the columns the contract does not know.
fn check_footers(source: &TableSource) -> Result<Vec<String>> {
    let mut extra = Vec::new();
    for path in &source.files {
        for name in check_footer(path, source.spec)? {
            if !extra.contains(&name) {
                extra.push(name);
            }
        }
    }
    Ok(extra)
}

/// Reads file `i` of a table (rows `slice` = (first, count) of it, or all), casts its columns to
/// the contract's types (absent optional columns as nulls), and adds `__file` and `__row`.
fn read_file(spec: &TableSpec, i: usize, path: &Path, slice: Option<(usize, usize)>) -> Result<DataFrame> {
    let file = File::open(path).at(IoAction::Open, path)?;
    let mut reader = ParquetReader::new(file);
    let present: Vec<String> = {
        let schema = reader.schema().map_err(|e| Error::bad_file(path, e.to_string()))?;
        spec.columns.iter().filter(|c| schema.contains(c.name)).map(|c| c.name.to_string()).collect()
    };
    let reader = reader.with_columns(Some(present.clone()));
    let df = match slice {
        // The reader makes the row index chunked like the data, so columns stay aligned.
        None => reader.with_row_index(Some(RowIndex { name: ROW_COL.into(), offset: 1 })).finish(),
        Some((first, count)) => reader.with_slice(Some((first, count))).finish().and_then(|df| df.with_row_index(ROW_COL.into(), Some(first as IdxSize + 1))),
    }
    .map_err(|e| Error::bad_file(path, format!("cannot read: {e}")))?;
    conform(spec, df, &present, lit(i as u32)).map_err(|e| Error::bad_file(path, format!("cannot convert to the contract's types: {e}")))
}

/// A table's rows with the contract's columns in its logical types (absent optional columns
/// as nulls), `__file` from `file` and `__row` as it is.
fn conform(spec: &TableSpec, df: DataFrame, present: &[String], file: Expr) -> PolarsResult<DataFrame> {
    let exprs: Vec<Expr> = spec
        .columns
        .iter()
        .map(|c| {
            let target = logical_dtype(c.ty);
            if present.iter().any(|p| p == c.name) {
                col(c.name).cast(target)
            } else {
                lit(NULL).cast(target).alias(c.name)
            }
        })
        .chain([file.cast(DataType::UInt32).alias(FILE_COL)])
        .collect();
    df.lazy().select(exprs.into_iter().chain([col(ROW_COL)]).collect::<Vec<_>>()).collect()
}

/// A table of the contract from an engine's record batch, as the loader would have read it:
/// the contract's columns cast to their types, the rest ignored (and named in `extra_columns`).
/// Where each row came from is in the optional columns `__file` (the file as rejected.parquet
/// names it, e.g. `inspections/part-0.parquet`) and `__row` (1-based in that file); without
/// them, `<table>.parquet` and the row's position.
pub fn raw_table_from_batch(table: &str, batch: &arrow::record_batch::RecordBatch) -> Result<RawTable> {
    let spec = crate::contract::table(table).ok_or_else(|| Error::BadArgument(format!("`{table}` is not a table of the data contract")))?;
    let mut df = from_record_batch(batch)?;
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let present: Vec<String> = spec.columns.iter().filter(|c| names.iter().any(|n| n == c.name)).map(|c| c.name.to_string()).collect();
    let extra: Vec<String> = names.iter().filter(|n| spec.column(n).is_none() && *n != FILE_COL && *n != ROW_COL).cloned().collect();
    let mut names: Vec<String> = Vec::new();
    let file_index: Vec<u32> = match df.column(FILE_COL) {
        Ok(c) => {
            let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
            c.cast(&DataType::String)?
                .str()?
                .iter()
                .map(|name| {
                    let name = name.unwrap_or("");
                    *index.entry(name.to_string()).or_insert_with(|| {
                        names.push(name.to_string());
                        names.len() as u32 - 1
                    })
                })
                .collect()
        }
        Err(_) => vec![0; df.height()],
    };
    if names.is_empty() {
        names.push(format!("{table}.parquet"));
    }
    df.with_column(Column::new("__file_index".into(), file_index))?;
    if df.column(ROW_COL).is_err() {
        df.with_column(Column::new(ROW_COL.into(), (1..=df.height() as u64).collect::<Vec<u64>>()))?;
    }
    let df = df.lazy().with_column(col(ROW_COL).cast(DataType::UInt64)).collect()?;
    let frame = conform(spec, df, &present, col("__file_index")).map_err(|e| Error::BadArgument(format!("table `{table}`: cannot convert to the contract's types: {e}")))?;
    let files = names.iter().map(PathBuf::from).collect();
    Ok(RawTable { spec, files, names, frame, extra_columns: extra })
}

/// Loads a table whose footers were checked (`extra`: its columns unknown to the contract):
/// the data of every file, cast and stacked.
fn load_table(source: &TableSource, extra: Vec<String>) -> Result<RawTable> {
    let mut frames = Vec::with_capacity(source.files.len());
    for (i, path) in source.files.iter().enumerate() {
        frames.push(read_file(source.spec, i, path, None)?);
    }
    let mut frame = frames.remove(0);
    for f in &frames {
        frame.vstack_mut(f)?;
    }
    Ok(RawTable { spec: source.spec, files: source.files.clone(), names: source.names.clone(), frame, extra_columns: extra })
}

/// Discovers every table of a data directory and checks every footer, so a broken file stops
/// the run before work is done; each table's rows are read when it is taken ([`RawData::take`]).
pub fn load_dir(dir: &Path, m: Messages) -> Result<RawData> {
    let (sources, mut notices) = discover(dir, m)?;
    let extras: Vec<Vec<String>> = sources.iter().map(check_footers).collect::<Result<_>>()?;
    notices.extend(extra_column_notices(&sources, &extras, m));
    Ok(RawData { tables: Vec::new(), notices, unread: sources.into_iter().zip(extras).collect() })
}

/// One notice per table (in contract order, as discovered) whose files hold columns the
/// contract does not know.
fn extra_column_notices(sources: &[TableSource], extras: &[Vec<String>], m: Messages) -> Vec<String> {
    sources.iter().zip(extras).filter_map(|(s, extra)| extra_column_notice(s.spec.name, extra, m)).collect()
}

/// Rows read at a time when a table is split into buckets: what loading holds at once.
const SLICE_ROWS: usize = 1 << 21;

/// A data directory's tables split into buckets of subjects by a stable hash of `uscc`
/// ([`crate::bucket`]), held in a [`Spill`] until each bucket is taken on its own. Tables
/// without a subject column (the inspector roster) are not split.
pub struct BucketedData {
    pub buckets: u32,
    /// The split tables as read, with no rows: spec, files, extra columns, schema.
    split: Vec<RawTable>,
    /// Per split table, per bucket: the spill keys of its pieces in reading order.
    pieces: Vec<Vec<Vec<String>>>,
    /// The tables not split, and the loader's notices.
    pub global: RawData,
    /// With one bucket: the tables with subjects, not read until the bucket is taken (then
    /// one at a time, [`RawData::take`]).
    one_bucket: RawData,
}

/// Discovers the tables of `dir`, checks every footer, and splits them into `buckets` buckets
/// kept in `spill`. With one bucket nothing of those tables is read yet: the bucket is the
/// data as [`load_dir`] finds it; more are read [`SLICE_ROWS`] rows at a time, so loading
/// never holds a whole table.
pub fn load_buckets(dir: &Path, buckets: u32, spill: &Spill, m: Messages) -> Result<BucketedData> {
    let buckets = buckets.max(1);
    let RawData { notices, unread, .. } = load_dir(dir, m)?;
    let mut out = BucketedData { buckets, split: Vec::new(), pieces: Vec::new(), global: RawData::new(Vec::new(), notices), one_bucket: RawData::default() };
    for (source, extra) in unread {
        if source.spec.column("uscc").is_none() {
            out.global.tables.push(load_table(&source, extra)?);
            continue;
        }
        if buckets == 1 {
            out.one_bucket.unread.push((source, extra));
            continue;
        }
        let mut keys: Vec<Vec<String>> = vec![Vec::new(); buckets as usize];
        let mut empty: Option<DataFrame> = None;
        let put = |b: usize, part: DataFrame, keys: &mut Vec<Vec<String>>| -> Result<()> {
            let key = format!("raw/{}/{b}/{}", source.spec.name, keys[b].len());
            spill.put(&key, part)?;
            keys[b].push(key);
            Ok(())
        };
        for (i, path) in source.files.iter().enumerate() {
            let file = File::open(path).at(IoAction::Open, path)?;
            let rows = ParquetReader::new(file).num_rows().map_err(|e| Error::bad_file(path, format!("cannot read: {e}")))?;
            let mut first = 0;
            loop {
                let frame = read_file(source.spec, i, path, Some((first, SLICE_ROWS)))?;
                if empty.is_none() {
                    empty = Some(frame.clear());
                }
                for (b, part) in crate::bucket::split(&frame, buckets)?.into_iter().enumerate() {
                    if part.height() > 0 {
                        put(b, part, &mut keys)?;
                    }
                }
                first += SLICE_ROWS;
                if first >= rows {
                    break;
                }
            }
        }
        let empty = empty.ok_or_else(|| Error::Internal(format!("table {} has no file", source.spec.name)))?;
        out.split.push(RawTable { spec: source.spec, files: source.files.clone(), names: source.names.clone(), frame: empty, extra_columns: extra });
        out.pieces.push(keys);
    }
    Ok(out)
}

impl BucketedData {
    /// The split tables' rows of bucket `b`, taken out of the spill (each bucket once); with
    /// one bucket, the tables with subjects as found, each read when it is taken.
    pub fn take(&mut self, b: u32, spill: &Spill) -> Result<RawData> {
        if self.buckets == 1 {
            return Ok(std::mem::take(&mut self.one_bucket));
        }
        let mut tables = Vec::with_capacity(self.split.len());
        for (t, keys) in self.split.iter().zip(&self.pieces) {
            let keys = &keys[b as usize];
            let frame = if keys.len() == 1 {
                spill.take(&keys[0])?
            } else {
                let mut frame = t.frame.clone();
                for key in keys {
                    frame.vstack_mut(&spill.take(key)?)?;
                }
                frame.rechunk_mut();
                frame
            };
            tables.push(RawTable { frame, ..t.clone() });
        }
        Ok(RawData::new(tables, Vec::new()))
    }
}

/// Path of the temporary sibling used for an atomic write.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Creates a directory and its parents (nothing to do if it exists). When a file stands where a
/// directory is needed, the error names that file.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        let blocker = dir.ancestors().find(|a| a.exists() && !a.is_dir() && !a.as_os_str().is_empty());
        match blocker {
            Some(file) => Error::io(
                IoAction::CreateDir,
                dir,
                std::io::Error::new(std::io::ErrorKind::NotADirectory, format!("{} is a file, not a directory", file.display())),
            ),
            None => Error::io(IoAction::CreateDir, dir, e),
        }
    })
}

/// An output file written under a temporary sibling name and renamed to its path by
/// [`AtomicOutput::commit`]; dropped uncommitted, the temporary file is removed. The first
/// operating-system error of a write is kept (see [`WriteFailure`]), so that a failure which a
/// format library wraps in its own error still comes out as "cannot write PATH: the reason".
pub struct AtomicOutput {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
    failure: WriteFailure,
}

/// The first refused write of an [`AtomicOutput`], shared with whoever wraps the file (a format
/// writer that owns it).
#[derive(Clone)]
pub struct WriteFailure {
    path: PathBuf,
    refused: std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>,
}

impl WriteFailure {
    /// The error to report for a failed write: the system's refusal with the file's path if
    /// there was one, else `error` itself.
    pub fn explain(&self, error: Error) -> Error {
        match self.refused.lock().expect("not poisoned").take() {
            Some(os) => Error::io(IoAction::Write, &self.path, os),
            None => error,
        }
    }

    fn keep(&self, e: std::io::Error) -> std::io::Error {
        if e.kind() == std::io::ErrorKind::Interrupted {
            return e;
        }
        let copy = std::io::Error::new(e.kind(), e.to_string());
        self.refused.lock().expect("not poisoned").get_or_insert(e);
        copy
    }
}

impl AtomicOutput {
    /// Creates the temporary file (and the directories above `path`).
    pub fn create(path: &Path) -> Result<AtomicOutput> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dir_all(parent)?;
        }
        let tmp = temp_sibling(path);
        let file = File::create(&tmp).at(IoAction::Write, path)?;
        let failure = WriteFailure { path: path.to_path_buf(), refused: Default::default() };
        Ok(AtomicOutput { path: path.to_path_buf(), tmp, file: Some(file), failure })
    }

    /// Writes all of `bytes`.
    pub fn put(&mut self, bytes: &[u8]) -> Result<()> {
        std::io::Write::write_all(self, bytes).map_err(|e| self.failure.explain(Error::io(IoAction::Write, &self.path, e)))
    }

    /// See [`WriteFailure::explain`].
    pub fn explain(&self, error: Error) -> Error {
        self.failure.explain(error)
    }

    /// A handle on this file's first refused write, for when a writer owns the file.
    pub fn failure(&self) -> WriteFailure {
        self.failure.clone()
    }

    /// Flushes to disk and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("open until committed");
        file.sync_all().at(IoAction::Write, &self.path)?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).at(IoAction::Rename, &self.path)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl std::io::Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file = self.file.as_mut().expect("open until committed");
        std::io::Write::write(file, buf).map_err(|e| self.failure.keep(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let file = self.file.as_mut().expect("open until committed");
        std::io::Write::flush(file).map_err(|e| self.failure.keep(e))
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes bytes produced by `write` to `path` atomically (temporary file, then rename).
pub fn write_atomic<T>(path: &Path, write: impl FnOnce(&mut AtomicOutput) -> Result<T>) -> Result<T> {
    let mut file = AtomicOutput::create(path)?;
    match write(&mut file) {
        Ok(value) => file.commit().map(|()| value),
        Err(e) => Err(file.explain(e)),
    }
}

/// Writes a frame as zstd Parquet, atomically, with plain Parquet logical types (see
/// [`plain_arrow_type`]) and the matching `ARROW:schema`. Each row group's columns are
/// converted and encoded in parallel; the bytes depend only on the frame, not on threads.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    write_plain_parquet(df, path, PLAIN)
}

// zstd level 3 as polars wrote before; dictionaries up to 8 MiB keep repeated texts (names,
// reason texts) dictionary-encoded instead of falling back to plain pages after 1 MiB.
const PLAIN: Encoding<'static> = Encoding { zstd_level: 3, dictionary_page_bytes: 8 << 20, plain_columns: &[] };

/// [`write_parquet`] for a large frame rewritten in full every night (the case book and its
/// trail): zstd level 1, and its `plain_columns`, which hold (nearly) one value per row — ids,
/// free text — without a dictionary, which could only fill up and be dropped.
pub fn write_parquet_with_plain(df: &mut DataFrame, path: &Path, plain_columns: &[&str]) -> Result<()> {
    write_plain_parquet(df, path, Encoding { zstd_level: 1, dictionary_page_bytes: 8 << 20, plain_columns })
}

/// [`write_parquet_with_plain`] for a file that only grows from run to run (the case trail):
/// `df` is `earlier`'s rows followed by new ones. The leading row groups of `earlier` that are
/// full are copied as they are, without decoding or encoding them again; the rest of `df` is
/// encoded after them. Row groups hold [`GROWING_ROW_GROUP`] rows, so the bytes are those a
/// full write of `df` gives (tested); an `earlier` file of another layout is not copied from.
/// Returns how many rows were copied.
pub fn write_parquet_growing(df: &DataFrame, path: &Path, plain_columns: &[&str], earlier: Option<&Encoded>) -> Result<usize> {
    let encoding = Encoding { zstd_level: 1, dictionary_page_bytes: 8 << 20, plain_columns };
    write_parquet_groups(RowSource::Frame(df), path, encoding, GROWING_ROW_GROUP, earlier)
}

/// Rows per row group of a file written by [`write_parquet_growing`]: small enough that most
/// of a trail sits in full groups that the next run copies.
pub const GROWING_ROW_GROUP: usize = 1 << 17;

/// A riskwarn output as read (its bytes and footer), kept so that a file that only grows can
/// copy its encoded row groups into the next run's file ([`write_parquet_growing`]).
#[derive(Clone)]
pub struct Encoded {
    bytes: bytes::Bytes,
    metadata: std::sync::Arc<parquet::file::metadata::ParquetMetaData>,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Encoded({} bytes, {} row groups)", self.bytes.len(), self.metadata.num_row_groups())
    }
}

impl PartialEq for Encoded {
    fn eq(&self, other: &Encoded) -> bool {
        self.bytes == other.bytes
    }
}

/// [`read_output`], also keeping the file as read ([`Encoded`]): the frame is decoded from the
/// same bytes that a later [`write_parquet_growing`] copies, so what was checked is what is
/// carried.
pub fn read_output_encoded(path: &Path, kind: OutputKind) -> Result<(DataFrame, Encoded)> {
    use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataOptions, ParquetMetaDataReader};
    let bytes = bytes::Bytes::from(std::fs::read(path).at(IoAction::Read, path)?);
    // Everything a copied column chunk's metadata carries, as the writer wrote it (the page
    // encoding counts too, which the reader otherwise folds into a mask).
    let metadata = ParquetMetaDataReader::new()
        .with_metadata_options(Some(ParquetMetaDataOptions::new().with_encoding_stats_as_mask(false)))
        .with_page_index_policy(PageIndexPolicy::Optional)
        .parse_and_finish(&bytes)
        .map_err(|e| Error::bad_file(path, format!("not {}: not a readable Parquet file: {e}", kind.describe())))?;
    let df = finish_output(checked_output(ParquetReader::new(std::io::Cursor::new(bytes.clone())), path, kind, &kind.columns())?, path, kind)?;
    Ok((df, Encoded { bytes, metadata: std::sync::Arc::new(metadata) }))
}

/// Reads a Parquet file written by riskwarn whose columns need no check (`truth.parquet`).
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).at(IoAction::Open, path)?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::bad_file(path, format!("cannot read: {e}")))
}

/// A riskwarn output that is read back, and what makes a file one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// warnings.parquet of `run` or `score`.
    Warnings,
    /// plan.parquet of `run` or `plan`.
    Plan,
    /// cases.parquet of `run` or `score`.
    Cases,
    /// case_events.parquet of `run` or `score`.
    CaseEvents,
}

impl OutputKind {
    /// The columns a file of this kind must hold to be read back: every column riskwarn writes,
    /// less those added after the first release (older lists stay readable without them).
    pub fn columns(self) -> Vec<&'static str> {
        let added_later = |c: &str| c == "grade_before_override" || crate::cases::WARNING_COLUMNS.contains(&c);
        let all = match self {
            OutputKind::Warnings => crate::score::COLUMNS,
            OutputKind::Plan => crate::plan::COLUMNS,
            OutputKind::Cases => crate::cases::CASE_COLUMNS,
            OutputKind::CaseEvents => crate::cases::EVENT_COLUMNS,
        };
        all.iter().copied().filter(|c| !added_later(c)).collect()
    }

    /// The columns whose values the commands that read the output back compute with.
    fn typed_columns(self) -> &'static [(&'static str, Values)] {
        match self {
            OutputKind::Warnings => &[
                ("rank", Values::Integer),
                ("uscc", Values::Text),
                ("region", Values::Text),
                ("industry", Values::Text),
                ("subject_type", Values::Text),
                ("score", Values::Number),
                ("risk_level", Values::Text),
                ("credit_grade", Values::Text),
                ("as_of", Values::Date),
                ("observation_period", Values::Flag),
            ],
            OutputKind::Plan => &[
                ("uscc", Values::Text),
                ("department", Values::Text),
                ("stratum", Values::Text),
                ("inclusion_probability", Values::Number),
                ("selected", Values::Flag),
                ("seed", Values::Integer),
            ],
            OutputKind::Cases => &[
                ("case_id", Values::Text),
                ("uscc", Values::Text),
                ("department", Values::Text),
                ("opened_on", Values::Date),
                ("level", Values::Text),
                ("score_at_opening", Values::Number),
                ("due_on", Values::Date),
                ("state", Values::Text),
                ("times_warned", Values::Integer),
                ("last_warned_on", Values::Date),
                ("last_handled_on", Values::Date),
                ("closed_on", Values::Date),
                ("overdue_on", Values::Date),
                ("escalated_on", Values::Date),
            ],
            OutputKind::CaseEvents => &[
                ("case_id", Values::Text),
                ("on", Values::Date),
                ("event", Values::Text),
                ("to", Values::Text),
                ("recorded_as_of", Values::Date),
            ],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            OutputKind::Warnings => "a riskwarn warning list (warnings.parquet)",
            OutputKind::Plan => "a riskwarn inspection plan (plan.parquet)",
            OutputKind::Cases => "a riskwarn case book (cases.parquet)",
            OutputKind::CaseEvents => "a riskwarn case audit trail (case_events.parquet)",
        }
    }
}

/// Reads a riskwarn output back, after checking that the file holds every column of its kind:
/// any other file is a bad file (exit 2) naming the missing columns.
pub fn read_output(path: &Path, kind: OutputKind) -> Result<DataFrame> {
    finish_output(open_output(path, kind, &kind.columns())?, path, kind)
}

fn finish_output<R: polars::io::mmap::MmapBytesReader>(reader: ParquetReader<R>, path: &Path, kind: OutputKind) -> Result<DataFrame> {
    reader.finish().map_err(|e| Error::bad_file(path, format!("cannot read {}: {e}", kind.describe())))
}

/// Some columns of a riskwarn output, in the order given. Only these are required, so that an
/// output of an earlier version with fewer columns stays readable (the previous run's ranks).
pub fn read_output_columns(path: &Path, kind: OutputKind, columns: &[&str]) -> Result<DataFrame> {
    let reader = open_output(path, kind, columns)?;
    reader
        .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
        .finish()
        .map_err(|e| Error::bad_file(path, format!("cannot read {}: {e}", kind.describe())))?
        .select(columns.iter().copied())
        .map_err(Error::from)
}

fn open_output(path: &Path, kind: OutputKind, required: &[&str]) -> Result<ParquetReader<File>> {
    let file = File::open(path).at(IoAction::Open, path)?;
    checked_output(ParquetReader::new(file), path, kind, required)
}

fn checked_output<R: polars::io::mmap::MmapBytesReader>(mut reader: ParquetReader<R>, path: &Path, kind: OutputKind, required: &[&str]) -> Result<ParquetReader<R>> {
    let schema = reader
        .schema()
        .map_err(|e| Error::bad_file(path, format!("not {}: not a readable Parquet file: {e}", kind.describe())))?;
    let missing: Vec<&str> = required.iter().copied().filter(|c| !schema.contains(c)).collect();
    if !missing.is_empty() {
        return Err(Error::bad_file(path, format!("not {}: missing columns {}", kind.describe(), missing.join(", "))));
    }
    for (name, want) in kind.typed_columns() {
        if let Some(field) = schema.get(*name).filter(|_| required.contains(name))
            && !want.fits(&field.dtype)
        {
            return Err(Error::bad_file(
                path,
                format!("not {}: column `{name}` holds {:?}, expected {}", kind.describe(), field.dtype, want.describe()),
            ));
        }
    }
    Ok(reader)
}

/// The kind of values a column of a riskwarn output holds (checked before it is read back).
#[derive(Debug, Clone, Copy)]
enum Values {
    Text,
    Integer,
    Number,
    Date,
    Flag,
}

impl Values {
    fn fits(self, dtype: &polars_arrow::datatypes::ArrowDataType) -> bool {
        use polars_arrow::datatypes::ArrowDataType as A;
        match self {
            Values::Text => matches!(dtype, A::Utf8 | A::LargeUtf8 | A::Utf8View),
            Values::Integer => matches!(dtype, A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64),
            Values::Number => matches!(dtype, A::Float32 | A::Float64),
            Values::Date => matches!(dtype, A::Date32 | A::Date64 | A::Timestamp(..)),
            Values::Flag => matches!(dtype, A::Boolean),
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Values::Text => "text",
            Values::Integer => "integers",
            Values::Number => "numbers",
            Values::Date => "dates",
            Values::Flag => "true/false",
        }
    }
}

/// [`read_output`] if the file exists, else `None`.
pub fn read_output_if_present(path: &Path, kind: OutputKind) -> Result<Option<DataFrame>> {
    if !path.is_file() {
        return Ok(None);
    }
    read_output(path, kind).map(Some)
}

/// A whole text file (policy, model). Not being UTF-8 text is the file's fault (exit 2).
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => Error::bad_file(path, "not a text file (not UTF-8)"),
        _ => Error::io(IoAction::Read, path, e),
    })
}

/// A file's size in bytes (manifest).
pub fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).at(IoAction::Read, path)?.len())
}

/// A JSON file read into `T` (a malformed one is bad input, named).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    serde_json::from_str(&read_text(path)?).map_err(|e| Error::bad_file(path, format!("not valid JSON for this: {e}")))
}

pub fn write_json<T: serde::Serialize>(value: &T, path: &Path) -> Result<()> {
    write_atomic(path, |f| {
        serde_json::to_writer_pretty(&mut *f, value)?;
        f.put(b"\n")
    })
}

/// `truth.parquet` of a generated data directory (the hidden propensity), if there is one.
/// Only evaluation reads it; it is never an input to features or models.
pub fn read_truth(dir: &Path) -> Result<Option<DataFrame>> {
    let path = dir.join("truth.parquet");
    if !path.is_file() {
        return Ok(None);
    }
    read_parquet(&path).map(Some)
}

/// SHA-256 of a file, hex (manifest).
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = File::open(path).at(IoAction::Open, path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).at(IoAction::Read, path)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 of several files, in parallel, in the given order.
pub fn sha256_files(paths: &[PathBuf]) -> Result<Vec<String>> {
    use rayon::prelude::*;
    paths.par_iter().map(|p| sha256_file(p)).collect()
}

pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |f| f.put(text.as_bytes()))
}

/// CSV files in UTF-8 with a byte-order mark, so Excel opens Chinese text correctly, written
/// side by side a block of rows at a time: `block(k)` gives block k of every file (in `paths`
/// order), each file's blocks follow one another under the first one's header (at least one
/// block, so an empty table keeps its header). List columns are not CSV material; callers
/// pass flat frames.
pub fn write_csv_bom_blocks(paths: &[&Path], blocks: usize, block: &mut dyn FnMut(usize) -> Result<Vec<DataFrame>>) -> Result<()> {
    let mut files = paths.iter().map(|p| AtomicOutput::create(p)).collect::<Result<Vec<_>>>()?;
    let written = (|| -> Result<()> {
        for f in files.iter_mut() {
            f.put("\u{feff}".as_bytes())?;
        }
        for k in 0..blocks.max(1) {
            for (f, mut frame) in files.iter_mut().zip(block(k)?) {
                CsvWriter::new(&mut *f).include_header(k == 0).finish(&mut frame).map_err(Error::from)?;
            }
        }
        Ok(())
    })();
    match written {
        Ok(()) => files.into_iter().try_for_each(AtomicOutput::commit),
        Err(e) => Err(files.iter().fold(e, |e, f| f.explain(e))),
    }
}

/// What a supervisor's workbook shows: the sheet, its rows, the colour of each row's level, and
/// a notes sheet.
pub struct Workbook<'a> {
    pub sheet_name: &'a str,
    /// The sheet's rows, `rows` of them, made a block at a time: `block(k)` gives the k-th
    /// block (blocks 0, 1, … until `rows` are written; block 0 also names the columns).
    pub rows: usize,
    pub block: &'a dyn Fn(usize) -> Result<DataFrame>,
    /// Background colour (0xRRGGBB) per row, if any.
    pub row_colors: Vec<Option<u32>>,
    pub column_widths: Vec<f64>,
    pub notes_sheet: &'a str,
    pub notes: Vec<String>,
    /// Document date (the run's as-of date), fixed so the file depends only on its content.
    pub date: (u16, u8, u8),
}

/// Writes an .xlsx: frozen header, filters, widths, row colours (constant-memory mode).
pub fn write_xlsx(book: &Workbook, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, Workbook as Xlsx};
    let x = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("xlsx: {e}"));
    let mut wb = Xlsx::new();
    let when = ExcelDateTime::from_ymd(book.date.0, book.date.1, book.date.2).map_err(x)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xD9D9D9));
    {
        let ws = wb.add_worksheet_with_constant_memory().map_err(x)?;
        ws.set_name(book.sheet_name).map_err(x)?;
        for (c, w) in book.column_widths.iter().enumerate() {
            ws.set_column_width(c as u16, *w).map_err(x)?;
        }
        let formats: std::collections::HashMap<u32, Format> = book
            .row_colors
            .iter()
            .flatten()
            .map(|c| (*c, Format::new().set_background_color(Color::RGB(*c))))
            .collect();
        let plain = Format::new();
        let (mut written, mut width) = (0, 0);
        for k in 0.. {
            if k > 0 && written >= book.rows {
                break;
            }
            let df = (book.block)(k)?;
            if k == 0 {
                width = df.width();
                for (c, name) in df.get_column_names().iter().enumerate() {
                    ws.write_string_with_format(0, c as u16, name.as_str(), &header).map_err(x)?;
                }
            }
            if df.height() == 0 && written < book.rows {
                return Err(Error::Internal(format!("xlsx: block {k} is empty at row {written} of {}", book.rows)));
            }
            // Cell values per column, extracted once (column-wise, not cell by cell through
            // polars). Text cells borrow from the columns cast to strings (no copy of the text).
            enum Cells<'a> {
                Number(Vec<Option<f64>>),
                Text(Vec<Option<&'a str>>),
            }
            let texts: Vec<Option<Column>> = df.columns().iter().map(|c| if c.dtype().is_primitive_numeric() { Ok(None) } else { c.cast(&DataType::String).map(Some) }).collect::<PolarsResult<_>>()?;
            let cells: Vec<Cells> = df
                .columns()
                .iter()
                .zip(&texts)
                .map(|(c, text)| -> Result<Cells> {
                    Ok(match text {
                        None => Cells::Number(c.cast(&DataType::Float64)?.f64()?.iter().collect()),
                        Some(t) => Cells::Text(t.str()?.iter().collect()),
                    })
                })
                .collect::<Result<_>>()?;
            for i in 0..df.height() {
                let r = written + i;
                let fmt = book.row_colors.get(r).copied().flatten().and_then(|c| formats.get(&c)).unwrap_or(&plain);
                for (c, col) in cells.iter().enumerate() {
                    let (row, cn) = (r as u32 + 1, c as u16);
                    match col {
                        Cells::Number(v) => match v[i] {
                            Some(x) => ws.write_number_with_format(row, cn, x, fmt).map(|_| ()),
                            None => ws.write_blank(row, cn, fmt).map(|_| ()),
                        },
                        Cells::Text(v) => match v[i] {
                            Some(x) => ws.write_string_with_format(row, cn, x, fmt).map(|_| ()),
                            None => ws.write_blank(row, cn, fmt).map(|_| ()),
                        },
                    }
                    .map_err(x)?;
                }
            }
            written += df.height();
        }
        if book.rows > 0 {
            ws.autofilter(0, 0, book.rows as u32, (width as u16).saturating_sub(1)).map_err(x)?;
        }
        ws.set_freeze_panes(1, 0).map_err(x)?;
    }
    let notes = wb.add_worksheet();
    notes.set_name(book.notes_sheet).map_err(x)?;
    notes.set_column_width(0, 120).map_err(x)?;
    for (r, line) in book.notes.iter().enumerate() {
        notes.write_string(r as u32, 0, line).map_err(x)?;
    }
    let bytes = wb.save_to_buffer().map_err(x)?;
    write_atomic(path, |f| f.put(&bytes))
}

/// The arrow-rs type a polars column is written as: plain types every Parquet reader opens
/// (pandas, pyarrow, DuckDB, Spark, R's arrow). Strings are `Utf8`, lists `List`, never the
/// view or large types polars holds in memory.
fn plain_arrow_type(dtype: &DataType) -> Result<ArrowType> {
    use arrow::datatypes::Field;
    use std::sync::Arc;
    Ok(match dtype {
        DataType::Boolean => ArrowType::Boolean,
        DataType::Int8 => ArrowType::Int8,
        DataType::Int16 => ArrowType::Int16,
        DataType::Int32 => ArrowType::Int32,
        DataType::Int64 => ArrowType::Int64,
        DataType::UInt8 => ArrowType::UInt8,
        DataType::UInt16 => ArrowType::UInt16,
        DataType::UInt32 => ArrowType::UInt32,
        DataType::UInt64 => ArrowType::UInt64,
        DataType::Float32 => ArrowType::Float32,
        DataType::Float64 => ArrowType::Float64,
        DataType::String => ArrowType::Utf8,
        DataType::Date => ArrowType::Date32,
        DataType::Null => ArrowType::Null,
        DataType::List(inner) => ArrowType::List(Arc::new(Field::new("item", plain_arrow_type(inner)?, true))),
        DataType::Struct(fields) => ArrowType::Struct(
            fields
                .iter()
                .map(|f| Ok(Field::new(f.name().as_str(), plain_arrow_type(f.dtype())?, true)))
                .collect::<Result<Vec<_>>>()?
                .into(),
        ),
        other => return Err(Error::Internal(format!("{other} is not a type riskwarn writes to Parquet"))),
    })
}

/// Number of Parquet leaf columns (column writers) a field of this type has.
fn leaf_count(dtype: &ArrowType) -> usize {
    match dtype {
        ArrowType::List(f) => leaf_count(f.data_type()),
        ArrowType::Struct(fields) => fields.iter().map(|f| leaf_count(f.data_type())).sum(),
        _ => 1,
    }
}

fn null_buffer(validity: Option<&polars_arrow::bitmap::Bitmap>) -> Option<arrow::buffer::NullBuffer> {
    let (bytes, offset, len) = validity?.as_slice();
    Some(arrow::buffer::NullBuffer::new(arrow::buffer::BooleanBuffer::new(arrow::buffer::Buffer::from(bytes), offset, len)))
}

/// `offsets` rebased to start at 0, as `i32`.
fn narrow_offsets(offsets: &[i64]) -> Result<arrow::buffer::OffsetBuffer<i32>> {
    let start = offsets.first().copied().unwrap_or(0);
    let narrowed: Vec<i32> = offsets
        .iter()
        .map(|&o| i32::try_from(o - start).map_err(|_| Error::Internal("a Parquet row group's list or text column exceeds 2 GiB".into())))
        .collect::<Result<_>>()?;
    Ok(arrow::buffer::OffsetBuffer::new(narrowed.into()))
}

fn downcast<'a, T: 'static>(array: &'a dyn polars_arrow::array::Array, target: &ArrowType) -> Result<&'a T> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal(format!("cannot write a polars {:?} array as {target}", array.dtype())))
}

/// Copies one polars arrow array (as `Series::to_arrow` gives it) into the arrow-rs array of
/// type `target` (from [`plain_arrow_type`]).
fn polars_to_arrow_rs(array: &dyn polars_arrow::array::Array, target: &ArrowType) -> Result<arrow::array::ArrayRef> {
    use arrow::array::{ArrayRef, BooleanArray, ListArray, NullArray, PrimitiveArray, StringArray, StructArray};
    use arrow::datatypes as dt;
    use polars_arrow::array as pa;
    use std::sync::Arc;
    fn primitive<P: dt::ArrowPrimitiveType>(array: &dyn pa::Array, target: &ArrowType) -> Result<ArrayRef>
    where
        P::Native: polars_arrow::types::NativeType,
    {
        let a = downcast::<pa::PrimitiveArray<P::Native>>(array, target)?;
        let values = arrow::buffer::ScalarBuffer::from(a.values().as_slice().to_vec());
        Ok(Arc::new(PrimitiveArray::<P>::new(values, null_buffer(a.validity()))))
    }
    Ok(match target {
        ArrowType::Boolean => {
            let a = downcast::<pa::BooleanArray>(array, target)?;
            let (bytes, offset, len) = a.values().as_slice();
            let values = arrow::buffer::BooleanBuffer::new(arrow::buffer::Buffer::from(bytes), offset, len);
            Arc::new(BooleanArray::new(values, null_buffer(a.validity())))
        }
        ArrowType::Int8 => primitive::<dt::Int8Type>(array, target)?,
        ArrowType::Int16 => primitive::<dt::Int16Type>(array, target)?,
        ArrowType::Int32 => primitive::<dt::Int32Type>(array, target)?,
        ArrowType::Int64 => primitive::<dt::Int64Type>(array, target)?,
        ArrowType::UInt8 => primitive::<dt::UInt8Type>(array, target)?,
        ArrowType::UInt16 => primitive::<dt::UInt16Type>(array, target)?,
        ArrowType::UInt32 => primitive::<dt::UInt32Type>(array, target)?,
        ArrowType::UInt64 => primitive::<dt::UInt64Type>(array, target)?,
        ArrowType::Float32 => primitive::<dt::Float32Type>(array, target)?,
        ArrowType::Float64 => primitive::<dt::Float64Type>(array, target)?,
        ArrowType::Date32 => primitive::<dt::Date32Type>(array, target)?,
        ArrowType::Null => Arc::new(NullArray::new(array.len())),
        ArrowType::Utf8 => {
            let a = downcast::<pa::Utf8ViewArray>(array, target)?;
            let mut bytes = Vec::with_capacity(a.total_bytes_len());
            let mut offsets = Vec::with_capacity(a.len() + 1);
            offsets.push(0i64);
            for v in a.values_iter() {
                bytes.extend_from_slice(v.as_bytes());
                offsets.push(bytes.len() as i64);
            }
            Arc::new(StringArray::new(narrow_offsets(&offsets)?, bytes.into(), null_buffer(polars_arrow::array::Array::validity(a))))
        }
        ArrowType::List(field) => {
            let a = downcast::<pa::ListArray<i64>>(array, target)?;
            // A sliced list keeps its whole child array; copy only the part its offsets span.
            let (start, end) = (*a.offsets().first() as usize, *a.offsets().last() as usize);
            let values = polars_to_arrow_rs(a.values().sliced(start, end - start).as_ref(), field.data_type())?;
            Arc::new(ListArray::try_new(Arc::clone(field), narrow_offsets(a.offsets().as_slice())?, values, null_buffer(a.validity()))?)
        }
        ArrowType::Struct(fields) => {
            let a = downcast::<pa::StructArray>(array, target)?;
            let children = a
                .values()
                .iter()
                .zip(fields.iter())
                .map(|(child, f)| polars_to_arrow_rs(child.as_ref(), f.data_type()))
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new(fields.clone(), children, null_buffer(a.validity()))?)
        }
        other => return Err(Error::Internal(format!("{other} is not a type riskwarn writes to Parquet"))),
    })
}

/// Rows of `c` from `offset` as one contiguous arrow-rs array of type `target`.
fn to_arrow_rs(c: &Column, offset: usize, len: usize, target: &ArrowType) -> Result<arrow::array::ArrayRef> {
    if len == 0 {
        return Ok(arrow::array::new_empty_array(target));
    }
    let part = c.slice(offset as i64, len).as_materialized_series().rechunk();
    polars_to_arrow_rs(part.to_arrow(0, CompatLevel::newest()).as_ref(), target)
}

/// [`write_parquet`] for a wide frame (many numeric columns, e.g. features), with arrow-rs'
/// defaults (zstd level 1, 1 MiB dictionaries): on mostly distinct floats a larger dictionary
/// or level makes the file bigger or slower, not smaller.
pub fn write_parquet_wide(df: &DataFrame, path: &Path) -> Result<()> {
    write_plain_parquet(df, path, Encoding { zstd_level: 1, dictionary_page_bytes: 1 << 20, plain_columns: &[] })
}

struct Encoding<'a> {
    zstd_level: i32,
    dictionary_page_bytes: usize,
    /// Columns written without dictionary encoding.
    plain_columns: &'a [&'a str],
}

fn write_plain_parquet(df: &DataFrame, path: &Path, encoding: Encoding) -> Result<()> {
    write_parquet_groups(RowSource::Frame(df), path, encoding, 1 << 20, None).map(|_| ())
}

/// [`write_parquet`] of a frame of `height` rows that is never whole: `make(offset, len)` gives
/// its rows `offset..offset + len` as each row group is written (the same bytes as the frame).
pub fn write_parquet_made(height: usize, make: &(dyn Fn(usize, usize) -> Result<DataFrame> + Sync), path: &Path) -> Result<()> {
    write_parquet_groups(RowSource::Made { height, make }, path, PLAIN, 1 << 20, None).map(|_| ())
}

/// The rows a Parquet file is written from.
#[derive(Clone, Copy)]
enum RowSource<'a> {
    Frame(&'a DataFrame),
    Made { height: usize, make: &'a (dyn Fn(usize, usize) -> Result<DataFrame> + Sync) },
}

impl RowSource<'_> {
    fn height(&self) -> usize {
        match self {
            RowSource::Frame(df) => df.height(),
            RowSource::Made { height, .. } => *height,
        }
    }

    /// Rows `offset..offset + len`, and where they start in the frame returned.
    fn part(&self, offset: usize, len: usize) -> Result<(std::borrow::Cow<'_, DataFrame>, usize)> {
        Ok(match self {
            RowSource::Frame(df) => (std::borrow::Cow::Borrowed(*df), offset),
            RowSource::Made { make, .. } => (std::borrow::Cow::Owned(make(offset, len)?), 0),
        })
    }
}

/// The full row groups at the start of `earlier` that a file of `df` written with `schema`,
/// `props` and `rows_per_group` can copy: none unless the two agree on the Parquet schema and
/// the `ARROW:schema`, and `earlier` holds no more rows than `height`, the frame's.
fn copyable_groups(earlier: &Encoded, height: usize, schema: &parquet::schema::types::SchemaDescriptor, props: &parquet::file::properties::WriterProperties, rows_per_group: usize) -> usize {
    let file = earlier.metadata.file_metadata();
    let same_schema = file.schema_descr().root_schema() == schema.root_schema();
    let same_arrow = file.key_value_metadata() == props.key_value_metadata();
    if !same_schema || !same_arrow || file.num_rows() as usize > height || !earlier.metadata.page_index().is_some_and(|p| p.has_offset_indexes()) {
        return 0;
    }
    earlier.metadata.row_groups().iter().take_while(|g| g.num_rows() as usize == rows_per_group).count()
}

/// A column chunk's metadata as read, with what reading drops put back as the writer sets it:
/// statistics of a signed column also carry the deprecated min/max fields.
fn as_written(chunk: &parquet::file::metadata::ColumnChunkMetaData) -> Result<parquet::file::metadata::ColumnChunkMetaData> {
    use parquet::file::statistics::Statistics as S;
    let Some(stats) = chunk.statistics() else { return Ok(chunk.clone()) };
    let signed = chunk.column_descr().sort_order().is_signed();
    let stats = match stats.clone() {
        S::Boolean(v) => S::Boolean(v.with_backwards_compatible_min_max(signed)),
        S::Int32(v) => S::Int32(v.with_backwards_compatible_min_max(signed)),
        S::Int64(v) => S::Int64(v.with_backwards_compatible_min_max(signed)),
        S::Int96(v) => S::Int96(v.with_backwards_compatible_min_max(signed)),
        S::Float(v) => S::Float(v.with_backwards_compatible_min_max(signed)),
        S::Double(v) => S::Double(v.with_backwards_compatible_min_max(signed)),
        S::ByteArray(v) => S::ByteArray(v.with_backwards_compatible_min_max(signed)),
        S::FixedLenByteArray(v) => S::FixedLenByteArray(v.with_backwards_compatible_min_max(signed)),
    };
    Ok(chunk.clone().into_builder().set_statistics(stats).build()?)
}

/// Writes `df` in row groups of `rows_per_group`, the first ones copied from `earlier` where it
/// can ([`copyable_groups`]); returns the rows copied.
fn write_parquet_groups(source: RowSource, path: &Path, encoding: Encoding, rows_per_group: usize, earlier: Option<&Encoded>) -> Result<usize> {
    use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory};
    use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::{EnabledStatistics, WriterProperties};
    use parquet::file::writer::SerializedFileWriter;
    use rayon::prelude::*;
    use std::sync::Arc;
    let height = source.height();
    let fields: Vec<arrow::datatypes::Field> = source
        .part(0, 0)?
        .0
        .columns()
        .iter()
        .map(|c| Ok(arrow::datatypes::Field::new(c.name().as_str(), plain_arrow_type(c.dtype())?, true)))
        .collect::<Result<_>>()?;
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(encoding.zstd_level)?))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(rows_per_group))
        .set_dictionary_page_size_limit(encoding.dictionary_page_bytes);
    for c in encoding.plain_columns {
        builder = builder.set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from(*c), false);
    }
    let mut props = builder.build();
    add_encoded_arrow_schema_to_metadata(&schema, &mut props);
    let props = Arc::new(props);
    let parquet_schema = ArrowSchemaConverter::new().with_coerce_types(props.coerce_types()).convert(&schema)?;
    write_atomic(path, |f| {
        let mut writer = SerializedFileWriter::new(f, parquet_schema.root_schema_ptr(), props.clone())?;
        let factory = ArrowRowGroupWriterFactory::new(&writer, Arc::clone(&schema));
        let mut offset = 0;
        let mut index = 0;
        if let Some(earlier) = earlier {
            let copied = copyable_groups(earlier, height, &parquet_schema, &props, rows_per_group);
            let pages = earlier.metadata.page_index();
            for (g, group) in earlier.metadata.row_groups().iter().take(copied).enumerate() {
                let mut rg = writer.next_row_group()?;
                for (c, chunk) in group.columns().iter().enumerate() {
                    let close = parquet::column::writer::ColumnCloseResult {
                        bytes_written: chunk.compressed_size() as u64,
                        rows_written: group.num_rows() as u64,
                        metadata: as_written(chunk)?,
                        bloom_filter: None,
                        column_index: pages.and_then(|p| p.column_index(g, c)).cloned(),
                        offset_index: pages.and_then(|p| p.offset_index(g, c)).cloned(),
                    };
                    rg.append_column(&earlier.bytes, close)?;
                }
                rg.close()?;
            }
            offset = copied * rows_per_group;
            index = copied;
        }
        let copied_rows = offset;
        // An empty frame still gets one (empty) row group, so readers see the schema's columns.
        while offset < height || index == 0 {
            let len = rows_per_group.min(height - offset);
            let (df, from) = source.part(offset, len)?;
            // One group of leaf writers per top-level column, in schema order.
            let mut writers = factory.create_column_writers(index)?.into_iter();
            let groups: Vec<Vec<ArrowColumnWriter>> =
                schema.fields().iter().map(|f| writers.by_ref().take(leaf_count(f.data_type())).collect()).collect();
            let chunks: Vec<Vec<ArrowColumnChunk>> = groups
                .into_par_iter()
                .zip(df.columns().par_iter().zip(schema.fields().par_iter()))
                .map(|(mut group, (column, field))| -> Result<Vec<ArrowColumnChunk>> {
                    let leaves = compute_leaves(field, &to_arrow_rs(column, from, len, field.data_type())?)?;
                    for (w, leaf) in group.iter_mut().zip(leaves) {
                        w.write(&leaf)?;
                    }
                    group.into_iter().map(|w| Ok(w.close()?)).collect()
                })
                .collect::<Result<_>>()?;
            let mut rg = writer.next_row_group()?;
            for chunk in chunks.into_iter().flatten() {
                chunk.append_to_row_group(&mut rg)?;
            }
            rg.close()?;
            offset += len;
            index += 1;
        }
        writer.close()?;
        Ok(copied_rows)
    })
}

/// A frame as an arrow-rs record batch of plain types (strings `Utf8`, lists `List`, dates
/// `Date32`): what the kernel hands to an engine across the Arrow boundary.
pub fn to_record_batch(df: &DataFrame) -> Result<arrow::record_batch::RecordBatch> {
    use std::sync::Arc;
    let mut fields = Vec::with_capacity(df.width());
    let mut arrays = Vec::with_capacity(df.width());
    for c in df.columns() {
        let target = plain_arrow_type(c.dtype())?;
        arrays.push(to_arrow_rs(c, 0, df.height(), &target)?);
        fields.push(arrow::datatypes::Field::new(c.name().as_str(), target, true));
    }
    let options = arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(df.height()));
    Ok(arrow::record_batch::RecordBatch::try_new_with_options(Arc::new(arrow::datatypes::Schema::new(fields)), arrays, &options)?)
}

/// An arrow-rs record batch as a polars frame, column by column over the Arrow C data
/// interface (no copy of the buffers).
pub fn from_record_batch(batch: &arrow::record_batch::RecordBatch) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let (ffi_array, ffi_schema) = arrow::ffi::to_ffi(&array.to_data())?;
        // SAFETY: arrow-rs and polars-arrow both implement the Arrow C data interface: the two
        // structs are the same #[repr(C)] layout, and the array is moved (released once).
        let (imported, dtype) = unsafe {
            let schema: polars_arrow::ffi::ArrowSchema = std::mem::transmute(ffi_schema);
            let imported_field = polars_arrow::ffi::import_field_from_c(&schema).map_err(|e| Error::BadArgument(format!("column {}: {e}", field.name())))?;
            let array: polars_arrow::ffi::ArrowArray = std::mem::transmute(ffi_array);
            let dtype = imported_field.dtype().clone();
            (polars_arrow::ffi::import_array_from_c(array, dtype.clone()).map_err(|e| Error::BadArgument(format!("column {}: {e}", field.name())))?, dtype)
        };
        let _ = dtype;
        let series = Series::from_arrow(field.name().as_str().into(), imported)?;
        columns.push(series.into_column());
    }
    Ok(DataFrame::new(batch.num_rows(), columns)?)
}

/// The machine's physical memory in bytes (Linux: `MemTotal` of /proc/meminfo; None elsewhere
/// or when unreadable).
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reads an Arrow IPC file (the kernel's exchange format with an engine that runs the binary
/// per bucket): its batches as one.
pub fn read_ipc(path: &Path) -> Result<arrow::record_batch::RecordBatch> {
    let file = std::fs::File::open(path).at(IoAction::Read, path)?;
    let reader = arrow::ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
        .map_err(|e| Error::bad_file(path, format!("not an Arrow IPC file: {e}")))?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| Error::bad_file(path, format!("unreadable Arrow IPC batch: {e}")))?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// Writes a record batch as an Arrow IPC file, atomically.
pub fn write_ipc(batch: &arrow::record_batch::RecordBatch, path: &Path) -> Result<()> {
    write_atomic(path, |out| {
        let mut writer = arrow::ipc::writer::FileWriter::try_new(out, &batch.schema())?;
        writer.write(batch)?;
        writer.finish()?;
        Ok(())
    })
}

/// The Arrow IPC files (`*.arrow`) of a directory by stem, in name order; none if it is absent.
pub fn ipc_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).at(IoAction::ListDir, dir)? {
        let path = entry.at(IoAction::ListDir, dir)?.path();
        if let (Some(stem), Some("arrow")) = (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|e| e.to_str())) {
            out.push((stem.to_string(), path.clone()));
        }
    }
    out.sort();
    Ok(out)
}
