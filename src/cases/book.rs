//! The case book: cases and their audit trail, and their Parquet frames (cases.parquet,
//! case_events.parquet; docs/outputs.md).

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseState {
    Open,
    Overdue,
    Escalated,
    ClosedConfirmed,
    ClosedNotConfirmed,
    ClosedUnreachable,
}

impl CaseState {
    pub const ALL: [CaseState; 6] = [
        CaseState::Open,
        CaseState::Overdue,
        CaseState::Escalated,
        CaseState::ClosedConfirmed,
        CaseState::ClosedNotConfirmed,
        CaseState::ClosedUnreachable,
    ];
    pub fn as_str(self) -> &'static str {
        ["open", "overdue", "escalated", "closed_confirmed", "closed_not_confirmed", "closed_unreachable"][self as usize]
    }
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn is_open(self) -> bool {
        matches!(self, CaseState::Open | CaseState::Overdue | CaseState::Escalated)
    }
    /// The state a disposition result leads to (`pending` leaves the state as it is).
    pub fn after_result(self, result: &str) -> CaseState {
        match result {
            "confirmed" => CaseState::ClosedConfirmed,
            "not_confirmed" => CaseState::ClosedNotConfirmed,
            "unreachable" => CaseState::ClosedUnreachable,
            _ => self,
        }
    }
}

/// One case. Dates are days since 1970-01-01.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub case_id: PlSmallStr,
    pub uscc: PlSmallStr,
    pub department: PlSmallStr,
    pub opened_on: i32,
    /// Warning level at opening.
    pub level: PlSmallStr,
    /// Calibrated score at opening (the model's expected rate; null for some imported cases).
    pub score_at_opening: Option<f64>,
    pub due_on: i32,
    pub state: CaseState,
    /// Runs (as-of dates) that warned the subject at an opening level while the case was open.
    pub times_warned: u32,
    pub last_warned_on: i32,
    pub last_handled_on: Option<i32>,
    pub last_action: Option<PlSmallStr>,
    pub last_result: Option<PlSmallStr>,
    pub closed_on: Option<i32>,
    pub overdue_on: Option<i32>,
    pub escalated_on: Option<i32>,
    pub escalated_to: Option<PlSmallStr>,
    /// `riskwarn` (opened by a run) or `import` (from the `cases` input table).
    pub source: PlSmallStr,
}

impl Case {
    /// A case as it opens: `open`, warned once (on its opening day), nothing handled yet.
    #[allow(clippy::too_many_arguments)]
    pub fn opening(case_id: PlSmallStr, uscc: PlSmallStr, department: PlSmallStr, opened_on: i32, level: PlSmallStr, score_at_opening: Option<f64>, due_on: i32, source: &str) -> Case {
        Case {
            case_id,
            uscc,
            department,
            opened_on,
            level,
            score_at_opening,
            due_on,
            state: CaseState::Open,
            times_warned: 1,
            last_warned_on: opened_on,
            last_handled_on: None,
            last_action: None,
            last_result: None,
            closed_on: None,
            overdue_on: None,
            escalated_on: None,
            escalated_to: None,
            source: source.into(),
        }
    }
}

/// One transition of one case (the audit trail).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    pub case_id: PlSmallStr,
    pub on: i32,
    /// `opened` · `imported` · `disposition` · `overdue` · `escalated`.
    pub event: PlSmallStr,
    pub from: Option<CaseState>,
    pub to: CaseState,
    /// Who: `riskwarn`, `import`, or the disposition's handler (else its department).
    pub by: PlSmallStr,
    pub detail: PlSmallStr,
    /// Identity of the disposition row this event applied (a disposition is applied once).
    pub disposition_key: Option<PlSmallStr>,
    /// As-of date of the run that recorded the event.
    pub recorded_as_of: i32,
}

