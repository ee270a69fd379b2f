//! L2-regularised logistic regression with checked hyper-parameters, fitted by Newton's method
//! (iteratively reweighted least squares).
//!
//! Why not linfa-logistic's L-BFGS, which this module used first: on the scorecard's correlated
//! window counts (30/90/365/1095 days) L-BFGS converges slowly; at 400k subjects it ran its 200
//! iterations in 85 s without reaching a per-row gradient of 1e-4, and every iteration re-packs
//! the whole matrix for a matrix–vector product. Newton reaches a per-row gradient below 1e-10
//! in 5 steps (on the sample and at 400k subjects). The curvature Xᵀ·diag(p(1−p))·X is summed
//! over fixed row blocks, in parallel and then in block order, so the result is bit-identical for
//! any thread count. The tests check the solution against scikit-learn's and linfa-logistic's.

use ndarray::{s, Array1, Array2, ArrayView2, CowArray, Ix2, ShapeBuilder};
use rayon::prelude::*;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticParams {
    /// Weight of the L2 penalty ½·l2·‖w‖² against the summed log-loss (the intercept is not
    /// penalised).
    pub l2: f64,
    /// Newton iterations at most.
    pub max_iterations: u64,
    /// Stops when the largest gradient component of the penalised loss, divided by the number of
    /// rows, falls below this (a per-row tolerance: it means the same at any training-set size).
    pub gradient_tolerance: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self { l2: 1.0, max_iterations: 50, gradient_tolerance: 1e-10 }
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

/// Rows per block of the sums; fixed, so the summation order never depends on the thread count.
const BLOCK: usize = 16_384;

/// Penalised loss, gradient and Hessian at (w, b); the last coordinate is the intercept.
struct Pass {
    loss: f64,
    gradient: Array1<f64>,
    hessian: Array2<f64>,
}

/// A model matrix as a pass reads it: rows `a..e` at a time, each block column-major.
pub trait Blocks: Sync {
    /// Rows and columns.
    fn dim(&self) -> (usize, usize);
    /// Rows `a..e`, every column (borrowed where the matrix holds them so).
    fn block(&self, a: usize, e: usize) -> CowArray<'_, f64, Ix2>;
    /// Whether every value is finite.
    fn all_finite(&self) -> bool;
}

impl Blocks for ArrayView2<'_, f64> {
    fn dim(&self) -> (usize, usize) {
        ArrayView2::dim(self)
    }
    fn block(&self, a: usize, e: usize) -> CowArray<'_, f64, Ix2> {
        self.slice(s![a..e, ..]).into()
    }
    fn all_finite(&self) -> bool {
        self.iter().all(|v| v.is_finite())
    }
}

fn log1p_exp(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

fn pass<X: Blocks + ?Sized>(x: &X, y: &[bool], weights: Option<&[f64]>, w: &Array1<f64>, l2: f64) -> Pass {
    let (n, p) = x.dim();
    let blocks: Vec<(f64, Array1<f64>, Array2<f64>)> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|k| {
            let (a, e) = (k * BLOCK, ((k + 1) * BLOCK).min(n));
            let xb = x.block(a, e);
            // Column by column: contiguous reads of a column-major matrix.
            let mut z = Array1::<f64>::from_elem(e - a, w[p]);
            for (j, column) in xb.columns().into_iter().enumerate() {
                z.scaled_add(w[j], &column);
            }
            let mut loss = 0.0;
            let mut residual = Array1::<f64>::zeros(e - a);
            let mut root_weight = Array1::<f64>::zeros(e - a);
            for (i, &zi) in z.iter().enumerate() {
                let yi = y[a + i];
                let weight = weights.map_or(1.0, |v| v[a + i]);
                // −log σ(z) for a positive, −log(1 − σ(z)) for a negative.
                loss += weight * if yi { log1p_exp(-zi) } else { log1p_exp(zi) };
                let pi = 1.0 / (1.0 + (-zi).exp());
                residual[i] = weight * (pi - yi as u8 as f64);
                root_weight[i] = (weight * pi * (1.0 - pi)).sqrt();
            }
            let mut g = Array1::<f64>::zeros(p + 1);
            g.slice_mut(s![..p]).assign(&xb.t().dot(&residual));
            g[p] = residual.sum();
            let h = {
                // [X 1] scaled row-wise by √(p(1−p)): H = Sᵀ·S.
                let mut scaled = Array2::<f64>::zeros((e - a, p + 1).f());
                for (j, column) in xb.columns().into_iter().enumerate() {
                    let mut target = scaled.column_mut(j);
                    target.assign(&column);
                    target *= &root_weight;
                }
                scaled.column_mut(p).assign(&root_weight);
                scaled.t().dot(&scaled)
            };
            (loss, g, h)
        })
        .collect();
    let mut out = Pass { loss: 0.0, gradient: Array1::zeros(p + 1), hessian: Array2::zeros((p + 1, p + 1)) };
    for (loss, g, h) in blocks {
        out.loss += loss;
        out.gradient += &g;
        out.hessian += &h;
    }
    let coefficients = w.slice(s![..p]);
    out.loss += 0.5 * l2 * coefficients.dot(&coefficients);
    out.gradient.slice_mut(s![..p]).scaled_add(l2, &coefficients);
    for j in 0..p {
        out.hessian[[j, j]] += l2;
    }
    out
}

