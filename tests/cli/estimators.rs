//! The three fits through linfa's interface, as an analyst would use them from a linfa
//! pipeline: unchecked params → `check()` (or linfa's blanket `Fit` over a `ParamGuard`) →
//! `fit` on a `Dataset` → `predict`. Known answers from scikit-learn; predictions are σ of the
//! model's own log-odds; bad parameters are errors before any fitting.

use linfa::prelude::*;
use ndarray::{Array1, Array2, ShapeBuilder};
use riskwarn::model::estimators::{dataset, FeatureRows, PointsScorecardParams, ScorecardParams, StopOn, TreesParams};
use riskwarn::model::gbdt::{self, GbdtParams};
use riskwarn::model::logistic::LogisticParams;
use riskwarn::model::points::{self, PointsParams};

use crate::model::formula_problem;
use crate::points::frame;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn column_major(x: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_vec(x.dim().f(), x.t().iter().copied().collect()).unwrap()
}

#[test]
fn the_scorecard_fits_a_linfa_dataset_as_scikit_learn_does() {
    let (x, y) = formula_problem(400);
    let params = ScorecardParams::new(LogisticParams::default()).l2(2.0);
    // An owned Dataset, as any linfa user builds one.
    let owned = Dataset::new(x.clone(), Array1::from(y.clone()));
    let card = params.clone().check().unwrap().fit(&owned).unwrap();
    // scikit-learn 1.x: LogisticRegression(C=1/2, tol=1e-12, max_iter=10000), the same objective.
    let sklearn = ([1.1279403667744534, -0.7109431265465023, 0.33541833221805506], -0.4029786269097572);
    for (mine, theirs) in card.coefficients.iter().zip(sklearn.0) {
        assert!((mine - theirs).abs() < 1e-6, "{:?} vs scikit-learn {:?}", card.coefficients, sklearn.0);
    }
    assert!((card.intercept - sklearn.1).abs() < 1e-6);
    // linfa's blanket Fit over the unchecked params; a view of the records and labels (no copy)
    // and a column-major matrix give the same bits.
    assert_eq!(params.fit(&owned).unwrap(), card);
    assert_eq!(params.fit(&dataset(x.view(), &y, None)).unwrap(), card);
    assert_eq!(params.fit(&dataset(column_major(&x), &y, None)).unwrap(), card);
    // predict = σ(intercept + x·β), row by row.
    let p: Array1<f64> = card.predict(&x);
    for (i, pi) in p.iter().enumerate() {
        let z = card.intercept + (0..3).map(|j| x[[i, j]] * card.coefficients[j]).sum::<f64>();
        assert!((pi - sigmoid(z)).abs() < 1e-15);
    }
    // Integer weights in the Dataset are repeated rows (exact in linfa's f32).
    let weights: Vec<f64> = (0..400).map(|i| (i % 3) as f64).collect();
    let rows: Vec<usize> = (0..400).flat_map(|i| std::iter::repeat_n(i, i % 3)).collect();
    let repeated_y: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
    let repeated = params.fit(&dataset(x.select(ndarray::Axis(0), &rows), &repeated_y, None)).unwrap();
    let weighted = params.fit(&dataset(x.view(), &y, Some(&weights))).unwrap();
    assert!(repeated.coefficients.iter().zip(&weighted.coefficients).all(|(a, b)| (a - b).abs() < 1e-9));
    assert!((repeated.intercept - weighted.intercept).abs() < 1e-9);
    // A sign constraint: x2 (free −0.71) held ≥ 0 sits at 0, the rest is scikit-learn without x2.
    let constrained = ScorecardParams::new(LogisticParams::default()).l2(2.0).nonnegative(vec![false, true, false]).fit(&owned).unwrap();
    assert_eq!(constrained.coefficients[1], 0.0);
    assert!((constrained.coefficients[0] - 0.7274603815039867).abs() < 1e-6 && (constrained.intercept + 0.3891890463996863).abs() < 1e-6);
}

#[test]
fn scorecard_parameters_are_checked_before_fitting() {
    let (x, y) = formula_problem(50);
    let data = dataset(x.view(), &y, None);
    let message = |r: riskwarn::Result<_>| r.map(|_: riskwarn::model::estimators::Scorecard| ()).unwrap_err().to_string();
    assert!(ScorecardParams::new(LogisticParams::default()).l2(-1.0).check().is_err());
    assert!(message(ScorecardParams::new(LogisticParams::default()).l2(f64::NAN).fit(&data)).contains("l2"));
    let tolerance = LogisticParams { gradient_tolerance: 0.0, ..Default::default() };
    assert!(message(ScorecardParams::new(tolerance).fit(&data)).contains("gradient_tolerance"));
    assert!(message(ScorecardParams::new(LogisticParams::default()).nonnegative(vec![true]).fit(&data)).contains("1 sign constraints for 3 columns"));
    // Records and targets of different lengths are linfa's shape error, not a panic.
    let short = dataset(x.view(), &y[..49], None);
    assert!(ScorecardParams::new(LogisticParams::default()).fit(&short).is_err());
}

