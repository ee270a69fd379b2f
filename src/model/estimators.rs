//! The three fits as linfa algorithms, so an analyst can use them from any linfa pipeline and
//! `riskwarn train` uses them the same way: unchecked parameters whose `check()` (linfa's
//! `ParamGuard`) returns the only type `Fit` accepts, a linfa `Dataset` as records, targets
//! (`bool`, true = violation) and weights, and the fitted model's `Predict` giving calibrated-
//! free probabilities σ(log-odds).
//!
//! - [`ScorecardParams`] → [`Scorecard`]: records an `f64` matrix (any layout; read as a view),
//!   the Newton solver of `logistic` with optional ≥ 0 constraints per column.
//! - [`TreesParams`] → [`Trees`]: records an `f64` matrix, NaN = missing (a column-major
//!   matrix is read in place, any other layout is copied once), forust with monotone directions
//!   and optional early stopping on a validation set.
//! - [`PointsScorecardParams`] → `PointsPart`: records a feature table ([`FeatureRows`], the
//!   frame `riskwarn features` writes: binning needs the categorical columns as text).
//!
//! linfa keeps dataset weights as `f32`; they are widened to `f64` for the fits.

use std::borrow::Cow;

use linfa::dataset::{AsSingleTargets, DatasetBase, Records};
use linfa::traits::{Fit, PredictInplace};
use linfa::ParamGuard;
use ndarray::{Array1, ArrayBase, ArrayView1, ArrayView2, Data, Ix2};
use polars::prelude::DataFrame;

use super::gbdt::{self, Direction, GbdtParams};
use super::logistic::{self, LogisticParams};
use super::points::{self, PointsParams, PointsPart};
use crate::error::{Error, Result};
use crate::features::Registry;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The labels as a slice: in place when they are contiguous.
fn labels<'a, T: AsSingleTargets<Elem = bool>>(targets: &'a T) -> Cow<'a, [bool]> {
    let view = targets.as_single_targets();
    match view.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(view.to_vec()),
    }
}

fn weights<R: Records, T>(dataset: &DatasetBase<R, T>) -> Option<Vec<f64>> {
    dataset.weights().map(|w| w.iter().map(|v| *v as f64).collect())
}

fn same_rows(records: usize, targets: usize) -> Result<()> {
    if records != targets {
        return Err(linfa::error::Error::MismatchedShapes(records, targets).into());
    }
    Ok(())
}

/// A dataset of `records` with the labels `y` (a view, no copy) and, when given, the row
/// weights (stored as linfa's `f32`).
pub fn dataset<'y, R: Records>(records: R, y: &'y [bool], weights: Option<&[f64]>) -> DatasetBase<R, ArrayView1<'y, bool>> {
    let d = DatasetBase::new(records, ArrayView1::from(y));
    match weights {
        Some(w) => d.with_weights(w.iter().map(|v| *v as f32).collect()),
        None => d,
    }
}

// ---- the scorecard ----

/// The scorecard's checked parameters: the solver's and, per column, whether its coefficient
/// is constrained to ≥ 0 (empty = none).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidScorecardParams {
    pub logistic: LogisticParams,
    pub nonnegative: Vec<bool>,
}

/// The scorecard's unchecked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorecardParams(ValidScorecardParams);

impl ScorecardParams {
    pub fn new(logistic: LogisticParams) -> Self {
        ScorecardParams(ValidScorecardParams { logistic, nonnegative: Vec::new() })
    }
    pub fn l2(mut self, l2: f64) -> Self {
        self.0.logistic.l2 = l2;
        self
    }
    pub fn nonnegative(mut self, columns: Vec<bool>) -> Self {
        self.0.nonnegative = columns;
        self
    }
}

impl ParamGuard for ScorecardParams {
    type Checked = ValidScorecardParams;
    type Error = Error;
    fn check_ref(&self) -> Result<&ValidScorecardParams> {
        self.0.logistic.check()?;
        Ok(&self.0)
    }
    fn check(self) -> Result<ValidScorecardParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted scorecard: log-odds = intercept + x · coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub coefficients: Array1<f64>,
    pub intercept: f64,
}

impl Scorecard {
    pub fn log_odds(&self, x: ArrayView2<f64>) -> Array1<f64> {
        x.dot(&self.coefficients) + self.intercept
    }
}

impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, Error> for ValidScorecardParams {
    type Object = Scorecard;
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Scorecard> {
        self.fit_blocks(&dataset.records().view(), &labels(dataset.targets()), weights(dataset))
    }
}

