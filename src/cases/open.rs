//! Step 3 of a run's cases: a warning at an opening level opens a case when its subject has none
//! open, unless a check found nothing not long ago (no alert fatigue): then the list still ranks
//! the subject but shows that case, 已核查 with its date and result. Either exception reopens:
//! the score rose by at least `reopen_score_rise` over the closed case's score at opening, or
//! something adverse became known after that disposition.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::prelude::*;

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

/// The day a case closed (its opening day if the book does not say).
fn closed_day(c: &Case) -> i32 {
    c.closed_on.unwrap_or(c.opened_on)
}

fn recently_closed(c: &Case, as_of: i32, policy: &CasePolicy) -> bool {
    c.closed_on.is_some_and(|d| as_of <= d + policy.suppress_not_confirmed_days)
}

/// Each subject's latest case (greatest opening day, then id), an open one first.
fn latest_cases(book: &CaseBook) -> PlHashMap<&str, usize> {
    let mut latest: PlHashMap<&str, usize> = PlHashMap::with_capacity(book.cases.len());
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

/// What an adverse record can be ([`Adverse::what`]).
pub const ADVERSE_KINDS: [&str; 5] = ["complaint", "penalty", "list entry", "failed product sample", "inspection with findings"];

/// The kind of adverse record named `name`, if it is one.
pub fn adverse_kind(name: &str) -> Option<&'static str> {
    ADVERSE_KINDS.iter().copied().find(|k| *k == name)
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
    let [complaint, penalty, list_entry, failed_sample, findings] = ADVERSE_KINDS;
    let tables: [(&str, &str, &'static str, Option<Expr>); 5] = [
        ("complaints", "received_on", complaint, None),
        ("penalties", "decided_on", penalty, None),
        ("credit_lists", "listed_on", list_entry, None),
        ("product_checks", "sampled_on", failed_sample, Some(col("passed").not())),
        ("inspections", "inspected_on", findings, Some(col("outcome").is_in(lit(Series::new("".into(), ["issues", "violation"])).implode(false), false))),
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

/// What one warning does to the book, decided for every warning independently (8 bytes, so
/// that 4M decisions stay small), then applied in rank order.
#[derive(Clone, Copy)]
struct Decision {
    /// The case it shows (`NONE`): its open case, the recent case that holds it back, or the
    /// quiet case it reopens.
    case: u32,
    step: Step,
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Shows `case` (or none); opens nothing.
    Show,
    /// `case` is open and the warning is at an opening level: warned again.
    WarnedAgain,
    /// Held back by the recent `not_confirmed` `case`.
    Suppressed,
    /// Opens a case; `case` is the quiet case it reopens, if any.
    Open(Reopen),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reopen {
    No,
    ScoreRise,
    NewEvent,
}

/// Opens the cases this run's warnings call for and says which case each warning shows.
/// `warnings` are in rank order; new cases are added to `book` in that order.
pub fn open(book: &mut CaseBook, warnings: &[WarningForCase], adverse: &HashMap<String, Adverse>, as_of: i32, policy: &CasePolicy, departments: &[Department]) -> Result<Opened> {
    let (shown, counts) = open_with(book, warnings.len(), &|i| warnings[i], adverse, as_of, policy, departments)?;
    let per_warning = shown.iter().map(|&s| WarningCase { case: shown_case(s), suppressed: s != NONE && s & HELD_BACK != 0 }).collect();
    Ok(Opened { per_warning, counts })
}

/// Marks a shown case ([`open_with`]) as the recent check that holds the warning back.
const HELD_BACK: u32 = 1 << 31;

/// The case index of a shown case ([`open_with`]).
fn shown_case(shown: u32) -> Option<usize> {
    (shown != NONE).then_some((shown & !HELD_BACK) as usize)
}

/// [`open`] over `n` warnings read by index (the warning list's columns, without copying them).
/// Each warning's case is returned in 4 bytes (4M warnings are many): [`NONE`], or its index in
/// the book with [`HELD_BACK`] set when it is suppressed.
fn open_with<'w>(
    book: &mut CaseBook,
    n: usize,
    warning: &(dyn Fn(usize) -> WarningForCase<'w> + Sync),
    adverse: &HashMap<String, Adverse>,
    as_of: i32,
    policy: &CasePolicy,
    departments: &[Department],
) -> Result<(Vec<u32>, OpenCounts)> {
    let calendar = policy.calendar()?;
    for level in &policy.open_levels {
        policy.due_days_of(level).ok_or_else(|| Error::Internal(format!("level {level} opens cases but has no due days")))?;
    }
    if book.cases.len() + n >= HELD_BACK as usize {
        return Err(Error::Internal(format!("a book of {} cases is more than the case step indexes", book.cases.len())));
    }
    let cases = &book.cases;
    // 1. What each warning does (the subject lookups, in parallel; infallible, so collected in place).
    let decisions: Vec<Decision> = {
        let latest = latest_cases(book);
        let decide = |i: usize| -> Decision {
            let w = warning(i);
            let opens = policy.open_levels.iter().any(|l| l == w.level);
            let existing = latest.get(w.uscc).copied();
            let at = |c: usize, step: Step| Decision { case: c as u32, step };
            let none = |step: Step| Decision { case: NONE, step };
            if let Some(c) = existing.filter(|&c| cases[c].state.is_open()) {
                return at(c, if opens { Step::WarnedAgain } else { Step::Show });
            }
            if !opens {
                return match existing.filter(|&c| recently_closed(&cases[c], as_of, policy)) {
                    Some(c) => at(c, Step::Show),
                    None => none(Step::Show),
                };
            }
            let Some(c) = existing.filter(|&c| in_quiet_period(&cases[c], as_of, policy)) else { return none(Step::Open(Reopen::No)) };
            let closed = &cases[c];
            let closed_on = closed_day(closed);
            // A rise of exactly Δ counts (0.60 − 0.50 is 0.0999… in floating point).
            if closed.score_at_opening.is_some_and(|s| w.score - s >= policy.reopen_score_rise - 1e-9) {
                at(c, Step::Open(Reopen::ScoreRise))
            } else if adverse.get(w.uscc).is_some_and(|a| a.known_on > closed_on) {
                at(c, Step::Open(Reopen::NewEvent))
            } else {
                at(c, Step::Suppressed)
            }
        };
        (0..n).into_par_iter().with_min_len(1 << 12).map(decide).collect()
    };
    // 2. The new cases' ids (a clash is a bug upstream: a subject warned twice in one run), and
    // their opening events, which may name the quiet case they reopen; built in parallel.
    let opening: Vec<usize> = decisions.iter().enumerate().filter(|(_, d)| matches!(d.step, Step::Open(_))).map(|(i, _)| i).collect();
    let ids: Vec<PlSmallStr> = opening.par_iter().with_min_len(1 << 10).map(|&i| PlSmallStr::from_string(super::case_id(warning(i).uscc, as_of))).collect();
    let dues: Vec<i32> = opening.par_iter().with_min_len(1 << 10).map(|&i| calendar.add(as_of, policy.due_days_of(warning(i).level).unwrap_or_default())).collect();
    let prefix = super::case_id("", as_of)[..12].to_string();
    let taken: PlHashSet<&str> = cases.iter().filter(|c| c.case_id.starts_with(&prefix)).map(|c| c.case_id.as_str()).collect();
    if let Some(id) = ids.iter().find(|id| taken.contains(id.as_str())) {
        return Err(Error::Internal(format!("case id {id} exists already (a subject warned twice in one run?)")));
    }
    drop(taken);
    let opened_event = |((&i, case_id), &due_on): ((&usize, &PlSmallStr), &i32)| -> CaseEvent {
        let (w, d) = (warning(i), decisions[i]);
        let reopened = match d.step {
            Step::Open(Reopen::ScoreRise) => {
                let closed = &cases[d.case as usize];
                let r = w.score - closed.score_at_opening.unwrap_or(w.score);
                Some(format!("reopened: score {:.3} rose {:.3} over case {}'s {:.3}", w.score, r, closed.case_id, w.score - r))
            }
            Step::Open(Reopen::NewEvent) => {
                let closed = &cases[d.case as usize];
                let closed_on = closed_day(closed);
                adverse.get(w.uscc).map(|a| {
                    format!("reopened: a {} known on {} after case {} closed not confirmed on {}", a.what, crate::dates::format(a.known_on), closed.case_id, crate::dates::format(closed_on))
                })
            }
            _ => None,
        };
        let mut detail = format!("level {}, score {:.3}, due {}", w.level, w.score, crate::dates::format(due_on));
        if let Some(r) = reopened {
            detail = format!("{detail}; {r}");
        }
        CaseEvent {
            case_id: case_id.clone(),
            on: as_of,
            event: "opened".into(),
            from: None,
            to: CaseState::Open,
            by: super::ENGINE.into(),
            detail: detail.into(),
            disposition_key: None,
            recorded_as_of: as_of,
        }
    };
    let new_events: Vec<CaseEvent> = opening.par_iter().zip(ids.par_iter()).zip(dues.par_iter()).with_min_len(1 << 10).map(opened_event).collect();
    // 3. Applied in rank order.
    let mut counts = OpenCounts::default();
    let first_new = book.cases.len();
    let mut shown = Vec::with_capacity(n);
    let mut opened = 0usize;
    for d in &decisions {
        shown.push(match d.step {
            Step::Show => d.case,
            Step::WarnedAgain => {
                counts.already_open += 1;
                d.case
            }
            Step::Suppressed => {
                counts.suppressed += 1;
                d.case | HELD_BACK
            }
            Step::Open(reopen) => {
                counts.opened += 1;
                counts.reopened_score_rise += (reopen == Reopen::ScoreRise) as u64;
                counts.reopened_new_event += (reopen == Reopen::NewEvent) as u64;
                opened += 1;
                (first_new + opened - 1) as u32
            }
        });
    }
    for d in decisions.iter().filter(|d| d.step == Step::WarnedAgain) {
        // `times_warned` counts as-of dates, not runs of the same date.
        let case = &mut book.cases[d.case as usize];
        if as_of > case.last_warned_on {
            case.times_warned += 1;
            case.last_warned_on = as_of;
        }
    }
    // The new cases, written in place after the book's (which has room for them when read).
    book.cases.par_extend(opening.par_iter().zip(ids.par_iter()).zip(dues.par_iter()).with_min_len(1 << 10).map(|((&i, case_id), &due_on)| {
        let w = warning(i);
        let department = policy.department_for(departments, w.industry, w.region);
        Case::opening(case_id.clone(), w.uscc.into(), department.into(), as_of, w.level.into(), Some(w.score), due_on, super::ENGINE)
    }));
    // Opening events of one day, in case-id order (the trail's order within a day).
    let order = super::order_of(new_events.iter().map(|e| super::id_key(&e.case_id)).collect());
    book.events.extend(super::permuted(new_events, order));
    Ok((shown, counts))
}

/// Opens the cases the ranked list's warnings call for ([`open`], without copying the list):
/// per row of the list, the case it shows, in 4 bytes (for [`case_columns`], [`sort_book`]).
pub fn open_list(
    list: &crate::list::List,
    book: &mut CaseBook,
    adverse: &HashMap<String, Adverse>,
    as_of: i32,
    policy: &CasePolicy,
    departments: &[Department],
) -> Result<(Vec<u32>, OpenCounts)> {
    let uscc = list.uscc().rechunk();
    let codes = uscc.downcast_iter().next();
    let (regions, region_names) = list.regions();
    let (industries, industry_names) = list.industries();
    let (levels, score) = (list.levels(), list.score());
    let n = if codes.is_some() { list.len() } else { 0 };
    let warning = |i: usize| {
        let code = codes.expect("rows");
        WarningForCase {
            uscc: if polars_arrow::array::Array::is_valid(code, i) { code.value(i) } else { "" },
            level: crate::grade::LEVELS[levels[i] as usize],
            score: score[i],
            industry: industry_names.value(industries[i]).unwrap_or(""),
            region: region_names.value(regions[i]).unwrap_or(""),
        }
    };
    open_with(book, n, &warning, adverse, as_of, policy, departments)
}

/// Sorts the book ([`CaseBook::sort`]) and renumbers the cases the rows of the list show
/// (`shown`, from [`open_list`]) to their places in it.
pub fn sort_book(book: &mut CaseBook, shown: &mut [u32]) {
    let Some((start, order)) = book.sort() else { return };
    let mut moved_to = vec![0u32; order.len()];
    for (j, &old) in order.iter().enumerate() {
        moved_to[old as usize] = (start + j) as u32;
    }
    for s in shown.iter_mut().filter(|s| **s != NONE) {
        let (held_back, case) = (*s & HELD_BACK, (*s & !HELD_BACK) as usize);
        if case >= start {
            *s = moved_to[case - start] | held_back;
        }
    }
}

/// The list's four case columns (`case_id`, `case_state`, `case_last_handled_on`,
/// `case_last_result`) of rows showing `shown` cases of `book`, built side by side straight
/// from the cases (most warnings have none: a gather through an index column costs more).
pub fn case_columns(book: &CaseBook, shown: &[u32]) -> Result<Vec<Column>> {
    let n = shown.len();
    let c = &book.cases;
    let case_of = |i: usize| shown_case(shown[i]).map(|k| &c[k]);
    let text = |name: &str, f: fn(&Case) -> Option<&str>| super::book::text_column(name, (0..n).map(|i| case_of(i).and_then(f)));
    let [id, state, handled_on, result] = super::WARNING_COLUMNS;
    let of_cases: [Box<dyn Fn() -> PolarsResult<Column> + Send + Sync>; 4] = [
        Box::new(|| Ok(text(id, |c| Some(c.case_id.as_str())))),
        Box::new(|| Ok(text(state, |c| Some(c.state.as_str())))),
        Box::new(|| (0..n).map(|i| case_of(i).and_then(|c| c.last_handled_on)).collect::<Int32Chunked>().with_name(handled_on.into()).into_column().cast(&DataType::Date)),
        Box::new(|| Ok(text(result, |c| c.last_result.as_deref()))),
    ];
    Ok(of_cases.par_iter().map(|column| column()).collect::<std::result::Result<Vec<Column>, PolarsError>>()?)
}
