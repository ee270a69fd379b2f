//! The points scorecard: each feature binned (`binning`), its bins' weights of evidence the
//! columns of a logistic fit (coefficients ≥ 0: WoE is oriented so larger = riskier), and after
//! Platt calibration σ(a·z + b) the points of every bin:
//!
//! points(bin of feature j) = −(pdo / ln 2) · a · β_j · WoE_bin,
//! base points = offset − (pdo / ln 2) · (a · β₀ + b), offset = base_points − (pdo / ln 2) · ln(base_odds),
//!
//! so a row's points = offset − (pdo / ln 2) · logit(score): `base_points` at good:bad odds of
//! `base_odds`:1, `pdo` more points each time the odds double (higher = lower risk).

use ndarray::{Array2, ShapeBuilder};
use polars::prelude::*;

use super::binning::{self, BinningOptions, FeatureBins, Values};
use super::calibration::Platt;
use super::logistic::{self, LogisticParams};
use crate::error::{Error, Result};
use crate::features::Registry;

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PointsParams {
    pub binning: BinningOptions,
    /// The logistic fit on the WoE columns (its `l2`, iterations, tolerance).
    pub logistic: LogisticParams,
}

impl PointsParams {
    pub fn check(&self) -> Result<()> {
        self.binning.check()?;
        self.logistic.check()
    }
}

/// How log-odds become points (policy `[points]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointsScale {
    /// Points at good:bad odds of `base_odds`:1.
    pub base_points: f64,
    /// Good:bad odds (negatives per positive) that score `base_points`.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for PointsScale {
    fn default() -> Self {
        Self { base_points: 600.0, base_odds: 50.0, pdo: 20.0 }
    }
}

