//! Models: serde JSON carrying the feature schema they expect, the fitted preprocessing, the
//! coefficients and the calibration. Loading a model against data whose features differ is a
//! clear error (exit 2). A scorecard score splits exactly into per-feature contributions.

pub mod binning;
pub mod calibration;
pub mod estimators;
pub mod gbdt;
pub mod logistic;
pub mod matrix;
pub mod points;
pub mod rows;
pub mod select;
pub mod train;

use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::features::FeatureOptions;
use crate::options::Valid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// L2-regularised logistic regression on standardised features (a scorecard).
    Logistic,
    /// Gradient-boosted trees (forust-ml) with monotone constraints and path-contribution reasons.
    Gbdt,
    /// A points scorecard: monotone binning, weight of evidence, logistic fit on WoE, points per bin.
    Points,
}

impl ModelKind {
    /// The model id's prefix.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::Gbdt => "gbdt",
            ModelKind::Points => "points",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub model_id: String,
    pub kind: ModelKind,
    pub engine_version: String,
    /// Input features the model reads, and a hash of their names in order and of the options
    /// they were computed with.
    pub features: Vec<String>,
    pub schema_hash: String,
    /// The feature options (windows, observation period, peer grouping) of training: scoring
    /// under other options would change what the features mean.
    pub feature_options: Valid<FeatureOptions>,
    pub preprocessing: matrix::Preprocessor,
    /// Logistic: one coefficient per matrix column (`preprocessing.columns`), in log-odds.
    pub coefficients: Vec<f64>,
    /// Logistic: the matrix columns whose coefficient was constrained to the sign of their
    /// feature's declared direction (≥ 0 for `increasing`, ≤ 0 for `decreasing`).
    #[serde(default)]
    pub sign_constraints: Vec<String>,
    /// Logistic: the intercept; gbdt: the contributions' bias (the same for every row), in log-odds.
    pub intercept: f64,
    /// Gbdt: hyper-parameters, monotone directions per matrix column, the booster (forust JSON).
    #[serde(default)]
    pub gbdt: Option<GbdtPart>,
    /// Points: the bins, WoE, coefficients and points of every feature (absent for other kinds).
    /// `coefficients` and `intercept` repeat its β and β₀ over the `woe` matrix columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<points::PointsPart>,
    /// How training rows were weighted: `none`, or `inverse propensity of being labelled`
    /// (docs/model.md). Calibration is fitted after, on unweighted held-out rows.
    #[serde(default)]
    pub row_weights: String,
    /// Where the training labels came from (`riskwarn train --labels`); absent in the file when
    /// it is the default, inspections and penalties alone (so such model files are unchanged).
    #[serde(default = "default_label_sources", skip_serializing_if = "is_default_label_sources")]
    pub label_sources: Vec<crate::labels::LabelSource>,
    /// The weight of a training row labelled by dispositions alone (`--disposition-weight`);
    /// absent in the file when 1.
    #[serde(default = "default_disposition_weight", skip_serializing_if = "is_default_disposition_weight")]
    pub disposition_weight: f64,
    pub calibration: calibration::Platt,
    pub calibration_method: String,
    pub params: logistic::LogisticParams,
    /// How the hyper-parameters (and with `--kind auto` the kind) were chosen on the validation
    /// date: the candidates, their validation AUC, the trees' validation curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<select::Selection>,
    pub horizon_days: i32,
    pub train_as_of: Vec<String>,
    pub calibration_as_of: String,
    pub test_as_of: String,
    /// Matrix columns whose fitted sign runs against the expected direction (reported).
    pub direction_warnings: Vec<String>,
    pub backtest: train::Backtest,
    /// Distributions of the score and of the most important features on the scored population
    /// of the last training date: the baseline of the stability (PSI) check at scoring time.
    #[serde(default)]
    pub baseline: Option<Baseline>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub as_of: String,
    pub rows: usize,
    pub score: crate::metrics::Distribution,
    /// The features with the largest coefficients (importance order).
    pub features: Vec<(String, crate::metrics::Distribution)>,
}

/// The rows of a population counted per bin of the model's stability baseline: the scores,
/// and each baseline feature's values (in [`Model::stability_features`] order). Parts add up.
#[derive(Debug, Clone, Default)]
pub struct StabilityCounts {
    pub score: Option<Vec<f64>>,
    pub features: Vec<Vec<f64>>,
}

