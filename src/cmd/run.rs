//! `riskwarn run` and `riskwarn score`: the nightly job, with a stage bar and an end summary.

use crate::cli::Global;
use crate::error::Result;
use crate::run::RunOptions;

/// `pause_before_commit`: seconds to wait once every file is written and before the run
/// directory is committed (the hidden `--pause-before-commit`, for the test that kills a run).
pub fn run(opts: &RunOptions, pause_before_commit: Option<u64>, global: &Global) -> Result<()> {
    let stages = if opts.with_plan { 7 } else { 6 };
    let bar = super::progress_bar(global, stages, "run");
    let progress = |stage: &str| {
        bar.set_message(stage.to_string());
        bar.inc(1);
    };
    let pause = || {
        if let Some(secs) = pause_before_commit {
            std::thread::sleep(std::time::Duration::from_secs(secs));
        }
    };
    let result = crate::run::run(opts, &crate::run::Hooks { progress: &progress, before_commit: &pause })?;
    bar.finish_and_clear();
    let m = &result.manifest;
    for n in &m.notices {
        super::notice(global, n);
    }
    super::print_summary(global, m, || {
        let rejected: u64 = m.tables.iter().map(|t| t.rejected).sum();
        let mut s = format!(
            "run {} as of {}: {} subjects scored with {} → {}\n",
            m.run_id,
            m.as_of,
            m.scored,
            m.model_id,
            result.run_dir.display()
        );
        s += &format!(
            "levels: {}\ngrades: {}\n",
            m.levels.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · "),
            m.grades.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
        );
        if !m.plan.is_empty() {
            s += &format!(
                "plan (seed {}): {} selections in {} departments, {} visits ({} saved by joint visits)\n",
                m.seed,
                m.plan_selections,
                m.plan.len(),
                m.plan_visits,
                m.plan_selections - m.plan_visits
            );
        }
        if let Some(score) = m.stability.iter().find(|s| s.name == "score") {
            let worst = m.stability.iter().max_by(|a, b| a.psi.total_cmp(&b.psi)).expect("non-empty");
            s += &format!("stability: PSI score {:.3}, largest {} {:.3}{}\n", score.psi, worst.name, worst.psi, if worst.alert { " — retraining advised" } else { "" });
        }
        s += &crate::report::feedback_summary(&m.cases);
        if let Some(p) = &m.previous_plan {
            s += &crate::report::previous_plan_summary(p);
        }
        let t = &m.timings_seconds;
        s += &format!(
            "{rejected} input rows rejected (rejected.parquet); load {:.2} s, validate {:.2} s, features {:.2} s, score {:.2} s, cases {:.2} s, plan {:.2} s, write {:.2} s, total {:.2} s\n",
            t.load, t.validate, t.features, t.score, t.cases, t.plan, t.write, t.total
        );
        s
    })
}
