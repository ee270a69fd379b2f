//! The ranked warning list of the whole population (SPEC §2 warnings.parquet), held compactly.
//! Ranks, levels, grades, overrides, the cases, the plan and the report need every scored
//! subject but read only a few numbers and codes of each: [`Keys`] gathers those bucket by
//! bucket, while the rest of each scored row (name, type, reasons) waits in the spill.
//! [`List::make`] ranks the keys and moves those rows into blocks of [`BLOCK`] ranks;
//! [`List::rows`] makes the list's columns of any rows from both, as the files are written
//! (docs/scale-out.md). At province scale the list is then ~75 bytes a subject in memory,
//! not the ~450 of its columns.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use polars::prelude::*;
use rayon::prelude::*;

use crate::cases::CaseBook;
use crate::columns::Coder;
use crate::error::{Error, Result};
use crate::grade;
use crate::io::Spill;
use crate::model::{Model, StabilityCounts};
use crate::policy::{Grade, Policy};
use crate::score::{FairnessRow, ReasonTexts, Scored, WarningsInput, COLUMNS, TEXT_COLUMN};

/// Rows of the list per block of its spilled rows: a row group of warnings.parquet, four blocks
/// of the CSV files.
pub const BLOCK: usize = 1 << 20;

/// What ranking reads of every scored subject, appended a bucket's [`Scored`] at a time
/// ([`Keys::push`], which puts the rest of its rows in the spill).
#[derive(Default)]
pub struct Keys {
    uscc: StringChunked,
    score: Vec<f64>,
    observation: Vec<bool>,
    /// Per subject, the hard rules that fire (bit r: rule r).
    fired: Vec<u64>,
    days_since: Vec<Option<i32>>,
    region: Vec<u32>,
    industry: Vec<u32>,
    ownership: Vec<u32>,
    subject_type: Vec<u32>,
    regions: Coder,
    industries: Coder,
    ownerships: Coder,
    subject_types: Coder,
    stability: StabilityCounts,
    /// Per part pushed, its spill key and rows.
    parts: Vec<(String, usize)>,
    /// The model's input features (what a reason's feature indexes) and reasons per subject.
    names: Vec<String>,
    top: usize,
    /// Hard rules whose feature is absent from this run, said once (every part says the same).
    pub notices: Vec<String>,
    as_of: Option<i32>,
}

const DETAIL: [&str; 2] = ["name", "subject_type"];

fn reason_column(k: usize, field: &str) -> String {
    format!("reason_{}_{field}", k + 1)
}

impl Keys {
    /// Room for `additional` more subjects, reserved exactly (millions would otherwise grow the
    /// vectors by doubling, up to twice what they hold).
    pub fn reserve(&mut self, additional: usize) {
        self.score.reserve_exact(additional);
        self.observation.reserve_exact(additional);
        self.fired.reserve_exact(additional);
        self.days_since.reserve_exact(additional);
        for v in [&mut self.region, &mut self.industry, &mut self.ownership, &mut self.subject_type] {
            v.reserve_exact(additional);
        }
    }

    pub fn len(&self) -> usize {
        self.score.len()
    }

    pub fn is_empty(&self) -> bool {
        self.score.is_empty()
    }

