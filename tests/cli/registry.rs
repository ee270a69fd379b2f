//! The feature registry: every feature declared once, and everything derived from it — labels in
//! both languages, directions (the scorecard's sign constraints), kinds, visibility, the policy's
//! hard-rule check — and the model's record of the feature options it was trained with.

use polars::prelude::*;
use riskwarn::features::{compute_with, Backend, Direction, FeatureOptions, Kind, Registry, Visibility};
use riskwarn::options::Check;
use riskwarn::validate::{validate, ValidateOptions};

use crate::support::*;

fn policy_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap()
}

/// `riskwarn run` on the sample under a policy file, writing below `dir`.
fn run_under(dir: &tempfile::TempDir, policy: &std::path::Path) -> Done {
    riskwarn().args(["run", "--quiet", "--as-of", "2026-07-01", "--out"]).arg(dir.path().join("out")).arg("--policy").arg(policy).run()
}

/// `riskwarn score` on the sample with its scorecard under a policy file, writing below `dir`.
fn score_under(dir: &tempfile::TempDir, policy: &std::path::Path) -> Done {
    riskwarn()
        .args(["score", "--quiet", "--data", "data/sample", "--model", "models/logistic-sample.json", "--as-of", "2026-07-01", "--out"])
        .arg(dir.path().join("out"))
        .arg("--policy")
        .arg(policy)
        .run()
}

