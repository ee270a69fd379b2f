//! Row validation and quarantine (SPEC §1 "Bad input"): every row of every table is either used
//! or rejected with its table, file, row number, column and reason; counts always reconcile.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::contract::{ColType, ColumnSpec, Rule, TableSpec};
use crate::dates;
use crate::error::Result;
use crate::io::{RawData, RawTable, FILE_COL, ROW_COL};

const CHECK: &str = "__check";
const USCC_BAD: &str = "__uscc_bad";
const USCC_PLACEHOLDER: &str = "\u{1}uscc";
/// Dense subject id: the row of the subject in the used `subjects` frame. Every used event row
/// carries the `sid` of its subject, so later stages group and join on integers, not strings.
pub const SID: &str = "sid";

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Dates after this day are "in the future" (days since 1970-01-01; default today).
    pub reference_date: i32,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self { reference_date: dates::today() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCounts {
    pub table: String,
    pub read: u64,
    pub used: u64,
    pub rejected: u64,
}

/// The tables' used rows (contract columns only) and the quarantine.
#[derive(Debug, Clone)]
pub struct Validated {
    /// Per table, its used rows: the contract's columns present, and `sid` for a table of
    /// subjects' records (the tables in `contract::SUBJECT_BY_SID` without `uscc`).
    pub tables: Vec<(&'static TableSpec, DataFrame)>,
    /// One row per rejected input row: table, file, row, column, reason, uscc.
    pub rejected: DataFrame,
    pub counts: Vec<TableCounts>,
    pub notices: Vec<String>,
}

/// A used row that a later stage found bad (a disposition that follows up no case), with where
/// it came from (tables in `contract::ORIGIN_KEPT` keep their file and row).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub file: String,
    pub row: u64,
    pub column: String,
    pub reason: String,
    pub uscc: String,
}

impl Validated {
    /// Moves `rows` of `table` from its used count to its rejected count and into the
    /// quarantine, so read = used + rejected still holds. The table's frame keeps the rows:
    /// the stage that rejected them has already read it.
    pub fn reject_after_validation(&mut self, table: &str, rows: &[Rejection]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let n = rows.len() as u64;
        let counts = self
            .counts
            .iter_mut()
            .find(|c| c.table == table)
            .ok_or_else(|| crate::error::Error::Internal(format!("no counts for table {table}")))?;
        counts.used -= n;
        counts.rejected += n;
        let frame = DataFrame::new(rows.len(), vec![
            Column::new("table".into(), vec![table; rows.len()]),
            Column::new("file".into(), rows.iter().map(|r| r.file.as_str()).collect::<Vec<_>>()),
            Column::new("row".into(), rows.iter().map(|r| r.row).collect::<Vec<_>>()),
            Column::new("column".into(), rows.iter().map(|r| r.column.as_str()).collect::<Vec<_>>()),
            Column::new("reason".into(), rows.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>()),
            Column::new("uscc".into(), rows.iter().map(|r| Some(r.uscc.as_str())).collect::<Vec<_>>()),
        ])?;
        self.rejected.vstack_mut(&frame)?;
        Ok(())
    }

    /// The used inspectors' ids, which `conflicts` refer to (None without the roster).
    pub fn inspector_ids(&self) -> Result<Option<Series>> {
        Ok(match self.table("inspectors") {
            Some(t) => Some(t.column("inspector_id")?.as_materialized_series().clone()),
            None => None,
        })
    }

    pub fn table(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(s, _)| s.name == name).map(|(_, df)| df)
    }
    pub fn has(&self, name: &str) -> bool {
        self.table(name).is_some()
    }

    /// Takes table `name`'s used rows out of the data (no longer [`has`](Self::has) it).
    pub fn take_table(&mut self, name: &str) -> Option<DataFrame> {
        let i = self.tables.iter().position(|(s, _)| s.name == name)?;
        Some(self.tables.remove(i).1)
    }
}

