//! A run's passes over its buckets of subjects (docs/scale-out.md). Each pass takes one
//! bucket's frames out of the spill, works on them alone, and leaves what the next pass needs;
//! between passes, what needs the whole population is done over compact parts: the data span
//! and the case book after validation, peer statistics and relation graphs after the
//! per-subject features, ranks, levels, grades and the plan after scoring. With one bucket the
//! spill is memory and the passes are the plain pipeline.

use std::collections::HashMap;

use polars::prelude::*;

use crate::cases::Adverse;
use crate::contract::TableSpec;
use crate::error::{Error, Result};
use crate::features::{Backend, FeatureOptions, IndicatorRows, PeerStats, RelationParts};
use crate::io::{BucketedData, Spill, FILE_COL, ROW_COL};
use crate::model::Model;
use crate::policy::Policy;
use crate::list::Keys;
use crate::validate::{Rejection, TableCounts, ValidateOptions, Validated};

/// Tables every bucket validates but the run uses whole: what supervisors did and decided
/// (dispositions, imported cases, overrides) and the conflicts of interest of the roster.
pub(crate) const WHOLE: &[&str] = &["dispositions", "cases", "overrides", "conflicts"];

/// What validating every bucket leaves for the passes that follow.
pub(crate) struct Checked {
    /// The tables each bucket holds in the spill (`valid/<bucket>/<table>`).
    pub bucket_tables: Vec<&'static TableSpec>,
    /// The first and last event dates of the used rows.
    pub span: Option<(i32, i32)>,
    pub indicator_rows: IndicatorRows,
}

impl Checked {
    /// The names of the tables the buckets hold (the features' `present`).
    pub fn present(&self) -> Vec<&'static str> {
        self.bucket_tables.iter().map(|s| s.name).collect()
    }
}

/// Pass 1: validates the tables without subjects, then bucket by bucket the others. Returns the
/// tables used whole (the roster, and the [`WHOLE`] tables of every bucket stacked in reading
/// order) with the counts and the quarantine of the whole data, and what the next passes need.
pub(crate) fn validate(data: &mut BucketedData, spill: &Spill, opts: &ValidateOptions, whole_tables: &[&str]) -> Result<(Validated, Checked)> {
    let global = crate::validate::validate_with(std::mem::take(&mut data.global), opts, None)?;
    let inspectors = global.inspector_ids()?;
    let Validated { tables: mut whole, mut rejected, counts, notices } = global;
    let mut counts_parts = vec![counts];
    let mut bucket_tables = Vec::new();
    let mut span: Option<(i32, i32)> = None;
    let mut indicator_rows = IndicatorRows::new();
    for b in 0..data.buckets {
        let raw = data.take(b, spill)?;
        let v = crate::validate::validate_with(raw, opts, inspectors.as_ref())?;
        if let Ok((lo, hi)) = crate::model::train::data_span(&v) {
            span = Some(span.map_or((lo, hi), |(a, z)| (a.min(lo), z.max(hi))));
        }
        for (k, n) in crate::features::indicator_rows(&v)? {
            *indicator_rows.entry(k).or_default() += n;
        }
        rejected.vstack_mut(&v.rejected)?;
        counts_parts.push(v.counts);
        if b == 0 {
            bucket_tables = v.tables.iter().filter(|(s, _)| !whole_tables.contains(&s.name)).map(|(s, _)| *s).collect();
        }
        for (spec, frame) in v.tables {
            if !whole_tables.contains(&spec.name) {
                spill.put(&format!("valid/{b}/{}", spec.name), frame)?;
            } else if let Some((_, acc)) = whole.iter_mut().find(|(s, _)| s.name == spec.name) {
                acc.vstack_mut(&frame)?;
            } else {
                whole.push((spec, frame));
            }
        }
    }
    let mut validated = Validated { tables: whole, rejected, counts: merge_counts(&counts_parts), notices };
    settle_whole(&mut validated)?;
    Ok((validated, Checked { bucket_tables, span, indicator_rows }))
}

