//! Declarative feature specs: what a family computes, independent of how. Every feature is
//! declared once, here or in its family's module, with everything derived from it: its name and
//! window (from `FeatureOptions`), its doc, its labels in both languages, its expected direction,
//! its kind and whether it may be published. Two backends evaluate event-table measures: `kernel`
//! (a rayon pass over each subject's events, the production path) and `reference` (polars
//! expressions, an independent formulation the tests compare against).

use polars::prelude::*;

use super::Absent;

/// The five dimensions of the national indicator system for enterprise credit-risk
/// classification (通用型企业信用风险分类指标体系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// 企业基础属性: registration facts.
    Basic,
    /// 企业动态信息: changes, annual reports.
    Dynamic,
    /// 监管信息: inspections, penalties, lists, sampling tests.
    Supervision,
    /// 关联关系: related parties.
    Relations,
    /// 社会评价: complaints, court cases, public evaluation.
    Social,
}

impl Dimension {
    pub fn zh(self) -> &'static str {
        ["企业基础属性", "企业动态信息", "监管信息", "关联关系", "社会评价"][self as usize]
    }
    pub fn en(self) -> &'static str {
        ["basic attributes", "dynamic information", "supervision", "related parties", "social evaluation"][self as usize]
    }
}

/// What more of a feature means for risk, where it is known: the scorecard constrains such a
/// feature's coefficient to ≥ 0 and the trees are monotone in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More of it never lowers risk.
    Increasing,
    /// More of it never raises risk.
    Decreasing,
    /// No direction is assumed.
    #[default]
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    /// A string with levels (one-hot in the scorecard).
    Categorical,
    /// 0 or 1.
    Flag,
}

/// Whether a feature may appear in published files (warnings_public.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    /// Never published (complaint details: 三(五)2).
    Internal,
}

/// A business concept: the features over one source, grouped for reading and auditing.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Family {
    pub name: &'static str,
    pub zh: &'static str,
    pub dimension: Dimension,
    /// The visibility of the family's features unless one says otherwise.
    pub visibility: Visibility,
}

pub const SUBJECT: Family = Family { name: "subject", zh: "主体属性", dimension: Dimension::Basic, visibility: Visibility::Public };
pub const INSPECTIONS: Family = Family { name: "inspections", zh: "行政检查", dimension: Dimension::Supervision, visibility: Visibility::Public };
pub const PENALTIES: Family = Family { name: "penalties", zh: "行政处罚", dimension: Dimension::Supervision, visibility: Visibility::Public };
pub const COMPLAINTS: Family = Family { name: "complaints", zh: "投诉举报", dimension: Dimension::Social, visibility: Visibility::Internal };
pub const PRODUCT_CHECKS: Family = Family { name: "product_checks", zh: "抽查抽检", dimension: Dimension::Supervision, visibility: Visibility::Public };
pub const JUDGMENTS: Family = Family { name: "judgments", zh: "司法判决", dimension: Dimension::Social, visibility: Visibility::Public };
pub const CREDIT_LISTS: Family = Family { name: "credit_lists", zh: "信用名录", dimension: Dimension::Supervision, visibility: Visibility::Public };
pub const LICENCES: Family = Family { name: "licences", zh: "行政许可", dimension: Dimension::Supervision, visibility: Visibility::Public };
pub const RELATIONS: Family = Family { name: "relations", zh: "关联关系", dimension: Dimension::Relations, visibility: Visibility::Public };
pub const INDICATORS: Family = Family { name: "indicators", zh: "申报指标", dimension: Dimension::Dynamic, visibility: Visibility::Public };
pub const ANNUAL_REPORTS: Family = Family { name: "annual_reports", zh: "年报公示", dimension: Dimension::Dynamic, visibility: Visibility::Public };

/// One feature's registry entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feature {
    pub name: String,
    pub family: &'static Family,
    pub dimension: Dimension,
    pub doc: String,
    pub label_zh: String,
    pub label_en: String,
    pub direction: Direction,
    pub kind: Kind,
    pub visibility: Visibility,
}

