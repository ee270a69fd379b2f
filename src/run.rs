//! The nightly job (SPEC §2–3 `run`, `score`) in three steps. [`load`] reads the policy, the
//! model and the data through `io`. [`build`] turns them into the run's [`Artifacts`]:
//! validation, features as of T, scores with reasons, grades and levels, the plan, the report and
//! the manifest; it touches no file (the previous run's ranks come from the lookup it is given).
//! [`commit`] writes the artifacts into an [`io::RunDir`](crate::io::RunDir), a locked temporary
//! directory renamed into `OUT_DIR/<run_id>/` only when complete, with `OUT_DIR/latest` switched
//! last. A killed run leaves the previous outputs and `latest` untouched.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

use crate::dates;
use crate::error::{Error, Result};
use crate::io::{OutputKind, RunDir};
use crate::model::{Model, Stability};
use crate::plan::{DepartmentSummary, Plan, Roster};
use crate::policy::Policy;
use crate::validate::TableCounts;

pub(crate) mod passes;

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
    /// How many buckets of subjects the run goes through one at a time.
    pub buckets: Buckets,
}

/// The number of buckets a run splits its subjects into (docs/scale-out.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Buckets {
    Fixed(u32),
    /// As many as keep the job within this many bytes ([`crate::bucket::MemoryModel`]).
    MemoryLimit(u64),
}

pub const MAX_BUCKETS: u32 = 4096;

impl Buckets {
    /// The number of buckets for a job (`memory`: its measured model) on these files, and a
    /// notice when a memory limit cannot be met.
    pub fn count(self, input_files: &[PathBuf], memory: &crate::bucket::MemoryModel, m: crate::messages::Messages) -> Result<(u32, Option<String>)> {
        Ok(match self {
            Buckets::Fixed(b) => (b, None),
            Buckets::MemoryLimit(limit) => memory.buckets_for(input_files.iter().map(|p| crate::io::file_len(p)).sum::<Result<u64>>()?, limit, m),
        })
    }
}

/// What a caller hears of a run while it runs.
#[derive(Clone, Copy)]
pub struct Hooks<'a> {
    /// Called with each stage's name as it starts.
    pub progress: &'a dyn Fn(&str),
    /// Called when every file is written into the temporary directory, just before it is
    /// renamed into place (the tests kill a run here).
    pub before_commit: &'a dyn Fn(),
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
    /// Case book: import, dispositions, opening, figures (within `features` and `score` too).
    pub cases: f64,
    pub write: f64,
    pub total: f64,
    /// Seconds per output file (within `write`).
    pub files: Vec<(String, f64)>,
    /// Seconds per step of an engine that ran the passes itself (the Spark runner's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<(String, f64)>,
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
    /// Buckets of subjects the run went through one at a time, and the bytes it kept on disk
    /// between its passes (0 with one bucket).
    pub buckets: u32,
    pub spill_bytes: u64,
    pub tables: Vec<TableCounts>,
    pub scored: usize,
    /// Person or address ids of `relations` left out as of T for linking more than
    /// `features.relation_person_cap` subjects (absent without a relations table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation_ids_capped: Option<usize>,
    /// Region and industry codes of the list that the code tables do not know (shown as codes).
    pub unknown_codes: crate::report::UnknownCodes,
    pub levels: Vec<(String, u64)>,
    pub grades: Vec<(String, u64)>,
    pub hard_rules_fired: Vec<(String, u64)>,
    /// What became of the `overrides` rows (all zero without that table).
    pub overrides: crate::overrides::OverrideCounts,
    /// Warning cases: what became of the dispositions, what this run opened, and the feedback
    /// figures per level and department (docs/cases.md).
    pub cases: crate::cases::Feedback,
    /// The previous run's plan followed through, when there is one and the data has inspections.
    pub previous_plan: Option<PreviousPlan>,
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
    /// The policy's language, which the end-of-run summary is written in.
    pub messages: crate::messages::Messages,
}