/// The tables used whole, stacked from the buckets in any order, settled as one table each:
/// the rows whose origin is kept in reading order (a later row of a duplicate loses), then a
/// case id repeated across buckets quarantined.
pub(crate) fn settle_whole(validated: &mut Validated) -> Result<()> {
    for (spec, frame) in validated.tables.iter_mut() {
        if crate::contract::ORIGIN_KEPT.contains(&spec.name) {
            let rank = crate::validate::reading_order(frame.column(FILE_COL)?.str()?);
            frame.with_column(Column::new("__file_rank".into(), rank))?;
            *frame = std::mem::take(frame).lazy().sort(["__file_rank", ROW_COL], SortMultipleOptions::default().with_maintain_order(true)).collect()?;
            frame.drop_in_place("__file_rank")?;
        }
        frame.rechunk_mut();
    }
    reject_repeated_case_ids(validated)
}

/// The counts of every part added up per table, in the order validation records tables.
pub(crate) fn merge_counts(parts: &[Vec<TableCounts>]) -> Vec<TableCounts> {
    let order = ["subjects"]
        .into_iter()
        .chain(crate::contract::TABLES.iter().map(|s| s.name).filter(|n| *n != "subjects" && *n != "conflicts"))
        .chain(["conflicts"]);
    let mut out = Vec::new();
    for name in order {
        let mut total: Option<TableCounts> = None;
        for c in parts.iter().flatten().filter(|c| c.table == name) {
            let t = total.get_or_insert_with(|| TableCounts { table: name.to_string(), read: 0, used: 0, rejected: 0 });
            t.read += c.read;
            t.used += c.used;
            t.rejected += c.rejected;
        }
        out.extend(total);
    }
    out
}

/// A case id must be unique in the whole `cases` table; each bucket could only check its own
/// rows. The later rows of an id seen in another bucket are quarantined with the reason
/// validation gives (and dropped from the table), so any split rejects the same rows.
fn reject_repeated_case_ids(validated: &mut Validated) -> Result<()> {
    let Some(cases) = validated.table("cases").cloned() else { return Ok(()) };
    let ids = cases.column("case_id")?.str()?;
    let mut seen: PlHashSet<&str> = PlHashSet::new();
    let mut repeated = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if !seen.insert(id) {
                repeated.push(i);
            }
        }
    }
    if repeated.is_empty() {
        return Ok(());
    }
    let file = cases.column(FILE_COL)?.str()?;
    let row = cases.column(ROW_COL)?.cast(&DataType::UInt64)?;
    let row = row.u64()?;
    let uscc = cases.column("uscc")?.str()?;
    let rows: Vec<Rejection> = repeated
        .iter()
        .map(|&i| Rejection {
            file: file.get(i).unwrap_or("").to_string(),
            row: row.get(i).unwrap_or(0),
            column: "case_id".into(),
            reason: "duplicate (case_id) of an earlier row, which is kept".into(),
            uscc: uscc.get(i).unwrap_or("").to_string(),
        })
        .collect();
    let mut keep = vec![true; cases.height()];
    for &i in &repeated {
        keep[i] = false;
    }
    let kept = cases.filter(&BooleanChunked::from_slice("".into(), &keep))?;
    validated.reject_after_validation("cases", &rows)?;
    if let Some((_, frame)) = validated.tables.iter_mut().find(|(s, _)| s.name == "cases") {
        *frame = kept;
    }
    Ok(())
}

/// A bucket's validated tables, taken out of the spill (`keep`: a copy, leaving them there).
pub(crate) fn take_bucket(checked: &Checked, spill: &Spill, b: u32, keep: bool) -> Result<Validated> {
    let tables = checked
        .bucket_tables
        .iter()
        .map(|s| {
            let key = format!("valid/{b}/{}", s.name);
            Ok((*s, if keep { spill.get(&key)? } else { spill.take(&key)? }))
        })
        .collect::<Result<_>>()?;
    Ok(Validated { tables, rejected: crate::validate::empty_rejected(), counts: Vec::new(), notices: Vec::new() })
}

/// What the per-subject features of every bucket leave for the population-wide step.
pub(super) struct Local {
    /// Scored subjects per bucket.
    pub scored: Vec<usize>,
    pub peer: PeerStats,
    pub relations: RelationParts,
    /// The latest adverse record of each subject in a quiet period (docs/cases.md).
    pub adverse: HashMap<String, Adverse>,
    /// The inspections within the previous plan's window (when asked for).
    pub window_inspections: Option<DataFrame>,
}

