//! Hyper-parameters chosen on time. The validation date is the last training date T_val; the
//! candidates are fitted on the training dates whose label windows end by T_val (t + H ≤ T_val)
//! and judged by their AUC on T_val's labelled rows. The calibration and test dates are never
//! seen: a change of their labels changes no choice (tested). The chosen values are then
//! fitted on every training date (T_val included) by `train::fit`.
//!
//! The scorecard's l2, and the points scorecard's, are chosen from [`Search::l2`]. The trees are chosen in two stages: depth
//! × minimum leaf weight at the first learning rate, then the other learning rates at the best
//! pair; every candidate stops early (its validation AUC has not improved for
//! [`Search::patience`] trees, at most [`Search::max_trees`]) and keeps the number of trees
//! that was best on validation. Ties go to the simpler candidate: grids are listed simplest
//! first and a later candidate must be strictly better.

use polars::prelude::*;

use super::gbdt::GbdtParams;
use super::logistic::LogisticParams;
use super::train::{fit_gbdt, fit_logistic, Columns, TrainKind, TrainOptions, Validation};
use super::ModelKind;
use crate::dates;
use crate::error::{Error, Result};

/// The grids searched; a grid of one value fixes that hyper-parameter (a flag of
/// `riskwarn train` does that).
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Scorecard and points scorecard: the L2 penalty weight, strongest first.
    pub l2: Vec<f64>,
    /// Trees: the maximum depth, shallowest first.
    pub max_depth: Vec<usize>,
    /// Trees: the minimum sum of hessians in a leaf, largest (smoothest) first.
    pub min_leaf_weight: Vec<f64>,
    /// Trees: learning rates; the first is the one of the first stage.
    pub learning_rate: Vec<f64>,
    /// Trees: at most this many while stopping early; None: exactly `GbdtParams::iterations`.
    pub max_trees: Option<usize>,
    /// Trees: stop once the validation AUC has not improved for this many trees.
    pub patience: usize,
    /// Candidate rows used at most (evenly spaced), and validation rows at most: above them
    /// the search judges on a sample, the final fit still uses every row.
    pub max_rows: usize,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            l2: vec![10_000.0, 1_000.0, 100.0, 10.0, 1.0, 0.1],
            max_depth: vec![1, 2, 3, 4, 6],
            min_leaf_weight: vec![80.0, 20.0, 5.0],
            learning_rate: vec![0.1, 0.05, 0.2],
            max_trees: Some(500),
            patience: 50,
            max_rows: 100_000,
        }
    }
}

impl Search {
    /// Every value of every grid passes the parameter checks of the fits.
    pub fn check(&self, logistic: &LogisticParams, gbdt: &GbdtParams) -> Result<()> {
        if self.l2.is_empty() || self.max_depth.is_empty() || self.min_leaf_weight.is_empty() || self.learning_rate.is_empty() {
            return Err(Error::BadArgument("every hyper-parameter grid needs at least one value".into()));
        }
        for l2 in &self.l2 {
            LogisticParams { l2: *l2, ..logistic.clone() }.check()?;
        }
        for &max_depth in &self.max_depth {
            for &min_leaf_weight in &self.min_leaf_weight {
                for &learning_rate in &self.learning_rate {
                    let iterations = self.max_trees.unwrap_or(gbdt.iterations);
                    GbdtParams { max_depth, min_leaf_weight, learning_rate, iterations, ..gbdt.clone() }.check()?;
                }
            }
        }
        if self.patience == 0 || self.max_rows < 2 {
            return Err(Error::BadArgument("the search needs a patience of at least one tree and at least two rows".into()));
        }
        Ok(())
    }
}

/// What the search did, stored in the model file and shown by `riskwarn train`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// The last training date, whose labelled rows judged the candidates.
    pub validation_as_of: String,
    /// The training dates the candidates were fitted on (label windows ending by T_val).
    pub candidate_train_as_of: Vec<String>,
    pub candidate_rows: usize,
    pub validation_rows: usize,
    pub validation_positives: usize,
    /// The rule: `AUC on the validation date's labelled rows`.
    pub metric: String,
    /// Why nothing was chosen (then the given or default values were used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_chosen: Option<NotChosen>,
    /// Every candidate in the order fitted; `chosen` marks the best of each kind.
    pub candidates: Vec<Candidate>,
    /// The kind kept: the one trained (`--kind auto`: the better of the kinds on validation).
    pub kept: ModelKind,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    pub kind: ModelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_leaf_weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Trees: the number kept (the best on validation) and the number fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees_fitted: Option<usize>,
    pub auc: f64,
    pub chosen: bool,
    /// Trees, chosen candidates only: the validation AUC by number of trees, (trees, AUC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<(usize, f64)>,
}

/// Why a search could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotChosen {
    /// No training date's label window ends by the validation date (too little history).
    NoCandidateDates,
    /// The candidate or the validation rows hold one outcome only.
    OneOutcome,
}

impl NotChosen {
    pub fn code(self) -> &'static str {
        match self {
            NotChosen::NoCandidateDates => "no_candidate_dates",
            NotChosen::OneOutcome => "one_outcome",
        }
    }
}

