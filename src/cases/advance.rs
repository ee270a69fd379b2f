//! Step 2 of a run's cases: the dispositions known as of T are matched to their cases and
//! applied once each, in date order, interleaved with the transitions time makes (overdue the
//! day after `due_on`; escalated, once, `escalate_after_days` later for the levels the policy
//! names). A disposition that names no case it can belong to is rejected with its file and row.

use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use super::book::{CaseBook, CaseEvent, CaseState};
use crate::error::Result;
use crate::policy::CasePolicy;

/// One validated `dispositions` row, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Disposition {
    pub file: Arc<str>,
    pub row: u64,
    pub uscc: PlSmallStr,
    pub case_id: Option<PlSmallStr>,
    pub department: PlSmallStr,
    pub handled_on: i32,
    pub action: PlSmallStr,
    pub result: PlSmallStr,
    pub handler_id: Option<PlSmallStr>,
}

impl Disposition {
    /// The validated table's rows (its `__file`/`__row` origin columns are kept by validation).
    pub fn from_frame(df: &DataFrame) -> Result<Vec<Disposition>> {
        let s = |c: &str| -> Result<Vec<Option<PlSmallStr>>> { Ok(df.column(c)?.str()?.iter().map(|v| v.map(PlSmallStr::from_str)).collect()) };
        let (uscc, case_id, dept, action, result, handler) = (s("uscc")?, s("case_id")?, s("department")?, s("action")?, s("result")?, s("handler_id")?);
        // One shared name per file (a table is read from few files).
        let mut files: Vec<Arc<str>> = Vec::new();
        let file: Vec<Arc<str>> = df
            .column(crate::io::FILE_COL)?
            .str()?
            .iter()
            .map(|f| {
                let f = f.unwrap_or("");
                match files.iter().find(|k| &***k == f) {
                    Some(k) => k.clone(),
                    None => {
                        files.push(Arc::from(f));
                        files[files.len() - 1].clone()
                    }
                }
            })
            .collect();
        let row: Vec<Option<u64>> = df.column(crate::io::ROW_COL)?.cast(&DataType::UInt64)?.u64()?.iter().collect();
        let on: Vec<Option<i32>> = df.column("handled_on")?.cast(&DataType::Int32)?.i32()?.iter().collect();
        let mut out = Vec::with_capacity(df.height());
        for (i, (((((uscc, case_id), department), action), result), handler_id)) in uscc.into_iter().zip(case_id).zip(dept).zip(action).zip(result).zip(handler).enumerate() {
            out.push(Disposition {
                file: file[i].clone(),
                row: row[i].unwrap_or(0),
                uscc: uscc.unwrap_or_default(),
                case_id,
                department: department.unwrap_or_default(),
                handled_on: on[i].unwrap_or(i32::MIN),
                action: action.unwrap_or_default(),
                result: result.unwrap_or_default(),
                handler_id,
            });
        }
        Ok(out)
    }

    /// What identifies the row across runs (the input is cumulative: every night's table holds
    /// the earlier dispositions too). The free-text note is not part of it.
    pub fn key(&self) -> PlSmallStr {
        key_text(self.key_bits())
    }

    /// The key as a number: the first 8 bytes of the SHA-256 of the row's fields, so that its
    /// 16 hex digits sort as the number does.
    fn key_bits(&self) -> u64 {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let fields: [&str; 7] = [
            &self.uscc,
            self.case_id.as_deref().unwrap_or(""),
            &self.department,
            &self.handled_on.to_string(),
            &self.action,
            &self.result,
            self.handler_id.as_deref().unwrap_or(""),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                h.update(b"|");
            }
            h.update(f.as_bytes());
        }
        let digest = h.finalize();
        u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"))
    }
}

fn key_text(bits: u64) -> PlSmallStr {
    let mut s = PlSmallStr::EMPTY;
    std::fmt::Write::write_fmt(&mut s, format_args!("{bits:016x}")).expect("writing to a string");
    s
}

/// A disposition row that belongs to no case, for rejected.parquet.
pub use crate::validate::Rejection;

/// What became of the `dispositions` rows that passed validation in one run. `applied +
/// already_applied + not_yet_known + rejected` is every such row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DispositionCounts {
    /// Applied to their case in this run (a closing result closes it).
    pub applied: u64,
    /// … of which `pending` (recorded; the case stays as it was).
    pub pending: u64,
    /// … of which came after their case had closed (recorded; the state stays).
    pub after_close: u64,
    /// Applied by an earlier run (found in the audit trail).
    pub already_applied: u64,
    /// `handled_on` on or after T: not yet known to a run as of T.
    pub not_yet_known: u64,
    /// Matched no case (moved to rejected.parquet with the reason).
    pub rejected: u64,
}

