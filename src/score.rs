//! Scores of one bucket's features with their top reasons and exact contributions
//! ([`score_bucket`]), and what the warning list's rows are made of: their reason texts
//! ([`ReasonTexts`]), the public variant, and [`warnings`], the ranked list of one frame of
//! scored subjects ([`crate::list`] holds the list of a whole population).

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::policy::Policy;
use crate::reason_text;

/// The registry's columns a warning row carries (from `subjects`). `ownership` is carried for the
/// fairness figures of the report only: it is no feature and no column of the list.
pub const REGISTRY_COLUMNS: [&str; 6] = ["uscc", "name", "region", "industry", "subject_type", "ownership"];

/// Reasons per subject.
pub const TOP_REASONS: usize = 3;

/// The warning list's columns (SPEC §2), then riskwarn's additions used by the plan and audits.
pub const COLUMNS: &[&str] = &[
    "rank", "uscc", "name", "region", "industry", "subject_type", "score", "risk_level", "credit_grade", "reasons",
    "reason_text", "model_id", "as_of", "previous_rank", "change", "hard_rules", "grade_before_override", "observation_period",
    "days_since_random_pass", "case_id", "case_state", "case_last_handled_on", "case_last_result",
];


/// What the warning list takes from one bucket of scored subjects: everything that depends on
/// the subject alone (score, top reasons, the values hard rules read, the registry's columns).
/// Each bucket's part goes into [`crate::list::Keys`] and the list is made from all of them at
/// once ([`crate::list::List::make`]): ranks, levels and grades are population-wide.
#[derive(Debug, Clone)]
pub struct Scored {
    pub explained: crate::model::Explained,
    /// `uscc`, `name`, `region`, `industry`, `subject_type`, `observation_period`,
    /// `days_since_random_pass`, then one `__rule_<k>` column per hard rule of the policy.
    pub rows: DataFrame,
    /// Per feature of the model's stability baseline, its values (row for row).
    pub stability_values: Vec<Vec<Option<f64>>>,
    /// Hard rules whose feature is absent from this run (they cannot fire), said once.
    pub notices: Vec<String>,
    pub as_of: Option<i32>,
}

pub(crate) fn rule_column(k: usize) -> String {
    format!("__rule_{k}")
}

/// Scores one bucket's features (`uscc`, `as_of`, features; one as-of date) with their reasons.
/// `subjects`: the bucket's validated registry.
pub fn score_bucket(features: &DataFrame, subjects: &DataFrame, model: &Model, policy: &Policy) -> Result<Scored> {
    let n = features.height();
    if features.column("as_of")?.n_unique()? > 1 {
        return Err(Error::Internal("warnings are made for one as-of date at a time".into()));
    }
    let as_of = features.column("as_of")?.date()?.physical().iter().flatten().next();
    let explained = model.explain(features, TOP_REASONS)?;
    let mut notices = Vec::new();
    let mut rows = features.select(["uscc"])?;
    rows = rows.lazy()
        .join(
            subjects.select(REGISTRY_COLUMNS)?.lazy(),
            [col("uscc")],
            [col("uscc")],
            JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
        )
        .collect()?;
    if rows.height() != n {
        return Err(Error::Internal(format!("warnings: {} rows for {n} scored subjects (duplicate uscc in subjects?)", rows.height())));
    }
    let observation: Vec<bool> = match features.column("observation_period") {
        Ok(c) => c.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.is_some_and(|v| v > 0.0)).collect(),
        Err(_) => vec![false; n],
    };
    rows.with_column(Column::new("observation_period".into(), observation))?;
    let days_since = match features.column("insp_days_since_random_pass") {
        Ok(c) => c.cast(&DataType::Int32)?.i32()?.iter().collect::<Vec<_>>(),
        Err(_) => vec![None; n],
    };
    rows.with_column(Column::new("days_since_random_pass".into(), days_since))?;
    for (k, r) in policy.grades.rules.iter().enumerate() {
        let values = if features.column(&r.feature).is_ok() {
            f64_values(features, &r.feature)?
        } else {
            notices.push(crate::messages::Messages::new(policy.language).fill("notice.rule_cannot_fire", &[("rule", &r.name), ("feature", &r.feature)]));
            vec![None; n]
        };
        rows.with_column(Column::new(rule_column(k).into(), values))?;
    }
    let stability_values = model.stability_features().iter().map(|f| crate::model::numeric_values(features, f)).collect::<Result<_>>()?;
    Ok(Scored { explained, rows, stability_values, notices, as_of })
}