impl Feature {
    /// A numeric feature of `family` with no assumed direction, visible as its family is.
    pub fn new(name: impl Into<String>, family: &'static Family, doc: impl Into<String>, label: Label) -> Self {
        Feature {
            name: name.into(),
            family,
            dimension: family.dimension,
            doc: doc.into(),
            label_zh: label.zh,
            label_en: label.en,
            direction: Direction::None,
            kind: Kind::Numeric,
            visibility: family.visibility,
        }
    }
    pub fn increasing(&mut self) -> &mut Self {
        self.direction = Direction::Increasing;
        self
    }
    pub fn kind(&mut self, kind: Kind) -> &mut Self {
        self.kind = kind;
        self
    }
    pub fn label(&self, zh: bool) -> &str {
        if zh { &self.label_zh } else { &self.label_en }
    }
}

/// A feature's label in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Label { zh: zh.into(), en: en.into() }
    }

    /// `近1年检查次数` / `inspections in the last year` for a count over `days` before T.
    pub fn windowed(days: i32, zh: &str, en: &str) -> Self {
        Label { zh: format!("{}{zh}", window_zh(days)), en: format!("{en} in the last {}", window_en(days)) }
    }
}

fn window_zh(days: i32) -> String {
    match days % crate::dates::DAYS_PER_YEAR {
        0 => format!("近{}年", days / crate::dates::DAYS_PER_YEAR),
        _ => format!("近{days}天"),
    }
}

fn window_en(days: i32) -> String {
    match (days % crate::dates::DAYS_PER_YEAR, days / crate::dates::DAYS_PER_YEAR) {
        (0, 1) => "year".into(),
        (0, y) => format!("{y} years"),
        _ => format!("{days} days"),
    }
}

/// `<prefix>_<days>d`, the name of a windowed feature.
pub fn windowed_name(prefix: &str, days: i32) -> String {
    format!("{prefix}_{days}d")
}

/// Which rows of a subject a measure looks at, relative to T. Every window includes only rows
/// known at T: dated (and recorded, where recorded) strictly before T.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Every known row.
    Known,
    /// Known rows with T - days ≤ date < T.
    Within(i32),
    /// Known rows with T - to ≤ date < T - from.
    Between(i32, i32),
}

/// How a feature aggregates a subject's rows. `bits` selects rows whose predicate bits are all set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    Count { window: Window, bits: u32 },
    Sum { value: usize, window: Window, bits: u32 },
    /// ln(1 + Sum).
    Log1pSum { value: usize, window: Window, bits: u32 },
    /// T − latest date among matching rows; null when none.
    DaysSince { bits: u32 },
    /// Count within `days` minus count in the `days` before.
    Trend { days: i32, bits: u32 },
    /// Count(num & den) / Count(den) within the window; null when Count(den) = 0.
    Share { num: u32, den: u32, window: Window },
    /// 1 if a matching entry is current at T (listed before T, not removed before T), else 0.
    ListedNow { bits: u32 },
    /// T − earliest listing date among current matching entries; null when none.
    ListedDays { bits: u32 },
    /// Known entries removed before T.
    RemovedBefore,
    /// Licences: 1 if a matching licence is current at T (issued before T, neither expired nor
    /// revoked before T), else 0.
    HeldNow { bits: u32 },
    /// Licences: current licences at T.
    HeldCount,
    /// Licences: licence types of which the subject held one before T but holds none now.
    LapsedTypes,
    /// Licences: known licences revoked in the `days` before T.
    RevokedWithin(i32),
    /// Indicators: a statistic of the non-null values of `value` (or, for `DaysSince`, the
    /// dates) of the matching known rows in the window; null when there is none.
    Observed { stat: Stat, value: usize, bits: u32, window: Window },
    /// Annual reports: rows of the last three due years.
    ReportsDue,
    /// … not filed before T.
    ReportsMissing,
    /// … filed before T but after 30 June of year + 1.
    ReportsLate,
}

/// What `Measure::Observed` reads off a subject's indicator rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// The value of the latest observation with a value (of two on one day, the later row).
    Last,
    Max,
    Mean,
    /// T − the latest observation's date (whether or not it has a value).
    DaysSince,
}

impl Measure {
    /// The trend's two windows: the last `days`, and the `days` before them.
    pub fn trend_windows(days: i32) -> (Window, Window) {
        (Window::Within(days), Window::Between(days, 2 * days))
    }
}

#[derive(Clone)]
pub struct FeatureSpec {
    pub feature: Feature,
    pub measure: Measure,
    pub when_absent: Absent,
}

impl FeatureSpec {
    pub fn name(&self) -> &str {
        &self.feature.name
    }
}

