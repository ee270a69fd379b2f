//! The points scorecard (`riskwarn train --kind points`): binning and WoE worked by hand,
//! monotone bins with their minimum share for any data, the fitted bins applied identically at
//! scoring, a points model trained, run and explained end to end, and its SQL export in DuckDB.

use polars::prelude::*;
use proptest::prelude::*;
use riskwarn::features::Direction;
use riskwarn::model::binning::{self, BinRange, BinningOptions, DirectionSource, Values};
use riskwarn::model::points::{self, PointsParams};
use riskwarn::model::Model;

use crate::support::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn numeric_binning_and_woe_worked_by_hand() {
    // x = 1,1 (neg, neg) | 2,2 (neg, pos) | 3,3 (pos, pos) | 4,4 (neg, pos) | null pos, NaN pos, +inf neg.
    let x = [Some(1.0), Some(1.0), Some(2.0), Some(2.0), Some(3.0), Some(3.0), Some(4.0), Some(4.0), None, Some(f64::NAN), Some(f64::INFINITY)];
    let y = [false, false, false, true, true, true, false, true, true, true, false];
    let opts = BinningOptions { pre_bins: 4, min_bin_share: 0.2, smoothing: 1.0 };
    let b = binning::fit("x", Values::Numeric(&x), &y, None, Direction::Increasing, &opts).unwrap();
    // Pre-bins at the quartiles: cuts 1, 2, 3. Smoothed rates (pos + p̄)/(rows + 1), p̄ = 6/11:
    // 0.18, 0.52, 0.85, 0.52 — the last falls, so (2, 3] and (3, +inf) pool into (2, +inf).
    assert_eq!(b.cuts, vec![1.0, 2.0]);
    assert_eq!(b.direction_source, DirectionSource::Registry);
    let counts: Vec<(f64, f64)> = b.bins.iter().map(|b| (b.rows, b.positives)).collect();
    assert_eq!(counts, vec![(2.0, 0.0), (2.0, 1.0), (4.0, 3.0), (3.0, 2.0)]);
    assert_eq!(b.bins[0].range, BinRange::Interval { lower: None, upper: Some(1.0) });
    assert_eq!(b.bins[2].range, BinRange::Interval { lower: Some(2.0), upper: None });
    assert_eq!(b.bins[3].range, BinRange::Missing);
    // WoE = ln((pos + m·p̄)/(P + B·m·p̄)) − ln((neg + m·(1−p̄))/(N + B·m·(1−p̄))), m = 1, P = 6,
    // N = 5, B = 4: ln((11·pos + 6)/90) − ln((11·neg + 5)/75).
    let woe = |pos: f64, neg: f64| ((11.0 * pos + 6.0) / 90.0).ln() - ((11.0 * neg + 5.0) / 75.0).ln();
    let expected = [woe(0.0, 2.0), woe(1.0, 1.0), woe(3.0, 1.0), woe(2.0, 1.0)];
    for (bin, e) in b.bins.iter().zip(expected) {
        assert!(close(bin.woe, e), "{} vs {e}", bin.woe);
    }
    // The pure bin (-inf, 1] (no positive) is finite: ln(6/90) − ln(27/75) = −1.6864.
    assert!((b.bins[0].woe - -1.686399).abs() < 1e-6, "{}", b.bins[0].woe);
    // Upper-inclusive cuts: 2 exactly is in (1, 2]; a value just above goes up; null, NaN, ±inf
    // are missing.
    let at = [Some(2.0), Some(1.0), Some(1.5), Some(2.0001), Some(0.0), Some(99.0), None, Some(f64::NEG_INFINITY), Some(f64::NAN)];
    assert_eq!(b.assign(&Values::Numeric(&at)), vec![1, 0, 1, 2, 0, 2, 3, 3, 3]);
}

