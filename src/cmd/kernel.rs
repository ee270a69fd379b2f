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

/// Parts as the kernel takes them.
fn as_batch_refs(parts: &[RecordBatch]) -> Vec<&RecordBatch> {
    parts.iter().collect()
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

/// The IPC files of a directory, read (none if it does not exist).
fn tables_in(dir: &Path) -> Result<Vec<(String, RecordBatch)>> {
    crate::io::ipc_files(dir)?.into_iter().map(|(name, path)| Ok((name, crate::io::read_ipc(&path)?))).collect()
}

pub fn run(args: &KernelArgs) -> Result<()> {
    if args.call == KernelCall::Contract {
        println!("{}", serde_json::to_string(&contract_json()).map_err(|e| Error::Internal(e.to_string()))?);
        return Ok(());
    }
    let output_dir = dir(&args.output, "--output")?;
    let input_dir = || dir(&args.input, "--input");
    let policy = Policy::load(&args.policy)?;
    let as_of = parse_date("--as-of", args.as_of.as_deref().ok_or_else(|| Error::BadArgument("riskwarn kernel: --as-of is required".into()))?)?;
    let today = match &args.today {
        Some(t) => parse_date("--today", t)?,
        None => crate::dates::today(),
    };
    let model_path = || args.model.as_deref().ok_or_else(|| Error::BadArgument("riskwarn kernel: --model is required for this call".into()));
    let model = || -> Result<Model> {
        let model = Model::load(model_path()?)?;
        model.require_feature_options(&policy.features, &args.policy.display().to_string())?;
        Ok(model)
    };
    let previous = || -> Result<Option<crate::run::Previous>> { crate::run::previous_run(dir(&args.out, "--out")?, &crate::dates::format(as_of)) };
    let ctx = Context { policy: &policy, as_of, today };
    let tables = || -> Result<Vec<(String, RecordBatch)>> { tables_in(&input_dir()?.join("tables")) };
    let mut out: Vec<(&str, RecordBatch)> = Vec::new();
    let mut meta = serde_json::Map::new();
    match args.call {
        KernelCall::Contract => unreachable!("answered above"),
        KernelCall::Previous => {
            let previous = previous()?;
            meta.insert("run_id".into(), previous.as_ref().map(|p| p.run_id.clone()).into());
            let window = crate::kernel::previous_window(previous.as_ref(), &ctx).map(|(from, to)| vec![crate::dates::format(from), crate::dates::format(to)]);
            meta.insert("window".into(), window.into());
        }
        KernelCall::Partials => {
            let window = match args.window.as_slice() {
                [] => None,
                [from, to] => Some((parse_date("--window", from)?, parse_date("--window", to)?)),
                _ => return Err(Error::BadArgument("riskwarn kernel: --window takes FROM,TO".into())),
            };
            let tables = tables()?;
            let input_dir = input_dir()?;
            let p = crate::kernel::partials(&as_refs(&tables), optional(input_dir, "inspectors")?.as_ref(), &ctx, window)?;
            out.extend([("peer_groups", p.peer_groups), ("peer_moments", p.peer_moments), ("subjects", p.subjects), ("indicator_rows", p.indicator_rows), ("counts", p.counts), ("rejected", p.rejected)]);
            out.extend(p.relation_nodes.map(|b| ("relation_nodes", b)));
            out.extend(p.relation_edges.map(|b| ("relation_edges", b)));
            out.extend(p.window_inspections.map(|b| ("window_inspections", b)));
            // The tables used whole go in `whole/` (named as tables, like the input's `tables/`).
            let whole = output_dir.join("whole");
            crate::io::create_dir_all(&whole)?;
            for (name, batch) in &p.whole {
                crate::io::write_ipc(batch, &whole.join(format!("{name}.arrow")))?;
            }
        }
        KernelCall::Quiet => {
            let tables = tables()?;
            let mut previous = previous()?;
            out.push(("quiet", crate::kernel::quiet(&as_refs(&tables), previous.as_mut(), &ctx)?));
        }
        KernelCall::Relations => {
            let input_dir = input_dir()?;
            let (nodes, edges, subjects) = (input(input_dir, "relation_nodes")?, input(input_dir, "relation_edges")?, input(input_dir, "subjects")?);
            let present: Vec<&str> = args.present.iter().map(String::as_str).collect();
            let (relations, capped) = crate::kernel::relation_features(&[&nodes], &[&edges], &[&subjects], &present, &ctx)?;
            out.push(("relations", relations));
            meta.insert("relation_ids_capped".into(), capped.into());
        }
        KernelCall::Score => {
            let model = model()?;
            let tables = tables()?;
            let input_dir = input_dir()?;
            let quiet = optional(input_dir, "quiet")?.map(|b| crate::io::from_record_batch(&b)).transpose()?;
            let quiet_codes: Vec<&str> = match &quiet {
                Some(q) => q.column("uscc")?.str()?.iter().flatten().collect(),
                None => Vec::new(),
            };
            let (scored, notices) = crate::kernel::score(
                &as_refs(&tables),
                optional(input_dir, "inspectors")?.as_ref(),
                &input(input_dir, "peer_groups")?,
                &input(input_dir, "peer_moments")?,
                optional(input_dir, "relations")?.as_ref(),
                &input(input_dir, "indicator_rows")?,
                &quiet_codes,
                &model,
                &ctx,
            )?;
            out.push(("scored", scored));
            meta.insert("notices".into(), notices.into());
        }
        KernelCall::Warnings => {
            let model = model()?;
            let input_dir = input_dir()?;
            let overrides = optional(input_dir, "overrides")?;
            let list = crate::kernel::warning_list(&[&input(input_dir, "scored")?], &overrides.iter().collect::<Vec<_>>(), optional(input_dir, "previous")?.as_ref(), &model, &ctx)?;
            out.push(("warnings", list));
        }
        KernelCall::Plan => {
            let seed = args.seed.unwrap_or(policy.seed);
            out.push(("plan", crate::kernel::plan(&input(input_dir()?, "warnings")?, &ctx, seed)?));
        }
        KernelCall::Finish => {
            let model = model()?;
            let input_dir = input_dir()?;
            let facts: crate::kernel::RunFacts = crate::io::read_json(&input_dir.join("facts.json"))?;
            let whole = tables()?;
            let parts_of = |kind: &str| -> Result<Vec<RecordBatch>> { Ok(tables_in(&input_dir.join(kind))?.into_iter().map(|(_, b)| b).collect()) };
            let (scored, window, counts, rejected, indicator_rows) = (parts_of("scored")?, parts_of("window_inspections")?, parts_of("counts")?, parts_of("rejected")?, parts_of("indicator_rows")?);
            let inspectors = optional(input_dir, "inspectors")?;
            let ranks = optional(input_dir, "ranks")?;
            let parts = crate::kernel::RunParts {
                scored: &as_batch_refs(&scored),
                whole: &as_refs(&whole),
                inspectors: inspectors.as_ref(),
                window_inspections: &as_batch_refs(&window),
                counts: &as_batch_refs(&counts),
                rejected: &as_batch_refs(&rejected),
                indicator_rows: &as_batch_refs(&indicator_rows),
                ranks: ranks.as_ref(),
            };
            let files = (crate::run::FileHash::of(model_path()?)?, crate::run::FileHash::of(&args.policy)?);
            let seed = args.seed.unwrap_or(policy.seed);
            let artifacts = crate::kernel::finish(&parts, facts, previous()?, &model, files, &ctx, seed)?;
            let result = crate::run::commit(artifacts, dir(&args.out, "--out")?, &|| {})?;
            meta.insert("run_id".into(), result.manifest.run_id.clone().into());
            meta.insert("run_dir".into(), result.run_dir.display().to_string().into());
        }
    }
    crate::io::create_dir_all(output_dir)?;
    for (name, batch) in &out {
        crate::io::write_ipc(batch, &output_dir.join(format!("{name}.arrow")))?;
    }
    crate::io::write_json(&serde_json::Value::Object(meta), &output_dir.join("meta.json"))
}
