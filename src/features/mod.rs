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
mod indicators;
mod inspections;
mod judgments;
mod kernel;
mod licences;
mod merged;
mod peer;
mod penalties;
mod product_checks;
mod reference;
mod relations;
pub mod spec;
mod subject;

pub use spec::{Dimension, Direction, Family, Feature, Kind, Visibility};
use spec::TableFeatures;

use std::borrow::Cow;

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
    /// Licence types that become features (`lic_<name>_now`), as `[[features.licence]]`.
    #[serde(rename = "licence")]
    pub licences: Vec<LicenceType>,
    /// A person or address id linked to more subjects than this relates nobody (nominee
    /// directors, registered agents); the manifest counts such ids.
    pub relation_person_cap: usize,
    /// Features over the `indicators` table, as `[[features.indicator]]`.
    #[serde(rename = "indicator")]
    pub indicators: Vec<IndicatorFeature>,
}

/// How a declared indicator feature aggregates a subject's observations in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorMeasure {
    /// The latest observed value.
    Last,
    /// Sum of the values.
    Sum,
    /// Number of observations.
    Count,
    Max,
    Mean,
    /// Days from the latest observation to T.
    DaysSince,
}

/// A feature the policy declares over one indicator of the `indicators` table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFeature {
    /// The feature's name: lowercase ASCII letters, digits and `_`, unique among all features.
    pub name: String,
    /// The `indicator` value in the data.
    pub indicator: String,
    pub measure: IndicatorMeasure,
    /// Look-back window in days; absent = every observation known at T.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<i32>,
    #[serde(default)]
    pub direction: Direction,
    pub zh: String,
    pub en: String,
    pub dimension: Dimension,
    /// Whether it may appear in published files (warnings_public.csv). Default false: another
    /// department's figures (tax, social insurance) are shared for supervision, not publication.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
}

/// A licence type the policy turns into a feature: holds a current licence of it at T.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceType {
    /// The feature's stem: lowercase ASCII letters, digits and `_` (`lic_<name>_now`).
    pub name: String,
    /// The `licence_type` value in the data.
    pub licence_type: String,
    /// The permit's name in Chinese and in English, for labels.
    pub zh: String,
    pub en: String,
}

impl LicenceType {
    fn new(name: &str, licence_type: &str, en: &str) -> Self {
        LicenceType { name: name.into(), licence_type: licence_type.into(), zh: licence_type.into(), en: en.into() }
    }
}

/// The permits most market subjects need (许可证): food, drugs, special equipment, tobacco, alcohol,
/// public venues, road transport, discharge permits.
fn default_licences() -> Vec<LicenceType> {
    vec![
        LicenceType::new("food_trade", "食品经营许可", "food trade licence"),
        LicenceType::new("food_production", "食品生产许可", "food production licence"),
        LicenceType::new("drug_trade", "药品经营许可", "drug trade licence"),
        LicenceType::new("drug_production", "药品生产许可", "drug production licence"),
        LicenceType::new("special_equipment", "特种设备使用登记", "special equipment registration"),
        LicenceType::new("tobacco_retail", "烟草专卖零售许可", "tobacco retail licence"),
        LicenceType::new("alcohol_trade", "酒类经营许可", "alcohol trade licence"),
        LicenceType::new("public_venue", "公共场所卫生许可", "public venue hygiene licence"),
        LicenceType::new("road_transport", "道路运输经营许可", "road transport licence"),
        LicenceType::new("discharge", "排污许可", "pollutant discharge permit"),
    ]
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
        if self.relation_person_cap < 2 {
            return bad(format!("relation_person_cap must be at least 2 (an id shared by two subjects relates them), got {}", self.relation_person_cap));
        }
        // One predicate bit per declared type, and the kernel has 32.
        if self.licences.len() > licences::MAX_DECLARED {
            return bad(format!("at most {} licence types can be declared, got {}", licences::MAX_DECLARED, self.licences.len()));
        }
        for (i, l) in self.licences.iter().enumerate() {
            if !is_stem(&l.name) {
                return bad(format!("licence `{}`: name must be lowercase ASCII letters, digits and `_`, starting with a letter", l.name));
            }
            for (what, v) in [("licence_type", &l.licence_type), ("zh", &l.zh), ("en", &l.en)] {
                if v.trim().is_empty() {
                    return bad(format!("licence `{}`: {what} must not be empty", l.name));
                }
            }
            if let Some(j) = self.licences[..i].iter().position(|o| o.name == l.name || o.licence_type == l.licence_type) {
                return bad(format!("licence `{}` repeats the name or licence_type of licence `{}`", l.name, self.licences[j].name));
            }
        }
        for f in &self.indicators {
            let what = format!("indicator feature `{}`", f.name);
            if !is_stem(&f.name) {
                return bad(format!("{what}: name must be lowercase ASCII letters, digits and `_`, starting with a letter"));
            }
            for (field, v) in [("indicator", &f.indicator), ("zh", &f.zh), ("en", &f.en)] {
                if v.trim().is_empty() {
                    return bad(format!("{what}: {field} must not be empty"));
                }
            }
            if let Some(w) = f.window.filter(|w| !(1..=MAX_DAYS).contains(w)) {
                return bad(format!("{what}: window must be 1 to {MAX_DAYS} days, got {w}"));
            }
        }
        let distinct: std::collections::BTreeSet<&str> = self.indicators.iter().map(|f| f.indicator.as_str()).collect();
        if distinct.len() > indicators::MAX_INDICATORS {
            return bad(format!("features over at most {} distinct indicators can be declared, got {}", indicators::MAX_INDICATORS, distinct.len()));
        }
        // Declared names must not shadow each other or a built-in feature.
        let mut seen = std::collections::BTreeSet::new();
        for f in Registry::all(self).features {
            if !seen.insert(f.name.clone()) {
                return bad(format!("feature `{}` is declared twice (a declared licence or indicator feature takes a name in use)", f.name));
            }
        }
        Ok(())
    }
}

