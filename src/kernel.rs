//! The per-bucket kernel with Arrow in and out, for an engine that distributes the buckets
//! itself (docs/scale-out.md). Each function takes arrow-rs record batches — one bucket's rows of
//! the contract's tables, or compact parts of every bucket — and returns record batches; the
//! engine shuffles and sums between the calls:
//!
//! 1. [`partials`] per bucket: peer-group partials (summed by key across buckets), the
//!    neighbour columns and relation rows the relation graphs need, rows per declared indicator,
//!    the used rows of the tables used whole, counts and the quarantine;
//! 2. [`relation_features`] once, over the compact parts of every bucket;
//! 3. [`score`] per bucket: features completed with the merged statistics, scored with reasons;
//! 4. [`warning_list`] once over every bucket's scored rows: ranks, levels, grades, reasons;
//! 5. [`plan`] over the warning list, per department;
//!
//! or, for the run directory `riskwarn run` writes: [`quiet`] once between the passes (the
//! subjects whose adverse records [`score`] looks up), and [`finish`] once over every bucket's
//! scored rows and parts: the list, its cases, the plan, the report and the manifest.
//!
//! These are the functions `riskwarn run` calls bucket by bucket (through polars frames); the
//! results are the same bits (a test runs the sample through this API in 3 buckets).

use arrow::record_batch::RecordBatch;
use polars::prelude::*;

use std::collections::HashMap;

use crate::cases::Adverse;
use crate::error::{Error, Result};
use crate::features::{Backend, FeatureOptions, IndicatorRows, PeerStats, RelationPart};
use crate::io::{from_record_batch, raw_table_from_batch, to_record_batch, RawData};
use crate::model::Model;
use crate::policy::Policy;
use crate::contract::TableSpec;
use crate::run::{FileHash, Previous};
use crate::validate::{TableCounts, ValidateOptions, Validated, SID};

/// What every call is made under: the policy, the as-of date T and the reference date after
/// which dates are in the future (today, in a nightly run).
pub struct Context<'a> {
    pub policy: &'a Policy,
    pub as_of: i32,
    pub today: i32,
}

/// One bucket's rows of the contract's tables, by table name (every table the data has, even
/// with no rows in this bucket, so that every bucket computes the same features). Optional
/// columns `__file` and `__row` say where each row came from ([`crate::io::raw_table_from_batch`]).
pub type Tables<'a> = [(&'a str, &'a RecordBatch)];

fn validated(tables: &Tables, inspectors: Option<&RecordBatch>, ctx: &Context) -> Result<Validated> {
    let opts = ValidateOptions { reference_date: ctx.today };
    let ids = match inspectors {
        Some(batch) => {
            crate::validate::validate_with(RawData::new(vec![raw_table_from_batch("inspectors", batch)?], Vec::new()), &opts, None)?.inspector_ids()?
        }
        None => None,
    };
    let raw = tables.iter().map(|(name, batch)| raw_table_from_batch(name, batch)).collect::<Result<Vec<_>>>()?;
    if !raw.iter().any(|t| t.spec.name == "subjects") {
        return Err(Error::BadArgument("a bucket needs its `subjects` rows (an empty table if it has none)".into()));
    }
    crate::validate::validate_with(RawData::new(raw, Vec::new()), &opts, ids.as_ref())
}

