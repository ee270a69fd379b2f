//! Policy (riskwarn.toml): warning levels, credit grades and their hard rules, and the 双随机
//! inspection plan (departments, capacities, grade ratios, key sectors). Nothing here is a
//! constant in code: every threshold a supervisor may change is a field, checked on load (an
//! unknown key, thresholds out of order or a ratio outside [0, 1] is exit 2). docs/policy.md
//! documents every field; a test keeps it in step with riskwarn.toml.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::FeatureOptions;
use crate::options::Valid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Zh,
    En,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The language of everything people read: the report, the supervisor files, reason_text,
    /// notices and the end-of-run summary (`messages`).
    pub language: Language,
    /// Published seed of the random inspection draw (`riskwarn run` uses it unless `--seed`).
    pub seed: u64,
    /// Feature windows, observation period and peer grouping (defaults: `FeatureOptions::default`).
    #[serde(default)]
    pub features: Valid<FeatureOptions>,
    pub levels: Bands,
    pub grades: Grades,
    pub plan: PlanPolicy,
    /// Follow-up of warnings (defaults: `CasePolicy::default`).
    #[serde(default)]
    pub cases: CasePolicy,
    /// How a points scorecard's log-odds become points (defaults: `PointsScale::default`).
    /// Left out of the policy's hash when default, so the hashes of existing policies stand.
    #[serde(default, skip_serializing_if = "crate::model::points::PointsScale::is_default")]
    pub points: crate::model::points::PointsScale,
}

/// How scored subjects are cut into ordered classes, highest risk first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandMethod {
    /// Classes take fixed shares of the ranked list (rank-based; stable across recalibration).
    Share,
    /// Classes start at minimum calibrated scores.
    Score,
}

/// Warning levels 红/橙/黄 (the rest are 蓝). With `share`, the values are the shares of scored
/// subjects in each level; with `score`, the minimum calibrated score of each level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub method: BandMethod,
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::A, Grade::B, Grade::C, Grade::D];
    pub fn as_str(self) -> &'static str {
        ["A", "B", "C", "D"][self as usize]
    }
    fn from_index(i: usize) -> Grade {
        Grade::ALL[i.min(3)]
    }
    /// `steps` classes toward D (capped at D).
    pub fn raised(self, steps: u8) -> Grade {
        Grade::from_index(self as usize + steps as usize)
    }
}

/// Credit-risk grades (信用风险分类). With `share`, `d`, `c`, `b` are the shares of scored subjects
/// graded D, C, B by score (the rest A); with `score`, their minimum calibrated scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grades {
    pub method: BandMethod,
    pub d: f64,
    pub c: f64,
    pub b: f64,
    /// Subjects in the observation period are graded no worse than this by score alone.
    pub observation_cap: Grade,
    /// Hard rules, applied after the score grade (and its observation cap) in order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<HardRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// The grade becomes `grade`.
    Set,
    /// The grade becomes at least `grade` (toward D).
    AtLeast,
    /// The grade moves `steps` classes toward D (capped at D).
    Raise,
}

/// A hard rule: when feature ≥ `min`, the action applies. It is named in the subject's reasons.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardRule {
    pub name: String,
    pub label_zh: String,
    /// The rule's label in an English report; without it, the rule's name.
    #[serde(default)]
    pub label_en: Option<String>,
    pub feature: String,
    pub min: f64,
    pub action: RuleAction,
    #[serde(default)]
    pub grade: Option<Grade>,
    #[serde(default)]
    pub steps: Option<u8>,
}

