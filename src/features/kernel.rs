//! The production backend for feature specs: each event table is grouped once by subject (a
//! stable counting sort on the dense `sid`, so each subject's rows are one contiguous slice in
//! input order), then every as-of date is one parallel pass over the scored subjects' slices.
//! Rows already in subject order are not copied: the kernel reads the table's own buffers,
//! chunk by chunk (memory first touched is most of the cost at province scale).
//! Sums run in input order within a subject, so results do not depend on thread count.

use std::borrow::Cow;
use std::ops::Range;

use polars::prelude::*;
use rayon::prelude::*;

use super::annual_reports::last_due_year;
use super::spec::{Measure, Stat, TableFeatures, Window};
use crate::dates;
use crate::error::{Error, Result};
use crate::validate::SID;

/// Σ (value or 1) over known rows with `min_age ≤ T − date ≤ max_age` whose bits include `bits`.
#[derive(Clone, Copy, PartialEq)]
struct Acc {
    min_age: i32,
    max_age: i32,
    bits: u32,
    value: Option<usize>,
}

impl Acc {
    fn new(window: Window, bits: u32, value: Option<usize>) -> Self {
        let (min_age, max_age) = match window {
            Window::Known => (1, i32::MAX),
            Window::Within(days) => (1, days),
            Window::Between(from, to) => (from + 1, to),
        };
        Acc { min_age, max_age, bits, value }
    }
}

/// How a feature is read off the accumulators (or computed by its own loop).
enum Formula {
    Acc(usize),
    Log1p(usize),
    Diff(usize, usize),
    Ratio(usize, usize),
    /// Holds a current licence of the one type whose bit this is.
    Held(u32),
    Loop,
}

/// A table's features compiled into shared accumulators and formulas.
struct Plan {
    accs: Vec<Acc>,
    formulas: Vec<Formula>,
    /// Some formula is `Held`: the types held are collected once per subject.
    held: bool,
}

impl Plan {
    fn new(decl: &TableFeatures) -> Self {
        let mut accs: Vec<Acc> = Vec::new();
        let mut index = |a: Acc| match accs.iter().position(|x| *x == a) {
            Some(i) => i,
            None => {
                accs.push(a);
                accs.len() - 1
            }
        };
        let formulas = decl
            .features
            .iter()
            .map(|f| match f.measure {
                Measure::Count { window, bits } => Formula::Acc(index(Acc::new(window, bits, None))),
                Measure::Sum { value, window, bits } => Formula::Acc(index(Acc::new(window, bits, Some(value)))),
                Measure::Log1pSum { value, window, bits } => Formula::Log1p(index(Acc::new(window, bits, Some(value)))),
                Measure::Trend { days, bits } => {
                    let (recent, before) = Measure::trend_windows(days);
                    Formula::Diff(index(Acc::new(recent, bits, None)), index(Acc::new(before, bits, None)))
                }
                Measure::Share { num, den, window } => {
                    Formula::Ratio(index(Acc::new(window, num | den, None)), index(Acc::new(window, den, None)))
                }
                Measure::HeldNow { bits } if bits.count_ones() == 1 => Formula::Held(bits),
                _ => Formula::Loop,
            })
            .collect::<Vec<_>>();
        let held = formulas.iter().any(|f| matches!(f, Formula::Held(_)));
        Plan { accs, formulas, held }
    }
}

/// One table's rows, grouped by subject. Columns stay polars arrays: they are the table's own
/// buffers (shared, not copied), chunk by chunk, and a null reads as its column's marker when a
/// subject's rows are taken; only where rows must be reordered is a copy made.
pub struct Grouped {
    /// Rows of subject `s` are `offsets[s]..offsets[s + 1]`.
    offsets: Vec<u32>,
    /// Event date (annual reports: `filed_on`, `i32::MAX` when not filed).
    date: Rows<Int32Type>,
    /// `recorded_on`, `i32::MIN` when null; None when the table has none (known as soon as dated).
    recorded: Option<Rows<Int32Type>>,
    bits: Rows<UInt32Type>,
    /// NaN for null.
    values: Vec<Rows<Float64Type>>,
    /// credit_lists: `removed_on` (`i32::MAX` when null); annual_reports: `year`; licences:
    /// `expires_on` (`i32::MAX` when null).
    aux: Option<Rows<Int32Type>>,
    /// licences: `revoked_on` (`i32::MAX` when null).
    revoked: Option<Rows<Int32Type>>,
    /// licences: the row's `licence_type`, as a code (equal types, equal codes).
    kind: Option<Rows<UInt32Type>>,
}