/// What [`partials`] gives of one bucket.
pub struct Partials {
    /// Peer groups: `industry_section`, `__peer_region`, `<name>_sum`, `<name>_n`; sum the
    /// rows of equal groups across buckets.
    pub peer_groups: RecordBatch,
    /// The prior strengths' statistic: `kind`, `violations`, `inspections`, `subjects`; sum
    /// `subjects` over equal (kind, violations, inspections) across buckets.
    pub peer_moments: RecordBatch,
    /// With a relations table: the scored subjects' `uscc` and neighbour columns, the used
    /// relation rows, and every used subject's `uscc` ([`relation_features`]).
    pub relation_nodes: Option<RecordBatch>,
    pub relation_edges: Option<RecordBatch>,
    pub subjects: RecordBatch,
    /// `indicator`, `rows`: used rows per indicator (sum across buckets for [`score`]).
    pub indicator_rows: RecordBatch,
    /// The bucket's used rows of the tables a run uses whole (`dispositions`, `cases`,
    /// `overrides`, `conflicts`: those the data has), for [`quiet`] and [`finish`] (and its
    /// `overrides` for [`warning_list`]).
    pub whole: Vec<(&'static str, RecordBatch)>,
    /// The used inspections within the window asked for (the previous plan's, [`previous_window`]).
    pub window_inspections: Option<RecordBatch>,
    /// `table`, `read`, `used`, `rejected`; and the quarantined rows (rejected.parquet's columns).
    pub counts: RecordBatch,
    pub rejected: RecordBatch,
}

/// Options under which the partials are computed: the declared indicators play no part in the
/// peer groups or the relation graphs, so a bucket need not know which have rows elsewhere.
fn without_indicators(opts: &FeatureOptions) -> FeatureOptions {
    FeatureOptions { indicators: Vec::new(), ..opts.clone() }
}

/// Pass 1 of one bucket: validation, its per-subject features as of T, and what the
/// population-wide steps need of them. `window`: the days [from, to) whose inspections follow
/// the previous plan through.
pub fn partials(tables: &Tables, inspectors: Option<&RecordBatch>, ctx: &Context, window: Option<(i32, i32)>) -> Result<Partials> {
    let data = validated(tables, inspectors, ctx)?;
    let opts = without_indicators(&ctx.policy.features);
    let present = crate::features::present_tables(&data);
    let local = crate::features::local(&data, &[ctx.as_of], &opts, Backend::Kernel)?.pop().expect("one date");
    let (groups, moments) = PeerStats::partial(&local, &present, &opts)?.to_frames()?;
    let (nodes, edges) = match data.table("relations") {
        Some(relations) => {
            let mut nodes = crate::features::relation_inputs(&local, &present, &opts)?;
            nodes.drop_in_place(SID)?;
            nodes.insert_column(0, local.column("uscc")?.clone())?;
            let edges = crate::features::relation_table(relations)?.drop_many([SID]);
            let uscc = relations.column("uscc")?.clone();
            let edges = edges.hstack(&[uscc])?;
            (Some(to_record_batch(&nodes)?), Some(to_record_batch(&edges)?))
        }
        None => (None, None),
    };
    let rows = crate::features::indicator_rows(&data)?;
    let indicator_rows = DataFrame::new(rows.len(), vec![
        Column::new("indicator".into(), rows.keys().map(String::as_str).collect::<Vec<_>>()),
        Column::new("rows".into(), rows.values().map(|n| *n as u64).collect::<Vec<_>>()),
    ])?;
    let counts = DataFrame::new(data.counts.len(), vec![
        Column::new("table".into(), data.counts.iter().map(|c| c.table.as_str()).collect::<Vec<_>>()),
        Column::new("read".into(), data.counts.iter().map(|c| c.read).collect::<Vec<_>>()),
        Column::new("used".into(), data.counts.iter().map(|c| c.used).collect::<Vec<_>>()),
        Column::new("rejected".into(), data.counts.iter().map(|c| c.rejected).collect::<Vec<_>>()),
    ])?;
    Ok(Partials {
        peer_groups: to_record_batch(&groups)?,
        peer_moments: to_record_batch(&moments)?,
        relation_nodes: nodes,
        relation_edges: edges,
        subjects: to_record_batch(&crate::features::subject_codes(&data)?.into_series().into_frame())?,
        indicator_rows: to_record_batch(&indicator_rows)?,
        whole: crate::run::passes::WHOLE.iter().filter_map(|n| data.table(n).map(|t| (*n, t))).map(|(n, t)| Ok((n, to_record_batch(t)?))).collect::<Result<_>>()?,
        window_inspections: match (window, data.table("inspections")) {
            (Some(w), Some(inspections)) => Some(to_record_batch(&crate::run::passes::window_rows(inspections, w)?)?),
            _ => None,
        },
        counts: to_record_batch(&counts)?,
        rejected: to_record_batch(&data.rejected)?,
    })
}

/// Rows per indicator (`indicator`, `rows`) of any number of parts, added up.
fn summed_indicator_rows(parts: &[&RecordBatch]) -> Result<IndicatorRows> {
    let mut out = IndicatorRows::new();
    for batch in parts {
        let rows = from_record_batch(batch)?;
        for (i, n) in rows.column("indicator")?.str()?.iter().zip(rows.column("rows")?.cast(&DataType::UInt64)?.u64()?.iter()) {
            if let (Some(i), Some(n)) = (i, n) {
                *out.entry(i.to_string()).or_default() += n as usize;
            }
        }
    }
    Ok(out)
}

fn stacked(batches: &[&RecordBatch]) -> Result<Option<DataFrame>> {
    let mut out = None;
    for b in batches {
        crate::bucket::stack(&mut out, from_record_batch(b)?)?;
    }
    Ok(out)
}

/// The relation features of every scored subject (`uscc` and the relation columns), from every
/// bucket's [`Partials`] (`nodes`, `edges`, `subjects`, in any order), and the number of ids
/// capped. `present`: the tables the data has.
pub fn relation_features(nodes: &[&RecordBatch], edges: &[&RecordBatch], subjects: &[&RecordBatch], present: &[&str], ctx: &Context) -> Result<(RecordBatch, usize)> {
    let opts = without_indicators(&ctx.policy.features);
    let codes = stacked(subjects)?.ok_or_else(|| Error::BadArgument("relation features need the subjects of every bucket".into()))?;
    let codes = codes.column("uscc")?.str()?.clone();
    let ids: PlHashMap<&str, u32> = codes.iter().enumerate().filter_map(|(i, c)| c.map(|c| (c, i as u32))).collect();
    let id_of = |df: &DataFrame| -> Result<Column> {
        Ok(Column::new(SID.into(), df.column("uscc")?.str()?.iter().map(|c| c.and_then(|c| ids.get(c).copied())).collect::<Vec<Option<u32>>>()))
    };
    let mut nodes = stacked(nodes)?.ok_or_else(|| Error::BadArgument("relation features need the nodes of every bucket".into()))?;
    nodes.with_column(id_of(&nodes)?)?;
    let unknown = |df: &DataFrame, what: &str| -> Result<()> {
        let sid = df.column(SID)?;
        if let Some(i) = sid.is_null().iter().position(|n| n == Some(true)) {
            let code = df.column("uscc")?.str()?.get(i).unwrap_or("").to_string();
            return Err(Error::BadArgument(format!("relation features: {what} of subject {code}, which no `subjects` part holds (pass every bucket's)")));
        }
        Ok(())
    };
    unknown(&nodes, "a node")?;
    let mut edges = stacked(edges)?.ok_or_else(|| Error::BadArgument("relation features need the edges of every bucket".into()))?;
    edges.with_column(id_of(&edges)?)?;
    unknown(&edges, "a relation row")?;
    let part = RelationPart { features: &nodes, relations: Some(&edges), subjects: &codes };
    let (mut columns, capped) = crate::features::relation_features(&[part], ctx.as_of, present, &opts)?;
    let mut out = columns.pop().expect("one part");
    out.insert_column(0, nodes.column("uscc")?.clone())?;
    Ok((to_record_batch(&out)?, capped.unwrap_or(0)))
}

/// Pass 2 of one bucket: its features as of T completed with the merged peer statistics and
/// the relation features (of its subjects at least), scored with `model`: one row per scored
/// subject in [`crate::score::Scored::to_frame`]'s form, and the notices of hard rules that
/// cannot fire. `indicator_rows`: rows per indicator of the whole data (summed partials).
/// `quiet`: the subjects in a quiet period ([`quiet`]), whose latest adverse record known before
/// T each row carries (`__adverse_known_on`, `__adverse_what`; null for the others).
#[allow(clippy::too_many_arguments)]
pub fn score(
    tables: &Tables,
    inspectors: Option<&RecordBatch>,
    peer_groups: &RecordBatch,
    peer_moments: &RecordBatch,
    relations: Option<&RecordBatch>,
    indicator_rows: &RecordBatch,
    quiet: &[&str],
    model: &Model,
    ctx: &Context,
) -> Result<(RecordBatch, Vec<String>)> {
    let data = validated(tables, inspectors, ctx)?;
    let counted = summed_indicator_rows(&[indicator_rows])?;
    let opts = crate::features::with_data_indicators(&counted, &ctx.policy.features);
    let present = crate::features::present_tables(&data);
    let local = crate::features::local(&data, &[ctx.as_of], &opts, Backend::Kernel)?.pop().expect("one date");
    let relation_columns = match (relations, data.has("relations")) {
        (Some(batch), true) => {
            let all = from_record_batch(batch)?;
            let joined = local
                .select(["uscc"])?
                .lazy()
                .join(all.lazy(), [col("uscc")], [col("uscc")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) })
                .collect()?;
            if joined.height() != local.height() {
                return Err(Error::BadArgument("relation features: a subject appears more than once".into()));
            }
            joined.drop("uscc")?
        }
        (None, true) => return Err(Error::BadArgument("the data has a relations table: score needs the relation features".into())),
        _ => DataFrame::empty_with_height(local.height()),
    };
    let peer = PeerStats::from_frames(&from_record_batch(peer_groups)?, &from_record_batch(peer_moments)?)?;
    let features = crate::features::finish(local, relation_columns, &peer, &present, &opts)?;
    let subjects = data.table("subjects").ok_or_else(|| Error::Internal("subjects not validated".into()))?;
    let scored = crate::score::score_bucket(&features, subjects, model, ctx.policy)?;
    let mut frame = scored.to_frame()?;
    with_adverse(&mut frame, &crate::cases::adverse_events(&data, quiet, ctx.as_of)?)?;
    Ok((to_record_batch(&frame)?, scored.notices))
}

