//! Training: a model that beats the baselines on held-out data, deterministic training, a JSON
//! round trip with bit-identical scores, and clear errors for a schema mismatch or bad parameters.

use riskwarn::model::train::{train, TrainOptions};
use riskwarn::options::Check;
use riskwarn::model::Model;
use riskwarn::validate::{validate, ValidateOptions, Validated};

use crate::support::*;

fn data() -> &'static (tempfile::TempDir, Validated) {
    static DATA: std::sync::OnceLock<(tempfile::TempDir, Validated)> = std::sync::OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempdir();
        riskwarn().args(["generate", "--subjects", "6000", "--years", "4", "--seed", "11", "--quiet", "--out"]).arg(dir.path()).run().status(0);
        let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions::default()).unwrap();
        (dir, v)
    })
}

#[test]
fn trained_model_beats_baselines_out_of_time() {
    let (dir, v) = data();
    let truth = riskwarn::io::read_truth(dir.path()).unwrap();
    assert!(truth.is_some(), "generated data carries truth.parquet");
    let model = train(v, &TrainOptions { truth, ..Default::default() }.check().unwrap()).unwrap();
    let all = &model.backtest.test[0];
    let auc = |name: &str| all.rankings.iter().find(|r| r.ranking.starts_with(name)).unwrap().auc.unwrap();
    assert!(auc("model") > 0.65, "model AUC {}", auc("model"));
    assert!(auc("model") > auc("past violations"), "{} vs {}", auc("model"), auc("past violations"));
    assert!((auc("random order") - 0.5).abs() < 0.08, "random order AUC {}", auc("random order"));
    // The oracle ranks by the hidden propensity: the best a model can do, up to sampling noise.
    assert!(auc("oracle") > 0.7 && auc("oracle") > auc("model") - 0.02, "oracle {} vs model {}", auc("oracle"), auc("model"));
    // The ceiling sees only features (a regression of the truth on them, fitted on training
    // rows): it cannot know what the records do not show, so it stays below the oracle, and as
    // a fit to the truth itself it ranks at least about as well as the model.
    assert!(auc("ceiling") < auc("oracle"), "ceiling {} vs oracle {}", auc("ceiling"), auc("oracle"));
    assert!(auc("ceiling") > auc("model") - 0.02, "ceiling {} vs model {}", auc("ceiling"), auc("model"));
    let no_truth = train(v, &TrainOptions::default().check().unwrap()).unwrap();
    assert!(no_truth.backtest.test[0].rankings.iter().all(|r| !r.ranking.starts_with("oracle") && !r.ranking.starts_with("ceiling")));
    assert_eq!(no_truth.coefficients, model.coefficients, "the truth never reaches the fit");
    assert_eq!(model.backtest.test[1].population, "random inspections");
    assert!(model.backtest.test[1].rows > 0);
    // Calibrated: over the test period the mean probability is near the observed rate.
    let cal = &all.calibration;
    let predicted: f64 = cal.iter().map(|b| b.mean_predicted * b.count as f64).sum::<f64>() / all.rows as f64;
    let observed = all.positives as f64 / all.rows as f64;
    assert!((predicted - observed).abs() < 0.05, "mean predicted {predicted} vs observed {observed}");
    assert!(!model.features.iter().any(|f| f.contains("ownership")));
    // Sign constraints: every feature with a known direction has a coefficient ≥ 0.
    assert!(model.sign_constraints.iter().any(|c| c == "insp_violation_1095d"), "{:?}", model.sign_constraints);
    assert!(model.direction_warnings.is_empty(), "{:?}", model.direction_warnings);
    for (c, w) in model.preprocessing.columns.iter().zip(&model.coefficients) {
        if model.sign_constraints.contains(&c.name()) {
            assert!(*w >= 0.0, "{} = {w}", c.name());
        }
    }
}