/// A column in subject order, and what its nulls read as.
struct Rows<T: PolarsNumericType> {
    ca: ChunkedArray<T>,
    missing: T::Native,
}

impl<T: PolarsNumericType> Rows<T>
where
    T::Native: Send + Sync,
{
    fn new(ca: ChunkedArray<T>, missing: T::Native) -> Self {
        Rows { ca, missing }
    }

    /// In subject order: as it is, or gathered by `order` into one new chunk.
    fn arrange(self, order: &Option<Vec<u32>>) -> Self {
        match order {
            Some(order) if !self.ca.is_empty() => {
                let v = flat(&self.ca, self.missing);
                let ca = ChunkedArray::from_vec(self.ca.name().clone(), order.par_iter().map(|&r| v[r as usize]).collect());
                Rows { ca, missing: self.missing }
            }
            _ => self,
        }
    }
}

/// A date column as days; None when the table lacks it or it is null throughout (an optional
/// column the loader added).
fn days(frame: &DataFrame, name: &str, missing: i32) -> Result<Option<Rows<Int32Type>>> {
    if !frame.schema().contains(name) {
        return Ok(None);
    }
    let c = frame.column(name)?;
    if c.null_count() == c.len() {
        return Ok(None);
    }
    let ca = match c.dtype() {
        // A date's days are its physical values: shared, not cast into a copy.
        DataType::Date => c.date()?.physical().clone(),
        _ => c.cast(&DataType::Int32)?.i32()?.clone(),
    };
    Ok(Some(Rows::new(ca, missing)))
}

/// [`days`], with every row `missing` where there is no such column.
fn days_or_full(frame: &DataFrame, name: &str, missing: i32) -> Result<Rows<Int32Type>> {
    Ok(days(frame, name, missing)?.unwrap_or_else(|| Rows::new(Int32Chunked::full(name.into(), missing, frame.height()), missing)))
}

/// A column's chunks as slices (with their validity where a chunk has nulls), to take a
/// subject's rows without a copy.
struct Slices<'a, T> {
    starts: Vec<usize>,
    parts: Vec<(&'a [T], Option<&'a polars_arrow::bitmap::Bitmap>)>,
    missing: T,
}

impl<'a, T: polars_arrow::types::NativeType> Slices<'a, T> {
    fn of<P: PolarsNumericType<Native = T>>(rows: &'a Rows<P>) -> Self {
        let parts: Vec<_> =
            rows.ca.downcast_iter().map(|a| (a.values().as_slice(), a.validity().filter(|v| v.unset_bits() > 0))).collect();
        let starts = parts
            .iter()
            .scan(0, |next, p| {
                let start = *next;
                *next += p.0.len();
                Some(start)
            })
            .collect();
        Slices { starts, parts, missing: rows.missing }
    }

    /// Rows `range`: a slice of one chunk, or a copy where the range holds a null (read as
    /// `missing`) or crosses a chunk boundary (at most one subject per boundary).
    fn rows(&self, range: Range<usize>) -> Cow<'a, [T]> {
        if range.is_empty() {
            return Cow::Borrowed(&[]);
        }
        let mut c = self.starts.partition_point(|&s| s <= range.start) - 1;
        let (start, (part, valid)) = (self.starts[c], self.parts[c]);
        let local = range.start - start..range.end - start;
        if local.end <= part.len() && valid.is_none_or(|v| v.null_count_range(local.start, local.len()) == 0) {
            return Cow::Borrowed(&part[local]);
        }
        let mut out = Vec::with_capacity(range.len());
        let mut pos = range.start;
        while pos < range.end {
            let (start, (part, valid)) = (self.starts[c], self.parts[c]);
            let end = range.end.min(start + part.len());
            match valid {
                None => out.extend_from_slice(&part[pos - start..end - start]),
                Some(v) => out.extend((pos - start..end - start).map(|i| if v.get_bit(i) { part[i] } else { self.missing })),
            }
            pos = end;
            c += 1;
        }
        Cow::Owned(out)
    }
}