#[test]
fn trees_fit_a_linfa_dataset_follow_their_directions_and_stop_on_validation() {
    let (x, y) = formula_problem(1200);
    let (train, valid) = (x.slice(ndarray::s![..800, ..]), x.slice(ndarray::s![800.., ..]));
    let gbdt = GbdtParams { iterations: 60, max_depth: 3, ..Default::default() };
    let params = TreesParams::new(gbdt.clone()).directions(vec![1, -1, 0]);
    let trees = params.clone().check().unwrap().fit(&dataset(train, &y[..800], None)).unwrap();
    // predict = σ(log-odds); row-major and column-major records give the same trees and scores.
    let p: Array1<f64> = trees.predict(&valid);
    let z = trees.log_odds(&valid);
    assert!(p.iter().zip(&z).all(|(p, z)| (p - sigmoid(*z)).abs() < 1e-15));
    let again = params.fit(&dataset(column_major(&train.to_owned()), &y[..800], None)).unwrap();
    assert_eq!(again.booster, trees.booster);
    // The trees rank the held-out rows well above chance (the formula's signal is strong).
    let auc = riskwarn::metrics::auc(&z, &y[800..]).unwrap();
    assert!(auc > 0.7, "validation AUC {auc}");
    // x1 rising (+1) never lowers the score; x2 rising (−1) never raises it.
    let grid: Vec<f64> = (0..41).map(|k| -2.0 + 0.1 * k as f64).collect();
    for base in valid.rows().into_iter().take(20) {
        for (column, sign) in [(0, 1.0), (1, -1.0)] {
            let mut rows = Array2::from_shape_fn((grid.len(), 3), |(_, j)| base[j]);
            rows.column_mut(column).assign(&Array1::from(grid.clone()));
            let s = trees.log_odds(&rows);
            assert!(s.windows(2).all(|w| sign * (w[1] - w[0]) >= -1e-12), "column {column}: {s:?}");
        }
    }
    // Early stopping on the held-out rows keeps fewer trees than a fixed long run fits.
    let long = GbdtParams { iterations: 2000, learning_rate: 0.3, max_depth: 6, min_leaf_weight: 0.5, ..Default::default() };
    let stop = StopOn { records: valid, targets: ndarray::ArrayView1::from(&y[800..]), patience: 10 };
    let stopped = TreesParams::new(long).stop_on(stop).fit(&dataset(train, &y[..800], None)).unwrap();
    let kept = gbdt::curve(&stopped.booster, &gbdt::column_major(&valid.to_owned()), 400, &y[800..]).unwrap().last().unwrap().0;
    assert!((11..2000).contains(&kept), "{kept} trees kept");
}

#[test]
fn tree_parameters_are_checked_before_fitting() {
    let (x, y) = formula_problem(50);
    let data = dataset(x.view(), &y, None);
    let fails = |p: TreesParams, says: &str| {
        let e = p.fit(&data).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    };
    fails(TreesParams::new(GbdtParams { max_depth: 0, ..Default::default() }), "max_depth");
    fails(TreesParams::new(GbdtParams { learning_rate: 1.5, ..Default::default() }), "learning_rate");
    fails(TreesParams::new(GbdtParams::default()).directions(vec![2, 0, 0]), "monotone direction");
    fails(TreesParams::new(GbdtParams::default()).directions(vec![1]), "1 monotone directions for 3 columns");
    let no_patience = StopOn { records: x.view(), targets: ndarray::ArrayView1::from(&y[..]), patience: 0 };
    fails(TreesParams::new(GbdtParams::default()).stop_on(no_patience), "patience");
}

#[test]
fn the_points_scorecard_fits_feature_rows_as_its_own_fit_does() {
    let (df, y) = frame();
    let registry = riskwarn::features::Registry::all(&Default::default());
    let params = PointsParams { binning: riskwarn::model::binning::BinningOptions { min_bin_share: 0.05, ..Default::default() }, ..Default::default() };
    let (numeric, categorical) = (vec!["a".to_string(), "b".to_string()], vec!["c".to_string()]);
    let estimator = PointsScorecardParams::new(params.clone(), numeric.clone(), categorical.clone(), &registry);
    let data = dataset(FeatureRows(&df), &y, None);
    let part = estimator.fit(&data).unwrap();
    assert_eq!(part, points::fit(&df, &y, None, &numeric, &categorical, &registry, &params).unwrap());
    // linfa predicts a feature table through its Dataset (its generic predict takes arrays).
    let p: Array1<f64> = part.predict(&data);
    let z = part.raw_scores(&df).unwrap();
    assert!(p.iter().zip(&z).all(|(p, z)| (p - sigmoid(*z)).abs() < 1e-15));
    // Weights reach the fit: integer weights are repeated rows.
    let weights: Vec<f64> = (0..y.len()).map(|i| (1 + i % 2) as f64).collect();
    let weighted = PointsScorecardParams::new(params.clone(), numeric.clone(), categorical.clone(), &registry).fit(&dataset(FeatureRows(&df), &y, Some(&weights))).unwrap();
    assert_eq!(weighted, points::fit(&df, &y, Some(&weights), &numeric, &categorical, &registry, &params).unwrap());
    // Checked first: a column both numeric and categorical, a bad l2, a short label vector.
    let both = PointsScorecardParams::new(params.clone(), numeric.clone(), vec!["a".into()], &registry);
    assert!(both.fit(&dataset(FeatureRows(&df), &y, None)).unwrap_err().to_string().contains("both numeric and categorical"));
    let bad = PointsParams { logistic: LogisticParams { l2: -1.0, ..Default::default() }, ..params.clone() };
    assert!(PointsScorecardParams::new(bad, numeric.clone(), categorical.clone(), &registry).check().is_err());
    assert!(PointsScorecardParams::new(params, numeric, categorical, &registry).fit(&dataset(FeatureRows(&df), &y[1..], None)).is_err());
}
