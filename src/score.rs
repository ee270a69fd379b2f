//! Scores → the ranked warning list (SPEC §2 warnings.parquet): calibrated score, deterministic
//! rank (ties by uscc), warning level, credit grade with its hard rules and then any approved
//! override, the top reasons with exact contributions, and the change against a previous run.
//! A pure function over frames.

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::grade;
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
/// Buckets' parts are [appended](Scored::append) and the list is made from all of them at once
/// ([`warnings`]): ranks, levels and grades are population-wide.
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

fn rule_column(k: usize) -> String {
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
    /// Room for `additional` more subjects' parts, reserved exactly (a list of millions would
    /// otherwise grow its vectors by doubling, up to twice what it holds).
    pub fn reserve(&mut self, additional: usize) {
        let e = &mut self.explained;
        e.score.reserve_exact(additional);
        e.feature.reserve_exact(additional * e.top);
        e.value.reserve_exact(additional * e.top);
        e.contribution.reserve_exact(additional * e.top);
        for v in self.stability_values.iter_mut() {
            v.reserve_exact(additional);
        }
    }

    /// Appends another bucket's part (its notices are the same as this one's).
    pub fn append(&mut self, other: Scored) -> Result<()> {
        let e = &mut self.explained;
        e.score.extend(other.explained.score);
        e.feature.extend(other.explained.feature);
        e.value.extend(other.explained.value);
        e.contribution.extend(other.explained.contribution);
        self.rows.vstack_mut(&other.rows)?;
        for (a, b) in self.stability_values.iter_mut().zip(other.stability_values) {
            a.extend(b);
        }
        self.as_of = self.as_of.or(other.as_of);
        Ok(())
    }
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

pub struct Warnings {
    /// The list's columns but `reason_text` (made from the others where it is written:
    /// [`ReasonTexts`]) and the case ones.
    pub frame: DataFrame,
    pub texts: ReasonTexts,
    /// What became of the `overrides` rows (the manifest's `overrides`).
    pub overrides: crate::overrides::OverrideCounts,
    pub fairness: Vec<FairnessRow>,
}

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

/// [`FairnessRow`]s per group of each of the two columns, groups in code order.
fn fairness(rows: &DataFrame, levels: &[u8], grades: &[crate::policy::Grade]) -> Result<Vec<FairnessRow>> {
    let mut out = Vec::new();
    for by in ["ownership", "subject_type"] {
        let mut groups: std::collections::BTreeMap<&str, FairnessRow> = std::collections::BTreeMap::new();
        for (i, g) in rows.column(by)?.str()?.iter().enumerate() {
            let g = g.unwrap_or("");
            let row = groups.entry(g).or_insert_with(|| FairnessRow { by, group: g.to_string(), subjects: 0, levels: [0; 4], grades: [0; 4] });
            row.subjects += 1;
            row.levels[levels[i] as usize] += 1;
            row.grades[grades[i] as usize] += 1;
        }
        out.extend(groups.into_values());
    }
    Ok(out)
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// The ranked warning list of every scored subject (the appended [`Scored`] of all buckets).
/// It takes the parts and frees each as soon as the columns made of it exist: at province scale
/// the list and its parts are most of what the end of a run holds.
pub fn warnings(scored: Scored, input: &WarningsInput) -> Result<Warnings> {
    let WarningsInput { model, policy, previous, overrides } = *input;
    let Scored { explained, mut rows, as_of, .. } = scored;
    let crate::model::Explained { names, top, score, feature, value, contribution } = explained;
    let n = rows.height();
    let m = crate::messages::Messages::new(policy.language);
    let rule_columns: Vec<Vec<Option<f64>>> = (0..policy.grades.rules.len())
        .map(|k| {
            let values = f64_values(&rows, &rule_column(k))?;
            rows.drop_in_place(&rule_column(k))?;
            Ok(values)
        })
        .collect::<Result<_>>()?;
    let uscc: Vec<&str> = rows.column("uscc")?.str()?.iter().map(|v| v.unwrap_or("")).collect();

    // Deterministic order: score descending, ties by uscc.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        score[b].total_cmp(&score[a]).then_with(|| uscc[a].cmp(uscc[b]))
    });
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32 + 1;
    }

    let levels = grade::classes(policy.levels.method, [policy.levels.red, policy.levels.orange, policy.levels.yellow], &score, &rank);
    let observation: Vec<bool> = rows.column("observation_period")?.bool()?.iter().map(|v| v.unwrap_or(false)).collect();
    let (mut grades, fired) = grade::grades(&policy.grades, &score, &rank, &observation, &rule_columns)?;
    drop((rule_columns, rank));
    // Overrides come last: an approved appeal or credit repair replaces the grade of score and
    // hard rules, which stays visible in `grade_before_override`.
    let applied = match (overrides, as_of) {
        (Some(o), Some(t)) => crate::overrides::apply(o, &uscc, t)?,
        _ => crate::overrides::Applied { per_subject: vec![None; n], ..Default::default() },
    };
    let mut grade_before_override: Vec<Option<&str>> = vec![None; n];
    let mut override_labels: Vec<Option<String>> = vec![None; n];
    for (i, o) in applied.per_subject.iter().enumerate() {
        if let Some(o) = o {
            grade_before_override[i] = Some(grades[i].as_str());
            grades[i] = o.grade;
            override_labels[i] = Some(crate::overrides::reason_label(o, m));
        }
    }
    let fair = fairness(&rows, &levels, &grades)?;

    // Every column is built directly in rank order (no gather of finished columns afterwards).
    let registry = crate::features::Registry::all(&model.feature_options);
    let features = names
        .iter()
        .map(|f| {
            let declared = registry.get(f).ok_or_else(|| Error::Internal(format!("model feature `{f}` is not in the feature registry")))?;
            Ok((f.clone(), (declared.label(m.zh()).to_string(), declared.visibility == crate::features::Visibility::Public)))
        })
        .collect::<Result<_>>()?;
    // A rule on an internal feature (a complaint count) says something internal when it fires.
    let rules = policy
        .grades
        .rules
        .iter()
        .map(|r| (r.name.clone(), (grade::rule_label(r, m), registry.get(&r.feature).is_some_and(|f| f.visibility == crate::features::Visibility::Public))))
        .collect();
    let overrides_by_row = order.iter().enumerate().filter_map(|(row, &i)| override_labels[i as usize].take().map(|label| (row, label))).collect();
    drop(override_labels);
    let texts = ReasonTexts { separator: m.tr("reason.separator").to_string(), features, rules, overrides: overrides_by_row };
    // The reasons' fields, flat in rank order, then a list column with a fixed stride of `top`.
    let at = |k: usize| order[k / top] as usize * top + k % top;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut flat = StructChunked::from_series(
        "item".into(),
        n * top,
        [
            crate::columns::repeated("feature", &name_refs, (0..n * top).map(|k| Some(feature[at(k)] as usize)))?,
            Series::new("value".into(), (0..n * top).map(|k| value[at(k)]).collect::<Vec<_>>()),
            Series::new("contribution".into(), (0..n * top).map(|k| contribution[at(k)]).collect::<Vec<_>>()),
        ]
        .iter(),
    )?;
    drop((feature, value, contribution));
    flat.rechunk_mut();
    let values = flat.chunks()[0].clone();
    drop(flat);
    let offsets: Vec<i64> = (0..=n).map(|i| (i * top) as i64).collect();
    let dtype = polars_arrow::datatypes::ArrowDataType::LargeList(Box::new(polars_arrow::datatypes::Field::new(
        "item".into(),
        values.dtype().clone(),
        true,
    )));
    let list = polars_arrow::array::ListArray::<i64>::new(dtype, offsets.try_into().map_err(|e| Error::Internal(format!("{e}")))?, values, None);
    // SAFETY: one chunk, built above with the dtype of its values.
    let reasons = unsafe { ListChunked::from_chunks("reasons".into(), vec![Box::new(list)]) }.into_column();
    let mut hard_rules = ListStringChunkedBuilder::new("hard_rules".into(), n, n / 4);
    for &i in &order {
        hard_rules.append_values_iter(fired[i as usize].iter().map(|r| policy.grades.rules[*r].name.as_str()));
    }
    drop(fired);
    let days_since: Vec<Option<i32>> = rows.column("days_since_random_pass")?.i32()?.iter().collect();
    let mut columns = vec![
        Column::new("rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new("uscc".into(), order.iter().map(|&i| uscc[i as usize]).collect::<Vec<_>>()),
        Column::new("score".into(), order.iter().map(|&i| score[i as usize]).collect::<Vec<_>>()),
        Column::new("risk_level".into(), order.iter().map(|&i| grade::LEVELS[levels[i as usize] as usize]).collect::<Vec<_>>()),
        Column::new("credit_grade".into(), order.iter().map(|&i| grades[i as usize].as_str()).collect::<Vec<_>>()),
        reasons,
        hard_rules.finish().into_column(),
        Column::new("grade_before_override".into(), order.iter().map(|&i| grade_before_override[i as usize]).collect::<Vec<_>>()),
        Column::new("observation_period".into(), order.iter().map(|&i| observation[i as usize]).collect::<Vec<_>>()),
        Column::new("days_since_random_pass".into(), order.iter().map(|&i| days_since[i as usize]).collect::<Vec<_>>()),
        crate::columns::repeated("model_id", &[model.model_id.as_str()], std::iter::repeat_n(Some(0), n))?.into_column(),
        Column::new("as_of".into(), vec![as_of.unwrap_or(0); n]).cast(&DataType::Date)?,
    ];
    drop((score, levels, grades, grade_before_override, observation, days_since));
    let order_ca = IdxCa::from_vec("".into(), order.iter().map(|&i| i as IdxSize).collect());
    drop(order);
    columns.extend(rows.select(&REGISTRY_COLUMNS[1..])?.take(&order_ca)?.into_columns());
    drop(uscc);
    drop(rows);
    let mut df = DataFrame::new(n, columns)?;
    // The previous ranks are looked up by `uscc` alone, so the join copies one column, not the list.
    let (previous_rank, change) = match previous {
        Some(prev) => {
            let prev = prev.select(["uscc", "rank"])?.lazy().select([col("uscc"), col("rank").cast(DataType::UInt32).alias("previous_rank")]);
            let looked_up = df
                .select(["uscc", "rank"])?
                .lazy()
                .join(prev, [col("uscc")], [col("uscc")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) })
                .select([
                    col("previous_rank"),
                    when(col("previous_rank").is_null())
                        .then(lit("new"))
                        .when(col("rank").lt(col("previous_rank")))
                        .then(lit("up"))
                        .when(col("rank").gt(col("previous_rank")))
                        .then(lit("down"))
                        .otherwise(lit("same"))
                        .alias("change"),
                ])
                .collect()?;
            if looked_up.height() != n {
                return Err(Error::BadArgument(format!("the previous run's warnings list a subject twice ({} rows matched {n})", looked_up.height())));
            }
            (looked_up.column("previous_rank")?.clone(), looked_up.column("change")?.clone())
        }
        None => (
            Column::full_null("previous_rank".into(), n, &DataType::UInt32),
            crate::columns::repeated("change", &["first_run"], std::iter::repeat_n(Some(0), n))?.into_column(),
        ),
    };
    df.with_column(previous_rank)?;
    df.with_column(change)?;
    let frame = df.select(COLUMNS.iter().filter(|c| **c != TEXT_COLUMN && !crate::cases::WARNING_COLUMNS.contains(c)).copied())?;
    Ok(Warnings { frame, texts, overrides: applied.counts, fairness: fair })
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
    /// The full and the public texts of the list's rows `offset..offset + len`, in that order.
    pub fn range(&self, list: &DataFrame, offset: usize, len: usize) -> Result<(StringChunked, StringChunked)> {
        let (full, public) = self.make(list, offset, len, true)?;
        Ok((full, public.unwrap_or_else(|| StringChunked::full_null(TEXT_COLUMN.into(), 0))))
    }

    /// The full texts of the list's rows `offset..offset + len`.
    pub fn full_range(&self, list: &DataFrame, offset: usize, len: usize) -> Result<StringChunked> {
        Ok(self.make(list, offset, len, false)?.0)
    }

    /// The texts of rows `offset..offset + len` (the public ones too if asked), made a chunk of
    /// rows at a time in parallel straight into string arrays (a chunk of the
    /// result each): no string is allocated per row.
    fn make(&self, list: &DataFrame, offset: usize, len: usize, with_public: bool) -> Result<(StringChunked, Option<StringChunked>)> {
        const CHUNK: usize = 1 << 14;
        let empty = || StringChunked::full_null(TEXT_COLUMN.into(), 0);
        if len == 0 {
            return Ok((empty(), with_public.then(empty)));
        }
        let part = list.slice(offset as i64, len);
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

    /// The list's rows `offset..offset + len` with their full `reason_text` in its place (after
    /// `reasons`), as warnings.parquet holds them.
    pub fn with_text(&self, list: &DataFrame, offset: usize, len: usize) -> Result<DataFrame> {
        Self::placed(list, offset, len, self.full_range(list, offset, len)?)
    }

    /// [`ReasonTexts::with_text`], and the rows' public texts.
    pub fn with_texts(&self, list: &DataFrame, offset: usize, len: usize) -> Result<(DataFrame, StringChunked)> {
        let (full, public) = self.range(list, offset, len)?;
        Ok((Self::placed(list, offset, len, full)?, public))
    }

    /// The list's rows `offset..offset + len` with `full` as their `reason_text`.
    fn placed(list: &DataFrame, offset: usize, len: usize, full: StringChunked) -> Result<DataFrame> {
        let mut part = list.slice(offset as i64, len);
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

impl Warnings {
    /// The whole list with its `reason_text` (warnings.parquet's columns but the case ones).
    pub fn full_frame(&self) -> Result<DataFrame> {
        self.texts.with_text(&self.frame, 0, self.frame.height())
    }
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