impl Scored {
    /// One frame of the scored subjects, for an engine to carry between its stages: the `rows`
    /// columns, `score`, per reason k = 1.. `reason_<k>_feature` (name), `reason_<k>_value`,
    /// `reason_<k>_contribution`, and per stability feature j `__stability_<j>`.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let e = &self.explained;
        let n = self.rows.height();
        let mut out = self.rows.clone();
        out.with_column(Column::new("score".into(), e.score.clone()))?;
        for k in 0..e.top {
            let at = |i: usize| i * e.top + k;
            out.with_column(Column::new(format!("reason_{}_feature", k + 1).into(), (0..n).map(|i| e.names[e.feature[at(i)] as usize].as_str()).collect::<Vec<_>>()))?;
            out.with_column(Column::new(format!("reason_{}_value", k + 1).into(), (0..n).map(|i| e.value[at(i)]).collect::<Vec<_>>()))?;
            out.with_column(Column::new(format!("reason_{}_contribution", k + 1).into(), (0..n).map(|i| e.contribution[at(i)]).collect::<Vec<_>>()))?;
        }
        for (j, v) in self.stability_values.iter().enumerate() {
            out.with_column(Column::new(format!("__stability_{j}").into(), v.clone()))?;
        }
        Ok(out)
    }

    /// Reads back a frame of [`Scored::to_frame`]'s form scored with `model` under `policy`.
    pub fn from_frame(df: &DataFrame, model: &Model, policy: &Policy, as_of: i32) -> Result<Scored> {
        let names = model.preprocessing.features();
        let top = TOP_REASONS.min(names.len());
        let n = df.height();
        let index: std::collections::HashMap<&str, u32> = names.iter().enumerate().map(|(i, f)| (f.as_str(), i as u32)).collect();
        let mut explained = crate::model::Explained { names: names.clone(), top, score: df.column("score")?.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect(), ..Default::default() };
        let mut columns = Vec::new();
        for k in 1..=top {
            let feature: Vec<u32> = df
                .column(&format!("reason_{k}_feature"))?
                .str()?
                .iter()
                .map(|f| f.and_then(|f| index.get(f).copied()).ok_or_else(|| Error::BadArgument(format!("scored rows: reason_{k}_feature {f:?} is not a feature of model {}", model.model_id))))
                .collect::<Result<_>>()?;
            let value: Vec<Option<f64>> = df.column(&format!("reason_{k}_value"))?.f64()?.iter().collect();
            let contribution: Vec<f64> = df.column(&format!("reason_{k}_contribution"))?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
            columns.push((feature, value, contribution));
        }
        for i in 0..n {
            for (feature, value, contribution) in &columns {
                explained.feature.push(feature[i]);
                explained.value.push(value[i]);
                explained.contribution.push(contribution[i]);
            }
        }
        let mut keep: Vec<String> = REGISTRY_COLUMNS.iter().chain(&["observation_period", "days_since_random_pass"]).map(|c| c.to_string()).collect();
        keep.extend((0..policy.grades.rules.len()).map(rule_column));
        let rows = df.select(keep)?;
        let stability_values = (0..model.stability_features().len())
            .map(|j| Ok(df.column(&format!("__stability_{j}"))?.f64()?.iter().collect()))
            .collect::<Result<_>>()?;
        Ok(Scored { explained, rows, stability_values, notices: Vec::new(), as_of: Some(as_of) })
    }
}

/// What the warning list is made of besides the scored subjects.
pub struct WarningsInput<'a> {
    pub model: &'a Model,
    pub policy: &'a Policy,
    /// `uscc`, `rank` of the previous run, if any.
    pub previous: Option<&'a DataFrame>,
    /// The validated `overrides` table, if the data has one.
    pub overrides: Option<&'a DataFrame>,
}

pub use crate::list::Warnings;