/// A grouped table's columns as slices, for one evaluation.
struct View<'a> {
    date: Slices<'a, i32>,
    recorded: Option<Slices<'a, i32>>,
    bits: Slices<'a, u32>,
    values: Vec<Slices<'a, f64>>,
    aux: Option<Slices<'a, i32>>,
    revoked: Option<Slices<'a, i32>>,
    kind: Option<Slices<'a, u32>>,
}

impl<'a> View<'a> {
    /// A subject's rows; `values` is a spent subject's vector, reused (emptied).
    fn subject(&self, rows: Range<usize>, mut values: Vec<Cow<'a, [f64]>>) -> Subject<'a> {
        values.clear();
        values.extend(self.values.iter().map(|c| c.rows(rows.clone())));
        Subject {
            date: self.date.rows(rows.clone()),
            recorded: self.recorded.as_ref().map(|c| c.rows(rows.clone())),
            bits: self.bits.rows(rows.clone()),
            values,
            aux: self.aux.as_ref().map_or(Cow::Borrowed(&[]), |c| c.rows(rows.clone())),
            revoked: self.revoked.as_ref().map_or(Cow::Borrowed(&[]), |c| c.rows(rows.clone())),
            kind: self.kind.as_ref().map_or(Cow::Borrowed(&[]), |c| c.rows(rows)),
        }
    }
}

/// One subject's rows of a table (empty slices for columns the table does not have).
struct Subject<'a> {
    date: Cow<'a, [i32]>,
    recorded: Option<Cow<'a, [i32]>>,
    bits: Cow<'a, [u32]>,
    values: Vec<Cow<'a, [f64]>>,
    aux: Cow<'a, [i32]>,
    revoked: Cow<'a, [i32]>,
    kind: Cow<'a, [u32]>,
}

impl Subject<'_> {
    fn rows(&self) -> Range<usize> {
        0..self.date.len()
    }

    #[inline]
    fn known(&self, i: usize, t: i32) -> bool {
        self.date[i] < t && self.recorded.as_ref().is_none_or(|r| r[i] < t)
    }

    /// A licence is current at T: known, and neither expired nor revoked before T.
    #[inline]
    fn current(&self, i: usize, t: i32) -> bool {
        self.known(i, t) && self.aux[i] >= t && self.revoked[i] >= t
    }

    #[inline]
    fn has(&self, i: usize, bits: u32) -> bool {
        self.bits[i] & bits == bits
    }
}

/// Sets the bits of the `keyed` predicates: per column, the row's value compared with the few
/// declared ones (length first), chunk by chunk in parallel.
fn keyed_bits(frame: &DataFrame, decl: &TableFeatures, bits: &mut [u32]) -> Result<()> {
    let mut columns: Vec<&str> = decl.keyed.iter().map(|k| k.0).collect();
    columns.sort_unstable();
    columns.dedup();
    for column in columns {
        let mut by_value: Vec<(&str, u32)> = Vec::new();
        for (c, value, bit) in &decl.keyed {
            if *c == column {
                match by_value.iter_mut().find(|(v, _)| v == value) {
                    Some((_, b)) => *b |= bit,
                    None => by_value.push((value.as_str(), *bit)),
                }
            }
        }
        let lookup = |v: &str| by_value.iter().find(|(k, _)| k.len() == v.len() && *k == v).map_or(0, |(_, b)| *b);
        let values = frame.column(column)?.str()?;
        let arrays: Vec<_> = values.downcast_iter().collect();
        let mut parts: Vec<&mut [u32]> = Vec::with_capacity(arrays.len());
        let mut rest = &mut bits[..];
        for arr in &arrays {
            let (head, tail) = rest.split_at_mut(arr.len());
            parts.push(head);
            rest = tail;
        }
        parts.into_par_iter().zip(arrays).for_each(|(out, arr)| {
            for (b, v) in out.iter_mut().zip(arr.iter()) {
                *b |= v.map_or(0, lookup);
            }
        });
    }
    Ok(())
}

/// Each distinct string of `column` as a small code, in order of first appearance.
fn codes(frame: &DataFrame, column: &str) -> Result<Vec<u32>> {
    let mut seen: PlHashMap<&str, u32> = PlHashMap::new();
    let values = frame.column(column)?.str()?;
    Ok(values
        .iter()
        .map(|v| {
            let next = seen.len() as u32;
            *seen.entry(v.unwrap_or("")).or_insert(next)
        })
        .collect())
}