#[test]
fn training_is_deterministic_and_the_json_round_trip_scores_identically() {
    let (dir, v) = data();
    let a = train(v, &TrainOptions::default().check().unwrap()).unwrap();
    let b = train(v, &TrainOptions::default().check().unwrap()).unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let path = dir.path().join("model.json");
    a.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    let features = riskwarn::features::compute(v, &[date("2025-06-30")], &Default::default()).unwrap();
    let (sa, sl) = (a.score(&features).unwrap(), loaded.score(&features).unwrap());
    assert!(sa.iter().zip(&sl).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(sa.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn a_feature_schema_mismatch_is_a_clear_error() {
    let (_dir, v) = data();
    let model = train(v, &TrainOptions::default().check().unwrap()).unwrap();
    let features = riskwarn::features::compute(v, &[date("2025-06-30")], &Default::default()).unwrap();
    let err = model.score(&features.drop("insp_violation_1095d").unwrap()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("insp_violation_1095d"), "{err}");
}

#[test]
fn bad_hyper_parameters_and_tampered_models_exit_2() {
    let (dir, _v) = data();
    riskwarn()
        .args(["train", "--l2=-1", "--model-out", "/tmp/never.json", "--data"])
        .arg(dir.path())
        .run()
        .status(2)
        .stderr_contains("l2");
    let path = dir.path().join("tampered.json");
    let model = train(&data().1, &TrainOptions::default().check().unwrap()).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&model).unwrap();
    json["features"].as_array_mut().unwrap().pop();
    std::fs::write(&path, json.to_string()).unwrap();
    assert_eq!(Model::load(&path).unwrap_err().exit_code(), 2);
}

fn gbdt() -> &'static Model {
    static M: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
    M.get_or_init(|| train(&data().1, &TrainOptions { kind: riskwarn::model::train::TrainKind::Gbdt, ..Default::default() }.check().unwrap()).unwrap())
}

#[test]
fn gbdt_is_deterministic_beats_baselines_and_respects_monotone_constraints() {
    let (_dir, v) = data();
    let a = gbdt();
    let b = train(v, &TrainOptions { kind: riskwarn::model::train::TrainKind::Gbdt, ..Default::default() }.check().unwrap()).unwrap();
    assert!(serde_json::to_string(a).unwrap() == serde_json::to_string(&b).unwrap(), "gbdt training is not bit-identical");
    let all = &a.backtest.test[0];
    let auc = |name: &str| all.rankings.iter().find(|r| r.ranking.starts_with(name)).unwrap().auc.unwrap();
    assert!(auc("model") > 0.65 && auc("model") > auc("past violations"), "gbdt AUC {}", auc("model"));
    let g = a.gbdt.as_ref().unwrap();
    let constrained: Vec<String> = a.preprocessing.columns.iter().zip(&g.directions).filter(|(_, d)| **d > 0).map(|(c, _)| c.feature().to_string()).collect();
    assert!(constrained.iter().any(|f| f == "insp_violation_1095d"), "{constrained:?}");
    // More past violations (or any constrained feature) never lowers a subject's score.
    let features = riskwarn::features::compute(v, &[date("2025-06-30")], &Default::default()).unwrap().head(Some(400));
    let base = a.score(&features).unwrap();
    for f in &constrained {
        for bump in [1.0, 3.0, 10.0] {
            let mut more = features.clone();
            let c = more.column(f).unwrap().cast(&polars::prelude::DataType::Float64).unwrap();
            let bumped: Vec<Option<f64>> = c.f64().unwrap().iter().map(|x| Some(x.unwrap_or(0.0) + bump)).collect();
            more.with_column(polars::prelude::Column::new(f.as_str().into(), bumped)).unwrap();
            let after = a.score(&more).unwrap();
            for (i, (x, y)) in base.iter().zip(&after).enumerate() {
                // A null that becomes a value takes the tree's value branch, which the constraint does not order.
                if c.f64().unwrap().get(i).is_some() {
                    assert!(y >= &(x - 1e-12), "{f} + {bump} lowered row {i}: {x} → {y}");
                }
            }
        }
    }
    riskwarn().args(["train", "--kind", "gbdt", "--learning-rate", "0", "--model-out", "/tmp/never.json"]).run().status(2).stderr_contains("learning_rate");
    let ipw_scorecard = train(v, &TrainOptions { inverse_propensity: true, ..Default::default() }.check().unwrap()).unwrap();
    assert_eq!(ipw_scorecard.row_weights, "inverse propensity of being labelled");
    assert_ne!(ipw_scorecard.coefficients, train(v, &TrainOptions::default().check().unwrap()).unwrap().coefficients, "the weights change the scorecard");
    let ipw = train(v, &TrainOptions { kind: riskwarn::model::train::TrainKind::Gbdt, inverse_propensity: true, ..Default::default() }.check().unwrap()).unwrap();
    assert_eq!(ipw.row_weights, "inverse propensity of being labelled");
    assert!(serde_json::to_string(&ipw).unwrap() != serde_json::to_string(a).unwrap(), "the weights change the fit");
    riskwarn().args(["train", "--kind", "gbdt", "--max-depth", "99", "--model-out", "/tmp/never.json"]).run().status(2).stderr_contains("max_depth");
}

#[test]
fn gbdt_contributions_add_up_and_survive_the_json_round_trip() {
    let (dir, v) = data();
    let path = dir.path().join("gbdt.json");
    gbdt().save(&path).unwrap();
    let model = Model::load(&path).unwrap();
    let features = riskwarn::features::compute(v, &[date("2025-06-30")], &Default::default()).unwrap();
    let all = model.explain(&features, usize::MAX).unwrap();
    let scores = gbdt().score(&features).unwrap();
    let k = all.top;
    for (i, (s, p)) in all.score.iter().zip(&scores).enumerate() {
        assert!((s - p).abs() < 1e-9, "row {i}: explained score {s} vs score {p}");
        let sum: f64 = all.contribution[i * k..(i + 1) * k].iter().sum();
        assert!((model.base_logit() + sum - (s / (1.0 - s)).ln()).abs() < 1e-6, "row {i}");
    }
}

#[test]
fn contributions_add_up_exactly_to_the_calibrated_score() {
    let model = Model::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/logistic-sample.json"))).unwrap();
    let (_dir, v) = data();
    let features = riskwarn::features::compute(v, &[date("2025-06-30")], &model.feature_options).unwrap();
    let all = model.explain(&features, usize::MAX).unwrap();
    let scores = model.score(&features).unwrap();
    let k = all.top;
    assert_eq!(k, model.preprocessing.features().len());
    for (i, (s, p)) in all.score.iter().zip(&scores).enumerate() {
        assert!((s - p).abs() < 1e-12, "row {i}: explained score {s} vs score {p}");
        let sum: f64 = all.contribution[i * k..(i + 1) * k].iter().sum();
        let logit = (s / (1.0 - s)).ln();
        assert!((model.base_logit() + sum - logit).abs() < 1e-9, "row {i}: base + Σ contributions ≠ logit(score)");
        // Reasons come largest first.
        assert!(all.contribution[i * k..(i + 1) * k].windows(2).all(|w| w[0] >= w[1]));
    }
}

/// Equal JSON up to `tol` (relative) in numbers, skipping the keys in `skip`.
fn close(a: &serde_json::Value, b: &serde_json::Value, tol: f64, skip: &[&str], path: &str) -> Result<(), String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0) { Ok(()) } else { Err(format!("{path}: {x} vs {y}")) }
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: different keys"));
            }
            for (k, v) in x {
                if !skip.contains(&k.as_str()) {
                    close(v, y.get(k).ok_or(format!("{path}.{k} missing"))?, tol, skip, &format!("{path}.{k}"))?;
                }
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().try_for_each(|(i, (v, w))| close(v, w, tol, skip, &format!("{path}[{i}]")))
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn committed_models_are_reproduced_by_their_documented_commands() {
    // Byte-identical on this machine (tested); across machines a libm may round exp/ln in the
    // last bit, so numbers are compared to 1e-9 (the trees' JSON and the id hashing it aside).
    let dir = tempdir();
    for (kind, file) in [("logistic", "models/logistic-sample.json"), ("gbdt", "models/gbdt-sample.json")] {
        let out = dir.path().join(format!("{kind}.json"));
        riskwarn().args(["train", "--quiet", "--data", "data/sample", "--kind", kind, "--model-out"]).arg(&out).run().status(0);
        let committed: serde_json::Value = serde_json::from_slice(&std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()).unwrap();
        let again: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        if let Err(e) = close(&committed, &again, 1e-9, &["model_id", "booster"], kind) {
            panic!("{file} is stale ({e}): riskwarn train --data data/sample --kind {kind} --model-out {file}");
        }
    }
}

/// A small problem built from a formula: x1 = sin(0.37 i), x2 = cos(0.11 i) + x1/2,
/// x3 = (37 i mod 11)/10, y = frac(7919 i / 1000) < σ(−0.5 + 1.2 x1 − 0.8 x2 + 0.6 x3).
pub(crate) fn formula_problem(n: usize) -> (ndarray::Array2<f64>, Vec<bool>) {
    let mut x = ndarray::Array2::<f64>::zeros((n, 3));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let f = i as f64;
        let x1 = (0.37 * f).sin();
        let x2 = (0.11 * f).cos() + 0.5 * x1;
        let x3 = ((i * 37) % 11) as f64 / 10.0;
        x.row_mut(i).assign(&ndarray::arr1(&[x1, x2, x3]));
        let z: f64 = -0.5 + 1.2 * x1 - 0.8 * x2 + 0.6 * x3;
        y.push((((i * 7919) % 1000) as f64 / 1000.0) < 1.0 / (1.0 + (-z).exp()));
    }
    (x, y)
}

