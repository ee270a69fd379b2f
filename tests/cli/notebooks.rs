//! The analysts' notebooks (notebooks/*.ipynb): committed without outputs, and every one runs top
//! to bottom under nbclient (notebooks/run_all.py, a timeout per cell) on fresh runs of the
//! embedded sample — two into one out directory, so that 03_plan follows the earlier run's plan
//! through and checks its Horvitz–Thompson figures against the manifest. Skipped, with one line,
//! where python3 or a module of notebooks/requirements.txt is missing.

use std::path::{Path, PathBuf};

use crate::support::*;

fn notebooks() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .collect();
    out.sort();
    out
}

#[test]
fn committed_notebooks_carry_no_outputs() {
    let all = notebooks();
    let names: Vec<String> = all.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["01_explore_run.ipynb", "02_model_validation.ipynb", "03_plan.ipynb"] {
        assert!(names.iter().any(|n| n == expected), "notebooks/{expected} missing (found {names:?})");
    }
    for path in &all {
        let nb: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        for (i, cell) in nb["cells"].as_array().expect("cells").iter().enumerate() {
            if cell["cell_type"] != "code" {
                continue;
            }
            let clean = cell["outputs"].as_array().is_some_and(|o| o.is_empty()) && cell["execution_count"].is_null();
            assert!(
                clean,
                "{} code cell {i} has outputs or an execution count: commit notebooks cleared \
                 (jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)",
                path.display()
            );
        }
    }
}

#[test]
fn the_analysts_notebooks_run_on_a_fresh_run() {
    let modules = ["nbclient", "nbformat", "ipykernel", "matplotlib", "pandas", "pyarrow"];
    let probe = format!(
        "import importlib.util, sys; m = [n for n in {modules:?} if importlib.util.find_spec(n) is None]; print(' '.join(m)); sys.exit(1 if m else 0)"
    );
    match std::process::Command::new("python3").args(["-c", &probe]).output() {
        Err(_) => return skipped("the notebooks: no python3 (then pip install -r notebooks/requirements.txt)"),
        Ok(o) if !o.status.success() => {
            let missing = String::from_utf8_lossy(&o.stdout).trim().to_string();
            return skipped(&format!("the notebooks: python3 lacks {missing} (pip install -r notebooks/requirements.txt)"));
        }
        Ok(_) => {}
    }
    let out = tempdir();
    for as_of in ["2026-05-01", "2026-07-01"] {
        riskwarn().args(["run", "--quiet", "--as-of", as_of, "--out"]).arg(out.path()).run().status(0);
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let started = std::time::Instant::now();
    let o = std::process::Command::new("python3")
        .arg("notebooks/run_all.py")
        .arg(out.path().join("latest"))
        .args(["--timeout", "300", "--data"])
        .arg(Path::new(root).join("data/sample"))
        .current_dir(root)
        .env("RISKWARN_ROOT", root)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "a notebook failed:\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    for nb in notebooks() {
        let name = nb.file_name().unwrap().to_string_lossy().into_owned();
        assert!(stdout.contains(&format!("{name}: ")), "{name} did not run:\n{stdout}");
    }
    print!("{stdout}");
    println!("notebooks ran in {:.1} s", started.elapsed().as_secs_f64());
}
