//! Step 3 of a run's cases: a warning at an opening level opens a case when its subject has none
//! open, unless a check found nothing not long ago (no alert fatigue): then the list still ranks
//! the subject but shows that case, 已核查 with its date and result. Either exception reopens:
//! the score rose by at least `reopen_score_rise` over the closed case's score at opening, or
//! something adverse became known after that disposition.

use std::collections::HashMap;

use polars::prelude::*;

use super::book::{Case, CaseBook, CaseEvent, CaseState};
use crate::error::{Error, Result};
use crate::policy::{CasePolicy, Department};
use crate::validate::{Validated, SID};

/// What the case step needs of one warning.
#[derive(Debug, Clone, Copy)]
pub struct WarningForCase<'a> {
    pub uscc: &'a str,
    pub level: &'a str,
    pub score: f64,
    pub industry: &'a str,
    pub region: &'a str,
}

/// The latest adverse record known of a subject before T: when it became known and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adverse {
    pub known_on: i32,
    pub what: &'static str,
}

/// The case each warning shows: its open case, else its latest case if that closed within
/// `suppress_not_confirmed_days` (so a recent 已核查 stays visible); index into `book.cases`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarningCase {
    pub case: Option<usize>,
    /// The warning would have opened a case but a recent `not_confirmed` check holds it back.
    pub suppressed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenCounts {
    /// Cases opened by this run…
    pub opened: u64,
    /// … of which reopened a subject checked `not_confirmed` within the quiet period because its
    /// score rose by at least `reopen_score_rise`,
    pub reopened_score_rise: u64,
    /// … or because something adverse became known after that check.
    pub reopened_new_event: u64,
    /// Warnings at an opening level that opened no case because a recent check found nothing.
    pub suppressed: u64,
    /// Warnings at an opening level whose subject's case was already open (its `times_warned`
    /// counts them, once per as-of date).
    pub already_open: u64,
}

pub struct Opened {
    pub per_warning: Vec<WarningCase>,
    pub counts: OpenCounts,
}

/// Subjects whose latest case closed `not_confirmed` within the quiet period before T: the only
/// ones whose adverse records [`open`] needs.
pub fn quiet_subjects<'a>(book: &'a CaseBook, as_of: i32, policy: &CasePolicy) -> Vec<&'a str> {
    let latest = latest_cases(book);
    let mut out: Vec<&str> = latest
        .into_iter()
        .filter(|(_, c)| in_quiet_period(&book.cases[*c], as_of, policy))
        .map(|(u, _)| u)
        .collect();
    out.sort_unstable();
    out
}

fn in_quiet_period(c: &Case, as_of: i32, policy: &CasePolicy) -> bool {
    c.state == CaseState::ClosedNotConfirmed && c.closed_on.is_some_and(|d| as_of <= d + policy.suppress_not_confirmed_days)
}

fn recently_closed(c: &Case, as_of: i32, policy: &CasePolicy) -> bool {
    c.closed_on.is_some_and(|d| as_of <= d + policy.suppress_not_confirmed_days)
}

/// Each subject's latest case (greatest opening day, then id), an open one first.
fn latest_cases(book: &CaseBook) -> HashMap<&str, usize> {
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (i, c) in book.cases.iter().enumerate() {
        fn key(c: &Case) -> (bool, i32, &str) {
            (c.state.is_open(), c.opened_on, c.case_id.as_str())
        }
        latest
            .entry(c.uscc.as_str())
            .and_modify(|best| {
                if key(c) > key(&book.cases[*best]) {
                    *best = i;
                }
            })
            .or_insert(i);
    }
    latest
}

