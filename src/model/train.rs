//! Training and an honest time-based backtest. Dates: the test date T_test = last data day + 1 − H
//! (its label window ends with the data), calibration on T_cal = T_test − H, training on
//! quarterly dates whose label windows end by T_cal, so no label the model or its calibration
//! saw overlaps the test period.

use ndarray::ShapeBuilder;
use polars::prelude::*;

use linfa::traits::Fit;

use super::calibration::Platt;
use super::estimators::{dataset, FeatureRows, PointsScorecardParams, ScorecardParams, StopOn, TreesParams};
use super::logistic::LogisticParams;
use super::matrix::{CompactMatrix, FeatureSource, MatrixColumn, Preprocessor};
use super::rows::Rows;
use super::{schema_hash, Model, ModelKind};
use crate::dates;
use crate::error::{Error, Result};
use crate::features::{Direction, FeatureOptions, Kind, Registry};
use crate::labels::{LabelSource, BOTH_SOURCES, DEFAULT_LABEL_SOURCES};
use crate::options::{Check, Valid};
use crate::metrics;
use crate::validate::Validated;

#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub horizon_days: i32,
    /// Training dates; default: quarterly back from the calibration date.
    pub train_as_of: Option<Vec<i32>>,
    pub kind: TrainKind,
    /// The hyper-parameter grids chosen from on the validation date (`model::select`).
    pub search: super::select::Search,
    /// gbdt: weight labelled rows by the inverse of their estimated probability of being
    /// labelled (inspected or penalised) given the features — a selection-bias correction.
    pub inverse_propensity: bool,
    pub params: LogisticParams,
    pub gbdt: super::gbdt::GbdtParams,
    pub features: Valid<FeatureOptions>,
    /// How many quarterly training dates by default.
    pub default_dates: usize,
    /// The hidden propensity of generated data (`truth.parquet`): adds the oracle ranking.
    pub truth: Option<DataFrame>,
    /// Where labels come from (`--labels`); default inspections and penalties alone.
    pub label_sources: Vec<LabelSource>,
    /// Weight of a training row labelled by dispositions alone, in (0, 1]: follow-ups are of
    /// warned subjects, so their labels are a targeted, not a random, sample (docs/model.md).
    pub disposition_weight: f64,
    /// Points: the binning of every feature, and the policy's `[points]` scale.
    pub binning: super::binning::BinningOptions,
    pub points_scale: super::points::PointsScale,
}

/// What `riskwarn train --kind` trains: one kind, or `auto`, both with the better on the
/// validation date kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainKind {
    /// The scorecard (`ModelKind::Logistic`).
    Logistic,
    /// Gradient-boosted trees (`ModelKind::Gbdt`).
    Gbdt,
    /// The points scorecard (`ModelKind::Points`).
    Points,
    /// All three; the one with the higher validation AUC is kept (on a tie the scorecard, then
    /// the points scorecard).
    Auto,
}

impl From<ModelKind> for TrainKind {
    fn from(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Logistic => TrainKind::Logistic,
            ModelKind::Gbdt => TrainKind::Gbdt,
            ModelKind::Points => TrainKind::Points,
        }
    }
}

/// The weight of a disposition-only training row unless the user says otherwise: none.
pub const DEFAULT_DISPOSITION_WEIGHT: f64 = 1.0;

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            horizon_days: crate::labels::DEFAULT_HORIZON_DAYS,
            train_as_of: None,
            kind: TrainKind::Logistic,
            search: super::select::Search::default(),
            inverse_propensity: false,
            params: LogisticParams::default(),
            gbdt: super::gbdt::GbdtParams::default(),
            features: Valid::default(),
            default_dates: 8,
            truth: None,
            label_sources: DEFAULT_LABEL_SOURCES.to_vec(),
            disposition_weight: DEFAULT_DISPOSITION_WEIGHT,
            binning: Default::default(),
            points_scale: Default::default(),
        }
    }
}

impl Check for TrainOptions {
    fn validate(&self) -> Result<()> {
        self.params.check()?;
        self.gbdt.check()?;
        self.search.check(&self.params, &self.gbdt)?;
        self.binning.check()?;
        self.points_scale.check()?;
        if !(1..=crate::labels::MAX_HORIZON_DAYS).contains(&self.horizon_days) {
            return Err(Error::BadArgument(format!("--horizon must be 1 to {} days, got {}", crate::labels::MAX_HORIZON_DAYS, self.horizon_days)));
        }
        if self.train_as_of.as_ref().is_some_and(|d| d.is_empty()) || self.default_dates == 0 {
            return Err(Error::BadArgument("at least one training date is needed".into()));
        }
        check_label_sources(&self.label_sources)?;
        if !(self.disposition_weight > 0.0 && self.disposition_weight <= 1.0) {
            return Err(Error::BadArgument(format!("--disposition-weight must be in (0, 1], got {}", self.disposition_weight)));
        }
        if self.disposition_weight != DEFAULT_DISPOSITION_WEIGHT && !self.label_sources.contains(&LabelSource::Dispositions) {
            return Err(Error::BadArgument("--disposition-weight weights rows labelled by dispositions; it needs --labels with dispositions".into()));
        }
        Ok(())
    }
}