#[test]
fn logistic_fit_matches_scikit_learn_and_linfa() {
    use linfa::prelude::*;
    use riskwarn::model::logistic::{fit, LogisticParams};
    let (x, y) = formula_problem(400);
    assert_eq!(y.iter().filter(|v| **v).count(), 180);
    let params = LogisticParams { l2: 2.0, ..Default::default() };
    let (w, b) = fit(&x.view(), &y, None, &[], &params).unwrap();
    // scikit-learn 1.x: LogisticRegression(C=1/2, tol=1e-12, max_iter=10000).fit(X, y), the
    // same objective ½‖w‖²·l2 + Σ log-loss with an unpenalised intercept.
    let sklearn = ([1.1279403667744534, -0.7109431265465023, 0.33541833221805506], -0.4029786269097572);
    for (mine, theirs) in w.iter().zip(sklearn.0) {
        assert!((mine - theirs).abs() < 1e-6, "{w:?} vs scikit-learn {:?}", sklearn.0);
    }
    assert!((b - sklearn.1).abs() < 1e-6, "{b} vs {}", sklearn.1);

    // linfa-logistic's L-BFGS on the same problem, run to convergence; column-major input and
    // any thread count give the same bits.
    let linfa = linfa_logistic::LogisticRegression::default()
        .alpha(2.0)
        .max_iterations(10_000)
        .gradient_tolerance(1e-10)
        .fit(&Dataset::new(x.clone(), ndarray::Array1::from(y.clone())))
        .unwrap();
    let sign = if linfa.labels().pos.class { 1.0 } else { -1.0 };
    for (mine, theirs) in w.iter().zip(linfa.params()) {
        assert!((mine - sign * theirs).abs() < 1e-5, "{w:?} vs linfa {:?}", linfa.params());
    }
    assert!((b - sign * linfa.intercept()).abs() < 1e-5);
    let column_major = ndarray::Array2::from_shape_vec((400, 3).f(), x.t().iter().copied().collect()).unwrap();
    use ndarray::ShapeBuilder;
    assert_eq!(fit(&column_major.view(), &y, None, &[], &params).unwrap(), (w.clone(), b));
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(one_thread.install(|| fit(&x.view(), &y, None, &[], &params)).unwrap(), (w.clone(), b));
    // Integer row weights are the same as repeating rows.
    let weights: Vec<f64> = (0..400).map(|i| (i % 3) as f64).collect();
    let rows: Vec<usize> = (0..400).flat_map(|i| std::iter::repeat_n(i, i % 3)).collect();
    let repeated = x.select(ndarray::Axis(0), &rows);
    let repeated_y: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
    let (wr, br) = fit(&repeated.view(), &repeated_y, None, &[], &params).unwrap();
    let (ww, bw) = fit(&x.view(), &y, Some(&weights), &[], &params).unwrap();
    assert!(wr.iter().zip(&ww).all(|(a, b)| (a - b).abs() < 1e-9) && (br - bw).abs() < 1e-9, "{wr:?} {ww:?}");
}