impl PointsScale {
    pub fn check(&self) -> Result<()> {
        if !self.base_points.is_finite() {
            return Err(Error::BadArgument(format!("points.base_points must be a finite number, got {}", self.base_points)));
        }
        if !(self.base_odds.is_finite() && self.base_odds > 0.0) {
            return Err(Error::BadArgument(format!("points.base_odds must be positive (good:bad odds, e.g. 50 for 50:1), got {}", self.base_odds)));
        }
        if !(self.pdo.is_finite() && self.pdo > 0.0) {
            return Err(Error::BadArgument(format!("points.pdo must be positive (points to double the odds), got {}", self.pdo)));
        }
        Ok(())
    }
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
    /// Points per unit of log-odds: pdo / ln 2.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }
    /// The points of a row with calibrated log-odds of a positive of 0.
    pub fn offset(&self) -> f64 {
        self.base_points - self.factor() * self.base_odds.ln()
    }
    /// The points of calibrated log-odds `logit` of a positive (good:bad odds = e^−logit).
    pub fn of_logit(&self, logit: f64) -> f64 {
        self.offset() - self.factor() * logit
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointsFeature {
    #[serde(flatten)]
    pub bins: FeatureBins,
    /// β_j of the logistic fit on WoE (≥ 0), in raw log-odds per unit of WoE.
    pub coefficient: f64,
}

/// The fitted scorecard: bins, WoE, coefficients and points (model file `points`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointsPart {
    pub binning: BinningOptions,
    pub features: Vec<PointsFeature>,
    /// β₀: raw log-odds = β₀ + Σ β_j · WoE_j.
    pub intercept: f64,
    /// The scale the points were computed with (`scale`).
    pub scale: PointsScale,
    /// offset − (pdo / ln 2) · (a·β₀ + b): a row's points = base_points + Σ its bins' points.
    pub base_points: f64,
}

fn values_of(df: &DataFrame, feature: &str, categorical: bool) -> Result<Owned> {
    let c = df.column(feature).map_err(|_| Error::BadArgument(format!("feature `{feature}` is missing from the data")))?;
    Ok(if categorical {
        Owned::Categorical(c.cast(&DataType::String)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
    } else {
        Owned::Numeric(super::numeric_values(df, feature)?)
    })
}

enum Owned {
    Numeric(Vec<Option<f64>>),
    Categorical(Vec<Option<String>>),
}

impl Owned {
    fn view(&self) -> Values<'_> {
        match self {
            Owned::Numeric(v) => Values::Numeric(v),
            Owned::Categorical(v) => Values::Categorical(v),
        }
    }
}

/// Bins every feature on `rows` (numeric ones in their registry direction), keeps those whose
/// WoE varies over the rows, and fits the logistic regression on the WoE columns. Row weights
/// (None = 1) weight both the bins' counts and the fit. The points are set by [`PointsPart::scale`].
pub fn fit(rows: &DataFrame, y: &[bool], weights: Option<&[f64]>, numeric: &[String], categorical: &[String], registry: &Registry, params: &PointsParams) -> Result<PointsPart> {
    params.check()?;
    let n = rows.height();
    let mut bins = Vec::new();
    let mut columns: Vec<f64> = Vec::new();
    for (name, is_categorical) in numeric.iter().map(|f| (f, false)).chain(categorical.iter().map(|f| (f, true))) {
        let values = values_of(rows, name, is_categorical)?;
        let direction = registry.get(name).map(|f| f.direction).unwrap_or_default();
        let fitted = binning::fit(name, values.view(), y, weights, direction, &params.binning)?;
        let woe = fitted.woe_of(&values.view());
        if woe.iter().all(|w| *w == woe[0]) {
            continue;
        }
        columns.extend(woe);
        bins.push(fitted);
    }
    let x = Array2::from_shape_vec((n, bins.len()).f(), columns).map_err(|e| Error::Internal(format!("WoE matrix: {e}")))?;
    let (coefficients, intercept) = logistic::fit(&x.view(), y, weights, &vec![true; bins.len()], &params.logistic)?;
    let features = bins.into_iter().zip(coefficients).map(|(bins, coefficient)| PointsFeature { bins, coefficient }).collect();
    let mut part = PointsPart { binning: params.binning.clone(), features, intercept, scale: PointsScale::default(), base_points: 0.0 };
    part.scale(&Platt { a: 1.0, b: 0.0 }, &PointsScale::default());
    Ok(part)
}

impl PointsPart {
    /// The input features, in column order.
    pub fn names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.bins.feature.clone()).collect()
    }

    pub fn coefficients(&self) -> Vec<f64> {
        self.features.iter().map(|f| f.coefficient).collect()
    }

    fn is_categorical(f: &PointsFeature) -> bool {
        f.bins.direction_source == binning::DirectionSource::Unordered
    }

    /// Every feature's bin index per row of `rows` (the rule of the fit: same cuts, missing and
    /// unseen levels included).
    pub fn bins_of(&self, rows: &DataFrame) -> Result<Vec<Vec<usize>>> {
        self.features.iter().map(|f| Ok(f.bins.assign(&values_of(rows, &f.bins.feature, Self::is_categorical(f))?.view()))).collect()
    }

    /// Every feature's WoE per row, one vector per feature.
    pub fn woe_columns(&self, rows: &DataFrame) -> Result<Vec<Vec<f64>>> {
        Ok(self.bins_of(rows)?.into_iter().zip(&self.features).map(|(b, f)| b.into_iter().map(|k| f.bins.bins[k].woe).collect()).collect())
    }

    /// The model matrix: rows × features of WoE.
    pub fn woe_matrix(&self, rows: &DataFrame) -> Result<Array2<f64>> {
        let columns = self.woe_columns(rows)?;
        let mut x = Array2::<f64>::zeros((rows.height(), columns.len()));
        for (j, c) in columns.iter().enumerate() {
            x.column_mut(j).iter_mut().zip(c).for_each(|(o, v)| *o = *v);
        }
        Ok(x)
    }

    /// Raw log-odds (before calibration): β₀ + Σ β_j · WoE_j.
    pub fn raw_scores(&self, rows: &DataFrame) -> Result<Vec<f64>> {
        let mut z = vec![self.intercept; rows.height()];
        for (c, f) in self.woe_columns(rows)?.iter().zip(&self.features) {
            z.iter_mut().zip(c).for_each(|(z, w)| *z += f.coefficient * w);
        }
        Ok(z)
    }

    /// Sets every bin's points and the base points from the calibration σ(a·z + b) and `scale`.
    pub fn scale(&mut self, calibration: &Platt, scale: &PointsScale) {
        let factor = scale.factor();
        for f in &mut self.features {
            for b in &mut f.bins.bins {
                // + 0.0: a zero-WoE bin's points print as 0, not −0.
                b.points = -factor * calibration.a * f.coefficient * b.woe + 0.0;
            }
        }
        self.base_points = scale.offset() - factor * (calibration.a * self.intercept + calibration.b);
        self.scale = scale.clone();
    }

    /// A row's points: base points + its bins' points (= offset − (pdo/ln 2) · logit(score)).
    pub fn points(&self, rows: &DataFrame) -> Result<Vec<f64>> {
        let mut out = vec![self.base_points; rows.height()];
        for (b, f) in self.bins_of(rows)?.iter().zip(&self.features) {
            out.iter_mut().zip(b).for_each(|(o, k)| *o += f.bins.bins[*k].points);
        }
        Ok(out)
    }

    /// A clear error when the part is inconsistent (a hand-edited model file).
    pub fn check(&self) -> Result<()> {
        for f in &self.features {
            let b = &f.bins;
            let intervals = b.bins.iter().filter(|x| matches!(x.range, binning::BinRange::Interval { .. })).count();
            let ok = matches!(b.bins.last().map(|x| &x.range), Some(binning::BinRange::Missing))
                && (Self::is_categorical(f) || (intervals == b.cuts.len() + 1 && intervals + 1 == b.bins.len() && b.cuts.windows(2).all(|w| w[0] < w[1])))
                && f.coefficient.is_finite()
                && b.bins.iter().all(|x| x.woe.is_finite() && x.points.is_finite());
            if !ok {
                return Err(Error::BadArgument(format!("the points scorecard's bins of `{}` are inconsistent", b.feature)));
            }
        }
        Ok(())
    }
}