/// A check: rows where `bad` is true are rejected, naming `column` and `message`.
struct Check {
    bad: Expr,
    column: String,
    message: Expr,
}

fn check(bad: Expr, column: &str, message: Expr) -> Check {
    Check { bad, column: column.to_string(), message }
}

fn text(s: impl Into<String>) -> Expr {
    lit(s.into())
}

/// Day numbers polars can format as dates: -262000-01-01 ..= +262000-12-31, inside chrono's range.
const FORMATTABLE_DAYS: (i32, i32) = (-96_413_063, 94_974_372);

/// The column's value as quoted text for a message. A date beyond what polars can format (a
/// corrupt day number, e.g. near i32::MIN) is shown as its day number instead of panicking.
fn quoted_value(c: &ColumnSpec) -> Expr {
    let value = match c.ty {
        ColType::Date => {
            let days = col(c.name).to_physical();
            let formattable = days.clone().is_between(lit(FORMATTABLE_DAYS.0), lit(FORMATTABLE_DAYS.1), ClosedInterval::Both);
            when(formattable)
                .then(col(c.name))
                .otherwise(lit(NULL).cast(DataType::Date))
                .cast(DataType::String)
                .fill_null(concat_str([lit("day "), days.cast(DataType::String)], "", false))
        }
        _ => col(c.name).cast(DataType::String),
    };
    concat_str([lit("'"), value, lit("'")], "", false)
}

fn date_lit(days: i32) -> Expr {
    lit(days).cast(DataType::Date)
}

