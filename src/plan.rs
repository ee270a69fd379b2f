//! The 双随机 inspection plan (SPEC §2 plan.parquet; seed 三(三)3–4): per department, inclusion
//! probabilities that rise with grade and risk under the department's capacity (Σπ = capacity),
//! a fixed-size draw with exactly those probabilities from a published seed, joint visits
//! across departments, and inspectors drawn from the roster without conflicts of interest.
//!
//! The algorithm, step by step, so anyone can reproduce a plan from its seed (docs/plan.md):
//! 1. Eligible: the department covers the subject's industry and region; A/B subjects that passed
//!    a random inspection within `suppress_passed_within_days` are left out (not in key sectors).
//! 2. Certainty units (π = 1): D subjects (when `full_coverage_d`) and key sectors. When they
//!    outnumber the capacity, the highest-ranked fill it and the plan says so.
//! 3. The rest share the remaining capacity R: an exploration part e·C spread uniformly, and the
//!    remainder ∝ w = ratio(grade) × (score / mean score of the grade)^tilt (× the observation
//!    factor for A/B subjects in the observation period); units whose π would pass 1 are fixed at
//!    1 and the rest rescaled until every π ≤ 1 and Σπ = C.
//! 4. Draw: units with π < 1, in uscc order, each take a 64-bit key from ChaCha8(seed, stream =
//!    department index); sorted by (key, uscc), a systematic sample with one more uniform start
//!    u ∈ [0,1) takes the units whose cumulative π interval contains u + k, k = 0, 1, …

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use polars::prelude::*;
use rayon::prelude::*;

use crate::messages::Messages;
use crate::error::{Error, Result};
use crate::policy::{Department, Grade, PlanPolicy};
use crate::rng::Rng;

pub const METHOD: &str = "systematic PPS over a ChaCha8-seeded random order";

/// plan.parquet's columns, in order (SPEC §2, then `method`).
pub const COLUMNS: &[&str] =
    &["uscc", "department", "stratum", "inclusion_probability", "selected", "inspectors", "joint_with", "seed", "method"];

/// A row of plan.parquet while the plan is made: a unit eligible in a department (millions of
/// them at province scale, hence the narrow fields).
#[derive(Debug, Clone, Copy)]
struct Row {
    department: u16,
    unit: u32,
    pi: f64,
    selected: bool,
}

/// One candidate subject, as a caller describes it ([`Units`] holds them compactly).
#[derive(Debug, Clone)]
pub struct Unit<'a> {
    pub uscc: Cow<'a, str>,
    pub industry: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub grade: Grade,
    pub score: f64,
    pub rank: u32,
    pub observation: bool,
    pub days_since_random_pass: Option<i32>,
}

/// What the plan reads of one candidate; industry and region are codes into [`Units`]' distinct
/// values (millions of candidates at province scale, hence the narrow fields).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    grade: Grade,
    observation: bool,
    rank: u32,
    score: f64,
    days_since_random_pass: Option<i32>,
    industry: u32,
    region: u32,
}

/// The candidates of a plan, one per subject of the warning list in its order: each string
/// stored once — the `uscc` column is the list's own (shared, not copied), industries and
/// regions are codes into their distinct values — so a department's coverage is a table
/// lookup and no unit holds a string.
#[derive(Debug, Clone)]
pub struct Units {
    uscc: StringChunked,
    candidates: Vec<Candidate>,
    industries: Vec<String>,
    regions: Vec<String>,
}