const ADVERSE_ON: &str = "__adverse_known_on";
const ADVERSE_WHAT: &str = "__adverse_what";

/// The latest adverse record of each row's subject (for the subjects in a quiet period).
fn with_adverse(frame: &mut DataFrame, adverse: &HashMap<String, Adverse>) -> Result<()> {
    let codes = frame.column("uscc")?.str()?.clone();
    let record = |c: Option<&str>| c.and_then(|c| adverse.get(c));
    frame.with_column(Column::new(ADVERSE_ON.into(), codes.iter().map(|c| record(c).map(|a| a.known_on)).collect::<Vec<_>>()))?;
    frame.with_column(Column::new(ADVERSE_WHAT.into(), codes.iter().map(|c| record(c).map(|a| a.what)).collect::<Vec<_>>()))?;
    Ok(())
}

/// The adverse records [`with_adverse`] put in scored rows.
fn adverse_of(frame: &DataFrame) -> Result<HashMap<String, Adverse>> {
    let codes = frame.column("uscc")?.str()?;
    let on = frame.column(ADVERSE_ON)?.i32()?;
    let what = frame.column(ADVERSE_WHAT)?.str()?;
    let mut out = HashMap::new();
    for ((code, on), what) in codes.iter().zip(on.iter()).zip(what.iter()) {
        if let (Some(code), Some(known_on), Some(what)) = (code, on, what) {
            let what = crate::cases::adverse_kind(what).ok_or_else(|| Error::BadArgument(format!("scored rows: {ADVERSE_WHAT} '{what}' is no kind of adverse record")))?;
            out.insert(code.to_string(), Adverse { known_on, what });
        }
    }
    Ok(out)
}

