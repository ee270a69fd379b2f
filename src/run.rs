//! The nightly job (SPEC §2–3 `run`, `score`): load+validate → features as of T → score+reasons
//! → grade+level → plan → outputs, manifest and report, written into a temporary directory and
//! renamed into `OUT_DIR/<run_id>/` only when complete; `OUT_DIR/latest` is switched last.
//! A killed run leaves the previous outputs and `latest` untouched.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

use crate::dates;
use crate::error::{Error, Result};
use crate::model::{Model, Stability};
use crate::plan::{DepartmentSummary, Plan, Roster};
use crate::policy::{Language, Policy};
use crate::validate::TableCounts;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub data: PathBuf,
    pub model: PathBuf,
    pub policy: PathBuf,
    /// As-of date; default: today, clamped to the day after the data's last date.
    pub as_of: Option<i32>,
    pub out: PathBuf,
    /// Seed of the plan's draw; default: the policy's published seed.
    pub seed: Option<u64>,
    /// Build the inspection plan (false for `riskwarn score`).
    pub with_plan: bool,
    /// Dates after this are rejected as in the future.
    pub today: i32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileHash {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timings {
    pub load: f64,
    pub validate: f64,
    pub features: f64,
    pub score: f64,
    pub plan: f64,
    pub write: f64,
    pub total: f64,
    /// Seconds per output file (within `write`).
    pub files: Vec<(String, f64)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub run_id: String,
    pub as_of: String,
    pub engine_version: String,
    pub model_id: String,
    pub model_file: FileHash,
    pub policy_file: FileHash,
    pub policy_hash: String,
    pub seed: u64,
    pub plan_method: Option<String>,
    pub previous_run: Option<String>,
    pub inputs: Vec<FileHash>,
    pub tables: Vec<TableCounts>,
    pub scored: usize,
    pub levels: Vec<(String, u64)>,
    pub grades: Vec<(String, u64)>,
    pub hard_rules_fired: Vec<(String, u64)>,
    pub plan: Vec<DepartmentSummary>,
    pub plan_selections: usize,
    pub plan_visits: usize,
    pub stability: Vec<Stability>,
    pub outputs: Vec<FileHash>,
    pub timings_seconds: Timings,
    pub notices: Vec<String>,
}

pub struct RunResult {
    pub manifest: Manifest,
    pub run_dir: PathBuf,
}

fn file_hash(path: &Path, sha256: String, base: &Path) -> Result<FileHash> {
    Ok(FileHash {
        file: path.strip_prefix(base).unwrap_or(path).display().to_string(),
        sha256,
        bytes: std::fs::metadata(path)?.len(),
    })
}

/// The most recent earlier run in `out` (greatest as-of date before `as_of`; ties by run id):
/// its id and its warnings' `uscc` and `rank`. Same-day reruns compare with the same baseline,
/// so a rerun of the same inputs reproduces the same bytes.
pub fn previous_run(out: &Path, as_of: &str) -> Result<Option<(String, DataFrame)>> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(None) };
    let mut best: Option<(String, String, PathBuf)> = None;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == "latest" || !e.path().is_dir() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path().join("manifest.json")) else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let (Some(id), Some(date)) = (v["run_id"].as_str(), v["as_of"].as_str()) else { continue };
        if date < as_of && best.as_ref().is_none_or(|b| (date, id) > (b.0.as_str(), b.1.as_str())) {
            best = Some((date.to_string(), id.to_string(), e.path()));
        }
    }
    match best {
        None => Ok(None),
        Some((_, id, dir)) => {
            let w = crate::io::read_parquet(&dir.join("warnings.parquet"))?;
            Ok(Some((id, w.select(["uscc", "rank"])?)))
        }
    }
}