#[test]
fn categorical_binning_other_unseen_and_empty_bins_worked_by_hand() {
    let v: Vec<Option<String>> = ["A", "A", "A", "A", "A", "B", "B", "B", "B", "C"].iter().map(|s| Some(s.to_string())).collect();
    let y = [true, true, true, false, false, false, false, false, true, true];
    let opts = BinningOptions { min_bin_share: 0.2, ..Default::default() };
    let b = binning::fit("c", Values::Categorical(&v), &y, None, Direction::None, &opts).unwrap();
    // C holds 10 % < 20 %: it goes to `other`. Bins A, B, other {C}, missing (empty).
    let ranges: Vec<&BinRange> = b.bins.iter().map(|b| &b.range).collect();
    assert_eq!(
        ranges,
        vec![&BinRange::Levels { levels: vec!["A".into()] }, &BinRange::Levels { levels: vec!["B".into()] }, &BinRange::Other { levels: vec!["C".into()] }, &BinRange::Missing]
    );
    // P = N = 5, p̄ = ½, m = 1, B = 4: WoE = ln((pos + ½)/7) − ln((neg + ½)/7).
    let expected = [(3.5f64 / 2.5).ln(), (1.5f64 / 3.5).ln(), (1.5f64 / 0.5).ln(), 0.0];
    for (bin, e) in b.bins.iter().zip(expected) {
        assert!(close(bin.woe, e), "{} vs {e}", bin.woe);
    }
    // The pure bin `other` is finite (ln 3); the empty missing bin is exactly the overall rate.
    assert!(b.bins[2].woe.is_finite() && b.bins[3].woe == 0.0);
    let at: Vec<Option<String>> = vec![Some("B".into()), Some("C".into()), Some("never seen".into()), None, Some("A".into())];
    assert_eq!(b.assign(&Values::Categorical(&at)), vec![1, 2, 2, 3, 0]);
    // An empty bin is exactly 0 with any prior too: a numeric feature without missing values.
    let x: Vec<Option<f64>> = (0..40).map(|i| Some(i as f64)).collect();
    let y: Vec<bool> = (0..40).map(|i| i % 3 == 0 || i > 30).collect();
    let b = binning::fit("x", Values::Numeric(&x), &y, None, Direction::None, &BinningOptions::default()).unwrap();
    assert_eq!(b.missing().rows, 0.0);
    assert!(b.missing().woe.abs() < 1e-12, "{}", b.missing().woe);
    assert_eq!(b.direction_source, DirectionSource::Correlation);
    assert_eq!(b.direction, Direction::Increasing, "the late positives make it rise");
}

#[test]
fn binning_needs_both_outcomes_and_checked_options() {
    let x = [Some(1.0), Some(2.0)];
    let err = binning::fit("x", Values::Numeric(&x), &[false, false], None, Direction::None, &BinningOptions::default()).unwrap_err();
    assert!(err.to_string().contains("both outcomes"), "{err}");
    let bad = BinningOptions { min_bin_share: 0.0, ..Default::default() };
    assert!(binning::fit("x", Values::Numeric(&x), &[false, true], None, Direction::None, &bad).is_err());
}

