//! The file boundary: riskwarn files of the wrong kind, unwritable and full output locations are
//! exit-2 or exit-1 errors that name the file, printed once; a live run's temporary directory
//! is told from a dead one's by its lock.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::support::*;

/// Asserts stderr is one `error:` line that holds `needle` exactly once.
fn said_once(done: &Done, needle: &str) {
    let stderr = done.stderr();
    assert_eq!(stderr.matches(needle).count(), 1, "{needle:?} should appear once in:\n{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "one error message:\n{stderr}");
}

#[test]
fn plan_of_a_file_that_is_not_a_warning_list_is_exit_2_naming_file_and_columns() {
    let dir = tempdir();
    let out = dir.path().join("p.parquet");
    let done = riskwarn().args(["plan", "--quiet", "--warnings", "data/sample/subjects.parquet", "--out"]).arg(&out).run().status(2);
    said_once(&done, "data/sample/subjects.parquet");
    said_once(&done, "credit_grade");
    assert!(done.stderr().contains("not a riskwarn warning list"), "{}", done.stderr());
    assert!(!out.exists());

    // Every column present, but not of the warning list's types.
    let warnings = dir.path().join("warnings.parquet");
    fake_warnings(&warnings);
    let done = riskwarn().args(["plan", "--quiet", "--out"]).arg(&out).arg("--warnings").arg(&warnings).run().status(2);
    said_once(&done, &warnings.display().to_string());
    assert!(!out.exists());
}

/// A one-row frame with every column of a warning list (the columns read back typed, the rest
/// text), enough to get past the check of the warnings and on to the plan's. `text` names a
/// column written as text whatever its type.
fn fake_warnings_with(path: &Path, text: &str) {
    let columns: Vec<Column> = riskwarn::score::COLUMNS
        .iter()
        .map(|c| match *c {
            c if c == text => Column::new(c.into(), vec!["x"]),
            "as_of" => dates("as_of", &[Some("2026-05-01")]),
            "rank" => Column::new("rank".into(), vec![1u32]),
            "score" => Column::new("score".into(), vec![0.5f64]),
            "observation_period" => Column::new("observation_period".into(), vec![false]),
            c => Column::new(c.into(), vec!["x"]),
        })
        .collect();
    write(&mut DataFrame::new_infer_height(columns).unwrap(), path);
}

fn fake_warnings(path: &Path) {
    fake_warnings_with(path, "")
}

#[test]
fn a_warning_list_with_a_column_of_the_wrong_type_is_exit_2_naming_it() {
    let dir = tempdir();
    let warnings = dir.path().join("warnings.parquet");
    fake_warnings_with(&warnings, "score");
    let done = riskwarn().args(["plan", "--quiet", "--out"]).arg(dir.path().join("p.parquet")).arg("--warnings").arg(&warnings).run().status(2);
    said_once(&done, "column `score` holds");
    assert!(done.stderr().contains("expected numbers") && done.stderr().contains("warnings.parquet"), "{}", done.stderr());
    let done = riskwarn()
        .args(["evaluate", "--quiet", "--outcomes", "data/sample", "--warnings"])
        .arg(&warnings)
        .run()
        .status(2);
    said_once(&done, "column `score` holds");
}

#[test]
fn evaluate_of_files_of_the_wrong_kind_is_exit_2_naming_the_file() {
    let done = riskwarn()
        .args(["evaluate", "--quiet", "--warnings", "data/sample/subjects.parquet", "--outcomes", "data/sample"])
        .run()
        .status(2);
    said_once(&done, "data/sample/subjects.parquet");
    assert!(done.stderr().contains("missing columns"), "{}", done.stderr());

    let dir = tempdir();
    let warnings = dir.path().join("warnings.parquet");
    fake_warnings(&warnings);
    let done = riskwarn()
        .args(["evaluate", "--quiet", "--outcomes", "data/sample", "--plan", "data/sample/inspections.parquet", "--warnings"])
        .arg(&warnings)
        .run()
        .status(2);
    said_once(&done, "data/sample/inspections.parquet");
    assert!(done.stderr().contains("not a riskwarn inspection plan") && done.stderr().contains("inclusion_probability"), "{}", done.stderr());
}

#[test]
fn score_and_run_with_a_model_of_the_wrong_kind_are_exit_2_naming_the_file() {
    let dir = tempdir();
    let not_a_model = dir.path().join("manifest.json");
    std::fs::write(&not_a_model, "{\"run_id\": \"2026-05-01-00000000\"}\n").unwrap();
    for model in [Path::new("data/sample/subjects.parquet"), &not_a_model, Path::new("data/sample")] {
        let out = dir.path().join("out");
        for command in ["run", "score"] {
            let done = riskwarn()
                .args([command, "--quiet", "--data", "data/sample", "--as-of", "2026-05-01", "--model"])
                .arg(model)
                .arg("--out")
                .arg(&out)
                .run()
                .status(2);
            said_once(&done, &model.display().to_string());
        }
        assert!(!out.exists(), "nothing is written with a bad model");
    }
}

#[test]
fn an_output_below_a_regular_file_is_exit_2_naming_the_path_once() {
    let dir = tempdir();
    let file = dir.path().join("a_file");
    std::fs::write(&file, "not a directory").unwrap();
    let out = file.join("out");
    let blocked = format!("{} is a file, not a directory", file.display());
    let done = riskwarn().args(["run", "--quiet", "--as-of", "2026-05-01", "--out"]).arg(&out).run().status(2);
    said_once(&done, &format!("error: cannot create directory {}: {blocked}", out.display()));
    let done = riskwarn().args(["generate", "--quiet", "--subjects", "50", "--years", "1", "--out"]).arg(&out).run().status(2);
    said_once(&done, &format!("error: cannot create directory {}: {blocked}", out.display()));
    // A file output whose directory is a file.
    let done = riskwarn()
        .args(["features", "--quiet", "--as-of", "2026-05-01", "--out"])
        .arg(file.join("f.parquet"))
        .run()
        .status(2);
    said_once(&done, &blocked);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
}

/// A small tmpfs mounted for the life of the value (needs root; tests and CI run as root).
struct SmallDisk<'a>(&'a Path);