/// Label sources of training and evaluation (`--labels`; also checked where a model is read):
/// each once, and always with inspections, whose random-inspection outcomes are the unbiased
/// yardstick every model is judged on (with dispositions alone no test row would carry one).
pub fn check_label_sources(sources: &[LabelSource]) -> Result<()> {
    let valid = || <LabelSource as clap::ValueEnum>::value_variants().iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
    if sources.is_empty() {
        return Err(Error::BadArgument(format!("--labels needs at least one source of: {}", valid())));
    }
    if let Some(twice) = sources.iter().enumerate().find(|(i, s)| sources[..*i].contains(s)) {
        return Err(Error::BadArgument(format!("--labels names {} twice", twice.1.name())));
    }
    if !sources.contains(&LabelSource::Inspections) {
        return Err(Error::BadArgument(format!(
            "--labels {} leaves out inspections, whose random inspections are the unbiased yardstick of every backtest; use --labels inspections,{}",
            crate::labels::source_list(sources),
            crate::labels::source_list(sources)
        )));
    }
    Ok(())
}

/// Labelled training rows and positives of one `label_source` value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceCount {
    /// `inspections`, `dispositions` or `both`.
    pub label_source: String,
    pub rows: usize,
    pub positives: usize,
}

/// Metrics of one ranking on one population.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankingMetrics {
    pub ranking: String,
    pub auc: Option<f64>,
    pub ks: Option<f64>,
    pub brier: Option<f64>,
    pub precision_top_1: Option<f64>,
    pub precision_top_5: Option<f64>,
    pub precision_top_10: Option<f64>,
    pub lift_top_1: Option<f64>,
    pub lift_top_5: Option<f64>,
    pub lift_top_10: Option<f64>,
    pub positives_in_first_half: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Population {
    /// `all labelled`, `random inspections` (the unbiased sample: the honest yardstick), and with
    /// more than one label source `labelled by <source>` (that source's own label on its rows).
    pub population: String,
    pub rows: usize,
    pub positives: usize,
    pub rankings: Vec<RankingMetrics>,
    pub calibration: Vec<metrics::CalibrationBin>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Backtest {
    pub train_rows: usize,
    pub train_positive_rate: f64,
    /// Training rows per `label_source` (absent with the default source, inspections alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub train_rows_by_source: Vec<SourceCount>,
    pub test: Vec<Population>,
}

fn ranking(name: &str, scores: &[f64], labels: &[bool], probabilities: bool) -> RankingMetrics {
    RankingMetrics {
        ranking: name.into(),
        auc: metrics::auc(scores, labels),
        ks: metrics::ks(scores, labels),
        brier: if probabilities { metrics::brier(scores, labels) } else { None },
        precision_top_1: metrics::precision_at(scores, labels, 0.01),
        precision_top_5: metrics::precision_at(scores, labels, 0.05),
        precision_top_10: metrics::precision_at(scores, labels, 0.10),
        lift_top_1: metrics::lift_at(scores, labels, 0.01),
        lift_top_5: metrics::lift_at(scores, labels, 0.05),
        lift_top_10: metrics::lift_at(scores, labels, 0.10),
        positives_in_first_half: metrics::positives_in_first_half(scores, labels),
    }
}

/// A deterministic pseudo-random score per subject code: the "random order" baseline.
fn random_order(codes: &[String]) -> Vec<f64> {
    codes.iter().map(|c| (crate::digest::stable_hash(c) >> 11) as f64 / (1u64 << 53) as f64).collect()
}

/// The oracle: each test subject's true propensity averaged over the label window [T, T+H),
/// from the generator's truth (base logit, young-firm bonus, change point).
pub fn oracle_scores(truth: &DataFrame, test: &DataFrame, t: i32, horizon: i32) -> Result<Vec<f64>> {
    let joined = test
        .clone()
        .lazy()
        .select([col("uscc")])
        .join(truth.clone().lazy(), [col("uscc")], [col("uscc")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) })
        .collect()?;
    let f = |n: &str| -> Result<Vec<Option<f64>>> { Ok(joined.column(n)?.cast(&DataType::Float64)?.f64()?.iter().collect()) };
    let (base, young_until, bonus, change_on, delta) = (f("base_logit")?, f("young_until")?, f("young_bonus")?, f("change_on")?, f("change_delta")?);
    Ok((0..joined.height())
        .map(|i| {
            let points = [0, horizon / 4, horizon / 2, 3 * horizon / 4];
            points
                .iter()
                .map(|d| {
                    let day = (t + d) as f64;
                    let mut z = base[i].unwrap_or(f64::NAN);
                    if young_until[i].is_some_and(|y| day < y) {
                        z += bonus[i].unwrap_or(0.0);
                    }
                    if change_on[i].is_some_and(|c| day >= c) {
                        z += delta[i].unwrap_or(0.0);
                    }
                    1.0 / (1.0 + (-z).exp())
                })
                .sum::<f64>()
                / points.len() as f64
        })
        .collect())
}