/// The checks for a column, in priority order (the first that fails is the reported reason).
fn column_checks(spec: &TableSpec, c: &ColumnSpec, refs: &References<'_>, opts: &ValidateOptions) -> Vec<Check> {
    let mut out = Vec::new();
    let name = c.name;
    let v = || col(name);
    if !c.nullable {
        out.push(check(v().is_null(), name, text("missing value")));
    }
    let past_date = |out: &mut Vec<Check>| {
        out.push(check(
            v().lt(date_lit(dates::earliest())),
            name,
            concat_str([quoted_value(c), lit(" is before 1949-10-01")], "", false),
        ));
        out.push(check(
            v().gt(date_lit(opts.reference_date)),
            name,
            concat_str(
                [quoted_value(c), lit(format!(" is in the future (after {})", dates::format(opts.reference_date)))],
                "",
                false,
            ),
        ));
    };
    match c.rule {
        Rule::None => {}
        Rule::Uscc | Rule::SubjectRef => {
            // The message names the code's problem; it is filled in for rejected rows only.
            out.push(check(col(USCC_BAD), name, lit(USCC_PLACEHOLDER)));
            if c.rule == Rule::SubjectRef {
                out.push(check(
                    col(SID).is_null(),
                    name,
                    concat_str([lit("no subject "), quoted_value(c), lit(" in subjects (absent or rejected there)")], "", false),
                ));
            }
        }
        Rule::InspectorRef => {
            let known = refs.inspectors.clone().unwrap_or_else(|| Series::new_empty("".into(), &DataType::String));
            out.push(check(
                v().is_in(lit(known).implode(false), false).not(),
                name,
                concat_str([lit("no inspector "), quoted_value(c), lit(" in inspectors (absent or rejected there)")], "", false),
            ));
        }
        Rule::NonEmpty => {
            // "No non-space character" stops at the first character of ordinary text.
            out.push(check(v().str().contains(lit(r"\S"), true).not(), name, text("empty text")));
        }
        Rule::OneOf(values) => {
            let allowed = Series::new("".into(), values);
            out.push(check(
                v().is_in(lit(allowed).implode(false), false).not(),
                name,
                concat_str(
                    [lit("unknown value "), quoted_value(c), lit(format!("; expected one of {}", values.join(", ")))],
                    "",
                    false,
                ),
            ));
        }
        Rule::Industry => out.push(check(
            v().str().contains(lit("^[A-T][0-9]{0,4}$"), true).not(),
            name,
            concat_str([quoted_value(c), lit(" is not a GB/T 4754 code (section A-T, then 0-4 digits)")], "", false),
        )),
        Rule::Region => out.push(check(
            v().str().contains(lit("^[0-9]{6}$"), true).not(),
            name,
            concat_str([quoted_value(c), lit(" is not a 6-digit division code")], "", false),
        )),
        Rule::NonNegative => {
            let bad = match c.ty {
                ColType::F64 => v().lt(lit(0.0)).or(v().is_nan()).or(v().is_infinite()),
                _ => v().lt(lit(0)),
            };
            out.push(check(bad, name, concat_str([quoted_value(c), lit(" is negative or not finite")], "", false)));
        }
        Rule::NodeId => out.push(check(
            v().str().contains(lit("^[0-9A-Za-z_:-]{6,64}$"), true).not(),
            name,
            concat_str([quoted_value(c), lit(" is not an id (6 to 64 ASCII letters, digits, -, _ or :); hash person ids upstream, never give a name")], "", false),
        )),
        Rule::Finite => {
            out.push(check(v().is_nan().or(v().is_infinite()), name, concat_str([quoted_value(c), lit(" is not finite")], "", false)));
        }
        Rule::PastDate => past_date(&mut out),
        Rule::NotBefore(other) => {
            past_date(&mut out);
            out.push(check(
                v().lt(col(other)),
                name,
                concat_str([quoted_value(c), lit(format!(" is before {other}"))], "", false),
            ));
        }
        Rule::PeriodEnd(start) => {
            out.push(check(
                v().lt(date_lit(dates::earliest())),
                name,
                concat_str([quoted_value(c), lit(" is before 1949-10-01")], "", false),
            ));
            out.push(check(
                v().lt(col(start)),
                name,
                concat_str([quoted_value(c), lit(format!(" is before {start}"))], "", false),
            ));
        }
        Rule::ReportYear => {
            let max_year = dates::year_of(opts.reference_date);
            out.push(check(
                v().lt(lit(1949)).or(v().gt(lit(max_year))),
                name,
                concat_str([quoted_value(c), lit(format!(" is outside 1949..{max_year}"))], "", false),
            ));
        }
    }
    // Rules that tie a column to another column of its table.
    if name == "recorded_on" {
        past_date(&mut out);
        if let Some(event) = spec.event_date {
            out.push(check(
                v().lt(col(event)),
                name,
                concat_str([quoted_value(c), lit(format!(" is before {event}"))], "", false),
            ));
        }
    }
    if spec.name == "annual_reports" && name == "filed_on" {
        out.push(check(
            v().dt().year().lt_eq(col("year")),
            name,
            concat_str([quoted_value(c), lit(" is before the report year ended")], "", false),
        ));
    }
    out
}

/// Used keys of the tables that others refer to.
#[derive(Default)]
struct References<'a> {
    /// uscc → sid of every used subject (borrowing the used subjects' codes).
    subjects: PlHashMap<&'a str, u32>,
    inspectors: Option<Series>,
}

/// Rows looked up together: a block of one chunk, the unit of parallel work.
const LOOKUP_BLOCK: usize = 1 << 16;

