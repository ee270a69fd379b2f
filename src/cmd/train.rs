//! `riskwarn train`: load → validate → panel → fit → calibrate → backtest → model JSON.

use crate::cli::{Global, TrainArgs};
use crate::error::Result;
use crate::options::Check;

pub fn run(args: &TrainArgs, global: &Global) -> Result<()> {
    let mut opts = args.options()?;
    let policy = crate::policy::Policy::load(&args.policy)?;
    let m = crate::messages::Messages::new(policy.language);
    opts.features = policy.features;
    opts.points_scale = policy.points;
    opts.truth = crate::io::read_truth(&args.data)?;
    let opts = opts.check()?;
    // Bucket by bucket (docs/scale-out.md): the validated tables of each wait in the spill, in a
    // temporary directory beside the model file when there is more than one.
    let (sources, _) = crate::io::discover(&args.data, m)?;
    let files: Vec<std::path::PathBuf> = sources.iter().flat_map(|s| s.files.clone()).collect();
    let (buckets, memory_notice) = args.buckets.training_options()?.count(&files, &crate::bucket::TRAIN_MEMORY, m)?;
    let spill = if buckets > 1 {
        crate::decommit_freed_memory();
        let dir = args.model_out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        crate::io::Spill::in_dir(dir)?
    } else {
        crate::io::Spill::memory()
    };
    let mut data = crate::io::load_buckets(&args.data, buckets, &spill, m)?;
    for n in data.global.notices.iter().chain(&memory_notice) {
        super::notice(global, n);
    }
    let (_, checked) = crate::run::passes::validate(&mut data, &spill, &crate::validate::ValidateOptions::default(), &[])?;
    drop(data);
    let present = checked.present();
    if present.contains(&"indicators") {
        for n in crate::features::notices_of(&checked.indicator_rows, &opts.features, m) {
            super::notice(global, &n);
        }
    }
    let bucket = |b: u32| crate::run::passes::take_bucket(&checked, &spill, b, true).map(std::borrow::Cow::Owned);
    let source = crate::model::train::PanelData {
        buckets,
        bucket: &bucket,
        span: checked.span.ok_or_else(|| crate::error::Error::BadArgument("the data has no dated events to train on".into()))?,
        indicator_rows: checked.indicator_rows.clone(),
        present,
        spill: &spill,
    };
    let panel = crate::model::train::panel_from(&source, &opts)?;
    // The event tables are not needed past the panel; at province scale they are gigabytes.
    drop(spill);
    let panel_seconds = panel.seconds;
    let fit_started = std::time::Instant::now();
    let model = crate::model::train::fit(panel, &opts)?;
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    model.save(&args.model_out)?;
    super::print_summary(global, &model.backtest, || {
        let rate = format!("{:.3}", model.backtest.train_positive_rate);
        let mut s = m.fill(
            "summary.train",
            &[
                ("model", &model.model_id),
                ("out", &args.model_out.display()),
                ("rows", &model.backtest.train_rows),
                ("dates", &model.train_as_of.len()),
                ("first", &model.train_as_of.first().map_or("", |s| s.as_str())),
                ("last", &model.train_as_of.last().map_or("", |s| s.as_str())),
                ("rate", &rate),
                ("calibration", &model.calibration_as_of),
                ("test", &model.test_as_of),
            ],
        ) + "\n";
        if model.label_sources != crate::labels::DEFAULT_LABEL_SOURCES {
            let counts: Vec<String> = model
                .backtest
                .train_rows_by_source
                .iter()
                .map(|c| m.fill("summary.source_rows", &[("source", &c.label_source), ("rows", &c.rows), ("positives", &c.positives)]))
                .collect();
            let sources = crate::labels::source_list(&model.label_sources);
            s += &m.fill("summary.label_sources", &[("sources", &sources), ("weight", &model.disposition_weight), ("counts", &counts.join(", "))]);
            s += "\n";
        }
        let (panel, fit) = (format!("{panel_seconds:.1}"), format!("{fit_seconds:.1}"));
        s += &m.fill("summary.train_times", &[("dates", &(model.train_as_of.len() + 2)), ("buckets", &buckets), ("panel", &panel), ("fit", &fit)]);
        s += "\n";
        if let Some(selection) = &model.selection {
            s += &selection_summary(selection, m);
        }
        s += &super::populations_table(&model.backtest.test, &model.feature_options, m);
        if model.label_sources.contains(&crate::labels::LabelSource::Dispositions) {
            s += &format!("\n{}\n", m.tr("summary.follow_ups_biased"));
        }
        for w in &model.direction_warnings {
            s += &(m.fill("summary.direction", &[("warning", w)]) + "\n");
        }
        if let Some(p) = &model.points {
            s += &points_table(p, m);
        }
        s
    })
}

