//! `riskwarn kernel <call>`: one call of [`crate::kernel`] over Arrow IPC files, for an engine
//! that runs the binary per bucket (the Spark runner, docs/scale-out.md). Inputs are
//! `<name>.arrow` files in `--input` (a bucket's tables in `--input/tables/`); outputs are
//! written to `--output` as `<name>.arrow`, with `meta.json` for the call's notices and counts.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;

use crate::cli::{parse_date, KernelArgs, KernelCall};
use crate::error::{Error, Result};
use crate::kernel::Context;
use crate::model::Model;
use crate::policy::Policy;

fn dir<'a>(path: &'a Option<PathBuf>, flag: &str) -> Result<&'a Path> {
    path.as_deref().ok_or_else(|| Error::BadArgument(format!("riskwarn kernel: {flag} is required for this call")))
}

fn optional(dir: &Path, name: &str) -> Result<Option<RecordBatch>> {
    let path = dir.join(format!("{name}.arrow"));
    if path.is_file() { crate::io::read_ipc(&path).map(Some) } else { Ok(None) }
}

fn input(dir: &Path, name: &str) -> Result<RecordBatch> {
    optional(dir, name)?.ok_or_else(|| Error::bad_file(dir.join(format!("{name}.arrow")), "input of the kernel call not found"))
}

/// A bucket's tables as the kernel takes them.
fn as_refs(tables: &[(String, RecordBatch)]) -> Vec<(&str, &RecordBatch)> {
    tables.iter().map(|(n, b)| (n.as_str(), b)).collect()
}

fn contract_json() -> serde_json::Value {
    serde_json::Value::Array(
        crate::contract::TABLES
            .iter()
            .map(|t| {
                serde_json::json!({
                    "name": t.name,
                    "required": t.required,
                    // Split into buckets, as the loader splits them.
                    "by_subject": t.column("uscc").is_some(),
                    "columns": t.columns.iter().map(|c| serde_json::json!({
                        "name": c.name,
                        "type": format!("{:?}", c.ty).to_lowercase(),
                        "optional": c.optional,
                        "describe": c.ty.describe(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

pub fn run(args: &KernelArgs) -> Result<()> {
    if args.call == KernelCall::Contract {
        println!("{}", serde_json::to_string(&contract_json()).map_err(|e| Error::Internal(e.to_string()))?);
        return Ok(());
    }
    let (input_dir, output_dir) = (dir(&args.input, "--input")?, dir(&args.output, "--output")?);
    let policy = Policy::load(&args.policy)?;
    let as_of = parse_date("--as-of", args.as_of.as_deref().ok_or_else(|| Error::BadArgument("riskwarn kernel: --as-of is required".into()))?)?;
    let today = match &args.today {
        Some(t) => parse_date("--today", t)?,
        None => crate::dates::today(),
    };
    let model = || -> Result<Model> {
        let path = args.model.as_deref().ok_or_else(|| Error::BadArgument("riskwarn kernel: --model is required for this call".into()))?;
        let model = Model::load(path)?;
        model.require_feature_options(&policy.features, &args.policy.display().to_string())?;
        Ok(model)
    };
    let ctx = Context { policy: &policy, as_of, today };
    let tables = || -> Result<Vec<(String, RecordBatch)>> {
        crate::io::ipc_files(&input_dir.join("tables"))?.into_iter().map(|(name, path)| Ok((name, crate::io::read_ipc(&path)?))).collect()
    };
    let mut out: Vec<(&str, RecordBatch)> = Vec::new();
    let mut meta = serde_json::Map::new();
    match args.call {
        KernelCall::Contract => unreachable!("answered above"),
        KernelCall::Partials => {
            let tables = tables()?;
            let p = crate::kernel::partials(&as_refs(&tables), optional(input_dir, "inspectors")?.as_ref(), &ctx)?;
            out.extend([("peer_groups", p.peer_groups), ("peer_moments", p.peer_moments), ("subjects", p.subjects), ("indicator_rows", p.indicator_rows), ("counts", p.counts), ("rejected", p.rejected)]);
            out.extend(p.relation_nodes.map(|b| ("relation_nodes", b)));
            out.extend(p.relation_edges.map(|b| ("relation_edges", b)));
            out.extend(p.overrides.map(|b| ("overrides", b)));
        }
        KernelCall::Relations => {
            let (nodes, edges, subjects) = (input(input_dir, "relation_nodes")?, input(input_dir, "relation_edges")?, input(input_dir, "subjects")?);
            let present: Vec<&str> = args.present.iter().map(String::as_str).collect();
            let (relations, capped) = crate::kernel::relation_features(&[&nodes], &[&edges], &[&subjects], &present, &ctx)?;
            out.push(("relations", relations));
            meta.insert("relation_ids_capped".into(), capped.into());
        }
        KernelCall::Score => {
            let model = model()?;
            let tables = tables()?;
            let (scored, notices) = crate::kernel::score(
                &as_refs(&tables),
                optional(input_dir, "inspectors")?.as_ref(),
                &input(input_dir, "peer_groups")?,
                &input(input_dir, "peer_moments")?,
                optional(input_dir, "relations")?.as_ref(),
                &input(input_dir, "indicator_rows")?,
                &model,
                &ctx,
            )?;
            out.push(("scored", scored));
            meta.insert("notices".into(), notices.into());
        }
        KernelCall::Warnings => {
            let model = model()?;
            let overrides = optional(input_dir, "overrides")?;
            let list = crate::kernel::warning_list(&[&input(input_dir, "scored")?], &overrides.iter().collect::<Vec<_>>(), optional(input_dir, "previous")?.as_ref(), &model, &ctx)?;
            out.push(("warnings", list));
        }
        KernelCall::Plan => {
            let seed = args.seed.unwrap_or(policy.seed);
            out.push(("plan", crate::kernel::plan(&input(input_dir, "warnings")?, &ctx, seed)?));
        }
    }
    crate::io::create_dir_all(output_dir)?;
    for (name, batch) in &out {
        crate::io::write_ipc(batch, &output_dir.join(format!("{name}.arrow")))?;
    }
    crate::io::write_json(&serde_json::Value::Object(meta), &output_dir.join("meta.json"))
}