/// Pass 2: every bucket's per-subject features at T (kept in the spill as `local/<bucket>`,
/// with its registry as `subjects/<bucket>`), and what the population-wide step and the
/// cases need of it. `window`: the days [from, to) whose inspections follow the previous plan through.
pub(super) fn features(
    checked: &Checked,
    spill: &Spill,
    buckets: u32,
    as_of: i32,
    opts: &FeatureOptions,
    quiet: &[&str],
    window: Option<(i32, i32)>,
) -> Result<Local> {
    let present = checked.present();
    let mut out = Local {
        scored: Vec::new(),
        peer: PeerStats::default(),
        relations: RelationParts::at(as_of),
        adverse: HashMap::new(),
        window_inspections: None,
    };
    for b in 0..buckets {
        let data = take_bucket(checked, spill, b, false)?;
        let local = crate::features::local(&data, &[as_of], opts, Backend::Kernel)?.pop().expect("one as-of date");
        out.peer.merge(&PeerStats::partial(&local, &present, opts)?);
        out.relations.push(&local, &data, &present, opts)?;
        out.adverse.extend(crate::cases::adverse_events(&data, quiet, as_of)?);
        if let (Some(window), Some(inspections)) = (window, data.table("inspections")) {
            crate::bucket::stack(&mut out.window_inspections, window_rows(inspections, window)?)?;
        }
        out.scored.push(local.height());
        let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
        spill.put(&format!("subjects/{b}"), subjects.select(crate::score::REGISTRY_COLUMNS)?)?;
        spill.put(&format!("local/{b}"), local)?;
    }
    Ok(out)
}

/// The inspections of the days [from, to) that follow the previous plan through: `uscc`,
/// `inspected_on`, `mode`, `outcome`.
pub(crate) fn window_rows(inspections: &DataFrame, (from, to): (i32, i32)) -> Result<DataFrame> {
    let day = |d: i32| lit(d).cast(DataType::Date);
    Ok(inspections
        .clone()
        .lazy()
        .filter(col("inspected_on").gt_eq(day(from)).and(col("inspected_on").lt(day(to))))
        .select([col("uscc"), col("inspected_on"), col("mode"), col("outcome")])
        .collect()?)
}

/// Each bucket's relation columns (from the population-wide relation step), kept in the spill
/// as `relations/<bucket>` until its score pass: at province scale they are hundreds of
/// megabytes (nothing is kept without a relations table).
pub(super) fn keep_relations(spill: &Spill, relations: Vec<DataFrame>, present: &[&str]) -> Result<()> {
    if present.contains(&"relations") {
        for (b, frame) in relations.into_iter().enumerate() {
            spill.put(&format!("relations/{b}"), frame)?;
        }
    }
    Ok(())
}

/// Pass 3: every bucket's features completed with the population's (peer groups, relations)
/// and scored with their reasons: their keys appended, the rest of their rows left in the spill
/// as `scored/<bucket>` (`scored`: the subjects each bucket scores, one entry per bucket, from
/// pass 2).
pub(super) fn score(
    spill: &Spill,
    scored: &[usize],
    peer: &PeerStats,
    present: &[&str],
    opts: &FeatureOptions,
    model: &Model,
    policy: &Policy,
) -> Result<Keys> {
    let mut keys = Keys::default();
    keys.reserve(scored.iter().sum());
    for b in 0..scored.len() as u32 {
        let local = spill.take(&format!("local/{b}"))?;
        let subjects = spill.take(&format!("subjects/{b}"))?;
        let relations = if present.contains(&"relations") { spill.take(&format!("relations/{b}"))? } else { DataFrame::empty() };
        if local.height() == 0 {
            continue;
        }
        let features = crate::features::finish(local, relations, peer, present, opts)?;
        let part = crate::score::score_bucket(&features, &subjects, model, policy)?;
        keys.push(part, &format!("scored/{b}"), spill, model, policy)?;
    }
    Ok(keys)
}