impl Units {
    /// The units of a warning list (warnings.parquet's columns).
    pub fn from_warnings(w: &DataFrame) -> Result<Units> {
        let s = |name: &str| -> Result<&StringChunked> { Ok(w.column(name)?.str()?) };
        let (industry, region, grade) = (s("industry")?, s("region")?, s("credit_grade")?);
        let score = w.column("score")?.f64()?;
        let rank = w.column("rank")?.cast(&DataType::UInt32)?;
        let rank = rank.u32()?;
        let obs = w.column("observation_period")?.bool()?;
        let passed = w.column("days_since_random_pass")?.cast(&DataType::Int32)?;
        let passed = passed.i32()?;
        let rows = industry.iter().zip(region.iter()).zip(grade.iter()).zip(score.iter()).zip(rank.iter()).zip(obs.iter()).zip(passed.iter());
        let units = rows.enumerate().map(|(i, ((((((ind, reg), g), sc), r), o), p))| {
            let grade = match g {
                Some("A") => Grade::A,
                Some("B") => Grade::B,
                Some("C") => Grade::C,
                Some("D") => Grade::D,
                other => return Err(Error::BadArgument(format!("warnings row {}: credit_grade {other:?} is not A/B/C/D", i + 1))),
            };
            Ok(Unit {
                uscc: Cow::Borrowed(""),
                industry: Cow::Borrowed(ind.unwrap_or("")),
                region: Cow::Borrowed(reg.unwrap_or("")),
                grade,
                score: sc.unwrap_or(0.0),
                rank: r.unwrap_or(u32::MAX),
                observation: o.unwrap_or(false),
                days_since_random_pass: p,
            })
        });
        Units::new(s("uscc")?.rechunk().into_owned(), units)
    }

    /// The units of the ranked list, its region and industry codes taken as they are (a null
    /// code is the empty value, as in the files).
    pub fn from_list(list: &crate::list::List) -> Result<Units> {
        fn values(coder: &crate::columns::Coder) -> (Vec<String>, u32) {
            let mut values = coder.values.clone();
            let empty = values.iter().position(|v| v.is_empty()).unwrap_or_else(|| {
                values.push(String::new());
                values.len() - 1
            });
            (values, empty as u32)
        }
        let ((region, region_coder), (industry, industry_coder)) = (list.regions(), list.industries());
        let ((regions, no_region), (industries, no_industry)) = (values(region_coder), values(industry_coder));
        let or = |c: u32, empty: u32| if c == crate::columns::Coder::NULL { empty } else { c };
        let (grades, score, observation, passed) = (list.grades(), list.score(), list.observation(), list.days_since_random_pass());
        let candidates = (0..list.len())
            .map(|i| Candidate {
                grade: grades[i],
                observation: observation[i],
                rank: i as u32 + 1,
                score: score[i],
                days_since_random_pass: passed[i],
                industry: or(industry[i], no_industry),
                region: or(region[i], no_region),
            })
            .collect();
        Ok(Units { uscc: list.uscc().clone(), candidates, industries, regions })
    }

    /// The units `units` with their codes `uscc`, row for row (a unit's own `uscc` is not read).
    fn new<'a>(uscc: StringChunked, units: impl Iterator<Item = Result<Unit<'a>>>) -> Result<Units> {
        let (mut industries, mut regions) = (crate::columns::Coder::default(), crate::columns::Coder::default());
        let mut candidates = Vec::with_capacity(uscc.len());
        for u in units {
            let u = u?;
            candidates.push(Candidate {
                grade: u.grade,
                observation: u.observation,
                rank: u.rank,
                score: u.score,
                days_since_random_pass: u.days_since_random_pass,
                industry: industries.code(&u.industry),
                region: regions.code(&u.region),
            });
        }
        Ok(Units { uscc, candidates, industries: industries.values, regions: regions.values })
    }

    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    fn uscc(&self) -> Result<&polars_arrow::array::Utf8ViewArray> {
        self.uscc.downcast_iter().next().ok_or_else(|| Error::Internal("plan: units without their uscc column".into()))
    }

    fn industry(&self, i: usize) -> &str {
        &self.industries[self.candidates[i].industry as usize]
    }

    fn region(&self, i: usize) -> &str {
        &self.regions[self.candidates[i].region as usize]
    }
}

impl<'a> FromIterator<Unit<'a>> for Units {
    fn from_iter<I: IntoIterator<Item = Unit<'a>>>(units: I) -> Units {
        let units: Vec<Unit> = units.into_iter().collect();
        let uscc = StringChunked::from_iter_values("uscc".into(), units.iter().map(|u| u.uscc.as_ref()));
        Units::new(uscc, units.into_iter().map(Ok)).expect("no unit is an error")
    }
}

/// The roster (执法检查人员名录库) and conflicts of interest (回避).
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// (inspector_id, department, region)
    pub inspectors: Vec<(String, String, String)>,
    /// uscc → inspectors who must not be sent there.
    pub conflicts: HashMap<String, HashSet<String>>,
}