/// Every case ever opened and every transition, in the order recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseBook {
    pub cases: Vec<Case>,
    /// The audit trail as the run before wrote it (case_events.parquet, columns
    /// [`EVENT_COLUMNS`]), carried as it is: the trail only ever grows, so a run never needs to
    /// decode the events of earlier runs. `None` for a book made in memory.
    pub earlier_events: Option<DataFrame>,
    /// The file `earlier_events` was decoded from, when they are its rows exactly: the next
    /// trail file copies its full row groups ([`crate::io::write_parquet_growing`]).
    pub earlier_file: Option<crate::io::Encoded>,
    /// The events recorded since (in the order recorded).
    pub events: Vec<CaseEvent>,
}

pub const CASE_COLUMNS: &[&str] = &[
    "case_id",
    "uscc",
    "department",
    "opened_on",
    "level",
    "score_at_opening",
    "due_on",
    "state",
    "times_warned",
    "last_warned_on",
    "last_handled_on",
    "last_action",
    "last_result",
    "closed_on",
    "overdue_on",
    "escalated_on",
    "escalated_to",
    "source",
];

pub const EVENT_COLUMNS: &[&str] = &["case_id", "on", "event", "from", "to", "by", "detail", "disposition_key", "recorded_as_of"];

/// Columns of cases.parquet and case_events.parquet with about one value per row (ids, free
/// text), written without a dictionary ([`crate::io::write_parquet_with_plain`]).
pub const PLAIN_CASE_COLUMNS: &[&str] = &["case_id", "uscc"];
pub const PLAIN_EVENT_COLUMNS: &[&str] = &["case_id", "detail", "disposition_key"];

/// The trail's date columns (the others of [`EVENT_COLUMNS`] are text).
const EVENT_DATES: [&str; 2] = ["on", "recorded_as_of"];
/// The trail's columns that are never null.
const EVENT_REQUIRED: [&str; 5] = ["case_id", "on", "event", "to", "recorded_as_of"];

/// Builds one column of a frame.
type Build<'a> = Box<dyn Fn() -> Result<Column> + Send + Sync + 'a>;

fn date_column(name: &str, v: Vec<Option<i32>>) -> Result<Column> {
    Ok(Column::new(name.into(), v).cast(&DataType::Date)?)
}

/// A text column straight from its values (no vector of them in between).
pub(super) fn text_column<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    values.collect::<StringChunked>().with_name(name.into()).into_column()
}

fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

fn days(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.iter().collect())
}

fn required<T>(v: Option<T>, table: &str, column: &str, row: usize) -> Result<T> {
    v.ok_or_else(|| Error::BadArgument(format!("{table}: row {}: `{column}` is null", row + 1)))
}

fn text(v: Option<&str>, table: &str, column: &str, row: usize) -> Result<PlSmallStr> {
    required(v, table, column, row).map(PlSmallStr::from_str)
}

fn state_of(s: Option<&str>, table: &str, row: usize) -> Result<CaseState> {
    let s = required(s, table, "state", row)?;
    CaseState::parse(s).ok_or_else(|| Error::BadArgument(format!("{table}: row {}: unknown case state '{s}'", row + 1)))
}

impl CaseBook {
    pub fn cases_frame(&self) -> Result<DataFrame> {
        let c = &self.cases;
        let s = |name: &'static str, f: fn(&Case) -> &str| -> Build<'_> { Box::new(move || Ok(text_column(name, c.iter().map(|c| Some(f(c)))))) };
        let o = |name: &'static str, f: fn(&Case) -> Option<&str>| -> Build<'_> { Box::new(move || Ok(text_column(name, c.iter().map(f)))) };
        let d = |name: &'static str, f: fn(&Case) -> Option<i32>| -> Build<'_> { Box::new(move || date_column(name, c.iter().map(f).collect())) };
        let columns: Vec<Build> = vec![
            s("case_id", |c| &c.case_id),
            s("uscc", |c| &c.uscc),
            s("department", |c| &c.department),
            d("opened_on", |c| Some(c.opened_on)),
            s("level", |c| &c.level),
            Box::new(|| Ok(Column::new("score_at_opening".into(), c.iter().map(|c| c.score_at_opening).collect::<Vec<_>>()))),
            d("due_on", |c| Some(c.due_on)),
            s("state", |c| c.state.as_str()),
            Box::new(|| Ok(Column::new("times_warned".into(), c.iter().map(|c| c.times_warned).collect::<Vec<_>>()))),
            d("last_warned_on", |c| Some(c.last_warned_on)),
            d("last_handled_on", |c| c.last_handled_on),
            o("last_action", |c| c.last_action.as_deref()),
            o("last_result", |c| c.last_result.as_deref()),
            d("closed_on", |c| c.closed_on),
            d("overdue_on", |c| c.overdue_on),
            d("escalated_on", |c| c.escalated_on),
            o("escalated_to", |c| c.escalated_to.as_deref()),
            s("source", |c| &c.source),
        ];
        // Columns are built in parallel (each in row order).
        Ok(DataFrame::new(c.len(), columns.par_iter().map(|build| build()).collect::<Result<Vec<_>>>()?)?)
    }

