//! The case book: cases and their audit trail, and their Parquet frames (cases.parquet,
//! case_events.parquet; docs/outputs.md).

use std::collections::HashMap;

use polars::prelude::*;

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
    pub fn label_zh(self) -> &'static str {
        ["待处置", "已逾期", "已逾期升级督办", "已办结（属实）", "已核查（不属实）", "已办结（无法核查）"][self as usize]
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
    pub case_id: String,
    pub uscc: String,
    pub department: String,
    pub opened_on: i32,
    /// Warning level at opening.
    pub level: String,
    /// Calibrated score at opening (the model's expected rate; null for some imported cases).
    pub score_at_opening: Option<f64>,
    pub due_on: i32,
    pub state: CaseState,
    /// Runs (as-of dates) that warned the subject at an opening level while the case was open.
    pub times_warned: u32,
    pub last_warned_on: i32,
    pub last_handled_on: Option<i32>,
    pub last_action: Option<String>,
    pub last_result: Option<String>,
    pub closed_on: Option<i32>,
    pub overdue_on: Option<i32>,
    pub escalated_on: Option<i32>,
    pub escalated_to: Option<String>,
    /// `riskwarn` (opened by a run) or `import` (from the `cases` input table).
    pub source: String,
}

impl Case {
    /// A case as it opens: `open`, warned once (on its opening day), nothing handled yet.
    #[allow(clippy::too_many_arguments)]
    pub fn opening(case_id: String, uscc: String, department: String, opened_on: i32, level: String, score_at_opening: Option<f64>, due_on: i32, source: &str) -> Case {
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
    pub case_id: String,
    pub on: i32,
    /// `opened` · `imported` · `disposition` · `overdue` · `escalated`.
    pub event: String,
    pub from: Option<CaseState>,
    pub to: CaseState,
    /// Who: `riskwarn`, `import`, or the disposition's handler (else its department).
    pub by: String,
    pub detail: String,
    /// Identity of the disposition row this event applied (a disposition is applied once).
    pub disposition_key: Option<String>,
    /// As-of date of the run that recorded the event.
    pub recorded_as_of: i32,
}

/// Every case ever opened and every transition, in the order recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseBook {
    pub cases: Vec<Case>,
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

fn date_column(name: &str, v: Vec<Option<i32>>) -> Result<Column> {
    Ok(Column::new(name.into(), v).cast(&DataType::Date)?)
}

fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    Ok(df.column(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

fn days(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.iter().collect())
}

fn required<T>(v: Option<T>, table: &str, column: &str, row: usize) -> Result<T> {
    v.ok_or_else(|| Error::BadArgument(format!("{table}: row {}: `{column}` is null", row + 1)))
}

fn state_of(s: Option<String>, table: &str, row: usize) -> Result<CaseState> {
    let s = required(s, table, "state", row)?;
    CaseState::parse(&s).ok_or_else(|| Error::BadArgument(format!("{table}: row {}: unknown case state '{s}'", row + 1)))
}

impl CaseBook {
    pub fn cases_frame(&self) -> Result<DataFrame> {
        let c = &self.cases;
        let s = |f: fn(&Case) -> &str| c.iter().map(f).collect::<Vec<_>>();
        let o = |f: fn(&Case) -> Option<&str>| c.iter().map(f).collect::<Vec<_>>();
        let d = |f: fn(&Case) -> Option<i32>| c.iter().map(f).collect::<Vec<_>>();
        Ok(DataFrame::new(c.len(), vec![
            Column::new("case_id".into(), s(|c| &c.case_id)),
            Column::new("uscc".into(), s(|c| &c.uscc)),
            Column::new("department".into(), s(|c| &c.department)),
            date_column("opened_on", d(|c| Some(c.opened_on)))?,
            Column::new("level".into(), s(|c| &c.level)),
            Column::new("score_at_opening".into(), c.iter().map(|c| c.score_at_opening).collect::<Vec<_>>()),
            date_column("due_on", d(|c| Some(c.due_on)))?,
            Column::new("state".into(), s(|c| c.state.as_str())),
            Column::new("times_warned".into(), c.iter().map(|c| c.times_warned).collect::<Vec<_>>()),
            date_column("last_warned_on", d(|c| Some(c.last_warned_on)))?,
            date_column("last_handled_on", d(|c| c.last_handled_on))?,
            Column::new("last_action".into(), o(|c| c.last_action.as_deref())),
            Column::new("last_result".into(), o(|c| c.last_result.as_deref())),
            date_column("closed_on", d(|c| c.closed_on))?,
            date_column("overdue_on", d(|c| c.overdue_on))?,
            date_column("escalated_on", d(|c| c.escalated_on))?,
            Column::new("escalated_to".into(), o(|c| c.escalated_to.as_deref())),
            Column::new("source".into(), s(|c| &c.source)),
        ])?)
    }

    pub fn events_frame(&self) -> Result<DataFrame> {
        let e = &self.events;
        Ok(DataFrame::new(e.len(), vec![
            Column::new("case_id".into(), e.iter().map(|e| e.case_id.as_str()).collect::<Vec<_>>()),
            date_column("on", e.iter().map(|e| Some(e.on)).collect())?,
            Column::new("event".into(), e.iter().map(|e| e.event.as_str()).collect::<Vec<_>>()),
            Column::new("from".into(), e.iter().map(|e| e.from.map(CaseState::as_str)).collect::<Vec<_>>()),
            Column::new("to".into(), e.iter().map(|e| e.to.as_str()).collect::<Vec<_>>()),
            Column::new("by".into(), e.iter().map(|e| e.by.as_str()).collect::<Vec<_>>()),
            Column::new("detail".into(), e.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>()),
            Column::new("disposition_key".into(), e.iter().map(|e| e.disposition_key.as_deref()).collect::<Vec<_>>()),
            date_column("recorded_as_of", e.iter().map(|e| Some(e.recorded_as_of)).collect())?,
        ])?)
    }

    /// The book a previous run wrote (its cases.parquet and case_events.parquet, read by `io`).
    pub fn from_frames(cases: &DataFrame, events: &DataFrame) -> Result<CaseBook> {
        const T: &str = "cases.parquet";
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
        let mut out = Vec::with_capacity(cases.height());
        for i in 0..cases.height() {
            let opened_on = required(opened[i], T, "opened_on", i)?;
            out.push(Case {
                case_id: required(id[i].clone(), T, "case_id", i)?,
                uscc: required(uscc[i].clone(), T, "uscc", i)?,
                department: required(dept[i].clone(), T, "department", i)?,
                opened_on,
                level: required(level[i].clone(), T, "level", i)?,
                score_at_opening: score[i],
                due_on: required(due[i], T, "due_on", i)?,
                state: state_of(state[i].clone(), T, i)?,
                times_warned: times[i].unwrap_or(1),
                last_warned_on: warned[i].unwrap_or(opened_on),
                last_handled_on: handled[i],
                last_action: action[i].clone(),
                last_result: result[i].clone(),
                closed_on: closed[i],
                overdue_on: overdue[i],
                escalated_on: escalated[i],
                escalated_to: to[i].clone(),
                source: source[i].clone().unwrap_or_else(|| super::ENGINE.into()),
            });
        }
        const E: &str = "case_events.parquet";
        let (eid, event, from, to, by, detail, key) = (
            strs(events, "case_id")?,
            strs(events, "event")?,
            strs(events, "from")?,
            strs(events, "to")?,
            strs(events, "by")?,
            strs(events, "detail")?,
            strs(events, "disposition_key")?,
        );
        let (on, recorded) = (days(events, "on")?, days(events, "recorded_as_of")?);
        let mut trail = Vec::with_capacity(events.height());
        for i in 0..events.height() {
            let from = match from[i].clone() {
                None => None,
                Some(s) => Some(CaseState::parse(&s).ok_or_else(|| Error::BadArgument(format!("{E}: row {}: unknown case state '{s}'", i + 1)))?),
            };
            trail.push(CaseEvent {
                case_id: required(eid[i].clone(), E, "case_id", i)?,
                on: required(on[i], E, "on", i)?,
                event: required(event[i].clone(), E, "event", i)?,
                from,
                to: state_of(to[i].clone(), E, i)?,
                by: by[i].clone().unwrap_or_default(),
                detail: detail[i].clone().unwrap_or_default(),
                disposition_key: key[i].clone(),
                recorded_as_of: required(recorded[i], E, "recorded_as_of", i)?,
            });
        }
        Ok(CaseBook { cases: out, events: trail })
    }

    /// Adds the cases of the validated `cases` input table (case_id, uscc, department, opened_on,
    /// level, due_on, score_at_opening) that the book does not hold and that were opened before
    /// T, as open cases; each gets an `imported` event. Returns (added, already in the book,
    /// opened on or after T).
    pub fn import(&mut self, table: &DataFrame, as_of: i32, policy: &crate::policy::CasePolicy) -> Result<(u64, u64, u64)> {
        const T: &str = "cases";
        let known: HashMap<&str, ()> = self.cases.iter().map(|c| (c.case_id.as_str(), ())).collect();
        let (id, uscc, dept, level) = (strs(table, "case_id")?, strs(table, "uscc")?, strs(table, "department")?, strs(table, "level")?);
        let (opened, due) = (days(table, "opened_on")?, days(table, "due_on")?);
        let score: Vec<Option<f64>> = table.column("score_at_opening")?.cast(&DataType::Float64)?.f64()?.iter().collect();
        let calendar = policy.calendar()?;
        let (mut added, mut known_count, mut later) = (Vec::new(), 0u64, 0u64);
        for i in 0..table.height() {
            let case_id = required(id[i].clone(), T, "case_id", i)?;
            if known.contains_key(case_id.as_str()) {
                known_count += 1;
                continue;
            }
            let opened_on = required(opened[i], T, "opened_on", i)?;
            if opened_on >= as_of {
                later += 1;
                continue;
            }
            let level = required(level[i].clone(), T, "level", i)?;
            let due_on = match (due[i], policy.due_days_or_longest(&level)) {
                (Some(d), _) => d,
                (None, Some(days)) => calendar.add(opened_on, days),
                (None, None) => return Err(Error::BadArgument(format!("{T}: row {}: `due_on` is null and the policy's cases.due_days is empty", i + 1))),
            };
            let (uscc, department) = (required(uscc[i].clone(), T, "uscc", i)?, required(dept[i].clone(), T, "department", i)?);
            added.push(Case::opening(case_id, uscc, department, opened_on, level, score[i], due_on, "import"));
        }
        added.sort_by(|a, b| (a.opened_on, &a.case_id).cmp(&(b.opened_on, &b.case_id)));
        for c in &added {
            self.events.push(CaseEvent {
                case_id: c.case_id.clone(),
                on: c.opened_on,
                event: "imported".into(),
                from: None,
                to: CaseState::Open,
                by: "import".into(),
                detail: format!("level {}, due {}", c.level, crate::dates::format(c.due_on)),
                disposition_key: None,
                recorded_as_of: as_of,
            });
        }
        let n = added.len() as u64;
        self.cases.extend(added);
        Ok((n, known_count, later))
    }

    /// Cases in the output order: by opening day, then id.
    pub fn sort(&mut self) {
        self.cases.sort_by(|a, b| (a.opened_on, &a.case_id).cmp(&(b.opened_on, &b.case_id)));
    }
}