/// The lines of the train summary that say how the hyper-parameters were chosen.
fn selection_summary(selection: &crate::model::select::Selection, m: crate::messages::Messages) -> String {
    use crate::model::ModelKind;
    if let Some(reason) = selection.not_chosen {
        return m.fill("summary.not_chosen", &[("reason", &m.code("not_chosen", reason.code()))]) + "\n";
    }
    let mut s = m.fill(
        "summary.selection",
        &[
            ("validation", &selection.validation_as_of),
            ("dates", &selection.candidate_train_as_of.len()),
            ("rows", &selection.candidate_rows),
            ("validation_rows", &selection.validation_rows),
            ("positives", &selection.validation_positives),
        ],
    ) + "\n";
    let mut kinds = Vec::new();
    for c in selection.candidates.iter().filter(|c| c.chosen) {
        let of_kind = selection.candidates.iter().filter(|k| k.kind == c.kind).count();
        let auc = format!("{:.3}", c.auc);
        s += "  ";
        s += &match c.kind {
            ModelKind::Logistic => m.fill("summary.selection_logistic", &[("l2", &c.l2.unwrap_or(f64::NAN)), ("auc", &auc), ("candidates", &of_kind)]),
            ModelKind::Points => m.fill("summary.selection_points", &[("l2", &c.l2.unwrap_or(f64::NAN)), ("auc", &auc), ("candidates", &of_kind)]),
            ModelKind::Gbdt => m.fill(
                "summary.selection_gbdt",
                &[
                    ("depth", &c.max_depth.unwrap_or(0)),
                    ("leaf", &c.min_leaf_weight.unwrap_or(f64::NAN)),
                    ("rate", &c.learning_rate.unwrap_or(f64::NAN)),
                    ("trees", &c.trees.unwrap_or(0)),
                    ("auc", &auc),
                    ("candidates", &of_kind),
                ],
            ),
        };
        s += "\n";
        kinds.push(c.kind);
    }
    if kinds.len() > 1 {
        s += &(m.fill("summary.selection_kept", &[("kind", &m.code("model_kind", selection.kept.name()))]) + "\n");
    }
    s
}

/// A number of a bin label: short (the model file keeps the exact cut).
fn short(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 { format!("{v}") } else { format!("{}", (v * 1e3).round() / 1e3) }
}

/// The points scorecard's bins with their points, one line per feature with a nonzero
/// coefficient, largest spread of points first.
fn points_table(p: &crate::model::points::PointsPart, m: crate::messages::Messages) -> String {
    use crate::model::binning::BinRange;
    let scored: Vec<&crate::model::points::PointsFeature> = p.features.iter().filter(|f| f.coefficient > 0.0).collect();
    let mut s = format!(
        "\n{}\n",
        m.fill(
            "summary.points",
            &[("base", &format!("{:.1}", p.base_points)), ("points", &p.scale.base_points), ("odds", &p.scale.base_odds), ("pdo", &p.scale.pdo), ("zero", &(p.features.len() - scored.len()))]
        )
    );
    let spread = |f: &crate::model::points::PointsFeature| f.bins.bins.iter().map(|b| b.points).fold(f64::NEG_INFINITY, f64::max) - f.bins.bins.iter().map(|b| b.points).fold(f64::INFINITY, f64::min);
    let mut scored = scored;
    scored.sort_by(|a, b| spread(b).total_cmp(&spread(a)).then(a.bins.feature.cmp(&b.bins.feature)));
    let width = scored.iter().map(|f| f.bins.feature.len()).max().unwrap_or(0);
    for f in scored {
        let cells: Vec<String> = f
            .bins
            .bins
            .iter()
            .map(|b| {
                let label = match &b.range {
                    BinRange::Interval { lower, upper } => format!("({}, {}]", lower.map_or("-inf".into(), short), upper.map_or("+inf".into(), short)).replace(", +inf]", ", +inf)"),
                    BinRange::Levels { levels } => levels.join("|"),
                    BinRange::Other { .. } => m.tr("summary.points_bin_other").to_string(),
                    BinRange::Missing => m.tr("summary.points_bin_missing").to_string(),
                };
                format!("{label} {:+.1}", b.points)
            })
            .collect();
        s += &format!("  {:width$}  {}\n", f.bins.feature, cells.join(" | "));
    }
    s
}
