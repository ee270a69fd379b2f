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

pub use spec::{Dimension, Direction, Family, Feature, Kind, Visibility};
use spec::TableFeatures;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::options::{Check, Valid};
use crate::validate::{Validated, SID};

/// Options of the feature stage: every window a feature uses is named here. The policy's
/// `[features]` section sets them (riskwarn.toml); a model records the ones it was trained with.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureOptions {
    /// Look-back windows in days for event counts.
    pub windows: Vec<i32>,
    /// The recent window in days: trends (against the window before it), licence revocations,
    /// counts by complaint channel, and the peer-relative counts. One of `windows`.
    pub recent_days: i32,
    /// The history window in days: counts by severity, mode and role, fines, shares, and the
    /// violation rates shrunk toward peers. One of `windows`.
    pub history_days: i32,
    /// Subjects younger than this many days at T are in the observation period (包容审慎).
    pub observation_period_days: i32,
    /// Leading digits of the region code that define a peer group (with the industry section).
    pub peer_region_digits: usize,
}

impl Check for FeatureOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::BadArgument(format!("features: {m}")));
        // A century bounds every window, so trends (twice the recent window) stay in range.
        const MAX_DAYS: i32 = 100 * crate::dates::DAYS_PER_YEAR;
        if self.windows.is_empty() || self.windows.iter().any(|w| !(1..=MAX_DAYS).contains(w)) {
            return bad(format!("windows must be day counts from 1 to {MAX_DAYS}, got {:?}", self.windows));
        }
        let mut sorted = self.windows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.windows.len() {
            return bad(format!("windows are listed twice in {:?}", self.windows));
        }
        for (name, days) in [("recent_days", self.recent_days), ("history_days", self.history_days)] {
            if !self.windows.contains(&days) {
                return bad(format!("{name} = {days} must be one of the windows {:?} (the peer features read its counts)", self.windows));
            }
        }
        if self.recent_days >= self.history_days {
            return bad(format!("recent_days ({}) must be shorter than history_days ({})", self.recent_days, self.history_days));
        }
        if self.observation_period_days < 0 {
            return bad(format!("observation_period_days must be ≥ 0, got {}", self.observation_period_days));
        }
        if !(1..=6).contains(&self.peer_region_digits) {
            return bad(format!("peer_region_digits must be 1 to 6 (a region code has 6), got {}", self.peer_region_digits));
        }
        Ok(())
    }
}

impl FeatureOptions {
    /// The options that differ from `other`: each option's name with both values (for a clear
    /// mismatch error). Read off the serialised options, so a new option is compared too.
    pub fn differences(&self, other: &FeatureOptions) -> Vec<(String, String, String)> {
        let as_map = |o: &FeatureOptions| match serde_json::to_value(o) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => unreachable!("feature options serialise as a map"),
        };
        let theirs = as_map(other);
        as_map(self)
            .into_iter()
            .filter(|(name, mine)| theirs.get(name) != Some(mine))
            .map(|(name, mine)| {
                let other = theirs.get(&name).map(|v| v.to_string()).unwrap_or_default();
                (name, mine.to_string(), other)
            })
            .collect()
    }
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self { windows: vec![30, 90, 365, 1095], recent_days: 365, history_days: 1095, observation_period_days: 365, peer_region_digits: 4 }
    }
}

/// What a subject without rows in a table gets: 0 for counts, null for "days since" and shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    Zero,
    Null,
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

/// Every feature of a run, given which tables are present, in column order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub features: Vec<Feature>,
}

impl Registry {
    pub fn new(present: &[&str], opts: &FeatureOptions) -> Self {
        let mut features = subject::catalogue(opts);
        for declare in EVENT_FAMILIES {
            let decl = declare(opts);
            if present.contains(&decl.table) {
                features.extend(decl.features.into_iter().map(|f| f.feature));
            }
        }
        features.extend(peer::catalogue(present, opts));
        Registry { features }
    }

    /// Every feature riskwarn can compute (every table of the contract present).
    pub fn all(opts: &FeatureOptions) -> Self {
        let all: Vec<&str> = crate::contract::TABLES.iter().map(|t| t.name).collect();
        Self::new(&all, opts)
    }

    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|f| f.name.as_str())
    }

    /// The known name closest to `name` (edit distance), for "did you mean" messages.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        self.names().min_by_key(|n| (edit_distance(n, name), *n))
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + (ca != *cb) as usize).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The feature of the "past violations" baseline ranking: violations found in the history window.
pub fn past_violations(opts: &FeatureOptions) -> String {
    spec::windowed_name("insp_violation", opts.history_days)
}

/// The serde name of an enum value (`increasing`, `supervision`, …).
fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Markdown catalogue of every feature (docs/features.md is this text; a test keeps it so).
pub fn catalogue_markdown() -> String {
    let opts = FeatureOptions::default();
    let mut s = format!(
        "# Feature catalogue\n\n\
         Generated from the feature registry in `src/features/` (a test keeps this file identical to the \
         code), for the default `[features]` options of the policy (windows {:?} days, recent window {} days, \
         history window {} days). Every feature is computed as of a date T from rows dated strictly before T and, \
         where the table has `recorded_on`, recorded strictly before T. Features of an absent table are left out \
         of the run. `ownership` is never a feature. Peer group = industry section × the first {} digits of the \
         region code.\n\n\
         - **dimension**: the national indicator system's dimension (通用型企业信用风险分类指标体系).\n\
         - **direction** `increasing`: more of it never lowers risk (the scorecard's coefficient is constrained \
         to ≥ 0, the trees are monotone in it); `decreasing` (no feature yet): more of it never raises risk \
         (coefficient ≤ 0, trees monotone the other way).\n\
         - **public** `no`: never shown in published files (warnings_public.csv).\n\n\
         | feature | family | dimension | kind | direction | public | label (zh / en) | meaning |\n\
         |---|---|---|---|---|---|---|---|\n",
        opts.windows, opts.recent_days, opts.history_days, opts.peer_region_digits
    );
    for f in Registry::all(&opts).features {
        s += &format!(
            "| `{}` | {} ({}) | {} / {} | {} | {} | {} | {} / {} | {} |\n",
            f.name,
            f.family.name,
            f.family.zh,
            f.dimension.zh(),
            f.dimension.en(),
            word(&f.kind),
            word(&f.direction),
            if f.visibility == Visibility::Public { "yes" } else { "no" },
            f.label_zh,
            f.label_en,
            f.doc
        );
    }
    s
}

/// Features for every scored subject at every as-of date: `uscc`, `as_of`, then the features in
/// catalogue order; rows by as-of date, then in registry order (deterministic for the same
/// input; the kernel walks subjects in `sid` order, which keeps memory access sequential).
/// Scored = status active/suspended, established before T.
pub fn compute(data: &Validated, as_of: &[i32], opts: &Valid<FeatureOptions>) -> Result<DataFrame> {
    compute_with(data, as_of, opts, Backend::Kernel)
}

pub fn compute_with(data: &Validated, as_of: &[i32], opts: &Valid<FeatureOptions>, backend: Backend) -> Result<DataFrame> {
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
                            Absent::Zero => col(f.name()).fill_null(lit(0.0)),
                            Absent::Null => col(f.name()),
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
        .chain(Registry::new(&present, opts).features.into_iter().map(|f| col(f.name)))
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
