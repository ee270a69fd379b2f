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
        let mut s = m.fill("summary.evaluate", &[("as_of", &e.as_of), ("horizon", &e.horizon_days), ("scored", &e.scored), ("labelled", &e.labelled)]) + "\n";
        if label_sources != crate::labels::DEFAULT_LABEL_SOURCES {
            s += &(m.fill("summary.evaluate_sources", &[("sources", &crate::labels::source_list(&label_sources))]) + "\n");
        }
        s += &super::populations_table(&e.populations, &feature_options, m);
        for (name, l) in [(m.tr("ranking.model"), &e.lead_time_model), (m.tr("summary.past_violations"), &e.lead_time_past_violations)] {
            let (earlier, ranked, actual) = (f(l.mean_days_earlier), f(l.found_in_30_days_ranked), f(l.found_in_30_days_actual));
            s += &(m.fill("summary.lead_time", &[("name", &name), ("earlier", &earlier), ("ranked", &ranked), ("actual", &actual)]) + "\n");
        }
        for d in &e.plan_completion {
            let (completion, response) = (format!("{:.3}", d.completion_rate), format!("{:.3}", d.response_rate));
            s += &m.fill(
                "summary.evaluate_plan",
                &[("department", &d.department), ("selected", &d.selected), ("inspected", &d.inspected), ("completion", &completion), ("responded", &d.responded), ("response", &response)],
            );
            s += "\n";
            for r in e.plan_estimates.iter().filter(|r| r.department == d.department && r.grouping == crate::evaluate::Grouping::Grade) {
                let (response, rate, se) = (f(r.response_rate), f(r.rate), f(r.standard_error));
                s += &m.fill(
                    "summary.evaluate_grade",
                    &[("grade", &r.class), ("selected", &r.selected), ("inspected", &r.inspected), ("responded", &r.responded), ("response", &response), ("rate", &rate), ("se", &se)],
                );
                s += "\n";
            }
        }
        s
    })
}