/// `sid` (null when the code is not a used subject) and `__uscc_bad` (the code itself is
/// invalid) for every row, chunked like `uscc`. Blocks of rows are probed in parallel; within a
/// block a code equal to the row before's reuses its answer (a table's rows mostly come in
/// subject order, and comparing 18 bytes is cheaper than hashing them).
fn subject_columns(frame: &DataFrame, refs: &References<'_>, is_subjects: bool) -> Result<(Column, Column)> {
    use polars_arrow::array::{BooleanArray, PrimitiveArray};
    use polars_arrow::bitmap::Bitmap;
    let ca = frame.column("uscc")?.str()?;
    let mut sids = Vec::with_capacity(ca.chunks().len());
    let mut bads = Vec::with_capacity(ca.chunks().len());
    for arr in ca.downcast_iter() {
        let mut sid = vec![u32::MAX; arr.len()];
        let mut bad = vec![false; arr.len()];
        sid.par_chunks_mut(LOOKUP_BLOCK).zip(bad.par_chunks_mut(LOOKUP_BLOCK)).enumerate().for_each(|(block, (sid, bad))| {
            let first = block * LOOKUP_BLOCK;
            let mut last: Option<(&str, u32, bool)> = None;
            for (k, (sid, bad)) in sid.iter_mut().zip(bad.iter_mut()).enumerate() {
                let Some(code) = arr.get(first + k) else { continue }; // reported as a missing value
                let answer = match last {
                    Some((c, s, b)) if c == code => (s, b),
                    _ => {
                        let found = if is_subjects { None } else { refs.subjects.get(code).copied() };
                        let answer = match found {
                            Some(s) => (s, false),
                            None => (u32::MAX, !crate::uscc::is_valid(code)),
                        };
                        last = Some((code, answer.0, answer.1));
                        answer
                    }
                };
                (*sid, *bad) = answer;
            }
        });
        let validity = sid.contains(&u32::MAX).then(|| Bitmap::from_iter(sid.iter().map(|&s| s != u32::MAX)));
        sids.push(PrimitiveArray::<u32>::from_vec(sid).with_validity(validity));
        bads.push(BooleanArray::from_slice(&bad));
    }
    Ok((UInt32Chunked::from_chunk_iter(SID.into(), sids).into_column(), BooleanChunked::from_chunk_iter(USCC_BAD.into(), bads).into_column()))
}

/// Positions (in `rows`, sorted by key then position) whose key equals the previous one's.
fn repeats<K: Ord + Send>(mut rows: Vec<(K, u32)>) -> Vec<usize> {
    rows.par_sort_unstable();
    let mut out: Vec<usize> = rows.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| w[1].1 as usize).collect();
    out.sort_unstable();
    out
}

/// Marks, among rows that pass every other check, each row whose key was seen in an earlier
/// such row (the first is kept). Returns the row positions to reject. Sort-based: a parallel
/// sort of (key, row) is far cheaper than a hash set of millions of keys.
fn later_duplicates(frame: &DataFrame, keys: &[&str]) -> Result<Vec<usize>> {
    let checks = frame.column(CHECK)?.u16()?;
    let names: Vec<&str> = keys
        .iter()
        // Event tables carry the subject id: an integer key is cheaper than the code.
        .map(|k| if *k == "uscc" && frame.schema().contains(SID) { SID } else { *k })
        .collect();
    let all_int = names.iter().all(|n| frame.column(n).is_ok_and(|c| c.dtype().is_integer()));
    if all_int && names.len() <= 2 {
        let mut parts = Vec::new();
        for n in &names {
            parts.push(frame.column(n)?.cast(&DataType::Int64)?.i64()?.clone());
        }
        let mut rows = Vec::with_capacity(frame.height());
        let mut iters: Vec<_> = parts.iter().map(|p| p.iter()).collect();
        for (i, check) in checks.iter().enumerate() {
            let mut key: u128 = 0;
            for it in iters.iter_mut() {
                let v = it.next().flatten().unwrap_or(i64::MIN);
                key = (key << 64) | (v as u64 as u128);
            }
            if check.is_none() {
                rows.push((key, i as u32));
            }
        }
        return Ok(repeats(rows));
    }
    let cols: Vec<StringChunked> = names
        .iter()
        // Dates by their day number: a key needs no calendar, and an out-of-range day has none.
        .map(|n| Ok(frame.column(n)?.to_physical_repr().cast(&DataType::String)?.str()?.clone()))
        .collect::<Result<_>>()?;
    let second: Box<dyn Iterator<Item = Option<&str>>> = match cols.get(1) {
        Some(c) => Box::new(c.iter()),
        None => Box::new(std::iter::repeat(None)),
    };
    let rows: Vec<([Option<&str>; 2], u32)> = checks
        .iter()
        .zip(cols[0].iter())
        .zip(second)
        .enumerate()
        .filter(|(_, ((check, _), _))| check.is_none())
        .map(|(i, ((_, a), b))| ([a, b], i as u32))
        .collect();
    Ok(repeats(rows))
}

