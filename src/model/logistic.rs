//! L2-regularised logistic regression (linfa-logistic) with checked hyper-parameters.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticParams {
    /// Weight of the L2 penalty ½·l2·‖w‖² against the summed log-loss.
    pub l2: f64,
    pub max_iterations: u64,
    pub gradient_tolerance: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self { l2: 1.0, max_iterations: 200, gradient_tolerance: 1e-6 }
    }
}

impl LogisticParams {
    /// A bad value is a clear error before any fitting.
    pub fn check(&self) -> Result<()> {
        if !self.l2.is_finite() || self.l2 < 0.0 {
            return Err(Error::BadArgument(format!("l2 must be finite and ≥ 0, got {}", self.l2)));
        }
        if self.max_iterations == 0 {
            return Err(Error::BadArgument("max_iterations must be positive".into()));
        }
        if !self.gradient_tolerance.is_finite() || self.gradient_tolerance <= 0.0 {
            return Err(Error::BadArgument(format!("gradient_tolerance must be positive, got {}", self.gradient_tolerance)));
        }
        Ok(())
    }
}

/// Coefficients and intercept of the log-odds of a positive label.
pub fn fit(x: &Array2<f64>, y: &[bool], params: &LogisticParams) -> Result<(Vec<f64>, f64)> {
    params.check()?;
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || positives == y.len() {
        return Err(Error::BadArgument(format!(
            "training needs both outcomes; {positives} of {} labelled rows are positive",
            y.len()
        )));
    }
    let dataset = Dataset::new(x.clone(), Array1::from(y.to_vec()));
    let fitted = LogisticRegression::default()
        .alpha(params.l2)
        .max_iterations(params.max_iterations)
        .gradient_tolerance(params.gradient_tolerance)
        .fit(&dataset)
        .map_err(|e| Error::Internal(format!("logistic regression: {e}")))?;
    // linfa models the log-odds of its "positive" class, the larger one: flip to `true`.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok((fitted.params().iter().map(|w| sign * w).collect(), sign * fitted.intercept()))
}