fn file_hash(path: &Path, sha256: String, base: &Path) -> Result<FileHash> {
    Ok(FileHash { file: path.strip_prefix(base).unwrap_or(path).display().to_string(), sha256, bytes: crate::io::file_len(path)? })
}

impl FileHash {
    /// A file named as given (the model's or the policy's in the manifest), hashed.
    pub fn of(path: &Path) -> Result<FileHash> {
        file_hash(path, crate::io::sha256_file(path)?, Path::new(""))
    }
}

/// What a run takes from the run before it.
pub struct Previous {
    pub run_id: String,
    pub as_of: i32,
    /// Its warnings' `uscc` and `rank`.
    pub ranks: DataFrame,
    /// Its case book (None for a run made before cases existed).
    pub cases: Option<crate::cases::CaseBook>,
    /// Its plan.parquet (None for `riskwarn score`), and its warnings' `uscc` and
    /// `credit_grade` (the plan's weighting classes).
    pub plan: Option<(DataFrame, DataFrame)>,
}

/// What became of the previous run's plan in the days since it (from its as-of date up to this
/// run's): per department, its completion and the non-response-adjusted violation rates per
/// grade ([`crate::evaluate::plan_follow_through`]; `riskwarn evaluate --plan` gives the strata too).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PreviousPlan {
    pub run_id: String,
    /// The inspection window [from, to).
    pub from: String,
    pub to: String,
    pub completion: Vec<crate::evaluate::DepartmentCompletion>,
    pub by_grade: Vec<crate::evaluate::RateEstimate>,
}

/// The most recent earlier run in `out` (greatest as-of date before `as_of`; ties by run id):
/// its id, ranks and case book. Same-day reruns build on the same run, so a rerun of the same
/// inputs reproduces the same bytes.
pub fn previous_run(out: &Path, as_of: &str) -> Result<Option<Previous>> {
    let best = crate::io::list_runs(out)
        .into_iter()
        .filter(|r| r.as_of.as_str() < as_of)
        .max_by(|a, b| (&a.as_of, &a.run_id).cmp(&(&b.as_of, &b.run_id)));
    let Some(run) = best else { return Ok(None) };
    let warnings = crate::io::read_output_columns(&run.dir.join("warnings.parquet"), OutputKind::Warnings, &["uscc", "rank", "credit_grade"])?;
    let ranks = warnings.select(["uscc", "rank"])?;
    let plan = crate::io::read_output_if_present(&run.dir.join("plan.parquet"), OutputKind::Plan)?;
    let plan = match plan {
        Some(p) => Some((p, warnings.select(["uscc", "credit_grade"])?)),
        None => None,
    };
    let run_as_of = dates::parse(&run.as_of).ok_or_else(|| Error::Internal(format!("run {} has as-of date '{}'", run.run_id, run.as_of)))?;
    let cases = match crate::io::read_output_if_present(&run.dir.join("cases.parquet"), OutputKind::Cases)? {
        None => None,
        Some(c) => {
            let (events, file) = crate::io::read_output_encoded(&run.dir.join("case_events.parquet"), OutputKind::CaseEvents)?;
            Some(crate::cases::CaseBook::from_files(&c, &events, file).map_err(|e| Error::bad_file(&run.dir.join("cases.parquet"), e.to_string()))?)
        }
    };
    Ok(Some(Previous { run_id: run.run_id, as_of: run_as_of, ranks, cases, plan }))
}

/// The previous run's plan followed through up to this run's as-of date.
fn previous_plan(previous: &Previous, inspections: &DataFrame, as_of: i32) -> Result<Option<PreviousPlan>> {
    let Some((plan, grades)) = &previous.plan else { return Ok(None) };
    let departments = crate::evaluate::plan_follow_through(plan, grades, Some(inspections), previous.as_of, as_of)
        .map_err(|e| Error::BadArgument(format!("the plan of the previous run {}: {e}", previous.run_id)))?;
    Ok(Some(PreviousPlan {
        run_id: previous.run_id.clone(),
        from: dates::format(previous.as_of),
        to: dates::format(as_of),
        by_grade: departments.iter().flat_map(|d| d.by_grade.iter().cloned()).collect(),
        completion: departments.into_iter().map(|d| d.completion).collect(),
    }))
}

