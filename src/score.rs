//! Scores → the ranked warning list (SPEC §2 warnings.parquet): calibrated score, deterministic
//! rank (ties by uscc), warning level, credit grade with its hard rules, the top reasons with
//! exact contributions, and the change against a previous run. A pure function over frames.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::grade;
use crate::model::Model;
use crate::policy::Policy;
use crate::reason_text;

/// Reasons per subject.
pub const TOP_REASONS: usize = 3;

/// The warning list's columns (SPEC §2), then riskwarn's additions used by the plan and audits.
pub const COLUMNS: &[&str] = &[
    "rank", "uscc", "name", "region", "industry", "subject_type", "score", "risk_level", "credit_grade", "reasons",
    "reason_text", "model_id", "as_of", "previous_rank", "change", "hard_rules", "observation_period",
    "days_since_random_pass",
];

pub struct WarningsInput<'a> {
    /// Features of the scored subjects at one as-of date (`uscc`, `as_of`, features).
    pub features: &'a DataFrame,
    /// The validated subjects registry (uscc, name, region, industry, subject_type).
    pub subjects: &'a DataFrame,
    pub model: &'a Model,
    pub policy: &'a Policy,
    /// `uscc`, `rank` of the previous run, if any.
    pub previous: Option<&'a DataFrame>,
}

pub struct Warnings {
    pub frame: DataFrame,
    /// Hard rules whose feature is absent from this run (they cannot fire), said once.
    pub notices: Vec<String>,
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

pub fn warnings(input: &WarningsInput) -> Result<Warnings> {
    let WarningsInput { features, subjects, model, policy, previous } = *input;
    let n = features.height();
    let as_of = features.column("as_of")?.date()?.physical().iter().flatten().next();
    if features.column("as_of")?.n_unique()? > 1 {
        return Err(Error::Internal("warnings are made for one as-of date at a time".into()));
    }
    let zh = policy.language == crate::policy::Language::Zh;
    let explained = model.explain(features, TOP_REASONS)?;
    let uscc: Vec<&str> = features.column("uscc")?.str()?.iter().map(|v| v.unwrap_or("")).collect();

    // Deterministic order: score descending, ties by uscc.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        explained.score[b].total_cmp(&explained.score[a]).then_with(|| uscc[a].cmp(uscc[b]))
    });
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32 + 1;
    }

    let levels = grade::classes(policy.levels.method, [policy.levels.red, policy.levels.orange, policy.levels.yellow], &explained.score, &rank);
    let observation: Vec<bool> = match features.column("observation_period") {
        Ok(c) => c.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.is_some_and(|v| v > 0.0)).collect(),
        Err(_) => vec![false; n],
    };
    let mut notices = Vec::new();
    let rule_columns: Vec<Vec<Option<f64>>> = policy
        .grades
        .rules
        .iter()
        .map(|r| {
            if features.column(&r.feature).is_ok() {
                f64_values(features, &r.feature)
            } else {
                notices.push(format!("hard rule '{}' cannot fire: feature `{}` is not in this run (its table is absent)", r.name, r.feature));
                Ok(vec![None; n])
            }
        })
        .collect::<Result<_>>()?;
    let (grades, fired) = grade::grades(&policy.grades, &explained.score, &rank, &observation, &rule_columns)?;
    let rule_labels: Vec<String> = policy.grades.rules.iter().map(|r| grade::rule_label(r, zh)).collect();

    // Reasons: `top` entries per row, in row order; a fixed stride makes the list column.
    let top = explained.top;
    let reason_feature: Vec<&str> = explained.feature.iter().map(|f| explained.names[*f as usize].as_str()).collect();
    let reason_text: Vec<String> = (0..n)
        .map(|i| {
            let mut parts: Vec<String> = fired[i].iter().map(|r| rule_labels[*r].clone()).collect();
            for k in i * top..(i + 1) * top {
                parts.push(reason_text::reason(reason_feature[k], explained.value[k], explained.contribution[k], zh));
            }
            parts.join(if zh { "；" } else { "; " })
        })
        .collect();
    let reasons = StructChunked::from_series(
        "reasons".into(),
        n * top,
        [
            Series::new("feature".into(), &reason_feature),
            Series::new("value".into(), &explained.value),
            Series::new("contribution".into(), &explained.contribution),
        ]
        .iter(),
    )?
    .into_series()
    .reshape_list(&[ReshapeDimension::Infer, ReshapeDimension::new_dimension(top as u64)])?
    .with_name("reasons".into());
    let hard_rules: Vec<Series> = fired
        .iter()
        .map(|f| Series::new("".into(), f.iter().map(|r| policy.grades.rules[*r].name.as_str()).collect::<Vec<_>>()))
        .collect();

    let mut df = DataFrame::new(n, vec![
        Column::new("rank".into(), &rank),
        features.column("uscc")?.clone(),
        Column::new("score".into(), &explained.score),
        Column::new("risk_level".into(), levels.iter().map(|l| grade::LEVELS[*l as usize]).collect::<Vec<_>>()),
        Column::new("credit_grade".into(), grades.iter().map(|g| g.as_str()).collect::<Vec<_>>()),
        reasons.into_column(),
        Column::new("reason_text".into(), reason_text),
        Column::new("hard_rules".into(), ListChunked::from_iter(hard_rules).into_series()).with_name("hard_rules".into()),
        Column::new("observation_period".into(), observation),
        match features.column("insp_days_since_random_pass") {
            Ok(c) => c.cast(&DataType::Int32)?.with_name("days_since_random_pass".into()),
            Err(_) => Column::full_null("days_since_random_pass".into(), n, &DataType::Int32),
        },
    ])?;
    df = df.take(&IdxCa::from_vec("".into(), order.iter().map(|i| *i as IdxSize).collect()))?;

    let info = subjects.select(["uscc", "name", "region", "industry", "subject_type"])?;
    let left_order = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) };
    let mut lf = df.lazy().join(info.lazy(), [col("uscc")], [col("uscc")], left_order.clone()).with_columns([
        lit(model.model_id.clone()).alias("model_id"),
        lit(as_of.unwrap_or(0)).cast(DataType::Date).alias("as_of"),
    ]);
    lf = match previous {
        Some(prev) => {
            let prev = prev.select(["uscc", "rank"])?.lazy().select([col("uscc"), col("rank").cast(DataType::UInt32).alias("previous_rank")]);
            lf.join(prev, [col("uscc")], [col("uscc")], left_order).with_column(
                when(col("previous_rank").is_null())
                    .then(lit("new"))
                    .when(col("rank").lt(col("previous_rank")))
                    .then(lit("up"))
                    .when(col("rank").gt(col("previous_rank")))
                    .then(lit("down"))
                    .otherwise(lit("same"))
                    .alias("change"),
            )
        }
        None => lf.with_columns([lit(NULL).cast(DataType::UInt32).alias("previous_rank"), lit("first_run").alias("change")]),
    };
    let frame = lf.select(COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>()).collect()?;
    if frame.height() != n {
        return Err(Error::Internal(format!("warnings: {} rows for {n} scored subjects (duplicate uscc in subjects?)", frame.height())));
    }
    Ok(Warnings { frame, notices })
}