    /// Takes one part of the scored subjects: its keys here, its other columns into `spill`
    /// under `key`.
    pub fn push(&mut self, scored: Scored, key: &str, spill: &Spill, model: &Model, policy: &Policy) -> Result<()> {
        let Scored { explained, rows, stability_values, notices, as_of } = scored;
        let n = rows.height();
        if self.parts.is_empty() {
            self.notices = notices;
            self.names = explained.names.clone();
            self.top = explained.top;
        }
        self.as_of = self.as_of.or(as_of);
        self.stability.add(model, &stability_values, &explained.score);
        drop(stability_values);
        let text = |c: &str| -> Result<&StringChunked> { Ok(rows.column(c)?.str()?) };
        self.uscc.append(text("uscc")?)?;
        self.score.extend_from_slice(&explained.score);
        self.observation.extend(rows.column("observation_period")?.bool()?.iter().map(|v| v.unwrap_or(false)));
        self.days_since.extend(rows.column("days_since_random_pass")?.i32()?.iter());
        let rules: Vec<Vec<Option<f64>>> = (0..policy.grades.rules.len())
            .map(|k| Ok(rows.column(&crate::score::rule_column(k))?.f64()?.iter().collect()))
            .collect::<Result<_>>()?;
        let mut values = vec![None; rules.len()];
        for i in 0..n {
            for (v, r) in values.iter_mut().zip(&rules) {
                *v = r[i];
            }
            self.fired.push(grade::fired_rules(&policy.grades, &values));
        }
        drop(rules);
        for (c, codes, coder) in [
            ("region", &mut self.region, &mut self.regions),
            ("industry", &mut self.industry, &mut self.industries),
            ("ownership", &mut self.ownership, &mut self.ownerships),
            ("subject_type", &mut self.subject_type, &mut self.subject_types),
        ] {
            codes.extend(text(c)?.iter().map(|v| coder.code_of(v)));
        }
        let mut detail = rows.select(DETAIL)?;
        drop(rows);
        let e = &explained;
        for k in 0..e.top {
            let at = |i: usize| i * e.top + k;
            detail.with_column(Column::new(reason_column(k, "feature").into(), (0..n).map(|i| e.feature[at(i)]).collect::<Vec<u32>>()))?;
            detail.with_column(Column::new(reason_column(k, "value").into(), (0..n).map(|i| e.value[at(i)]).collect::<Vec<_>>()))?;
            detail.with_column(Column::new(reason_column(k, "contribution").into(), (0..n).map(|i| e.contribution[at(i)]).collect::<Vec<_>>()))?;
        }
        drop(explained);
        spill.put(key, detail)?;
        self.parts.push((key.to_string(), n));
        Ok(())
    }

    /// The stability counts of every subject pushed.
    pub fn stability(&self) -> &StabilityCounts {
        &self.stability
    }
}

/// The ranked list, its overrides' fate and the fairness figures.
pub struct Warnings {
    pub list: List,
    /// What became of the `overrides` rows (the manifest's `overrides`).
    pub overrides: crate::overrides::OverrideCounts,
    pub fairness: Vec<FairnessRow>,
}

impl Warnings {
    /// The whole list with its `reason_text` (warnings.parquet's columns but the case ones).
    pub fn full_frame(&self) -> Result<DataFrame> {
        self.list.rows_with_text(0, self.list.len(), None)
    }
}

/// The list in rank order: per row what is read of every row (in memory), the rest in the
/// spill a block of [`BLOCK`] rows at a time (`list/<block>`).
pub struct List {
    uscc: StringChunked,
    score: Vec<f64>,
    level: Vec<u8>,
    grade: Vec<Grade>,
    before_override: Vec<Option<Grade>>,
    observation: Vec<bool>,
    fired: Vec<u64>,
    days_since: Vec<Option<i32>>,
    region: Vec<u32>,
    industry: Vec<u32>,
    regions: Coder,
    industries: Coder,
    /// The previous run's ranks (None: no previous run).
    previous_rank: Option<UInt32Chunked>,
    /// Per row, the case it shows ([`crate::cases::open_list`]), once cases are opened.
    shown: Option<Vec<u32>>,
    names: Vec<String>,
    top: usize,
    rule_names: Vec<String>,
    model_id: String,
    as_of: i32,
    pub texts: ReasonTexts,
    spill: Spill,
    /// Rows per spilled block.
    block_rows: usize,
    /// The blocks last read from the spill (a writer reads a block a slice at a time).
    cache: Mutex<Vec<(usize, DataFrame)>>,
}

const CHANGES: [&str; 5] = ["new", "up", "down", "same", "first_run"];

impl List {
    /// Ranks every subject of `keys` (score descending, ties by `uscc`), cuts levels and grades,
    /// applies the overrides, looks up the previous ranks, and moves the spilled rows of `keys`'
    /// parts (in `spill`, which the list keeps) into blocks of ranks.
    pub fn make(keys: Keys, spill: Spill, input: &WarningsInput) -> Result<Warnings> {
        Self::make_in_blocks(keys, spill, input, BLOCK)
    }

