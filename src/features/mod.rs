//! Point-in-time features (SPEC §1 time semantics): one row per scored subject and as-of date.
//!
//! Each family module returns named, documented polars aggregation expressions over one event
//! table. Every expression sees a row only if it was dated — and, where `recorded_on` exists,
//! recorded — strictly before T. All as-of dates of a call are aggregated in one `group_by` pass
//! per table. Peer-group statistics are a separate pre-aggregation (`peer`), joined back, so the
//! same kernel can run per hash bucket of subjects under a distributed engine.

mod annual_reports;
mod complaints;
mod credit_lists;
mod inspections;
mod judgments;
mod peer;
mod penalties;
mod product_checks;
mod subject;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::validate::Validated;

/// Options of the feature stage (policy values come from riskwarn.toml where one applies).
#[derive(Debug, Clone)]
pub struct FeatureOptions {
    /// Look-back windows in days for event counts.
    pub windows: Vec<i32>,
    /// Subjects younger than this many days at T are in the observation period (包容审慎).
    pub observation_period_days: i32,
    /// Leading digits of the region code that define a peer group (with the industry section).
    pub peer_region_digits: usize,
}

impl FeatureOptions {
    pub fn check(&self) -> Result<()> {
        for needed in [365, 1095] {
            if !self.windows.contains(&needed) {
                return Err(Error::BadArgument(format!("feature windows must include {needed} days (trend and peer features use it)")));
            }
        }
        if self.windows.iter().any(|w| *w <= 0) || self.observation_period_days < 0 {
            return Err(Error::BadArgument("feature windows must be positive and the observation period ≥ 0".into()));
        }
        Ok(())
    }
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self { windows: vec![30, 90, 365, 1095], observation_period_days: 365, peer_region_digits: 4 }
    }
}

/// A feature: its name, family, meaning, and the expression that computes it.
#[derive(Clone)]
pub struct Feature {
    pub name: String,
    pub family: &'static str,
    pub doc: String,
    pub expr: Expr,
    /// What a subject without any row in the table gets: 0 for counts, null for "days since".
    pub when_absent: Absent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    Zero,
    Null,
}

/// One feature's catalogue entry (no expression).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeatureDoc {
    pub name: String,
    pub family: String,
    pub doc: String,
}

/// The as-of context of an event table: the point-in-time masks every feature is built from.
pub struct Ctx {
    pub t: i32,
    date: &'static str,
    has_recorded: bool,
}

impl Ctx {
    fn t_lit(&self) -> Expr {
        lit(self.t).cast(DataType::Date)
    }

    /// Rows known at T: dated (and recorded, where recorded) strictly before T.
    pub fn known(&self) -> Expr {
        let dated = col(self.date).lt(self.t_lit());
        if self.has_recorded {
            dated.and(col("recorded_on").is_null().or(col("recorded_on").lt(self.t_lit())))
        } else {
            dated
        }
    }

    /// Known rows dated within `days` before T: T - days ≤ date < T.
    pub fn within(&self, days: i32) -> Expr {
        self.known().and(col(self.date).gt_eq(lit(self.t - days).cast(DataType::Date)))
    }

    /// Known rows dated in [T - to, T - from).
    pub fn between(&self, from: i32, to: i32) -> Expr {
        self.known()
            .and(col(self.date).gt_eq(lit(self.t - to).cast(DataType::Date)))
            .and(col(self.date).lt(lit(self.t - from).cast(DataType::Date)))
    }

    /// Number of rows where `mask` holds, as f64.
    pub fn count(&self, mask: Expr) -> Expr {
        mask.cast(DataType::Float64).sum()
    }

    /// Days from the latest known row matching `mask` to T (null when there is none).
    pub fn days_since(&self, mask: Expr) -> Expr {
        let latest = col(self.date).filter(mask).max().cast(DataType::Int32).cast(DataType::Float64);
        lit(self.t as f64) - latest
    }

    /// Sum of `value` over rows matching `mask`.
    pub fn sum(&self, value: Expr, mask: Expr) -> Expr {
        when(mask).then(value.cast(DataType::Float64)).otherwise(lit(0.0)).sum()
    }
}

/// Builders of features in a family's standard shapes.
pub struct Family {
    pub name: &'static str,
    pub out: Vec<Feature>,
}

impl Family {
    pub fn new(name: &'static str) -> Self {
        Family { name, out: Vec::new() }
    }
    pub fn add(&mut self, name: impl Into<String>, doc: impl Into<String>, expr: Expr, when_absent: Absent) {
        self.out.push(Feature { name: name.into(), family: self.name, doc: doc.into(), expr, when_absent });
    }
    pub fn count(&mut self, name: impl Into<String>, doc: impl Into<String>, expr: Expr) {
        self.add(name, doc, expr, Absent::Zero);
    }
    /// `<prefix>_n_<w>d` for every window: rows matching `mask` within the window.
    pub fn windowed(&mut self, ctx: &Ctx, opts: &FeatureOptions, prefix: &str, what: &str, mask: Expr) {
        for &w in &opts.windows {
            self.count(format!("{prefix}_{w}d"), format!("{what} in the {w} days before T"), ctx.count(ctx.within(w).and(mask.clone())));
        }
    }
    /// `<prefix>_trend`: rows in the last 365 days minus rows in the 365 before.
    pub fn trend(&mut self, ctx: &Ctx, prefix: &str, what: &str, mask: Expr) {
        self.count(
            format!("{prefix}_trend"),
            format!("{what} in the last 365 days minus the 365 days before"),
            ctx.count(ctx.within(365).and(mask.clone())) - ctx.count(ctx.between(365, 730).and(mask)),
        );
    }
    pub fn days_since(&mut self, ctx: &Ctx, name: impl Into<String>, what: &str, mask: Expr) {
        self.add(name, format!("days from the latest {what} to T; null when there is none"), ctx.days_since(mask), Absent::Null);
    }
}