/// Everything a run reads, loaded: the data split into its buckets.
pub struct Inputs {
    pub policy: Policy,
    pub model: Model,
    pub data: crate::io::BucketedData,
    /// Where the buckets' rows wait between passes.
    pub spill: crate::io::Spill,
    /// Every input table file, relative to the data directory, with its hash.
    pub inputs: Vec<FileHash>,
    pub model_file: FileHash,
    pub policy_file: FileHash,
    /// Seconds spent reading and hashing the data.
    pub load_seconds: f64,
}

/// Reads the policy and the model first (a bad one, or a model trained under other feature
/// options than the policy's, stops the run before any data is read), then
/// the data directory, hashing every file, split into buckets.
pub fn load(opts: &RunOptions, progress: &dyn Fn(&str)) -> Result<Inputs> {
    let policy = Policy::load(&opts.policy)?;
    let m = crate::messages::Messages::new(policy.language);
    let model = Model::load(&opts.model)?;
    model.require_feature_options(&policy.features, &opts.policy.display().to_string())?;
    let model_file = FileHash::of(&opts.model)?;
    let policy_file = FileHash::of(&opts.policy)?;
    progress("load");
    let t = Instant::now();
    let (sources, _) = crate::io::discover(&opts.data, m)?;
    let input_files: Vec<PathBuf> = sources.iter().flat_map(|s| s.files.clone()).collect();
    let (buckets, memory_notice) = opts.buckets.count(&input_files, &crate::bucket::RUN_MEMORY, m)?;
    let spill = if buckets > 1 {
        crate::decommit_freed_memory();
        crate::io::Spill::in_dir(&opts.out)?
    } else {
        crate::io::Spill::memory()
    };
    let (data, hashes) = rayon::join(|| crate::io::load_buckets(&opts.data, buckets, &spill, m), || crate::io::sha256_files(&input_files));
    let (mut data, hashes) = (data?, hashes?);
    data.global.notices.extend(memory_notice);
    let inputs = input_files.iter().zip(hashes).map(|(p, h)| file_hash(p, h, &opts.data)).collect::<Result<_>>()?;
    Ok(Inputs { policy, model, data, spill, inputs, model_file, policy_file, load_seconds: t.elapsed().as_secs_f64() })
}

/// A run's results, complete but not yet written.
pub struct Artifacts {
    pub run_id: String,
    pub as_of: i32,
    pub messages: crate::messages::Messages,
    /// The ranked list, made a block of rows at a time as warnings.parquet, warnings.csv,
    /// warnings_public.csv and warnings.xlsx are written.
    pub list: crate::list::List,
    pub plan: Option<Plan>,
    pub rejected: DataFrame,
    pub cases: crate::cases::CaseBook,
    pub report: String,
    /// The names of the list's region and industry codes, for the supervisor files.
    pub code_names: crate::report::CodeNames,
    /// Complete but for `outputs` and the `write`/`total` timings, which [`commit`] fills in.
    pub manifest: Manifest,
    started: Instant,
}

/// The previous run of an output directory, looked up by as-of date (see [`previous_run`]).
pub type PreviousRun<'a> = &'a dyn Fn(&str) -> Result<Option<Previous>>;