/// The scorecard on a compact matrix (`CompactMatrix`): the same fit, read block by block.
impl<'a, T: AsSingleTargets<Elem = bool>> Fit<&'a super::matrix::CompactMatrix, T, Error> for ValidScorecardParams {
    type Object = Scorecard;
    fn fit(&self, dataset: &DatasetBase<&'a super::matrix::CompactMatrix, T>) -> Result<Scorecard> {
        self.fit_blocks(*dataset.records(), &labels(dataset.targets()), weights(dataset))
    }
}

impl ValidScorecardParams {
    fn fit_blocks<X: logistic::Blocks + ?Sized>(&self, x: &X, y: &[bool], w: Option<Vec<f64>>) -> Result<Scorecard> {
        let (rows, cols) = x.dim();
        same_rows(rows, y.len())?;
        if !self.nonnegative.is_empty() && self.nonnegative.len() != cols {
            return Err(linfa::error::Error::Parameters(format!("{} sign constraints for {} columns", self.nonnegative.len(), cols)).into());
        }
        let (coefficients, intercept) = logistic::fit(x, y, w.as_deref(), &self.nonnegative, &self.logistic)?;
        Ok(Scorecard { coefficients: Array1::from(coefficients), intercept })
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Scorecard {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(x.nrows(), y.len(), "one prediction per row");
        for (o, z) in y.iter_mut().zip(self.log_odds(x.view())) {
            *o = sigmoid(z);
        }
    }
    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

// ---- the trees ----

/// A validation set to stop on: records (same columns as training), labels, patience in trees.
#[derive(Debug, Clone, PartialEq)]
pub struct StopOn<'a> {
    pub records: ArrayView2<'a, f64>,
    pub targets: ArrayView1<'a, bool>,
    pub patience: usize,
}

/// The trees' checked parameters: forust's, the monotone direction per column (empty = none)
/// and an optional validation set for early stopping.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTreesParams<'a> {
    pub gbdt: GbdtParams,
    pub directions: Vec<Direction>,
    pub stop_on: Option<StopOn<'a>>,
}

/// The trees' unchecked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TreesParams<'a>(ValidTreesParams<'a>);

impl<'a> TreesParams<'a> {
    pub fn new(gbdt: GbdtParams) -> Self {
        TreesParams(ValidTreesParams { gbdt, directions: Vec::new(), stop_on: None })
    }
    pub fn directions(mut self, directions: Vec<Direction>) -> Self {
        self.0.directions = directions;
        self
    }
    pub fn stop_on(mut self, stop_on: StopOn<'a>) -> Self {
        self.0.stop_on = Some(stop_on);
        self
    }
}

impl<'a> ParamGuard for TreesParams<'a> {
    type Checked = ValidTreesParams<'a>;
    type Error = Error;
    fn check_ref(&self) -> Result<&ValidTreesParams<'a>> {
        self.0.gbdt.check()?;
        if self.0.directions.iter().any(|d| !(-1..=1).contains(d)) {
            return Err(Error::BadArgument("a monotone direction must be −1, 0 or +1".into()));
        }
        if let Some(s) = &self.0.stop_on {
            if s.patience == 0 || s.records.nrows() != s.targets.len() {
                return Err(Error::BadArgument("early stopping needs a patience of at least one tree and one label per validation row".into()));
            }
        }
        Ok(&self.0)
    }
    fn check(self) -> Result<ValidTreesParams<'a>> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// Fitted trees: the booster as stored in a model file (JSON) and loaded.
pub struct Trees {
    pub booster: String,
    loaded: forust_ml::GradientBooster,
}

impl std::fmt::Debug for Trees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trees").field("booster_bytes", &self.booster.len()).finish()
    }
}

/// A matrix as the column-major slice forust reads: in place when it is column-major already.
fn column_major<'a, D: Data<Elem = f64>>(x: &'a ArrayBase<D, Ix2>) -> Cow<'a, [f64]> {
    match x.t().to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(x.t().iter().copied().collect()),
    }
}

impl Trees {
    pub fn from_booster(booster: String) -> Result<Trees> {
        let loaded = gbdt::load(&booster)?;
        Ok(Trees { booster, loaded })
    }
    pub fn log_odds<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>) -> Vec<f64> {
        gbdt::raw_scores(&self.loaded, &column_major(x), x.nrows(), x.ncols())
    }
}