/// The values of a numeric column as one vector, `missing` for nulls: a copy of each chunk's
/// buffer where it has no null (most do), element by element only where it has.
pub fn flat<T: PolarsNumericType>(ca: &ChunkedArray<T>, missing: T::Native) -> Vec<T::Native> {
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        if polars_arrow::array::Array::null_count(arr) == 0 {
            out.extend_from_slice(arr.values().as_slice());
        } else {
            out.extend(arr.iter().map(|v| v.copied().unwrap_or(missing)));
        }
    }
    out
}

/// A date column as days (`missing` for nulls, and for every row when the column is absent).
pub fn dates_or(frame: &DataFrame, name: &str, missing: i32) -> Result<Vec<i32>> {
    Ok(match days(frame, name, missing)? {
        Some(rows) => flat(&rows.ca, missing),
        None => vec![missing; frame.height()],
    })
}

impl Grouped {
    /// Evaluates the declaration's predicates and values with polars (a `keyed` predicate by one
    /// lookup per row), then groups by subject.
    pub fn build(frame: &DataFrame, decl: &TableFeatures, n_subjects: usize) -> Result<Self> {
        let n = frame.height();
        let expression_predicates = decl.predicates.len() > decl.keyed.len();
        let mut bits_expr = lit(0u32);
        for (i, (_, pred)) in decl.predicates.iter().enumerate() {
            if decl.keyed.iter().any(|k| k.2 == 1 << i) {
                continue;
            }
            bits_expr = bits_expr + when(pred.clone().fill_null(lit(false))).then(lit(1u32 << i)).otherwise(lit(0u32));
        }
        let mut derived: Vec<Expr> = decl.values.iter().enumerate().map(|(i, (_, v))| v.clone().cast(DataType::Float64).alias(format!("__v{i}"))).collect();
        if expression_predicates {
            derived.push(bits_expr.cast(DataType::UInt32).alias("__bits"));
        }
        let derived = if derived.is_empty() { DataFrame::empty() } else { frame.clone().lazy().select(derived).collect()? };
        // Expression predicates' bits are polars' column, shared; keyed ones are set in a copy.
        let bits = if expression_predicates && decl.keyed.is_empty() {
            derived.column("__bits")?.u32()?.clone()
        } else {
            let mut bits = if expression_predicates { flat(derived.column("__bits")?.u32()?, 0) } else { vec![0; n] };
            keyed_bits(frame, decl, &mut bits)?;
            UInt32Chunked::from_vec("bits".into(), bits)
        };
        let bits = Rows::new(bits, 0);
        let values: Vec<Rows<Float64Type>> =
            (0..decl.values.len()).map(|i| Ok(Rows::new(derived.column(&format!("__v{i}"))?.f64()?.clone(), f64::NAN))).collect::<Result<_>>()?;
        let aux = match decl.table {
            "annual_reports" => Some(Rows::new(frame.column("year")?.i32()?.clone(), 0)),
            "credit_lists" => Some(days_or_full(frame, "removed_on", i32::MAX)?),
            "licences" => Some(days_or_full(frame, "expires_on", i32::MAX)?),
            _ => None,
        };
        let (revoked, kind) = match decl.table {
            "licences" => (Some(days_or_full(frame, "revoked_on", i32::MAX)?), Some(Rows::new(UInt32Chunked::from_vec("kind".into(), codes(frame, "licence_type")?), 0))),
            _ => (None, None),
        };
        let sid = frame.column(SID)?.u32()?;
        if sid.null_count() > 0 {
            return Err(Error::Internal(format!("{}: a used row has no sid", decl.table)));
        }
        let mut offsets = vec![0u32; n_subjects + 1];
        let mut sorted = true;
        let mut previous = 0u32;
        for s in sid.downcast_iter().flat_map(|a| a.values().iter()) {
            offsets[*s as usize + 1] += 1;
            sorted &= previous <= *s;
            previous = *s;
        }
        for i in 0..n_subjects {
            offsets[i + 1] += offsets[i];
        }
        // Rows already in subject order (as riskwarn generate writes them, and many extracts
        // are) are grouped as they are; otherwise a stable counting sort by sid.
        let order: Option<Vec<u32>> = (!sorted).then(|| {
            let mut next = offsets.clone();
            let mut order = vec![0u32; n];
            for (row, s) in sid.into_no_null_iter().enumerate() {
                order[next[s as usize] as usize] = row as u32;
                next[s as usize] += 1;
            }
            order
        });
        Ok(Grouped {
            date: days_or_full(frame, decl.date_column(), i32::MAX)?.arrange(&order),
            recorded: days(frame, "recorded_on", i32::MIN)?.map(|c| c.arrange(&order)),
            aux: aux.map(|c| c.arrange(&order)),
            revoked: revoked.map(|c| c.arrange(&order)),
            kind: kind.map(|c| c.arrange(&order)),
            bits: bits.arrange(&order),
            values: values.into_iter().map(|v| v.arrange(&order)).collect(),
            offsets,
        })
    }