/// From loaded inputs to the run's artifacts.
pub fn build(inputs: Inputs, opts: &RunOptions, previous_run_of: PreviousRun, progress: &dyn Fn(&str)) -> Result<Artifacts> {
    let started = Instant::now();
    let Inputs { policy, model, mut data, spill, inputs, model_file, policy_file, load_seconds } = inputs;
    let buckets = data.buckets;
    let mut timings = Timings { load: load_seconds, ..Default::default() };

    progress("validate");
    let t = Instant::now();
    let (mut validated, checked) = passes::validate(&mut data, &spill, &crate::validate::ValidateOptions { reference_date: opts.today }, passes::WHOLE)?;
    drop(data);
    // The loader's notices come through validation.
    let mut notices: Vec<String> = validated.notices.clone();
    let present = checked.present();
    if present.contains(&"indicators") {
        notices.extend(crate::features::notices_of(&checked.indicator_rows, &policy.features, crate::messages::Messages::new(policy.language)));
    }
    let feature_options = crate::features::with_data_indicators(&checked.indicator_rows, &policy.features);
    timings.validate = t.elapsed().as_secs_f64();
    let as_of = match opts.as_of {
        Some(d) => d,
        None => checked.span.map_or(opts.today, |(_, d)| opts.today.min(d + 1)),
    };

    // Cases before the features: the previous run's book, the imported cases and the
    // dispositions known as of T decide which subjects are in a quiet period, whose adverse
    // records the feature pass looks up.
    progress("cases");
    let t = Instant::now();
    let mut previous = previous_run_of(&dates::format(as_of))?;
    let book = book_before(&mut validated, previous.as_mut(), as_of, &policy, &mut notices)?;
    let window = plan_window(previous.as_ref(), as_of);
    timings.cases = t.elapsed().as_secs_f64();

    progress("features");
    let t = Instant::now();
    let local = {
        let quiet = crate::cases::quiet_subjects(&book.book, as_of, &policy.cases);
        passes::features(&checked, &spill, buckets, as_of, &feature_options, &quiet, window)?
    };
    // The relation step's parts (every bucket's relation rows and inputs) are freed once the
    // relation features exist, not kept to the end of the run.
    let (relations, relation_ids_capped) = local.relations.features(&present, &feature_options)?;
    notices.extend(relation_cap_notice(relation_ids_capped, &policy));
    passes::keep_relations(&spill, relations, &present)?;
    if local.scored.iter().sum::<usize>() == 0 {
        return Err(no_subject_scored(as_of));
    }
    timings.features = t.elapsed().as_secs_f64();

    progress("score");
    let t = Instant::now();
    let keys = passes::score(&spill, &local.scored, &local.peer, &present, &feature_options, &model, &policy)?;
    if keys.is_empty() {
        return Err(Error::Internal("no bucket scored a subject".into()));
    }
    notices.extend(keys.notices.iter().cloned());
    timings.score = t.elapsed().as_secs_f64();
    finish(
        Population {
            as_of,
            validated,
            present,
            book,
            previous,
            keys,
            spill,
            adverse: local.adverse,
            window_inspections: local.window_inspections,
            relation_ids_capped,
            notices,
            inputs,
            model_file,
            policy_file,
            buckets,
            timings,
        },
        &model,
        &policy,
        opts.seed.unwrap_or(policy.seed),
        opts.with_plan,
        progress,
        started,
    )
}

/// The case book before this run's warnings open cases: the previous run's book, the imported
/// `cases` and the dispositions known as of T (see docs/cases.md).
pub struct BookBefore {
    pub book: crate::cases::CaseBook,
    pub imported: u64,
    pub dispositions: crate::cases::DispositionCounts,
}

/// The previous run's book (taken out of `previous`), with the imported cases and the
/// dispositions applied; dispositions of no case are moved to the quarantine.
pub fn book_before(validated: &mut crate::validate::Validated, previous: Option<&mut Previous>, as_of: i32, policy: &Policy, notices: &mut Vec<String>) -> Result<BookBefore> {
    let mut book = match previous.map(|p| p.cases.take()) {
        Some(Some(book)) => book,
        Some(None) => {
            notices.push(crate::messages::Messages::new(policy.language).tr("notice.previous_without_cases").to_string());
            Default::default()
        }
        None => Default::default(),
    };
    let imported = match validated.table("cases") {
        Some(table) => book.import(table, as_of, &policy.cases)?.0,
        None => 0,
    };
    let dispositions = match validated.table("dispositions") {
        Some(d) => crate::cases::Disposition::from_frame(d)?,
        None => Vec::new(),
    };
    let (counts, rejections) = crate::cases::advance(&mut book, &dispositions, as_of, &policy.cases)?;
    validated.reject_after_validation("dispositions", &rejections)?;
    Ok(BookBefore { book, imported, dispositions: counts })
}

