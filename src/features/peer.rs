//! Peer groups (industry section × region prefix): a separate pre-aggregation of per-subject
//! features into group statistics, joined back for empirical-Bayes rates and peer-relative
//! features. Under a distributed engine, the statistics are summed across buckets first.

use polars::prelude::*;

use super::spec::{windowed_name, Feature, Label, COMPLAINTS, INSPECTIONS, PENALTIES};
use super::subject::{PEER_REGION, PEER_SECTION};
use super::FeatureOptions;
use crate::error::Result;

/// The per-subject columns the peer features read, named by the options' windows.
struct Inputs {
    violations: String,
    inspections: String,
    random_violations: String,
    random: String,
    complaints: String,
    penalties: String,
}

impl Inputs {
    fn new(opts: &FeatureOptions) -> Self {
        let (recent, history) = (opts.recent_days, opts.history_days);
        Inputs {
            violations: windowed_name("insp_violation", history),
            inspections: windowed_name("insp_n", history),
            random_violations: windowed_name("insp_random_violation", history),
            random: windowed_name("insp_random", history),
            complaints: windowed_name("cmp_n", recent),
            penalties: windowed_name("pen_n", recent),
        }
    }
}

fn complaints_vs_peer(opts: &FeatureOptions) -> String {
    format!("cmp_{}d_vs_peer", opts.recent_days)
}

fn penalties_vs_peer(opts: &FeatureOptions) -> String {
    format!("pen_{}d_vs_peer", opts.recent_days)
}

pub fn catalogue(present: &[&str], opts: &FeatureOptions) -> Vec<Feature> {
    let (recent, history) = (opts.recent_days, opts.history_days);
    let mut out = Vec::new();
    if present.contains(&"inspections") {
        let mut rate = Feature::new(
            "insp_violation_rate_eb",
            &INSPECTIONS,
            format!("violations / inspections in the {history} days before T, shrunk toward the peer group's rate (empirical Bayes, beta prior fitted by moments)"),
            Label::new("检查违法率(同业收缩估计)", "violation rate of inspections (shrunk toward peers)"),
        );
        rate.increasing();
        out.push(rate);
        out.push(Feature::new(
            "insp_random_violation_rate_eb",
            &INSPECTIONS,
            "the same rate from `random` inspections only (unbiased), shrunk toward the peer group's random-inspection rate",
            Label::new("双随机抽查违法率(同业收缩估计)", "violation rate of random inspections (shrunk toward peers)"),
        ));
        let mut relative = Feature::new(
            "insp_violation_rate_vs_peer",
            &INSPECTIONS,
            "insp_violation_rate_eb / the peer group's violation rate",
            Label::new("检查违法率相对同业", "violation rate relative to peers"),
        );
        relative.increasing();
        out.push(relative);
    }
    if present.contains(&"complaints") {
        out.push(Feature::new(
            complaints_vs_peer(opts),
            &COMPLAINTS,
            format!("(complaints in {recent} days + 0.5) / (peer-group mean + 0.5)"),
            Label::windowed(recent, "投诉相对同业", "complaints relative to peers"),
        ));
    }
    if present.contains(&"penalties") {
        out.push(Feature::new(
            penalties_vs_peer(opts),
            &PENALTIES,
            format!("(penalties in {recent} days + 0.5) / (peer-group mean + 0.5)"),
            Label::windowed(recent, "处罚相对同业", "penalties relative to peers"),
        ));
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
pub fn stats(df: &DataFrame, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let i = Inputs::new(opts);
    let mut aggs = vec![len().cast(DataType::Float64).alias("peer_subjects")];
    if present.contains(&"inspections") {
        aggs.extend([
            col(&i.violations).sum().alias("peer_violation"),
            col(&i.inspections).sum().alias("peer_inspections"),
            col(&i.random_violations).sum().alias("peer_random_violation"),
            col(&i.random).sum().alias("peer_random"),
        ]);
    }
    if present.contains(&"complaints") {
        aggs.push(col(&i.complaints).mean().alias("peer_complaints_mean"));
    }
    if present.contains(&"penalties") {
        aggs.push(col(&i.penalties).mean().alias("peer_penalties_mean"));
    }
    Ok(df.clone().lazy().group_by([col(PEER_SECTION), col(PEER_REGION)]).agg(aggs).collect()?)
}

/// Adds the peer features to one as-of date's per-subject frame.
pub fn add(df: DataFrame, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let groups = stats(&df, present, opts)?;
    let i = Inputs::new(opts);
    let mut lf = df.clone().lazy().join(
        groups.lazy(),
        [col(PEER_SECTION), col(PEER_REGION)],
        [col(PEER_SECTION), col(PEER_REGION)],
        JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
    );
    if present.contains(&"inspections") {
        let m_all = prior_strength(&f64_values(&df, &i.violations)?, &f64_values(&df, &i.inspections)?);
        let m_rand = prior_strength(&f64_values(&df, &i.random_violations)?, &f64_values(&df, &i.random)?);
        // The peer rate itself is lightly smoothed (+1 / +2) so an empty group never divides by zero.
        let peer_rate = (col("peer_violation") + lit(1.0)) / (col("peer_inspections") + lit(2.0));
        let peer_random_rate = (col("peer_random_violation") + lit(1.0)) / (col("peer_random") + lit(2.0));
        let eb = (col(&i.violations) + lit(m_all) * peer_rate.clone()) / (col(&i.inspections) + lit(m_all));
        lf = lf.with_columns([
            eb.clone().alias("insp_violation_rate_eb"),
            ((col(&i.random_violations) + lit(m_rand) * peer_random_rate) / (col(&i.random) + lit(m_rand)))
                .alias("insp_random_violation_rate_eb"),
            (eb / peer_rate).alias("insp_violation_rate_vs_peer"),
        ]);
    }
    if present.contains(&"complaints") {
        lf = lf.with_column(((col(&i.complaints) + lit(0.5)) / (col("peer_complaints_mean") + lit(0.5))).alias(complaints_vs_peer(opts)));
    }
    if present.contains(&"penalties") {
        lf = lf.with_column(((col(&i.penalties) + lit(0.5)) / (col("peer_penalties_mean") + lit(0.5))).alias(penalties_vs_peer(opts)));
    }
    Ok(lf.collect()?)
}