    fn view(&self) -> View<'_> {
        View {
            date: Slices::of(&self.date),
            recorded: self.recorded.as_ref().map(Slices::of),
            bits: Slices::of(&self.bits),
            values: self.values.iter().map(Slices::of).collect(),
            aux: self.aux.as_ref().map(Slices::of),
            revoked: self.revoked.as_ref().map(Slices::of),
            kind: self.kind.as_ref().map(Slices::of),
        }
    }

    /// Feature values for the subjects `sids` as of `t`: one column per feature, null where a
    /// feature that can be absent (`Absent::Null`) has no value.
    pub fn evaluate(&self, decl: &TableFeatures, sids: &[u32], t: i32) -> Vec<Column> {
        const BLOCK: usize = 2048;
        let plan = Plan::new(decl);
        let view = self.view();
        let f = decl.features.len();
        let last_due = last_due_year(t);
        // Each block of subjects writes straight into its rows of every final column: no
        // row-major buffer to transpose (the transposition read it once per column).
        let mut columns: Vec<Vec<f64>> = (0..f).map(|_| vec![0.0f64; sids.len()]).collect();
        let mut blocks: Vec<Vec<&mut [f64]>> = (0..sids.len().div_ceil(BLOCK)).map(|_| Vec::with_capacity(f)).collect();
        for column in columns.iter_mut() {
            for (block, part) in blocks.iter_mut().zip(column.chunks_mut(BLOCK)) {
                block.push(part);
            }
        }
        blocks.into_par_iter().zip(sids.par_chunks(BLOCK)).for_each(|(mut out, chunk)| {
            let mut acc = vec![0.0f64; plan.accs.len()];
            let mut spare = Vec::new();
            for (row, &sid) in chunk.iter().enumerate() {
                let subject = view.subject(self.offsets[sid as usize] as usize..self.offsets[sid as usize + 1] as usize, spare);
                accumulate(&plan, &subject, t, &mut acc);
                // The types held now, in one pass for every `HeldNow` of one type.
                let held = if plan.held { subject.rows().filter(|&i| subject.current(i, t)).fold(0, |m, i| m | subject.bits[i]) } else { 0 };
                for ((column, spec), formula) in out.iter_mut().zip(&decl.features).zip(&plan.formulas) {
                    column[row] = match *formula {
                        Formula::Acc(a) => acc[a],
                        Formula::Log1p(a) => (acc[a] + 1.0).ln(),
                        Formula::Diff(a, b) => acc[a] - acc[b],
                        Formula::Ratio(n, d) => if acc[d] > 0.0 { acc[n] / acc[d] } else { f64::NAN },
                        Formula::Held(bit) => (held & bit != 0) as u8 as f64,
                        Formula::Loop => measure(&spec.measure, &subject, t, last_due),
                    };
                }
                spare = subject.values;
            }
        });
        // Moved into polars without a copy; a feature that can be absent gets its validity
        // from the NaN markers.
        columns
            .into_par_iter()
            .zip(&decl.features)
            .map(|(values, spec)| {
                let name = spec.name().into();
                if spec.when_absent == super::Absent::Null && values.iter().any(|v| v.is_nan()) {
                    let validity: polars_arrow::bitmap::Bitmap = values.iter().map(|v| !v.is_nan()).collect();
                    Float64Chunked::from_vec_validity(name, values, Some(validity)).into_column()
                } else {
                    Float64Chunked::from_vec(name, values).into_column()
                }
            })
            .collect()
    }
}