impl<D: Data<Elem = f64>, T: AsSingleTargets<Elem = bool>> Fit<ArrayBase<D, Ix2>, T, Error> for ValidTreesParams<'_> {
    type Object = Trees;
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Trees> {
        let x = dataset.records();
        let y = labels(dataset.targets());
        same_rows(x.nrows(), y.len())?;
        let directions = if self.directions.is_empty() { vec![0; x.ncols()] } else { self.directions.clone() };
        if directions.len() != x.ncols() {
            return Err(linfa::error::Error::Parameters(format!("{} monotone directions for {} columns", directions.len(), x.ncols())).into());
        }
        let w = weights(dataset);
        let validation = self.stop_on.as_ref().map(|s| (column_major(&s.records), labels(&s.targets), s));
        let early = validation.as_ref().map(|(x, y, s)| gbdt::EarlyStopping { x, rows: s.records.nrows(), y, rounds: s.patience });
        let booster = gbdt::fit(&column_major(x), x.nrows(), x.ncols(), &y, w.as_deref(), &directions, &self.gbdt, early.as_ref())?;
        Trees::from_booster(booster)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Trees {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(x.nrows(), y.len(), "one prediction per row");
        for (o, z) in y.iter_mut().zip(self.log_odds(x)) {
            *o = sigmoid(z);
        }
    }
    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

// ---- the points scorecard ----

/// A feature table as linfa records: one row per subject and date, the columns `riskwarn
/// features` writes (numeric and text).
#[derive(Debug, Clone, Copy)]
pub struct FeatureRows<'a>(pub &'a DataFrame);

impl Records for FeatureRows<'_> {
    type Elem = f64;
    fn nsamples(&self) -> usize {
        self.0.height()
    }
    fn nfeatures(&self) -> usize {
        self.0.width()
    }
}

/// The points scorecard's checked parameters: binning and solver, the columns to bin (numeric
/// and categorical) and the registry whose directions the bins follow.
#[derive(Debug, Clone)]
pub struct ValidPointsScorecardParams<'a> {
    pub params: PointsParams,
    pub numeric: Vec<String>,
    pub categorical: Vec<String>,
    pub registry: &'a Registry,
}

/// The points scorecard's unchecked parameters.
#[derive(Debug, Clone)]
pub struct PointsScorecardParams<'a>(ValidPointsScorecardParams<'a>);

impl<'a> PointsScorecardParams<'a> {
    pub fn new(params: PointsParams, numeric: Vec<String>, categorical: Vec<String>, registry: &'a Registry) -> Self {
        PointsScorecardParams(ValidPointsScorecardParams { params, numeric, categorical, registry })
    }
}

impl<'a> ParamGuard for PointsScorecardParams<'a> {
    type Checked = ValidPointsScorecardParams<'a>;
    type Error = Error;
    fn check_ref(&self) -> Result<&ValidPointsScorecardParams<'a>> {
        self.0.params.check()?;
        if let Some(both) = self.0.numeric.iter().find(|n| self.0.categorical.contains(n)) {
            return Err(Error::BadArgument(format!("feature `{both}` is named both numeric and categorical")));
        }
        Ok(&self.0)
    }
    fn check(self) -> Result<ValidPointsScorecardParams<'a>> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl<T: AsSingleTargets<Elem = bool>> Fit<FeatureRows<'_>, T, Error> for ValidPointsScorecardParams<'_> {
    type Object = PointsPart;
    fn fit(&self, dataset: &DatasetBase<FeatureRows<'_>, T>) -> Result<PointsPart> {
        let rows = dataset.records().0;
        let y = labels(dataset.targets());
        same_rows(rows.height(), y.len())?;
        let w = weights(dataset);
        points::fit(rows, &y, w.as_deref(), &self.numeric, &self.categorical, self.registry, &self.params)
    }
}

/// linfa's predict cannot fail: a table without the scorecard's columns panics with the reason.
/// `PointsPart::raw_scores` is the fallible form.
impl PredictInplace<FeatureRows<'_>, Array1<f64>> for PointsPart {
    fn predict_inplace(&self, x: &FeatureRows<'_>, y: &mut Array1<f64>) {
        assert_eq!(x.0.height(), y.len(), "one prediction per row");
        let z = self.raw_scores(x.0).unwrap_or_else(|e| panic!("the points scorecard cannot score this table: {e}"));
        for (o, z) in y.iter_mut().zip(z) {
            *o = sigmoid(z);
        }
    }
    fn default_target(&self, x: &FeatureRows<'_>) -> Array1<f64> {
        Array1::zeros(x.0.height())
    }
}