    /// The whole trail: the earlier runs' events, then the ones recorded since.
    pub fn events_frame(&self) -> Result<DataFrame> {
        let e = &self.events;
        let new = DataFrame::new(e.len(), vec![
            text_column("case_id", e.iter().map(|e| Some(e.case_id.as_str()))),
            date_column("on", e.iter().map(|e| Some(e.on)).collect())?,
            text_column("event", e.iter().map(|e| Some(e.event.as_str()))),
            text_column("from", e.iter().map(|e| e.from.map(CaseState::as_str))),
            text_column("to", e.iter().map(|e| Some(e.to.as_str()))),
            text_column("by", e.iter().map(|e| Some(e.by.as_str()))),
            text_column("detail", e.iter().map(|e| Some(e.detail.as_str()))),
            text_column("disposition_key", e.iter().map(|e| e.disposition_key.as_deref())),
            date_column("recorded_as_of", e.iter().map(|e| Some(e.recorded_as_of)).collect())?,
        ])?;
        match &self.earlier_events {
            None => Ok(new),
            Some(earlier) => Ok(earlier.vstack(&new)?),
        }
    }

    /// Events in the trail, earlier and new.
    pub fn event_count(&self) -> usize {
        self.earlier_events.as_ref().map_or(0, DataFrame::height) + self.events.len()
    }

    /// The keys of every disposition the trail has applied.
    pub fn applied_disposition_keys(&self) -> Result<PlHashSet<&str>> {
        let mut keys = PlHashSet::new();
        if let Some(earlier) = &self.earlier_events {
            keys.extend(earlier.column("disposition_key")?.str()?.iter().flatten());
        }
        keys.extend(self.events.iter().filter_map(|e| e.disposition_key.as_deref()));
        Ok(keys)
    }

    /// The book a previous run wrote (its cases.parquet and case_events.parquet, read by `io`).
    /// The cases are decoded (a run changes them); the trail is checked and carried as it is.
    pub fn from_frames(cases: &DataFrame, events: &DataFrame) -> Result<CaseBook> {
        const T: &str = "cases.parquet";
        // Checked first, so that the parallel decoding below cannot fail and a bad file is
        // named by its first bad row.
        first_null(cases, T, &["case_id", "uscc", "department", "opened_on", "level", "due_on", "state"])?;
        let (id, uscc, dept, level, state) = (strs(cases, "case_id")?, strs(cases, "uscc")?, strs(cases, "department")?, strs(cases, "level")?, strs(cases, "state")?);
        let (opened, due, warned, handled, closed, overdue, escalated) = (
            days(cases, "opened_on")?,
            days(cases, "due_on")?,
            days(cases, "last_warned_on")?,
            days(cases, "last_handled_on")?,
            days(cases, "closed_on")?,
            days(cases, "overdue_on")?,
            days(cases, "escalated_on")?,
        );
        let (action, result, to, source) = (strs(cases, "last_action")?, strs(cases, "last_result")?, strs(cases, "escalated_to")?, strs(cases, "source")?);
        let score: Vec<Option<f64>> = cases.column("score_at_opening")?.cast(&DataType::Float64)?.f64()?.iter().collect();
        let times: Vec<Option<u32>> = cases.column("times_warned")?.cast(&DataType::UInt32)?.u32()?.iter().collect();
        let small = |v: Option<&str>| v.map(PlSmallStr::from_str);
        let states: Vec<CaseState> = state.iter().enumerate().map(|(i, s)| state_of(*s, T, i)).collect::<Result<_>>()?;
        // Room for this run's new cases, so that opening them does not move the book.
        let mut out: Vec<Case> = Vec::with_capacity(cases.height() + cases.height() / 2);
        // Nulls were ruled out above.
        let present = |v: Option<&str>| small(v).unwrap_or_default();
        out.par_extend((0..cases.height()).into_par_iter().with_min_len(1 << 12).map(|i| {
            let opened_on = opened[i].unwrap_or_default();
            Case {
                case_id: present(id[i]),
                uscc: present(uscc[i]),
                department: present(dept[i]),
                opened_on,
                level: present(level[i]),
                score_at_opening: score[i],
                due_on: due[i].unwrap_or_default(),
                state: states[i],
                times_warned: times[i].unwrap_or(1),
                last_warned_on: warned[i].unwrap_or(opened_on),
                last_handled_on: handled[i],
                last_action: small(action[i]),
                last_result: small(result[i]),
                closed_on: closed[i],
                overdue_on: overdue[i],
                escalated_on: escalated[i],
                escalated_to: small(to[i]),
                source: small(source[i]).unwrap_or_else(|| PlSmallStr::from_static(super::ENGINE)),
            }
        }));
        Ok(CaseBook { cases: out, earlier_events: Some(checked_trail(events)?), earlier_file: None, events: Vec::new() })
    }

