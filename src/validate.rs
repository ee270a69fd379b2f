//! Row validation and quarantine (SPEC §1 "Bad input"): every row of every table is either used
//! or rejected with its table, file, row number, column and reason; counts always reconcile.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::contract::{ColType, ColumnSpec, Rule, TableSpec};
use crate::dates;
use crate::error::Result;
use crate::io::{RawData, RawTable, FILE_COL, ROW_COL};

const REASON: &str = "__reason";
const REASON_COL: &str = "__reason_column";
const USCC_PROBLEM: &str = "__uscc_problem";

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
    pub tables: Vec<(&'static TableSpec, DataFrame)>,
    /// One row per rejected input row: table, file, row, column, reason, uscc.
    pub rejected: DataFrame,
    pub counts: Vec<TableCounts>,
    pub notices: Vec<String>,
}

impl Validated {
    pub fn table(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(s, _)| s.name == name).map(|(_, df)| df)
    }
    pub fn has(&self, name: &str) -> bool {
        self.table(name).is_some()
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

fn quoted_value(c: &str) -> Expr {
    concat_str([lit("'"), col(c).cast(DataType::String), lit("'")], "", false)
}

fn date_lit(days: i32) -> Expr {
    lit(days).cast(DataType::Date)
}

/// The checks for a column, in priority order (the first that fails is the reported reason).
fn column_checks(spec: &TableSpec, c: &ColumnSpec, refs: &References, opts: &ValidateOptions) -> Vec<Check> {
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
            concat_str([quoted_value(name), lit(" is before 1949-10-01")], "", false),
        ));
        out.push(check(
            v().gt(date_lit(opts.reference_date)),
            name,
            concat_str(
                [quoted_value(name), lit(format!(" is in the future (after {})", dates::format(opts.reference_date)))],
                "",
                false,
            ),
        ));
    };
    match c.rule {
        Rule::None => {}
        Rule::Uscc | Rule::SubjectRef => {
            out.push(check(
                col(USCC_PROBLEM).is_not_null(),
                name,
                concat_str([col(USCC_PROBLEM), lit(": "), quoted_value(name)], "", false),
            ));
            if c.rule == Rule::SubjectRef {
                let known = refs.subjects.clone().unwrap_or_else(|| Series::new_empty("".into(), &DataType::String));
                out.push(check(
                    v().is_in(lit(known).implode(false), false).not(),
                    name,
                    concat_str([lit("no subject "), quoted_value(name), lit(" in subjects (absent or rejected there)")], "", false),
                ));
            }
        }
        Rule::InspectorRef => {
            let known = refs.inspectors.clone().unwrap_or_else(|| Series::new_empty("".into(), &DataType::String));
            out.push(check(
                v().is_in(lit(known).implode(false), false).not(),
                name,
                concat_str([lit("no inspector "), quoted_value(name), lit(" in inspectors (absent or rejected there)")], "", false),
            ));
        }
        Rule::NonEmpty => {
            out.push(check(v().str().contains(lit(r"^\s*$"), true), name, text("empty text")));
        }
        Rule::OneOf(values) => {
            let allowed = Series::new("".into(), values);
            out.push(check(
                v().is_in(lit(allowed).implode(false), false).not(),
                name,
                concat_str(
                    [lit("unknown value "), quoted_value(name), lit(format!("; expected one of {}", values.join(", ")))],
                    "",
                    false,
                ),
            ));
        }
        Rule::Industry => out.push(check(
            v().str().contains(lit("^[A-T][0-9]{0,4}$"), true).not(),
            name,
            concat_str([quoted_value(name), lit(" is not a GB/T 4754 code (section A-T, then 0-4 digits)")], "", false),
        )),
        Rule::Region => out.push(check(
            v().str().contains(lit("^[0-9]{6}$"), true).not(),
            name,
            concat_str([quoted_value(name), lit(" is not a 6-digit division code")], "", false),
        )),
        Rule::NonNegative => {
            let bad = match c.ty {
                ColType::F64 => v().lt(lit(0.0)).or(v().is_nan()).or(v().is_infinite()),
                _ => v().lt(lit(0)),
            };
            out.push(check(bad, name, concat_str([quoted_value(name), lit(" is negative or not finite")], "", false)));
        }
        Rule::PastDate => past_date(&mut out),
        Rule::NotBefore(other) => {
            past_date(&mut out);
            out.push(check(
                v().lt(col(other)),
                name,
                concat_str([quoted_value(name), lit(format!(" is before {other}"))], "", false),
            ));
        }
        Rule::ReportYear => {
            let max_year = dates::year_of(opts.reference_date);
            out.push(check(
                v().lt(lit(1949)).or(v().gt(lit(max_year))),
                name,
                concat_str([quoted_value(name), lit(format!(" is outside 1949..{max_year}"))], "", false),
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
                concat_str([quoted_value(name), lit(format!(" is before {event}"))], "", false),
            ));
        }
    }
    if spec.name == "annual_reports" && name == "filed_on" {
        out.push(check(
            v().dt().year().lt_eq(col("year")),
            name,
            concat_str([quoted_value(name), lit(" is before the report year ended")], "", false),
        ));
    }
    out
}