impl Roster {
    pub fn from_frames(inspectors: &DataFrame, conflicts: Option<&DataFrame>) -> Result<Roster> {
        let s = |df: &DataFrame, name: &str| -> Result<Vec<String>> {
            Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
        };
        let (id, dept, region) = (s(inspectors, "inspector_id")?, s(inspectors, "department")?, s(inspectors, "region")?);
        let inspectors = id.into_iter().zip(dept).zip(region).map(|((a, b), c)| (a, b, c)).collect();
        let mut by_subject: HashMap<String, HashSet<String>> = HashMap::new();
        if let Some(c) = conflicts {
            for (inspector, uscc) in s(c, "inspector_id")?.into_iter().zip(s(c, "uscc")?) {
                by_subject.entry(uscc).or_default().insert(inspector);
            }
        }
        let conflicts = by_subject;
        Ok(Roster { inspectors, conflicts })
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GradeSummary {
    pub grade: String,
    pub eligible: usize,
    pub expected: f64,
    pub selected: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DepartmentSummary {
    pub department: String,
    pub capacity: usize,
    pub eligible: usize,
    pub suppressed: usize,
    pub certainty: usize,
    pub sum_probability: f64,
    pub selected: usize,
    /// Violations the selected units are expected to show: the sum of their calibrated scores.
    pub expected_violations: f64,
    /// The same for a purely random plan of as many units from the eligible ones.
    pub random_plan_violations: f64,
    pub by_grade: Vec<GradeSummary>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// plan.parquet: uscc, department, stratum, inclusion_probability, selected, inspectors,
    /// joint_with, seed, method — one row per eligible (subject, department), made where it is
    /// written ([`Plan::frame_rows`]).
    table: Table,
    pub departments: Vec<DepartmentSummary>,
    pub selections: usize,
    pub visits: usize,
    pub notices: Vec<String>,
}

/// Inclusion probabilities for one department's eligible units: `certain` get 1; the others
/// share `capacity − |certain|` as described in the module doc. Returns π per unit.
pub fn inclusion_probabilities(weights: &[f64], certain: &[bool], capacity: usize, exploration_share: f64) -> Vec<f64> {
    let n = weights.len();
    let mut pi: Vec<f64> = certain.iter().map(|c| if *c { 1.0 } else { 0.0 }).collect();
    let mut free: Vec<usize> = (0..n).filter(|&i| !certain[i]).collect();
    let n_certain = n - free.len();
    if free.is_empty() || capacity <= n_certain {
        return pi;
    }
    let remaining = (capacity - n_certain) as f64;
    let f = free.len();
    if remaining >= f as f64 {
        free.iter().for_each(|&i| pi[i] = 1.0);
        return pi;
    }
    let base = (exploration_share * capacity as f64).min(remaining) / f as f64;
    // Units that reach π = 1 are always those of largest weight: sort once, and find how many
    // (m) must be fixed at 1 so that the rest, rescaled, stay below 1.
    free.sort_unstable_by(|a, b| weights[*b].total_cmp(&weights[*a]).then(a.cmp(b)));
    let mut suffix = vec![0.0f64; f + 1];
    for k in (0..f).rev() {
        suffix[k] = suffix[k + 1] + weights[free[k]];
    }
    let mut m = 0usize;
    let value = |m: usize, w: f64| -> f64 {
        let budget = remaining - m as f64;
        if suffix[m] > 0.0 {
            base + (budget - base * (f - m) as f64).max(0.0) * w / suffix[m]
        } else {
            budget / (f - m) as f64
        }
    };
    while m < f && value(m, weights[free[m]]) >= 1.0 {
        m += 1;
    }
    for (k, &i) in free.iter().enumerate() {
        pi[i] = if k < m { 1.0 } else { value(m, weights[i]).min(1.0) };
    }
    pi
}

/// A fixed-size draw with first-order inclusion probabilities `pi` (Σπ integral): π = 1 is taken,
/// the rest by systematic sampling over a random order keyed by `rng` (units in the given order).
pub fn draw(pi: &[f64], rng: &mut Rng) -> Vec<bool> {
    let mut selected: Vec<bool> = pi.iter().map(|p| *p >= 1.0).collect();
    let mut rest: Vec<(u64, usize)> = (0..pi.len()).filter(|&i| pi[i] < 1.0 && pi[i] > 0.0).map(|i| (rng.u64(), i)).collect();
    rest.sort_unstable();
    let n_draw = pi.iter().filter(|p| **p < 1.0).sum::<f64>().round() as usize;
    let u = rng.f64();
    let mut cum = 0.0;
    let mut k = 0usize;
    for &(_, i) in &rest {
        cum += pi[i];
        if k < n_draw && u + (k as f64) < cum {
            selected[i] = true;
            k += 1;
        }
    }
    // Floating-point shortfall at the very end of the list: the last unselected units complete it.
    for &(_, i) in rest.iter().rev() {
        if k >= n_draw {
            break;
        }
        if !selected[i] {
            selected[i] = true;
            k += 1;
        }
    }
    selected
}

/// Every department's plan, merged into joint visits, with inspectors assigned.
/// `m`: the language of the plan's notices.
pub fn plan(units: &Units, policy: &PlanPolicy, roster: Option<&Roster>, seed: u64, m: Messages) -> Result<Plan> {
    // Units in uscc order, so the draw does not depend on the order of the warning list.
    let uscc = units.uscc()?;
    let mut by_uscc: Vec<u32> = (0..units.len() as u32).collect();
    by_uscc.par_sort_unstable_by(|a, b| uscc.value(*a as usize).cmp(uscc.value(*b as usize)));
    let mut notices = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut summaries = Vec::new();
    // Departments draw independently (each from its own stream), so they run in parallel.
    let planned: Vec<_> = policy
        .departments
        .par_iter()
        .enumerate()
        .map(|(d, dept)| {
            let mut said = Vec::new();
            let (summary, dept_rows) = plan_department(units, &by_uscc, (d, dept), policy, (seed, d as u64), m, &mut said);
            (summary, dept_rows, said)
        })
        .collect();
    drop(by_uscc);
    rows.reserve_exact(planned.iter().map(|(_, r, _)| r.len()).sum());
    for (summary, dept_rows, said) in planned {
        rows.extend(dept_rows);
        summaries.push(summary);
        notices.extend(said);
    }
    // Joint visits: a subject selected by several departments is visited once. Selections are
    // grouped by subject with a counting sort (`by_subject[start[u]..start[u + 1]]`).
    let mut start = vec![0u32; units.len() + 1];
    for r in rows.iter().filter(|r| r.selected) {
        start[r.unit as usize + 1] += 1;
    }
    for u in 0..units.len() {
        start[u + 1] += start[u];
    }
    let selections = start[units.len()] as usize;
    let mut by_subject = vec![0u16; selections];
    let mut fill = start.clone();
    for r in rows.iter().filter(|r| r.selected) {
        let u = r.unit as usize;
        by_subject[fill[u] as usize] = r.department;
        fill[u] += 1;
    }
    drop(fill);
    let visits = (0..units.len()).filter(|&u| start[u + 1] > start[u]).count();
    let inspectors = match roster {
        Some(r) => assign_inspectors(units, &rows, policy, r, seed, m, &mut notices)?,
        None => {
            notices.push(m.tr("notice.no_roster").to_string());
            Vec::new()
        }
    };
    // Each unit's stratum, numbered: a plan has rows for several departments per unit.
    let mut strata: Vec<String> = Vec::new();
    let mut stratum_of: HashMap<(&str, &str), u32> = HashMap::new();
    let stratum: Vec<u32> = (0..units.len())
        .map(|u| {
            let key = (units.industry(u).get(..1).unwrap_or(""), units.region(u));
            *stratum_of.entry(key).or_insert_with(|| {
                strata.push(format!("{}-{}", key.0, key.1));
                strata.len() as u32 - 1
            })
        })
        .collect();
    drop(stratum_of);
    let table = Table {
        uscc: units.uscc.clone(),
        departments: policy.departments.iter().map(|d| d.name.clone()).collect(),
        rows,
        strata,
        stratum,
        inspectors,
        start,
        by_subject,
        seed,
    };
    Ok(Plan { table, departments: summaries, selections, visits, notices })
}

/// plan.parquet, held as numbers per row and unit and made a slice of rows at a time where it
/// is written ([`Plan::frame_rows`]): at province scale the plan has a row per eligible
/// (subject, department), millions of them.
#[derive(Debug, Clone)]
struct Table {
    /// Per unit.
    uscc: StringChunked,
    departments: Vec<String>,
    rows: Vec<Row>,
    strata: Vec<String>,
    /// Per unit, its index into `strata`.
    stratum: Vec<u32>,
    /// (row, its inspectors), rows in order.
    inspectors: Vec<(usize, Vec<String>)>,
    /// The departments that selected unit u: `by_subject[start[u]..start[u + 1]]`.
    start: Vec<u32>,
    by_subject: Vec<u16>,
    seed: u64,
}

impl Plan {
    /// The rows of plan.parquet.
    pub fn height(&self) -> usize {
        self.table.rows.len()
    }

    /// plan.parquet's rows `offset..offset + len`.
    pub fn frame_rows(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let t = &self.table;
        let rows = &t.rows[offset..offset + len];
        let uscc = t.uscc.downcast_iter().next();
        let uscc = StringChunked::from_iter_values("uscc".into(), rows.iter().map(|r| uscc.map_or("", |a| a.value(r.unit as usize))));
        let names: Vec<&str> = t.departments.iter().map(String::as_str).collect();
        let strata: Vec<&str> = t.strata.iter().map(String::as_str).collect();
        let stratum = crate::columns::repeated("stratum", &strata, rows.iter().map(|r| Some(t.stratum[r.unit as usize] as usize)))?;
        let department = crate::columns::repeated("department", &names, rows.iter().map(|r| Some(r.department as usize)))?;
        let selected = rows.iter().filter(|r| r.selected).count();
        let mut insp = ListStringChunkedBuilder::new("inspectors".into(), len, selected);
        let mut joint = ListStringChunkedBuilder::new("joint_with".into(), len, selected);
        let first = t.inspectors.partition_point(|a| a.0 < offset);
        let mut assigned = t.inspectors[first..].iter().peekable();
        for (i, &Row { department, unit, selected, .. }) in rows.iter().enumerate() {
            let (d, u) = (department as usize, unit as usize);
            let these = assigned.next_if(|a| a.0 == offset + i).map(|a| a.1.as_slice()).unwrap_or(&[]);
            insp.append_values_iter(these.iter().map(String::as_str));
            let group = if selected { &t.by_subject[t.start[u] as usize..t.start[u + 1] as usize] } else { &[][..] };
            joint.append_values_iter(group.iter().filter(|o| **o as usize != d).map(|o| names[*o as usize]));
        }
        Ok(DataFrame::new(len, vec![
            uscc.into_column(),
            department.into_column(),
            stratum.into_column(),
            Column::new("inclusion_probability".into(), rows.iter().map(|r| r.pi).collect::<Vec<_>>()),
            Column::new("selected".into(), rows.iter().map(|r| r.selected).collect::<Vec<_>>()),
            insp.finish().into_column(),
            joint.finish().into_column(),
            Column::new("seed".into(), vec![t.seed; len]),
            crate::columns::repeated("method", &[METHOD], std::iter::repeat_n(Some(0), len))?.into_column(),
        ])?)
    }

    /// The whole of plan.parquet.
    pub fn frame(&self) -> Result<DataFrame> {
        self.frame_rows(0, self.height())
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_department(
    units: &Units,
    by_uscc: &[u32],
    (d, dept): (usize, &Department),
    policy: &PlanPolicy,
    (seed, stream): (u64, u64),
    m: Messages,
    notices: &mut Vec<String>,
) -> (DepartmentSummary, Vec<Row>) {
    let mut suppressed = 0;
    let covers_industry: Vec<bool> = units.industries.iter().map(|c| dept.covers_industry(c)).collect();
    let covers_region: Vec<bool> = units.regions.iter().map(|r| dept.covers_region(r)).collect();
    let key_sector: Vec<bool> = units.industries.iter().map(|c| dept.is_key_sector(c)).collect();
    let eligible: Vec<usize> = by_uscc
        .iter()
        .map(|&i| i as usize)
        .filter(|&i| covers_industry[units.candidates[i].industry as usize] && covers_region[units.candidates[i].region as usize])
        .filter(|&i| {
            let u = &units.candidates[i];
            let recent = policy.suppress_passed_within_days > 0
                && u.grade <= Grade::B
                && !key_sector[units.candidates[i].industry as usize]
                && u.days_since_random_pass.is_some_and(|d| d <= policy.suppress_passed_within_days);
            suppressed += recent as usize;
            !recent
        })
        .collect();
    let mut certain: Vec<bool> = eligible
        .iter()
        .map(|&i| (policy.full_coverage_d && units.candidates[i].grade == Grade::D) || key_sector[units.candidates[i].industry as usize])
        .collect();
    let n_certain = certain.iter().filter(|c| **c).count();
    if n_certain > dept.capacity {
        notices.push(m.fill("notice.capacity_below_certainty", &[("department", &dept.name), ("capacity", &dept.capacity), ("certain", &n_certain)]));
        let mut idx: Vec<usize> = (0..eligible.len()).filter(|&k| certain[k]).collect();
        idx.sort_by_key(|&k| units.candidates[eligible[k]].rank);
        for &k in &idx[dept.capacity..] {
            certain[k] = false;
        }
    }
    // Mean score per grade among the units that share the proportional part.
    let mut sum = [0.0f64; 4];
    let mut cnt = [0usize; 4];
    for (k, &i) in eligible.iter().enumerate() {
        if !certain[k] {
            sum[units.candidates[i].grade as usize] += units.candidates[i].score;
            cnt[units.candidates[i].grade as usize] += 1;
        }
    }
    let weights: Vec<f64> = eligible
        .iter()
        .map(|&i| {
            let u = &units.candidates[i];
            let g = u.grade as usize;
            let mean = if cnt[g] > 0 { sum[g] / cnt[g] as f64 } else { 0.0 };
            let tilt = match policy.risk_tilt {
                t if t <= 0.0 || mean <= 0.0 => 1.0,
                1.0 => u.score / mean,
                t => (u.score / mean).powf(t),
            };
            let obs = if u.observation && u.grade <= Grade::B { policy.observation_factor } else { 1.0 };
            dept.ratios.of(u.grade) * tilt * obs
        })
        .collect();
    let mut pi = if n_certain > dept.capacity {
        certain.iter().map(|c| if *c { 1.0 } else { 0.0 }).collect()
    } else {
        inclusion_probabilities(&weights, &certain, dept.capacity, policy.exploration_share)
    };
    if eligible.len() < dept.capacity {
        notices.push(m.fill("notice.capacity_above_eligible", &[("department", &dept.name), ("capacity", &dept.capacity), ("eligible", &eligible.len())]));
    }
    pi.iter_mut().for_each(|p| *p = p.clamp(0.0, 1.0));
    let selected = draw(&pi, &mut Rng::new(seed, stream));
    let mut by_grade: Vec<GradeSummary> =
        Grade::ALL.iter().map(|g| GradeSummary { grade: g.as_str().into(), ..Default::default() }).collect();
    for (k, &i) in eligible.iter().enumerate() {
        let g = &mut by_grade[units.candidates[i].grade as usize];
        g.eligible += 1;
        g.expected += pi[k];
        g.selected += selected[k] as usize;
    }
    let n_selected = selected.iter().filter(|s| **s).count();
    let scores = eligible.iter().map(|&i| units.candidates[i].score);
    let mean_score = if eligible.is_empty() { 0.0 } else { scores.clone().sum::<f64>() / eligible.len() as f64 };
    let summary = DepartmentSummary {
        expected_violations: scores.zip(&selected).filter(|(_, s)| **s).map(|(v, _)| v).sum(),
        random_plan_violations: n_selected as f64 * mean_score,
        department: dept.name.clone(),
        capacity: dept.capacity,
        eligible: eligible.len(),
        suppressed,
        certainty: certain.iter().filter(|c| **c).count(),
        sum_probability: pi.iter().sum(),
        selected: n_selected,
        by_grade,
    };
    let rows = eligible.iter().enumerate().filter(|(k, _)| pi[*k] > 0.0).map(|(k, &i)| Row { department: d as u16, unit: i as u32, pi: pi[k], selected: selected[k] }).collect();
    (summary, rows)
}

/// A region's inspectors, least-loaded first: (load, key, inspector).
type StaffHeap = std::collections::BinaryHeap<std::cmp::Reverse<(usize, u64, usize)>>;

/// Inspectors for every selected row: `inspectors_per_visit` of the department, never one in
/// conflict with the subject, preferring the subject's region, least-loaded first (ties by a
/// seeded random key), visits taken in a seeded random order.
fn assign_inspectors(
    units: &Units,
    rows: &[Row],
    policy: &PlanPolicy,
    roster: &Roster,
    seed: u64,
    m: Messages,
    notices: &mut Vec<String>,
) -> Result<Vec<(usize, Vec<String>)>> {
    use std::cmp::Reverse;
    let uscc = units.uscc()?;
    let k = policy.inspectors_per_visit;
    let mut out = Vec::new();
    let none = HashSet::new();
    let mut selected_rows: Vec<Vec<usize>> = vec![Vec::new(); policy.departments.len()];
    for (i, r) in rows.iter().enumerate() {
        if r.selected {
            selected_rows[r.department as usize].push(i);
        }
    }
    for (d, dept) in policy.departments.iter().enumerate() {
        let mut rng = Rng::new(seed, 1_000_000 + d as u64);
        let mut staff: Vec<(&str, &str)> =
            roster.inspectors.iter().filter(|(_, dep, _)| *dep == dept.name).map(|(id, _, region)| (id.as_str(), region.as_str())).collect();
        staff.sort();
        let key: Vec<u64> = staff.iter().map(|_| rng.u64()).collect();
        let mut load = vec![0usize; staff.len()];
        // Per region, a heap of (load, key, inspector); entries whose load is out of date are skipped.
        let mut regions: HashMap<&str, StaffHeap> = HashMap::new();
        for (i, st) in staff.iter().enumerate() {
            regions.entry(st.1).or_default().push(Reverse((0, key[i], i)));
        }
        let mut visits: Vec<(u64, usize)> = selected_rows[d].iter().map(|&i| (rng.u64(), i)).collect();
        visits.sort_unstable();
        let mut short = 0usize;
        for (_, row) in visits {
            let u = rows[row].unit as usize;
            let conflicted = roster.conflicts.get(uscc.value(u)).unwrap_or(&none);
            let mut chosen: Vec<usize> = Vec::with_capacity(k);
            if let Some(heap) = regions.get_mut(units.region(u)) {
                let mut skipped = Vec::new();
                while chosen.len() < k {
                    let Some(Reverse((l, kk, i))) = heap.pop() else { break };
                    if l != load[i] {
                        continue;
                    }
                    if conflicted.contains(staff[i].0) {
                        skipped.push(Reverse((l, kk, i)));
                    } else {
                        chosen.push(i);
                    }
                }
                heap.extend(skipped);
            }
            if chosen.len() < k {
                // Too few free inspectors in the region: the department's least-loaded others.
                let mut rest: Vec<usize> = (0..staff.len()).filter(|i| !chosen.contains(i) && !conflicted.contains(staff[*i].0)).collect();
                rest.sort_by_key(|&i| (load[i], key[i]));
                chosen.extend(rest.into_iter().take(k - chosen.len()));
            }
            if chosen.len() < k {
                short += 1;
            }
            for &i in &chosen {
                load[i] += 1;
                regions.get_mut(staff[i].1).expect("region heap").push(Reverse((load[i], key[i], i)));
            }
            let mut ids: Vec<String> = chosen.iter().map(|&i| staff[i].0.to_string()).collect();
            ids.sort();
            out.push((row, ids));
        }
        if short > 0 {
            notices.push(m.fill("notice.inspectors_short", &[("department", &dept.name), ("short", &short), ("k", &k)]));
        }
    }
    out.sort_unstable_by_key(|r| r.0);
    Ok(out)
}

impl Plan {
    /// No plan (`riskwarn score`).
    pub fn empty() -> Plan {
        let table = Table {
            uscc: StringChunked::full_null("uscc".into(), 0),
            departments: Vec::new(),
            rows: Vec::new(),
            strata: Vec::new(),
            stratum: Vec::new(),
            inspectors: Vec::new(),
            start: vec![0],
            by_subject: Vec::new(),
            seed: 0,
        };
        Plan { table, departments: Vec::new(), selections: 0, visits: 0, notices: Vec::new() }
    }
}