/// A name riskwarn can use as (part of) a column name: lowercase ASCII, digits, `_`, a letter first.
fn is_stem(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase()) && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
        Self {
            windows: vec![30, 90, 365, 1095],
            recent_days: 365,
            history_days: 1095,
            observation_period_days: 365,
            peer_region_digits: 4,
            licences: default_licences(),
            relation_person_cap: 20,
            indicators: Vec::new(),
        }
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
    licences::declare,
    indicators::declare,
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
        features.extend(merged::catalogue(present, opts));
        features.extend(relations::catalogue(present, opts));
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

/// Markdown catalogue of every feature under `opts` (docs/features.md is this text for the
/// committed riskwarn.toml; a test keeps it so).
pub fn catalogue_markdown(opts: &FeatureOptions) -> String {
    let mut s = format!(
        "# Feature catalogue\n\n\
         Generated from the feature registry in `src/features/` and the `[features]` section of the committed \
         riskwarn.toml (a test keeps this file identical to both): windows {:?} days, recent window {} days, \
         history window {} days. Licence features `lic_<name>_now` come from `[[features.licence]]`, family \
         `indicators` from `[[features.indicator]]` (docs/policy.md): another policy gives other rows. Every feature is computed as of a date T from rows dated strictly before T and, \
         where the table has `recorded_on`, recorded strictly before T. Features of an absent table are left out \
         of the run. `ownership` is never a feature. Peer group = industry section × the first {} digits of the \
         region code.\n\n\
         - **dimension**: the national indicator system's dimension (通用型企业信用风险分类指标体系).\n\
         - **direction** `increasing`: more of it never lowers risk (the scorecard's coefficient is constrained \
         to ≥ 0, the trees are monotone in it); `decreasing`: more of it never raises risk \
         (coefficient ≤ 0, trees monotone the other way).\n\
         - **public** `no`: never shown in published files (warnings_public.csv).\n\n\
         | feature | family | dimension | kind | direction | public | label (zh / en) | meaning |\n\
         |---|---|---|---|---|---|---|---|\n",
        opts.windows, opts.recent_days, opts.history_days, opts.peer_region_digits
    );
    for f in Registry::all(opts).features {
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

/// Relation ids (persons, addresses) left out as of T for linking more than
/// `relation_person_cap` subjects; None without a relations table.
pub fn capped_relation_ids(data: &Validated, as_of: i32, opts: &FeatureOptions) -> Result<Option<usize>> {
    let Some(relations) = data.table("relations") else { return Ok(None) };
    Ok(Some(relations::capped_ids(relations, &subject_codes(data)?, as_of, opts.relation_person_cap)?))
}

/// Rows per indicator of a data's `indicators` table (empty when it is absent); the counts of
/// buckets add up to the whole data's.
pub type IndicatorRows = std::collections::BTreeMap<String, usize>;

pub fn indicator_rows(data: &Validated) -> Result<IndicatorRows> {
    use rayon::prelude::*;
    let mut out = IndicatorRows::new();
    let Some(frame) = data.table("indicators") else { return Ok(out) };
    // Counted chunk by chunk in parallel, by borrowed names (few distinct, many rows).
    let counts: Vec<PlHashMap<&str, usize>> = frame
        .column("indicator")?
        .str()?
        .downcast_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|arr| {
            let mut counts = PlHashMap::new();
            for v in arr.iter().flatten() {
                *counts.entry(v).or_default() += 1;
            }
            counts
        })
        .collect();
    for (name, n) in counts.into_iter().flatten() {
        *out.entry(name.to_string()).or_default() += n;
    }
    Ok(out)
}

/// The options with the declared indicator features whose indicator has no rows (in the whole
/// data: every bucket computes the same columns) left out.
pub fn with_data_indicators(rows: &IndicatorRows, opts: &FeatureOptions) -> FeatureOptions {
    let mut out = opts.clone();
    out.indicators.retain(|f| rows.contains_key(&f.indicator));
    out
}

/// What the feature stage says once about the data under these options: indicators in the data
/// that no feature declares (ignored), and declared indicator features without rows (left out;
/// `compute` leaves them out too).
pub fn notices(data: &Validated, opts: &FeatureOptions, m: crate::messages::Messages) -> Result<Vec<String>> {
    if data.table("indicators").is_none() {
        return Ok(Vec::new()); // the loader says once that the table is absent
    }
    Ok(notices_of(&indicator_rows(data)?, opts, m))
}

/// [`notices`] from the rows per indicator (of every bucket, added up).
pub fn notices_of(rows: &IndicatorRows, opts: &FeatureOptions, m: crate::messages::Messages) -> Vec<String> {
    let mut out = Vec::new();
    let undeclared: Vec<String> = rows
        .iter()
        .filter(|(i, _)| !opts.indicators.iter().any(|f| &f.indicator == *i))
        .map(|(i, n)| m.fill("notice.indicator_rows", &[("indicator", i), ("rows", n)]))
        .collect();
    if !undeclared.is_empty() {
        out.push(m.fill("notice.undeclared_indicators", &[("list", &undeclared.join(", "))]));
    }
    let missing: Vec<String> = opts
        .indicators
        .iter()
        .filter(|f| !rows.contains_key(&f.indicator))
        .map(|f| m.fill("notice.declared_feature", &[("name", &f.name), ("indicator", &f.indicator)]))
        .collect();
    if !missing.is_empty() {
        out.push(m.fill("notice.declared_without_rows", &[("list", &missing.join(", "))]));
    }
    out
}

pub fn compute_with(data: &Validated, as_of: &[i32], opts: &Valid<FeatureOptions>, backend: Backend) -> Result<DataFrame> {
    let present = present_tables(data);
    let opts = &with_data_indicators(&indicator_rows(data)?, opts);
    let locals = local(data, as_of, opts, backend)?;
    population_and_finish(data, locals, &present, as_of, opts)
}

/// [`compute`], releasing each event table of `data` once its features are made, so the
/// features made never sit beside every event table: afterwards `data` holds only the tables
/// no per-table feature reads (subjects, relations, cases …).
pub fn compute_releasing(data: &mut Validated, as_of: &[i32], opts: &Valid<FeatureOptions>) -> Result<DataFrame> {
    let present = present_tables(data);
    let opts = &with_data_indicators(&indicator_rows(data)?, opts);
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?.clone();
    let locals = local_of(&subjects, &present, as_of, opts, Backend::Kernel, |name| data.take_table(name).map(Cow::Owned))?;
    population_and_finish(data, locals, &present, as_of, opts)
}

/// The population-wide steps of [`compute`] over one part holding every subject.
fn population_and_finish(data: &Validated, locals: Vec<DataFrame>, present: &[&str], as_of: &[i32], opts: &FeatureOptions) -> Result<DataFrame> {
    let subjects = subject_codes(data)?;
    let mut out: Option<DataFrame> = None;
    for (base, &t) in locals.into_iter().zip(as_of) {
        let peer = PeerStats::partial(&base, present, opts)?;
        let part = RelationPart { features: &base, relations: data.table("relations"), subjects: &subjects };
        let (relations, _) = relation_features(&[part], t, present, opts)?;
        let relations = relations.into_iter().next().expect("one part");
        crate::bucket::stack(&mut out, finish(base, relations, &peer, present, opts)?)?;
    }
    let mut out = out.expect("at least one as-of date");
    out.rechunk_mut();
    Ok(out)
}

/// The names of the tables a data holds.
pub fn present_tables(data: &Validated) -> Vec<&'static str> {
    data.tables.iter().map(|(s, _)| s.name).collect()
}