    /// [`List::make`] with its spilled rows in blocks of `block_rows` ranks ([`BLOCK`] in a run;
    /// the same list for any size).
    pub fn make_in_blocks(keys: Keys, spill: Spill, input: &WarningsInput, block_rows: usize) -> Result<Warnings> {
        if block_rows == 0 {
            return Err(Error::Internal("list blocks of 0 rows".into()));
        }
        let WarningsInput { model, policy, previous, overrides } = *input;
        let Keys { uscc, score, observation, fired, days_since, region, industry, ownership, subject_type, regions, industries, ownerships, subject_types, parts, names, top, as_of, .. } = keys;
        let n = score.len();
        let m = crate::messages::Messages::new(policy.language);
        let by_subject = uscc.rechunk().into_owned();
        drop(uscc);
        let codes = by_subject.downcast_iter().next().cloned().unwrap_or_else(|| polars_arrow::array::Utf8ViewArray::new_empty(polars_arrow::datatypes::ArrowDataType::Utf8View));
        let code = |i: usize| if polars_arrow::array::Array::is_valid(&codes, i) { codes.value(i) } else { "" };

        // Deterministic order: score descending, ties by uscc (unique: any sort gives this one).
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.par_sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            score[b].total_cmp(&score[a]).then_with(|| code(a).cmp(code(b)))
        });
        let mut rank = vec![0u32; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32 + 1;
        }
        let levels = grade::classes(policy.levels.method, [policy.levels.red, policy.levels.orange, policy.levels.yellow], &score, &rank);
        let g = &policy.grades;
        let classes = grade::classes(g.method, [g.d, g.c, g.b], &score, &rank);
        let mut grades: Vec<Grade> = (0..n).map(|i| grade::grade_fired(classes[i], observation[i], g, fired[i])).collect();
        drop(classes);
        // Overrides come last: an approved appeal or credit repair replaces the grade of score and
        // hard rules, which stays visible in `grade_before_override`.
        let applied = match (overrides, as_of) {
            (Some(o), Some(t)) => crate::overrides::apply(o, (0..n).map(code), t)?,
            _ => crate::overrides::Applied::default(),
        };
        let mut before_override: HashMap<usize, Grade> = HashMap::new();
        for (&i, o) in &applied.per_subject {
            before_override.insert(i, grades[i]);
            grades[i] = o.grade;
        }
        let fairness = fairness(&[("ownership", &ownership, &ownerships), ("subject_type", &subject_type, &subject_types)], &levels, &grades);
        drop((ownership, subject_type));

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
        let overrides_by_row = applied.per_subject.iter().map(|(&i, o)| (rank[i] as usize - 1, crate::overrides::reason_label(o, m))).collect();
        let texts = ReasonTexts::new(m.tr("reason.separator").to_string(), features, rules, overrides_by_row);
        let counts = applied.counts;

        // Every kept column in rank order, each freed in subject order as soon as it is made.
        fn in_order<T: Copy>(order: &[u32], v: Vec<T>) -> Vec<T> {
            order.iter().map(|&i| v[i as usize]).collect()
        }
        let order_ca = IdxCa::from_vec("".into(), order.iter().map(|&i| i as IdxSize).collect());
        let uscc = by_subject.take(&order_ca)?.rechunk().into_owned().with_name("uscc".into());
        drop((order_ca, codes, by_subject));
        let mut list = List {
            uscc,
            score: in_order(&order, score),
            level: in_order(&order, levels),
            grade: in_order(&order, grades),
            before_override: order.iter().map(|&i| before_override.get(&(i as usize)).copied()).collect(),
            observation: in_order(&order, observation),
            fired: in_order(&order, fired),
            days_since: in_order(&order, days_since),
            region: in_order(&order, region),
            industry: in_order(&order, industry),
            regions,
            industries,
            previous_rank: None,
            shown: None,
            names,
            top,
            rule_names: policy.grades.rules.iter().map(|r| r.name.clone()).collect(),
            model_id: model.model_id.clone(),
            as_of: as_of.unwrap_or(0),
            texts,
            spill,
            block_rows,
            cache: Mutex::new(Vec::new()),
        };
        drop(order);
        list.previous_rank = previous.map(|p| list.previous_ranks(p)).transpose()?;
        list.spill_by_rank(&parts, &rank)?;
        Ok(Warnings { list, overrides: counts, fairness })
    }

    /// The previous run's rank of every row (`previous`: its `uscc`, `rank`), looked up by `uscc`.
    fn previous_ranks(&self, previous: &DataFrame) -> Result<UInt32Chunked> {
        let n = self.len();
        let prev = previous.select(["uscc", "rank"])?.lazy().select([col("uscc"), col("rank").cast(DataType::UInt32).alias("previous_rank")]);
        let looked_up = DataFrame::new(n, vec![self.uscc.clone().into_column()])?
            .lazy()
            .join(prev, [col("uscc")], [col("uscc")], JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) })
            .select([col("previous_rank")])
            .collect()?;
        if looked_up.height() != n {
            return Err(Error::BadArgument(format!("the previous run's warnings list a subject twice ({} rows matched {n})", looked_up.height())));
        }
        Ok(looked_up.column("previous_rank")?.u32()?.rechunk().into_owned())
    }

    /// Moves the spilled rows of every part (`parts`: key, rows; `rank`: of every subject, part
    /// after part) into `list/<block>`, each block in rank order.
    fn spill_by_rank(&self, parts: &[(String, usize)], rank: &[u32]) -> Result<()> {
        let (size, blocks) = (self.block_rows, self.len().div_ceil(self.block_rows));
        let mut pieces: Vec<Vec<String>> = vec![Vec::new(); blocks];
        let mut offset = 0;
        for (p, (key, rows)) in parts.iter().enumerate() {
            let mut detail = self.spill.take(key)?;
            let ranks = &rank[offset..offset + rows];
            offset += rows;
            detail.with_column(Column::new("__rank".into(), ranks.to_vec()))?;
            let block_of: Vec<usize> = ranks.iter().map(|r| (*r as usize - 1) / size).collect();
            let mut present: Vec<usize> = block_of.clone();
            present.sort_unstable();
            present.dedup();
            for k in present {
                let mask = BooleanChunked::from_iter_values("".into(), block_of.iter().map(|b| *b == k));
                let piece = if blocks == 1 { std::mem::take(&mut detail) } else { detail.filter(&mask)? };
                let name = format!("list/{k}/{p}");
                self.spill.put(&name, piece)?;
                pieces[k].push(name);
            }
        }
        for (k, names) in pieces.into_iter().enumerate() {
            let mut block: Option<DataFrame> = None;
            for name in names {
                crate::bucket::stack(&mut block, self.spill.take(&name)?)?;
            }
            let block = block.ok_or_else(|| Error::Internal(format!("list block {k} has no rows")))?;
            // Row j of the block is rank k·size + j + 1.
            let first = (k * size) as u32 + 1;
            let mut at = vec![0 as IdxSize; block.height()];
            for (row, r) in block.column("__rank")?.u32()?.into_no_null_iter().enumerate() {
                at[(r - first) as usize] = row as IdxSize;
            }
            let ordered = block.drop("__rank")?.take(&IdxCa::from_vec("".into(), at))?;
            self.spill.put(&format!("list/{k}"), ordered)?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.score.len()
    }

    pub fn is_empty(&self) -> bool {
        self.score.is_empty()
    }

    /// The bytes its spill wrote to disk (the parts' rows, then its blocks; 0 in memory).
    pub fn spill_bytes(&self) -> u64 {
        self.spill.bytes_written()
    }

    pub fn uscc(&self) -> &StringChunked {
        &self.uscc
    }

    pub fn score(&self) -> &[f64] {
        &self.score
    }

    /// Per row, its warning level (an index into [`grade::LEVELS`]).
    pub fn levels(&self) -> &[u8] {
        &self.level
    }

    pub fn grades(&self) -> &[Grade] {
        &self.grade
    }

    pub fn observation(&self) -> &[bool] {
        &self.observation
    }

    pub fn days_since_random_pass(&self) -> &[Option<i32>] {
        &self.days_since
    }

    /// Per row, the code of its region, and the region of each code.
    pub fn regions(&self) -> (&[u32], &Coder) {
        (&self.region, &self.regions)
    }

    pub fn industries(&self) -> (&[u32], &Coder) {
        (&self.industry, &self.industries)
    }

    /// The previous run's rank of row `i` (None: not in that run, or no previous run).
    pub fn previous_rank(&self, i: usize) -> Option<u32> {
        self.previous_rank.as_ref().and_then(|p| p.get(i))
    }

    /// Row `i`'s `change` against the previous run (an index into `CHANGES`).
    fn change(&self, i: usize) -> usize {
        let Some(p) = &self.previous_rank else { return 4 };
        match p.get(i) {
            None => 0,
            Some(prev) => match (i as u32 + 1).cmp(&prev) {
                std::cmp::Ordering::Less => 1,
                std::cmp::Ordering::Greater => 2,
                std::cmp::Ordering::Equal => 3,
            },
        }
    }

    /// Row `i`'s `change` against the previous run: new, up, down, same, or first_run.
    pub fn change_of(&self, i: usize) -> &'static str {
        CHANGES[self.change(i)]
    }

    /// Subjects per hard rule of the policy that fired on them, in policy order.
    pub fn rules_fired(&self) -> Vec<(String, u64)> {
        self.rule_names.iter().enumerate().map(|(r, name)| (name.clone(), self.fired.iter().filter(|f| **f & (1 << r) != 0).count() as u64)).collect()
    }

    /// The cases the rows show ([`crate::cases::open_list`]), row for row.
    pub fn set_cases(&mut self, shown: Vec<u32>) {
        self.shown = Some(shown);
    }

    /// The spilled columns of rows `offset..offset + len`.
    fn detail(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let mut out: Option<DataFrame> = None;
        let mut at = offset;
        while at < offset + len {
            let k = at / self.block_rows;
            let block = self.block(k)?;
            let from = at - k * self.block_rows;
            let take = (offset + len - at).min(self.block_rows - from);
            crate::bucket::stack(&mut out, block.slice(from as i64, take))?;
            at += take;
        }
        Ok(out.unwrap_or_else(|| DataFrame::empty()))
    }

    fn block(&self, k: usize) -> Result<DataFrame> {
        const KEPT: usize = 2;
        if let Some((_, b)) = self.cache.lock().expect("list cache").iter().find(|(c, _)| *c == k) {
            return Ok(b.clone());
        }
        let block = self.spill.get(&format!("list/{k}"))?;
        let mut cache = self.cache.lock().expect("list cache");
        if cache.len() == KEPT {
            cache.remove(0);
        }
        cache.push((k, block.clone()));
        Ok(block)
    }

    /// The list's rows `offset..offset + len`: warnings.parquet's columns but `reason_text`;
    /// once cases are opened, with the case columns from `book` (the book their cases index)
    /// if given.
    pub fn rows(&self, offset: usize, len: usize, book: Option<&CaseBook>) -> Result<DataFrame> {
        let len = len.min(self.len().saturating_sub(offset));
        let end = offset + len;
        let detail = if len == 0 { None } else { Some(self.detail(offset, len)?) };
        let detail_column = |name: &str| -> Result<Column> {
            match &detail {
                Some(d) => Ok(d.column(name)?.clone()),
                None => Ok(Column::full_null(name.into(), 0, &DataType::String)),
            }
        };
        let mut columns = vec![
            Column::new("rank".into(), (offset as u32 + 1..=end as u32).collect::<Vec<u32>>()),
            self.uscc.slice(offset as i64, len).into_column(),
            detail_column("name")?,
            self.regions.column("region", &self.region[offset..end])?.into_column(),
            self.industries.column("industry", &self.industry[offset..end])?.into_column(),
            detail_column("subject_type")?,
            Column::new("score".into(), self.score[offset..end].to_vec()),
            crate::columns::repeated("risk_level", &grade::LEVELS, self.level[offset..end].iter().map(|l| Some(*l as usize)))?.into_column(),
            crate::columns::repeated("credit_grade", &["A", "B", "C", "D"], self.grade[offset..end].iter().map(|g| Some(*g as usize)))?.into_column(),
            self.reasons(detail.as_ref(), len)?,
            crate::columns::repeated("model_id", &[self.model_id.as_str()], std::iter::repeat_n(Some(0), len))?.into_column(),
            Column::new("as_of".into(), vec![self.as_of; len]).cast(&DataType::Date)?,
            match &self.previous_rank {
                Some(p) => p.slice(offset as i64, len).with_name("previous_rank".into()).into_column(),
                None => Column::full_null("previous_rank".into(), len, &DataType::UInt32),
            },
            crate::columns::repeated("change", &CHANGES, (offset..end).map(|i| Some(self.change(i))))?.into_column(),
        ];
        let mut hard_rules = ListStringChunkedBuilder::new("hard_rules".into(), len, len / 4);
        for f in &self.fired[offset..end] {
            hard_rules.append_values_iter(self.rule_names.iter().enumerate().filter(|(r, _)| f & (1 << r) != 0).map(|(_, n)| n.as_str()));
        }
        columns.push(hard_rules.finish().into_column());
        columns.push(Column::new("grade_before_override".into(), self.before_override[offset..end].iter().map(|g| g.map(Grade::as_str)).collect::<Vec<_>>()));
        columns.push(Column::new("observation_period".into(), self.observation[offset..end].to_vec()));
        columns.push(Column::new("days_since_random_pass".into(), self.days_since[offset..end].to_vec()));
        let frame = DataFrame::new(len, columns)?;
        let mut frame = frame.select(COLUMNS.iter().filter(|c| **c != TEXT_COLUMN && !crate::cases::WARNING_COLUMNS.contains(c)).copied())?;
        if let (Some(shown), Some(book)) = (&self.shown, book) {
            for column in crate::cases::case_columns(book, &shown[offset..end])? {
                frame.with_column(column)?;
            }
        }
        Ok(frame)
    }

    /// The `reasons` list column of `len` rows from their spilled reason columns.
    fn reasons(&self, detail: Option<&DataFrame>, len: usize) -> Result<Column> {
        let top = self.top;
        let mut feature: Vec<Option<usize>> = Vec::with_capacity(len * top);
        let mut value: Vec<Option<f64>> = Vec::with_capacity(len * top);
        let mut contribution: Vec<f64> = Vec::with_capacity(len * top);
        if let Some(d) = detail {
            type Reason = (Vec<Option<u32>>, Vec<Option<f64>>, Vec<Option<f64>>);
            let columns: Vec<Reason> = (0..top)
                .map(|k| {
                    let f64s = |field: &str| -> Result<Vec<Option<f64>>> { Ok(d.column(&reason_column(k, field))?.f64()?.iter().collect()) };
                    Ok((d.column(&reason_column(k, "feature"))?.u32()?.iter().collect(), f64s("value")?, f64s("contribution")?))
                })
                .collect::<Result<_>>()?;
            for i in 0..len {
                for (f, v, c) in &columns {
                    feature.push(f[i].map(|f| f as usize));
                    value.push(v[i]);
                    contribution.push(c[i].unwrap_or(0.0));
                }
            }
        }
        let name_refs: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let mut flat = StructChunked::from_series(
            "item".into(),
            len * top,
            [
                crate::columns::repeated("feature", &name_refs, feature.into_iter())?,
                Series::new("value".into(), value),
                Series::new("contribution".into(), contribution),
            ]
            .iter(),
        )?;
        flat.rechunk_mut();
        let values = flat.chunks()[0].clone();
        let offsets: Vec<i64> = (0..=len).map(|i| (i * top) as i64).collect();
        let dtype = polars_arrow::datatypes::ArrowDataType::LargeList(Box::new(polars_arrow::datatypes::Field::new("item".into(), values.dtype().clone(), true)));
        let list = polars_arrow::array::ListArray::<i64>::new(dtype, offsets.try_into().map_err(|e| Error::Internal(format!("{e}")))?, values, None);
        // SAFETY: one chunk, built above with the dtype of its values.
        Ok(unsafe { ListChunked::from_chunks("reasons".into(), vec![Box::new(list)]) }.into_column())
    }

    /// [`List::rows`] with their full `reason_text` in its place, as warnings.parquet holds them.
    pub fn rows_with_text(&self, offset: usize, len: usize, book: Option<&CaseBook>) -> Result<DataFrame> {
        self.texts.with_text(&self.rows(offset, len, book)?, offset)
    }

    /// [`List::rows_with_text`], and the rows' public texts.
    pub fn rows_with_texts(&self, offset: usize, len: usize, book: Option<&CaseBook>) -> Result<(DataFrame, StringChunked)> {
        self.texts.with_texts(&self.rows(offset, len, book)?, offset)
    }

    /// Subjects per level of each value of `column` (`region` or `industry`): [`grade::LEVELS`],
    /// then the grades A–D, then all, per code (in code order).
    pub fn levels_and_grades(&self, column: &str) -> Vec<(Option<&str>, [u64; 9])> {
        let (codes, coder) = if column == "region" { self.regions() } else { self.industries() };
        let mut by_code: HashMap<u32, [u64; 9]> = HashMap::new();
        for i in 0..self.len() {
            let e = by_code.entry(codes[i]).or_default();
            e[8] += 1;
            e[self.level[i] as usize] += 1;
            e[4 + self.grade[i] as usize] += 1;
        }
        by_code.into_iter().map(|(c, counts)| (coder.value(c), counts)).collect()
    }
}

/// [`FairnessRow`]s per group of each coded column (`by`, per subject its code, the codes'
/// values), groups in value order.
fn fairness(columns: &[(&'static str, &[u32], &Coder)], levels: &[u8], grades: &[Grade]) -> Vec<FairnessRow> {
    let mut out = Vec::new();
    for &(by, codes, coder) in columns {
        let mut groups: BTreeMap<&str, FairnessRow> = BTreeMap::new();
        for (i, &c) in codes.iter().enumerate() {
            let g = coder.value(c).unwrap_or("");
            let row = groups.entry(g).or_insert_with(|| FairnessRow { by, group: g.to_string(), subjects: 0, levels: [0; 4], grades: [0; 4] });
            row.subjects += 1;
            row.levels[levels[i] as usize] += 1;
            row.grades[grades[i] as usize] += 1;
        }
        out.extend(groups.into_values());
    }
    out
}
