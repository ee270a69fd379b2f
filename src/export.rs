//! A model as one SQL `SELECT` over the feature table `riskwarn features` writes: the same
//! preprocessing (median fill, asinh, standardisation clipped at ±10, missing indicators,
//! one-hot levels; raw values for trees), the linear predictor or every tree as nested `CASE`,
//! and the Platt calibration — so a database scores exactly as the deployed model does.
//! Numbers are written in Rust's shortest round-trip form and cast to double precision, so the
//! database computes with the model's own values (tree leaf weights are the booster's f32s);
//! scores agree to rounding (the databases' asinh and exp are not Rust's), about 1e-15.
//! Category levels are written as standard SQL strings (PostgreSQL: with its default
//! `standard_conforming_strings = on`); the table name is written as given.

use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::model::binning::{Bin, BinRange, DirectionSource};
use crate::model::matrix::{MatrixColumn, CLIP};
use crate::model::points::PointsFeature;
use crate::model::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Duckdb,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct SqlOptions {
    /// The feature table (the columns `riskwarn features` writes).
    pub table: String,
    pub dialect: Dialect,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions { table: "features".into(), dialect: Dialect::Duckdb }
    }
}

/// A SQL identifier, double-quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

struct Sql {
    dialect: Dialect,
}

impl Sql {
    fn double(&self) -> &'static str {
        match self.dialect {
            Dialect::Duckdb => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }
    /// A double literal with the exact value of `v`.
    fn num(&self, v: f64) -> Result<String> {
        if !v.is_finite() {
            return Err(Error::Internal(format!("a model value is not finite: {v}")));
        }
        Ok(format!("CAST({v:e} AS {})", self.double()))
    }
    /// The feature as a double, NULL where the model treats it as missing (null, NaN, ±∞).
    fn finite(&self, feature: &str) -> String {
        let x = format!("CAST({} AS {})", ident(feature), self.double());
        match self.dialect {
            Dialect::Duckdb => format!("CASE WHEN isfinite({x}) THEN {x} END"),
            Dialect::Postgres => format!("CASE WHEN {x} NOT IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) THEN {x} END"),
        }
    }
}

/// A points feature's bin as `CASE … THEN value(bin) … END` over the feature table's row: the
/// missing bin first, then the upper-inclusive cuts in order (`x <= cut`), or the levels with
/// `other` as the ELSE — the rule of `binning::FeatureBins::assign`.
fn bin_case(sql: &Sql, f: &PointsFeature, value: impl Fn(&Bin) -> f64) -> Result<String> {
    let bins = &f.bins.bins;
    let missing = sql.num(value(f.bins.missing()))?;
    let mut s = String::from("CASE");
    if f.bins.direction_source == DirectionSource::Unordered {
        let _ = write!(s, " WHEN {} IS NULL THEN {missing}", ident(&f.bins.feature));
        let mut other = sql.num(0.0)?;
        for b in bins {
            match &b.range {
                BinRange::Levels { levels } => {
                    let list: Vec<String> = levels.iter().map(|l| text(l)).collect();
                    let _ = write!(s, " WHEN {} IN ({}) THEN {}", ident(&f.bins.feature), list.join(", "), sql.num(value(b))?);
                }
                BinRange::Other { .. } => other = sql.num(value(b))?,
                _ => {}
            }
        }
        let _ = write!(s, " ELSE {other} END");
    } else {
        let x = sql.finite(&f.bins.feature);
        let _ = write!(s, " WHEN {x} IS NULL THEN {missing}");
        for (cut, b) in f.bins.cuts.iter().zip(bins) {
            let _ = write!(s, " WHEN {x} <= {} THEN {}", sql.num(*cut)?, sql.num(value(b))?);
        }
        let _ = write!(s, " ELSE {} END", sql.num(value(&bins[f.bins.cuts.len()]))?);
    }
    Ok(s)
}