/// Counts per value of a string column, in the order given.
pub fn counts(frame: &DataFrame, column: &str, values: &[&str]) -> Result<Vec<(String, u64)>> {
    let c = frame.column(column)?.str()?.clone();
    let mut out: Vec<(String, u64)> = values.iter().map(|v| (v.to_string(), 0)).collect();
    for v in c.iter().flatten() {
        if let Some(e) = out.iter_mut().find(|(k, _)| k == v) {
            e.1 += 1;
        }
    }
    Ok(out)
}

/// The supervisor-facing copy without personal data or complaint details (seed 三(五)2): names
/// of `individual` subjects keep their first character (张*), and complaint reasons are dropped.
pub fn public_variant(frame: &DataFrame, policy: &Policy) -> Result<DataFrame> {
    let zh = policy.language == crate::policy::Language::Zh;
    let names = frame.column("name")?.str()?;
    let types = frame.column("subject_type")?.str()?;
    let masked: Vec<Option<String>> = names
        .iter()
        .zip(types.iter())
        .map(|(name, t)| {
            name.map(|nm| {
                if t == Some("individual") {
                    let mut chars = nm.chars();
                    let first = chars.next().map(String::from).unwrap_or_default();
                    first + &"*".repeat(chars.count())
                } else {
                    nm.to_string()
                }
            })
        })
        .collect();
    let reasons = frame.column("reasons")?.list()?;
    let hard = frame.column("hard_rules")?.list()?;
    let rule_label = |name: &str| {
        policy.grades.rules.iter().find(|r| r.name == name).map(|r| grade::rule_label(r, zh)).unwrap_or_else(|| name.to_string())
    };
    let mut text = Vec::with_capacity(frame.height());
    for (r, h) in reasons.amortized_iter().zip(hard.amortized_iter()) {
        let mut parts: Vec<String> = Vec::new();
        if let Some(h) = h {
            parts.extend(h.as_ref().str()?.iter().flatten().map(rule_label));
        }
        if let Some(r) = r {
            let s = r.as_ref().struct_()?;
            let f = s.field_by_name("feature")?;
            let v = s.field_by_name("value")?;
            let c = s.field_by_name("contribution")?;
            for ((f, v), c) in f.str()?.iter().zip(v.f64()?.iter()).zip(c.f64()?.iter()) {
                let f = f.unwrap_or("");
                if reason_text::family(f) != "complaints" {
                    parts.push(reason_text::reason(f, v, c.unwrap_or(0.0), zh));
                }
            }
        }
        text.push(parts.join(if zh { "；" } else { "; " }));
    }
    let out = frame
        .clone()
        .lazy()
        .with_columns([
            lit(Series::new("name".into(), masked)).alias("name"),
            lit(Series::new("reason_text".into(), text)).alias("reason_text"),
        ])
        .select(
            ["rank", "uscc", "name", "region", "industry", "subject_type", "score", "risk_level", "credit_grade", "reason_text", "as_of"]
                .map(col),
        )
        .collect()?;
    Ok(out)
}