/// Solves H·d = g for a symmetric positive-definite H (Cholesky); None when H is not
/// positive definite.
fn cholesky_solve(h: &Array2<f64>, g: &Array1<f64>) -> Option<Array1<f64>> {
    let m = g.len();
    let mut l = Array2::<f64>::zeros((m, m));
    for i in 0..m {
        for j in 0..=i {
            let mut sum = h[[i, j]];
            for k in 0..j {
                sum -= l[[i, k]] * l[[j, k]];
            }
            if i == j {
                if sum <= 0.0 || !sum.is_finite() {
                    return None;
                }
                l[[i, i]] = sum.sqrt();
            } else {
                l[[i, j]] = sum / l[[j, j]];
            }
        }
    }
    let mut v = g.clone();
    for i in 0..m {
        for k in 0..i {
            v[i] -= l[[i, k]] * v[k];
        }
        v[i] /= l[[i, i]];
    }
    for i in (0..m).rev() {
        for k in i + 1..m {
            v[i] -= l[[k, i]] * v[k];
        }
        v[i] /= l[[i, i]];
    }
    Some(v)
}

/// Newton's method on the coefficients not `fixed` (those stay at their value) from `w`;
/// returns the solution and the full gradient there.
fn newton<X: Blocks + ?Sized>(x: &X, y: &[bool], weights: Option<&[f64]>, mut w: Array1<f64>, fixed: &[bool], params: &LogisticParams) -> Result<(Array1<f64>, Array1<f64>)> {
    let (n, p) = x.dim();
    let restrict = |pass: &mut Pass| {
        for (j, _) in fixed.iter().enumerate().filter(|(_, f)| **f) {
            pass.gradient[j] = 0.0;
            pass.hessian.row_mut(j).fill(0.0);
            pass.hessian.column_mut(j).fill(0.0);
            pass.hessian[[j, j]] = 1.0;
        }
    };
    let mut current = pass(x, y, weights, &w, params.l2);
    let mut full_gradient = current.gradient.clone();
    restrict(&mut current);
    for _ in 0..params.max_iterations {
        if current.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs())) / (n as f64) < params.gradient_tolerance {
            break;
        }
        let mut hessian = current.hessian.clone();
        // Without a penalty, perfectly collinear columns leave H singular: a vanishing ridge
        // picks the minimum-norm direction instead of failing.
        let mut step = None;
        for _ in 0..40 {
            step = cholesky_solve(&hessian, &current.gradient);
            if step.is_some() {
                break;
            }
            let ridge = 1e-10 * (0..=p).map(|j| hessian[[j, j]]).fold(1.0f64, f64::max);
            for j in 0..=p {
                hessian[[j, j]] += ridge;
            }
        }
        let step = step.ok_or_else(|| Error::Internal("logistic fit: the curvature matrix cannot be factorised".into()))?;
        // The Newton decrement gᵀH⁻¹g/2 is the loss the step can still gain: below the loss's
        // own rounding (ill-conditioned constrained problems stall there) there is nothing left.
        if current.gradient.dot(&step) / 2.0 <= 1e-14 * (1.0 + current.loss.abs()) {
            break;
        }
        // Newton step, halved until the penalised loss does not rise (it rarely needs to).
        let mut scale = 1.0;
        let accepted = loop {
            let candidate = &w - &(&step * scale);
            let trial = pass(x, y, weights, &candidate, params.l2);
            if trial.loss <= current.loss {
                break Some((candidate, trial));
            }
            if scale < 1e-6 {
                break None;
            }
            scale *= 0.5;
        };
        let Some((next, mut at_next)) = accepted else { break };
        if next == w {
            break;
        }
        w = next;
        full_gradient = at_next.gradient.clone();
        restrict(&mut at_next);
        current = at_next;
    }
    Ok((w, full_gradient))
}

