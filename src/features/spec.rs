//! Declarative feature specs: what a family computes, independent of how. Two backends evaluate
//! them: `kernel` (a rayon pass over each subject's events, the production path) and
//! `reference` (polars expressions, an independent formulation the tests compare against).

use polars::prelude::*;

use super::Absent;

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
    /// Count within 365 days minus count in the 365 days before.
    Trend { bits: u32 },
    /// Count(num & den) / Count(den) within the window; null when Count(den) = 0.
    Share { num: u32, den: u32, window: Window },
    /// 1 if a matching entry is current at T (listed before T, not removed before T), else 0.
    ListedNow { bits: u32 },
    /// T − earliest listing date among current matching entries; null when none.
    ListedDays { bits: u32 },
    /// Known entries removed before T.
    RemovedBefore,
    /// Annual reports: rows of the last three due years.
    ReportsDue,
    /// … not filed before T.
    ReportsMissing,
    /// … filed before T but after 30 June of year + 1.
    ReportsLate,
}

#[derive(Clone)]
pub struct FeatureSpec {
    pub name: String,
    pub family: &'static str,
    pub doc: String,
    pub measure: Measure,
    pub when_absent: Absent,
}

/// A family's declaration over one event table: row predicates (evaluated once, as bits),
/// row values, and the features.
pub struct TableFeatures {
    pub table: &'static str,
    pub family: &'static str,
    pub predicates: Vec<(&'static str, Expr)>,
    pub values: Vec<(&'static str, Expr)>,
    pub features: Vec<FeatureSpec>,
}

impl TableFeatures {
    pub fn new(table: &'static str, family: &'static str) -> Self {
        Self { table, family, predicates: Vec::new(), values: Vec::new(), features: Vec::new() }
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
    pub fn predicate(&mut self, name: &'static str, expr: Expr) -> u32 {
        assert!(self.predicates.len() < 32, "at most 32 predicates per table");
        self.predicates.push((name, expr));
        1 << (self.predicates.len() - 1)
    }

    /// Declares a row value (null counts as 0); returns its index.
    pub fn value(&mut self, name: &'static str, expr: Expr) -> usize {
        self.values.push((name, expr));
        self.values.len() - 1
    }

    pub fn add(&mut self, name: impl Into<String>, doc: impl Into<String>, measure: Measure) {
        let when_absent = match measure {
            Measure::DaysSince { .. } | Measure::Share { .. } | Measure::ListedDays { .. } => Absent::Null,
            _ => Absent::Zero,
        };
        self.features.push(FeatureSpec { name: name.into(), family: self.family, doc: doc.into(), measure, when_absent });
    }

    /// `<prefix>_<w>d` for every window.
    pub fn windowed(&mut self, windows: &[i32], prefix: &str, what: &str, bits: u32) {
        for &w in windows {
            self.add(format!("{prefix}_{w}d"), format!("{what} in the {w} days before T"), Measure::Count { window: Window::Within(w), bits });
        }
    }

    pub fn count_1095(&mut self, name: impl Into<String>, what: &str, bits: u32) {
        self.add(name, format!("{what} in the 1095 days before T"), Measure::Count { window: Window::Within(1095), bits });
    }

    pub fn trend(&mut self, prefix: &str, what: &str, bits: u32) {
        self.add(format!("{prefix}_trend"), format!("{what} in the last 365 days minus the 365 days before"), Measure::Trend { bits });
    }

    pub fn days_since(&mut self, name: impl Into<String>, what: &str, bits: u32) {
        self.add(name, format!("days from the latest {what} to T; null when there is none"), Measure::DaysSince { bits });
    }
}