impl HardRule {
    pub fn label(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.label_zh,
            Language::En => self.label_en.as_deref().unwrap_or(&self.name),
        }
    }
    pub fn apply(&self, g: Grade) -> Grade {
        match self.action {
            RuleAction::Set => self.grade.unwrap_or(g),
            RuleAction::AtLeast => g.max(self.grade.unwrap_or(g)),
            RuleAction::Raise => g.raised(self.steps.unwrap_or(0)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPolicy {
    /// Share of each department's capacity spread uniformly over its eligible subjects
    /// (exploration: every eligible subject keeps a known, nonzero chance).
    pub exploration_share: f64,
    /// Within a grade, π ∝ ratio × (score / mean score of the grade)^risk_tilt (0 = no tilt).
    pub risk_tilt: f64,
    /// Ratio multiplier for subjects in the observation period (包容审慎), grades A/B only.
    pub observation_factor: f64,
    /// Subjects that passed a random inspection within this many days are not planned again,
    /// unless graded C or D (0 = no suppression).
    pub suppress_passed_within_days: i32,
    /// D subjects covered by a department are always selected (probability 1).
    pub full_coverage_d: bool,
    /// Inspectors sent on each visit (双随机: at least two).
    pub inspectors_per_visit: usize,
    #[serde(rename = "department")]
    pub departments: Vec<Department>,
}

/// Base inspection ratios per grade: the relative intensity of inspection; the department's
/// capacity scales them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRatios {
    #[serde(rename = "A")]
    pub a: f64,
    #[serde(rename = "B")]
    pub b: f64,
    #[serde(rename = "C")]
    pub c: f64,
    #[serde(rename = "D")]
    pub d: f64,
}

impl GradeRatios {
    pub fn of(&self, g: Grade) -> f64 {
        [self.a, self.b, self.c, self.d][g as usize]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub name: String,
    /// The department's name in an English report; `name` stays its identifier everywhere.
    #[serde(default)]
    pub label_en: Option<String>,
    /// Subjects the department can inspect in the period (the plan's sample size).
    pub capacity: usize,
    /// Industry code prefixes it covers (its 随机抽查事项清单); empty = every industry.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Region code prefixes it covers; empty = every region.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Industry code prefixes covered in full (重点领域: probability 1).
    #[serde(default)]
    pub key_sectors: Vec<String>,
    pub ratios: GradeRatios,
}

impl Department {
    pub fn covers_industry(&self, industry: &str) -> bool {
        self.industries.is_empty() || self.industries.iter().any(|p| industry.starts_with(p.as_str()))
    }
    pub fn covers_region(&self, region: &str) -> bool {
        self.regions.is_empty() || self.regions.iter().any(|p| region.starts_with(p.as_str()))
    }
    pub fn is_key_sector(&self, industry: &str) -> bool {
        self.key_sectors.iter().any(|p| industry.starts_with(p.as_str()))
    }
}

/// How due dates count days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Every day counts.
    Calendar,
    /// Monday to Friday, less `holidays`, plus `extra_workdays` (调休).
    Working,
}

/// A rule sending the cases of some industries/regions to a department (the one with the
/// longest matching industry prefix wins, then the longest region prefix, then the first listed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRoute {
    pub department: String,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// Warning cases (跟踪预警和反馈处理): which warnings open a case, who follows it up, when it is
/// due, when it escalates, and how long a check that found nothing keeps the subject quiet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CasePolicy {
    /// Warning levels that open a case.
    pub open_levels: Vec<String>,
    /// Days to handle a case, per level at opening (every level of `open_levels` needs one).
    pub due_days: std::collections::BTreeMap<String, i32>,
    /// Whether `due_days` and `escalate_after_days` count calendar or working days.
    pub day_count: DayCount,
    /// Public holidays (`YYYY-MM-DD`) that are not working days.
    pub holidays: Vec<String>,
    /// Weekend days that are working days (调休上班).
    pub extra_workdays: Vec<String>,
    /// Levels at opening whose overdue cases escalate, once.
    pub escalate_levels: Vec<String>,
    /// Days after becoming overdue that a case escalates (0 = the day it becomes overdue).
    pub escalate_after_days: i32,
    /// Who an escalated case goes to (recorded in the case and its audit trail).
    pub escalate_to: String,
    /// A subject whose case closed `not_confirmed` opens no new case for this many calendar days…
    pub suppress_not_confirmed_days: i32,
    /// … unless its calibrated score rose by at least this much over its score at the closed
    /// case's opening, or it had a new adverse event after the disposition.
    pub reopen_score_rise: f64,
    /// Department of a case no route and no plan department covers.
    pub default_department: String,
    /// Routes tried before the plan's departments (which route by their `industries`/`regions`).
    #[serde(rename = "route")]
    pub routes: Vec<CaseRoute>,
}

impl Default for CasePolicy {
    fn default() -> Self {
        CasePolicy {
            open_levels: vec!["red".into(), "orange".into()],
            due_days: [("red".to_string(), 5), ("orange".to_string(), 15)].into_iter().collect(),
            day_count: DayCount::Working,
            holidays: Vec::new(),
            extra_workdays: Vec::new(),
            escalate_levels: vec!["red".into()],
            escalate_after_days: 0,
            escalate_to: "上级市场监督管理部门".into(),
            suppress_not_confirmed_days: 180,
            reopen_score_rise: 0.1,
            default_department: "市场监督管理局".into(),
            routes: Vec::new(),
        }
    }
}

impl CasePolicy {
    /// The department that follows up a subject's cases: the route, else the plan department,
    /// with the longest matching industry prefix (then region prefix; ties: the first listed);
    /// else `default_department`.
    pub fn department_for<'a>(&'a self, plan: &'a [Department], industry: &str, region: &str) -> &'a str {
        fn best(prefixes: &[String], code: &str) -> Option<usize> {
            if prefixes.is_empty() {
                return Some(0);
            }
            prefixes.iter().filter(|p| code.starts_with(p.as_str())).map(|p| p.len()).max()
        }
        let candidates = self
            .routes
            .iter()
            .map(|r| (0u8, r.department.as_str(), &r.industries, &r.regions))
            .chain(plan.iter().map(|d| (1u8, d.name.as_str(), &d.industries, &d.regions)));
        let mut chosen: Option<((u8, usize, usize), &str)> = None;
        for (tier, name, industries, regions) in candidates {
            let (Some(i), Some(r)) = (best(industries, industry), best(regions, region)) else { continue };
            // Routes (tier 0) beat plan departments; then longer prefixes; the first listed keeps ties.
            let key = (1 - tier, i, r);
            if chosen.as_ref().is_none_or(|(k, _)| key > *k) {
                chosen = Some((key, name));
            }
        }
        chosen.map_or(self.default_department.as_str(), |(_, n)| n)
    }

    /// Days to handle a case opened at `level` (None: the level opens no case).
    pub fn due_days_of(&self, level: &str) -> Option<i32> {
        self.due_days.get(level).copied()
    }

    /// Days to handle a case at `level`, for a case this policy did not open (imported, or
    /// simulated): the level's own, else the longest the policy gives any level.
    pub fn due_days_or_longest(&self, level: &str) -> Option<i32> {
        self.due_days_of(level).or_else(|| self.due_days.values().copied().max())
    }

    /// The calendar used for due dates.
    pub fn calendar(&self) -> Result<crate::dates::WorkCalendar> {
        let parse = |what: &str, v: &[String]| -> Result<Vec<i32>> {
            v.iter()
                .map(|s| crate::dates::parse(s).ok_or_else(|| Error::BadArgument(format!("cases.{what}: '{s}' is not a date (YYYY-MM-DD)"))))
                .collect()
        };
        Ok(crate::dates::WorkCalendar {
            working_days: self.day_count == DayCount::Working,
            holidays: parse("holidays", &self.holidays)?,
            extra_workdays: parse("extra_workdays", &self.extra_workdays)?,
        })
    }

    fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::BadArgument(m));
        let level_ok = |what: &str, l: &str| -> Result<()> {
            if crate::grade::LEVELS.contains(&l) {
                Ok(())
            } else {
                Err(Error::BadArgument(format!("cases.{what}: '{l}' is not a warning level (red, orange, yellow, blue)")))
            }
        };
        for l in &self.open_levels {
            level_ok("open_levels", l)?;
            match self.due_days.get(l) {
                None => return bad(format!("cases.due_days has no entry for '{l}', a level that opens cases")),
                Some(d) if !(1..=365).contains(d) => return bad(format!("cases.due_days.{l} = {d}; need 1 to 365 days")),
                _ => {}
            }
        }
        for l in self.due_days.keys() {
            level_ok("due_days", l)?;
        }
        for l in &self.escalate_levels {
            level_ok("escalate_levels", l)?;
        }
        if !(0..=365).contains(&self.escalate_after_days) {
            return bad(format!("cases.escalate_after_days = {}; need 0 to 365", self.escalate_after_days));
        }
        if !(0..=3650).contains(&self.suppress_not_confirmed_days) {
            return bad(format!("cases.suppress_not_confirmed_days = {}; need 0 to 3650", self.suppress_not_confirmed_days));
        }
        if !(self.reopen_score_rise.is_finite() && (0.0..=1.0).contains(&self.reopen_score_rise)) {
            return bad(format!("cases.reopen_score_rise = {} is outside [0, 1]", self.reopen_score_rise));
        }
        if self.escalate_to.trim().is_empty() || self.default_department.trim().is_empty() {
            return bad("cases.escalate_to and cases.default_department must not be empty".into());
        }
        for r in &self.routes {
            if r.department.trim().is_empty() {
                return bad("cases.route: department must not be empty".into());
            }
        }
        self.calendar().map(|_| ())
    }
}