impl<'a> SmallDisk<'a> {
    fn mount(dir: &'a Path) -> Result<SmallDisk<'a>, String> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=200k", "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        if !status.status.success() {
            return Err(String::from_utf8_lossy(&status.stderr).trim().to_string());
        }
        Ok(SmallDisk(dir))
    }
}

impl Drop for SmallDisk<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_names_the_path_once_and_leaves_nothing_behind() {
    let dir = tempdir();
    let mount = dir.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let disk = match SmallDisk::mount(&mount) {
        Ok(d) => d,
        Err(e) => {
            skipped(&format!("a_full_disk_names_the_path_once: cannot mount a 200 KiB tmpfs here ({e})"));
            return;
        }
    };
    let out = mount.join("out");
    let done = riskwarn().args(["run", "--quiet", "--as-of", "2026-05-01", "--out"]).arg(&out).run().status(1);
    said_once(&done, "No space left on device");
    assert!(done.stderr().contains(&format!("error: cannot write {}", out.display())), "names the file:\n{}", done.stderr());
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the failed run removes its temporary directory and lock: {left:?}");
    drop(disk);
}

#[test]
fn a_live_runs_temporary_directory_is_kept_and_dead_ones_are_removed() {
    let out = tempdir();
    let out = out.path();
    // A live run: its directory and its lock, held by this process.
    let live = out.join(".tmp-2026-05-01-aaaaaaaa-1");
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join("warnings.parquet"), "partial").unwrap();
    let lock = File::create(out.join(".tmp-2026-05-01-aaaaaaaa-1.lock")).unwrap();
    lock.try_lock().unwrap();
    // Dead runs: a directory whose lock file nobody holds, one without a lock file (an older
    // riskwarn), and a lock file left by a run killed after its commit.
    let dead = out.join(".tmp-2026-05-01-bbbbbbbb-2");
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("warnings.parquet"), "partial").unwrap();
    File::create(out.join(".tmp-2026-05-01-bbbbbbbb-2.lock")).unwrap();
    std::fs::create_dir(out.join(".tmp-2026-05-01-cccccccc-3")).unwrap();
    File::create(out.join(".tmp-2026-05-01-dddddddd-4.lock")).unwrap();

    let run = riskwarn::io::RunDir::create(out, "2026-05-01-eeeeeeee").unwrap();
    let mut names: Vec<String> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let own = format!(".tmp-2026-05-01-eeeeeeee-{}", std::process::id());
    let mut expected = vec![
        ".tmp-2026-05-01-aaaaaaaa-1".to_string(),
        ".tmp-2026-05-01-aaaaaaaa-1.lock".to_string(),
        own.clone(),
        format!("{own}.lock"),
    ];
    expected.sort();
    assert_eq!(names, expected, "the live run's files stay, the dead runs' go");
    assert_eq!(std::fs::read_to_string(live.join("warnings.parquet")).unwrap(), "partial");
    assert_eq!(run.path(), out.join(&own));

    // Committed, the run is renamed into place, `latest` points at it and its lock is gone.
    std::fs::write(run.path().join("manifest.json"), "{}").unwrap();
    let committed = run.commit().unwrap();
    assert_eq!(committed, out.join("2026-05-01-eeeeeeee"));
    assert!(committed.join("manifest.json").is_file());
    assert_eq!(std::fs::read_link(out.join("latest")).unwrap(), Path::new("2026-05-01-eeeeeeee"));
    assert!(!out.join(&own).exists() && !out.join(format!("{own}.lock")).exists());

    // Once the live run ends, the next run removes its leftovers. (Unlocked explicitly: a lock
    // goes with the last copy of its descriptor, and a process that a parallel test is spawning
    // may hold a copy until its exec.)
    lock.unlock().unwrap();
    drop(lock);
    let live_lock = out.join(".tmp-2026-05-01-aaaaaaaa-1.lock");
    let next = riskwarn::io::RunDir::create(out, "2026-05-02-ffffffff").unwrap();
    assert!(!live.exists() && !live_lock.exists());
    drop(next);
    let mut names: Vec<String> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["2026-05-01-eeeeeeee", "latest"], "a run dropped uncommitted removes its directory and lock");
}