/// Index of the first failing check per row (null when every check passes). Only the index is
/// computed for all rows; messages are built for rejected rows alone. (One nested expression:
/// evaluating the checks side by side as columns holds more at once, 1.2 GB at 4M subjects.)
fn first_failing(checks: &[Check]) -> Expr {
    checks.iter().enumerate().rev().fold(lit(NULL).cast(DataType::UInt16), |acc, (i, c)| {
        when(c.bad.clone()).then(lit(i as u32).cast(DataType::UInt16)).otherwise(acc)
    })
}

/// The value of `value(check)` for the check whose index is in `__check`.
fn by_check(checks: &[Check], value: impl Fn(&Check) -> Expr) -> Expr {
    checks.iter().enumerate().rev().fold(lit(NULL).cast(DataType::String), |acc, (i, c)| {
        when(col(CHECK).eq(lit(i as u32).cast(DataType::UInt16))).then(value(c)).otherwise(acc)
    })
}

fn validate_table(raw: &RawTable, refs: &References<'_>, opts: &ValidateOptions) -> Result<(DataFrame, DataFrame)> {
    let spec = raw.spec;
    let mut frame = raw.frame.clone();
    let has_uscc = spec.column("uscc").is_some();
    let is_subjects = spec.name == "subjects";
    if has_uscc {
        let (sid, bad) = subject_columns(&frame, refs, is_subjects)?;
        if !is_subjects {
            frame.with_column(sid)?;
        }
        frame.with_column(bad)?;
    }
    let mut checks: Vec<Check> = spec
        .columns
        .iter()
        .filter(|c| !c.optional || frame.schema().contains(c.name))
        .flat_map(|c| column_checks(spec, c, refs, opts))
        .collect();
    let mut frame = frame.lazy().with_column(first_failing(&checks).alias(CHECK)).collect()?;
    if !spec.unique_key.is_empty() {
        let duplicate = checks.len() as u16;
        checks.push(check(
            lit(false),
            spec.unique_key[0],
            lit(format!("duplicate ({}) of an earlier row, which is kept", spec.unique_key.join(", "))),
        ));
        let dups = later_duplicates(&frame, spec.unique_key)?;
        if !dups.is_empty() {
            let mut v: Vec<Option<u16>> = frame.column(CHECK)?.u16()?.iter().collect();
            for i in dups {
                v[i] = Some(duplicate);
            }
            frame.with_column(Column::new(CHECK.into(), v))?;
        }
    }
    let by_sid = crate::contract::SUBJECT_BY_SID.contains(&spec.name);
    let contract_cols: Vec<Expr> = spec
        .columns
        .iter()
        .filter(|c| !c.optional || raw.frame.schema().contains(c.name))
        .filter(|c| !(by_sid && c.name == "uscc"))
        .map(|c| col(c.name))
        .chain((has_uscc && !is_subjects).then(|| col(SID)))
        .collect();
    let keep_origin = crate::contract::ORIGIN_KEPT.contains(&spec.name);
    let origin: Vec<Expr> = if keep_origin { vec![col(FILE_COL), col(ROW_COL).cast(DataType::UInt64)] } else { Vec::new() };
    let mut used = frame.clone().lazy().filter(col(CHECK).is_null()).select(contract_cols.into_iter().chain(origin).collect::<Vec<_>>()).collect()?;
    // Event rows already carry their subject's sid; a subject's sid is its row in `used`.
    if is_subjects {
        used.with_column(Column::new(SID.into(), (0..used.height() as u32).collect::<Vec<u32>>()))?;
    }
    let uscc_expr = if has_uscc { col("uscc") } else { lit(NULL).cast(DataType::String) };
    let mut rejected = frame
        .lazy()
        .filter(col(CHECK).is_not_null())
        .select([
            lit(spec.name).alias("table"),
            col(FILE_COL),
            col(ROW_COL).cast(DataType::UInt64).alias("row"),
            by_check(&checks, |c| lit(c.column.clone())).alias("column"),
            by_check(&checks, |c| c.message.clone()).alias("reason"),
            uscc_expr.alias("uscc"),
        ])
        .collect()?;
    let files: &[String] = &raw.names;
    let file_names: Vec<&str> = rejected
        .column(FILE_COL)?
        .u32()?
        .into_no_null_iter()
        .map(|i| files[i as usize].as_str())
        .collect();
    rejected.replace(FILE_COL, Column::new(FILE_COL.into(), file_names))?;
    if keep_origin {
        let names: Vec<&str> = used.column(FILE_COL)?.u32()?.into_no_null_iter().map(|i| files[i as usize].as_str()).collect();
        used.replace(FILE_COL, Column::new(FILE_COL.into(), names))?;
    }
    rejected.rename(FILE_COL, "file".into())?;
    // Name the problem of each invalid code.
    let reasons: Vec<Option<String>> = {
        let r = rejected.column("reason")?.str()?;
        let u = rejected.column("uscc")?.str()?;
        r.iter()
            .zip(u.iter())
            .map(|(reason, code)| match (reason, code) {
                (Some(USCC_PLACEHOLDER), Some(code)) => {
                    Some(format!("{}: '{code}'", crate::uscc::problem(code).unwrap_or("invalid USCC")))
                }
                (r, _) => r.map(str::to_string),
            })
            .collect()
    };
    rejected.replace("reason", Column::new("reason".into(), reasons))?;
    Ok((used, rejected))
}