/// The name of the information-ceiling ranking in backtests.
pub const CEILING: &str = "ceiling (truth regressed on features)";

/// Training rows the ceiling regression uses at most (evenly spaced); it is an estimate.
const CEILING_ROWS: usize = 400_000;

/// The information ceiling of generated data: the logit of the hidden propensity (the oracle)
/// regressed on the same features by a least-squares gbdt on the training rows, scored on the
/// test rows. It is the best ranking these records allow — a model fitted to labels cannot be
/// expected to beat a fit to the truth itself — so the oracle's lead over it is what the records
/// do not show (a subject's own risk beyond its history, changes after T). None without truth.
fn ceiling_scores(train_rows: &Rows, test_rows: &DataFrame, numeric: &[String], categorical: &[String]) -> Result<Option<Vec<f64>>> {
    if !train_rows.has_column("oracle") {
        return Ok(None);
    }
    let step = train_rows.height().div_ceil(CEILING_ROWS).max(1);
    let rows: Vec<IdxSize> = (0..train_rows.height()).step_by(step).map(|i| i as IdxSize).collect();
    let sample = train_rows.take(&rows)?;
    let oracle = sample.column("oracle")?.f64()?;
    let target: Vec<f64> = (0..sample.height())
        .map(|i| {
            let p = oracle.get(i).unwrap_or(f64::NAN).clamp(1e-9, 1.0 - 1e-9);
            (p / (1.0 - p)).ln()
        })
        .collect();
    if target.iter().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    let pre = Preprocessor::fit_raw(&sample, numeric, categorical)?;
    let x = pre.transform_column_major(&sample)?;
    let test = pre.transform_column_major(test_rows)?;
    let params = super::gbdt::GbdtParams { iterations: 300, learning_rate: 0.1, max_depth: 5, ..Default::default() };
    Ok(Some(super::gbdt::regress(&x, sample.height(), pre.columns.len(), &target, &test, test_rows.height(), &params)?))
}

