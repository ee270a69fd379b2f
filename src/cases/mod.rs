//! Warning cases (跟踪预警和反馈处理, seed 三(三)1; 全程留痕、可回溯, 三(五)2): every red or orange
//! warning becomes a case that a department follows up; what it found comes back as a
//! `dispositions` row and closes the case. The case book (every case ever opened, and the audit
//! trail of every transition) is carried from run to run and never loses a case.
//!
//! A run's work is three pure steps over the book, split so that the population-wide parts stay
//! separate from the per-subject ones:
//! 1. [`CaseBook::import`] the `cases` input table (cases opened before this output directory);
//! 2. [`advance`]: apply the dispositions known as of T, mark cases overdue and escalate them;
//! 3. [`open`]: open a case for each warning at an opening level without one, unless a recent
//!    check found nothing (no alert fatigue), and say for every warning which case it has.
//!
//! [`feedback`] then sums the book up per level and per department.

mod advance;
mod book;
pub mod feedback;
mod open;

pub use advance::{advance, Disposition, DispositionCounts, Rejection};
pub use book::{Case, CaseBook, CaseEvent, CaseState, CASE_COLUMNS, EVENT_COLUMNS, PLAIN_CASE_COLUMNS, PLAIN_EVENT_COLUMNS};

/// The columns the case step adds to the warning list (after scoring), in order.
pub const WARNING_COLUMNS: [&str; 4] = ["case_id", "case_state", "case_last_handled_on", "case_last_result"];
pub use feedback::{feedback, Feedback, FeedbackRow, OverdueCase, OverdueDepartment, OVERDUE_LISTED};
pub use open::{adverse_events, adverse_kind, case_columns, open, open_list, quiet_subjects, sort_book, Adverse, OpenCounts, Opened, WarningCase, WarningForCase};

/// A case id's sort key: its first 32 bytes as two big-endian numbers (zero-padded), then the
/// id itself. It orders ids as their text does, but most comparisons are two integer ones:
/// ids share a long prefix (`RW-<day>-`), which a text comparison walks through every time.
pub(crate) fn id_key(id: &str) -> (u128, u128, &str) {
    let mut bytes = [0u8; 32];
    let n = id.len().min(32);
    bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
    let (hi, lo) = bytes.split_at(16);
    (u128::from_be_bytes(hi.try_into().expect("16 bytes")), u128::from_be_bytes(lo.try_into().expect("16 bytes")), id)
}

/// The indices of `keys` in key order (ties by index), sorted in parallel: compact keys, so that
/// the items they stand for (a case or event is a few hundred bytes) are moved once, by
/// [`permuted`], not many times by a sort.
pub(crate) fn order_of<K: Ord + Send>(keys: Vec<K>) -> Vec<u32> {
    use rayon::prelude::*;
    let mut keyed: Vec<(K, u32)> = keys.into_iter().zip(0..).collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// `items` in `order` (a permutation of their indices, from [`order_of`]).
pub(crate) fn permuted<T>(items: Vec<T>, order: Vec<u32>) -> impl Iterator<Item = T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().map(move |i| slots[i as usize].take().expect("a permutation"))
}

/// Who records the transitions riskwarn makes itself (opened, overdue, escalated).
pub const ENGINE: &str = "riskwarn";

/// A case's id: `RW-<opened yyyymmdd>-<12 hex digits of a hash of the subject and the day>`.
/// A subject gets at most one new case per as-of date, so the id is unique and the same inputs
/// give the same id.
pub fn case_id(uscc: &str, opened_on: i32) -> String {
    let day = crate::dates::format(opened_on).replace('-', "");
    let hash = crate::digest::hex_digest(format!("case|{uscc}|{opened_on}").as_bytes());
    format!("RW-{day}-{}", &hash[..12])
}