#[test]
fn logistic_sign_constraints_meet_the_kkt_conditions() {
    use riskwarn::model::logistic::{fit, LogisticParams};
    let (x, y) = formula_problem(400);
    let params = LogisticParams { l2: 2.0, ..Default::default() };
    // x2's free coefficient is negative (−0.71): constrained to ≥ 0 it sits at exactly 0 and
    // the others are the fit without x2 — scikit-learn, same objective, on columns x1 and x3.
    let (w, b) = fit(&x.view(), &y, None, &[false, true, false], &params).unwrap();
    assert_eq!(w[1], 0.0);
    let sklearn = ([0.7274603815039867, 0.33064013216793164], -0.3891890463996863);
    assert!((w[0] - sklearn.0[0]).abs() < 1e-6 && (w[2] - sklearn.0[1]).abs() < 1e-6 && (b - sklearn.1).abs() < 1e-6, "{w:?} {b}");
    // Constraints that the free fit already meets change nothing.
    assert_eq!(fit(&x.view(), &y, None, &[true, false, true], &params).unwrap(), fit(&x.view(), &y, None, &[], &params).unwrap());
    // A constraint that binds at first but not at the optimum is released: x1 and its twin
    // scaled by −1 are constrained; the twin must end at 0, x1 positive.
    let twin = ndarray::concatenate(ndarray::Axis(1), &[x.view(), (-&x.column(0)).insert_axis(ndarray::Axis(1)).view()]).unwrap();
    let (w, _) = fit(&twin.view(), &y, None, &[true, true, true, true], &params).unwrap();
    assert!(w.iter().all(|v| *v >= 0.0) && w[1] == 0.0 && w[3] == 0.0 && w[0] > 0.5, "{w:?}");
}

