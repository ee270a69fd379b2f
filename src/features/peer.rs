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

/// The sufficient statistic of the prior strength m of a beta prior for rates v/n (method of
/// moments over subjects with n > 0: between-subject variance = observed variance − expected
/// binomial variance): how many subjects have each (v, n) pair
/// with n > 0. Counts add exactly, and the strength is computed over the pairs in order, so
/// it is the same number however the subjects were split into buckets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateMoments {
    pairs: std::collections::BTreeMap<(u64, u64), u64>,
}

impl RateMoments {
    fn add(&mut self, v: &[f64], n: &[f64]) {
        for (a, b) in v.iter().zip(n) {
            if *b > 0.0 {
                // Counts are non-negative, so their bit patterns sort like their values.
                *self.pairs.entry((a.to_bits(), b.to_bits())).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: &RateMoments) {
        for (k, c) in &other.pairs {
            *self.pairs.entry(*k).or_default() += c;
        }
    }

    fn prior_strength(&self) -> f64 {
        let pairs = || self.pairs.iter().map(|((a, b), c)| (f64::from_bits(*a), f64::from_bits(*b), *c as f64));
        let (mut sv, mut sn, mut k) = (0.0, 0.0, 0.0);
        for (a, b, c) in pairs() {
            sv += c * a;
            sn += c * b;
            k += c;
        }
        if k < 2.0 || sn <= 0.0 {
            return 10.0;
        }
        let mu = sv / sn;
        let (mut var, mut binom) = (0.0, 0.0);
        for (a, b, c) in pairs() {
            var += c * (a / b - mu).powi(2);
            binom += c * mu * (1.0 - mu) / b;
        }
        let between = (var - binom) / k;
        if between <= 1e-9 {
            return 1000.0;
        }
        (mu * (1.0 - mu) / between - 1.0).clamp(1.0, 1000.0)
    }
}

fn f64_values(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(df.column(name)?.f64()?.iter().map(|x| x.unwrap_or(0.0)).collect())
}

/// A sum and a count of the non-null values of one column within a group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sum {
    sum: f64,
    n: u64,
}

/// The names of a group's sums, in [`GroupSums`] order.
const SUMMED: [&str; 7] = ["subjects", "violations", "inspections", "random_violations", "random", "complaints", "penalties"];

/// Per peer group: subjects, then the summed columns (violations, inspections, random-inspection
/// violations, random inspections, complaints, penalties).
type GroupSums = [Sum; 7];

/// Peer statistics of some subjects, mergeable across buckets: per group the counts' sums (whole
/// numbers, which add exactly in any order) and the moments of the prior strengths. Merging the
/// partials of every bucket gives the statistics of the whole population bit for bit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerStats {
    groups: std::collections::BTreeMap<(Option<String>, Option<String>), GroupSums>,
    all: RateMoments,
    random: RateMoments,
}

impl PeerStats {
    /// The partial statistics of one as-of date's per-subject frame (one bucket of subjects).
    pub fn partial(df: &DataFrame, present: &[&str], opts: &FeatureOptions) -> Result<PeerStats> {
        let i = Inputs::new(opts);
        let section = df.column(PEER_SECTION)?.str()?;
        let region = df.column(PEER_REGION)?.str()?;
        let columns: Vec<Option<&Float64Chunked>> = [
            (&i.violations, "inspections"),
            (&i.inspections, "inspections"),
            (&i.random_violations, "inspections"),
            (&i.random, "inspections"),
            (&i.complaints, "complaints"),
            (&i.penalties, "penalties"),
        ]
        .into_iter()
        .map(|(name, table)| if present.contains(&table) { df.column(name)?.f64().map(Some).map_err(Into::into) } else { Ok(None) })
        .collect::<Result<_>>()?;
        let values: Vec<Option<Vec<Option<f64>>>> = columns.iter().map(|c| c.map(|c| c.iter().collect())).collect();
        let mut out = PeerStats::default();
        for (row, (s, r)) in section.iter().zip(region.iter()).enumerate() {
            let g = out.groups.entry((s.map(str::to_string), r.map(str::to_string))).or_default();
            g[0].n += 1;
            for (k, v) in values.iter().enumerate() {
                if let Some(x) = v.as_ref().and_then(|v| v[row]) {
                    g[k + 1].sum += x;
                    g[k + 1].n += 1;
                }
            }
        }
        if present.contains(&"inspections") {
            out.all.add(&f64_values(df, &i.violations)?, &f64_values(df, &i.inspections)?);
            out.random.add(&f64_values(df, &i.random_violations)?, &f64_values(df, &i.random)?);
        }
        Ok(out)
    }

    pub fn merge(&mut self, other: &PeerStats) {
        for (k, g) in &other.groups {
            let e = self.groups.entry(k.clone()).or_default();
            for (a, b) in e.iter_mut().zip(g) {
                a.sum += b.sum;
                a.n += b.n;
            }
        }
        self.all.merge(&other.all);
        self.random.merge(&other.random);
    }

