//! `riskwarn validate`: load, check, quarantine, and report counts that reconcile.

use polars::prelude::*;

use crate::cli::{Global, ValidateArgs};
use crate::error::Result;
use crate::validate::TableCounts;

#[derive(serde::Serialize)]
struct Summary<'a> {
    data: String,
    reference_date: String,
    tables: &'a [TableCounts],
    rejected_file: String,
    notices: &'a [String],
}

pub fn run(args: &ValidateArgs, global: &Global) -> Result<()> {
    let opts = args.options()?;
    let raw = crate::io::load_dir(&args.data)?;
    for n in &raw.notices {
        super::notice(global, n);
    }
    let mut validated = crate::validate::validate(raw, &opts)?;
    let rejected_path = args.out.join("rejected.parquet");
    crate::io::write_parquet(&mut validated.rejected, &rejected_path)?;
    let summary = Summary {
        data: args.data.display().to_string(),
        reference_date: crate::dates::format(opts.reference_date),
        tables: &validated.counts,
        rejected_file: rejected_path.display().to_string(),
        notices: &validated.notices,
    };
    crate::io::write_json(&summary, &args.out.join("validation.json"))?;
    let top = top_reasons(&validated.rejected)?;
    super::print_summary(global, &summary, || {
        let mut s = format!("{:<16}{:>12}{:>12}{:>10}\n", "table", "read", "used", "rejected");
        for c in &validated.counts {
            s += &format!("{:<16}{:>12}{:>12}{:>10}\n", c.table, c.read, c.used, c.rejected);
        }
        if !top.is_empty() {
            s += "most frequent reasons (table.column: rows):\n";
            for (what, n) in &top {
                s += &format!("  {what}: {n}\n");
            }
        }
        s += &format!("rejected rows: {}\n", summary.rejected_file);
        s
    })
}

/// The ten most frequent (table, column) pairs among rejected rows.
fn top_reasons(rejected: &DataFrame) -> Result<Vec<(String, u32)>> {
    let df = rejected
        .clone()
        .lazy()
        .group_by([col("table"), col("column")])
        .agg([len().alias("n")])
        .sort_by_exprs([col("n"), col("table"), col("column")], SortMultipleOptions::default().with_order_descending_multi([true, false, false]))
        .limit(10)
        .collect()?;
    let t = df.column("table")?.str()?;
    let c = df.column("column")?.str()?;
    let n = df.column("n")?.u32()?;
    Ok((0..df.height())
        .map(|i| (format!("{}.{}", t.get(i).unwrap_or(""), c.get(i).unwrap_or("")), n.get(i).unwrap_or(0)))
        .collect())
}