    /// [`CaseBook::from_frames`] for a trail read from `file` ([`crate::io::read_output_encoded`]),
    /// kept to be copied from when the checked trail is its rows unchanged.
    pub fn from_files(cases: &DataFrame, events: &DataFrame, file: crate::io::Encoded) -> Result<CaseBook> {
        let mut book = CaseBook::from_frames(cases, events)?;
        // The check casts to the trail's types and fills a missing `by` or `detail`: when there
        // was nothing to cast or fill, the trail is the file's rows.
        let filled = ["by", "detail"].iter().any(|c| events.column(c).is_ok_and(|c| c.null_count() > 0));
        if !filled && book.earlier_events.as_ref().is_some_and(|trail| trail.schema() == events.schema()) {
            book.earlier_file = Some(file);
        }
        Ok(book)
    }

    /// Adds the cases of the validated `cases` input table (case_id, uscc, department, opened_on,
    /// level, due_on, score_at_opening) that the book does not hold and that were opened before
    /// T, as open cases; each gets an `imported` event. Returns (added, already in the book,
    /// opened on or after T).
    pub fn import(&mut self, table: &DataFrame, as_of: i32, policy: &crate::policy::CasePolicy) -> Result<(u64, u64, u64)> {
        const T: &str = "cases";
        let known: PlHashSet<&str> = self.cases.iter().map(|c| c.case_id.as_str()).collect();
        let (id, uscc, dept, level) = (strs(table, "case_id")?, strs(table, "uscc")?, strs(table, "department")?, strs(table, "level")?);
        let (opened, due) = (days(table, "opened_on")?, days(table, "due_on")?);
        let score: Vec<Option<f64>> = table.column("score_at_opening")?.cast(&DataType::Float64)?.f64()?.iter().collect();
        let calendar = policy.calendar()?;
        let (mut added, mut known_count, mut later) = (Vec::new(), 0u64, 0u64);
        for i in 0..table.height() {
            let case_id = text(id[i], T, "case_id", i)?;
            if known.contains(case_id.as_str()) {
                known_count += 1;
                continue;
            }
            let opened_on = required(opened[i], T, "opened_on", i)?;
            if opened_on >= as_of {
                later += 1;
                continue;
            }
            let level = text(level[i], T, "level", i)?;
            let due_on = match (due[i], policy.due_days_or_longest(&level)) {
                (Some(d), _) => d,
                (None, Some(days)) => calendar.add(opened_on, days),
                (None, None) => return Err(Error::BadArgument(format!("{T}: row {}: `due_on` is null and the policy's cases.due_days is empty", i + 1))),
            };
            let (uscc, department) = (text(uscc[i], T, "uscc", i)?, text(dept[i], T, "department", i)?);
            added.push(Case::opening(case_id, uscc, department, opened_on, level, score[i], due_on, "import"));
        }
        // `known` borrows the cases that are extended below.
        drop(known);
        added.sort_by(|a, b| (a.opened_on, &a.case_id).cmp(&(b.opened_on, &b.case_id)));
        for c in &added {
            self.events.push(CaseEvent {
                case_id: c.case_id.clone(),
                on: c.opened_on,
                event: "imported".into(),
                from: None,
                to: CaseState::Open,
                by: "import".into(),
                detail: format!("level {}, due {}", c.level, crate::dates::format(c.due_on)).into(),
                disposition_key: None,
                recorded_as_of: as_of,
            });
        }
        let n = added.len() as u64;
        self.cases.extend(added);
        Ok((n, known_count, later))
    }