fn sample() -> impl Strategy<Value = (Vec<Option<f64>>, Vec<bool>, Vec<f64>)> {
    (20usize..300).prop_flat_map(|n| {
        (
            proptest::collection::vec(prop_oneof![8 => (0i32..40).prop_map(|v| Some(v as f64)), 1 => Just(None)], n),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(prop_oneof![3 => Just(1.0), 1 => 0.1f64..5.0], n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fitted_woe_is_monotone_and_every_bin_holds_the_minimum_share(
        (x, mut y, w) in sample(),
        direction in prop_oneof![Just(Direction::Increasing), Just(Direction::Decreasing), Just(Direction::None)],
        share in 0.02f64..0.3,
        pre_bins in 2usize..30,
        weighted in any::<bool>(),
    ) {
        y[0] = true;
        y[1] = false;
        let opts = BinningOptions { pre_bins, min_bin_share: share, ..Default::default() };
        let weights = weighted.then_some(w.as_slice());
        let b = binning::fit("x", Values::Numeric(&x), &y, weights, direction, &opts).unwrap();
        let intervals = &b.bins[..b.bins.len() - 1];
        prop_assert_eq!(intervals.len(), b.cuts.len() + 1);
        prop_assert!(b.cuts.windows(2).all(|c| c[0] < c[1]));
        if direction != Direction::None {
            prop_assert_eq!(b.direction, direction);
        }
        let sign = if b.direction == Direction::Decreasing { -1.0 } else { 1.0 };
        for pair in intervals.windows(2) {
            prop_assert!(sign * (pair[1].woe - pair[0].woe) > 0.0, "WoE {:?} not strictly {:?}", intervals.iter().map(|b| b.woe).collect::<Vec<_>>(), b.direction);
        }
        let present: f64 = (0..x.len()).filter(|&i| x[i].is_some()).map(|i| weights.map_or(1.0, |w| w[i])).sum();
        if intervals.len() > 1 {
            for bin in intervals {
                prop_assert!(bin.rows >= share * present - 1e-9, "bin of {} rows < {share} of {present}", bin.rows);
            }
        }
        prop_assert!(b.bins.iter().all(|b| b.woe.is_finite()));
        // Scoring the training values reproduces the fit's counts bin by bin.
        let mut recount = vec![(0.0f64, 0.0f64); b.bins.len()];
        for (i, k) in b.assign(&Values::Numeric(&x)).into_iter().enumerate() {
            let wi = weights.map_or(1.0, |w| w[i]);
            recount[k].0 += wi;
            recount[k].1 += if y[i] { wi } else { 0.0 };
        }
        for (bin, (rows, pos)) in b.bins.iter().zip(recount) {
            prop_assert!((bin.rows - rows).abs() < 1e-9 && (bin.positives - pos).abs() < 1e-9);
        }
    }
}

/// A small frame of two numeric features (one with missing values, one with infinities) and a
/// categorical one, with labels that depend on all three.
pub(crate) fn frame() -> (DataFrame, Vec<bool>) {
    let n = 600;
    let a: Vec<Option<f64>> = (0..n).map(|i| if i % 11 == 0 { None } else { Some((i * 7 % 50) as f64) }).collect();
    let b: Vec<f64> = (0..n).map(|i| if i % 37 == 0 { f64::INFINITY } else { ((i * 13) % 17) as f64 / 3.0 }).collect();
    let c: Vec<Option<&str>> = (0..n).map(|i| match i % 9 { 0 => None, 1 | 2 => Some("x"), 3 => Some("rare"), _ => Some("y") }).collect();
    let y: Vec<bool> = (0..n).map(|i| (i * 7 % 50) + (i * 13 % 17) * 2 + if i % 9 < 3 { 25 } else { 0 } > 45 || i % 5 == 0).collect();
    let df = DataFrame::new_infer_height(vec![Column::new("a".into(), a), Column::new("b".into(), b), Column::new("c".into(), c)]).unwrap();
    (df, y)
}

#[test]
fn a_points_part_scores_the_training_rows_as_the_fit_binned_them() {
    let (df, y) = frame();
    let registry = riskwarn::features::Registry::all(&Default::default());
    let params = PointsParams { binning: BinningOptions { min_bin_share: 0.05, ..Default::default() }, ..Default::default() };
    let part = points::fit(&df, &y, None, &["a".into(), "b".into()], &["c".into()], &registry, &params).unwrap();
    assert_eq!(part.names(), vec!["a", "b", "c"]);
    assert!(part.coefficients().iter().all(|w| *w >= 0.0), "{:?}", part.coefficients());
    // The bins the scoring assigns to the training rows hold exactly the rows and positives the
    // fit recorded, and the WoE of each row is its bin's.
    let assigned = part.bins_of(&df).unwrap();
    let woe = part.woe_columns(&df).unwrap();
    for ((f, bins), woe) in part.features.iter().zip(&assigned).zip(&woe) {
        for (k, bin) in f.bins.bins.iter().enumerate() {
            let rows: Vec<usize> = (0..y.len()).filter(|&i| bins[i] == k).collect();
            assert_eq!(rows.len() as f64, bin.rows, "{} bin {k}", f.bins.feature);
            assert_eq!(rows.iter().filter(|&&i| y[i]).count() as f64, bin.positives, "{} bin {k}", f.bins.feature);
            assert!(rows.iter().all(|&i| woe[i] == bin.woe));
        }
    }
    // `b`'s infinities are missing values, `c`'s unseen levels go to other.
    let b = &part.features[1].bins;
    assert_eq!(b.missing().rows, (0..600).filter(|i| i % 37 == 0).count() as f64);
    let unseen = DataFrame::new_infer_height(vec![Column::new("a".into(), [Some(3.0)]), Column::new("b".into(), [1.0]), Column::new("c".into(), [Some("new")])]).unwrap();
    let other = part.features[2].bins.bins.iter().position(|b| matches!(b.range, BinRange::Other { .. })).unwrap();
    assert_eq!(part.bins_of(&unseen).unwrap()[2], vec![other]);
    // Raw log-odds = β₀ + Σ β·WoE; a JSON round trip scores bit-identically.
    let z = part.raw_scores(&df).unwrap();
    for (i, zi) in z.iter().enumerate() {
        let expected = part.intercept + part.features.iter().zip(&woe).map(|(f, w)| f.coefficient * w[i]).sum::<f64>();
        assert!(close(*zi, expected));
    }
    let again: points::PointsPart = serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
    assert_eq!(again, part);
    assert!(again.raw_scores(&df).unwrap().iter().zip(&z).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn points_follow_the_scale_base_points_at_base_odds_pdo_to_double() {
    let scale = points::PointsScale::default();
    assert_eq!((scale.base_points, scale.base_odds, scale.pdo), (600.0, 50.0, 20.0));
    // Good:bad odds 50:1 → 600; 100:1 → 620; 25:1 → 580.
    assert!(close(scale.of_logit(-(50f64.ln())), 600.0));
    assert!(close(scale.of_logit(-(100f64.ln())), 620.0));
    assert!(close(scale.of_logit(-(25f64.ln())), 580.0));
    let (df, y) = frame();
    let registry = riskwarn::features::Registry::all(&Default::default());
    let mut part = points::fit(&df, &y, None, &["a".into(), "b".into()], &["c".into()], &registry, &Default::default()).unwrap();
    let calibration = riskwarn::model::calibration::Platt { a: 0.9, b: -0.2 };
    part.scale(&calibration, &scale);
    let z = part.raw_scores(&df).unwrap();
    for (p, z) in part.points(&df).unwrap().iter().zip(z) {
        assert!((p - scale.of_logit(0.9 * z - 0.2)).abs() < 1e-9, "{p} vs {}", scale.of_logit(0.9 * z - 0.2));
    }
    for bad in ["[points]\npdo = 0", "[points]\nbase_odds = -1", "[points]\nbase_points = nan", "[points]\npoints = 600"] {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap();
        let start = text.find("[points]").expect("riskwarn.toml has a [points] section");
        let end = text[start + 1..].find("\n[").map_or(text.len(), |e| start + 1 + e);
        let text = format!("{}{bad}\n{}", &text[..start], &text[end..]);
        let dir = tempdir();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, text).unwrap();
        riskwarn().args(["train", "--quiet", "--kind", "points", "--policy"]).arg(&path).arg("--model-out").arg(dir.path().join("m.json")).run().status(2).stderr_contains("points");
    }
}

/// A points model trained on the sample (once for the tests below).
fn sample_model() -> &'static (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    static MODEL: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf, serde_json::Value)> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = tempdir();
        let path = dir.path().join("points.json");
        let summary = riskwarn().args(["train", "--json", "--quiet", "--data", "data/sample", "--kind", "points", "--model-out"]).arg(&path).run().status(0).json();
        (dir, path, summary)
    })
}

#[test]
fn train_kind_points_on_the_sample_then_run_gives_the_largest_points_risk_as_reasons() {
    let (dir, path, summary) = sample_model();
    let model = Model::load(path).unwrap();
    assert!(model.model_id.starts_with("points-"), "{}", model.model_id);
    let random = summary["test"].as_array().unwrap().iter().find(|p| p["population"] == "random inspections").unwrap();
    let auc = random["rankings"][0]["auc"].as_f64().unwrap();
    assert!(auc > 0.65, "random-inspection AUC {auc}");
    let part = model.points.as_ref().unwrap();
    assert_eq!(part.scale, points::PointsScale::default());
    // The human summary lists the scorecard.
    let text = riskwarn().args(["train", "--data", "data/sample", "--kind", "points", "--model-out"]).arg(dir.path().join("again.json")).run().status(0).stdout();
    assert!(text.contains("积分卡") && text.contains("insp_violation_90d"), "{text}");
    // riskwarn run scores with it.
    let out = dir.path().join("runs");
    riskwarn().args(["run", "--quiet", "--as-of", "2026-01-01", "--model"]).arg(path).arg("--out").arg(&out).run().status(0);
    let warnings = read(&out.join("latest/warnings.parquet"));
    assert_eq!(warnings.column("model_id").unwrap().str().unwrap().get(0), Some(model.model_id.as_str()));
    // The reasons are the features with the most points-risk (fewest points), and each
    // contribution is −points / (pdo / ln 2); base + Σ contributions = logit(score).
    let features = dir.path().join("features.parquet");
    riskwarn().args(["features", "--quiet", "--data", "data/sample", "--as-of", "2026-01-01", "--out"]).arg(&features).run().status(0);
    let features = read(&features);
    let explained = model.explain(&features, 3).unwrap();
    let bins = part.bins_of(&features).unwrap();
    let factor = part.scale.factor();
    let scores = model.score(&features).unwrap();
    let totals = model.points(&features).unwrap().unwrap();
    for r in 0..features.height() {
        let mut points: Vec<(f64, usize)> = part.features.iter().zip(&bins).enumerate().map(|(j, (f, b))| (f.bins.bins[b[r]].points, j)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for k in 0..3 {
            let at = r * 3 + k;
            assert!((explained.contribution[at] + points[k].0 / factor).abs() < 1e-12, "row {r} reason {k}");
            assert_eq!(explained.names[explained.feature[at] as usize], part.features[points[k].1].bins.feature, "row {r} reason {k}");
        }
        let logit = (scores[r] / (1.0 - scores[r])).ln();
        let all: f64 = part.features.iter().zip(&bins).map(|(f, b)| -f.bins.bins[b[r]].points / factor).sum();
        assert!((model.base_logit() + all - logit).abs() < 1e-9);
        assert!((totals[r] - part.scale.of_logit(logit)).abs() < 1e-9, "points {} vs {}", totals[r], part.scale.of_logit(logit));
        assert!((explained.score[r] - scores[r]).abs() < 1e-12);
    }
}

#[test]
fn exported_points_sql_scores_and_points_as_riskwarn_does_in_duckdb() {
    let has_duckdb = std::process::Command::new("python3").args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success());
    if !has_duckdb {
        return skipped("the points SQL export check: DuckDB's Python package not installed (pip install duckdb)");
    }
    let (dir, path, _) = sample_model();
    let d = dir.path().join("export");
    std::fs::create_dir_all(&d).unwrap();
    let features = d.join("features.parquet");
    riskwarn().args(["features", "--quiet", "--data", "data/sample", "--as-of", "2026-01-01", "--out"]).arg(&features).run().status(0);
    let runs = d.join("runs");
    riskwarn().args(["score", "--quiet", "--data", "data/sample", "--as-of", "2026-01-01", "--model"]).arg(path).arg("--out").arg(&runs).run().status(0);
    let model = Model::load(path).unwrap();
    let frame = read(&features);
    let points = model.points(&frame).unwrap().unwrap();
    let mut expected = DataFrame::new_infer_height(vec![frame.column("uscc").unwrap().clone(), Column::new("points".into(), points)]).unwrap();
    let expected_path = d.join("points.parquet");
    write(&mut expected, &expected_path);
    let sql = |dialect: &str| {
        let out = d.join(format!("points-{dialect}.sql"));
        riskwarn().args(["export", "--quiet", "--dialect", dialect, "--model"]).arg(path).arg("--sql").arg(&out).run().status(0);
        out
    };
    let (duck, postgres) = (sql("duckdb"), sql("postgres"));
    assert!(std::fs::read_to_string(&duck).unwrap().contains("AS points"));
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sql/check_export.py"))
        .arg("--points")
        .arg(&expected_path)
        .args([&features, &runs.join("latest/warnings.parquet"), &duck, &postgres])
        .output()
        .expect("python3 runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("duckdb points:"), "{said}");
    match out.status.code() {
        Some(0) => print!("points: {said}"),
        Some(3) if said.contains("duckdb: ") && said.contains("skipped: PostgreSQL") => skipped(&format!("points: {}", said.lines().last().unwrap_or(""))),
        _ => panic!("points: exported SQL disagrees with riskwarn:\n{said}"),
    }
}