/// The rank of each file name in reading order: names compared as paths, part by part, as the
/// loader sorts a table directory's files (`a/b.parquet` before `a-c.parquet`).
pub fn reading_order(files: &StringChunked) -> Vec<u32> {
    let mut distinct: Vec<&str> = files.iter().map(|f| f.unwrap_or("")).collect();
    distinct.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    distinct.dedup();
    let rank: PlHashMap<&str, u32> = distinct.iter().enumerate().map(|(i, f)| (*f, i as u32)).collect();
    files.iter().map(|f| rank[f.unwrap_or("")]).collect()
}

/// The quarantine in its one order, whatever order its parts were made in: by table (contract
/// order), file (in reading order) and row. Stable, so two rejections of one row keep theirs.
pub fn sort_rejected(rejected: DataFrame) -> Result<DataFrame> {
    let table_index: Vec<u32> = rejected
        .column("table")?
        .str()?
        .iter()
        .map(|t| crate::contract::TABLES.iter().position(|s| Some(s.name) == t).unwrap_or(usize::MAX) as u32)
        .collect();
    let file_index = reading_order(rejected.column("file")?.str()?);
    let mut sorted = rejected
        .lazy()
        .with_columns([
            Series::new("__table".into(), table_index).lit().alias("__table"),
            Series::new("__file_rank".into(), file_index).lit().alias("__file_rank"),
        ])
        .sort(["__table", "__file_rank", "row"], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    sorted.drop_in_place("__table")?;
    sorted.drop_in_place("__file_rank")?;
    sorted.rechunk_mut();
    Ok(sorted)
}

/// An empty quarantine frame with the output schema.
pub fn empty_rejected() -> DataFrame {
    DataFrame::new_infer_height(vec![
        Series::new_empty("table".into(), &DataType::String).into(),
        Series::new_empty("file".into(), &DataType::String).into(),
        Series::new_empty("row".into(), &DataType::UInt64).into(),
        Series::new_empty("column".into(), &DataType::String).into(),
        Series::new_empty("reason".into(), &DataType::String).into(),
        Series::new_empty("uscc".into(), &DataType::String).into(),
    ])
    .expect("static schema")
}

/// How often one check rejected rows of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejections {
    pub table: String,
    pub column: String,
    /// The kind of check ([`check_kind`]).
    pub check: &'static str,
    pub rows: u64,
}