#[test]
fn every_feature_has_labels_in_both_languages_and_complaints_stay_internal() {
    let registry = Registry::all(&FeatureOptions::default());
    let mut names = std::collections::BTreeSet::new();
    for f in &registry.features {
        assert!(names.insert(f.name.clone()), "{} declared twice", f.name);
        assert!(f.label_zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: zh label {:?}", f.name, f.label_zh);
        assert!(!f.label_en.is_empty() && f.label_en.is_ascii(), "{}: en label {:?}", f.name, f.label_en);
        assert!(!f.label_en.contains('_'), "{}: the en label is words, not the name: {:?}", f.name, f.label_en);
        assert_eq!(f.visibility == Visibility::Internal, f.family.name == "complaints", "{}", f.name);
    }
    let kinds = |k: Kind| registry.features.iter().filter(|f| f.kind == k).map(|f| f.name.as_str()).collect::<Vec<_>>();
    assert_eq!(kinds(Kind::Categorical), ["subject_type", "industry_section"]);
    assert!(kinds(Kind::Flag).contains(&"list_serious_now") && kinds(Kind::Flag).contains(&"observation_period"));
    // The label a supervisor reads, worked out by hand for one windowed feature of each kind.
    let get = |n: &str| registry.get(n).unwrap_or_else(|| panic!("{n}"));
    assert_eq!(get("insp_violation_365d").label_zh, "近1年检查发现违法次数");
    assert_eq!(get("insp_n_30d").label_zh, "近30天检查次数");
    assert_eq!(get("pen_serious_1095d").label_zh, "近3年严重处罚次数");
    assert_eq!(get("insp_violation_365d").label_en, "inspections finding a violation in the last year");
    assert_eq!(get("cmp_365d_vs_peer").visibility, Visibility::Internal);
}

/// The committed scorecard was trained under the registry's directions: exactly the numeric
/// columns of features declared `increasing` carry a sign constraint, and none is negative.
#[test]
fn scorecard_sign_constraints_are_the_registry_directions() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/logistic-sample.json")).unwrap();
    let model: serde_json::Value = serde_json::from_str(&text).unwrap();
    let options: FeatureOptions = serde_json::from_value(model["feature_options"].clone()).unwrap();
    let registry = Registry::all(&options);
    let increasing: Vec<String> = model["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .filter(|f| registry.get(f).unwrap().direction != Direction::None)
        .collect();
    let constrained: Vec<String> = model["sign_constraints"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(constrained, increasing);
    assert!(increasing.len() >= 20, "{increasing:?}");
    // Declared indicator features carry the policy's direction: the sign of their coefficient.
    let coefficient = |feature: &str| {
        let columns = model["preprocessing"]["columns"].as_array().unwrap();
        let j = columns.iter().position(|c| c["kind"] == "numeric" && c["feature"] == feature).unwrap();
        model["coefficients"][j].as_f64().unwrap()
    };
    assert_eq!(registry.get("ind_tax_arrears_max_365d").unwrap().direction, Direction::Increasing);
    assert!(constrained.iter().any(|c| c == "ind_tax_arrears_max_365d"));
    assert!(coefficient("ind_tax_arrears_max_365d") >= 0.0 && coefficient("ind_social_arrears_last") >= 0.0);
    assert_eq!(registry.get("ind_tax_arrears_days_since").unwrap().direction, Direction::Decreasing);
    assert!(coefficient("ind_tax_arrears_days_since") <= 0.0);
    // Electricity use is pure noise in the generated world: its weight is small beside the arrears'.
    let noise = coefficient("ind_electricity_mean_1095d").abs();
    let signal = coefficient("ind_social_arrears_last").abs().max(coefficient("ind_tax_arrears_max_365d").abs());
    assert!(noise < 0.25 * signal, "noise {noise} vs signal {signal}");
}

#[test]
fn windows_come_from_the_options_and_both_backends_agree_on_them() {
    let dir = tempdir();
    riskwarn().args(["generate", "--subjects", "300", "--years", "4", "--seed", "7", "--quiet", "--out"]).arg(dir.path()).run().status(0);
    let v = validate(riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap(), &ValidateOptions { reference_date: date("2099-12-31") }).unwrap();
    let opts = FeatureOptions { windows: vec![60, 180, 730], recent_days: 180, history_days: 730, observation_period_days: 90, peer_region_digits: 2, ..Default::default() };
    let ts = [date("2025-01-01"), date("2026-06-30")];
    let opts = opts.check().unwrap();
    let fast = compute_with(&v, &ts, &opts, Backend::Kernel).unwrap();
    let slow = compute_with(&v, &ts, &opts, Backend::Reference).unwrap();
    let names: Vec<String> = fast.get_column_names().iter().map(|n| n.to_string()).collect();
    let expected: Vec<String> = ["uscc".to_string(), "as_of".to_string()].into_iter().chain(Registry::all(&opts).names().map(String::from)).collect();
    assert_eq!(names, expected);
    for n in ["insp_n_60d", "pen_serious_730d", "cmp_12315_180d", "pen_license_revoked_180d", "cmp_180d_vs_peer", "pen_180d_vs_peer", "list_n_730d"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("365") || n.contains("1095")), "{names:?}");
    assert_eq!(Registry::all(&opts).get("pen_license_revoked_180d").unwrap().label_zh, "近180天吊销许可次数");
    assert_eq!(Registry::all(&opts).get("pen_serious_730d").unwrap().label_zh, "近2年严重处罚次数");
    assert_eq!(Registry::all(&opts).get("insp_violation_trend").unwrap().label_zh, "检查违法次数较前180天增量");
    assert_eq!(Registry::all(&FeatureOptions::default()).get("insp_violation_trend").unwrap().label_zh, "检查违法次数同比增量");
    assert_features_agree(&fast, &slow);
    // The trend compares the last 180 days with the 180 before: by hand from the events.
    let trend = fast.column("pen_trend").unwrap().f64().unwrap();
    let recent = fast.column("pen_n_180d").unwrap().f64().unwrap();
    assert!(trend.iter().zip(recent.iter()).all(|(t, r)| t.unwrap() <= r.unwrap()));
    // Observation period of 90 days: subjects younger than 90 days at T, and only they.
    let age = fast.column("sub_age_days").unwrap().f64().unwrap();
    let obs = fast.column("observation_period").unwrap().f64().unwrap();
    assert!(age.iter().zip(obs.iter()).all(|(a, o)| (a.unwrap() < 90.0) == (o.unwrap() == 1.0)));
}

#[test]
fn feature_options_are_checked() {
    let bad = [
        (FeatureOptions { recent_days: 200, ..Default::default() }, "recent_days = 200 must be one of the windows"),
        (FeatureOptions { windows: vec![30, 30, 365, 1095], ..Default::default() }, "listed twice"),
        (FeatureOptions { windows: vec![0, 365, 1095], ..Default::default() }, "from 1 to 36500"),
        (FeatureOptions { peer_region_digits: 7, ..Default::default() }, "peer_region_digits"),
        (FeatureOptions { windows: vec![30, 365], recent_days: 365, history_days: 365, ..Default::default() }, "must be shorter than history_days"),
        (FeatureOptions { windows: vec![30, 365, 40_000], history_days: 40_000, ..Default::default() }, "from 1 to 36500"),
    ];
    for (opts, needle) in bad {
        let e = opts.check().unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
}

#[test]
fn a_model_trained_under_other_feature_options_is_refused_with_both_values() {
    let dir = tempdir();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, policy_text().replace("observation_period_days = 365", "observation_period_days = 30")).unwrap();
    let done = run_under(&dir, &policy).status(2);
    let e = done.stderr();
    assert!(e.contains("features.observation_period_days = 30") && e.contains("365 in the model"), "{e}");
    assert!(e.contains("retrain"), "{e}");
    assert!(!dir.path().join("out").exists(), "nothing is written");
    // The same for `score`, and for the peer grouping.
    std::fs::write(&policy, policy_text().replace("peer_region_digits = 4", "peer_region_digits = 2")).unwrap();
    let done = score_under(&dir, &policy).status(2);
    assert!(done.stderr().contains("features.peer_region_digits = 2") && done.stderr().contains("4 in the model"), "{}", done.stderr());
    // A rule's feature follows the windows: `recent_days = 90` renames licence_revoked_365d.
    std::fs::write(&policy, policy_text().replace("recent_days = 365", "recent_days = 90").replace("windows = [30, 90, 365, 1095]", "windows = [30, 90, 1095]")).unwrap();
    run_under(&dir, &policy)
        .status(2)
        .stderr_contains("unknown feature `licence_revoked_365d`; did you mean `licence_revoked_90d`");
}

#[test]
fn a_hard_rule_on_an_unknown_feature_names_the_nearest_one() {
    let dir = tempdir();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, policy_text().replace("feature = \"list_serious_now\"", "feature = \"list_serous_now\"")).unwrap();
    run_under(&dir, &policy)
        .status(2)
        .stderr_contains("unknown feature `list_serous_now`; did you mean `list_serious_now`?")
        .stderr_contains("p.toml");
}

