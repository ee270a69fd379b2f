//! Command-line arguments (SPEC §3) and their conversion into checked library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::dates;
use crate::error::{Error, Result};
use crate::generate::GenerateOptions;
use crate::model::train::TrainOptions;
use crate::options::{Check, Valid};

#[derive(Debug, Parser)]
#[command(name = "riskwarn", version, about = "Risk early warning for market supervision (市场监管风险预警)")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print the end-of-run summary as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars or notices on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate realistic synthetic supervision data (all tables, plus truth.parquet).
    Generate(GenerateArgs),
    /// Check every table against the data contract; quarantine bad rows.
    Validate(ValidateArgs),
    /// Compute point-in-time features for every scored subject at one or more as-of dates.
    Features(FeaturesArgs),
    /// Train a model on a time-split panel and report an honest backtest.
    Train(TrainArgs),
    /// The nightly job: validate → features → score → grade → plan → outputs, in one run directory.
    Run(RunArgs),
    /// Like `run` without the inspection plan: the ranked warning list with grades and reasons.
    Score(ScoreArgs),
    /// The 双随机 inspection plan for a warning list (reproducible from the seed).
    Plan(PlanArgs),
    /// A past run's warning list against what happened next: ranking metrics, lead time, and
    /// Horvitz–Thompson violation rates per grade from the plan's random inspections.
    Evaluate(EvaluateArgs),
    /// A model as SQL: one SELECT computing the calibrated score from the feature table.
    Export(ExportArgs),
    /// One call of the per-bucket kernel over Arrow IPC files, for an engine that runs the
    /// binary per bucket (the Spark runner; docs/scale-out.md).
    #[command(hide = true)]
    Kernel(KernelArgs),
}

/// The kernel's calls (`riskwarn::kernel`), and `contract`: the tables of the data contract as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KernelCall {
    Contract,
    Previous,
    Partials,
    Quiet,
    Relations,
    Score,
    Warnings,
    Plan,
    Finish,
}

#[derive(Debug, Args)]
pub struct KernelArgs {
    #[arg(value_enum)]
    pub call: KernelCall,
    /// Directory of the call's input files (`<name>.arrow`; a bucket's tables in `tables/`).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Directory the call's output files are written to (created).
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long)]
    pub as_of: Option<String>,
    /// Dates after this day are rejected as in the future (default: today).
    #[arg(long)]
    pub today: Option<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// The tables the data has (relations), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub present: Vec<String>,
    /// The run's output directory, where the previous run is found (previous, quiet, finish)
    /// and the run directory is written (finish).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The days FROM,TO (exclusive) whose inspections partials keeps (previous's window).
    #[arg(long, value_delimiter = ',')]
    pub window: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// warnings.parquet of the run to evaluate.
    #[arg(long)]
    pub warnings: PathBuf,
    /// Data directory holding what happened after the run's as-of date.
    #[arg(long)]
    pub outcomes: PathBuf,
    /// Label horizon in days.
    #[arg(long, default_value_t = crate::labels::DEFAULT_HORIZON_DAYS)]
    pub horizon: i32,
    /// The run's plan.parquet (default: the one beside the warnings, if any).
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// The policy whose `[features]` options the baselines (past violations) are computed with.
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    /// Label sources, comma-separated, as for `train`: `inspections`, `dispositions`.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "inspections")]
    pub labels: Vec<crate::labels::LabelSource>,
}

impl EvaluateArgs {
    /// The label sources, in one order, each once.
    pub fn label_sources(&self) -> Vec<crate::labels::LabelSource> {
        sorted_sources(&self.labels)
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, default_value = "data/sample")]
    pub data: PathBuf,
    #[arg(long, default_value = "models/logistic-sample.json")]
    pub model: PathBuf,
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    /// As-of date (default: today, clamped to the day after the data's last date).
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Seed of the plan's draw (default: the policy's published seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seconds to wait before committing the run directory (tests kill the run there).
    #[arg(long, hide = true)]
    pub pause_before_commit: Option<u64>,
    #[command(flatten)]
    pub buckets: BucketArgs,
}

/// How a run splits its subjects (docs/scale-out.md).
#[derive(Debug, Clone, Args)]
pub struct BucketArgs {
    /// Run bucket by bucket: subjects split into B buckets by a stable hash of their uscc
    /// (memory bounded by a bucket; outputs byte-identical for any B). Default 1.
    #[arg(long, conflicts_with = "memory_limit")]
    pub buckets: Option<u32>,
    /// Choose the number of buckets from the input's size to stay within this memory, e.g.
    /// `8GiB`, `512MiB`.
    #[arg(long)]
    pub memory_limit: Option<String>,
}

impl BucketArgs {
    /// For `train`, whose one-bucket peak (the panel beside the data) can outgrow the machine:
    /// without a flag, as many buckets as keep it within 80 % of the physical memory (one on a
    /// machine where it fits; the model file is the same for any number).
    pub fn training_options(&self) -> Result<crate::run::Buckets> {
        match (self.buckets, &self.memory_limit, crate::io::physical_memory()) {
            (None, None, Some(total)) => Ok(crate::run::Buckets::MemoryLimit(total / 10 * 8)),
            _ => self.options(),
        }
    }