/// Evaluates the model and baselines on test rows: all labelled, random inspections only, and
/// with more than one label source each source's rows under its own label (`inspection_label`,
/// `disposition_label`). `past_feature` is the past-violations baseline (`features::past_violations`).
pub fn backtest_populations(
    test: &DataFrame,
    probs: &[f64],
    oracle: Option<&[f64]>,
    ceiling: Option<&[f64]>,
    past_feature: &str,
    sources: &[LabelSource],
) -> Result<Vec<Population>> {
    let optional = |name: &str| -> Result<Vec<Option<bool>>> { Ok(test.column(name)?.bool()?.iter().collect()) };
    let labels: Vec<Option<bool>> = test.column("label")?.bool()?.iter().map(|v| Some(v.unwrap_or(false))).collect();
    let mut populations = vec![("all labelled".to_string(), labels), ("random inspections".to_string(), optional("random_label")?)];
    if sources.len() > 1 {
        for source in sources {
            let column = match source {
                LabelSource::Inspections => "inspection_label",
                LabelSource::Dispositions => "disposition_label",
            };
            populations.push((format!("labelled by {}", source.name()), optional(column)?));
        }
    }
    let past: Vec<f64> = match test.column(past_feature) {
        Ok(c) => c.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect(),
        Err(_) => vec![0.0; test.height()],
    };
    let codes: Vec<String> = test.column("uscc")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();
    let shuffled = random_order(&codes);
    let mut out = Vec::new();
    for (population, label) in populations {
        let rows: Vec<usize> = (0..label.len()).filter(|&i| label[i].is_some()).collect();
        let y: Vec<bool> = rows.iter().map(|&i| label[i].unwrap_or(false)).collect();
        let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let p = pick(probs);
        out.push(Population {
            population,
            rows: rows.len(),
            positives: y.iter().filter(|&&v| v).count(),
            rankings: [
                Some(ranking("model", &p, &y, true)),
                oracle.map(|o| ranking("oracle (hidden propensity)", &pick(o), &y, false)),
                ceiling.map(|c| ranking(CEILING, &pick(c), &y, false)),
                Some(ranking(&format!("past violations ({past_feature})"), &pick(&past), &y, false)),
                Some(ranking("random order", &pick(&shuffled), &y, false)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            calibration: metrics::calibration(&p, &y, 10),
        });
    }
    Ok(out)
}

/// First and last event dates in the data.
pub fn data_span(data: &Validated) -> Result<(i32, i32)> {
    let mut lo = i32::MAX;
    let mut hi = i32::MIN;
    for (spec, df) in &data.tables {
        if let Some(d) = spec.event_date {
            let c = df.column(d)?.cast(&DataType::Int32)?;
            let c = c.i32()?;
            if let (Some(a), Some(b)) = (c.min(), c.max()) {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
    }
    if lo > hi {
        return Err(Error::BadArgument("the data has no dated events to train on".into()));
    }
    Ok((lo, hi))
}

/// The known direction of a matrix column's feature (registry): +1 when more of it must never
/// lower risk, −1 when it must never raise it, 0 otherwise. It gives the scorecard's sign
/// constraints and the trees' monotone constraints.
fn known_direction(registry: &Registry, c: &MatrixColumn) -> i8 {
    match c {
        MatrixColumn::Numeric { feature, .. } | MatrixColumn::Raw { feature } => match registry.get(feature).map(|f| f.direction) {
            Some(Direction::Increasing) => 1,
            Some(Direction::Decreasing) => -1,
            _ => 0,
        },
        _ => 0,
    }
}

/// The labelled rows of every date a training run needs, computed date by date from the data.
#[derive(Clone)]
pub struct Panel {
    pub train_dates: Vec<i32>,
    pub t_cal: i32,
    pub t_test: i32,
    /// One part per training date, kept in a spill beside the bucketed run's (in memory with
    /// one bucket).
    pub train_rows: Rows,
    pub cal_rows: DataFrame,
    pub test_rows: DataFrame,
    /// Every scored subject at the last training date, one part per bucket (not in `uscc`
    /// order): the stability baseline and the propensity sample.
    pub population: Rows,
    /// Seconds spent computing features and labels.
    pub seconds: f64,
}

/// Trains on `data` (the panel, then the fit).
pub fn train(data: &Validated, opts: &Valid<TrainOptions>) -> Result<Model> {
    fit(panel(data, opts)?, opts)
}

/// The training, calibration and test rows (SPEC §1 labels joined to features as of each date).
/// It reads `data` only here, so a caller can free the event tables before [`fit`].
pub fn panel(data: &Validated, opts: &Valid<TrainOptions>) -> Result<Panel> {
    let spill = crate::io::Spill::memory();
    let one = |_: u32| Ok(std::borrow::Cow::Borrowed(data));
    panel_from(
        &PanelData {
            buckets: 1,
            bucket: &one,
            span: data_span(data)?,
            indicator_rows: crate::features::indicator_rows(data)?,
            present: crate::features::present_tables(data),
            spill: &spill,
        },
        opts,
    )
}

/// What a panel is built from: buckets of subjects, each a validated data of its own (one
/// bucket: the whole data), with what validation found of all of them.
pub struct PanelData<'a> {
    pub buckets: u32,
    /// Bucket `b`'s validated tables; called once per bucket and date.
    pub bucket: &'a dyn Fn(u32) -> Result<std::borrow::Cow<'a, Validated>>,
    /// The first and last event dates of the whole data.
    pub span: (i32, i32),
    pub indicator_rows: crate::features::IndicatorRows,
    /// The tables every bucket holds.
    pub present: Vec<&'static str>,
    /// Where one date's per-subject features of every bucket wait for the population-wide step.
    pub spill: &'a crate::io::Spill,
}

/// [`panel`] over buckets: date by date, each bucket's per-subject features and labels, then
/// the population-wide step (peer groups, relations) and the labelled rows of every bucket, in
/// `uscc` order — so the panel, and the model fitted on it, are the same for any split.
pub fn panel_from(src: &PanelData, opts: &Valid<TrainOptions>) -> Result<Panel> {
    let started = std::time::Instant::now();
    let h = opts.horizon_days;
    let (first, last) = src.span;
    let t_test = last + 1 - h;
    let t_cal = t_test - h;
    let train_dates: Vec<i32> = match &opts.train_as_of {
        Some(d) => d.clone(),
        None => (0..opts.default_dates as i32).map(|k| t_cal - h - 91 * k).filter(|t| *t >= first + opts.features.recent_days).rev().collect(),
    };
    if train_dates.is_empty() {
        return Err(Error::BadArgument(format!(
            "not enough history: no training date has {} days (features.recent_days) of data before it",
            opts.features.recent_days
        )));
    }
    if let Some(bad) = train_dates.iter().find(|t| **t + h > t_cal) {
        return Err(Error::BadArgument(format!(
            "training date {} has a label window reaching past the calibration date {}; use earlier dates",
            dates::format(*bad),
            dates::format(t_cal)
        )));
    }
    let mut all_dates = train_dates.clone();
    all_dates.extend([t_cal, t_test]);
    let fopts = crate::features::with_data_indicators(&src.indicator_rows, &opts.features);
    let present = &src.present;
    // Date by date: the full scored population of one date at a time, of which only labelled
    // rows are kept (plus the last training date's population, the stability baseline and the
    // propensity sample), so memory holds one date's features, not all of them.
    let last_train = *train_dates.last().expect("non-empty");
    let keep = std::sync::Arc::new(src.spill.sibling()?);
    let mut train_rows = Rows::new(keep.clone(), "train");
    let mut population = Rows::new(keep, "population");
    let (mut cal_rows, mut test_rows) = (DataFrame::empty(), DataFrame::empty());
    let label_columns: Vec<Expr> = LABEL_COLUMNS.iter().map(|c| col(*c)).collect();
    for &t in &all_dates {
        let mut peer = crate::features::PeerStats::default();
        let mut relation_parts = crate::features::RelationParts::at(t);
        let mut labels = Vec::new();
        for b in 0..src.buckets {
            let data = (src.bucket)(b)?;
            let local = crate::features::local(&data, &[t], &fopts, crate::features::Backend::Kernel)?.pop().expect("one date");
            peer.merge(&crate::features::PeerStats::partial(&local, present, &fopts)?);
            relation_parts.push(&local, &data, present, &fopts)?;
            labels.push(crate::labels::labels_from(&data, &[t], h, &opts.label_sources)?.lazy().select(label_columns.clone()).collect()?);
            src.spill.put(&format!("panel/{b}"), local)?;
        }
        let (relations, _) = relation_parts.features(present, &fopts)?;
        let mut labelled: Option<DataFrame> = None;
        for ((b, labels), rel) in (0..src.buckets).zip(labels).zip(relations) {
            let local = src.spill.take(&format!("panel/{b}"))?;
            let features = crate::features::finish(local, rel, &peer, present, &fopts)?;
            let rows = features
                .clone()
                .lazy()
                .join(labels.lazy(), [col("uscc"), col("as_of")], [col("uscc"), col("as_of")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Inner) })
                .collect()?;
            crate::bucket::stack(&mut labelled, rows)?;
            if t == last_train {
                population.push(features)?;
            }
        }
        let by_code = |df: DataFrame| -> Result<DataFrame> { Ok(df.sort(["uscc"], SortMultipleOptions::default())?) };
        let labelled = by_code(labelled.ok_or_else(|| Error::Internal("no bucket".into()))?)?;
        let labelled = match &opts.truth {
            Some(truth) => {
                let oracle = oracle_scores(truth, &labelled, t, h)?;
                labelled.hstack(&[Column::new("oracle".into(), oracle)])?
            }
            None => labelled,
        };
        if t == t_test {
            test_rows = labelled;
        } else if t == t_cal {
            cal_rows = labelled;
        } else {
            train_rows.push(labelled)?;
        }
    }
    Ok(Panel { train_dates, t_cal, t_test, train_rows, cal_rows, test_rows, population, seconds: started.elapsed().as_secs_f64() })
}

/// The label columns a panel row carries beside its features (`labels::labels_from`).
const LABEL_COLUMNS: &[&str] = &["uscc", "as_of", "label", "random_label", "label_source", "inspection_label", "disposition_label"];

/// Training rows and positives per `label_source` (those with rows), in the order inspections,
/// dispositions, both.
fn rows_by_source(rows: &DataFrame, labels: &[bool]) -> Result<Vec<SourceCount>> {
    let source: Vec<Option<&str>> = rows.column("label_source")?.str()?.iter().collect();
    let counts: Vec<SourceCount> = [LabelSource::Inspections.name(), LabelSource::Dispositions.name(), BOTH_SOURCES]
        .into_iter()
        .map(|name| {
            let mine = || source.iter().zip(labels).filter(|(s, _)| **s == Some(name));
            SourceCount { label_source: name.into(), rows: mine().count(), positives: mine().filter(|(_, y)| **y).count() }
        })
        .filter(|c| c.rows > 0)
        .collect();
    Ok(counts)
}

/// Row weights of the fit: inverse propensity (optional) times `disposition_weight` on rows
/// only dispositions labelled; None when every weight would be 1.
fn row_weights(inverse_propensity: Option<Vec<f64>>, rows: &DataFrame, disposition_weight: f64) -> Result<Option<Vec<f64>>> {
    if disposition_weight == DEFAULT_DISPOSITION_WEIGHT {
        return Ok(inverse_propensity);
    }
    let source = rows.column("label_source")?.str()?;
    let mut w = inverse_propensity.unwrap_or_else(|| vec![1.0; rows.height()]);
    for (w, s) in w.iter_mut().zip(source.iter()) {
        if s == Some(LabelSource::Dispositions.name()) {
            *w *= disposition_weight;
        }
    }
    Ok(Some(w))
}

/// Fits, calibrates and backtests a model on a panel, freeing the training rows as soon as the
/// model matrix is built (at 4 million subjects × 8 dates they are gigabytes).
pub fn fit(panel: Panel, opts: &Valid<TrainOptions>) -> Result<Model> {
    let h = opts.horizon_days;
    let Panel { train_dates, t_cal, t_test, train_rows, cal_rows, test_rows, population, .. } = panel;
    let last_train = *train_dates.last().ok_or_else(|| Error::BadArgument("the panel has no training date".into()))?;
    let bools = |df: &DataFrame| -> Result<Vec<bool>> { Ok(df.column("label")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect()) };

    let registry = Registry::all(&opts.features);
    let is_categorical = |n: &String| registry.get(n).is_some_and(|f| f.kind == Kind::Categorical);
    let (categorical, numeric): (Vec<String>, Vec<String>) = feature_names(train_rows.column_names().iter().map(String::as_str)).into_iter().partition(is_categorical);
    // The two columns the whole fit reads of every training row, in one pass over the parts.
    let labels = train_rows.columns(&["label", "label_source"])?;
    let y = bools(&labels)?;
    // Not recorded for the default source, so default model files stay as they were.
    let train_rows_by_source = if opts.label_sources == DEFAULT_LABEL_SOURCES { Vec::new() } else { rows_by_source(&labels, &y)? };
    let ceiling = ceiling_scores(&train_rows, &test_rows, &numeric, &categorical)?;
    let weights = if opts.inverse_propensity {
        let sorted = population.frame()?.sort(["uscc"], SortMultipleOptions::default())?;
        Some(inverse_propensity_weights(&sorted, &train_rows.frame()?, &numeric, &categorical, &opts.gbdt)?)
    } else {
        None
    };
    let weights = row_weights(weights, &labels, opts.disposition_weight)?;
    drop(labels);
    let columns = Columns { numeric: &numeric, categorical: &categorical, registry: &registry };
    let chosen = super::select::choose(&train_rows, &y, weights.as_deref(), &train_dates, h, &columns, opts)?;
    let mut sign_constraints = Vec::new();
    let mut points_part = None;
    let (pre, coefficients, intercept, gbdt_part, direction_warnings) = match chosen.kind {
        ModelKind::Logistic => {
            let fitted = fit_logistic(&train_rows, &y, weights.as_deref(), &columns, &chosen.logistic)?;
            drop(train_rows);
            sign_constraints = fitted.sign_constraints;
            (fitted.pre, fitted.coefficients, fitted.intercept, None, fitted.warnings)
        }
        ModelKind::Gbdt => {
            let (fitted, bias) = fit_gbdt(&train_rows, &y, weights.as_deref(), &columns, &chosen.gbdt, None)?;
            drop(train_rows);
            let part = super::GbdtPart { params: chosen.gbdt.clone(), directions: fitted.directions, booster: fitted.booster };
            (fitted.pre, Vec::new(), bias, Some(part), Vec::new())
        }
        ModelKind::Points => {
            let params = super::points::PointsParams { binning: opts.binning.clone(), logistic: chosen.points.clone() };
            let part = fit_points(&train_rows.frame()?, &y, weights.as_deref(), &columns, params)?;
            drop(train_rows);
            let pre = Preprocessor { columns: part.names().into_iter().map(|feature| MatrixColumn::Woe { feature }).collect() };
            sign_constraints = pre.names();
            let (coefficients, intercept) = (part.coefficients(), part.intercept);
            points_part = Some(part);
            (pre, coefficients, intercept, None, Vec::new())
        }
    };
    let features_used = pre.features();
    let mut model = Model {
        model_id: String::new(),
        kind: chosen.kind,
        engine_version: env!("CARGO_PKG_VERSION").into(),
        schema_hash: schema_hash(&features_used, &opts.features),
        features: features_used,
        feature_options: opts.features.clone(),
        preprocessing: pre,
        coefficients,
        sign_constraints,
        intercept,
        gbdt: gbdt_part,
        points: points_part,
        row_weights: describe_row_weights(opts),
        label_sources: opts.label_sources.clone(),
        disposition_weight: opts.disposition_weight,
        calibration: Platt { a: 1.0, b: 0.0 },
        calibration_method: "platt on the held-out calibration date".into(),
        params: chosen.logistic.clone(),
        selection: Some(chosen.selection),
        horizon_days: h,
        train_as_of: train_dates.iter().map(|d| dates::format(*d)).collect(),
        calibration_as_of: dates::format(t_cal),
        test_as_of: dates::format(t_test),
        direction_warnings,
        baseline: None,
        backtest: Backtest {
            train_rows: y.len(),
            train_positive_rate: y.iter().filter(|&&v| v).count() as f64 / y.len() as f64,
            train_rows_by_source,
            test: Vec::new(),
        },
    };
    let z_cal = model.raw_scores(&model.matrix(&cal_rows)?)?;
    model.calibration = Platt::fit(&z_cal, &bools(&cal_rows)?);
    if let Some(p) = &mut model.points {
        p.scale(&model.calibration, &opts.points_scale);
    }
    let probs = model.score(&test_rows)?;
    let oracle: Option<Vec<f64>> = match test_rows.column("oracle") {
        Ok(c) => Some(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect()),
        Err(_) => None,
    };
    model.backtest.test = backtest_populations(&test_rows, &probs, oracle.as_deref(), ceiling.as_deref(), &crate::features::past_violations(&opts.features), &opts.label_sources)?;
    model.baseline = Some(model.fit_baseline(&population, &dates::format(last_train), 10)?);
    drop(population);
    let json = serde_json::to_string(&model)?;
    let kind = model.kind.name();
    model.model_id = format!("{kind}-{}-{}", dates::format(t_test), &crate::digest::hex_digest(json.as_bytes())[..8]);
    Ok(model)
}

/// The feature columns a fit reads: numeric and categorical, with the registry's directions.
pub(crate) struct Columns<'a> {
    pub numeric: &'a [String],
    pub categorical: &'a [String],
    pub registry: &'a Registry,
}

/// A fitted scorecard: its preprocessing, coefficients per matrix column and intercept.
pub(crate) struct LogisticFit {
    pub pre: Preprocessor,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    pub sign_constraints: Vec<String>,
    pub warnings: Vec<String>,
}

impl LogisticFit {
    /// Raw scores (log-odds) of feature rows.
    pub fn raw_scores(&self, rows: &DataFrame) -> Result<Vec<f64>> {
        let x = self.pre.transform(rows)?;
        Ok(x.rows().into_iter().map(|r| self.intercept + r.iter().zip(&self.coefficients).map(|(v, w)| v * w).sum::<f64>()).collect())
    }
}

/// The scorecard on `rows`, its matrix built one column at a time into a [`CompactMatrix`].
pub(crate) fn fit_logistic(rows: &dyn FeatureSource, y: &[bool], weights: Option<&[f64]>, columns: &Columns, params: &LogisticParams) -> Result<LogisticFit> {
    let pre = Preprocessor::fit(rows, columns.numeric, columns.categorical)?;
    // A feature with a known direction must never move risk against it: its coefficient
    // times its direction is ≥ 0 (a decreasing column is fitted negated, then flipped back).
    let directions: Vec<i8> = pre.columns.iter().map(|c| known_direction(columns.registry, c)).collect();
    let negated: Vec<bool> = directions.iter().map(|d| *d < 0).collect();
    let x = CompactMatrix::build(&pre, rows, &negated)?;
    let constrained: Vec<bool> = directions.iter().map(|d| *d != 0).collect();
    let scorecard = ScorecardParams::new(params.clone()).nonnegative(constrained.clone()).fit(&dataset(&x, y, weights))?;
    drop(x);
    let (mut coefficients, intercept) = (scorecard.coefficients.to_vec(), scorecard.intercept);
    for (w, d) in coefficients.iter_mut().zip(&directions) {
        if *d < 0 {
            *w = -*w;
        }
    }
    let sign_constraints = pre.columns.iter().zip(&constrained).filter(|(_, n)| **n).map(|(c, _)| c.name()).collect();
    let warnings = pre
        .columns
        .iter()
        .zip(&coefficients)
        .zip(&directions)
        .filter(|((_, w), d)| **d as f64 * **w < 0.0)
        .map(|((c, w), d)| format!("{}: coefficient {w:.4} runs against its declared direction ({d:+})", c.name()))
        .collect();
    Ok(LogisticFit { pre, coefficients, intercept, sign_constraints, warnings })
}

/// The points scorecard on `rows`.
pub(crate) fn fit_points(rows: &DataFrame, y: &[bool], weights: Option<&[f64]>, columns: &Columns, params: super::points::PointsParams) -> Result<super::points::PointsPart> {
    let points = PointsScorecardParams::new(params, columns.numeric.to_vec(), columns.categorical.to_vec(), columns.registry);
    points.fit(&dataset(FeatureRows(rows), y, weights))
}

/// Fitted trees: the raw-value preprocessing, the monotone directions per matrix column, the
/// booster JSON and the contributions' bias (the same for every row).
pub(crate) struct GbdtFit {
    pub pre: Preprocessor,
    pub directions: Vec<super::gbdt::Direction>,
    pub booster: String,
}

impl GbdtFit {
    fn bias(&self, row0: &[f64]) -> Result<f64> {
        let cols = self.pre.columns.len();
        let first = super::gbdt::contributions(&super::gbdt::load(&self.booster)?, row0, 1, cols);
        Ok(first.get(cols).copied().unwrap_or(0.0))
    }
}

/// A validation set for early stopping: feature rows, their labels, the patience in trees.
pub(crate) struct Validation<'a> {
    pub rows: &'a DataFrame,
    pub y: &'a [bool],
    pub rounds: usize,
}

