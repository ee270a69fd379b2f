//! The nightly job through the CLI: every output of SPEC §2, reconciled counts and hashes,
//! byte-identical reruns, rank changes against the previous run, atomic commits under SIGKILL,
//! policy validation, and hard rules that a reader can audit.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::support::*;

fn run_at(out: &Path, as_of: &str) -> serde_json::Value {
    riskwarn().args(["run", "--quiet", "--json", "--as-of", as_of, "--out"]).arg(out).run().status(0).json()
}

fn latest(out: &Path) -> PathBuf {
    out.join(std::fs::read_link(out.join("latest")).expect("latest is a symlink"))
}

fn sha(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn nightly_run_writes_every_output_and_reconciles() {
    let out = tempdir();
    let m = run_at(out.path(), "2026-05-01");
    let dir = latest(out.path());
    assert_eq!(dir.file_name().unwrap().to_str().unwrap(), m["run_id"].as_str().unwrap());
    assert!(m["run_id"].as_str().unwrap().starts_with("2026-05-01-"));
    for f in ["warnings.parquet", "warnings.csv", "warnings.xlsx", "warnings_public.csv", "plan.parquet", "rejected.parquet", "report.html", "manifest.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // Counts reconcile per table; output hashes are the files' hashes.
    for t in m["tables"].as_array().unwrap() {
        assert_eq!(t["read"].as_u64().unwrap(), t["used"].as_u64().unwrap() + t["rejected"].as_u64().unwrap(), "{t}");
    }
    for o in m["outputs"].as_array().unwrap() {
        assert_eq!(sha(&dir.join(o["file"].as_str().unwrap())), o["sha256"].as_str().unwrap());
    }
    assert!(m["inputs"].as_array().unwrap().iter().all(|i| i["sha256"].as_str().unwrap().len() == 64));

    let w = read(&dir.join("warnings.parquet"));
    let names: Vec<&str> = w.get_column_names().iter().map(|c| c.as_str()).collect();
    assert_eq!(&names[..15], &riskwarn::score::COLUMNS[..15], "SPEC §2 columns first, in order");
    let n = w.height();
    assert_eq!(n as u64, m["scored"].as_u64().unwrap());
    // Rank 1..n, score descending, ties by uscc.
    let rank = w.column("rank").unwrap().u32().unwrap();
    let score = w.column("score").unwrap().f64().unwrap();
    let uscc = w.column("uscc").unwrap().str().unwrap();
    for i in 0..n {
        assert_eq!(rank.get(i), Some(i as u32 + 1));
        let s = score.get(i).unwrap();
        assert!((0.0..=1.0).contains(&s));
        if i > 0 {
            let p = score.get(i - 1).unwrap();
            assert!(p > s || (p == s && uscc.get(i - 1) < uscc.get(i)), "order at rank {}", i + 1);
        }
    }
    // Level shares follow the policy's shares of the ranked list (red 2.4 %, orange 1.6 %, yellow 11.65 %).
    let levels: std::collections::HashMap<String, u64> =
        m["levels"].as_array().unwrap().iter().map(|v| (v[0].as_str().unwrap().to_string(), v[1].as_u64().unwrap())).collect();
    assert_eq!(levels.values().sum::<u64>(), n as u64);
    assert_eq!(levels["red"], (0.024 * n as f64).round() as u64);
    assert_eq!(levels["red"] + levels["orange"], (0.04 * n as f64).round() as u64);
    // Every entry has three reasons and a reason text; the first run has no previous rank.
    let reasons = w.column("reasons").unwrap().list().unwrap();
    assert!(reasons.amortized_iter().all(|r| r.unwrap().as_ref().len() == 3));
    assert!(w.column("reason_text").unwrap().str().unwrap().iter().all(|t| t.is_some_and(|t| !t.is_empty())));
    assert!(w.column("change").unwrap().str().unwrap().iter().all(|c| c == Some("first_run")));
    assert_eq!(w.column("previous_rank").unwrap().null_count(), n);

    // Supervisor files: BOM + Chinese headers; the public variant masks individuals' names and
    // leaves complaint reasons out.
    let csv = std::fs::read(dir.join("warnings.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}排名,统一社会信用代码,主体名称".as_bytes()));
    let public = String::from_utf8(std::fs::read(dir.join("warnings_public.csv")).unwrap()).unwrap();
    assert!(public.starts_with('\u{feff}'));
    let full = String::from_utf8(csv).unwrap();
    for line in public.lines().skip(1).filter(|l| l.contains("个体工商户")).take(200) {
        let name = line.split(',').nth(2).unwrap();
        let mut chars = name.chars();
        chars.next();
        assert!(chars.all(|c| c == '*'), "individual's name not masked: {name}");
    }
    assert!(full.contains("投诉举报次数") || full.contains("12315投诉次数") || full.contains("属实投诉"), "the full list does show complaint reasons");
    for needle in ["投诉举报次数", "12315投诉次数", "12345投诉次数", "属实投诉", "投诉相对同业"] {
        assert!(!public.contains(needle), "public variant reveals complaint details ({needle})");
    }
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(report.contains("<svg") && report.contains("双随机") && !report.contains("<img src=\"http"));
}

#[test]
fn hard_rules_fire_visibly_and_observation_caps_the_score_grade() {
    let out = tempdir();
    run_at(out.path(), "2026-05-01");
    let w = read(&latest(out.path()).join("warnings.parquet"));
    let features = {
        let f = tempdir();
        let path = f.path().join("f.parquet");
        riskwarn().args(["features", "--quiet", "--data", "data/sample", "--as-of", "2026-05-01", "--out"]).arg(&path).run().status(0);
        read(&path)
    };
    let joined = w
        .lazy()
        .join(features.lazy().select([col("uscc"), col("list_serious_now"), col("list_abnormal_now")]), [col("uscc")], [col("uscc")], JoinArgs::new(JoinType::Inner))
        .collect()
        .unwrap();
    let grade = joined.column("credit_grade").unwrap().str().unwrap();
    let serious = joined.column("list_serious_now").unwrap().f64().unwrap();
    let abnormal = joined.column("list_abnormal_now").unwrap().f64().unwrap();
    let obs = joined.column("observation_period").unwrap().bool().unwrap();
    let text = joined.column("reason_text").unwrap().str().unwrap();
    let rules = joined.column("hard_rules").unwrap().list().unwrap();
    // An approved override (the sample has a few) has the last word over the rules.
    let overridden = joined.column("grade_before_override").unwrap().str().unwrap();
    let mut fired = 0;
    for i in 0..joined.height() {
        if overridden.get(i).is_some() {
            continue;
        }
        let r: Vec<String> = rules.get_as_series(i).unwrap().str().unwrap().iter().flatten().map(String::from).collect();
        if serious.get(i) == Some(1.0) {
            fired += 1;
            assert_eq!(grade.get(i), Some("D"));
            assert!(r.contains(&"serious_violation_list".to_string()));
            assert!(text.get(i).unwrap().contains("严重违法失信名单"));
        }
        if abnormal.get(i) == Some(1.0) {
            assert!(matches!(grade.get(i), Some("C" | "D")), "abnormal-operations listed subjects are at least C");
        }
        if obs.get(i) == Some(true) && r.is_empty() {
            assert!(matches!(grade.get(i), Some("A" | "B")), "observation period: not below B by score alone");
        }
    }
    assert!(fired > 0, "the sample has serious-violation listings");
}

#[test]
fn reruns_are_byte_identical_and_the_next_day_compares_ranks() {
    let out = tempdir();
    let a = run_at(out.path(), "2026-05-01");
    let dir = latest(out.path());
    let files = ["warnings.parquet", "warnings.csv", "warnings_public.csv", "plan.parquet", "warnings.xlsx", "report.html"];
    let first: Vec<String> = files.iter().map(|f| sha(&dir.join(f))).collect();
    let b = run_at(out.path(), "2026-05-01");
    assert_eq!(a["run_id"], b["run_id"], "same inputs → same run id");
    let second: Vec<String> = files.iter().map(|f| sha(&latest(out.path()).join(f))).collect();
    assert_eq!(first, second, "a rerun reproduces every output byte for byte");

    let c = run_at(out.path(), "2026-06-01");
    assert_eq!(c["previous_run"], a["run_id"]);
    let w = read(&latest(out.path()).join("warnings.parquet"));
    let prev = read(&dir.join("warnings.parquet"));
    let change = w.column("change").unwrap().str().unwrap();
    let rank = w.column("rank").unwrap().u32().unwrap();
    let prev_rank = w.column("previous_rank").unwrap().u32().unwrap();
    let old: std::collections::HashMap<&str, u32> = prev
        .column("uscc")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .zip(prev.column("rank").unwrap().u32().unwrap().iter())
        .map(|(u, r)| (u.unwrap(), r.unwrap()))
        .collect();
    let uscc = w.column("uscc").unwrap().str().unwrap();
    let mut seen = std::collections::HashSet::new();
    for i in 0..w.height() {
        let expected = old.get(uscc.get(i).unwrap()).copied();
        assert_eq!(prev_rank.get(i), expected);
        let c = change.get(i).unwrap();
        seen.insert(c.to_string());
        match expected {
            None => assert_eq!(c, "new"),
            Some(p) => assert_eq!(c, if rank.get(i).unwrap() < p { "up" } else if rank.get(i).unwrap() > p { "down" } else { "same" }),
        }
    }
    assert!(seen.contains("up") && seen.contains("down"));
}

#[test]
fn a_killed_run_leaves_the_previous_outputs_untouched() {
    let out = tempdir();
    let first = run_at(out.path(), "2026-05-01");
    let dir = latest(out.path());
    let before: Vec<(PathBuf, String)> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).map(|p| (p.clone(), sha(&p))).collect();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_riskwarn"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--pause-before-commit", "60", "--as-of", "2026-06-01", "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the second run has written everything into its temporary directory.
    let started = std::time::Instant::now();
    let tmp = loop {
        let tmp = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp-") && p.is_dir());
        if let Some(t) = tmp.filter(|t| t.join("manifest.json").exists()) {
            break t;
        }
        assert!(started.elapsed().as_secs() < 120, "the second run never reached its commit");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // The live run holds the lock beside its temporary directory; killing it releases the lock.
    let lock_path = tmp.with_file_name(format!("{}.lock", tmp.file_name().unwrap().to_string_lossy()));
    let probe = std::fs::OpenOptions::new().write(true).open(&lock_path).unwrap();
    assert!(matches!(probe.try_lock(), Err(std::fs::TryLockError::WouldBlock)), "a live run holds its lock");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    probe.try_lock().expect("a killed run's lock is free");
    probe.unlock().unwrap();
    drop(probe);
    assert_eq!(latest(out.path()), dir, "latest still points at the previous run");
    let runs: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.') && n != "latest")
        .collect();
    assert_eq!(runs, vec![first["run_id"].as_str().unwrap().to_string()], "no partial run directory is taken for a run");
    for (p, h) in &before {
        assert_eq!(&sha(p), h, "{} changed", p.display());
    }
    // The next run succeeds and clears the dead run's temporary directory and lock file.
    run_at(out.path(), "2026-06-01");
    assert!(!std::fs::read_dir(out.path()).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".tmp-")));
}