/// The days [from, to) whose inspections follow the previous run's plan through, when it has one.
pub fn plan_window(previous: Option<&Previous>, as_of: i32) -> Option<(i32, i32)> {
    previous.filter(|p| p.plan.is_some()).map(|p| (p.as_of, as_of))
}

/// The notice of relation ids left out for linking too many subjects, if any were.
pub fn relation_cap_notice(capped: Option<usize>, policy: &Policy) -> Option<String> {
    capped.filter(|n| *n > 0).map(|n| {
        crate::messages::Messages::new(policy.language).fill("notice.relations_capped", &[("n", &n), ("cap", &policy.features.relation_person_cap)])
    })
}

pub fn no_subject_scored(as_of: i32) -> Error {
    Error::BadArgument(format!("no subject is scored as of {} (none active/suspended and established before it)", dates::format(as_of)))
}

/// What the per-subject passes leave for the population-wide end of a run, however they ran
/// (bucket by bucket here, or on Spark through [`crate::kernel`]).
pub struct Population {
    pub as_of: i32,
    /// The tables used whole (roster, conflicts, dispositions, cases, overrides), the
    /// quarantine so far and the counts of every table.
    pub validated: crate::validate::Validated,
    /// The tables the data has.
    pub present: Vec<&'static str>,
    pub book: BookBefore,
    pub previous: Option<Previous>,
    /// What ranking reads of every scored subject, in any order; the rest of their rows are in
    /// `spill`, which the list keeps until its files are written.
    pub keys: crate::list::Keys,
    pub spill: crate::io::Spill,
    /// The latest adverse record of each scored subject in a quiet period.
    pub adverse: std::collections::HashMap<String, crate::cases::Adverse>,
    /// The used inspections within [`plan_window`].
    pub window_inspections: Option<DataFrame>,
    pub relation_ids_capped: Option<usize>,
    /// The notices so far, in the run's order.
    pub notices: Vec<String>,
    pub inputs: Vec<FileHash>,
    pub model_file: FileHash,
    pub policy_file: FileHash,
    pub buckets: u32,
    pub timings: Timings,
}