/// Monotone-constrained trees on `rows` (read one column at a time); with `validation`, fitting stops once its
/// AUC has not improved for `validation.rounds` trees (every fitted tree is kept).
pub(crate) fn fit_gbdt(rows: &dyn FeatureSource, y: &[bool], weights: Option<&[f64]>, columns: &Columns, params: &super::gbdt::GbdtParams, validation: Option<&Validation>) -> Result<(GbdtFit, f64)> {
    let pre = Preprocessor::fit_raw(rows, columns.numeric, columns.categorical)?;
    let directions: Vec<super::gbdt::Direction> = pre.columns.iter().map(|c| known_direction(columns.registry, c)).collect();
    let (n, cols) = (rows.rows(), pre.columns.len());
    let cm = pre.transform_column_major(rows)?;
    let row0: Vec<f64> = (0..cols).map(|j| cm[j * n]).collect();
    let validation_matrix = validation.map(|v| pre.transform_column_major(v.rows)).transpose()?;
    let mut trees = TreesParams::new(params.clone()).directions(directions.clone());
    if let (Some(v), Some(x)) = (validation, &validation_matrix) {
        let records = ndarray::ArrayView2::from_shape((v.rows.height(), cols).f(), x).map_err(|e| Error::Internal(format!("validation matrix: {e}")))?;
        trees = trees.stop_on(StopOn { records, targets: ndarray::ArrayView1::from(v.y), patience: v.rounds });
    }
    let records = ndarray::ArrayView2::from_shape((n, cols).f(), &cm).map_err(|e| Error::Internal(format!("model matrix: {e}")))?;
    let booster = trees.fit(&dataset(records, y, weights))?.booster;
    drop(cm);
    let fitted = GbdtFit { pre, directions, booster };
    let bias = fitted.bias(&row0)?;
    Ok((fitted, bias))
}