/// The ranked warning list (warnings.parquet's columns but the case ones) of every bucket's
/// [`score`] rows, with the used overrides of every bucket and the previous run's `uscc`,
/// `rank` if any.
pub fn warning_list(scored: &[&RecordBatch], overrides: &[&RecordBatch], previous: Option<&RecordBatch>, model: &Model, ctx: &Context) -> Result<RecordBatch> {
    let frame = stacked(scored)?.ok_or_else(|| Error::BadArgument("no scored rows".into()))?;
    let all = crate::score::Scored::from_frame(&frame, model, ctx.policy, ctx.as_of)?;
    let overrides = stacked(overrides)?;
    let previous = previous.map(from_record_batch).transpose()?;
    let warnings = crate::score::warnings(all, &crate::score::WarningsInput { model, policy: ctx.policy, previous: previous.as_ref(), overrides: overrides.as_ref() })?;
    to_record_batch(&warnings.full_frame()?)
}

/// The 双随机 plan (plan.parquet's columns) of a warning list, every department drawn from its
/// own stream of `seed`; without a roster, so no inspector is assigned.
pub fn plan(warnings: &RecordBatch, ctx: &Context, seed: u64) -> Result<RecordBatch> {
    let warnings = from_record_batch(warnings)?;
    let units = crate::plan::Units::from_warnings(&warnings)?;
    to_record_batch(&crate::plan::plan(&units, &ctx.policy.plan, None, seed, crate::messages::Messages::new(ctx.policy.language))?.frame()?)
}

