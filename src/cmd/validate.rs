//! `riskwarn validate`: load, check, quarantine, and report counts that reconcile.

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
    let raw = crate::io::load_dir(&args.data, crate::messages::Messages::EN)?;
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
    let top = crate::validate::top_rejections(&validated.rejected, 10)?;
    super::print_summary(global, &summary, || {
        let mut s = format!("{:<16}{:>12}{:>12}{:>10}\n", "table", "read", "used", "rejected");
        for c in &validated.counts {
            s += &format!("{:<16}{:>12}{:>12}{:>10}\n", c.table, c.read, c.used, c.rejected);
        }
        if !top.is_empty() {
            s += "most frequent reasons (table.column, check: rows):\n";
            for r in &top {
                s += &format!("  {}.{}, {}: {}\n", r.table, r.column, r.check, r.rows);
            }
        }
        s += &format!("rejected rows: {}\n", summary.rejected_file);
        s
    })
}