/// Levels and grades of one group of subjects (by `ownership` or `subject_type`): whether
/// outcomes differ between groups although ownership is never a feature.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FairnessRow {
    /// `ownership` or `subject_type`.
    pub by: &'static str,
    /// The group's value (empty where the registry has none).
    pub group: String,
    pub subjects: u64,
    /// Subjects per warning level, in [`grade::LEVELS`] order.
    pub levels: [u64; 4],
    /// Subjects per grade, A to D.
    pub grades: [u64; 4],
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// The ranked warning list of every scored subject (one [`Scored`] of all of them; a run goes
/// through [`crate::list::Keys`] a bucket at a time), its rows spilled in memory.
pub fn warnings(scored: Scored, input: &WarningsInput) -> Result<Warnings> {
    let spill = crate::io::Spill::memory();
    let mut keys = crate::list::Keys::default();
    keys.push(scored, "scored", &spill, input.model, input.policy)?;
    crate::list::List::make(keys, spill, input)
}

/// Makes `reason_text` — the full one and the public one without internal reasons — for any
/// rows of the list from its other columns (`reasons`, `hard_rules`, and the override of the
/// row): the texts are a few hundred bytes a row, at province scale the largest part of the
/// list, so they exist only for the rows being written.
#[derive(Debug, Clone)]
pub struct ReasonTexts {
    separator: String,
    /// Per model feature, its label and whether it may be published.
    features: std::collections::HashMap<String, (String, bool)>,
    /// Per hard rule name, its audit label and whether it may be published.
    rules: std::collections::HashMap<String, (String, bool)>,
    /// The override's reason per row of the list that has one (rows from 0 in rank order).
    overrides: std::collections::HashMap<usize, String>,
}

impl ReasonTexts {
    /// Texts joined by `separator`: per model feature its label and whether it may be published,
    /// the same per hard rule, and the override's reason per row of the list that has one.
    pub fn new(
        separator: String,
        features: std::collections::HashMap<String, (String, bool)>,
        rules: std::collections::HashMap<String, (String, bool)>,
        overrides: std::collections::HashMap<usize, String>,
    ) -> ReasonTexts {
        ReasonTexts { separator, features, rules, overrides }
    }

    /// The full texts of `part`, rows of the list from row `first` on.
    pub fn full(&self, part: &DataFrame, first: usize) -> Result<StringChunked> {
        Ok(self.make(part, first, false)?.0)
    }