#[test]
fn policy_syntax_and_type_errors_say_line_and_column() {
    let text = policy_text();
    let line = text.lines().position(|l| l.starts_with("red = 0.024")).unwrap() + 1;
    let e = riskwarn::policy::Policy::parse(&text.replace("red = 0.024", "red = \"high\"")).unwrap_err().to_string();
    assert!(e.contains(&format!("line {line}, column 7")), "{e}");
    let e = riskwarn::policy::Policy::parse(&text.replace("seed = 20261126", "seed = = 1")).unwrap_err().to_string();
    let seed_line = text.lines().position(|l| l.starts_with("seed = ")).unwrap() + 1;
    assert!(e.contains(&format!("line {seed_line}, column")), "{e}");
}

#[test]
fn english_reasons_use_the_registry_labels() {
    let dir = tempdir();
    let policy = dir.path().join("en.toml");
    std::fs::write(&policy, policy_text().replace("language = \"zh\"", "language = \"en\"")).unwrap();
    score_under(&dir, &policy).status(0);
    let w = read(&dir.path().join("out/latest/warnings.parquet"));
    let text: Vec<String> = w.column("reason_text").unwrap().str().unwrap().iter().take(200).map(|t| t.unwrap().to_string()).collect();
    let registry = Registry::all(&riskwarn::policy::Policy::load(&policy).unwrap().features);
    let labels: Vec<&str> = registry.features.iter().map(|f| f.label_en.as_str()).collect();
    let english = riskwarn::policy::Policy::load(&policy).unwrap();
    let rules: Vec<&str> = english.grades.rules.iter().map(|r| r.label(riskwarn::policy::Language::En)).collect();
    for t in &text {
        // An approved override's reason is the data's own text (written for the public, in Chinese).
        let t = &t.split("; ").filter(|p| !p.starts_with("appeal approved (grade ")).collect::<Vec<_>>().join("; ");
        assert!(!t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{t}");
        for part in t.split("; ").filter(|p| !rules.iter().any(|r| p.starts_with(r))) {
            let label = part.rsplit_once('=').unwrap().0;
            assert!(labels.contains(&label), "{label:?} in {t:?} is not a registry label");
        }
    }
}

#[test]
fn a_rule_on_a_categorical_feature_is_refused_and_one_on_an_internal_feature_is_not_published() {
    let dir = tempdir();
    let policy = dir.path().join("p.toml");
    let rule = |feature: &str, min: &str| format!("\n[[grades.rule]]\nname = \"extra\"\nlabel_zh = \"投诉较多\"\nfeature = \"{feature}\"\nmin = {min}\naction = \"raise\"\nsteps = 1\n");
    std::fs::write(&policy, policy_text() + &rule("subject_type", "1")).unwrap();
    run_under(&dir, &policy).status(2).stderr_contains("feature `subject_type` is categorical");
    std::fs::write(&policy, policy_text() + &rule("cmp_n_365d", "3")).unwrap();
    score_under(&dir, &policy).status(0);
    let full = std::fs::read_to_string(dir.path().join("out/latest/warnings.csv")).unwrap();
    let public = std::fs::read_to_string(dir.path().join("out/latest/warnings_public.csv")).unwrap();
    assert!(full.contains("投诉较多"), "the rule fires on the sample");
    assert!(!public.contains("投诉较多"), "a rule on complaints is not published");
}

#[test]
fn a_hard_rule_on_a_declared_indicator_fires() {
    let dir = tempdir();
    let policy = dir.path().join("p.toml");
    let rule = "\n[[grades.rule]]\nname = \"social_insurance_arrears\"\nlabel_zh = \"社保欠费6个月以上\"\nfeature = \"ind_social_arrears_last\"\nmin = 6\naction = \"set\"\ngrade = \"D\"\n";
    std::fs::write(&policy, policy_text() + rule).unwrap();
    score_under(&dir, &policy).status(0);
    let w = read(&dir.path().join("out/latest/warnings.parquet"));
    let f = tempdir();
    let path = f.path().join("f.parquet");
    riskwarn().args(["features", "--quiet", "--data", "data/sample", "--as-of", "2026-07-01", "--out"]).arg(&path).run().status(0);
    let joined = w
        .lazy()
        .join(read(&path).lazy().select([col("uscc"), col("ind_social_arrears_last")]), [col("uscc")], [col("uscc")], JoinArgs::new(JoinType::Inner))
        .collect()
        .unwrap();
    let months = joined.column("ind_social_arrears_last").unwrap().f64().unwrap();
    let grade = joined.column("credit_grade").unwrap().str().unwrap();
    let overridden = joined.column("grade_before_override").unwrap().str().unwrap();
    let text = joined.column("reason_text").unwrap().str().unwrap();
    let rules = joined.column("hard_rules").unwrap().list().unwrap();
    let mut fired = 0;
    for i in 0..joined.height() {
        let r: Vec<String> = rules.get_as_series(i).unwrap().str().unwrap().iter().flatten().map(String::from).collect();
        let named = r.iter().any(|x| x == "social_insurance_arrears");
        assert_eq!(named, months.get(i).is_some_and(|m| m >= 6.0), "row {i}: {r:?}");
        if named && overridden.get(i).is_none() {
            fired += 1;
            assert_eq!(grade.get(i), Some("D"));
            assert!(text.get(i).unwrap().contains("社保欠费6个月以上"), "{:?}", text.get(i));
        }
    }
    assert!(fired > 20, "{fired}");
}

#[test]
fn the_trees_are_monotone_in_declared_indicators_as_the_policy_says() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/gbdt-sample.json")).unwrap();
    let model: serde_json::Value = serde_json::from_str(&text).unwrap();
    let columns = model["preprocessing"]["columns"].as_array().unwrap();
    let direction = |feature: &str| {
        let j = columns.iter().position(|c| c["feature"] == feature && c["kind"] == "raw").unwrap();
        model["gbdt"]["directions"][j].as_i64().unwrap()
    };
    assert_eq!(direction("ind_tax_arrears_max_365d"), 1);
    assert_eq!(direction("ind_social_arrears_last"), 1);
    assert_eq!(direction("ind_tax_arrears_days_since"), -1);
    assert_eq!(direction("ind_electricity_mean_1095d"), 0);
    assert_eq!(direction("lic_lapsed_n"), 1);
}