    pub fn options(&self) -> Result<crate::run::Buckets> {
        match (self.buckets, &self.memory_limit) {
            (Some(b), _) if !(1..=crate::run::MAX_BUCKETS).contains(&b) => {
                Err(Error::BadArgument(format!("--buckets: {b} is not between 1 and {}", crate::run::MAX_BUCKETS)))
            }
            (Some(b), _) => Ok(crate::run::Buckets::Fixed(b)),
            (None, Some(limit)) => Ok(crate::run::Buckets::MemoryLimit(parse_bytes("--memory-limit", limit)?)),
            (None, None) => Ok(crate::run::Buckets::Fixed(1)),
        }
    }
}

/// A size such as `8GiB`, `512MiB`, `2G` or a number of bytes.
fn parse_bytes(flag: &str, text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        _ => return Err(Error::BadArgument(format!("{flag}: '{text}' is not a size (e.g. 8GiB, 512MiB)"))),
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok((n * scale) as u64),
        _ => Err(Error::BadArgument(format!("{flag}: '{text}' is not a positive size (e.g. 8GiB, 512MiB)"))),
    }
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub as_of: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub buckets: BucketArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file (`riskwarn train`'s JSON).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the SELECT.
    #[arg(long)]
    pub sql: PathBuf,
    #[arg(long, value_enum, default_value = "duckdb")]
    pub dialect: crate::export::Dialect,
    /// The feature table the SELECT reads (columns as `riskwarn features` writes them); written
    /// into the SQL as given, so it may be schema-qualified.
    #[arg(long, default_value = "features")]
    pub table: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A warnings.parquet written by `run` or `score`.
    #[arg(long)]
    pub warnings: PathBuf,
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    /// Seed of the draw (default: the policy's published seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Data directory holding the inspectors (and conflicts) tables, for inspector assignment.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

impl RunArgs {
    pub fn options(&self) -> Result<crate::run::RunOptions> {
        Ok(crate::run::RunOptions {
            data: self.data.clone(),
            model: self.model.clone(),
            policy: self.policy.clone(),
            as_of: self.as_of.as_deref().map(|d| parse_date("--as-of", d)).transpose()?,
            out: self.out.clone(),
            seed: self.seed,
            with_plan: true,
            today: dates::today(),
            buckets: self.buckets.options()?,
        })
    }
}

impl ScoreArgs {
    pub fn options(&self) -> Result<crate::run::RunOptions> {
        Ok(crate::run::RunOptions {
            data: self.data.clone(),
            model: self.model.clone(),
            policy: self.policy.clone(),
            as_of: Some(parse_date("--as-of", &self.as_of)?),
            out: self.out.clone(),
            seed: None,
            with_plan: false,
            today: dates::today(),
            buckets: self.buckets.options()?,
        })
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[arg(long, default_value = "data/sample")]
    pub data: PathBuf,
    /// Training as-of dates (comma-separated); default: quarterly dates whose label windows end
    /// before the calibration and test periods.
    #[arg(long, value_delimiter = ',')]
    pub as_of: Vec<String>,
    /// Label horizon in days.
    #[arg(long, default_value_t = TrainOptions::default().horizon_days)]
    pub horizon: i32,
    /// The model kind: `logistic` (the scorecard), `gbdt` (trees), `points` (the points
    /// scorecard), or `auto` (all three, keeping the one with the higher AUC on the validation date).
    #[arg(long, value_enum, default_value = "logistic")]
    pub kind: crate::model::train::TrainKind,
    /// L2 penalty weight (logistic: on the coefficients, chosen on the validation date from
    /// 10000, 1000, 100, 10, 1, 0.1 unless given; gbdt: on the leaf weights, default 1).
    #[arg(long)]
    pub l2: Option<f64>,
    /// gbdt: number of trees; default: the best on the validation date (early stopping).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// gbdt: learning rate (shrinkage per tree); default: chosen from 0.1, 0.05, 0.2.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// gbdt: maximum tree depth; default: chosen from 2, 3, 4, 6.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// gbdt: minimum sum of hessians in a leaf; default: chosen from 80, 20, 5.
    #[arg(long)]
    pub min_leaf_weight: Option<f64>,
    /// The policy whose `[features]` options (windows, observation period, peer grouping) the
    /// model is trained with; scoring checks that the run's policy agrees.
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    /// Weight labelled rows by 1 / P(labelled | features) (a selection-bias correction).
    #[arg(long)]
    pub inverse_propensity: bool,
    /// Label sources, comma-separated: `inspections` (inspections and penalties, SPEC §1) and
    /// `dispositions` (follow-ups of warnings: confirmed positive, not_confirmed negative).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "inspections")]
    pub labels: Vec<crate::labels::LabelSource>,
    /// Weight in (0, 1] of a training row labelled by dispositions alone (targeted follow-ups).
    #[arg(long, default_value_t = TrainOptions::default().disposition_weight)]
    pub disposition_weight: f64,
    #[arg(long)]
    pub model_out: PathBuf,
    #[command(flatten)]
    pub buckets: BucketArgs,
}

impl TrainArgs {
    /// The options the flags give; the policy's feature options and the truth table are added
    /// by the command before the whole is checked.
    pub fn options(&self) -> Result<TrainOptions> {
        let mut opts = TrainOptions { horizon_days: self.horizon, kind: self.kind, ..Default::default() };
        // A hyper-parameter given is fixed: its grid is that one value.
        if let Some(l2) = self.l2 {
            opts.params.l2 = l2;
            opts.gbdt.l2 = l2;
            opts.search.l2 = vec![l2];
        }
        if let Some(n) = self.iterations {
            opts.gbdt.iterations = n;
            opts.search.max_trees = None;
        }
        if let Some(r) = self.learning_rate {
            opts.gbdt.learning_rate = r;
            opts.search.learning_rate = vec![r];
        }
        if let Some(d) = self.max_depth {
            opts.gbdt.max_depth = d;
            opts.search.max_depth = vec![d];
        }
        if let Some(w) = self.min_leaf_weight {
            opts.gbdt.min_leaf_weight = w;
            opts.search.min_leaf_weight = vec![w];
        }
        opts.inverse_propensity = self.inverse_propensity;
        opts.label_sources = sorted_sources(&self.labels);
        opts.disposition_weight = self.disposition_weight;
        if !self.as_of.is_empty() {
            let mut d = self.as_of.iter().map(|v| parse_date("--as-of", v)).collect::<Result<Vec<_>>>()?;
            d.sort_unstable();
            d.dedup();
            opts.train_as_of = Some(d);
        }
        Ok(opts)
    }
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[arg(long, default_value = "data/sample")]
    pub data: PathBuf,
    /// One or more as-of dates, comma-separated (YYYY-MM-DD,YYYY-MM-DD,...).
    #[arg(long, value_delimiter = ',', required = true)]
    pub as_of: Vec<String>,
    /// Output Parquet file (rejected rows go beside it as <name>.rejected.parquet).
    #[arg(long)]
    pub out: PathBuf,
    /// The policy whose `[features]` options (windows, observation period, peer grouping) apply.
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
}

impl FeaturesArgs {
    pub fn as_of_dates(&self) -> Result<Vec<i32>> {
        let mut v = self.as_of.iter().map(|d| parse_date("--as-of", d)).collect::<Result<Vec<_>>>()?;
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of market subjects.
    #[arg(long)]
    pub subjects: usize,
    /// Years of history before the extract date.
    #[arg(long, default_value_t = GenerateOptions::default().years)]
    pub years: u32,
    #[arg(long, default_value_t = GenerateOptions::default().seed)]
    pub seed: u64,
    /// Share of rows per table to inject as bad rows of every kind the contract rejects.
    #[arg(long, default_value_t = GenerateOptions::default().dirty)]
    pub dirty: f64,
    /// Extract date (last day of data), YYYY-MM-DD.
    #[arg(long, default_value_t = dates::format(GenerateOptions::default().end))]
    pub end: String,
    /// Policy whose `[cases]` and plan departments route the earlier simulated run's cases.
    #[arg(long, default_value = "riskwarn.toml")]
    pub policy: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[arg(long, default_value = "data/sample")]
    pub data: PathBuf,
    /// Dates after this day are rejected as in the future (default: today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Directory for rejected.parquet and validation.json.
    #[arg(long, default_value = "out/validate")]
    pub out: PathBuf,
}

/// `--labels` in one order whatever the order typed (inspections first), each source once.
fn sorted_sources(sources: &[crate::labels::LabelSource]) -> Vec<crate::labels::LabelSource> {
    let mut v = sources.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Parses a `YYYY-MM-DD` flag value.
pub fn parse_date(flag: &str, value: &str) -> Result<i32> {
    dates::parse(value).ok_or_else(|| Error::BadArgument(format!("{flag}: '{value}' is not a date (YYYY-MM-DD)")))
}

impl GenerateArgs {
    /// The checked options; the policy is read (through `io`) for its case routing.
    pub fn options(&self) -> Result<Valid<GenerateOptions>> {
        let end = parse_date("--end", &self.end)?;
        let policy = crate::policy::Policy::load(&self.policy)?;
        GenerateOptions {
            subjects: self.subjects,
            years: self.years,
            seed: self.seed,
            dirty: self.dirty,
            end,
            cases: policy.cases,
            departments: policy.plan.departments,
            ..Default::default()
        }
        .check()
    }
}

impl ValidateArgs {
    pub fn options(&self) -> Result<crate::validate::ValidateOptions> {
        let mut opts = crate::validate::ValidateOptions::default();
        if let Some(d) = &self.as_of {
            opts.reference_date = parse_date("--as-of", d)?;
        }
        Ok(opts)
    }
}
