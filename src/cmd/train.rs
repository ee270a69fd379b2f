//! `riskwarn train`: load → validate → panel → fit → calibrate → backtest → model JSON.

use crate::cli::{Global, TrainArgs};
use crate::error::Result;
use crate::options::Check;

pub fn run(args: &TrainArgs, global: &Global) -> Result<()> {
    let mut opts = args.options()?;
    opts.features = crate::policy::Policy::load(&args.policy)?.features;
    opts.truth = crate::io::read_truth(&args.data)?;
    let opts = opts.check()?;
    let raw = crate::io::load_dir(&args.data)?;
    for n in &raw.notices {
        super::notice(global, n);
    }
    let data = crate::validate::validate(raw, &crate::validate::ValidateOptions::default())?;
    for n in crate::features::notices(&data, &opts.features)? {
        super::notice(global, &n);
    }
    let panel = crate::model::train::panel(&data, &opts)?;
    // The event tables are not needed past the panel; at province scale they are gigabytes.
    drop(data);
    let panel_seconds = panel.seconds;
    let fit_started = std::time::Instant::now();
    let model = crate::model::train::fit(panel, &opts)?;
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    model.save(&args.model_out)?;
    super::print_summary(global, &model.backtest, || {
        let mut s = format!(
            "model {} → {}\ntrained on {} rows ({} dates {}..{}), positive rate {:.3}; calibrated on {}; tested on {}\n",
            model.model_id,
            args.model_out.display(),
            model.backtest.train_rows,
            model.train_as_of.len(),
            model.train_as_of.first().map_or("", |s| s.as_str()),
            model.train_as_of.last().map_or("", |s| s.as_str()),
            model.backtest.train_positive_rate,
            model.calibration_as_of,
            model.test_as_of
        );
        if model.label_sources != crate::labels::DEFAULT_LABEL_SOURCES {
            let counts: Vec<String> = model
                .backtest
                .train_rows_by_source
                .iter()
                .map(|c| format!("{} {} rows ({} positive)", c.label_source, c.rows, c.positives))
                .collect();
            s += &format!("labels from {} (row weight {} on dispositions alone): {}\n", crate::labels::source_list(&model.label_sources), model.disposition_weight, counts.join(", "));
        }
        s += &format!("panel (features and labels of {} dates) {panel_seconds:.1} s, fit + calibration + backtest {fit_seconds:.1} s\n", model.train_as_of.len() + 2);
        s += &super::populations_table(&model.backtest.test);
        if model.label_sources.contains(&crate::labels::LabelSource::Dispositions) {
            s += "\nfollow-ups are of warned subjects, not a random sample: judge the model on `random inspections`\n";
        }
        for w in &model.direction_warnings {
            s += &format!("direction: {w}\n");
        }
        s
    })
}