#[test]
fn bad_policies_are_clear_errors_with_exit_2() {
    let dir = tempdir();
    let good = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap();
    let cases = [
        (good.replace("language = \"zh\"", "language = \"zh\"\ncolour = \"red\""), "unknown field `colour`"),
        (good.replace("red = 0.024", "red = 1.5"), "levels.red = 1.5 is outside [0, 1]"),
        (good.replace("method = \"share\"\nred = 0.024\norange = 0.016\nyellow = 0.1165", "method = \"score\"\nred = 0.1\norange = 0.3\nyellow = 0.05"), "out of order"),
        (good.replace("ratios = { A = 0.03, B = 0.10, C = 0.30, D = 1.0 }", "ratios = { A = 0.03, B = 0.10, C = 0.30, D = 1.2 }"), "outside [0, 1]"),
        (good.replace("inspectors_per_visit = 2", "inspectors_per_visit = 1"), "at least 2"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        assert_ne!(text, &good, "case {i} changed nothing");
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        riskwarn().args(["run", "--quiet", "--out"]).arg(dir.path().join("out")).arg("--policy").arg(&path).run().status(2).stderr_contains(needle);
    }
    assert!(!dir.path().join("out").exists(), "nothing is written on a bad policy");
}

#[test]
fn policy_doc_covers_every_field_of_the_policy_file() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/policy.md")).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    if !v.is_table() {
                        out.push(p.clone());
                    }
                    keys(&p, v, out);
                }
            }
            toml::Value::Array(a) => a.iter().for_each(|v| keys(prefix, v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys("", &value, &mut all);
    for k in all {
        assert!(doc.contains(&format!("`{k}`")), "docs/policy.md does not document `{k}`");
    }
}

#[test]
fn anyone_can_redraw_the_plan_from_the_published_seed() {
    let out = tempdir();
    let m = run_at(out.path(), "2026-05-01");
    let dir = latest(out.path());
    let again = out.path().join("redrawn.parquet");
    let seed = m["seed"].as_u64().unwrap().to_string();
    let p = riskwarn()
        .args(["plan", "--quiet", "--json", "--data", "data/sample", "--seed", &seed, "--warnings"])
        .arg(dir.join("warnings.parquet"))
        .arg("--out")
        .arg(&again)
        .run()
        .status(0)
        .json();
    assert_eq!(p["visits"], m["plan_visits"]);
    let plan = read(&dir.join("plan.parquet"));
    let columns: Vec<&str> = plan.get_column_names().iter().map(|c| c.as_str()).collect();
    assert_eq!(columns, riskwarn::plan::COLUMNS, "the columns `riskwarn plan` and `evaluate` require of a plan");
    assert!(read(&again).equals_missing(&read(&dir.join("plan.parquet"))), "riskwarn plan reproduces the run's plan");
    // The plan's own invariants, on the real run: Σπ = capacity per department, selected = capacity.
    for d in m["plan"].as_array().unwrap() {
        let (cap, sum, sel) = (d["capacity"].as_f64().unwrap(), d["sum_probability"].as_f64().unwrap(), d["selected"].as_f64().unwrap());
        let eligible = d["eligible"].as_f64().unwrap();
        assert!((sum - cap.min(eligible).max(d["certainty"].as_f64().unwrap().min(cap))).abs() < 1e-6, "{d}");
        assert_eq!(sel, sum.round(), "{d}");
    }
}

#[test]
fn score_writes_the_list_without_a_plan_and_english_policies_speak_english() {
    let out = tempdir();
    let policy = out.path().join("en.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/riskwarn.toml")).unwrap();
    std::fs::write(&policy, text.replace("language = \"zh\"", "language = \"en\"")).unwrap();
    let m = riskwarn()
        .args(["score", "--quiet", "--json", "--data", "data/sample", "--model", "models/gbdt-sample.json", "--as-of", "2026-05-01", "--out"])
        .arg(out.path())
        .arg("--policy")
        .arg(&policy)
        .run()
        .status(0)
        .json();
    assert!(m["model_id"].as_str().unwrap().starts_with("gbdt-"));
    let dir = latest(out.path());
    assert!(!dir.join("plan.parquet").exists() && dir.join("warnings.parquet").exists());
    let csv = std::fs::read_to_string(dir.join("warnings.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}Rank,Unified social credit code,Name,Region code,Region,Industry code,Industry,Subject type,Risk score,Warning level"), "{}", &csv[..200]);
    assert!(csv.lines().nth(1).unwrap().contains(",red,"));
    let w = read(&dir.join("warnings.parquet"));
    let text = w.column("reason_text").unwrap().str().unwrap().get(0).unwrap().to_string();
    assert!(text.is_ascii(), "English reason text: {text}");
}