impl StabilityCounts {
    /// Adds the rows of one part: their `scores`, and per baseline feature their `values`.
    pub fn add(&mut self, model: &Model, values: &[Vec<Option<f64>>], scores: &[f64]) {
        let Some(b) = &model.baseline else { return };
        let scores: Vec<Option<f64>> = scores.iter().copied().map(Some).collect();
        let sum = |acc: &mut Vec<f64>, part: Vec<f64>| {
            if acc.is_empty() {
                *acc = part;
            } else {
                acc.iter_mut().zip(part).for_each(|(a, p)| *a += p);
            }
        };
        sum(self.score.get_or_insert_with(Vec::new), b.score.counts(&scores));
        self.features.resize(b.features.len(), Vec::new());
        for ((acc, (_, d)), v) in self.features.iter_mut().zip(&b.features).zip(values) {
            sum(acc, d.counts(v));
        }
    }
}

/// PSI above this: the population has moved; the model needs a look (and likely retraining).
pub const PSI_ALERT: f64 = 0.25;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stability {
    pub name: String,
    pub psi: f64,
    pub alert: bool,
}

/// Scores and the top contributions of every row; reasons are `top` consecutive entries per row.
#[derive(Debug, Clone, Default)]
pub struct Explained {
    /// Input feature names; `feature` indexes into them.
    pub names: Vec<String>,
    pub top: usize,
    pub score: Vec<f64>,
    pub feature: Vec<u32>,
    /// The feature's value (null for a missing value or a categorical feature).
    pub value: Vec<Option<f64>>,
    /// In calibrated log-odds.
    pub contribution: Vec<f64>,
}

impl Explained {
    fn with_capacity(rows: usize, top: usize) -> Self {
        Explained {
            names: Vec::new(),
            top,
            score: Vec::with_capacity(rows),
            feature: Vec::with_capacity(rows * top),
            value: Vec::with_capacity(rows * top),
            contribution: Vec::with_capacity(rows * top),
        }
    }
}

enum Input {
    Number(Vec<f64>),
    Category(Vec<Option<String>>),
}

pub(crate) fn numeric_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name)?;
    if c.dtype() == &DataType::String {
        return Ok(vec![None; df.height()]);
    }
    Ok(c.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.filter(|x| x.is_finite())).collect())
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GbdtPart {
    pub params: gbdt::GbdtParams,
    /// +1 / −1 / 0 per matrix column: the monotone constraint the trees were fitted under.
    pub directions: Vec<gbdt::Direction>,
    pub booster: String,
}

fn default_label_sources() -> Vec<crate::labels::LabelSource> {
    crate::labels::DEFAULT_LABEL_SOURCES.to_vec()
}

fn is_default_label_sources(sources: &[crate::labels::LabelSource]) -> bool {
    sources == crate::labels::DEFAULT_LABEL_SOURCES
}

fn default_disposition_weight() -> f64 {
    train::DEFAULT_DISPOSITION_WEIGHT
}

fn is_default_disposition_weight(w: &f64) -> bool {
    *w == train::DEFAULT_DISPOSITION_WEIGHT
}

