//! The per-bucket kernel with Arrow in and out, for an engine that distributes the buckets
//! itself (docs/scale-out.md). Each function takes arrow-rs record batches — one bucket's rows of
//! the contract's tables, or compact parts of every bucket — and returns record batches; the
//! engine shuffles and sums between the calls:
//!
//! 1. [`partials`] per bucket: peer-group partials (summed by key across buckets), the
//!    neighbour columns and relation rows the relation graphs need, rows per declared indicator,
//!    the used overrides, counts and the quarantine;
//! 2. [`relation_features`] once, over the compact parts of every bucket;
//! 3. [`score`] per bucket: features completed with the merged statistics, scored with reasons;
//! 4. [`warning_list`] once over every bucket's scored rows: ranks, levels, grades, reasons;
//! 5. [`plan`] over the warning list, per department.
//!
//! These are the functions `riskwarn run` calls bucket by bucket (through polars frames); the
//! results are the same bits (a test runs the sample through this API in 3 buckets).

use arrow::record_batch::RecordBatch;
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::features::{Backend, FeatureOptions, IndicatorRows, PeerStats, RelationPart};
use crate::io::{from_record_batch, raw_table_from_batch, to_record_batch, RawData};
use crate::model::Model;
use crate::policy::Policy;
use crate::validate::{ValidateOptions, Validated, RELATED_SID, SID};

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
            crate::validate::validate_with(RawData { tables: vec![raw_table_from_batch("inspectors", batch)?], notices: Vec::new() }, &opts, None)?.inspector_ids()?
        }
        None => None,
    };
    let raw = tables.iter().map(|(name, batch)| raw_table_from_batch(name, batch)).collect::<Result<Vec<_>>>()?;
    if !raw.iter().any(|t| t.spec.name == "subjects") {
        return Err(Error::BadArgument("a bucket needs its `subjects` rows (an empty table if it has none)".into()));
    }
    crate::validate::validate_with(RawData { tables: raw, notices: Vec::new() }, &opts, ids.as_ref())
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
    /// The bucket's used `overrides` rows (for [`warning_list`]), when the data has the table.
    pub overrides: Option<RecordBatch>,
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
/// population-wide steps need of them.
pub fn partials(tables: &Tables, inspectors: Option<&RecordBatch>, ctx: &Context) -> Result<Partials> {
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
            let edges = crate::features::relation_table(relations)?.drop_many([SID, RELATED_SID]);
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
        overrides: data.table("overrides").map(to_record_batch).transpose()?,
        counts: to_record_batch(&counts)?,
        rejected: to_record_batch(&data.rejected)?,
    })
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
    let id_of = |df: &DataFrame, name: &str| -> Result<Column> {
        Ok(Column::new(name.into(), df.column(if name == SID { "uscc" } else { "related" })?.str()?.iter().map(|c| c.and_then(|c| ids.get(c).copied())).collect::<Vec<Option<u32>>>()))
    };
    let mut nodes = stacked(nodes)?.ok_or_else(|| Error::BadArgument("relation features need the nodes of every bucket".into()))?;
    nodes.with_column(id_of(&nodes, SID)?)?;
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
    edges.with_column(id_of(&edges, SID)?)?;
    edges.with_column(id_of(&edges, RELATED_SID)?)?;
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
#[allow(clippy::too_many_arguments)]
pub fn score(
    tables: &Tables,
    inspectors: Option<&RecordBatch>,
    peer_groups: &RecordBatch,
    peer_moments: &RecordBatch,
    relations: Option<&RecordBatch>,
    indicator_rows: &RecordBatch,
    model: &Model,
    ctx: &Context,
) -> Result<(RecordBatch, Vec<String>)> {
    let data = validated(tables, inspectors, ctx)?;
    let rows = from_record_batch(indicator_rows)?;
    let mut counted = IndicatorRows::new();
    for (i, n) in rows.column("indicator")?.str()?.iter().zip(rows.column("rows")?.cast(&DataType::UInt64)?.u64()?.iter()) {
        if let (Some(i), Some(n)) = (i, n) {
            *counted.entry(i.to_string()).or_default() += n as usize;
        }
    }
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
    Ok((to_record_batch(&scored.to_frame()?)?, scored.notices))
}

/// The ranked warning list (warnings.parquet's columns but the case ones) of every bucket's
/// [`score`] rows, with the used overrides of every bucket and the previous run's `uscc`,
/// `rank` if any.
pub fn warning_list(scored: &[&RecordBatch], overrides: &[&RecordBatch], previous: Option<&RecordBatch>, model: &Model, ctx: &Context) -> Result<RecordBatch> {
    let frame = stacked(scored)?.ok_or_else(|| Error::BadArgument("no scored rows".into()))?;
    let all = crate::score::Scored::from_frame(&frame, model, ctx.policy, ctx.as_of)?;
    let overrides = stacked(overrides)?;
    let previous = previous.map(from_record_batch).transpose()?;
    let warnings = crate::score::warnings(&all, &crate::score::WarningsInput { model, policy: ctx.policy, previous: previous.as_ref(), overrides: overrides.as_ref() })?;
    to_record_batch(&warnings.frame)
}

/// The 双随机 plan (plan.parquet's columns) of a warning list, every department drawn from its
/// own stream of `seed`; without a roster, so no inspector is assigned.
pub fn plan(warnings: &RecordBatch, ctx: &Context, seed: u64) -> Result<RecordBatch> {
    let units = crate::plan::units_from_warnings(&from_record_batch(warnings)?)?;
    to_record_batch(&crate::plan::plan(&units, &ctx.policy.plan, None, seed)?.frame)
}
