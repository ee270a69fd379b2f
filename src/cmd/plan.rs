//! `riskwarn plan`: the inspection plan for an existing warning list.

use crate::cli::{Global, PlanArgs};
use crate::error::{Error, Result};

#[derive(serde::Serialize)]
struct Summary<'a> {
    out: String,
    seed: u64,
    method: &'a str,
    departments: &'a [crate::plan::DepartmentSummary],
    selections: usize,
    visits: usize,
    notices: &'a [String],
}

pub fn run(args: &PlanArgs, global: &Global) -> Result<()> {
    let policy = crate::policy::Policy::load(&args.policy)?;
    let m = crate::messages::Messages::new(policy.language);
    let seed = args.seed.unwrap_or(policy.seed);
    let warnings = crate::io::read_output(&args.warnings, crate::io::OutputKind::Warnings)?;
    // The columns are there (read_output checked); a value or type they cannot hold is the file's fault.
    let units = crate::plan::Units::from_warnings(&warnings).map_err(|e| match e {
        Error::BadArgument(m) => Error::bad_file(&args.warnings, m),
        Error::Polars(p) => Error::bad_file(&args.warnings, format!("not a riskwarn warning list: {p}")),
        other => other,
    })?;
    let roster = match &args.data {
        Some(dir) => {
            let raw = crate::io::load_dir(dir, m)?;
            let v = crate::validate::validate(raw, &crate::validate::ValidateOptions::default())?;
            match v.table("inspectors") {
                Some(i) => Some(crate::plan::Roster::from_frames(i, v.table("conflicts"))?),
                None => None,
            }
        }
        None => None,
    };
    let plan = crate::plan::plan(&units, &policy.plan, roster.as_ref(), seed, m)?;
    crate::io::write_parquet_made(plan.height(), &|offset, len| plan.frame_rows(offset, len), &args.out)?;
    for n in &plan.notices {
        super::notice(global, n);
    }
    let summary = Summary {
        out: args.out.display().to_string(),
        seed,
        method: crate::plan::METHOD,
        departments: &plan.departments,
        selections: plan.selections,
        visits: plan.visits,
        notices: &plan.notices,
    };
    super::print_summary(global, &summary, || {
        let mut s = String::new();
        for d in &plan.departments {
            let sum = format!("{:.2}", d.sum_probability);
            s += &m.fill("summary.plan_department", &[("department", &d.department), ("capacity", &d.capacity), ("eligible", &d.eligible), ("sum", &sum), ("selected", &d.selected)]);
            s += "\n";
        }
        s + &m.fill("summary.plan_total", &[("selections", &plan.selections), ("visits", &plan.visits), ("seed", &seed), ("out", &summary.out)]) + "\n"
    })
}