/// A family's declaration over one event table: row predicates (evaluated once, as bits),
/// row values, and the features.
pub struct TableFeatures {
    pub table: &'static str,
    pub family: &'static Family,
    pub predicates: Vec<(String, Expr)>,
    /// The predicates that test one string column for one value, as (column, value, bit): the
    /// kernel evaluates them by one lookup per row instead of one comparison per predicate.
    pub keyed: Vec<(&'static str, String, u32)>,
    pub values: Vec<(&'static str, Expr)>,
    pub features: Vec<FeatureSpec>,
}

impl TableFeatures {
    pub fn new(table: &'static str, family: &'static Family) -> Self {
        Self { table, family, predicates: Vec::new(), keyed: Vec::new(), values: Vec::new(), features: Vec::new() }
    }

    /// The column that dates the table's rows: the event date, or `filed_on` for annual reports
    /// (which have no event date of their own).
    pub fn date_column(&self) -> &'static str {
        match self.table {
            "annual_reports" => "filed_on",
            table => crate::contract::table(table).and_then(|t| t.event_date).expect("declared tables are dated contract tables"),
        }
    }

    /// Declares a row predicate; returns its bit.
    pub fn predicate(&mut self, name: impl AsRef<str>, expr: Expr) -> u32 {
        assert!(self.predicates.len() < 32, "at most 32 predicates per table");
        self.predicates.push((name.as_ref().to_string(), expr));
        1 << (self.predicates.len() - 1)
    }

    /// Declares the predicate `column == value` on a string column; returns its bit.
    pub fn equals(&mut self, name: impl AsRef<str>, column: &'static str, value: impl Into<String>) -> u32 {
        let value = value.into();
        let bit = self.predicate(name, col(column).eq(lit(value.as_str())));
        self.keyed.push((column, value, bit));
        bit
    }

    /// Declares a row value (null counts as 0 in sums; `Observed` skips it); returns its index.
    pub fn value(&mut self, name: &'static str, expr: Expr) -> usize {
        self.values.push((name, expr));
        self.values.len() - 1
    }

    /// Declares a feature; returns it so its direction or kind can be set.
    pub fn add(&mut self, name: impl Into<String>, doc: impl Into<String>, label: Label, measure: Measure) -> &mut Feature {
        let when_absent = match measure {
            Measure::DaysSince { .. } | Measure::Share { .. } | Measure::ListedDays { .. } | Measure::Observed { .. } => Absent::Null,
            _ => Absent::Zero,
        };
        let feature = Feature::new(name, self.family, doc, label);
        self.features.push(FeatureSpec { feature, measure, when_absent });
        &mut self.features.last_mut().expect("just pushed").feature
    }

    /// A count over one window: `<prefix>_<days>d`.
    pub fn count(&mut self, prefix: &str, days: i32, what: &str, zh: &str, en: &str, bits: u32) -> &mut Feature {
        self.add(
            windowed_name(prefix, days),
            format!("{what} in the {days} days before T"),
            Label::windowed(days, zh, en),
            Measure::Count { window: Window::Within(days), bits },
        )
    }

    /// Counts over every window; `increasing` when more of them never lowers risk.
    pub fn windowed(&mut self, windows: &[i32], prefix: &str, what: &str, zh: &str, en: &str, bits: u32, increasing: bool) {
        for &w in windows {
            let f = self.count(prefix, w, what, zh, en, bits);
            if increasing {
                f.increasing();
            }
        }
    }

    /// `<prefix>_trend`: the count in the last `days` minus the count in the `days` before.
    pub fn trend(&mut self, prefix: &str, days: i32, what: &str, zh: &str, en: &str, bits: u32) -> &mut Feature {
        self.add(
            format!("{prefix}_trend"),
            format!("{what} in the last {days} days minus the {days} days before"),
            Label::new(
                match days {
                    crate::dates::DAYS_PER_YEAR => format!("{zh}同比增量"),
                    _ => format!("{zh}较前{}增量", window_zh(days).trim_start_matches('近')),
                },
                format!("change in {en} over the previous {}", window_en(days)),
            ),
            Measure::Trend { days, bits },
        )
    }

    pub fn days_since(&mut self, name: impl Into<String>, what: &str, zh: &str, en: &str, bits: u32) -> &mut Feature {
        self.add(
            name,
            format!("days from the latest {what} to T; null when there is none"),
            Label::new(format!("距上次{zh}天数"), format!("days since the last {en}")),
            Measure::DaysSince { bits },
        )
    }
}