/// The population-wide end of a run: the ranked list with levels, grades and overrides, the
/// cases it opens, the plan, the report and the manifest.
pub fn finish(population: Population, model: &Model, policy: &Policy, seed: u64, with_plan: bool, progress: &dyn Fn(&str), started: Instant) -> Result<Artifacts> {
    let Population {
        as_of,
        mut validated,
        present,
        book,
        previous,
        keys,
        spill,
        adverse,
        window_inspections,
        relation_ids_capped,
        mut notices,
        inputs,
        model_file,
        policy_file,
        buckets,
        mut timings,
    } = population;
    let BookBefore { mut book, imported, dispositions: disposition_counts } = book;
    let as_of_text = dates::format(as_of);
    let m = crate::messages::Messages::new(policy.language);
    let t = Instant::now();
    let previous_plan = match (previous.as_ref(), present.contains(&"inspections")) {
        (Some(p), true) => {
            let empty = DataFrame::empty();
            previous_plan(p, window_inspections.as_ref().unwrap_or(&empty), as_of)?
        }
        _ => None,
    };
    timings.cases += t.elapsed().as_secs_f64();

    let t = Instant::now();
    let stability = model.stability_of_counts(keys.stability());
    let crate::list::Warnings { mut list, overrides: override_counts, fairness } = crate::list::List::make(keys, spill, &crate::score::WarningsInput {
        model,
        policy,
        previous: previous.as_ref().map(|p| &p.ranks),
        overrides: validated.table("overrides"),
    })?;
    timings.score += t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (mut shown, opening) = crate::cases::open_list(&list, &mut book, &adverse, as_of, &policy.cases, &policy.plan.departments)?;
    let feedback = crate::cases::feedback(&book, as_of, disposition_counts, opening, imported);
    crate::cases::sort_book(&mut book, &mut shown);
    list.set_cases(shown);
    timings.cases += t.elapsed().as_secs_f64();
    for s in stability.iter().filter(|s| s.alert) {
        notices.push(m.fill("notice.psi_alert", &[("name", &s.name), ("psi", &format!("{:.3}", s.psi)), ("limit", &crate::model::PSI_ALERT)]));
    }
    validated.rejected = crate::validate::sort_rejected(std::mem::replace(&mut validated.rejected, crate::validate::empty_rejected()))?;

    progress("plan");
    let t = Instant::now();
    let plan: Option<Plan> = if with_plan {
        let roster = match validated.table("inspectors") {
            Some(i) => Some(Roster::from_frames(i, validated.table("conflicts"))?),
            None => None,
        };
        let units = crate::plan::Units::from_list(&list)?;
        let plan = crate::plan::plan(&units, &policy.plan, roster.as_ref(), seed, m)?;
        notices.extend(plan.notices.iter().cloned());
        Some(plan)
    } else {
        None
    };
    timings.plan = t.elapsed().as_secs_f64();

    let previous_id = previous.as_ref().map(|p| p.run_id.clone());
    let policy_hash = policy.hash();
    let run_id = {
        let mut key = format!("{}|{}|{}|{seed}|{}|{:?}|{}", env!("CARGO_PKG_VERSION"), model_file.sha256, policy_hash, as_of_text, previous_id, with_plan);
        for i in &inputs {
            key += &format!("|{}:{}", i.file, i.sha256);
        }
        format!("{}-{}", as_of_text, &crate::digest::hex_digest(key.as_bytes())[..8])
    };
    let fired = list.rules_fired();
    let code_names = crate::report::CodeNames::of(&list, m);
    let unknown_codes = code_names.unknown(&list);
    notices.extend(unknown_codes.notice(m));
    let mut levels = [0u64; 4];
    let mut grades = [0u64; 4];
    for (l, g) in list.levels().iter().zip(list.grades()) {
        levels[*l as usize] += 1;
        grades[*g as usize] += 1;
    }
    let report = crate::report::html(&crate::report::ReportInput {
        run_id: &run_id,
        as_of: &as_of_text,
        model,
        list: &list,
        plan: plan.as_ref().unwrap_or(&Plan::empty()),
        stability: &stability,
        tables: &validated.counts,
        rejected: &validated.rejected,
        notices: &notices,
        cases: &feedback,
        previous_plan: previous_plan.as_ref(),
        previous_run: previous_id.as_deref(),
        fairness: &fairness,
        departments: crate::report::Departments { policy: &policy.plan.departments, messages: m },
        messages: m,
    })?;
    let manifest = Manifest {
        run_id: run_id.clone(),
        as_of: as_of_text,
        engine_version: env!("CARGO_PKG_VERSION").into(),
        model_id: model.model_id.clone(),
        model_file,
        policy_file,
        policy_hash,
        seed,
        plan_method: plan.as_ref().map(|_| crate::plan::METHOD.to_string()),
        previous_run: previous_id,
        inputs,
        buckets,
        spill_bytes: list.spill_bytes(),
        tables: validated.counts.clone(),
        scored: list.len(),
        relation_ids_capped,
        unknown_codes,
        levels: crate::grade::LEVELS.iter().zip(levels).map(|(l, n)| (l.to_string(), n)).collect(),
        grades: crate::policy::Grade::ALL.iter().zip(grades).map(|(g, n)| (g.as_str().to_string(), n)).collect(),
        hard_rules_fired: fired,
        overrides: override_counts,
        cases: feedback,
        previous_plan,
        plan: plan.as_ref().map(|p| p.departments.clone()).unwrap_or_default(),
        plan_selections: plan.as_ref().map_or(0, |p| p.selections),
        plan_visits: plan.as_ref().map_or(0, |p| p.visits),
        stability,
        outputs: Vec::new(),
        timings_seconds: timings,
        notices,
    };
    Ok(Artifacts {
        run_id,
        as_of,
        messages: m,
        list,
        plan,
        rejected: validated.rejected,
        cases: book,
        report,
        code_names,
        manifest,
        started,
    })
}