/// The matrix column `c` (linear models) as an expression of the feature table's row.
fn column_expr(sql: &Sql, model: &Model, c: &MatrixColumn) -> Result<String> {
    Ok(match c {
        MatrixColumn::Numeric { feature, median, mean, std } => format!(
            "LEAST(GREATEST((asinh(COALESCE({}, {})) - {}) / {}, {}), {})",
            sql.finite(feature),
            sql.num(*median)?,
            sql.num(*mean)?,
            sql.num(*std)?,
            sql.num(-CLIP)?,
            sql.num(CLIP)?
        ),
        MatrixColumn::Missing { feature } => format!("CASE WHEN {} IS NULL THEN {} ELSE {} END", sql.finite(feature), sql.num(1.0)?, sql.num(0.0)?),
        MatrixColumn::Raw { feature } => sql.finite(feature),
        MatrixColumn::Level { feature, level } => format!("CASE WHEN {} = {} THEN {} ELSE {} END", ident(feature), text(level), sql.num(1.0)?, sql.num(0.0)?),
        MatrixColumn::Woe { feature } => {
            let f = model.points.iter().flat_map(|p| &p.features).find(|f| &f.bins.feature == feature);
            bin_case(sql, f.ok_or_else(|| Error::BadArgument(format!("the model has no bins of `{feature}`")))?, |b| b.woe)?
        }
    })
}

/// Deeper paths than any booster riskwarn fits (its max_depth is at most 16) mean a broken tree.
const MAX_DEPTH: usize = 64;

/// One tree of a forust booster as a nested CASE over the matrix columns `c<j>` (NULL =
/// missing, routed to the node's missing branch; otherwise `value < split` goes left).
fn tree_expr(sql: &Sql, tree: &serde_json::Value) -> Result<String> {
    let bad = || Error::BadArgument("the model's gbdt booster has a tree this export cannot read".into());
    let nodes = tree["nodes"].as_array().ok_or_else(bad)?;
    let by_num: std::collections::HashMap<u64, &serde_json::Value> = nodes.iter().filter_map(|n| Some((n["num"].as_u64()?, n))).collect();
    fn walk(sql: &Sql, by_num: &std::collections::HashMap<u64, &serde_json::Value>, num: u64, depth: usize, out: &mut String) -> Result<()> {
        let bad = || Error::BadArgument("the model's gbdt booster has a tree this export cannot read".into());
        let node = by_num.get(&num).ok_or_else(bad)?;
        // forust keeps node weights as f32; the prediction widens them to f64.
        let weight = node["weight_value"].as_f64().ok_or_else(bad)? as f32 as f64;
        if node["is_leaf"].as_bool().ok_or_else(bad)? {
            *out += &sql.num(weight)?;
            return Ok(());
        }
        if depth > MAX_DEPTH {
            return Err(Error::BadArgument(format!("the model's gbdt booster has a path deeper than {MAX_DEPTH} nodes (a cycle?)")));
        }
        let field = |k: &str| node[k].as_u64().ok_or_else(bad);
        let (feature, split) = (field("split_feature")?, node["split_value"].as_f64().ok_or_else(bad)?);
        let (left, right, missing) = (field("left_child")?, field("right_child")?, field("missing_node")?);
        let (x, split) = (format!("c{feature}"), sql.num(split)?);
        // Missing values mostly share a child (forust's default): writing that child once keeps
        // the SQL as large as the tree; `NULL < s` is not true, so ELSE takes a NULL.
        if missing == left {
            let _ = write!(out, "CASE WHEN {x} IS NULL OR {x} < {split} THEN ");
        } else if missing == right {
            let _ = write!(out, "CASE WHEN {x} < {split} THEN ");
        } else {
            let _ = write!(out, "CASE WHEN {x} IS NULL THEN ");
            walk(sql, by_num, missing, depth + 1, out)?;
            let _ = write!(out, " WHEN {x} < {split} THEN ");
        }
        walk(sql, by_num, left, depth + 1, out)?;
        *out += " ELSE ";
        walk(sql, by_num, right, depth + 1, out)?;
        *out += " END";
        Ok(())
    }
    let root = nodes.iter().filter_map(|n| n["num"].as_u64()).min().ok_or_else(bad)?;
    let mut out = String::new();
    walk(sql, &by_num, root, 0, &mut out)?;
    Ok(out)
}