/// The days [from, to) whose inspections follow the previous run's plan through (for
/// [`partials`]), when `previous` (the run before T in the output directory,
/// [`crate::run::previous_run`]) has a plan.
pub fn previous_window(previous: Option<&Previous>, ctx: &Context) -> Option<(i32, i32)> {
    crate::run::plan_window(previous, ctx.as_of)
}

/// Stacked parts of the tables used whole, as validated tables.
fn whole_tables(whole: &Tables) -> Result<Vec<(&'static TableSpec, DataFrame)>> {
    let mut out: Vec<(&'static TableSpec, DataFrame)> = Vec::new();
    for (name, batch) in whole {
        let spec = crate::contract::table(name).ok_or_else(|| Error::BadArgument(format!("`{name}` is not a table of the data contract")))?;
        let frame = from_record_batch(batch)?;
        match out.iter_mut().find(|(s, _)| s.name == spec.name) {
            Some((_, acc)) => {
                acc.vstack_mut(&frame)?;
            }
            None => out.push((spec, frame)),
        }
    }
    Ok(out)
}

/// The subjects in a quiet period as of T (`uscc`): those whose latest case closed
/// `not_confirmed` not long ago, in the book made of `previous`'s cases and every bucket's
/// `cases` and `dispositions` parts ([`Partials::whole`], in any order). [`score`] looks up their
/// adverse records.
pub fn quiet(whole: &Tables, previous: Option<&mut Previous>, ctx: &Context) -> Result<RecordBatch> {
    let tables = whole_tables(whole)?;
    let counts = tables.iter().map(|(s, f)| TableCounts { table: s.name.to_string(), read: f.height() as u64, used: f.height() as u64, rejected: 0 }).collect();
    let mut validated = Validated { tables, rejected: crate::validate::empty_rejected(), counts, notices: Vec::new() };
    crate::run::passes::settle_whole(&mut validated)?;
    let book = crate::run::book_before(&mut validated, previous, ctx.as_of, ctx.policy, &mut Vec::new())?;
    let quiet = crate::cases::quiet_subjects(&book.book, ctx.as_of, &ctx.policy.cases);
    to_record_batch(&Series::new("uscc".into(), quiet).into_frame())
}

/// What the engine knows of a run besides the kernel's parts (JSON in `riskwarn kernel finish`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RunFacts {
    /// The contract's tables the data has.
    pub present: Vec<String>,
    /// Every input file (path from the data directory, in the loader's order) with its hash.
    pub inputs: Vec<FileHash>,
    /// Entries of the data directory that are no table of the contract.
    #[serde(default)]
    pub unknown_entries: Vec<String>,
    /// Per table, the columns of its files the contract does not know (tables in contract order).
    #[serde(default)]
    pub extra_columns: Vec<(String, Vec<String>)>,
    /// From [`relation_features`] (absent without a relations table).
    #[serde(default)]
    pub relation_ids_capped: Option<usize>,
    /// From [`score`] (the same for every bucket).
    #[serde(default)]
    pub score_notices: Vec<String>,
    pub buckets: u32,
    /// Seconds per step of the engine's job so far.
    #[serde(default)]
    pub steps: Vec<(String, f64)>,
}