    /// The texts of `part`, rows of the list from row `offset` on (the public ones too if
    /// asked), made a chunk of rows at a time in parallel straight into string arrays (a chunk
    /// of the result each): no string is allocated per row.
    fn make(&self, part: &DataFrame, offset: usize, with_public: bool) -> Result<(StringChunked, Option<StringChunked>)> {
        const CHUNK: usize = 1 << 14;
        let empty = || StringChunked::full_null(TEXT_COLUMN.into(), 0);
        let len = part.height();
        if len == 0 {
            return Ok((empty(), with_public.then(empty)));
        }
        let reasons = part.column("reasons")?.list()?.rechunk();
        let rules = part.column("hard_rules")?.list()?.rechunk();
        let internal = |what: &str| Error::Internal(format!("reason texts: the list's {what} column is not as made"));
        let reasons = reasons.downcast_iter().next().ok_or_else(|| internal("reasons"))?;
        let rules = rules.downcast_iter().next().ok_or_else(|| internal("hard_rules"))?;
        let fields = reasons.values().as_any().downcast_ref::<polars_arrow::array::StructArray>().ok_or_else(|| internal("reasons"))?.values();
        let feature = fields[0].as_any().downcast_ref::<polars_arrow::array::Utf8ViewArray>().ok_or_else(|| internal("reasons"))?;
        let value = fields[1].as_any().downcast_ref::<polars_arrow::array::PrimitiveArray<f64>>().ok_or_else(|| internal("reasons"))?;
        let contribution = fields[2].as_any().downcast_ref::<polars_arrow::array::PrimitiveArray<f64>>().ok_or_else(|| internal("reasons"))?;
        let rule_names = rules.values().as_any().downcast_ref::<polars_arrow::array::Utf8ViewArray>().ok_or_else(|| internal("hard_rules"))?;
        let push = |s: &mut String, part: &str| {
            if !s.is_empty() {
                s.push_str(&self.separator);
            }
            s.push_str(part);
        };
        // Row `r`'s texts into `full` and `public` (emptied first).
        let text_of = |r: usize, full: &mut String, public: &mut String| -> Result<()> {
            full.clear();
            public.clear();
            // Appeal decisions are public (双公示): the override's reason goes into both texts.
            if let Some(label) = self.overrides.get(&(offset + r)) {
                push(full, label);
                push(public, label);
            }
            let (from, to) = rules.offsets().start_end(r);
            for k in from..to {
                let rule = rule_names.value(k);
                let (label, is_public) = self.rules.get(rule).ok_or_else(|| Error::Internal(format!("reason texts: `{rule}` is no hard rule of the policy")))?;
                push(full, label);
                if *is_public && with_public {
                    push(public, label);
                }
            }
            let (from, to) = reasons.offsets().start_end(r);
            for k in from..to {
                let f = feature.value(k);
                let (label, is_public) = self.features.get(f).ok_or_else(|| Error::Internal(format!("reason texts: `{f}` is no feature of the model")))?;
                let part = reason_text::reason(label, value.get(k), contribution.value(k));
                push(full, &part);
                if *is_public && with_public {
                    push(public, &part);
                }
            }
            Ok(())
        };
        let chunks: Vec<(StringChunked, Option<StringChunked>)> = (0..len.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..len.min((c + 1) * CHUNK);
                let mut full = StringChunkedBuilder::new(TEXT_COLUMN.into(), rows.len());
                let mut public = with_public.then(|| StringChunkedBuilder::new(TEXT_COLUMN.into(), rows.len()));
                let (mut f, mut p) = (String::new(), String::new());
                for r in rows {
                    text_of(r, &mut f, &mut p)?;
                    full.append_value(&f);
                    if let Some(b) = public.as_mut() {
                        b.append_value(&p);
                    }
                }
                Ok((full.finish(), public.map(|b| b.finish())))
            })
            .collect::<Result<_>>()?;
        let mut chunks = chunks.into_iter();
        let (mut full, mut public) = chunks.next().expect("len > 0");
        for (f, p) in chunks {
            full.append_owned(f)?;
            if let (Some(a), Some(p)) = (public.as_mut(), p) {
                a.append_owned(p)?;
            }
        }
        Ok((full, public))
    }

    /// `part` (rows of the list from row `first` on) with its full `reason_text` in its place
    /// (after `reasons`), as warnings.parquet holds them.
    pub fn with_text(&self, part: &DataFrame, first: usize) -> Result<DataFrame> {
        Self::placed(part, self.full(part, first)?)
    }

    /// [`ReasonTexts::with_text`], and the rows' public texts.
    pub fn with_texts(&self, part: &DataFrame, first: usize) -> Result<(DataFrame, StringChunked)> {
        let (full, public) = self.make(part, first, true)?;
        Ok((Self::placed(part, full)?, public.unwrap_or_else(|| StringChunked::full_null(TEXT_COLUMN.into(), 0))))
    }

    fn placed(part: &DataFrame, full: StringChunked) -> Result<DataFrame> {
        let mut part = part.clone();
        part.insert_column(Self::position(&part), full.into_column())?;
        Ok(part)
    }

    /// Where `reason_text` goes among the columns of the list (after `reasons`).
    pub fn position(list: &DataFrame) -> usize {
        list.get_column_index("reasons").map_or(list.width(), |i| i + 1)
    }
}

/// The name of the list's reason-text column.
pub const TEXT_COLUMN: &str = "reason_text";

/// The supervisor-facing copy without personal data or complaint details (seed 三(五)2): names
/// of `individual` subjects keep their first character (张*), and complaint reasons are dropped
/// (`public_reason_text` from [`ReasonTexts::with_texts`], row for row).
pub fn public_variant(frame: &DataFrame, public_reason_text: &StringChunked) -> Result<DataFrame> {
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
    let mut out = frame.select(["rank", "uscc", "name", "region", "industry", "subject_type", "score", "risk_level", "credit_grade", "reason_text", "as_of"])?;
    out.with_column(Column::new("name".into(), masked))?;
    out.with_column(public_reason_text.clone().into_column())?;
    Ok(out)
}