fn remove_stale_temp_dirs(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix(".tmp-").and_then(|r| r.rsplit('-').next()).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Renames the finished temporary directory to `out/<run_id>` and points `out/latest` at it.
fn commit(tmp: &Path, out: &Path, run_id: &str) -> Result<PathBuf> {
    let pid = std::process::id();
    let target = out.join(run_id);
    if target.exists() {
        // Same run id = same inputs, model, policy, seed and baseline: replace it whole.
        let old = out.join(format!(".old-{run_id}-{pid}"));
        std::fs::rename(&target, &old)?;
        std::fs::rename(tmp, &target)?;
        std::fs::remove_dir_all(&old)?;
    } else {
        std::fs::rename(tmp, &target)?;
    }
    let link = out.join(format!(".latest-{pid}"));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(run_id, &link)?;
    std::fs::rename(&link, out.join("latest"))?;
    Ok(target)
}

/// The data's last event date (after validation).
fn last_day(data: &crate::validate::Validated) -> Option<i32> {
    crate::model::train::data_span(data).ok().map(|(_, hi)| hi)
}

pub fn run(opts: &RunOptions, progress: &dyn Fn(&str)) -> Result<RunResult> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let mut notices: Vec<String> = Vec::new();
    // Policy and model first: a bad one stops the run before any data is read.
    let policy = Policy::load(&opts.policy)?;
    let model = Model::load(&opts.model)?;
    model.require_feature_options(&policy.features, &opts.policy.display().to_string())?;
    let seed = opts.seed.unwrap_or(policy.seed);
    let zh = policy.language == Language::Zh;

    progress("load");
    let t = Instant::now();
    let (sources, _) = crate::io::discover(&opts.data)?;
    let input_files: Vec<PathBuf> = sources.iter().flat_map(|s| s.files.clone()).collect();
    let (raw, hashes) = rayon::join(|| crate::io::load_dir(&opts.data), || crate::io::sha256_files(&input_files));
    let (raw, hashes) = (raw?, hashes?);
    notices.extend(raw.notices.iter().cloned());
    let inputs: Vec<FileHash> =
        input_files.iter().zip(hashes).map(|(p, h)| file_hash(p, h, &opts.data)).collect::<Result<_>>()?;
    timings.load = t.elapsed().as_secs_f64();

    progress("validate");
    let t = Instant::now();
    let mut validated = crate::validate::validate(raw, &crate::validate::ValidateOptions { reference_date: opts.today })?;
    notices.extend(validated.notices.iter().cloned());
    timings.validate = t.elapsed().as_secs_f64();
    let as_of = match opts.as_of {
        Some(d) => d,
        None => last_day(&validated).map_or(opts.today, |d| opts.today.min(d + 1)),
    };
    let as_of_text = dates::format(as_of);

    progress("features");
    let t = Instant::now();
    let features = crate::features::compute(&validated, &[as_of], &policy.features)?;
    if features.height() == 0 {
        return Err(Error::BadArgument(format!("no subject is scored as of {as_of_text} (none active/suspended and established before it)")));
    }
    // Event tables are no longer needed; keep the registry and the roster.
    validated.tables.retain(|(s, _)| matches!(s.name, "subjects" | "inspectors" | "conflicts"));
    timings.features = t.elapsed().as_secs_f64();

    progress("score");
    let t = Instant::now();
    let previous = previous_run(&opts.out, &as_of_text)?;
    let subjects = validated.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let warnings = crate::score::warnings(&crate::score::WarningsInput {
        features: &features,
        subjects,
        model: &model,
        policy: &policy,
        previous: previous.as_ref().map(|p| &p.1),
    })?;
    notices.extend(warnings.notices.iter().cloned());
    let stability = model.stability(&features, &warnings.scores_in_feature_order)?;
    drop(features);
    let public_reason_text = warnings.public_reason_text;
    let warnings = warnings.frame;
    for s in stability.iter().filter(|s| s.alert) {
        notices.push(format!("stability: PSI of {} is {:.3} (> {}): the population has moved since training; consider retraining", s.name, s.psi, crate::model::PSI_ALERT));
    }
    timings.score = t.elapsed().as_secs_f64();

    progress("plan");
    let t = Instant::now();
    let plan: Option<Plan> = if opts.with_plan {
        let roster = match validated.table("inspectors") {
            Some(i) => Some(Roster::from_frames(i, validated.table("conflicts"))?),
            None => None,
        };
        let units = crate::plan::units_from_warnings(&warnings)?;
        let plan = crate::plan::plan(&units, &policy.plan, roster.as_ref(), seed)?;
        notices.extend(plan.notices.iter().cloned());
        Some(plan)
    } else {
        None
    };
    timings.plan = t.elapsed().as_secs_f64();

    progress("write");
    let t = Instant::now();
    let model_file = file_hash(&opts.model, crate::io::sha256_file(&opts.model)?, Path::new(""))?;
    let policy_file = file_hash(&opts.policy, crate::io::sha256_file(&opts.policy)?, Path::new(""))?;
    let previous_id = previous.as_ref().map(|p| p.0.clone());
    let policy_hash = policy.hash();
    let run_id = {
        let mut key = format!("{}|{}|{}|{seed}|{}|{:?}|{}", env!("CARGO_PKG_VERSION"), model_file.sha256, policy_hash, as_of_text, previous_id, opts.with_plan);
        for i in &inputs {
            key += &format!("|{}:{}", i.file, i.sha256);
        }
        format!("{}-{}", as_of_text, &crate::digest::hex_digest(key.as_bytes())[..8])
    };
    std::fs::create_dir_all(&opts.out)?;
    remove_stale_temp_dirs(&opts.out);
    let tmp = opts.out.join(format!(".tmp-{run_id}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let outputs = Outputs {
        dir: &tmp,
        warnings: &warnings,
        plan: plan.as_ref(),
        rejected: &validated.rejected,
        public_reason_text: &public_reason_text,
        zh,
        as_of,
    };
    let result = write_outputs(&outputs, &mut timings.files);
    let mut outputs = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let counts = |c: &str, v: &[&str]| crate::score::counts(&warnings, c, v);
    let mut fired: Vec<(String, u64)> = policy.grades.rules.iter().map(|r| (r.name.clone(), 0)).collect();
    for list in warnings.column("hard_rules")?.list()?.amortized_iter().flatten() {
        for name in list.as_ref().str()?.iter().flatten() {
            if let Some(e) = fired.iter_mut().find(|(k, _)| k == name) {
                e.1 += 1;
            }
        }
    }
    let mut manifest = Manifest {
        run_id: run_id.clone(),
        as_of: as_of_text.clone(),
        engine_version: env!("CARGO_PKG_VERSION").into(),
        model_id: model.model_id.clone(),
        model_file,
        policy_file,
        policy_hash,
        seed,
        plan_method: plan.as_ref().map(|_| crate::plan::METHOD.to_string()),
        previous_run: previous_id,
        inputs,
        tables: validated.counts.clone(),
        scored: warnings.height(),
        levels: counts("risk_level", &crate::grade::LEVELS)?,
        grades: counts("credit_grade", &["A", "B", "C", "D"])?,
        hard_rules_fired: fired,
        plan: plan.as_ref().map(|p| p.departments.clone()).unwrap_or_default(),
        plan_selections: plan.as_ref().map_or(0, |p| p.selections),
        plan_visits: plan.as_ref().map_or(0, |p| p.visits),
        stability: stability.clone(),
        outputs: Vec::new(),
        timings_seconds: Timings::default(),
        notices: notices.clone(),
    };
    let report = crate::report::html(&crate::report::ReportInput {
        run_id: &run_id,
        as_of: &as_of_text,
        model: &model,
        warnings: &warnings,
        plan: plan.as_ref().unwrap_or(&Plan::empty()),
        stability: &stability,
        tables: &validated.counts,
        notices: &notices,
        zh,
    })?;
    let report_path = tmp.join("report.html");
    crate::io::write_text(&report_path, &report)?;
    outputs.push(report_path);
    let hashes = crate::io::sha256_files(&outputs)?;
    manifest.outputs = outputs.iter().zip(hashes).map(|(p, h)| file_hash(p, h, &tmp)).collect::<Result<_>>()?;
    timings.write = t.elapsed().as_secs_f64();
    timings.total = started.elapsed().as_secs_f64();
    manifest.timings_seconds = timings;
    crate::io::write_json(&manifest, &tmp.join("manifest.json"))?;
    if let Some(secs) = std::env::var("RISKWARN_PAUSE_BEFORE_COMMIT").ok().and_then(|v| v.parse::<u64>().ok()) {
        // Test hook: lets the tests kill a run whose outputs are written but not yet committed.
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
    let run_dir = commit(&tmp, &opts.out, &run_id)?;
    Ok(RunResult { manifest, run_dir })
}

/// What the output files are made of.
struct Outputs<'a> {
    dir: &'a Path,
    warnings: &'a DataFrame,
    plan: Option<&'a Plan>,
    rejected: &'a DataFrame,
    public_reason_text: &'a [String],
    zh: bool,
    as_of: i32,
}

/// Every output file except the report and the manifest; returns their paths.
fn write_outputs(o: &Outputs, files: &mut Vec<(String, f64)>) -> Result<Vec<PathBuf>> {
    // The workbook is written on its own thread while the other files are written.
    let (xlsx, rest) = rayon::join(|| write_workbook(o), || write_tables(o, files));
    let dir = o.dir;
    let (xlsx_seconds, mut out) = (xlsx?, rest?);
    files.push(("warnings.xlsx (concurrent)".into(), xlsx_seconds));
    out.push(dir.join("warnings.xlsx"));
    Ok(out)
}

fn write_workbook(o: &Outputs) -> Result<f64> {
    let Outputs { dir, warnings, zh, as_of, .. } = *o;
    let clock = Instant::now();
    let path = |name: &str| dir.join(name);
    let table = crate::report::supervisor_table(warnings, zh)?;
    // Excel holds the red/orange/yellow part (its sheet limit is 1,048,576 rows).
    const EXCEL_ROWS: usize = 1_048_575;
    let levels: Vec<&str> = warnings.column("risk_level")?.str()?.iter().map(|v| v.unwrap_or("")).collect();
    let flagged = levels.iter().take_while(|l| **l != "blue").count().min(EXCEL_ROWS);
    let total_flagged = levels.iter().filter(|l| **l != "blue").count();
    let sheet = table.head(Some(flagged));
    let colors = levels[..flagged]
        .iter()
        .map(|l| match *l {
            "red" => Some(0xF4B6B6),
            "orange" => Some(0xF9D5A7),
            "yellow" => Some(0xFFF2A8),
            _ => None,
        })
        .collect();
    let (y, m, d) = dates::civil_from_days(as_of);
    let mut notes = vec![
        if zh { "本表仅含红色、橙色、黄色预警主体；完整名单见 warnings.csv / warnings.parquet。".to_string() } else {
            "This workbook holds the red, orange and yellow warnings only; the full list is warnings.csv / warnings.parquet.".to_string()
        },
        format!("{} {} / {}", if zh { "本表行数 / 红橙黄合计:" } else { "rows here / red+orange+yellow:" }, flagged, total_flagged),
    ];
    if flagged < total_flagged {
        notes.push(format!("Excel's row limit cut the sheet at {EXCEL_ROWS} rows."));
    }
    let widths = sheet.get_column_names().iter().map(|c| if c.contains("reason") || c.as_str() == "预警理由" { 80.0 } else { 16.0 }).collect();
    crate::io::write_xlsx(
        &crate::io::Workbook {
            sheet_name: if zh { "预警名单" } else { "warnings" },
            frame: &sheet,
            row_colors: colors,
            column_widths: widths,
            notes_sheet: if zh { "说明" } else { "notes" },
            notes,
            date: (y as u16, m as u8, d as u8),
        },
        &path("warnings.xlsx"),
    )?;
    Ok(clock.elapsed().as_secs_f64())
}

fn write_tables(o: &Outputs, files: &mut Vec<(String, f64)>) -> Result<Vec<PathBuf>> {
    let Outputs { dir, warnings, plan, rejected, public_reason_text, zh, .. } = *o;
    let mut out = Vec::new();
    let path = |name: &str| dir.join(name);
    let mut clock = Instant::now();
    let mut done = |name: &str, out: &mut Vec<PathBuf>, files: &mut Vec<(String, f64)>| {
        out.push(path(name));
        files.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    crate::io::write_parquet(&mut warnings.clone(), &path("warnings.parquet"))?;
    done("warnings.parquet", &mut out, files);
    let mut table = crate::report::supervisor_table(warnings, zh)?;
    crate::io::write_csv_bom(&mut table, &path("warnings.csv"))?;
    done("warnings.csv", &mut out, files);
    let mut public = crate::report::supervisor_table(&crate::score::public_variant(warnings, public_reason_text)?, zh)?;
    crate::io::write_csv_bom(&mut public, &path("warnings_public.csv"))?;
    drop(public);
    done("warnings_public.csv", &mut out, files);

    if let Some(p) = plan {
        let mut f = p.frame.clone();
        crate::io::write_parquet(&mut f, &path("plan.parquet"))?;
        done("plan.parquet", &mut out, files);
    }
    crate::io::write_parquet(&mut rejected.clone(), &path("rejected.parquet"))?;
    done("rejected.parquet", &mut out, files);
    Ok(out)
}