/// Coefficients and intercept of the log-odds of a positive label. `x` is read column by
/// column (column-major is fastest) and is not copied. `weights`: one non-negative weight per
/// row, multiplying its log-loss (None = all 1). `nonnegative`: per column, whether its
/// coefficient is constrained to ≥ 0 (empty = none).
///
/// The constraints are met by an active-set method around Newton's: solve with the free
/// coefficients; fix at 0 every constrained one that came out negative; release a fixed one
/// whose gradient says raising it would lower the loss; repeat until neither happens (the KKT
/// conditions of the convex problem).
pub fn fit<X: Blocks + ?Sized>(x: &X, y: &[bool], weights: Option<&[f64]>, nonnegative: &[bool], params: &LogisticParams) -> Result<(Vec<f64>, f64)> {
    params.check()?;
    let (n, p) = x.dim();
    if y.len() != n || weights.is_some_and(|v| v.len() != n) {
        return Err(Error::Internal(format!("logistic fit: {n} rows but {} labels", y.len())));
    }
    if !nonnegative.is_empty() && nonnegative.len() != p {
        return Err(Error::Internal(format!("logistic fit: {p} columns but {} sign constraints", nonnegative.len())));
    }
    if weights.is_some_and(|v| v.iter().any(|w| !(w.is_finite() && *w >= 0.0))) {
        return Err(Error::BadArgument("row weights must be finite and ≥ 0".into()));
    }
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || positives == n {
        return Err(Error::BadArgument(format!("training needs both outcomes; {positives} of {n} labelled rows are positive")));
    }
    if !x.all_finite() {
        return Err(Error::Internal("logistic fit: the model matrix has a non-finite value".into()));
    }
    let constrained = |j: usize| nonnegative.get(j).copied().unwrap_or(false);
    let mut w = Array1::<f64>::zeros(p + 1);
    w[p] = (positives as f64 / (n - positives) as f64).ln();
    let mut fixed = vec![false; p + 1];
    // Each round either fixes or releases coefficients; the bound only guards against cycling
    // on ties, after which the current (feasible) solution is returned.
    for _ in 0..2 * p + 10 {
        let gradient;
        (w, gradient) = newton(x, y, weights, w, &fixed, params)?;
        let negative: Vec<usize> = (0..p).filter(|&j| constrained(j) && !fixed[j] && w[j] < 0.0).collect();
        if !negative.is_empty() {
            for j in negative {
                w[j] = 0.0;
                fixed[j] = true;
            }
            continue;
        }
        let release = (0..p).filter(|&j| fixed[j]).min_by(|a, b| gradient[*a].total_cmp(&gradient[*b]));
        match release {
            Some(j) if gradient[j] / (n as f64) < -params.gradient_tolerance => fixed[j] = false,
            _ => break,
        }
    }
    if w.iter().any(|v| !v.is_finite()) {
        return Err(Error::Internal("logistic fit diverged".into()));
    }
    Ok((w.slice(s![..p]).to_vec(), w[p]))
}