/// An event table's features as of T (the table must be loaded).
type FamilyFn = fn(&Ctx, &FeatureOptions) -> Vec<Feature>;

const EVENT_FAMILIES: &[(&str, FamilyFn)] = &[
    ("inspections", inspections::features),
    ("penalties", penalties::features),
    ("complaints", complaints::features),
    ("product_checks", product_checks::features),
    ("judgments", judgments::features),
    ("credit_lists", credit_lists::features),
    ("annual_reports", annual_reports::features),
];

fn ctx_for(table: &str, frame: &DataFrame, t: i32) -> Ctx {
    let spec = crate::contract::table(table).expect("family tables are contract tables");
    Ctx {
        t,
        // annual_reports has no event date; its family masks on `filed_on` itself.
        date: spec.event_date.unwrap_or("filed_on"),
        has_recorded: frame.schema().contains("recorded_on"),
    }
}

/// The features of a run, given which tables are present (the catalogue and the column order).
pub fn catalogue(present: &[&str], opts: &FeatureOptions) -> Vec<FeatureDoc> {
    let mut docs = Vec::new();
    let ctx = Ctx { t: 0, date: "x", has_recorded: false };
    for f in subject::features(opts) {
        docs.push(FeatureDoc { name: f.name, family: f.family.into(), doc: f.doc });
    }
    for (table, family) in EVENT_FAMILIES {
        if present.contains(table) {
            for f in family(&ctx, opts) {
                docs.push(FeatureDoc { name: f.name, family: f.family.into(), doc: f.doc });
            }
        }
    }
    docs.extend(peer::catalogue(present));
    docs
}

/// Markdown catalogue of every feature (docs/features.md is this text; a test keeps it so).
pub fn catalogue_markdown() -> String {
    let all: Vec<&str> = crate::contract::TABLES.iter().map(|t| t.name).collect();
    let mut s = String::from(
        "# Feature catalogue\n\n\
         Generated from the feature registry in `src/features/` (a test keeps this file identical to the \
         code). Every feature is computed as of a date T from rows dated strictly before T and, where the \
         table has `recorded_on`, recorded strictly before T. Features of an absent table are left out of \
         the run. `ownership` is never a feature. Peer group = industry section × the first 4 digits of \
         the region code.\n\n| feature | family | meaning |\n|---|---|---|\n",
    );
    for d in catalogue(&all, &FeatureOptions::default()) {
        s += &format!("| `{}` | {} | {} |\n", d.name, d.family, d.doc);
    }
    s
}

/// Features for every scored subject at every as-of date: `uscc`, `as_of`, then the features in
/// catalogue order. Scored = status active/suspended and established before T.
pub fn compute(data: &Validated, as_of: &[i32], opts: &FeatureOptions) -> Result<DataFrame> {
    opts.check()?;
    if as_of.is_empty() {
        return Err(Error::BadArgument("at least one as-of date is needed".into()));
    }
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let mut per_t: Vec<LazyFrame> = as_of.iter().map(|&t| subject::base(subjects, t, opts)).collect();
    for (table, family) in EVENT_FAMILIES {
        let Some(frame) = data.table(table) else { continue };
        let mut aggs = Vec::new();
        let mut absent = Vec::new();
        for (k, &t) in as_of.iter().enumerate() {
            let ctx = ctx_for(table, frame, t);
            for f in family(&ctx, opts) {
                aggs.push(f.expr.alias(format!("{}@{k}", f.name)));
                if k == 0 {
                    absent.push((f.name.clone(), f.when_absent));
                }
            }
        }
        let grouped = frame.clone().lazy().group_by([col("uscc")]).agg(aggs).collect()?;
        for (k, lf) in per_t.iter_mut().enumerate() {
            let cols: Vec<Expr> = std::iter::once(col("uscc"))
                .chain(absent.iter().map(|(n, _)| col(format!("{n}@{k}")).alias(n.as_str())))
                .collect();
            let part = grouped.clone().lazy().select(cols);
            let fills: Vec<Expr> = absent
                .iter()
                .map(|(n, a)| match a {
                    Absent::Zero => col(n.as_str()).fill_null(lit(0.0)),
                    Absent::Null => col(n.as_str()),
                })
                .collect();
            *lf = lf
                .clone()
                .join(part, [col("uscc")], [col("uscc")], JoinArgs::new(JoinType::Left))
                .with_columns(fills);
        }
    }
    let present: Vec<&str> = data.tables.iter().map(|(s, _)| s.name).collect();
    let mut frames = Vec::with_capacity(as_of.len());
    for lf in per_t {
        let df = lf.collect()?;
        frames.push(peer::add(df, &present, opts)?);
    }
    let order: Vec<Expr> = std::iter::once(col("uscc"))
        .chain(std::iter::once(col("as_of")))
        .chain(catalogue(&present, opts).into_iter().map(|d| col(d.name)))
        .collect();
    let mut out = frames.remove(0).lazy().select(order.clone()).collect()?;
    for f in frames {
        out.vstack_mut(&f.lazy().select(order.clone()).collect()?)?;
    }
    out.rechunk_mut();
    out.sort_in_place(["as_of", "uscc"], SortMultipleOptions::default())?;
    Ok(out)
}
