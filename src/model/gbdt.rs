//! Gradient-boosted trees (forust-ml) behind the model interface: raw feature values (missing as
//! NaN, categories one-hot), monotone constraints where the direction of a feature is known, and
//! exact, additive per-feature path contributions (forust's own) in log-odds for reasons. forust
//! bins and histograms columns in parallel and sums gradients over fixed row blocks, so the trees
//! are bit-identical for any thread count (tested).

use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::{ContributionsMethod, GradientBooster};
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::Matrix;

use crate::error::{Error, Result};

/// Hyper-parameters, checked before any fitting (a bad value is exit 2, not a panic).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GbdtParams {
    pub iterations: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    /// Minimum sum of hessians in a leaf (larger = smoother trees).
    pub min_leaf_weight: f64,
    pub l2: f64,
    /// Histogram bins per feature.
    pub nbins: u16,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self { iterations: 150, learning_rate: 0.05, max_depth: 4, min_leaf_weight: 20.0, l2: 1.0, nbins: 64 }
    }
}

impl GbdtParams {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::BadArgument(m));
        if self.iterations == 0 || self.iterations > 100_000 {
            return bad(format!("gbdt iterations must be in 1..=100000, got {}", self.iterations));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!("gbdt learning_rate must be in (0, 1], got {}", self.learning_rate));
        }
        if self.max_depth == 0 || self.max_depth > 16 {
            return bad(format!("gbdt max_depth must be in 1..=16, got {}", self.max_depth));
        }
        if !(self.min_leaf_weight.is_finite() && self.min_leaf_weight >= 0.0) {
            return bad(format!("gbdt min_leaf_weight must be ≥ 0, got {}", self.min_leaf_weight));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad(format!("gbdt l2 must be ≥ 0, got {}", self.l2));
        }
        if self.nbins < 2 {
            return bad(format!("gbdt nbins must be at least 2, got {}", self.nbins));
        }
        Ok(())
    }
}

/// A booster with the checked hyper-parameters, fitted in parallel (the same trees for any
/// thread count).
fn booster(objective: ObjectiveType, params: &GbdtParams) -> GradientBooster {
    GradientBooster::default()
        .set_objective_type(objective)
        .set_iterations(params.iterations)
        .set_learning_rate(params.learning_rate as f32)
        .set_max_depth(params.max_depth)
        .set_min_leaf_weight(params.min_leaf_weight as f32)
        .set_l2(params.l2 as f32)
        .set_nbins(params.nbins)
        .set_parallel(true)
        .set_seed(0)
}

/// +1: more never lowers risk; −1: more never raises it; 0: unconstrained.
pub type Direction = i8;

/// A validation set to stop on: fitting ends once its AUC has not improved for `rounds` trees
/// (forust's early stopping; the trees after the best stay in the booster, see [`curve`]).
pub struct EarlyStopping<'a> {
    /// Column-major, the same columns as the training matrix.
    pub x: &'a [f64],
    pub rows: usize,
    pub y: &'a [bool],
    pub rounds: usize,
}

/// Fits on a column-major matrix; returns the booster as JSON (stored in the model file).
/// `weights`: one positive weight per row (None = all 1).
#[allow(clippy::too_many_arguments)]
pub fn fit(
    x: &[f64],
    rows: usize,
    cols: usize,
    y: &[bool],
    weights: Option<&[f64]>,
    directions: &[Direction],
    params: &GbdtParams,
    early_stopping: Option<&EarlyStopping>,
) -> Result<String> {
    params.check()?;
    let positives = y.iter().filter(|v| **v).count();
    if positives == 0 || positives == y.len() {
        return Err(Error::BadArgument(format!("training needs both outcomes; {positives} of {} labelled rows are positive", y.len())));
    }
    let constraints: ConstraintMap = directions
        .iter()
        .enumerate()
        .filter(|(_, d)| **d != 0)
        .map(|(i, d)| (i, if *d > 0 { Constraint::Positive } else { Constraint::Negative }))
        .collect();
    let mut booster = booster(ObjectiveType::LogLoss, params).set_monotone_constraints(Some(constraints));
    let target: Vec<f64> = y.iter().map(|v| *v as u8 as f64).collect();
    let ones = vec![1.0; rows];
    let (validation_target, validation_weights): (Vec<f64>, Vec<f64>) = match early_stopping {
        Some(e) => (e.y.iter().map(|v| *v as u8 as f64).collect(), vec![1.0; e.rows]),
        None => (Vec::new(), Vec::new()),
    };
    let evaluation = early_stopping.map(|e| vec![(Matrix::new(e.x, e.rows, cols), validation_target.as_slice(), validation_weights.as_slice())]);
    if let Some(e) = early_stopping {
        booster = booster.set_evaluation_metric(Some(Metric::AUC)).set_early_stopping_rounds(Some(e.rounds));
    }
    booster
        .fit(&Matrix::new(x, rows, cols), &target, weights.unwrap_or(&ones), evaluation)
        .map_err(|e| Error::Internal(format!("gbdt fit: {e}")))?;
    let json = booster.json_dump().map_err(|e| Error::Internal(format!("gbdt: {e}")))?;
    // forust keeps its constraints in a HashMap, whose order changes from run to run; a
    // serde_json Value (sorted maps) makes the stored booster byte-identical.
    let mut value: serde_json::Value = serde_json::from_str(&json)?;
    enforce_monotone(&mut value, directions)?;
    // Every fitted tree is kept (the curve is read from the enforced trees); forust's own choice
    // of the best iteration, made on trees before enforcement, is not used.
    if let Some(object) = value.as_object_mut() {
        object.insert("prediction_iteration".into(), serde_json::Value::Null);
        object.insert("best_iteration".into(), serde_json::Value::Null);
        object.insert("evaluation_history".into(), serde_json::Value::Null);
    }
    Ok(value.to_string())
}