fn time_transition(case: &super::Case, policy: &CasePolicy, calendar: &crate::dates::WorkCalendar) -> Option<(i32, CaseState)> {
    match case.state {
        CaseState::Open => Some((case.due_on + 1, CaseState::Overdue)),
        CaseState::Overdue if case.escalated_on.is_none() && policy.escalate_levels.iter().any(|l| *l == case.level) => {
            let overdue_on = case.overdue_on.unwrap_or(case.due_on + 1);
            Some((calendar.add(overdue_on, policy.escalate_after_days), CaseState::Escalated))
        }
        _ => None,
    }
}

/// Applies every disposition known as of `as_of` that the trail does not hold yet, and the
/// transitions time makes up to T, to `book`. New events are appended in date order.
pub fn advance(book: &mut CaseBook, dispositions: &[Disposition], as_of: i32, policy: &CasePolicy) -> Result<(DispositionCounts, Vec<Rejection>)> {
    let calendar = policy.calendar()?;
    let mut counts = DispositionCounts::default();
    let mut rejections = Vec::new();
    // The three lookups over the book, built side by side.
    let cases = &book.cases;
    let (applied_keys, (by_id, (first_of_subject, next_of_subject))) = rayon::join(
        || book.applied_disposition_keys(),
        || {
            rayon::join(
                || cases.iter().enumerate().map(|(i, c)| (c.case_id.as_str(), i)).collect::<PlHashMap<&str, usize>>(),
                || {
                    // Each subject's cases as a chain: its first case, then `next_of_subject`
                    // (usize::MAX ends it).
                    let mut first: PlHashMap<&str, usize> = PlHashMap::with_capacity(cases.len());
                    let mut next = vec![usize::MAX; cases.len()];
                    for (i, c) in cases.iter().enumerate().rev() {
                        if let Some(n) = first.insert(c.uscc.as_str(), i) {
                            next[i] = n;
                        }
                    }
                    (first, next)
                },
            )
        },
    );
    let applied_keys = applied_keys?;
    let next_of_subject = &next_of_subject;
    let subject_cases = |uscc: &str| {
        let mut at = first_of_subject.get(uscc).copied().unwrap_or(usize::MAX);
        std::iter::from_fn(move || {
            let here = at;
            (here != usize::MAX).then(|| {
                at = next_of_subject[here];
                here
            })
        })
    };
    let bits: Vec<u64> = dispositions.par_iter().with_min_len(1 << 12).map(Disposition::key_bits).collect();
    let keys: Vec<PlSmallStr> = bits.par_iter().with_min_len(1 << 12).map(|&b| key_text(b)).collect();
    // By day, then key (the number sorts as its hex text), then row.
    let mut order: Vec<(i32, u64, usize)> = dispositions.iter().zip(&bits).enumerate().map(|(i, (d, &b))| (d.handled_on, b, i)).collect();
    order.par_sort_unstable();
    drop(bits);
    // Most of a cumulative table was applied by earlier runs: looked up side by side.
    let already: Vec<bool> = keys.par_iter().with_min_len(1 << 12).map(|k| applied_keys.contains(k.as_str())).collect();
    let mut seen: PlHashMap<&str, usize> = PlHashMap::new();
    let mut queued: Vec<Vec<usize>> = vec![Vec::new(); book.cases.len()];
    for (_, _, i) in order {
        let (d, key) = (&dispositions[i], keys[i].as_str());
        let mut reject = |column: &str, reason: String| {
            rejections.push(Rejection { file: d.file.to_string(), row: d.row, column: column.into(), reason, uscc: d.uscc.to_string() });
        };
        if d.handled_on >= as_of {
            counts.not_yet_known += 1;
            continue;
        }
        if already[i] {
            counts.already_applied += 1;
            continue;
        }
        if let Some(&first) = seen.get(key) {
            let f = &dispositions[first];
            reject("handled_on", format!("the same disposition as row {} of {} (same subject, case, department, date, action, result and handler)", f.row, f.file));
            continue;
        }
        let case = match &d.case_id {
            Some(id) => match by_id.get(id.as_str()) {
                None => {
                    reject("case_id", format!("unknown case '{id}': no run of this output directory opened it and the `cases` table does not hold it"));
                    continue;
                }
                Some(&c) if book.cases[c].uscc != d.uscc => {
                    reject("uscc", format!("case '{id}' is about subject {}, not {}", book.cases[c].uscc, d.uscc));
                    continue;
                }
                Some(&c) => c,
            },
            None => {
                // The department's case, or one escalated to it, opened by the day of the action;
                // of several, the latest opened.
                let found = subject_cases(&d.uscc)
                    .filter(|&c| {
                        let case = &book.cases[c];
                        case.opened_on <= d.handled_on
                            && (case.department == d.department || case.escalated_to.as_deref() == Some(d.department.as_str()))
                    })
                    .max_by(|&a, &b| (book.cases[a].opened_on, &book.cases[a].case_id).cmp(&(book.cases[b].opened_on, &book.cases[b].case_id)));
                match found {
                    Some(c) => c,
                    None if subject_cases(&d.uscc).next().is_none() => {
                        reject("uscc", "no case was ever opened for this subject (a disposition follows up a warning case)".into());
                        continue;
                    }
                    None => {
                        let others: Vec<String> =
                            subject_cases(&d.uscc).map(|c| format!("{} ({}, opened {})", book.cases[c].case_id, book.cases[c].department, crate::dates::format(book.cases[c].opened_on))).collect();
                        reject(
                            "department",
                            format!("no case of department '{}' opened on or before {} for this subject; its cases: {}", d.department, crate::dates::format(d.handled_on), others.join(", ")),
                        );
                        continue;
                    }
                }
            }
        };
        if d.handled_on < book.cases[case].opened_on {
            let c = &book.cases[case];
            reject("handled_on", format!("handled before case '{}' was opened on {}", c.case_id, crate::dates::format(c.opened_on)));
            continue;
        }
        seen.insert(key, i);
        queued[case].push(i);
    }
    drop((applied_keys, by_id, seen, first_of_subject));
    counts.rejected = rejections.len() as u64;

    // Each case's transitions, independent of every other case's: in parallel.
    let per_case = |(case, items): (&mut super::Case, Vec<usize>)| -> (Vec<(usize, CaseEvent)>, [u64; 3]) {
        let mut new_events: Vec<(usize, CaseEvent)> = Vec::new();
        // Applied, of which pending, of which after the case closed.
        let mut applied = [0u64; 3];
        let mut next = items.into_iter().peekable();
        let mut seq = 0usize;
        let mut push = |e: CaseEvent, seq: &mut usize| {
            new_events.push((*seq, e));
            *seq += 1;
        };
        loop {
            let timed = time_transition(case, policy, &calendar).filter(|(day, _)| *day <= as_of);
            let disposition_day = next.peek().map(|&i| dispositions[i].handled_on);
            // Time acts at the start of its day, a disposition during its day.
            match (timed, disposition_day) {
                (Some((day, to)), d) if d.is_none_or(|d| day <= d) => {
                    let from = case.state;
                    case.state = to;
                    let detail = if to == CaseState::Overdue {
                        case.overdue_on = Some(day);
                        format!("not handled by {}", crate::dates::format(case.due_on))
                    } else {
                        case.escalated_on = Some(day);
                        case.escalated_to = Some(policy.escalate_to.as_str().into());
                        format!("escalated to {}", policy.escalate_to)
                    };
                    let event = if to == CaseState::Overdue { "overdue" } else { "escalated" };
                    push(
                        CaseEvent { case_id: case.case_id.clone(), on: day, event: event.into(), from: Some(from), to, by: super::ENGINE.into(), detail: detail.into(), disposition_key: None, recorded_as_of: as_of },
                        &mut seq,
                    );
                }
                (_, Some(_)) => {
                    let Some(i) = next.next() else { break };
                    let d = &dispositions[i];
                    let from = case.state;
                    applied[0] += 1;
                    applied[1] += (d.result == "pending") as u64;
                    let mut detail = format!("{} · {} · {}", d.action, d.result, d.department);
                    if from.is_open() {
                        case.state = from.after_result(&d.result);
                        if !case.state.is_open() {
                            case.closed_on = Some(d.handled_on);
                        }
                    } else {
                        applied[2] += 1;
                        detail += " (after the case closed; the state stays)";
                    }
                    if case.last_handled_on.is_none_or(|l| d.handled_on >= l) {
                        case.last_handled_on = Some(d.handled_on);
                        case.last_action = Some(d.action.clone());
                        case.last_result = Some(d.result.clone());
                    }
                    push(
                        CaseEvent {
                            case_id: case.case_id.clone(),
                            on: d.handled_on,
                            event: "disposition".into(),
                            from: Some(from),
                            to: case.state,
                            by: d.handler_id.clone().unwrap_or_else(|| d.department.clone()),
                            detail: detail.into(),
                            disposition_key: Some(keys[i].clone()),
                            recorded_as_of: as_of,
                        },
                        &mut seq,
                    );
                }
                _ => break,
            }
        }
        (new_events, applied)
    };
    let cases_done: Vec<(Vec<(usize, CaseEvent)>, [u64; 3])> = book.cases.par_iter_mut().zip(queued.into_par_iter()).with_min_len(1 << 12).map(per_case).collect();
    let mut new_events: Vec<(usize, CaseEvent)> = Vec::with_capacity(cases_done.iter().map(|(e, _)| e.len()).sum());
    for (events, [applied, pending, after_close]) in cases_done {
        counts.applied += applied;
        counts.pending += pending;
        counts.after_close += after_close;
        new_events.extend(events);
    }
    // A case's events in its own order within a day (each (day, case, seq) is distinct).
    let order = super::order_of(new_events.iter().map(|(seq, e)| (e.on, super::id_key(&e.case_id), *seq)).collect());
    book.events.extend(super::permuted(new_events, order).map(|(_, e)| e));
    Ok((counts, rejections))
}
