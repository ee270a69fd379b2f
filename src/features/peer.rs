//! Peer groups (industry section × region prefix): a separate pre-aggregation of per-subject
//! features into group statistics, joined back for empirical-Bayes rates and peer-relative
//! features. Under a distributed engine, the statistics are summed across buckets first.

use polars::prelude::*;

use super::subject::{PEER_REGION, PEER_SECTION};
use super::FeatureDoc;
use crate::error::Result;

fn doc(name: &str, family: &str, text: &str) -> FeatureDoc {
    FeatureDoc { name: name.into(), family: family.into(), doc: text.into() }
}

pub fn catalogue(present: &[&str]) -> Vec<FeatureDoc> {
    let mut out = Vec::new();
    if present.contains(&"inspections") {
        out.push(doc(
            "insp_violation_rate_eb",
            "inspections",
            "violations / inspections in the 1095 days before T, shrunk toward the peer group's rate (empirical Bayes, beta prior fitted by moments)",
        ));
        out.push(doc(
            "insp_random_violation_rate_eb",
            "inspections",
            "the same rate from `random` inspections only (unbiased), shrunk toward the peer group's random-inspection rate",
        ));
        out.push(doc("insp_violation_rate_vs_peer", "inspections", "insp_violation_rate_eb / the peer group's violation rate"));
    }
    if present.contains(&"complaints") {
        out.push(doc("cmp_365d_vs_peer", "complaints", "(complaints in 365 days + 0.5) / (peer-group mean + 0.5)"));
    }
    if present.contains(&"penalties") {
        out.push(doc("pen_365d_vs_peer", "penalties", "(penalties in 365 days + 0.5) / (peer-group mean + 0.5)"));
    }
    out
}

/// Prior strength m of a beta prior for rates v/n, by the method of moments over subjects with
/// n > 0: between-subject variance = observed variance − expected binomial variance.
pub fn prior_strength(v: &[f64], n: &[f64]) -> f64 {
    let (mut sv, mut sn, mut k) = (0.0, 0.0, 0.0);
    for (a, b) in v.iter().zip(n) {
        if *b > 0.0 {
            sv += a;
            sn += b;
            k += 1.0;
        }
    }
    if k < 2.0 || sn <= 0.0 {
        return 10.0;
    }
    let mu = sv / sn;
    let (mut var, mut binom) = (0.0, 0.0);
    for (a, b) in v.iter().zip(n) {
        if *b > 0.0 {
            var += (a / b - mu).powi(2);
            binom += mu * (1.0 - mu) / b;
        }
    }
    let between = (var - binom) / k;
    if between <= 1e-9 {
        return 1000.0;
    }
    (mu * (1.0 - mu) / between - 1.0).clamp(1.0, 1000.0)
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(df.column(name)?.f64()?.iter().map(|x| x.unwrap_or(0.0)).collect())
}

/// Group statistics per peer group: sums and means of the per-subject columns they need.
pub fn stats(df: &DataFrame, present: &[&str]) -> Result<DataFrame> {
    let mut aggs = vec![len().cast(DataType::Float64).alias("peer_subjects")];
    if present.contains(&"inspections") {
        aggs.extend([
            col("insp_violation_1095d").sum().alias("peer_violation"),
            col("insp_n_1095d").sum().alias("peer_inspections"),
            col("insp_random_violation_1095d").sum().alias("peer_random_violation"),
            col("insp_random_1095d").sum().alias("peer_random"),
        ]);
    }
    if present.contains(&"complaints") {
        aggs.push(col("cmp_n_365d").mean().alias("peer_complaints_mean"));
    }
    if present.contains(&"penalties") {
        aggs.push(col("pen_n_365d").mean().alias("peer_penalties_mean"));
    }
    Ok(df.clone().lazy().group_by([col(PEER_SECTION), col(PEER_REGION)]).agg(aggs).collect()?)
}

/// Adds the peer features to one as-of date's per-subject frame.
pub fn add(df: DataFrame, present: &[&str], _opts: &super::FeatureOptions) -> Result<DataFrame> {
    let groups = stats(&df, present)?;
    let mut lf = df.clone().lazy().join(
        groups.lazy(),
        [col(PEER_SECTION), col(PEER_REGION)],
        [col(PEER_SECTION), col(PEER_REGION)],
        JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
    );
    if present.contains(&"inspections") {
        let m_all = prior_strength(&f64_values(&df, "insp_violation_1095d")?, &f64_values(&df, "insp_n_1095d")?);
        let m_rand = prior_strength(&f64_values(&df, "insp_random_violation_1095d")?, &f64_values(&df, "insp_random_1095d")?);
        // The peer rate itself is lightly smoothed (+1 / +2) so an empty group never divides by zero.
        let peer_rate = (col("peer_violation") + lit(1.0)) / (col("peer_inspections") + lit(2.0));
        let peer_random_rate = (col("peer_random_violation") + lit(1.0)) / (col("peer_random") + lit(2.0));
        let eb = (col("insp_violation_1095d") + lit(m_all) * peer_rate.clone()) / (col("insp_n_1095d") + lit(m_all));
        lf = lf.with_columns([
            eb.clone().alias("insp_violation_rate_eb"),
            ((col("insp_random_violation_1095d") + lit(m_rand) * peer_random_rate) / (col("insp_random_1095d") + lit(m_rand)))
                .alias("insp_random_violation_rate_eb"),
            (eb / peer_rate).alias("insp_violation_rate_vs_peer"),
        ]);
    }
    if present.contains(&"complaints") {
        lf = lf.with_column(((col("cmp_n_365d") + lit(0.5)) / (col("peer_complaints_mean") + lit(0.5))).alias("cmp_365d_vs_peer"));
    }
    if present.contains(&"penalties") {
        lf = lf.with_column(((col("pen_n_365d") + lit(0.5)) / (col("peer_penalties_mean") + lit(0.5))).alias("pen_365d_vs_peer"));
    }
    Ok(lf.collect()?)
}