#[test]
fn a_notice_is_printed_once() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    std::fs::write(data.join("permits.parquet"), b"").unwrap();
    let done = riskwarn().args(["run", "--as-of", "2026-07-01", "--data"]).arg(&data).arg("--out").arg(dir.path().join("out")).run().status(0);
    // The committed policy speaks Chinese; the text comes from the message table.
    let note = riskwarn::messages::Messages::ZH.fill("notice.unknown_table", &[("name", &"permits.parquet")]);
    assert!(note.contains("`permits.parquet`"), "{note}");
    assert_eq!(done.stderr().matches(note.as_str()).count(), 1, "{}", done.stderr());
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/latest/manifest.json")).unwrap()).unwrap();
    let notices: Vec<&str> = manifest["notices"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(notices.iter().filter(|n| n.contains("permits.parquet")).count(), 1, "{notices:?}");
}

#[test]
fn a_run_killed_while_replacing_its_namesake_gets_it_back() {
    let out = tempdir();
    let out = out.path();
    // Killed between moving the old run aside and moving the new one in: the old one returns.
    let aside = out.join(".tmp-2026-05-01-ffffffff-9.old");
    std::fs::create_dir(&aside).unwrap();
    std::fs::write(aside.join("manifest.json"), "old").unwrap();
    // Killed after the new one was in place: the old copy is removed.
    std::fs::create_dir(out.join("2026-05-01-gggggggg")).unwrap();
    std::fs::create_dir(out.join(".tmp-2026-05-01-gggggggg-8.old")).unwrap();
    // Still replacing (its lock is held): left alone.
    let live = out.join(".tmp-2026-05-01-hhhhhhhh-7.old");
    std::fs::create_dir(&live).unwrap();
    let lock = File::create(out.join(".tmp-2026-05-01-hhhhhhhh-7.lock")).unwrap();
    lock.try_lock().unwrap();

    let run = riskwarn::io::RunDir::create(out, "2026-05-01-eeeeeeee").unwrap();
    assert_eq!(std::fs::read_to_string(out.join("2026-05-01-ffffffff/manifest.json")).unwrap(), "old");
    assert!(!aside.exists());
    assert!(out.join("2026-05-01-gggggggg").is_dir() && !out.join(".tmp-2026-05-01-gggggggg-8.old").exists());
    assert!(live.is_dir());
    drop(run);
    lock.unlock().unwrap();

    // A rerun of the same id replaces the run whole and leaves nothing aside.
    for content in ["first", "second"] {
        let run = riskwarn::io::RunDir::create(out, "2026-05-01-ffffffff").unwrap();
        std::fs::write(run.path().join("manifest.json"), content).unwrap();
        run.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("2026-05-01-ffffffff/manifest.json")).unwrap(), content);
    }
    let leftovers: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".old") && !n.contains("hhhhhhhh"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_bad_horizon_stops_before_any_file_is_read() {
    riskwarn()
        .args(["evaluate", "--warnings", "no/such/warnings.parquet", "--outcomes", "no/such/dir", "--horizon", "0"])
        .run()
        .status(2)
        .stderr_contains("--horizon must be 1 to 3650 days, got 0");
    riskwarn()
        .args(["train", "--data", "no/such/dir", "--horizon", "2147483647", "--model-out", "no/such/model.json"])
        .run()
        .status(2)
        .stderr_contains("--horizon must be 1 to 3650 days");
}