/// Every bucket's parts for [`finish`], each a list of parts in any order.
pub struct RunParts<'a> {
    /// [`score`]'s rows.
    pub scored: &'a [&'a RecordBatch],
    /// [`Partials::whole`], by table name.
    pub whole: &'a Tables<'a>,
    /// The roster as read (validated here, as `riskwarn run` validates it).
    pub inspectors: Option<&'a RecordBatch>,
    pub window_inspections: &'a [&'a RecordBatch],
    /// [`Partials::counts`], summed here per table.
    pub counts: &'a [&'a RecordBatch],
    pub rejected: &'a [&'a RecordBatch],
    pub indicator_rows: &'a [&'a RecordBatch],
    /// The engine's own global cut, if it made one: `uscc`, `rank`, `risk_level`, `score_class`
    /// (the grade by score share or cut, before hard rules and overrides). [`finish`] refuses to
    /// write a list that disagrees with it.
    pub ranks: Option<&'a RecordBatch>,
}

/// The end of a run over every bucket's parts: the ranked warning list with overrides, the
/// cases it opens (on `previous`'s book), the plan with inspectors from the roster, the report
/// and the manifest; [`crate::run::commit`] writes them as `riskwarn run` does.
pub fn finish(parts: &RunParts, facts: RunFacts, mut previous: Option<Previous>, model: &Model, files: (FileHash, FileHash), ctx: &Context, seed: u64) -> Result<crate::run::Artifacts> {
    let policy = ctx.policy;
    let m = crate::messages::Messages::new(policy.language);
    let present: Vec<&'static str> = facts
        .present
        .iter()
        .map(|n| crate::contract::table(n).map(|s| s.name).ok_or_else(|| Error::BadArgument(format!("facts: `{n}` is not a table of the data contract"))))
        .collect::<Result<_>>()?;
    let mut notices = crate::io::discovery_notices(&present, &facts.unknown_entries, m);
    notices.extend(facts.extra_columns.iter().filter_map(|(t, c)| crate::io::extra_column_notice(t, c, m)));
    let opts = ValidateOptions { reference_date: ctx.today };
    let roster = match parts.inspectors {
        Some(b) => RawData::new(vec![raw_table_from_batch("inspectors", b)?], notices),
        None => RawData::new(Vec::new(), notices),
    };
    let Validated { mut tables, mut rejected, counts: roster_counts, mut notices } = crate::validate::validate_with(roster, &opts, None)?;
    tables.extend(whole_tables(parts.whole)?);
    let mut bucket_counts = Vec::new();
    for batch in parts.counts {
        let c = from_record_batch(batch)?;
        let u64s = |name: &str| -> Result<Vec<u64>> { Ok(c.column(name)?.cast(&DataType::UInt64)?.u64()?.iter().map(|v| v.unwrap_or(0)).collect()) };
        let (read, used, rej) = (u64s("read")?, u64s("used")?, u64s("rejected")?);
        for (i, table) in c.column("table")?.str()?.iter().enumerate() {
            bucket_counts.push(TableCounts { table: table.unwrap_or("").to_string(), read: read[i], used: used[i], rejected: rej[i] });
        }
    }
    for batch in parts.rejected {
        rejected.vstack_mut(&from_record_batch(batch)?)?;
    }
    let counts = crate::run::passes::merge_counts(&[roster_counts, bucket_counts]);
    let mut validated = Validated { tables, rejected, counts, notices: Vec::new() };
    crate::run::passes::settle_whole(&mut validated)?;
    let indicator_rows = summed_indicator_rows(parts.indicator_rows)?;
    if present.contains(&"indicators") {
        notices.extend(crate::features::notices_of(&indicator_rows, &policy.features, m));
    }
    let book = crate::run::book_before(&mut validated, previous.as_mut(), ctx.as_of, policy, &mut notices)?;
    notices.extend(crate::run::relation_cap_notice(facts.relation_ids_capped, policy));
    notices.extend(facts.score_notices.iter().cloned());
    // Every bucket's scored rows as the run's passes leave them: keys, and the rest in a spill.
    let spill = crate::io::Spill::memory();
    let mut keys = crate::list::Keys::default();
    let mut adverse = HashMap::new();
    for (b, batch) in parts.scored.iter().enumerate() {
        let frame = from_record_batch(batch)?;
        if frame.height() == 0 {
            continue;
        }
        adverse.extend(adverse_of(&frame)?);
        keys.push(crate::score::Scored::from_frame(&frame, model, policy, ctx.as_of)?, &format!("scored/{b}"), &spill, model, policy)?;
    }
    if keys.is_empty() {
        return Err(crate::run::no_subject_scored(ctx.as_of));
    }
    let window_inspections = stacked(parts.window_inspections)?;
    let spent: f64 = facts.steps.iter().map(|(_, s)| s).sum();
    let started = std::time::Instant::now();
    let started = started.checked_sub(std::time::Duration::from_secs_f64(spent.max(0.0))).unwrap_or(started);
    let (model_file, policy_file) = files;
    let artifacts = crate::run::finish(
        crate::run::Population {
            as_of: ctx.as_of,
            validated,
            present,
            book,
            previous,
            keys,
            spill,
            adverse,
            window_inspections,
            relation_ids_capped: facts.relation_ids_capped,
            notices,
            inputs: facts.inputs,
            model_file,
            policy_file,
            buckets: facts.buckets,
            timings: crate::run::Timings { steps: facts.steps, ..Default::default() },
        },
        model,
        policy,
        seed,
        true,
        &|_| {},
        started,
    )?;
    if let Some(ranks) = parts.ranks {
        let ranks = from_record_batch(ranks)?;
        let list = &artifacts.list;
        if ranks.height() != list.len() {
            return Err(Error::Internal(format!("the engine ranked {} subjects, the kernel {}", ranks.height(), list.len())));
        }
        for offset in (0..list.len()).step_by(crate::list::BLOCK) {
            agree(&list.rows(offset, crate::list::BLOCK, None)?, &ranks)?;
        }
    }
    Ok(artifacts)
}

