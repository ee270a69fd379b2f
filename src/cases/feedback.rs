//! Feedback figures (manifest, end-of-run summary, report.html): per level at opening and per
//! department, what became of the cases, how fast they were handled, and the field confirmation
//! rate beside the model's expected rate for the same cases (the mean calibrated score at
//! opening) — the analyst's first check that scores mean something in the field.

use std::collections::BTreeMap;

use super::book::{Case, CaseBook, CaseState};
use super::{DispositionCounts, OpenCounts};

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FeedbackRow {
    /// `all`, `level` or `department`.
    pub by: String,
    /// The level or department (`all` for the total).
    pub group: String,
    /// Every case of the group in the book.
    pub cases: u64,
    pub opened_this_run: u64,
    /// Open now (`open`, `overdue` or `escalated`).
    pub open: u64,
    /// Open now and past due (`overdue` or `escalated`).
    pub overdue: u64,
    /// Ever escalated.
    pub escalated: u64,
    pub closed: u64,
    pub confirmed: u64,
    pub not_confirmed: u64,
    pub unreachable: u64,
    /// Closed after their due date.
    pub closed_late: u64,
    /// Median calendar days from opening to the closing disposition, over closed cases.
    pub median_days_to_handle: Option<f64>,
    /// confirmed / (confirmed + not_confirmed).
    pub confirmation_rate: Option<f64>,
    /// Mean calibrated score at opening of those same confirmed and not-confirmed cases.
    pub expected_rate: Option<f64>,
}

/// An open case past its due date.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OverdueCase {
    pub case_id: String,
    pub uscc: String,
    pub department: String,
    pub level: String,
    pub opened_on: String,
    pub due_on: String,
    pub days_overdue: i32,
    pub escalated_to: Option<String>,
}

/// A department's open cases past due: how many, and the longest overdue of them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OverdueDepartment {
    pub department: String,
    pub cases: u64,
    /// The [`OVERDUE_LISTED`] most days overdue (then by id); cases.parquet has them all.
    pub longest: Vec<OverdueCase>,
}

/// Overdue cases listed per department in the report.
pub const OVERDUE_LISTED: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Feedback {
    /// The total first, then per level (red first), then per department (by name).
    pub rows: Vec<FeedbackRow>,
    pub dispositions: DispositionCounts,
    pub opening: OpenCounts,
    /// Cases added from the `cases` input table in this run.
    pub imported: u64,
    /// Open cases past due, per department (by name); the manifest has only their number.
    #[serde(skip)]
    pub overdue: Vec<OverdueDepartment>,
}

fn median(v: &mut [i32]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] as f64 } else { (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0 })
}

/// One group's figures, summed case by case.
#[derive(Default)]
struct Tally {
    row: FeedbackRow,
    days: Vec<i32>,
    scores: f64,
    scored: u64,
}

impl Tally {
    fn add(&mut self, c: &Case, as_of: i32) {
        let r = &mut self.row;
        r.cases += 1;
        r.opened_this_run += (c.opened_on == as_of && c.source == super::ENGINE) as u64;
        r.escalated += c.escalated_on.is_some() as u64;
        match c.state {
            CaseState::Open => r.open += 1,
            CaseState::Overdue | CaseState::Escalated => {
                r.open += 1;
                r.overdue += 1;
            }
            closed => {
                r.closed += 1;
                if let Some(d) = c.closed_on {
                    self.days.push(d - c.opened_on);
                    r.closed_late += (d > c.due_on) as u64;
                }
                match closed {
                    CaseState::ClosedConfirmed => r.confirmed += 1,
                    CaseState::ClosedNotConfirmed => r.not_confirmed += 1,
                    _ => r.unreachable += 1,
                }
                if matches!(closed, CaseState::ClosedConfirmed | CaseState::ClosedNotConfirmed)
                    && let Some(s) = c.score_at_opening
                {
                    self.scores += s;
                    self.scored += 1;
                }
            }
        }
    }

    fn finish(mut self, by: &str, group: &str) -> FeedbackRow {
        let mut r = self.row;
        r.by = by.into();
        r.group = group.into();
        r.median_days_to_handle = median(&mut self.days);
        let checked = r.confirmed + r.not_confirmed;
        r.confirmation_rate = (checked > 0).then(|| r.confirmed as f64 / checked as f64);
        r.expected_rate = (self.scored > 0).then(|| self.scores / self.scored as f64);
        r
    }
}

/// The figures of a book as of T.
pub fn feedback(book: &CaseBook, as_of: i32, dispositions: DispositionCounts, opening: OpenCounts, imported: u64) -> Feedback {
    let level_rank = |l: &str| crate::grade::LEVELS.iter().position(|x| *x == l).unwrap_or(usize::MAX);
    let mut all = Tally::default();
    let mut by_level: BTreeMap<(usize, &str), Tally> = BTreeMap::new();
    let mut by_department: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut overdue: BTreeMap<&str, Vec<&Case>> = BTreeMap::new();
    for c in &book.cases {
        all.add(c, as_of);
        by_level.entry((level_rank(&c.level), c.level.as_str())).or_default().add(c, as_of);
        by_department.entry(c.department.as_str()).or_default().add(c, as_of);
        if matches!(c.state, CaseState::Overdue | CaseState::Escalated) {
            overdue.entry(c.department.as_str()).or_default().push(c);
        }
    }
    let mut rows = vec![all.finish("all", "all")];
    rows.extend(by_level.into_iter().map(|((_, l), t)| t.finish("level", l)));
    rows.extend(by_department.into_iter().map(|(d, t)| t.finish("department", d)));
    let overdue = overdue
        .into_iter()
        .map(|(department, mut cases)| {
            // Most days overdue (earliest due) first, then by id.
            let longest = |a: &&Case, b: &&Case| (a.due_on, &a.case_id).cmp(&(b.due_on, &b.case_id));
            let n = cases.len() as u64;
            if cases.len() > OVERDUE_LISTED {
                cases.select_nth_unstable_by(OVERDUE_LISTED, longest);
                cases.truncate(OVERDUE_LISTED);
            }
            cases.sort_unstable_by(longest);
            let longest = cases
                .into_iter()
                .map(|c| OverdueCase {
                    case_id: c.case_id.to_string(),
                    uscc: c.uscc.to_string(),
                    department: c.department.to_string(),
                    level: c.level.to_string(),
                    opened_on: crate::dates::format(c.opened_on),
                    due_on: crate::dates::format(c.due_on),
                    days_overdue: as_of - c.due_on,
                    escalated_to: c.escalated_to.as_ref().map(|s| s.to_string()),
                })
                .collect();
            OverdueDepartment { department: department.to_string(), cases: n, longest }
        })
        .collect();
    Feedback { rows, dispositions, opening, imported, overdue }
}
