//! `riskwarn evaluate`: a past run's warning list against what happened next.

use crate::cli::{EvaluateArgs, Global};
use crate::error::{Error, Result};
use crate::io::OutputKind;

pub fn run(args: &EvaluateArgs, global: &Global) -> Result<()> {
    // Flags and policy first: a bad one stops before any data is read.
    if !(1..=crate::labels::MAX_HORIZON_DAYS).contains(&args.horizon) {
        return Err(Error::BadArgument(format!("--horizon must be 1 to {} days, got {}", crate::labels::MAX_HORIZON_DAYS, args.horizon)));
    }
    let label_sources = args.label_sources();
    crate::model::train::check_label_sources(&label_sources)?;
    let policy = crate::policy::Policy::load(&args.policy)?;
    let m = crate::messages::Messages::new(policy.language);
    let feature_options = policy.features;
    let warnings = crate::io::read_output(&args.warnings, OutputKind::Warnings)?;
    let as_of = warnings
        .column("as_of")?
        .cast(&polars::prelude::DataType::Int32)?
        .i32()?
        .get(0)
        .ok_or_else(|| Error::bad_file(&args.warnings, "empty warning list"))?;
    let plan = match &args.plan {
        Some(p) => Some(crate::io::read_output(p, OutputKind::Plan)?),
        None => crate::io::read_output_if_present(&args.warnings.with_file_name("plan.parquet"), OutputKind::Plan)?,
    };
    let raw = crate::io::load_dir(&args.outcomes, m)?;
    let data = crate::validate::validate(raw, &crate::validate::ValidateOptions::default())?;
    let labels = crate::labels::labels_from(&data, &[as_of], args.horizon, &label_sources)?;
    let features = crate::features::compute(&data, &[as_of], &feature_options)?;
    let truth = crate::io::read_truth(&args.outcomes)?;
    let (_, last) = crate::model::train::data_span(&data)?;
    if last < as_of + args.horizon - 1 {
        super::notice(
            global,
            &m.fill("notice.outcomes_end_early", &[("days", &(as_of + args.horizon - 1 - last)), ("last", &crate::dates::format(last))]),
        );
    }
    let e = crate::evaluate::evaluate(&crate::evaluate::EvaluateInput {
        warnings: &warnings,
        labels: &labels,
        label_sources: &label_sources,
        features: &features,
        feature_options: &feature_options,
        truth: truth.as_ref(),
        plan: plan.as_ref(),
        inspections: data.table("inspections"),
        as_of,
        horizon_days: args.horizon,
    })?;
    super::print_summary(global, &e, || {
        let f = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into());
        let mut s = format!("as of {}, horizon {} days: {} scored, {} labelled\n", e.as_of, e.horizon_days, e.scored, e.labelled);
        if label_sources != crate::labels::DEFAULT_LABEL_SOURCES {
            s += &format!("labels from {}; random inspections stay the unbiased yardstick\n", crate::labels::source_list(&label_sources));
        }
        s += &super::populations_table(&e.populations);
        for (name, l) in [("model", &e.lead_time_model), ("past violations", &e.lead_time_past_violations)] {
            s += &format!(
                "lead time ({name}): violations found {} days earlier on average; within 30 days {} ranked vs {} actual\n",
                f(l.mean_days_earlier),
                f(l.found_in_30_days_ranked),
                f(l.found_in_30_days_actual)
            );
        }
        for d in &e.plan_completion {
            s += &format!(
                "plan {}: {} selected, {} inspected (completion {:.3}), {} with a random-inspection outcome (response {:.3})\n",
                d.department, d.selected, d.inspected, d.completion_rate, d.responded, d.response_rate
            );
            for r in e.plan_estimates.iter().filter(|r| r.department == d.department && r.grouping == crate::evaluate::Grouping::Grade) {
                s += &format!(
                    "  grade {}: {} selected, {} inspected, {} responded (response {}), violation rate {} ± {}\n",
                    r.class,
                    r.selected,
                    r.inspected,
                    r.responded,
                    f(r.response_rate),
                    f(r.rate),
                    f(r.standard_error)
                );
            }
        }
        s
    })
}