#[test]
fn logistic_fit_handles_separable_and_collinear_data_without_blowing_up() {
    use riskwarn::model::logistic::{fit, LogisticParams};
    let (x, y) = formula_problem(400);
    // A duplicated column and no penalty: the Hessian is singular; the fit still returns finite
    // coefficients that split the effect between the twins.
    let twin = ndarray::concatenate(ndarray::Axis(1), &[x.view(), x.column(0).insert_axis(ndarray::Axis(1))]).unwrap();
    let (w, b) = fit(&twin.view(), &y, None, &[], &LogisticParams { l2: 0.0, ..Default::default() }).unwrap();
    assert!(w.iter().chain([&b]).all(|v| v.is_finite()), "{w:?}");
    // Perfectly separable: the label is x1 > 0. The penalty keeps the coefficients finite.
    let separable: Vec<bool> = x.column(0).iter().map(|v| *v > 0.0).collect();
    let (w, _) = fit(&x.view(), &separable, None, &[], &LogisticParams::default()).unwrap();
    assert!(w.iter().all(|v| v.is_finite()) && w[0] > 5.0, "{w:?}");
}

#[test]
fn gbdt_fit_is_bit_identical_for_any_thread_count() {
    use riskwarn::model::gbdt::{fit, GbdtParams};
    // Above forust's block size, so gradients are computed in parallel blocks.
    let (x, y) = formula_problem(60_000);
    let column_major: Vec<f64> = x.t().iter().copied().collect();
    let params = GbdtParams { iterations: 30, ..Default::default() };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| fit(&column_major, 60_000, 3, &y, None, &[1, 0, 0], &params, None).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}

/// A small grid, so a test can fit it a few times: 2 scorecards and 3 sets of trees.
fn small_search() -> riskwarn::model::select::Search {
    riskwarn::model::select::Search {
        l2: vec![100.0, 1.0],
        max_depth: vec![1, 3],
        min_leaf_weight: vec![20.0],
        learning_rate: vec![0.1, 0.3],
        max_trees: Some(200),
        patience: 20,
        ..Default::default()
    }
}

/// The labels of `rows` with those of the rows `seed` picks (about half) turned over.
fn turned(rows: &polars::prelude::DataFrame, seed: u64) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let mut out = rows.clone();
    for name in ["label", "random_label"] {
        let values: Vec<Option<bool>> = rows
            .column(name)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, v)| if (seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).count_ones() % 2 == 1 { v.map(|b| !b) } else { v })
            .collect();
        out.with_column(Column::new(name.into(), values)).unwrap();
    }
    out
}