/// One node of a stored tree, for evaluating trees one by one.
struct Node {
    leaf: bool,
    weight: f64,
    feature: usize,
    split: f64,
    left: usize,
    right: usize,
    missing: usize,
}

/// The trees of a stored booster as node arrays (root first) and its base score.
fn parse_trees(booster: &serde_json::Value) -> Result<(f64, Vec<Vec<Node>>)> {
    let bad = || Error::Internal("gbdt: unexpected booster layout".into());
    let base = booster["base_score"].as_f64().ok_or_else(bad)?;
    let trees = booster["trees"].as_array().ok_or_else(bad)?;
    let parsed = trees
        .iter()
        .map(|tree| {
            let nodes = tree["nodes"].as_array().ok_or_else(bad)?;
            let mut order: Vec<u64> = nodes.iter().filter_map(|n| n["num"].as_u64()).collect();
            order.sort_unstable();
            let at = |num: Option<u64>| -> Result<usize> { num.and_then(|k| order.binary_search(&k).ok()).ok_or_else(bad) };
            let mut out: Vec<Option<Node>> = (0..order.len()).map(|_| None).collect();
            for n in nodes {
                let i = at(n["num"].as_u64())?;
                let leaf = n["is_leaf"].as_bool().unwrap_or(true);
                // forust keeps node weights as f32 and widens them when predicting.
                let weight = n["weight_value"].as_f64().ok_or_else(bad)? as f32 as f64;
                out[i] = Some(if leaf {
                    Node { leaf, weight, feature: 0, split: 0.0, left: 0, right: 0, missing: 0 }
                } else {
                    Node {
                        leaf,
                        weight,
                        feature: n["split_feature"].as_u64().ok_or_else(bad)? as usize,
                        split: n["split_value"].as_f64().ok_or_else(bad)?,
                        left: at(n["left_child"].as_u64())?,
                        right: at(n["right_child"].as_u64())?,
                        missing: at(n["missing_node"].as_u64())?,
                    }
                });
            }
            out.into_iter().map(|n| n.ok_or_else(bad)).collect::<Result<Vec<Node>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((base, parsed))
}

fn predict_tree(tree: &[Node], x: &[f64], rows: usize, row: usize) -> f64 {
    let mut i = 0;
    // A path longer than the tree has nodes would be a cycle.
    for _ in 0..tree.len() {
        let n = &tree[i];
        if n.leaf {
            return n.weight;
        }
        let v = x[n.feature * rows + row];
        i = if v.is_nan() {
            n.missing
        } else if v < n.split {
            n.left
        } else {
            n.right
        };
    }
    tree[i].weight
}

/// The validation AUC of the booster's first k trees, as (k, AUC), for at most about 100 values
/// of k: every tree up to 100 trees, else every ⌈n/100⌉-th and the last. Raw scores are
/// accumulated tree by tree on a column-major matrix, rows in parallel.
pub fn curve(booster: &str, x: &[f64], rows: usize, y: &[bool]) -> Result<Vec<(usize, f64)>> {
    use rayon::prelude::*;
    let (base, trees) = parse_trees(&serde_json::from_str(booster)?)?;
    let step = trees.len().div_ceil(100).max(1);
    let mut z = vec![base; rows];
    let mut points = Vec::with_capacity(101);
    for (k, tree) in trees.iter().enumerate() {
        z.par_iter_mut().enumerate().for_each(|(r, z)| *z += predict_tree(tree, x, rows, r));
        let used = k + 1;
        if used % step == 0 || used == trees.len() {
            points.push((used, crate::metrics::auc(&z, y).unwrap_or(0.5)));
        }
    }
    Ok(points)
}

/// The booster with its first `trees` trees only.
pub fn truncate(booster: &str, trees: usize) -> Result<String> {
    let mut value: serde_json::Value = serde_json::from_str(booster)?;
    let list = value.get_mut("trees").and_then(|t| t.as_array_mut()).ok_or_else(|| Error::Internal("gbdt: unexpected booster layout".into()))?;
    list.truncate(trees);
    if let Some(object) = value.as_object_mut() {
        object.insert("iterations".into(), trees.into());
    }
    Ok(value.to_string())
}

/// Makes every tree exactly monotone in the constrained columns. forust 0.8 bounds the two
/// children of a split on a constrained feature, but a deeper split on an unconstrained feature
/// is not clipped to the bounds it inherited, so predictions can break the constraint. This
/// walks each tree from the root with (lower, upper) bounds, clips every node weight to them and,
/// below a constrained split, gives the two sides the bounds (lower, mid) and (mid, upper):
/// every leaf left of such a split is then ≤ every leaf right of it (the reverse for −1).
/// Node weights stay a telescoping path, so per-feature contributions still add up.
pub fn enforce_monotone(booster: &mut serde_json::Value, directions: &[Direction]) -> Result<()> {
    let bad = || Error::Internal("gbdt: unexpected booster layout".into());
    let trees = booster.get_mut("trees").and_then(|t| t.as_array_mut()).ok_or_else(bad)?;
    for tree in trees {
        let nodes = tree.get_mut("nodes").and_then(|n| n.as_array_mut()).ok_or_else(bad)?;
        let position: std::collections::HashMap<u64, usize> =
            nodes.iter().enumerate().filter_map(|(i, n)| n["num"].as_u64().map(|k| (k, i))).collect();
        let field = |n: &serde_json::Value, k: &str| n[k].as_u64().and_then(|v| position.get(&v).copied());
        let mut stack = vec![(*position.get(&0).ok_or_else(bad)?, f64::NEG_INFINITY, f64::INFINITY)];
        while let Some((i, lo, hi)) = stack.pop() {
            let w = nodes[i]["weight_value"].as_f64().ok_or_else(bad)?.clamp(lo, hi);
            nodes[i]["weight_value"] = w.into();
            if nodes[i]["is_leaf"].as_bool().unwrap_or(true) {
                continue;
            }
            let (left, right) = (field(&nodes[i], "left_child").ok_or_else(bad)?, field(&nodes[i], "right_child").ok_or_else(bad)?);
            let missing = field(&nodes[i], "missing_node");
            let direction = nodes[i]["split_feature"].as_u64().and_then(|f| directions.get(f as usize)).copied().unwrap_or(0);
            let (lb, rb) = if direction == 0 {
                ((lo, hi), (lo, hi))
            } else {
                let wl = nodes[left]["weight_value"].as_f64().ok_or_else(bad)?.clamp(lo, hi);
                let wr = nodes[right]["weight_value"].as_f64().ok_or_else(bad)?.clamp(lo, hi);
                let mid = (wl + wr) / 2.0;
                if direction > 0 { ((lo, mid), (mid, hi)) } else { ((mid, hi), (lo, mid)) }
            };
            stack.push((left, lb.0, lb.1));
            stack.push((right, rb.0, rb.1));
            if let Some(m) = missing.filter(|m| *m != left && *m != right) {
                stack.push((m, lo, hi));
            }
        }
    }
    Ok(())
}

pub fn load(json: &str) -> Result<GradientBooster> {
    GradientBooster::from_json(json).map_err(|e| Error::BadArgument(format!("the model's gbdt booster cannot be read: {e}")))
}

/// Raw scores (log-odds) of a column-major matrix.
pub fn raw_scores(booster: &GradientBooster, x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    booster.predict(&Matrix::new(x, rows, cols), false)
}

/// Path contributions (Saabas: the change of node weight along each tree's path), row-major, `cols + 1` per row (the last is the bias); each row sums
/// to its raw score.
pub fn contributions(booster: &GradientBooster, x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    booster.predict_contributions(&Matrix::new(x, rows, cols), ContributionsMethod::Weight, false)
}

/// A row-major ndarray matrix as the column-major slice forust reads.
pub fn column_major(x: &ndarray::Array2<f64>) -> Vec<f64> {
    x.t().iter().copied().collect()
}

/// A least-squares regression forest (no constraints) of `target` on a column-major matrix,
/// returning its predictions on `predict` (column-major, `predict_rows` rows). Used for the
/// information ceiling of generated data: the hidden truth regressed on the features.
pub fn regress(x: &[f64], rows: usize, cols: usize, target: &[f64], predict: &[f64], predict_rows: usize, params: &GbdtParams) -> Result<Vec<f64>> {
    params.check()?;
    let mut booster = booster(ObjectiveType::SquaredLoss, params).set_initialize_base_score(true);
    booster
        .fit(&Matrix::new(x, rows, cols), target, &vec![1.0; rows], None)
        .map_err(|e| Error::Internal(format!("gbdt regression: {e}")))?;
    Ok(booster.predict(&Matrix::new(predict, predict_rows, cols), false))
}