/// Writes the artifacts into a new run directory of `out`, hashes them into the manifest
/// (written last), calls `before_commit`, and commits the directory.
pub fn commit(artifacts: Artifacts, out: &Path, before_commit: &dyn Fn()) -> Result<RunResult> {
    let t = Instant::now();
    let Artifacts { run_id, as_of, messages, list, plan, rejected, cases, report, code_names, mut manifest, started } = artifacts;
    let dir = RunDir::create(out, &run_id)?;
    let tmp = dir.path();
    // plan.parquet first: the plan is freed before the list's rows are made for the other files
    // (at province scale it is hundreds of megabytes). It keeps its place among the outputs.
    let plan_written = match plan {
        Some(p) => {
            let clock = Instant::now();
            crate::io::write_parquet_made(p.height(), &|offset, len| p.frame_rows(offset, len), &tmp.join("plan.parquet"))?;
            Some(clock.elapsed().as_secs_f64())
        }
        None => None,
    };
    let outputs = Outputs { dir: tmp, list: &list, plan_written, rejected: &rejected, cases: &cases, code_names: &code_names, messages, as_of };
    let mut files = write_outputs(&outputs, &mut manifest.timings_seconds.files)?;
    let report_path = tmp.join("report.html");
    crate::io::write_text(&report_path, &report)?;
    files.push(report_path);
    let hashes = crate::io::sha256_files(&files)?;
    manifest.outputs = files.iter().zip(hashes).map(|(p, h)| file_hash(p, h, tmp)).collect::<Result<_>>()?;
    manifest.timings_seconds.write = t.elapsed().as_secs_f64();
    manifest.timings_seconds.total = started.elapsed().as_secs_f64() + manifest.timings_seconds.load;
    crate::io::write_json(&manifest, &tmp.join("manifest.json"))?;
    before_commit();
    let run_dir = dir.commit()?;
    Ok(RunResult { manifest, run_dir, messages })
}

/// The whole job: [`load`], [`build`] against the runs already in `opts.out`, [`commit`].
pub fn run(opts: &RunOptions, hooks: &Hooks) -> Result<RunResult> {
    let inputs = load(opts, hooks.progress)?;
    let artifacts = build(inputs, opts, &|as_of| previous_run(&opts.out, as_of), hooks.progress)?;
    (hooks.progress)("write");
    commit(artifacts, &opts.out, hooks.before_commit)
}