/// The rule candidates are judged by.
pub const METRIC: &str = "AUC on the validation date's labelled rows";

/// The kind and hyper-parameters to fit on every training date, and the record of the choice.
pub(crate) struct Chosen {
    pub kind: ModelKind,
    pub logistic: LogisticParams,
    /// The points scorecard's logistic fit on WoE.
    pub points: LogisticParams,
    pub gbdt: GbdtParams,
    pub selection: Selection,
}

/// Rows `0..n` at most `max` of them, evenly spaced (all when n ≤ max).
fn spaced(rows: Vec<IdxSize>, max: usize) -> Vec<IdxSize> {
    if rows.len() <= max {
        return rows;
    }
    let step = rows.len().div_ceil(max);
    rows.into_iter().step_by(step).collect()
}

/// Chooses the hyper-parameters of `opts.kind` (every kind for auto) on the training rows alone.
pub(crate) fn choose(train_rows: &super::rows::Rows, y: &[bool], weights: Option<&[f64]>, train_dates: &[i32], h: i32, columns: &Columns, opts: &TrainOptions) -> Result<Chosen> {
    let search = &opts.search;
    let t_val = *train_dates.last().ok_or_else(|| Error::BadArgument("the panel has no training date".into()))?;
    let candidate_dates: Vec<i32> = train_dates.iter().copied().filter(|t| t + h <= t_val).collect();
    let as_of: Vec<i32> = train_rows.columns(&["as_of"])?.column("as_of")?.cast(&DataType::Int32)?.i32()?.iter().map(|v| v.unwrap_or(i32::MIN)).collect();
    let pick = |keep: &dyn Fn(i32) -> bool| -> Vec<IdxSize> { (0..as_of.len()).filter(|&i| keep(as_of[i])).map(|i| i as IdxSize).collect() };
    let candidate_idx = spaced(pick(&|t| candidate_dates.contains(&t)), search.max_rows);
    let validation_idx = spaced(pick(&|t| t == t_val), search.max_rows);
    let labels_of = |idx: &[IdxSize]| -> Vec<bool> { idx.iter().map(|&i| y[i as usize]).collect() };
    let (y_candidate, y_validation) = (labels_of(&candidate_idx), labels_of(&validation_idx));
    let positives = |v: &[bool]| v.iter().filter(|b| **b).count();
    let default_kind = match opts.kind {
        TrainKind::Gbdt => ModelKind::Gbdt,
        TrainKind::Points => ModelKind::Points,
        TrainKind::Logistic | TrainKind::Auto => ModelKind::Logistic,
    };
    let mut selection = Selection {
        validation_as_of: dates::format(t_val),
        candidate_train_as_of: candidate_dates.iter().map(|d| dates::format(*d)).collect(),
        candidate_rows: candidate_idx.len(),
        validation_rows: validation_idx.len(),
        validation_positives: positives(&y_validation),
        metric: METRIC.into(),
        not_chosen: None,
        candidates: Vec::new(),
        kept: default_kind,
    };
    let both = |v: &[bool]| positives(v) > 0 && positives(v) < v.len();
    let unchosen = if candidate_dates.is_empty() {
        Some(NotChosen::NoCandidateDates)
    } else if !both(&y_candidate) || !both(&y_validation) {
        Some(NotChosen::OneOutcome)
    } else {
        None
    };
    let base_gbdt = |max_depth, min_leaf_weight, learning_rate| GbdtParams {
        max_depth,
        min_leaf_weight,
        learning_rate,
        iterations: search.max_trees.unwrap_or(opts.gbdt.iterations),
        ..opts.gbdt.clone()
    };
    if let Some(reason) = unchosen {
        selection.not_chosen = Some(reason);
        return Ok(Chosen { kind: default_kind, logistic: opts.params.clone(), points: opts.params.clone(), gbdt: opts.gbdt.clone(), selection });
    }
    let take = |idx: &[IdxSize]| -> Result<DataFrame> { train_rows.take(idx) };
    let (candidates, validation) = (take(&candidate_idx)?, take(&validation_idx)?);
    let w_candidate: Option<Vec<f64>> = weights.map(|w| candidate_idx.iter().map(|&i| w[i as usize]).collect());
    let w_candidate = w_candidate.as_deref();

    let (mut logistic, mut points, mut gbdt) = (opts.params.clone(), opts.params.clone(), opts.gbdt.clone());
    let mut best: Vec<(ModelKind, f64)> = Vec::new();
    if matches!(opts.kind, TrainKind::Logistic | TrainKind::Auto) {
        let score = |l2: f64| -> Result<Vec<f64>> {
            let params = LogisticParams { l2, ..opts.params.clone() };
            fit_logistic(&candidates, &y_candidate, w_candidate, columns, &params)?.raw_scores(&validation)
        };
        let (l2, auc) = choose_l2(ModelKind::Logistic, &search.l2, &y_validation, &mut selection, score)?;
        logistic.l2 = l2;
        best.push((ModelKind::Logistic, auc));
    }
    if matches!(opts.kind, TrainKind::Points | TrainKind::Auto) {
        let score = |l2: f64| -> Result<Vec<f64>> {
            let params = super::points::PointsParams { binning: opts.binning.clone(), logistic: LogisticParams { l2, ..opts.params.clone() } };
            super::train::fit_points(&candidates, &y_candidate, w_candidate, columns, params)?.raw_scores(&validation)
        };
        let (l2, auc) = choose_l2(ModelKind::Points, &search.l2, &y_validation, &mut selection, score)?;
        points.l2 = l2;
        best.push((ModelKind::Points, auc));
    }
    if matches!(opts.kind, TrainKind::Gbdt | TrainKind::Auto) {
        let first = selection.candidates.len();
        let validation_set = Validation { rows: &validation, y: &y_validation, rounds: search.patience };
        let try_gbdt = |params: GbdtParams, selection: &mut Selection| -> Result<()> {
            let early = search.max_trees.map(|_| &validation_set);
            let (fitted, _) = fit_gbdt(&candidates, &y_candidate, w_candidate, columns, &params, early)?;
            let x = fitted.pre.transform_column_major(&validation)?;
            let curve = super::gbdt::curve(&fitted.booster, &x, validation.height(), &y_validation)?;
            let fitted_trees = curve.last().map_or(0, |p| p.0);
            // Early stopping keeps the best number of trees; fixed trees are used as given.
            let (trees, auc) = if search.max_trees.is_some() {
                curve.iter().fold((0, f64::NEG_INFINITY), |b, p| if p.1 > b.1 { *p } else { b })
            } else {
                curve.last().copied().unwrap_or((params.iterations, 0.5))
            };
            selection.candidates.push(Candidate {
                kind: ModelKind::Gbdt,
                l2: None,
                max_depth: Some(params.max_depth),
                min_leaf_weight: Some(params.min_leaf_weight),
                learning_rate: Some(params.learning_rate),
                trees: Some(trees),
                trees_fitted: Some(fitted_trees),
                auc,
                chosen: false,
                curve,
            });
            Ok(())
        };
        for &max_depth in &search.max_depth {
            for &min_leaf_weight in &search.min_leaf_weight {
                try_gbdt(base_gbdt(max_depth, min_leaf_weight, search.learning_rate[0]), &mut selection)?;
            }
        }
        let stage_one = best_of(&selection.candidates[first..]) + first;
        let (depth, leaf) = (selection.candidates[stage_one].max_depth.expect("depth"), selection.candidates[stage_one].min_leaf_weight.expect("leaf"));
        for &learning_rate in &search.learning_rate[1..] {
            try_gbdt(base_gbdt(depth, leaf, learning_rate), &mut selection)?;
        }
        let i = best_of(&selection.candidates[first..]) + first;
        selection.candidates[i].chosen = true;
        let c = &selection.candidates[i];
        gbdt = GbdtParams {
            max_depth: c.max_depth.expect("depth"),
            min_leaf_weight: c.min_leaf_weight.expect("leaf"),
            learning_rate: c.learning_rate.expect("rate"),
            iterations: c.trees.expect("trees").max(1),
            ..opts.gbdt.clone()
        };
        best.push((ModelKind::Gbdt, c.auc));
        // Only the chosen candidate's curve is kept in the model file.
        for (j, c) in selection.candidates.iter_mut().enumerate() {
            if j != i {
                c.curve.clear();
            }
        }
    }
    // The scorecard comes first, then the points scorecard: a later kind must be strictly
    // better to be kept.
    let kept = best.iter().fold(best[0], |b, k| if k.1 > b.1 { *k } else { b }).0;
    selection.kept = kept;
    Ok(Chosen { kind: kept, logistic, points, gbdt, selection })
}

/// The l2 of a linear kind (scorecard or points scorecard): every value of `grid` is scored on
/// the validation rows by `score`, recorded as a candidate, and the best is marked chosen.
/// Returns the chosen l2 and its validation AUC.
fn choose_l2(kind: ModelKind, grid: &[f64], y: &[bool], selection: &mut Selection, score: impl Fn(f64) -> Result<Vec<f64>>) -> Result<(f64, f64)> {
    let first = selection.candidates.len();
    for &l2 in grid {
        let auc = crate::metrics::auc(&score(l2)?, y).unwrap_or(0.5);
        selection.candidates.push(Candidate { kind, l2: Some(l2), max_depth: None, min_leaf_weight: None, learning_rate: None, trees: None, trees_fitted: None, auc, chosen: false, curve: Vec::new() });
    }
    let i = best_of(&selection.candidates[first..]) + first;
    selection.candidates[i].chosen = true;
    Ok((grid[i - first], selection.candidates[i].auc))
}

/// The index of the first candidate with the highest AUC.
fn best_of(candidates: &[Candidate]) -> usize {
    let mut best = 0;
    for (i, c) in candidates.iter().enumerate() {
        if c.auc > candidates[best].auc {
            best = i;
        }
    }
    best
}
