//! The reference backend for feature specs: each measure as a polars aggregation expression over
//! a `group_by(sid)`. Slower than `kernel`, written independently of it, and used by the tests
//! to check that the kernel computes exactly what the specs say.

use polars::prelude::*;

use super::annual_reports::last_due_year;
use super::spec::{Measure, Stat, TableFeatures, Window};
use crate::error::Result;
use crate::validate::SID;

struct Ctx {
    t: i32,
    date: &'static str,
    has_recorded: bool,
}

impl Ctx {
    fn t_date(&self) -> Expr {
        lit(self.t).cast(DataType::Date)
    }
    fn days_before(&self, d: i32) -> Expr {
        lit(self.t - d).cast(DataType::Date)
    }
    fn known(&self) -> Expr {
        let dated = col(self.date).lt(self.t_date());
        if self.has_recorded {
            dated.and(col("recorded_on").is_null().or(col("recorded_on").lt(self.t_date())))
        } else {
            dated
        }
    }
    fn window(&self, w: Window) -> Expr {
        match w {
            Window::Known => self.known(),
            Window::Within(days) => self.known().and(col(self.date).gt_eq(self.days_before(days))),
            Window::Between(from, to) => self
                .known()
                .and(col(self.date).gt_eq(self.days_before(to)))
                .and(col(self.date).lt(self.days_before(from))),
        }
    }
    fn count(&self, mask: Expr) -> Expr {
        mask.cast(DataType::Float64).sum()
    }
    fn days(&self, e: Expr) -> Expr {
        e.cast(DataType::Int32).cast(DataType::Float64)
    }
}

fn bits_mask(decl: &TableFeatures, bits: u32) -> Expr {
    decl.predicates
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .fold(lit(true), |acc, (_, (_, p))| acc.and(p.clone().fill_null(lit(false))))
}

fn expr(decl: &TableFeatures, m: &Measure, ctx: &Ctx) -> Expr {
    let value = |v: usize| decl.values[v].1.clone().cast(DataType::Float64).fill_null(lit(0.0));
    let null = || lit(NULL).cast(DataType::Float64);
    let current = || ctx.known().and(col("removed_on").is_null().or(col("removed_on").gt_eq(ctx.t_date())));
    let licence_current = || licence_current(ctx);
    let last = last_due_year(ctx.t);
    let in_scope = || col("year").gt_eq(lit(last - 2)).and(col("year").lt_eq(lit(last)));
    let filed = || col("filed_on").is_not_null().and(col("filed_on").lt(ctx.t_date()));
    match *m {
        Measure::Count { window, bits } => ctx.count(ctx.window(window).and(bits_mask(decl, bits))),
        Measure::Sum { value: v, window, bits } => {
            when(ctx.window(window).and(bits_mask(decl, bits))).then(value(v)).otherwise(lit(0.0)).sum()
        }
        Measure::Log1pSum { value: v, window, bits } => {
            (when(ctx.window(window).and(bits_mask(decl, bits))).then(value(v)).otherwise(lit(0.0)).sum() + lit(1.0))
                .log(lit(std::f64::consts::E))
        }
        Measure::DaysSince { bits } => {
            lit(ctx.t as f64) - ctx.days(col(ctx.date).filter(ctx.known().and(bits_mask(decl, bits))).max())
        }
        Measure::Trend { days, bits } => {
            let (recent, before) = Measure::trend_windows(days);
            ctx.count(ctx.window(recent).and(bits_mask(decl, bits))) - ctx.count(ctx.window(before).and(bits_mask(decl, bits)))
        }
        Measure::Share { num, den, window } => {
            let d = ctx.count(ctx.window(window).and(bits_mask(decl, den)));
            let n = ctx.count(ctx.window(window).and(bits_mask(decl, num | den)));
            when(d.clone().gt(lit(0.0))).then(n / d).otherwise(null())
        }
        Measure::ListedNow { bits } => ctx.count(current().and(bits_mask(decl, bits))).gt(lit(0.0)).cast(DataType::Float64),
        Measure::ListedDays { bits } => {
            lit(ctx.t as f64) - ctx.days(col("listed_on").filter(current().and(bits_mask(decl, bits))).min())
        }
        Measure::RemovedBefore => ctx.count(ctx.known().and(col("removed_on").lt(ctx.t_date()))),
        Measure::HeldNow { bits } => ctx.count(licence_current().and(bits_mask(decl, bits))).gt(lit(0.0)).cast(DataType::Float64),
        Measure::HeldCount => ctx.count(licence_current()),
        Measure::LapsedTypes => col("licence_type")
            .filter(ctx.known().and(licence_current().not()).and(col(TYPE_HELD).not()))
            .n_unique()
            .cast(DataType::Float64),
        Measure::RevokedWithin(days) => ctx.count(
            ctx.known()
                .and(col("revoked_on").is_not_null())
                .and(col("revoked_on").lt(ctx.t_date()))
                .and(col("revoked_on").gt_eq(ctx.days_before(days))),
        ),
        Measure::Observed { stat, value: v, bits, window } => {
            let rows = ctx.window(window).and(bits_mask(decl, bits));
            let values = || decl.values[v].1.clone().cast(DataType::Float64);
            let valued = rows.clone().and(values().is_not_null());
            match stat {
                Stat::Last => values()
                    .filter(valued.clone())
                    .sort_by([col(ctx.date).filter(valued)], SortMultipleOptions::default().with_maintain_order(true))
                    .last(),
                Stat::Max => values().filter(valued).max(),
                Stat::Mean => values().filter(valued).mean(),
                Stat::DaysSince => lit(ctx.t as f64) - ctx.days(col(ctx.date).filter(rows).max()),
            }
        }
        Measure::ReportsDue => ctx.count(in_scope()),
        Measure::ReportsMissing => ctx.count(in_scope().and(filed().not())),
        Measure::ReportsLate => {
            let fy = || col("filed_on").dt().year();
            let after_due = fy().gt(col("year") + lit(1)).or(fy().eq(col("year") + lit(1)).and(col("filed_on").dt().month().gt(lit(6))));
            ctx.count(in_scope().and(filed()).and(after_due))
        }
    }
}

/// Licences: whether the row's subject holds a current licence of the row's type at T.
const TYPE_HELD: &str = "__type_held";

fn licence_current(ctx: &Ctx) -> Expr {
    ctx.known()
        .and(col("expires_on").is_null().or(col("expires_on").gt_eq(ctx.t_date())))
        .and(col("revoked_on").is_null().or(col("revoked_on").gt_eq(ctx.t_date())))
}

/// Features of one table as of `t` for every subject with rows: `sid` then the features.
pub fn evaluate(frame: &DataFrame, decl: &TableFeatures, t: i32) -> Result<DataFrame> {
    let ctx = Ctx {
        t,
        date: decl.date_column(),
        has_recorded: frame.schema().contains("recorded_on"),
    };
    let aggs: Vec<Expr> = decl.features.iter().map(|f| expr(decl, &f.measure, &ctx).alias(f.name())).collect();
    let mut rows = frame.clone().lazy();
    if decl.table == "licences" {
        rows = rows.with_columns([licence_current(&ctx).any(false).over([col(SID), col("licence_type")])?.alias(TYPE_HELD)]);
    }
    Ok(rows.group_by([col(SID)]).agg(aggs).collect()?)
}