/// The raw score (log-odds before calibration) over the matrix columns `c<j>`.
fn raw_expr(sql: &Sql, model: &Model) -> Result<String> {
    match &model.gbdt {
        None => {
            let terms: Vec<String> = model.coefficients.iter().enumerate().map(|(j, w)| Ok(format!("c{j} * {}", sql.num(*w)?))).collect::<Result<_>>()?;
            Ok(format!("{} + ({})", sql.num(model.intercept)?, if terms.is_empty() { sql.num(0.0)? } else { terms.join("\n    + ") }))
        }
        Some(g) => {
            let booster: serde_json::Value =
                serde_json::from_str(&g.booster).map_err(|e| Error::BadArgument(format!("the model's gbdt booster cannot be read: {e}")))?;
            let trees = booster["trees"].as_array().ok_or_else(|| Error::BadArgument("the model's gbdt booster has no trees".into()))?;
            let used = booster["prediction_iteration"].as_u64().map_or(trees.len(), |n| (n as usize).min(trees.len()));
            let base = booster["base_score"].as_f64().ok_or_else(|| Error::BadArgument("the model's gbdt booster has no base score".into()))?;
            let mut out = sql.num(base)?;
            for t in &trees[..used] {
                out += "\n    + (";
                out += &tree_expr(sql, t)?;
                out += ")";
            }
            Ok(out)
        }
    }
}

/// The SELECT: one row per row of the feature table with `uscc`, `as_of`, `raw_score` (log-odds)
/// and `score` (the calibrated probability `riskwarn` ranks by); a points model adds `points`.
pub fn sql(model: &Model, opts: &SqlOptions) -> Result<String> {
    let sql = Sql { dialect: opts.dialect };
    let columns = &model.preprocessing.columns;
    let mut s = format!(
        "-- riskwarn model {} ({:?}), {} features; calibrated score = 1 / (1 + exp(-(a * raw_score + b))).\n\
         -- Generated by `riskwarn export`; reads the columns `riskwarn features` writes.\n",
        model.model_id.replace(['\r', '\n'], " "),
        model.kind,
        model.features.len()
    );
    s += "WITH matrix AS (\n  SELECT uscc, as_of";
    for (j, c) in columns.iter().enumerate() {
        let _ = write!(s, ",\n    {} AS c{j}", column_expr(&sql, model, c)?);
    }
    // Points: base points plus each feature's points by its bin, carried beside the matrix.
    if let Some(p) = &model.points {
        let mut points = sql.num(p.base_points)?;
        for f in &p.features {
            let _ = write!(points, "\n      + ({})", bin_case(&sql, f, |b| b.points)?);
        }
        let _ = write!(s, ",\n    {points} AS points");
    }
    let points = if model.points.is_some() { ", points" } else { "" };
    let _ = write!(s, "\n  FROM {}\n),\nraw AS (\n  SELECT uscc, as_of{points}, {} AS raw_score\n  FROM matrix\n)\n", opts.table, raw_expr(&sql, model)?);
    let (a, b) = (sql.num(model.calibration.a)?, sql.num(model.calibration.b)?);
    // PostgreSQL's exp() fails beyond ±708 where Rust's gives 0 or ∞; clamped at ±700 the score
    // differs by less than 1e-300.
    let (lo, hi) = (sql.num(-700.0)?, sql.num(700.0)?);
    let _ = write!(
        s,
        "SELECT uscc, as_of, raw_score, {} / ({} + exp(LEAST(GREATEST(-({a} * raw_score + {b}), {lo}), {hi}))) AS score{points}\nFROM raw",
        sql.num(1.0)?,
        sql.num(1.0)?
    );
    Ok(s + "\n")
}