/// The kinds [`check_kind`] tells apart.
pub const CHECK_KINDS: [&str; 14] = [
    "missing", "future_date", "date_order", "unknown_subject", "unknown_inspector", "empty_text", "unknown_value", "industry_code",
    "region_code", "bad_number", "bad_id", "duplicate", "uscc", "other",
];

/// The kind of check a rejection `reason` (rejected.parquet) names, for counting reasons whose
/// texts quote the rejected value; one of [`CHECK_KINDS`] (`other` for none of the others).
pub fn check_kind(reason: &str) -> &'static str {
    // The quoted rejected value may hold any text ("… is before …"): classify the text around it.
    let (before, after) = match (reason.find('\''), reason.rfind('\'')) {
        (Some(a), Some(b)) if b > a => (&reason[..a], &reason[b + 1..]),
        _ => (reason, ""),
    };
    let starts = |p: &str| reason.starts_with(p);
    let has = |p: &str| before.contains(p) || after.contains(p);
    match () {
        _ if starts("missing value") => "missing",
        _ if has(" is in the future") => "future_date",
        _ if has(" is before ") || has(" is outside 1949") => "date_order",
        _ if starts("no subject ") => "unknown_subject",
        _ if starts("no inspector ") => "unknown_inspector",
        _ if starts("empty text") => "empty_text",
        _ if starts("unknown value ") => "unknown_value",
        _ if has("is not a GB/T 4754 code") => "industry_code",
        _ if has("is not a 6-digit division code") => "region_code",
        _ if has(" is negative or not finite") || has(" is not finite") => "bad_number",
        _ if has(" is not an id") => "bad_id",
        _ if starts("duplicate") => "duplicate",
        // `<problem>: '<code>'`
        _ if before.ends_with(": ") => "uscc",
        _ => "other",
    }
}

/// The `k` most frequent (table, column, kind of check) among rejected rows, most first, ties
/// in table, column and check order.
pub fn top_rejections(rejected: &DataFrame, k: usize) -> Result<Vec<Rejections>> {
    let mut counts: std::collections::HashMap<(&str, &str, &'static str), u64> = std::collections::HashMap::new();
    let (t, c, r) = (rejected.column("table")?.str()?, rejected.column("column")?.str()?, rejected.column("reason")?.str()?);
    for ((t, c), r) in t.iter().zip(c.iter()).zip(r.iter()) {
        *counts.entry((t.unwrap_or(""), c.unwrap_or(""), check_kind(r.unwrap_or("")))).or_default() += 1;
    }
    let mut out: Vec<Rejections> =
        counts.into_iter().map(|((table, column, check), rows)| Rejections { table: table.into(), column: column.into(), check, rows }).collect();
    out.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| (&a.table, &a.column, a.check).cmp(&(&b.table, &b.column, b.check))));
    out.truncate(k);
    Ok(out)
}

/// Validates every loaded table in dependency order (subjects before the tables referring to it).
/// Consumes the loaded data: each table's raw frame is released as soon as it is validated,
/// so raw and validated copies of the whole data never coexist.
pub fn validate(raw: RawData, opts: &ValidateOptions) -> Result<Validated> {
    if !raw.has("subjects") {
        return Err(crate::error::Error::Internal("subjects table not loaded".into()));
    }
    let mut v = validate_with(raw, opts, None)?;
    v.rejected = sort_rejected(std::mem::replace(&mut v.rejected, empty_rejected()))?;
    Ok(v)
}

