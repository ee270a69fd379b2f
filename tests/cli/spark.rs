//! The Spark runner (spark/) on Spark local mode against `riskwarn run`: its pytest suite, run
//! with this build's binary. Skipped, with one line, where Java or pyspark is missing.

use crate::support::skipped;

fn has(cmd: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

#[test]
fn the_spark_runner_writes_the_native_run_directory() {
    if !has("java", &["-version"]) {
        return skipped("the Spark runner's tests: no Java (apt-get install openjdk-17-jre-headless)");
    }
    if !has("python3", &["-c", "import pyspark, pyarrow, pytest"]) {
        return skipped("the Spark runner's tests: pyspark, pyarrow or pytest not installed (pip install -r spark/requirements.txt)");
    }
    let out = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "spark/tests"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RISKWARN_BIN", env!("CARGO_BIN_EXE_riskwarn"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "spark/tests failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
}