    /// Cases in the output order: by opening day, then id.
    /// Returns where the cases it moved start and their order from there (position j holds
    /// the case that was at start + order\[j\]), if it moved any.
    pub fn sort(&mut self) -> Option<(usize, Vec<u32>)> {
        fn key(c: &Case) -> (i32, &str) {
            (c.opened_on, c.case_id.as_str())
        }
        // Usually only a tail is out of order: the book was sorted when read, and this run's
        // cases, opened on T, come after every earlier one. The tail is sorted through a
        // permutation of compact keys (a case is a few hundred bytes; a sort would move each
        // many times), after a sorted prefix that already precedes all of it.
        let sorted = self.cases.windows(2).position(|w| key(&w[1]) < key(&w[0])).map_or(self.cases.len(), |i| i + 1);
        if sorted == self.cases.len() {
            return None;
        }
        // The tail's earliest key; cases of the sorted prefix before it stay where they are.
        let first = self.cases[sorted..].iter().map(key).min().expect("a non-empty tail");
        let start = self.cases[..sorted].partition_point(|c| key(c) < first);
        let order = super::order_of(self.cases[start..].iter().map(|c| (c.opened_on, super::id_key(&c.case_id))).collect());
        let tail: Vec<Case> = self.cases.drain(start..).collect();
        self.cases.extend(super::permuted(tail, order.clone()));
        Some((start, order))
    }
}

/// An error naming the first row where one of `columns` is null.
fn first_null(df: &DataFrame, table: &str, columns: &[&str]) -> Result<()> {
    let mut first: Option<(usize, &str)> = None;
    for &c in columns {
        let column = df.column(c)?;
        if column.null_count() > 0 {
            let row = column.is_null().iter().position(|n| n == Some(true)).unwrap_or(0);
            if first.is_none_or(|(r, _)| row < r) {
                first = Some((row, c));
            }
        }
    }
    match first {
        Some((row, c)) => Err(Error::BadArgument(format!("{table}: row {}: `{c}` is null", row + 1))),
        None => Ok(()),
    }
}

/// The trail of case_events.parquet in [`EVENT_COLUMNS`] order and types, after checking that
/// every row has its required fields and known states.
fn checked_trail(events: &DataFrame) -> Result<DataFrame> {
    const E: &str = "case_events.parquet";
    let columns: Vec<Expr> = EVENT_COLUMNS
        .iter()
        .map(|&c| {
            let dtype = if EVENT_DATES.contains(&c) { DataType::Date } else { DataType::String };
            let column = col(c).cast(dtype);
            if matches!(c, "by" | "detail") { column.fill_null(lit("")) } else { column }
        })
        .collect();
    let trail = events.clone().lazy().select(columns).collect()?;
    first_null(&trail, E, &EVENT_REQUIRED)?;
    for c in ["from", "to"] {
        for (row, s) in trail.column(c)?.str()?.iter().enumerate() {
            if let Some(s) = s.filter(|s| CaseState::parse(s).is_none()) {
                return Err(Error::BadArgument(format!("{E}: row {}: unknown case state '{s}'", row + 1)));
            }
        }
    }
    Ok(trail)
}