/// One pass over a subject's rows, updating every accumulator.
fn accumulate(plan: &Plan, s: &Subject, t: i32, acc: &mut [f64]) {
    acc.fill(0.0);
    for i in s.rows() {
        if !s.known(i, t) {
            continue;
        }
        let age = t - s.date[i];
        let bits = s.bits[i];
        for (a, slot) in plan.accs.iter().zip(acc.iter_mut()) {
            if age >= a.min_age && age <= a.max_age && bits & a.bits == a.bits {
                *slot += match a.value {
                    // A null value (NaN) adds nothing.
                    Some(v) => {
                        let x = s.values[v][i];
                        if x.is_nan() { 0.0 } else { x }
                    }
                    None => 1.0,
                };
            }
        }
    }
}

/// A measure that needs its own pass over one subject's rows; NaN stands for null.
fn measure(m: &Measure, s: &Subject, t: i32, last_due: i32) -> f64 {
    let rows = s.rows();
    let in_scope = |i: usize| s.aux[i] >= last_due - 2 && s.aux[i] <= last_due;
    match *m {
        Measure::DaysSince { bits } => rows.filter(|&i| s.known(i, t) && s.has(i, bits)).map(|i| s.date[i]).max().map_or(f64::NAN, |d| (t - d) as f64),
        Measure::ListedNow { bits } => rows.into_iter().any(|i| s.known(i, t) && s.has(i, bits) && s.aux[i] >= t) as u8 as f64,
        Measure::ListedDays { bits } => rows
            .filter(|&i| s.known(i, t) && s.has(i, bits) && s.aux[i] >= t)
            .map(|i| s.date[i])
            .min()
            .map_or(f64::NAN, |d| (t - d) as f64),
        Measure::RemovedBefore => rows.filter(|&i| s.known(i, t) && s.aux[i] < t).count() as f64,
        Measure::HeldNow { bits } => rows.into_iter().any(|i| s.current(i, t) && s.has(i, bits)) as u8 as f64,
        Measure::HeldCount => rows.filter(|&i| s.current(i, t)).count() as f64,
        Measure::LapsedTypes => {
            let lapsed = |i: usize| s.known(i, t) && !s.current(i, t);
            let held = |k: u32| rows.clone().any(|j| s.kind[j] == k && s.current(j, t));
            // Each lapsed type once: at its first lapsed row.
            rows.clone().filter(|&i| lapsed(i) && !held(s.kind[i]) && !(0..i).any(|j| s.kind[j] == s.kind[i] && lapsed(j))).count() as f64
        }
        Measure::RevokedWithin(days) => rows.filter(|&i| s.known(i, t) && s.revoked[i] < t && t - s.revoked[i] <= days).count() as f64,
        Measure::Observed { stat, value, bits, window } => {
            let raw = &s.values[value];
            let w = Acc::new(window, bits, None);
            let matching = rows.filter(|&i| {
                let age = t - s.date[i];
                s.known(i, t) && s.has(i, bits) && age >= w.min_age && age <= w.max_age
            });
            let with_value = |i: &usize| !raw[*i].is_nan();
            match stat {
                // max_by_key keeps the last of equal keys: the later row of one day.
                Stat::Last => matching.filter(with_value).max_by_key(|&i| s.date[i]).map_or(f64::NAN, |i| raw[i]),
                Stat::Max => matching.filter(with_value).map(|i| raw[i]).reduce(f64::max).unwrap_or(f64::NAN),
                Stat::Mean => {
                    let (n, sum) = matching.filter(with_value).fold((0usize, 0.0), |(n, s), i| (n + 1, s + raw[i]));
                    if n == 0 { f64::NAN } else { sum / n as f64 }
                }
                Stat::DaysSince => matching.map(|i| s.date[i]).max().map_or(f64::NAN, |d| (t - d) as f64),
            }
        }
        Measure::ReportsDue => rows.filter(|&i| in_scope(i)).count() as f64,
        Measure::ReportsMissing => rows.filter(|&i| in_scope(i) && s.date[i] >= t).count() as f64,
        Measure::ReportsLate => rows
            .filter(|&i| in_scope(i) && s.date[i] < t && s.date[i] > dates::days_from_civil(s.aux[i] + 1, 6, 30))
            .count() as f64,
        Measure::Count { .. } | Measure::Sum { .. } | Measure::Log1pSum { .. } | Measure::Trend { .. } | Measure::Share { .. } => {
            unreachable!("accumulated measures are read off the plan's accumulators")
        }
    }
}
