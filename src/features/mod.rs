//! Point-in-time features (SPEC §1 time semantics): one row per scored subject and as-of date.
//!
//! Each family module declares its features over one event table (`spec`): row predicates as
//! polars expressions, evaluated once into bits, and measures over windows before T. A measure
//! sees a row only if it was dated — and, where `recorded_on` exists, recorded — strictly before
//! T. Each table is grouped by subject once for all as-of dates of a call (`kernel`); `reference`
//! evaluates the same specs with polars expressions, independently, for the tests. Peer-group
//! statistics are a separate pre-aggregation (`peer`), joined back, so the same kernel can run
//! per hash bucket of subjects under a distributed engine.

mod annual_reports;
mod complaints;
mod credit_lists;
mod inspections;
mod judgments;
mod kernel;
mod peer;
mod penalties;
mod product_checks;
mod reference;
pub mod spec;
mod subject;

use spec::TableFeatures;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::validate::{Validated, SID};

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

/// What a subject without rows in a table gets: 0 for counts, null for "days since" and shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    Zero,
    Null,
}

/// One feature's catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeatureDoc {
    pub name: String,
    pub family: String,
    pub doc: String,
}

/// How event-table features are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// The rayon kernel over events grouped by subject (production).
    #[default]
    Kernel,
    /// Polars expressions over `group_by(sid)` (the independent reference).
    Reference,
}

type Declare = fn(&FeatureOptions) -> TableFeatures;

/// Event-table families, in catalogue order.
const EVENT_FAMILIES: &[Declare] = &[
    inspections::declare,
    penalties::declare,
    complaints::declare,
    product_checks::declare,
    judgments::declare,
    credit_lists::declare,
    annual_reports::declare,
];

/// The features of a run, given which tables are present (the catalogue and the column order).
pub fn catalogue(present: &[&str], opts: &FeatureOptions) -> Vec<FeatureDoc> {
    let mut docs = subject::catalogue(opts);
    for declare in EVENT_FAMILIES {
        let decl = declare(opts);
        if present.contains(&decl.table) {
            docs.extend(decl.features.iter().map(|f| FeatureDoc { name: f.name.clone(), family: f.family.into(), doc: f.doc.clone() }));
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
/// catalogue order; rows by as-of date, then in registry order (deterministic for the same
/// input; the kernel walks subjects in `sid` order, which keeps memory access sequential).
/// Scored = status active/suspended, established before T.
pub fn compute(data: &Validated, as_of: &[i32], opts: &FeatureOptions) -> Result<DataFrame> {
    compute_with(data, as_of, opts, Backend::Kernel)
}

pub fn compute_with(data: &Validated, as_of: &[i32], opts: &FeatureOptions, backend: Backend) -> Result<DataFrame> {
    opts.check()?;
    if as_of.is_empty() {
        return Err(Error::BadArgument("at least one as-of date is needed".into()));
    }
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let present: Vec<&str> = data.tables.iter().map(|(s, _)| s.name).collect();
    let mut bases: Vec<DataFrame> = as_of.iter().map(|&t| subject::base(subjects, t, opts).collect()).collect::<PolarsResult<_>>()?;
    let sids: Vec<Vec<u32>> = bases
        .iter()
        .map(|b| Ok(b.column(SID)?.u32()?.iter().map(|v| v.expect("sid")).collect()))
        .collect::<Result<_>>()?;
    // Table by table: group once, evaluate every as-of date, release the grouping.
    for declare in EVENT_FAMILIES {
        let decl = declare(opts);
        let Some(frame) = data.table(decl.table) else { continue };
        match backend {
            Backend::Kernel => {
                let grouped = kernel::Grouped::build(frame, &decl, subjects.height())?;
                for ((base, sids), &t) in bases.iter_mut().zip(&sids).zip(as_of) {
                    for c in grouped.evaluate(&decl, sids, t) {
                        base.with_column(c)?;
                    }
                    *base = std::mem::take(base).lazy().with_columns(kernel::nan_to_null(&decl)).collect()?;
                }
            }
            Backend::Reference => {
                for (base, &t) in bases.iter_mut().zip(as_of) {
                    let part = reference::evaluate(frame, &decl, t)?;
                    let fills: Vec<Expr> = decl
                        .features
                        .iter()
                        .map(|f| match f.when_absent {
                            Absent::Zero => col(f.name.as_str()).fill_null(lit(0.0)),
                            Absent::Null => col(f.name.as_str()),
                        })
                        .collect();
                    let keep_order = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
                    *base = std::mem::take(base)
                        .lazy()
                        .join(part.lazy(), [col(SID)], [col(SID)], keep_order)
                        .with_columns(fills)
                        .collect()?;
                }
            }
        }
    }
    let order: Vec<Expr> = [col("uscc"), col("as_of")]
        .into_iter()
        .chain(catalogue(&present, opts).into_iter().map(|d| col(d.name)))
        .collect();
    let mut out: Option<DataFrame> = None;
    for base in bases {
        let df = peer::add(base, &present, opts)?.lazy().select(order.clone()).collect()?;
        match out.as_mut() {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df)?;
            }
        }
    }
    let mut out = out.expect("at least one as-of date");
    out.rechunk_mut();
    Ok(out)
}
