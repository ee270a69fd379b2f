//! One module per subcommand: each turns checked options into library calls and a summary.

pub mod evaluate;
pub mod export;
pub mod features;
pub mod generate;
pub mod kernel;
pub mod plan;
pub mod run;
pub mod train;
pub mod validate;

use crate::cli::{Cli, Command, Global};
use crate::error::Result;

pub fn dispatch(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Generate(args) => generate::run(args, &cli.global),
        Command::Validate(args) => validate::run(args, &cli.global),
        Command::Features(args) => features::run(args, &cli.global),
        Command::Train(args) => train::run(args, &cli.global),
        Command::Run(args) => run::run(&args.options()?, args.pause_before_commit, &cli.global),
        Command::Score(args) => run::run(&args.options()?, None, &cli.global),
        Command::Plan(args) => plan::run(args, &cli.global),
        Command::Evaluate(args) => evaluate::run(args, &cli.global),
        Command::Export(args) => export::run(args, &cli.global),
        Command::Kernel(args) => kernel::run(args),
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
pub fn progress_bar(global: &Global, len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if global.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Notices go to stderr once, unless `--quiet`.
pub fn notice(global: &Global, msg: &str) {
    if !global.quiet {
        eprintln!("note: {msg}");
    }
}

/// Prints a summary: JSON on stdout with `--json`, else the human text.
pub fn print_summary<T: serde::Serialize>(global: &Global, value: &T, human: impl FnOnce() -> String) -> Result<()> {
    if global.json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", human());
    }
    Ok(())
}

fn metric(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.3}"))
}

/// `text` padded to `width` terminal columns (a Chinese character takes two), left or right.
fn pad(text: &str, width: usize, left: bool) -> String {
    let used: usize = text.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum();
    let fill = " ".repeat(width.saturating_sub(used));
    if left { format!("{text}{fill}") } else { format!("{fill}{text}") }
}

/// The backtest table of `train` and `evaluate`: every ranking on every population, in the
/// policy's language (`options`: the model's feature options, for the baseline's label).
pub fn populations_table(populations: &[crate::model::train::Population], options: &crate::features::FeatureOptions, m: crate::messages::Messages) -> String {
    let mut s = String::new();
    let head = [m.tr("report.ranking"), "AUC", "KS", "Brier", m.tr("summary.precision_1"), m.tr("summary.precision_10"), m.tr("report.lift_5"), m.tr("report.lift_10"), m.tr("report.first_half")];
    let widths = [44, 7, 7, 7, 14, 14, 14, 14, 20];
    let row = |cells: &[String]| -> String {
        let mut line = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            line += &pad(c, widths[i], i == 0);
        }
        line + "\n"
    };
    for p in populations {
        let name = crate::report::population_label(&p.population, m);
        s += &format!("\n{}\n", m.fill("summary.population", &[("name", &name), ("rows", &p.rows), ("positives", &p.positives)]));
        s += &row(&head.map(str::to_string));
        for r in &p.rankings {
            s += &row(&[
                crate::report::ranking_label(&r.ranking, options, m),
                metric(r.auc),
                metric(r.ks),
                metric(r.brier),
                metric(r.precision_top_1),
                metric(r.precision_top_10),
                metric(r.lift_top_5),
                metric(r.lift_top_10),
                metric(r.positives_in_first_half),
            ]);
        }
    }
    s
}