    /// The statistics as two frames an engine can sum: `groups` (industry_section,
    /// __peer_region, then per summed column `<name>_sum` and `<name>_n`) and `moments`
    /// (`kind` all|random, `violations`, `inspections`, `subjects`). Summing the rows of equal
    /// keys over any set of partials and reading them back ([`PeerStats::from_frames`]) is
    /// [`PeerStats::merge`].
    pub fn to_frames(&self) -> Result<(DataFrame, DataFrame)> {
        let keys: Vec<&(Option<String>, Option<String>)> = self.groups.keys().collect();
        let mut columns = vec![
            Column::new(PEER_SECTION.into(), keys.iter().map(|k| k.0.as_deref()).collect::<Vec<_>>()),
            Column::new(PEER_REGION.into(), keys.iter().map(|k| k.1.as_deref()).collect::<Vec<_>>()),
        ];
        for (k, name) in SUMMED.iter().enumerate() {
            columns.push(Column::new(format!("{name}_sum").into(), self.groups.values().map(|g| g[k].sum).collect::<Vec<f64>>()));
            columns.push(Column::new(format!("{name}_n").into(), self.groups.values().map(|g| g[k].n).collect::<Vec<u64>>()));
        }
        let groups = DataFrame::new(keys.len(), columns)?;
        let mut kind = Vec::new();
        let (mut v, mut n, mut count) = (Vec::new(), Vec::new(), Vec::new());
        for (name, m) in [("all", &self.all), ("random", &self.random)] {
            for ((a, b), c) in &m.pairs {
                kind.push(name);
                v.push(f64::from_bits(*a));
                n.push(f64::from_bits(*b));
                count.push(*c);
            }
        }
        let moments = DataFrame::new(kind.len(), vec![
            Column::new("kind".into(), kind),
            Column::new("violations".into(), v),
            Column::new("inspections".into(), n),
            Column::new("subjects".into(), count),
        ])?;
        Ok((groups, moments))
    }

    /// Statistics from frames of [`PeerStats::to_frames`]'s form (rows of equal keys are added).
    pub fn from_frames(groups: &DataFrame, moments: &DataFrame) -> Result<PeerStats> {
        let mut out = PeerStats::default();
        let section = groups.column(PEER_SECTION)?.str()?;
        let region = groups.column(PEER_REGION)?.str()?;
        let mut sums: Vec<(Vec<Option<f64>>, Vec<Option<u64>>)> = Vec::new();
        for name in SUMMED {
            sums.push((
                groups.column(&format!("{name}_sum"))?.cast(&DataType::Float64)?.f64()?.iter().collect(),
                groups.column(&format!("{name}_n"))?.cast(&DataType::UInt64)?.u64()?.iter().collect(),
            ));
        }
        for (row, (s, r)) in section.iter().zip(region.iter()).enumerate() {
            let g = out.groups.entry((s.map(str::to_string), r.map(str::to_string))).or_default();
            for (k, (sum, n)) in sums.iter().enumerate() {
                g[k].sum += sum[row].unwrap_or(0.0);
                g[k].n += n[row].unwrap_or(0);
            }
        }
        let kind = moments.column("kind")?.str()?;
        let v = moments.column("violations")?.cast(&DataType::Float64)?;
        let n = moments.column("inspections")?.cast(&DataType::Float64)?;
        let c = moments.column("subjects")?.cast(&DataType::UInt64)?;
        for (((k, a), b), c) in kind.iter().zip(v.f64()?.iter()).zip(n.f64()?.iter()).zip(c.u64()?.iter()) {
            let target = match k {
                Some("all") => &mut out.all,
                Some("random") => &mut out.random,
                other => return Err(crate::error::Error::BadArgument(format!("peer moments: kind {other:?} is neither `all` nor `random`"))),
            };
            let (Some(a), Some(b), Some(c)) = (a, b, c) else { continue };
            if !(b > 0.0 && a >= 0.0 && a.is_finite() && b.is_finite()) {
                return Err(crate::error::Error::BadArgument(format!("peer moments: ({a}, {b}) is not a count of violations and a positive count of inspections")));
            }
            *target.pairs.entry((a.to_bits(), b.to_bits())).or_default() += c;
        }
        Ok(out)
    }

    /// Group statistics per peer group: sums and means of the per-subject columns they need.
    fn frame(&self, present: &[&str]) -> Result<DataFrame> {
        let keys: Vec<&(Option<String>, Option<String>)> = self.groups.keys().collect();
        let groups: Vec<&GroupSums> = self.groups.values().collect();
        let sum = |k: usize| groups.iter().map(|g| g[k].sum).collect::<Vec<f64>>();
        let mean = |k: usize| groups.iter().map(|g| (g[k].n > 0).then(|| g[k].sum / g[k].n as f64)).collect::<Vec<Option<f64>>>();
        let mut columns = vec![
            Column::new(PEER_SECTION.into(), keys.iter().map(|k| k.0.as_deref()).collect::<Vec<_>>()),
            Column::new(PEER_REGION.into(), keys.iter().map(|k| k.1.as_deref()).collect::<Vec<_>>()),
            Column::new("peer_subjects".into(), groups.iter().map(|g| g[0].n as f64).collect::<Vec<_>>()),
        ];
        if present.contains(&"inspections") {
            columns.extend([
                Column::new("peer_violation".into(), sum(1)),
                Column::new("peer_inspections".into(), sum(2)),
                Column::new("peer_random_violation".into(), sum(3)),
                Column::new("peer_random".into(), sum(4)),
            ]);
        }
        if present.contains(&"complaints") {
            columns.push(Column::new("peer_complaints_mean".into(), mean(5)));
        }
        if present.contains(&"penalties") {
            columns.push(Column::new("peer_penalties_mean".into(), mean(6)));
        }
        Ok(DataFrame::new(keys.len(), columns)?)
    }
}

/// Adds the peer features to one as-of date's per-subject frame, from the statistics of the
/// whole population (`stats`: the merged partials of every bucket).
pub fn add(df: DataFrame, stats: &PeerStats, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let groups = stats.frame(present)?;
    let i = Inputs::new(opts);
    let mut lf = df.lazy().join(
        groups.lazy(),
        [col(PEER_SECTION), col(PEER_REGION)],
        [col(PEER_SECTION), col(PEER_REGION)],
        JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
    );
    if present.contains(&"inspections") {
        let m_all = stats.all.prior_strength();
        let m_rand = stats.random.prior_strength();
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