fn unit(name: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::BadArgument(format!("{name} = {v} is outside [0, 1]")))
    }
}

impl Bands {
    fn check(&self, what: &str, names: [&str; 3]) -> Result<()> {
        let v = [self.red, self.orange, self.yellow];
        check_cuts(what, self.method, names, v)
    }
}

fn check_cuts(what: &str, method: BandMethod, names: [&str; 3], v: [f64; 3]) -> Result<()> {
    for (n, x) in names.iter().zip(v) {
        unit(&format!("{what}.{n}"), x)?;
    }
    match method {
        BandMethod::Share if v.iter().sum::<f64>() > 1.0 + 1e-12 => {
            Err(Error::BadArgument(format!("{what}: the shares {} add up to more than 1", names.join(" + "))))
        }
        BandMethod::Score if !(v[0] >= v[1] && v[1] >= v[2]) => Err(Error::BadArgument(format!(
            "{what}: score thresholds out of order; need {} ≥ {} ≥ {} (got {} {} {})",
            names[0], names[1], names[2], v[0], v[1], v[2]
        ))),
        _ => Ok(()),
    }
}

impl Policy {
    /// Reads and checks a policy file; every problem is a clear error naming the file (exit 2).
    pub fn load(path: &Path) -> Result<Policy> {
        let text = crate::io::read_text(path)?;
        Self::parse(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Parses and checks a policy's text; a syntax or type error says where (`line L, column C`).
    pub fn parse(text: &str) -> Result<Policy> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
            Error::BadArgument(format!("invalid policy: {}{}", at.unwrap_or_default(), e.message().trim_end()))
        })?;
        policy.check()?;
        Ok(policy)
    }

    /// A stable hash of the policy's content (manifest, run id).
    pub fn hash(&self) -> String {
        crate::digest::hex_digest(serde_json::to_string(self).expect("policy serialises").as_bytes())
    }

    pub fn check(&self) -> Result<()> {
        let registry = crate::features::Registry::all(&self.features);
        self.levels.check("levels", ["red", "orange", "yellow"])?;
        check_cuts("grades", self.grades.method, ["d", "c", "b"], [self.grades.d, self.grades.c, self.grades.b])?;
        if self.grades.rules.len() > crate::grade::MAX_RULES {
            return Err(Error::BadArgument(format!("grades.rule: {} rules; a policy has at most {}", self.grades.rules.len(), crate::grade::MAX_RULES)));
        }
        let mut names = std::collections::BTreeSet::new();
        for r in &self.grades.rules {
            if !names.insert(r.name.as_str()) {
                return Err(Error::BadArgument(format!("grades.rule: the name '{}' is used twice", r.name)));
            }
            match registry.get(&r.feature) {
                None => {
                    let hint = registry.nearest(&r.feature).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
                    return Err(Error::BadArgument(format!(
                        "grades.rule '{}': unknown feature `{}`{hint} (docs/features.md lists every feature)",
                        r.name, r.feature
                    )));
                }
                Some(f) if f.kind == crate::features::Kind::Categorical => {
                    return Err(Error::BadArgument(format!(
                        "grades.rule '{}': feature `{}` is categorical; a rule compares a number with `min`",
                        r.name, r.feature
                    )));
                }
                Some(_) => {}
            }
            if !r.min.is_finite() {
                return Err(Error::BadArgument(format!("grades.rule '{}': min must be a number", r.name)));
            }
            match r.action {
                RuleAction::Set | RuleAction::AtLeast if r.grade.is_none() => {
                    return Err(Error::BadArgument(format!("grades.rule '{}': action {:?} needs a grade", r.name, r.action)));
                }
                RuleAction::Raise if r.steps.is_none_or(|s| s == 0 || s > 3) => {
                    return Err(Error::BadArgument(format!("grades.rule '{}': action raise needs steps in 1..=3", r.name)));
                }
                _ => {}
            }
        }
        let p = &self.plan;
        unit("plan.exploration_share", p.exploration_share)?;
        unit("plan.observation_factor", p.observation_factor)?;
        if !(p.risk_tilt.is_finite() && p.risk_tilt >= 0.0) {
            return Err(Error::BadArgument("plan.risk_tilt must be ≥ 0".into()));
        }
        if p.suppress_passed_within_days < 0 {
            return Err(Error::BadArgument("plan.suppress_passed_within_days must be ≥ 0".into()));
        }
        if p.inspectors_per_visit < 2 {
            return Err(Error::BadArgument("plan.inspectors_per_visit must be at least 2 (两名以上检查人员)".into()));
        }
        self.cases.check()?;
        self.points.check()?;
        let mut depts = std::collections::BTreeSet::new();
        for d in &p.departments {
            if !depts.insert(d.name.as_str()) {
                return Err(Error::BadArgument(format!("plan.department '{}' is declared twice", d.name)));
            }
            let r = &d.ratios;
            for (g, v) in Grade::ALL.iter().map(|g| (g, r.of(*g))) {
                unit(&format!("plan.department '{}'.ratios.{}", d.name, g.as_str()), v)?;
            }
            if !(r.a <= r.b && r.b <= r.c && r.c <= r.d) {
                return Err(Error::BadArgument(format!(
                    "plan.department '{}'.ratios must not fall as risk rises (A ≤ B ≤ C ≤ D)",
                    d.name
                )));
            }
        }
        Ok(())
    }
}