/// Keeps the used inspector ids once `inspectors` is validated: `conflicts` refer to them.
fn note_inspectors(refs: &mut References<'_>, spec: &TableSpec, used: &DataFrame) -> Result<()> {
    if spec.name == "inspectors" {
        refs.inspectors = Some(used.column("inspector_id")?.as_materialized_series().clone());
    }
    Ok(())
}

/// [`validate`] for part of a data: one bucket of subjects (`inspectors`: the used inspector
/// ids of the whole data, which `conflicts` refer to), or the tables without subjects (no
/// `subjects` table: then nothing refers to one). The quarantine is in validation order; a run
/// sorts the parts together ([`sort_rejected`]). Tables not read yet are read one at a time,
/// each released once validated.
pub fn validate_with(mut raw: RawData, opts: &ValidateOptions, inspectors: Option<&Series>) -> Result<Validated> {
    let notices = std::mem::take(&mut raw.notices);
    let mut tables = Vec::new();
    let mut rejected = empty_rejected();
    let mut counts = Vec::new();
    let mut record = |table: &RawTable, used: DataFrame, rej: DataFrame, tables: &mut Vec<(&'static TableSpec, DataFrame)>| -> Result<()> {
        counts.push(TableCounts {
            table: table.spec.name.to_string(),
            read: table.frame.height() as u64,
            used: used.height() as u64,
            rejected: rej.height() as u64,
        });
        rejected.vstack_mut(&rej)?;
        tables.push((table.spec, used));
        Ok(())
    };
    // Subjects first: every other table refers to them through the index built here.
    let mut codes = StringChunked::full_null("uscc".into(), 0);
    if let Some(subjects) = raw.take("subjects")? {
        let (used, rej) = validate_table(&subjects, &References::default(), opts)?;
        codes = used.column("uscc")?.str()?.clone();
        record(&subjects, used, rej, &mut tables)?;
    }
    let mut refs = References { subjects: PlHashMap::with_capacity(codes.len()), inspectors: inspectors.cloned() };
    for (i, c) in codes.iter().enumerate() {
        if let Some(c) = c {
            refs.subjects.insert(c, i as u32);
        }
    }
    // The other tables depend only on subjects (and conflicts on inspectors), and are recorded
    // in contract order so outputs do not depend on timing. Tables already read are validated
    // concurrently; a table still to read is read, validated and released before the next
    // (reading the next while one is validated was measured no faster at 4M subjects).
    let (later, rest): (Vec<&&TableSpec>, Vec<&&TableSpec>) =
        crate::contract::TABLES.iter().skip(1).partition(|s| s.name == "conflicts");
    let names: Vec<&str> = rest.iter().map(|s| s.name).filter(|n| raw.has(n)).collect();
    if raw.is_read() {
        let pending: Vec<RawTable> = names.iter().map(|n| raw.take(n)).collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
        let results: Vec<(DataFrame, DataFrame)> =
            pending.par_iter().map(|t| validate_table(t, &refs, opts)).collect::<Result<_>>()?;
        for (table, (used, rej)) in pending.iter().zip(results) {
            note_inspectors(&mut refs, table.spec, &used)?;
            record(table, used, rej, &mut tables)?;
        }
    } else {
        for name in &names {
            let Some(table) = raw.take(name)? else { continue };
            let (used, rej) = validate_table(&table, &refs, opts)?;
            note_inspectors(&mut refs, table.spec, &used)?;
            record(&table, used, rej, &mut tables)?;
        }
    }
    for spec in later {
        let Some(table) = raw.take(spec.name)? else { continue };
        let (used, rej) = validate_table(&table, &refs, opts)?;
        record(&table, used, rej, &mut tables)?;
    }
    rejected.rechunk_mut();
    Ok(Validated { tables, rejected, counts, notices })
}