/// The used subjects' codes in `sid` order.
pub fn subject_codes(data: &Validated) -> Result<StringChunked> {
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    Ok(subjects.column("uscc")?.str()?.clone())
}

/// The per-subject features of one bucket of subjects (or all of them) at each as-of date:
/// everything but the population-wide steps ([`population`], [`finish`]). `opts` are the
/// options of the whole data ([`with_data_indicators`]), so every bucket has the same columns.
pub fn local(data: &Validated, as_of: &[i32], opts: &FeatureOptions, backend: Backend) -> Result<Vec<DataFrame>> {
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    local_of(subjects, &present_tables(data), as_of, opts, backend, |name| data.table(name).map(Cow::Borrowed))
}

/// [`local`] with each event table got from `table` when its features are made (and dropped
/// after, when it is owned).
fn local_of<'a>(
    subjects: &DataFrame,
    present: &[&str],
    as_of: &[i32],
    opts: &FeatureOptions,
    backend: Backend,
    mut table: impl FnMut(&str) -> Option<Cow<'a, DataFrame>>,
) -> Result<Vec<DataFrame>> {
    if as_of.is_empty() {
        return Err(Error::BadArgument("at least one as-of date is needed".into()));
    }
    let mut bases: Vec<DataFrame> = as_of.iter().map(|&t| subject::base(subjects, t, opts).collect()).collect::<PolarsResult<_>>()?;
    let sids: Vec<Vec<u32>> = bases
        .iter()
        .map(|b| Ok(b.column(SID)?.u32()?.iter().map(|v| v.expect("sid")).collect()))
        .collect::<Result<_>>()?;
    // Table by table: group once, evaluate every as-of date, release the grouping.
    for declare in EVENT_FAMILIES {
        let decl = declare(opts);
        if decl.features.is_empty() {
            continue;
        }
        let Some(frame) = table(decl.table) else { continue };
        let frame = frame.as_ref();
        match backend {
            Backend::Kernel => {
                let grouped = kernel::Grouped::build(frame, &decl, subjects.height())?;
                for ((base, sids), &t) in bases.iter_mut().zip(&sids).zip(as_of) {
                    for c in grouped.evaluate(&decl, sids, t) {
                        base.with_column(c)?;
                    }
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
    bases.into_iter().map(|b| merged::add(b, present, opts)).collect()
}

pub use peer::PeerStats;
pub use relations::RelationPart;

/// The columns of a bucket's [`local`] features that [`relation_features`] reads: `sid` and
/// the neighbours' listings, violations and penalties (the compact part a run keeps of every
/// bucket for the population-wide step).
pub fn relation_inputs(local: &DataFrame, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    Ok(local.select(relations::input_columns(present, opts))?)
}

/// The columns of a bucket's `relations` table that [`relation_features`] reads.
pub fn relation_table(relations: &DataFrame) -> Result<DataFrame> {
    relations::table_columns(relations)
}

/// What the relation step needs of every bucket at T, gathered one bucket at a time: the
/// neighbour values of its scored subjects, the keys of its used subjects' codes and of its
/// links valid at T ([`relations::Graph`]; nothing without a relations table).
pub struct RelationParts {
    graph: relations::Graph,
}

impl RelationParts {
    /// Nothing yet, for the relation step at `t`.
    pub fn at(t: i32) -> Self {
        RelationParts { graph: relations::Graph::new(t) }
    }

    /// Keeps what the relation step needs of one bucket (`local`: its features at T).
    pub fn push(&mut self, local: &DataFrame, data: &Validated, present: &[&str], opts: &FeatureOptions) -> Result<()> {
        let subjects = subject_codes(data)?;
        self.graph.push(&RelationPart { features: local, relations: data.table("relations"), subjects: &subjects }, present, opts)
    }

    /// The relation features of every bucket pushed, in the order pushed, and the ids capped
    /// (None without a relations table).
    pub fn features(self, present: &[&str], opts: &FeatureOptions) -> Result<(Vec<DataFrame>, Option<usize>)> {
        let (columns, capped) = self.graph.features(present, opts)?;
        Ok((columns, present.contains(&"relations").then_some(capped)))
    }
}

/// The relation graphs across every bucket at T: per part, its subjects' relation features (row
/// for row with its features; no columns without a relations table), and the ids capped (None
/// without a relations table).
pub fn relation_features(parts: &[RelationPart], t: i32, present: &[&str], opts: &FeatureOptions) -> Result<(Vec<DataFrame>, Option<usize>)> {
    if !present.contains(&"relations") {
        return Ok((parts.iter().map(|p| DataFrame::empty_with_height(p.features.height())).collect(), None));
    }
    let (columns, capped) = relations::population(parts, t, present, opts)?;
    Ok((columns, Some(capped)))
}

/// One bucket's features, complete: its local features with its relation columns and the peer
/// features from the population's statistics, in catalogue order.
pub fn finish(local: DataFrame, relations: DataFrame, peer: &PeerStats, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let order: Vec<Expr> = [col("uscc"), col("as_of")]
        .into_iter()
        .chain(Registry::new(present, opts).features.into_iter().map(|f| col(f.name)))
        .collect();
    let mut base = local;
    if relations.width() > 0 {
        base = base.hstack(relations.columns())?;
    }
    Ok(peer::add(base, peer, present, opts)?.lazy().select(order).collect()?)
}