/// The engine's rank and level of every subject are the list's, and so is its score class
/// wherever no hard rule, observation period or override moved the grade.
/// `warnings`: rows of the list; `ranks`: the engine's of every subject.
fn agree(warnings: &DataFrame, ranks: &DataFrame) -> Result<()> {
    let theirs = ranks.clone().lazy().select([col("uscc"), col("rank").cast(DataType::UInt32).alias("__rank"), col("risk_level").alias("__level"), col("score_class")]);
    let joined = warnings
        .clone()
        .lazy()
        .select([col("uscc"), col("rank").cast(DataType::UInt32), col("risk_level"), col("credit_grade"), col("hard_rules").list().len().alias("__rules"), col("observation_period"), col("grade_before_override")])
        .join(theirs, [col("uscc")], [col("uscc")], JoinArgs::new(JoinType::Left))
        .filter(
            col("__rank").is_null()
                .or(col("__rank").neq(col("rank")))
                .or(col("__level").neq(col("risk_level")))
                .or(col("__rules").eq(lit(0)).and(col("observation_period").not()).and(col("grade_before_override").is_null()).and(col("score_class").neq(col("credit_grade")))),
        )
        .limit(1)
        .collect()?;
    if joined.height() > 0 {
        let cell = |c: &str| joined.column(c).ok().and_then(|c| c.get(0).ok().map(|v| v.to_string())).unwrap_or_default();
        return Err(Error::Internal(format!(
            "the engine's rank/level/grade of {} ({}, {}, {}) differ from the kernel's ({}, {}, {})",
            cell("uscc"),
            cell("__rank"),
            cell("__level"),
            cell("score_class"),
            cell("rank"),
            cell("risk_level"),
            cell("credit_grade")
        )));
    }
    Ok(())
}
