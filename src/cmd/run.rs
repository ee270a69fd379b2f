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
    let t = result.messages;
    super::print_summary(global, m, || {
        let rejected: u64 = m.tables.iter().map(|t| t.rejected).sum();
        let dir = result.run_dir.display();
        let mut s = t.fill("summary.run", &[("run_id", &m.run_id), ("as_of", &m.as_of), ("scored", &m.scored), ("model", &m.model_id), ("dir", &dir)]) + "\n";
        // Levels by their labels; grades are A–D in both languages.
        let list = |counts: &[(String, u64)], label: &dyn Fn(&str) -> String| counts.iter().map(|(k, v)| format!("{} {v}", label(k))).collect::<Vec<_>>().join(" · ");
        s += &(t.fill("summary.levels", &[("list", &list(&m.levels, &|k| t.code("level", k).to_string()))]) + "\n");
        s += &(t.fill("summary.grades", &[("list", &list(&m.grades, &|k| k.to_string()))]) + "\n");
        if !m.plan.is_empty() {
            let saved = m.plan_selections - m.plan_visits;
            s += &t.fill(
                "summary.plan",
                &[("seed", &m.seed), ("selections", &m.plan_selections), ("departments", &m.plan.len()), ("visits", &m.plan_visits), ("saved", &saved)],
            );
            s += "\n";
        }
        if let Some(score) = m.stability.iter().find(|s| s.name == "score") {
            let worst = m.stability.iter().max_by(|a, b| a.psi.total_cmp(&b.psi)).expect("non-empty");
            let (psi, worst_psi) = (format!("{:.3}", score.psi), format!("{:.3}", worst.psi));
            s += &t.fill("summary.stability", &[("psi", &psi), ("name", &worst.name), ("worst", &worst_psi)]);
            s += if worst.alert { t.tr("summary.retrain") } else { "" };
            s += "\n";
        }
        s += &crate::report::feedback_summary(&m.cases, t);
        if let Some(p) = &m.previous_plan {
            s += &crate::report::previous_plan_summary(p, t);
        }
        let d = &m.timings_seconds;
        let secs = [d.load, d.validate, d.features, d.score, d.cases, d.plan, d.write, d.total].map(|v| format!("{v:.2}"));
        let names = ["load", "validate", "features", "score", "cases", "plan", "write", "total"];
        let mut args: Vec<(&str, &dyn std::fmt::Display)> = vec![("rejected", &rejected)];
        args.extend(names.iter().zip(&secs).map(|(n, v)| (*n, v as &dyn std::fmt::Display)));
        s += &(t.fill("summary.timings", &args) + "\n");
        s
    })
}
