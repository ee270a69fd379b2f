//! Grade overrides approved after an appeal or credit repair (异议申诉 / 信用修复, table
//! `overrides`): which one is in force for each scored subject as of T, and what became of
//! every row. A pure function over the validated table; `score` applies the result after the
//! hard rules.

use std::collections::HashMap;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::policy::Grade;

/// The override in force for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub grade: Grade,
    pub reason: String,
    /// Days since 1970-01-01.
    pub valid_from: i32,
}

/// What became of every used row of `overrides` in one run; the fields sum to the rows used.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OverrideCounts {
    /// In force as of T and applied to a scored subject.
    pub applied: u64,
    /// In force, but another in force for the same subject has a later `valid_from`.
    pub superseded: u64,
    /// `valid_to` before T.
    pub expired: u64,
    /// `valid_from` on or after T (not yet known as of T).
    pub not_yet_valid: u64,
    /// In force for a subject that is not scored as of T (e.g. revoked or cancelled).
    pub subject_not_scored: u64,
}

/// Overrides applied to the scored subjects: per subject (its index among the codes given)
/// that has one, its override. Few subjects have one, so a list of millions holds only those.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub per_subject: std::collections::HashMap<usize, Override>,
    pub counts: OverrideCounts,
}

impl Applied {
    /// The override of subject `i`, if it has one.
    pub fn of(&self, i: usize) -> Option<&Override> {
        self.per_subject.get(&i)
    }
}

/// Whether an override is in force as of `as_of`: approved before T (the point-in-time rule of
/// every table: a record of day T is not yet known to a run as of T) and not expired before T
/// (`valid_to = T` is still in force, as a list entry removed on T still counts as of T).
fn in_force(valid_from: i32, valid_to: Option<i32>, as_of: i32) -> bool {
    valid_from < as_of && valid_to.is_none_or(|end| end >= as_of)
}

fn parse_grade(s: &str) -> Result<Grade> {
    Grade::ALL
        .into_iter()
        .find(|g| g.as_str() == s)
        .ok_or_else(|| Error::Internal(format!("override grade {s:?} passed validation but is not A-D")))
}

/// The override in force as of `as_of` for each code of `scored` (validated `overrides` rows:
/// `uscc`, `grade`, `reason`, `valid_from`, `valid_to`). Of several in force for one subject, the
/// latest `valid_from` wins; equal ones cannot both pass validation (the table's key), and here
/// the earlier row would win.
pub fn apply<'a>(overrides: &DataFrame, scored: impl IntoIterator<Item = &'a str>, as_of: i32) -> Result<Applied> {
    let uscc = overrides.column("uscc")?.str()?;
    let grade = overrides.column("grade")?.str()?;
    let reason = overrides.column("reason")?.str()?;
    let from_col = overrides.column("valid_from")?.cast(&DataType::Int32)?;
    let to_col = overrides.column("valid_to")?.cast(&DataType::Int32)?;
    let (from, to) = (from_col.i32()?, to_col.i32()?);
    let mut counts = OverrideCounts::default();
    let mut winners: HashMap<&str, Override> = HashMap::new();
    for i in 0..overrides.height() {
        let (Some(code), Some(g), Some(r), Some(start)) = (uscc.get(i), grade.get(i), reason.get(i), from.get(i)) else {
            return Err(Error::Internal(format!("override row {} has a null in a required column after validation", i + 1)));
        };
        let end = to.get(i);
        if start >= as_of {
            counts.not_yet_valid += 1;
            continue;
        }
        if !in_force(start, end, as_of) {
            counts.expired += 1;
            continue;
        }
        let candidate = Override { grade: parse_grade(g)?, reason: r.to_string(), valid_from: start };
        match winners.get_mut(code) {
            Some(best) => {
                counts.superseded += 1;
                if candidate.valid_from > best.valid_from {
                    *best = candidate;
                }
            }
            None => {
                winners.insert(code, candidate);
            }
        }
    }
    let per_subject: std::collections::HashMap<usize, Override> =
        scored.into_iter().enumerate().filter_map(|(i, code)| Some((i, winners.get(code)?.clone()))).collect();
    counts.applied = per_subject.len() as u64;
    counts.subject_not_scored = winners.len() as u64 - counts.applied;
    Ok(Applied { per_subject, counts })
}

/// The override's reason entry in the report language, e.g. `异议申诉核准(→B): 已完成信用修复`.
pub fn reason_label(o: &Override, m: crate::messages::Messages) -> String {
    m.fill("reason.override", &[("grade", &o.grade.as_str()), ("reason", &o.reason)])
}