/// The latest adverse record of each of `subjects` that was known before T: a complaint, a
/// penalty, a list entry, a failed product sample or an inspection that found issues or a
/// violation. A record is known from its date, or from `recorded_on` when the table has it and
/// that is later.
pub fn adverse_events(data: &Validated, subjects: &[&str], as_of: i32) -> Result<HashMap<String, Adverse>> {
    let mut out: HashMap<String, Adverse> = HashMap::new();
    if subjects.is_empty() {
        return Ok(out);
    }
    let registry = data.table("subjects").ok_or_else(|| Error::Internal("subjects not loaded".into()))?;
    let wanted = Series::new("".into(), subjects);
    let sids = registry
        .clone()
        .lazy()
        .filter(col("uscc").is_in(lit(wanted).implode(false), false))
        .select([col(SID), col("uscc")])
        .collect()?;
    let sid_list = sids.column(SID)?.as_materialized_series().clone();
    let tables: [(&str, &str, &'static str, Option<Expr>); 5] = [
        ("complaints", "received_on", "complaint", None),
        ("penalties", "decided_on", "penalty", None),
        ("credit_lists", "listed_on", "list entry", None),
        ("product_checks", "sampled_on", "failed product sample", Some(col("passed").not())),
        ("inspections", "inspected_on", "inspection with findings", Some(col("outcome").is_in(lit(Series::new("".into(), ["issues", "violation"])).implode(false), false))),
    ];
    for (table, date, what, condition) in tables {
        let Some(df) = data.table(table) else { continue };
        let known = if df.schema().contains("recorded_on") {
            when(col("recorded_on").is_not_null().and(col("recorded_on").gt(col(date)))).then(col("recorded_on")).otherwise(col(date))
        } else {
            col(date)
        };
        let mut lf = df.clone().lazy().filter(col(SID).is_in(lit(sid_list.clone()).implode(false), false));
        if let Some(c) = condition {
            lf = lf.filter(c);
        }
        let latest = lf
            .select([col(SID), known.cast(DataType::Int32).alias("known")])
            .filter(col("known").lt(lit(as_of)))
            .group_by([col(SID)])
            .agg([col("known").max()])
            .join(sids.clone().lazy(), [col(SID)], [col(SID)], JoinArgs::new(JoinType::Inner))
            .collect()?;
        let codes = latest.column("uscc")?.str()?;
        let days = latest.column("known")?.i32()?;
        for (code, day) in codes.iter().zip(days.iter()) {
            let (Some(code), Some(day)) = (code, day) else { continue };
            let e = out.entry(code.to_string()).or_insert(Adverse { known_on: day, what });
            if day > e.known_on {
                *e = Adverse { known_on: day, what };
            }
        }
    }
    Ok(out)
}

/// Opens the cases this run's warnings call for and says which case each warning shows.
/// `warnings` are in rank order; new cases are added to `book` in that order.
pub fn open(book: &mut CaseBook, warnings: &[WarningForCase], adverse: &HashMap<String, Adverse>, as_of: i32, policy: &CasePolicy, departments: &[Department]) -> Result<Opened> {
    let calendar = policy.calendar()?;
    let latest = latest_cases(book);
    // Open cases warned again; their `times_warned` is counted after the loop, which only reads
    // the book (so `latest` can borrow its codes).
    let mut warned_again: Vec<usize> = Vec::new();
    let mut counts = OpenCounts::default();
    let mut per_warning = Vec::with_capacity(warnings.len());
    let mut new_cases: Vec<Case> = Vec::new();
    let mut new_events: Vec<CaseEvent> = Vec::new();
    let first_new = book.cases.len();
    // Ids of cases opened on this day already in the book (only an imported case could be).
    let prefix = super::case_id("", as_of)[..12].to_string();
    let taken: std::collections::HashSet<String> = book.cases.iter().filter(|c| c.case_id.starts_with(&prefix)).map(|c| c.case_id.clone()).collect();
    for w in warnings {
        let opens = policy.open_levels.iter().any(|l| l == w.level);
        let existing = latest.get(w.uscc).copied();
        if let Some(c) = existing.filter(|&c| book.cases[c].state.is_open()) {
            if opens {
                counts.already_open += 1;
                warned_again.push(c);
            }
            per_warning.push(WarningCase { case: Some(c), suppressed: false });
            continue;
        }
        let recent = existing.filter(|&c| recently_closed(&book.cases[c], as_of, policy));
        if !opens {
            per_warning.push(WarningCase { case: recent, suppressed: false });
            continue;
        }
        let mut reopened = None;
        if let Some(c) = existing.filter(|&c| in_quiet_period(&book.cases[c], as_of, policy)) {
            let closed = &book.cases[c];
            let closed_on = closed.closed_on.unwrap_or(closed.opened_on);
            let rise = closed.score_at_opening.map(|s| w.score - s);
            let new_event = adverse.get(w.uscc).filter(|a| a.known_on > closed_on);
            // A rise of exactly Δ counts (0.60 − 0.50 is 0.0999… in floating point).
            if let Some(r) = rise.filter(|r| *r >= policy.reopen_score_rise - 1e-9) {
                counts.reopened_score_rise += 1;
                reopened = Some(format!("reopened: score {:.3} rose {:.3} over case {}'s {:.3}", w.score, r, closed.case_id, w.score - r));
            } else if let Some(a) = new_event {
                counts.reopened_new_event += 1;
                reopened = Some(format!("reopened: a {} known on {} after case {} closed not confirmed on {}", a.what, crate::dates::format(a.known_on), closed.case_id, crate::dates::format(closed_on)));
            } else {
                counts.suppressed += 1;
                per_warning.push(WarningCase { case: Some(c), suppressed: true });
                continue;
            }
        }
        let due_days = policy.due_days_of(w.level).ok_or_else(|| Error::Internal(format!("level {} opens cases but has no due days", w.level)))?;
        let case_id = super::case_id(w.uscc, as_of);
        if taken.contains(&case_id) {
            return Err(Error::Internal(format!("case id {case_id} exists already (a subject warned twice in one run?)")));
        }
        let due_on = calendar.add(as_of, due_days);
        let department = policy.department_for(departments, w.industry, w.region).to_string();
        let mut detail = format!("level {}, score {:.3}, due {}", w.level, w.score, crate::dates::format(due_on));
        if let Some(r) = reopened {
            detail = format!("{detail}; {r}");
        }
        new_events.push(CaseEvent {
            case_id: case_id.clone(),
            on: as_of,
            event: "opened".into(),
            from: None,
            to: CaseState::Open,
            by: super::ENGINE.into(),
            detail,
            disposition_key: None,
            recorded_as_of: as_of,
        });
        new_cases.push(Case::opening(case_id, w.uscc.to_string(), department, as_of, w.level.to_string(), Some(w.score), due_on, super::ENGINE));
        counts.opened += 1;
        per_warning.push(WarningCase { case: Some(first_new + new_cases.len() - 1), suppressed: false });
    }
    drop(latest);
    for c in warned_again {
        let case = &mut book.cases[c];
        if as_of > case.last_warned_on {
            case.times_warned += 1;
            case.last_warned_on = as_of;
        }
    }
    // Opening events of one day, in case-id order (the trail's order within a day).
    new_events.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    book.cases.extend(new_cases);
    book.events.extend(new_events);
    Ok(Opened { per_warning, counts })
}

/// [`open`] for a run's warning list (rank order; `uscc`, `risk_level`, `score`, `industry`,
/// `region`), returning it with each warning's case columns added: `case_id`, `case_state`,
/// `case_last_handled_on`, `case_last_result`.
pub fn open_warnings(
    warnings: DataFrame,
    book: &mut CaseBook,
    adverse: &HashMap<String, Adverse>,
    as_of: i32,
    policy: &CasePolicy,
    departments: &[Department],
) -> Result<(DataFrame, OpenCounts)> {
    let text = |c: &str| -> Result<Vec<&str>> { Ok(warnings.column(c)?.str()?.iter().map(|v| v.unwrap_or("")).collect()) };
    let (uscc, level, industry, region) = (text("uscc")?, text("risk_level")?, text("industry")?, text("region")?);
    let score: Vec<f64> = warnings.column("score")?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let rows: Vec<WarningForCase> =
        (0..warnings.height()).map(|i| WarningForCase { uscc: uscc[i], level: level[i], score: score[i], industry: industry[i], region: region[i] }).collect();
    let opened = open(book, &rows, adverse, as_of, policy, departments)?;
    drop(rows);
    let case = |i: usize| opened.per_warning[i].case.map(|c| &book.cases[c]);
    let n = warnings.height();
    let [id, state, handled_on, result] = super::WARNING_COLUMNS;
    let columns = vec![
        Column::new(id.into(), (0..n).map(|i| case(i).map(|c| c.case_id.as_str())).collect::<Vec<_>>()),
        Column::new(state.into(), (0..n).map(|i| case(i).map(|c| c.state.as_str())).collect::<Vec<_>>()),
        Column::new(handled_on.into(), (0..n).map(|i| case(i).and_then(|c| c.last_handled_on)).collect::<Vec<_>>()).cast(&DataType::Date)?,
        Column::new(result.into(), (0..n).map(|i| case(i).and_then(|c| c.last_result.as_deref())).collect::<Vec<_>>()),
    ];
    let mut warnings = warnings;
    for c in columns {
        warnings.with_column(c)?;
    }
    Ok((warnings, opened.counts))
}
