//! `riskwarn generate`.

use crate::cli::{GenerateArgs, Global};
use crate::error::Result;

pub fn run(args: &GenerateArgs, global: &Global) -> Result<()> {
    let opts = args.options()?;
    let bar = super::progress_bar(global, opts.subjects.div_ceil(opts.chunk_size) as u64, "generating");
    let summary = crate::generate::generate(&opts, &args.out, &|done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    super::print_summary(global, &summary, || {
        let mut s = format!(
            "generated {} subjects, {} events over {} years to {} (seed {}) in {:.1} s\n",
            summary.subjects, summary.events, summary.years, summary.end, summary.seed, summary.seconds
        );
        for (table, rows) in &summary.rows {
            s += &format!("  {table:<16}{rows:>12}\n");
        }
        for (table, kinds) in &summary.dirty_injected {
            let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            s += &format!("  bad rows injected in {table}: {}\n", list.join(", "));
        }
        s
    })
}