/// What the output files are made of.
struct Outputs<'a> {
    dir: &'a Path,
    list: &'a crate::list::List,
    /// The seconds plan.parquet took, if it was written.
    plan_written: Option<f64>,
    rejected: &'a DataFrame,
    cases: &'a crate::cases::CaseBook,
    code_names: &'a crate::report::CodeNames,
    messages: crate::messages::Messages,
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
    let Outputs { dir, list, cases, code_names, messages: m, as_of, .. } = *o;
    let clock = Instant::now();
    let path = |name: &str| dir.join(name);
    // Excel holds the red/orange/yellow part (its sheet limit is 1,048,576 rows); the table is
    // made of those rows only (row by row), not of the whole list.
    const EXCEL_ROWS: usize = 1_048_575;
    const BLUE: u8 = 3;
    let levels = list.levels();
    let flagged = levels.iter().take_while(|l| **l != BLUE).count().min(EXCEL_ROWS);
    let total_flagged = levels.iter().filter(|l| **l != BLUE).count();
    // A block of the list at a time (its rows, texts and cells are not all held at once).
    const SHEET_BLOCK: usize = 1 << 18;
    let part = |offset: usize, len: usize| crate::report::supervisor_table(&list.rows_with_text(offset, len, Some(cases))?, code_names, m);
    let block = |k: usize| part(k * SHEET_BLOCK, SHEET_BLOCK.min(flagged.saturating_sub(k * SHEET_BLOCK)));
    let colors = levels[..flagged]
        .iter()
        .map(|l| match *l {
            0 => Some(0xF4B6B6),
            1 => Some(0xF9D5A7),
            2 => Some(0xFFF2A8),
            _ => None,
        })
        .collect();
    let (year, month, day) = dates::civil_from_days(as_of);
    let mut notes = vec![m.tr("xlsx.only_flagged").to_string(), m.fill("xlsx.rows", &[("rows", &flagged), ("flagged", &total_flagged)])];
    if flagged < total_flagged {
        notes.push(m.fill("xlsx.row_limit", &[("limit", &EXCEL_ROWS)]));
    }
    let reasons = m.code("column", "reason_text");
    let widths = part(0, 0)?.get_column_names().iter().map(|c| if c.as_str() == reasons { 80.0 } else { 16.0 }).collect();
    crate::io::write_xlsx(
        &crate::io::Workbook {
            sheet_name: m.tr("xlsx.sheet"),
            rows: flagged,
            block: &block,
            row_colors: colors,
            column_widths: widths,
            notes_sheet: m.tr("xlsx.notes_sheet"),
            notes,
            date: (year as u16, month as u8, day as u8),
        },
        &path("warnings.xlsx"),
    )?;
    Ok(clock.elapsed().as_secs_f64())
}

/// Rows of the list per block of a CSV file.
const CSV_BLOCK: usize = 1 << 18;

fn write_tables(o: &Outputs, files: &mut Vec<(String, f64)>) -> Result<Vec<PathBuf>> {
    let Outputs { dir, list, plan_written, rejected, cases, code_names, messages: m, .. } = *o;
    let mut out = Vec::new();
    let path = |name: &str| dir.join(name);
    let mut clock = Instant::now();
    let mut done = |name: &str, out: &mut Vec<PathBuf>, files: &mut Vec<(String, f64)>| {
        out.push(path(name));
        files.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    // The list's rows, with their reason texts, are made a block at a time as each file is written.
    crate::io::write_parquet_made(list.len(), &|offset, len| list.rows_with_text(offset, len, Some(cases)), &path("warnings.parquet"))?;
    done("warnings.parquet", &mut out, files);
    let blocks = list.len().div_ceil(CSV_BLOCK);
    crate::io::write_csv_bom_blocks(&[&path("warnings.csv"), &path("warnings_public.csv")], blocks, &mut |k| {
        let (part, public) = list.rows_with_texts(k * CSV_BLOCK, CSV_BLOCK, Some(cases))?;
        Ok(vec![crate::report::supervisor_table(&part, code_names, m)?, crate::report::supervisor_table(&crate::score::public_variant(&part, &public)?, code_names, m)?])
    })?;
    done("warnings.csv", &mut out, files);
    // Both CSV files in the one time above.
    out.push(path("warnings_public.csv"));

    if let Some(seconds) = plan_written {
        out.push(path("plan.parquet"));
        files.push(("plan.parquet".into(), seconds));
    }
    crate::io::write_parquet(&mut rejected.clone(), &path("rejected.parquet"))?;
    done("rejected.parquet", &mut out, files);
    crate::io::write_parquet_with_plain(&mut cases.cases_frame()?, &path("cases.parquet"), crate::cases::PLAIN_CASE_COLUMNS)?;
    done("cases.parquet", &mut out, files);
    crate::io::write_parquet_growing(&cases.events_frame()?, &path("case_events.parquet"), crate::cases::PLAIN_EVENT_COLUMNS, cases.earlier_file.as_ref())?;
    done("case_events.parquet", &mut out, files);
    Ok(out)
}