pub fn schema_hash(features: &[String], options: &FeatureOptions) -> String {
    let options = serde_json::to_string(options).expect("feature options serialise");
    let digest = Sha256::digest(format!("{}\n{options}", features.join("\n")).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Model {
    /// The raw score (log-odds before calibration) of every row of a model matrix.
    pub fn raw_scores(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        Ok(match &self.gbdt {
            Some(g) => gbdt::raw_scores(&gbdt::load(&g.booster)?, &gbdt::column_major(x), x.nrows(), x.ncols()),
            None => x.rows().into_iter().map(|r| self.intercept + r.iter().zip(&self.coefficients).map(|(v, w)| v * w).sum::<f64>()).collect(),
        })
    }

    /// A clear error (exit 2) when features would be computed under other options than the
    /// model's (`source` says where those come from, e.g. the policy file): each differing
    /// option with both values, and what to do.
    pub fn require_feature_options(&self, options: &FeatureOptions, source: &str) -> Result<()> {
        let diffs = self.feature_options.differences(options);
        if diffs.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = diffs.iter().map(|(name, model, theirs)| format!("features.{name} = {theirs} in {source}, {model} in the model")).collect();
        Err(Error::BadArgument(format!(
            "model {} was trained under other feature options than {source} sets: {}; retrain the model under this policy (riskwarn train --policy …), or set the model's values in {source}",
            self.model_id,
            list.join("; ")
        )))
    }

    /// A clear error (exit 2) naming every feature the model needs that the data lacks.
    fn require_features(&self, features: &DataFrame) -> Result<()> {
        let missing: Vec<&String> = self.features.iter().filter(|f| features.column(f).is_err()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::BadArgument(format!(
            "model {} expects features the data does not have ({}); retrain the model or supply those tables",
            self.model_id,
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )))
    }

    pub fn matrix(&self, features: &DataFrame) -> Result<Array2<f64>> {
        self.require_features(features)?;
        match &self.points {
            Some(p) => p.woe_matrix(features),
            None => self.preprocessing.transform(features),
        }
    }

    /// Points: every row's scorecard points (base points + its bins' points); None for other kinds.
    pub fn points(&self, features: &DataFrame) -> Result<Option<Vec<f64>>> {
        self.require_features(features)?;
        self.points.as_ref().map(|p| p.points(features)).transpose()
    }

    /// Calibrated probabilities of a violation within the horizon.
    pub fn score(&self, features: &DataFrame) -> Result<Vec<f64>> {
        let x = self.matrix(features)?;
        Ok(self.raw_scores(&x)?.into_iter().map(|z| self.calibration.apply(z)).collect())
    }

    /// Calibrated scores with exact per-feature contributions in calibrated log-odds: for every
    /// row, `base_logit() + Σ contributions = logit(score)`. A feature's contribution sums its
    /// matrix columns (value, missing indicator, category levels); 0 means "at the training mean".
    /// Rows are processed in parallel chunks, so memory stays bounded at any scale.
    pub fn explain(&self, features: &DataFrame, top: usize) -> Result<Explained> {
        let names = self.preprocessing.features();
        let n = features.height();
        let top = top.min(names.len());
        let slope = self.calibration.a;
        let base = self.base_logit();
        self.require_features(features)?;
        // A chunk's input columns as contiguous values: f64 (NaN = null) or the category string.
        // Extracted per chunk, so no full copy of the feature table is ever held.
        let inputs_of = |rows: &std::ops::Range<usize>| -> Result<Vec<Input>> {
            names
                .iter()
                .map(|f| {
                    let c = features.column(f)?.slice(rows.start as i64, rows.len());
                    Ok(if c.dtype() == &DataType::String {
                        Input::Category(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
                    } else {
                        Input::Number(c.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                    })
                })
                .collect()
        };
        // Matrix column j → its input feature's index.
        let column_feature: Vec<usize> = self
            .preprocessing
            .columns
            .iter()
            .map(|c| names.iter().position(|n| n == c.feature()).expect("feature of a column"))
            .collect();
        // Logistic: (input feature, column, contribution per unit of its transformed value).
        let terms: Vec<(usize, &matrix::MatrixColumn, f64)> = column_feature
            .iter()
            .zip(&self.preprocessing.columns)
            .zip(&self.coefficients)
            .map(|((f, c), w)| (*f, c, slope * w))
            .collect();
        let booster = self.gbdt.as_ref().map(|g| gbdt::load(&g.booster)).transpose()?;
        const CHUNK: usize = 1 << 14;
        let parts: Vec<Result<Explained>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..((c + 1) * CHUNK).min(n);
                let len = rows.len();
                let inputs = inputs_of(&rows)?;
                // contributions[f * len + r], filled column by column (sequential memory access).
                let mut contrib = vec![0.0f64; names.len() * len];
                if let Some(p) = &self.points {
                    let woe = p.woe_columns(&features.slice(rows.start as i64, len))?;
                    for ((j, w), f) in woe.iter().enumerate().zip(&p.features) {
                        let out = &mut contrib[column_feature[j] * len..(column_feature[j] + 1) * len];
                        out.iter_mut().zip(w).for_each(|(o, w)| *o += slope * f.coefficient * w);
                    }
                }
                if let Some(booster) = &booster {
                    // Path contributions per matrix column (+ bias), summed per input feature.
                    let x = self.preprocessing.transform(&features.slice(rows.start as i64, len))?;
                    let m = x.ncols();
                    let c = gbdt::contributions(booster, &gbdt::column_major(&x), len, m);
                    for r in 0..len {
                        for (j, f) in column_feature.iter().enumerate() {
                            contrib[f * len + r] += slope * c[r * (m + 1) + j];
                        }
                    }
                }
                for &(f, column, w) in terms.iter().filter(|_| booster.is_none()) {
                    let out = &mut contrib[f * len..(f + 1) * len];
                    match (column, &inputs[f]) {
                        (matrix::MatrixColumn::Numeric { median, mean, std, .. }, Input::Number(v)) => {
                            for (o, x) in out.iter_mut().zip(v) {
                                let x = if x.is_finite() { *x } else { *median };
                                *o += w * ((x.asinh() - mean) / std).clamp(-matrix::CLIP, matrix::CLIP);
                            }
                        }
                        (matrix::MatrixColumn::Missing { .. }, Input::Number(v)) => {
                            for (o, x) in out.iter_mut().zip(v) {
                                if !x.is_finite() {
                                    *o += w;
                                }
                            }
                        }
                        (matrix::MatrixColumn::Level { level, .. }, Input::Category(v)) => {
                            for (o, x) in out.iter_mut().zip(v) {
                                if x.as_deref() == Some(level.as_str()) {
                                    *o += w;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                let mut out = Explained::with_capacity(len, top);
                let mut best: Vec<(f64, usize)> = Vec::with_capacity(top + 1);
                for r in 0..len {
                    let mut logit = base;
                    best.clear();
                    for f in 0..names.len() {
                        let v = contrib[f * len + r];
                        logit += v;
                        // Keep the `top` largest, ties to the earlier feature.
                        if best.len() < top || v > best[best.len() - 1].0 {
                            let at = best.partition_point(|(b, _)| *b >= v);
                            best.insert(at, (v, f));
                            best.truncate(top);
                        }
                    }
                    out.score.push(1.0 / (1.0 + (-logit).exp()));
                    for &(v, f) in &best {
                        out.feature.push(f as u32);
                        out.value.push(match &inputs[f] {
                            Input::Number(x) => Some(x[r]).filter(|x| x.is_finite()),
                            Input::Category(_) => None,
                        });
                        out.contribution.push(v);
                    }
                }
                Ok(out)
            })
            .collect();
        let mut all = Explained::with_capacity(n, top);
        all.names = names;
        all.top = top;
        for p in parts {
            let p = p?;
            all.score.extend(p.score);
            all.feature.extend(p.feature);
            all.value.extend(p.value);
            all.contribution.extend(p.contribution);
        }
        Ok(all)
    }

    /// Scores' and top features' distributions for the stability baseline.
    pub fn fit_baseline(&self, features: &rows::Rows, as_of: &str, top: usize) -> Result<Baseline> {
        // Part by part: the model matrix of one part at a time, not of the whole population.
        let mut scores: Vec<Option<f64>> = Vec::with_capacity(features.height());
        for part in features.parts() {
            scores.extend(self.score(&part?)?.into_iter().map(Some));
        }
        let mut importance: Vec<(f64, &str)> = Vec::new();
        match &self.gbdt {
            Some(g) => {
                let gains = gbdt::load(&g.booster)?.calculate_feature_importance(forust_ml::gradientbooster::ImportanceMethod::TotalGain, true);
                for (j, c) in self.preprocessing.columns.iter().enumerate() {
                    if let matrix::MatrixColumn::Raw { feature } = c {
                        importance.push((gains.get(&j).copied().unwrap_or(0.0) as f64, feature));
                    }
                }
            }
            None => {
                for (c, w) in self.preprocessing.columns.iter().zip(&self.coefficients) {
                    if let matrix::MatrixColumn::Numeric { feature, .. } = c {
                        importance.push((w.abs(), feature));
                    }
                }
                // Points: a feature's spread of points, β·(largest − smallest WoE), numeric only.
                for f in self.points.iter().flat_map(|p| &p.features).filter(|f| f.bins.direction_source != binning::DirectionSource::Unordered) {
                    let (lo, hi) = f.bins.bins.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), b| (lo.min(b.woe), hi.max(b.woe)));
                    importance.push((f.coefficient * (hi - lo), &f.bins.feature));
                }
            }
        }
        importance.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let mut out = Vec::new();
        for (_, f) in importance.into_iter().take(top) {
            out.push((f.to_string(), crate::metrics::Distribution::fit(&numeric_values(&features.columns(&[f])?, f)?, 10)));
        }
        Ok(Baseline { as_of: as_of.into(), rows: features.height(), score: crate::metrics::Distribution::fit(&scores, 10), features: out })
    }

    /// The features of the stability baseline (none without one).
    pub fn stability_features(&self) -> Vec<&str> {
        self.baseline.iter().flat_map(|b| b.features.iter().map(|(f, _)| f.as_str())).collect()
    }

    /// PSI of the scores and the baseline's features against the model's baseline (empty
    /// without one), from the values of the [`stability_features`](Self::stability_features), in
    /// any row order (the PSI counts rows per bin).
    pub fn stability_of(&self, values: &[Vec<Option<f64>>], scores: &[f64]) -> Vec<Stability> {
        let mut counts = StabilityCounts::default();
        counts.add(self, values, scores);
        self.stability_of_counts(&counts)
    }

    /// [`Model::stability_of`] the rows counted into `counts`, of any number of parts.
    pub fn stability_of_counts(&self, counts: &StabilityCounts) -> Vec<Stability> {
        let Some(b) = &self.baseline else { return Vec::new() };
        let mut out = Vec::new();
        let mut push = |name: &str, psi: f64| out.push(Stability { name: name.into(), psi, alert: psi > PSI_ALERT });
        let of = |d: &crate::metrics::Distribution, c: Option<&Vec<f64>>| d.psi_of_counts(&c.cloned().unwrap_or_else(|| d.counts(&[])), b.rows);
        push("score", of(&b.score, counts.score.as_ref()));
        for (j, (f, d)) in b.features.iter().enumerate() {
            push(f, of(d, counts.features.get(j)));
        }
        out
    }

    /// The calibrated log-odds of a row whose every feature sits at the training mean.
    pub fn base_logit(&self) -> f64 {
        self.calibration.a * self.intercept + self.calibration.b
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_json(self, path)
    }

    pub fn load(path: &Path) -> Result<Model> {
        let text = crate::io::read_text(path)?;
        let model: Model = serde_json::from_str(&text).map_err(|e| Error::bad_file(path, format!("not a riskwarn model: {e}")))?;
        if schema_hash(&model.features, &model.feature_options) != model.schema_hash {
            return Err(Error::bad_file(path, "feature schema hash does not match the model's feature list and options"));
        }
        train::check_label_sources(&model.label_sources).map_err(|e| Error::bad_file(path, format!("label_sources: {e}")))?;
        let registry = crate::features::Registry::all(&model.feature_options);
        if let Some(unknown) = model.features.iter().find(|f| registry.get(f).is_none()) {
            return Err(Error::bad_file(path, format!("the model reads feature `{unknown}`, which this riskwarn version does not compute; retrain the model")));
        }
        match (&model.kind, &model.gbdt) {
            (ModelKind::Logistic, _) if model.coefficients.len() != model.preprocessing.columns.len() => {
                return Err(Error::bad_file(path, "coefficients do not match the model's matrix columns"));
            }
            (ModelKind::Gbdt, None) => return Err(Error::bad_file(path, "a gbdt model without its booster")),
            (ModelKind::Gbdt, Some(g)) => {
                gbdt::load(&g.booster).map_err(|e| Error::bad_file(path, e.to_string()))?;
            }
            _ => {}
        }
        match (&model.kind, &model.points) {
            (ModelKind::Points, None) => return Err(Error::bad_file(path, "a points model without its scorecard (`points`)")),
            (ModelKind::Points, Some(p)) => {
                p.check().map_err(|e| Error::bad_file(path, e.to_string()))?;
                if p.names() != model.features || p.coefficients() != model.coefficients {
                    return Err(Error::bad_file(path, "the points scorecard does not match the model's features and coefficients"));
                }
            }
            (_, Some(_)) => return Err(Error::bad_file(path, "a points scorecard (`points`) in a model of another kind")),
            _ => {}
        }
        Ok(model)
    }
}