/// The model file's `row_weights`: what multiplied each training row's loss.
fn describe_row_weights(opts: &TrainOptions) -> String {
    let mut parts = Vec::new();
    if opts.inverse_propensity {
        parts.push("inverse propensity of being labelled".to_string());
    }
    if opts.disposition_weight != DEFAULT_DISPOSITION_WEIGHT {
        parts.push(format!("{} on rows labelled by dispositions alone", opts.disposition_weight));
    }
    if parts.is_empty() { "none".into() } else { parts.join("; ") }
}

/// Selection-bias weights for the labelled rows: a gbdt estimates, on every scored subject at
/// the last training date, the probability p(x) that a subject is labelled (has an inspection or
/// penalty in the horizon); each labelled row is weighted 1 / max(p, 0.05), normalised to mean 1,
/// so the fit stands for the whole population rather than the inspected part of it. Valid to the
/// extent that who gets inspected depends on what the features record.
fn inverse_propensity_weights(population: &DataFrame, labelled: &DataFrame, numeric: &[String], categorical: &[String], params: &super::gbdt::GbdtParams) -> Result<Vec<f64>> {
    let keys = |df: &DataFrame| -> Result<Vec<(String, i32)>> {
        let u = df.column("uscc")?.str()?.clone();
        let d = df.column("as_of")?.cast(&DataType::Int32)?.i32()?.clone();
        Ok(u.iter().zip(d.iter()).map(|(u, d)| (u.unwrap_or("").to_string(), d.unwrap_or(0))).collect())
    };
    let seen: std::collections::HashSet<(String, i32)> = keys(labelled)?.into_iter().collect();
    let is_labelled: Vec<bool> = keys(population)?.iter().map(|k| seen.contains(k)).collect();
    let pre = Preprocessor::fit_raw(population, numeric, categorical)?;
    let cols = pre.columns.len();
    let x = pre.transform_column_major(population)?;
    let propensity_params = super::gbdt::GbdtParams { iterations: 100, ..params.clone() };
    let booster = super::gbdt::fit(&x, population.height(), cols, &is_labelled, None, &vec![0; cols], &propensity_params, None)?;
    drop(x);
    let booster = super::gbdt::load(&booster)?;
    let raw = super::gbdt::raw_scores(&booster, &pre.transform_column_major(labelled)?, labelled.height(), cols);
    let w: Vec<f64> = raw.iter().map(|z| 1.0 / (1.0 / (1.0 + (-z).exp())).max(0.05)).collect();
    let mean = w.iter().sum::<f64>() / w.len().max(1) as f64;
    Ok(w.into_iter().map(|v| v / mean).collect())
}

/// The feature columns of a features frame (everything but keys and labels).
pub fn features_schema(df: &DataFrame) -> Vec<String> {
    feature_names(df.get_column_names().into_iter().map(|n| n.as_str()))
}

/// [`features_schema`] of column names.
fn feature_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names
        .map(|n| n.to_string())
        .filter(|n| !matches!(n.as_str(), "uscc" | "as_of" | "sid" | "oracle") && !LABEL_COLUMNS.contains(&n.as_str()))
        .collect()
}