#[test]
fn hyper_parameters_are_chosen_on_the_validation_date_and_recorded() {
    use riskwarn::model::ModelKind;
    let opts = TrainOptions { kind: riskwarn::model::train::TrainKind::Auto, search: small_search(), ..Default::default() }.check().unwrap();
    let panel = riskwarn::model::train::panel(&data().1, &opts).unwrap();
    let model = riskwarn::model::train::fit(panel.clone(), &opts).unwrap();
    let selection = model.selection.as_ref().expect("a selection");
    // Validation on the last training date; candidates on the dates whose labels end by it.
    assert_eq!(&selection.validation_as_of, model.train_as_of.last().unwrap());
    let t_val = riskwarn::dates::parse(&selection.validation_as_of).unwrap();
    for d in &selection.candidate_train_as_of {
        assert!(riskwarn::dates::parse(d).unwrap() + model.horizon_days <= t_val, "candidate date {d} sees labels past {t_val}");
    }
    assert!(!selection.candidate_train_as_of.is_empty() && selection.candidate_train_as_of.len() < model.train_as_of.len());
    // 2 scorecards, 2 × 1 trees at the first rate, then the second rate: 5 candidates.
    assert_eq!(selection.candidates.iter().filter(|c| c.kind == ModelKind::Logistic).count(), 2);
    assert_eq!(selection.candidates.iter().filter(|c| c.kind == ModelKind::Gbdt).count(), 3);
    for kind in [ModelKind::Logistic, ModelKind::Gbdt] {
        let of_kind: Vec<_> = selection.candidates.iter().filter(|c| c.kind == kind).collect();
        let chosen: Vec<_> = of_kind.iter().filter(|c| c.chosen).collect();
        assert_eq!(chosen.len(), 1, "one chosen {kind:?}");
        assert!(of_kind.iter().all(|c| c.auc <= chosen[0].auc), "the chosen {kind:?} has the best validation AUC");
    }
    let best = |kind| selection.candidates.iter().find(|c| c.kind == kind && c.chosen).unwrap();
    let kept = if best(ModelKind::Gbdt).auc > best(ModelKind::Logistic).auc { ModelKind::Gbdt } else { ModelKind::Logistic };
    assert_eq!((model.kind, selection.kept), (kept, kept));
    // The chosen values are the ones fitted; the trees' curve is stored and peaks at the kept count.
    assert_eq!(model.params.l2, best(ModelKind::Logistic).l2.unwrap());
    let trees = best(ModelKind::Gbdt);
    let peak = trees.curve.iter().fold((0, f64::NEG_INFINITY), |b, p| if p.1 > b.1 { *p } else { b });
    assert_eq!((Some(peak.0), peak.1), (trees.trees, trees.auc));
    if let Some(g) = &model.gbdt {
        assert_eq!((g.params.max_depth, g.params.iterations), (trees.max_depth.unwrap(), trees.trees.unwrap()));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 3, ..Default::default() })]
    #[test]
    fn the_calibration_and_test_labels_change_no_choice(seed in proptest::prelude::any::<u64>()) {
        let opts = TrainOptions { kind: riskwarn::model::train::TrainKind::Auto, search: small_search(), ..Default::default() }.check().unwrap();
        static BASE: std::sync::OnceLock<(riskwarn::model::train::Panel, Model)> = std::sync::OnceLock::new();
        let (panel, base) = BASE.get_or_init(|| {
            let panel = riskwarn::model::train::panel(&data().1, &opts).unwrap();
            let model = riskwarn::model::train::fit(panel.clone(), &opts).unwrap();
            (panel, model)
        });
        let mut other = panel.clone();
        other.test_rows = turned(&panel.test_rows, seed);
        other.cal_rows = turned(&panel.cal_rows, seed.rotate_left(7));
        let model = riskwarn::model::train::fit(other, &opts).unwrap();
        proptest::prop_assert_ne!(&model.backtest.test, &base.backtest.test, "the turned labels change the backtest");
        proptest::prop_assert_eq!(&model.selection, &base.selection);
        proptest::prop_assert_eq!((model.kind, &model.params, model.gbdt.as_ref().map(|g| &g.params)), (base.kind, &base.params, base.gbdt.as_ref().map(|g| &g.params)));
    }
}