/// Used keys of the tables that others refer to.
#[derive(Default)]
struct References {
    subjects: Option<Series>,
    inspectors: Option<Series>,
}

/// `__uscc_problem`: why the row's `uscc` is not a valid code (null when it is).
fn uscc_problems(frame: &DataFrame) -> Result<Series> {
    let ca = frame.column("uscc")?.str()?;
    let problems: Vec<Option<&'static str>> = ca
        .par_iter_indexed()
        .map(|v| v.and_then(crate::uscc::problem))
        .collect();
    Ok(Series::new(USCC_PROBLEM.into(), problems))
}

/// Folds checks into one expression: the first failing check's value, else null.
fn first_failing(checks: &[Check], value: impl Fn(&Check) -> Expr) -> Expr {
    checks.iter().rev().fold(lit(NULL).cast(DataType::String), |acc, c| {
        when(c.bad.clone()).then(value(c)).otherwise(acc)
    })
}

fn validate_table(raw: &RawTable, refs: &References, opts: &ValidateOptions) -> Result<(DataFrame, DataFrame)> {
    let spec = raw.spec;
    let mut frame = raw.frame.clone();
    let has_uscc = spec.column("uscc").is_some();
    if has_uscc {
        frame.with_column(uscc_problems(&frame)?.into())?;
    }
    let checks: Vec<Check> = spec
        .columns
        .iter()
        .filter(|c| !c.optional || frame.schema().contains(c.name))
        .flat_map(|c| column_checks(spec, c, refs, opts))
        .collect();
    let mut lf = frame.lazy().with_columns([
        first_failing(&checks, |c| c.message.clone()).alias(REASON),
        first_failing(&checks, |c| lit(c.column.clone())).alias(REASON_COL),
    ]);
    if !spec.unique_key.is_empty() {
        // Among rows that pass every other check, the first of each key is kept.
        let keys: Vec<Expr> = spec.unique_key.iter().map(|k| col(*k)).collect();
        let clean_so_far = col(REASON).is_null().cast(DataType::UInt32).cum_sum(false).over(keys)?;
        let dup = col(REASON).is_null().and(clean_so_far.gt(lit(1u32)));
        let key_list = spec.unique_key.join(", ");
        lf = lf.with_columns([
            when(dup.clone())
                .then(lit(format!("duplicate ({key_list}) of an earlier row, which is kept")))
                .otherwise(col(REASON))
                .alias(REASON),
            when(dup).then(lit(spec.unique_key[0])).otherwise(col(REASON_COL)).alias(REASON_COL),
        ]);
    }
    let frame = lf.collect()?;
    let contract_cols: Vec<Expr> = spec
        .columns
        .iter()
        .filter(|c| !c.optional || raw.frame.schema().contains(c.name))
        .map(|c| col(c.name))
        .collect();
    let used = frame.clone().lazy().filter(col(REASON).is_null()).select(contract_cols).collect()?;
    let uscc_expr = if has_uscc { col("uscc") } else { lit(NULL).cast(DataType::String) };
    let mut rejected = frame
        .lazy()
        .filter(col(REASON).is_not_null())
        .select([
            lit(spec.name).alias("table"),
            col(FILE_COL),
            col(ROW_COL).cast(DataType::UInt64).alias("row"),
            col(REASON_COL).alias("column"),
            col(REASON).alias("reason"),
            uscc_expr.alias("uscc"),
        ])
        .collect()?;
    let files: Vec<String> = raw.files.iter().map(|p| display_name(p)).collect();
    let file_names: Vec<&str> = rejected
        .column(FILE_COL)?
        .u32()?
        .into_no_null_iter()
        .map(|i| files[i as usize].as_str())
        .collect();
    rejected.replace(FILE_COL, Column::new(FILE_COL.into(), file_names))?;
    rejected.rename(FILE_COL, "file".into())?;
    Ok((used, rejected))
}

fn display_name(p: &Path) -> String {
    let parent = p.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned());
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match parent {
        // Inside a table directory, name the file relative to the data directory's table folder.
        Some(d) if crate::contract::table(&d).is_some() => format!("{d}/{name}"),
        _ => name,
    }
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

/// Validates every loaded table in dependency order (subjects before the tables referring to it).
pub fn validate(raw: &RawData, opts: &ValidateOptions) -> Result<Validated> {
    let mut refs = References::default();
    let mut tables = Vec::new();
    let mut rejected = empty_rejected();
    let mut counts = Vec::new();
    for spec in crate::contract::TABLES {
        let Some(table) = raw.table(spec.name) else { continue };
        let (used, rej) = validate_table(table, &refs, opts)?;
        match spec.name {
            "subjects" => refs.subjects = Some(used.column("uscc")?.as_materialized_series().clone()),
            "inspectors" => refs.inspectors = Some(used.column("inspector_id")?.as_materialized_series().clone()),
            _ => {}
        }
        counts.push(TableCounts {
            table: spec.name.to_string(),
            read: table.frame.height() as u64,
            used: used.height() as u64,
            rejected: rej.height() as u64,
        });
        rejected.vstack_mut(&rej)?;
        tables.push((*spec, used));
    }
    rejected.rechunk_mut();
    Ok(Validated { tables, rejected, counts, notices: raw.notices.clone() })
}
