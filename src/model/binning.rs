//! Monotone optimal binning of one feature on training rows, and its weight of evidence (WoE).
//!
//! Numeric: fine pre-bins at weighted quantiles of the distinct values, then adjacent bins
//! merged until the smoothed bad rate is strictly monotone in the feature's direction (pool
//! adjacent violators, the maximum-likelihood monotone fit) and every bin holds at least
//! `min_bin_share` of the feature's non-missing rows. Cut points are upper-inclusive: with cuts
//! c₁ < … < c_{K−1}, bin k holds c_{k−1} < x ≤ c_k (c₀ = −∞, c_K = +∞), at fit and at scoring
//! alike. Missing values (null, NaN, ±∞) have a bin of their own. Categorical: one bin per level
//! holding at least `min_bin_share` of the non-missing rows, the rarer levels in an `other` bin
//! that also takes levels never seen in training; null in the missing bin.
//!
//! WoE of bin b = ln((pos_b + m·p̄) / (P + B·m·p̄)) − ln((neg_b + m·(1−p̄)) / (N + B·m·(1−p̄))):
//! each bin gets m pseudo-rows (`smoothing`) split by the overall positive rate p̄ = P/(P+N), over
//! the feature's B bins. A pure bin is finite; an empty bin (no missing value, no rare level in
//! training) comes out at exactly 0 — the overall rate, no evidence either way — by the formula
//! itself. Positive WoE = riskier than average.

use crate::error::{Error, Result};
use crate::features::Direction;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BinningOptions {
    /// Pre-bins at quantiles of the non-missing values before any merge.
    pub pre_bins: usize,
    /// The least share of a feature's non-missing (weighted) training rows a bin — numeric
    /// interval or categorical level — holds; rarer levels go to `other`.
    pub min_bin_share: f64,
    /// Pseudo-rows m added to each bin, split by the overall positive rate (see the module doc).
    pub smoothing: f64,
}

impl Default for BinningOptions {
    fn default() -> Self {
        Self { pre_bins: 20, min_bin_share: 0.05, smoothing: 1.0 }
    }
}

impl BinningOptions {
    pub fn check(&self) -> Result<()> {
        if !(2..=1000).contains(&self.pre_bins) {
            return Err(Error::BadArgument(format!("binning pre_bins must be 2 to 1000, got {}", self.pre_bins)));
        }
        if !(self.min_bin_share > 0.0 && self.min_bin_share <= 0.5) {
            return Err(Error::BadArgument(format!("binning min_bin_share must be in (0, 0.5], got {}", self.min_bin_share)));
        }
        if !(self.smoothing.is_finite() && self.smoothing > 0.0) {
            return Err(Error::BadArgument(format!("binning smoothing must be positive, got {}", self.smoothing)));
        }
        Ok(())
    }
}

/// Which values a bin holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "bin", rename_all = "snake_case")]
pub enum BinRange {
    /// lower < x ≤ upper; null = unbounded.
    Interval { lower: Option<f64>, upper: Option<f64> },
    /// These categorical levels.
    Levels { levels: Vec<String> },
    /// The categorical levels too rare for a bin of their own (listed), and any level not seen
    /// in training.
    Other { levels: Vec<String> },
    /// Null, NaN or ±∞ (numeric); null (categorical).
    Missing,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bin {
    #[serde(flatten)]
    pub range: BinRange,
    /// Training rows (weighted) in the bin, and of them positive.
    pub rows: f64,
    pub positives: f64,
    pub woe: f64,
    /// The bin's points in the scorecard (`points::PointsPart`; 0 until scaled).
    #[serde(default)]
    pub points: f64,
}

impl Bin {
    /// A short label: `(-inf, 3]`, `(3, 7]`, `(7, +inf)`, `=A`, `other`, `missing`.
    pub fn label(&self) -> String {
        match &self.range {
            BinRange::Interval { lower, upper } => {
                let lo = lower.map_or("-inf".to_string(), |v| format!("{v}"));
                match upper {
                    Some(u) => format!("({lo}, {u}]"),
                    None => format!("({lo}, +inf)"),
                }
            }
            BinRange::Levels { levels } => format!("={}", levels.join("|")),
            BinRange::Other { .. } => "other".into(),
            BinRange::Missing => "missing".into(),
        }
    }
}

/// How the direction of a numeric feature's binning was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionSource {
    /// The feature registry declares it.
    Registry,
    /// None declared: the sign of the training rows' correlation between the pre-bin order and
    /// the label (increasing when 0).
    Correlation,
    /// Categorical: levels are not ordered.
    Unordered,
}

/// A feature's fitted bins: intervals (ascending) or levels then `other`, and last the missing bin.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureBins {
    pub feature: String,
    /// Increasing or decreasing: WoE rises or falls with the value (numeric); none (categorical).
    pub direction: Direction,
    pub direction_source: DirectionSource,
    /// Numeric: the upper-inclusive cut points, ascending (bin k holds cuts[k−1] < x ≤ cuts[k]).
    #[serde(default)]
    pub cuts: Vec<f64>,
    pub bins: Vec<Bin>,
}

/// A feature's training values.
pub enum Values<'a> {
    Numeric(&'a [Option<f64>]),
    Categorical(&'a [Option<String>]),
}

/// Weighted positive and negative counts.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    positives: f64,
    negatives: f64,
}

impl Tally {
    fn rows(&self) -> f64 {
        self.positives + self.negatives
    }
    fn add(&mut self, y: bool, w: f64) {
        if y {
            self.positives += w;
        } else {
            self.negatives += w;
        }
    }
    fn merged(self, o: Tally) -> Tally {
        Tally { positives: self.positives + o.positives, negatives: self.negatives + o.negatives }
    }
}

/// Smoothed WoE of every tally (over all the feature's bins, missing included).
fn woe(tallies: &[Tally], smoothing: f64) -> Vec<f64> {
    let p: f64 = tallies.iter().map(|t| t.positives).sum();
    let n: f64 = tallies.iter().map(|t| t.negatives).sum();
    let rate = if p + n > 0.0 { p / (p + n) } else { 0.5 };
    let b = tallies.len() as f64;
    let (mp, mn) = (smoothing * rate, smoothing * (1.0 - rate));
    tallies.iter().map(|t| ((t.positives + mp) / (p + b * mp)).ln() - ((t.negatives + mn) / (n + b * mn)).ln()).collect()
}

/// The bin index of a numeric value among `cuts` (the last index for a missing value).
pub fn numeric_bin(cuts: &[f64], x: Option<f64>) -> usize {
    match x.filter(|v| v.is_finite()) {
        Some(v) => cuts.partition_point(|c| *c < v),
        None => cuts.len() + 1,
    }
}

impl FeatureBins {
    /// The bin of every value (the same rule as at fit).
    pub fn assign(&self, values: &Values) -> Vec<usize> {
        match values {
            Values::Numeric(v) => v.iter().map(|x| numeric_bin(&self.cuts, *x)).collect(),
            Values::Categorical(v) => {
                let mut of_level: std::collections::HashMap<&str, usize> = Default::default();
                let mut other = 0;
                for (i, b) in self.bins.iter().enumerate() {
                    match &b.range {
                        BinRange::Levels { levels } => levels.iter().for_each(|l| {
                            of_level.insert(l, i);
                        }),
                        BinRange::Other { .. } => other = i,
                        _ => {}
                    }
                }
                let missing = self.bins.len() - 1;
                v.iter().map(|x| x.as_deref().map_or(missing, |l| of_level.get(l).copied().unwrap_or(other))).collect()
            }
        }
    }

    pub fn woe_of(&self, values: &Values) -> Vec<f64> {
        self.assign(values).into_iter().map(|b| self.bins[b].woe).collect()
    }

    pub fn missing(&self) -> &Bin {
        self.bins.last().expect("a missing bin")
    }
}

/// Smoothed bad rate, monotone in WoE for a fixed number of bins.
fn rate(t: &Tally, prior: f64, smoothing: f64) -> f64 {
    (t.positives + smoothing * prior) / (t.rows() + smoothing)
}

/// Pool adjacent violators: merges adjacent bins until the smoothed rate strictly rises
/// (`sign` = 1) or falls (−1) bin after bin.
fn pool_adjacent_violators(bins: &mut Vec<(Tally, usize)>, sign: f64, prior: f64, smoothing: f64) {
    let mut out: Vec<(Tally, usize)> = Vec::with_capacity(bins.len());
    for &b in bins.iter() {
        out.push(b);
        while out.len() > 1 {
            let k = out.len() - 1;
            // Rates within rounding of each other are equal: their WoE could print the same.
            let (r, previous) = (rate(&out[k].0, prior, smoothing), rate(&out[k - 1].0, prior, smoothing));
            if sign * (r - previous) > 1e-12 * (r.abs() + previous.abs()) {
                break;
            }
            let last = out.pop().expect("two bins");
            let prev = out.last_mut().expect("two bins");
            *prev = (prev.0.merged(last.0), last.1);
        }
    }
    *bins = out;
}

/// Merges the smallest bin below `min_rows` into its neighbour with the closer rate, until none is.
fn merge_small(bins: &mut Vec<(Tally, usize)>, min_rows: f64, prior: f64, smoothing: f64) {
    while bins.len() > 1 {
        let Some((k, _)) = bins.iter().enumerate().filter(|(_, b)| b.0.rows() < min_rows).min_by(|a, b| a.1.0.rows().total_cmp(&b.1.0.rows())) else { break };
        let r = |i: usize| rate(&bins[i].0, prior, smoothing);
        let into = if k == 0 {
            1
        } else if k + 1 == bins.len() || (r(k) - r(k - 1)).abs() <= (r(k + 1) - r(k)).abs() {
            k - 1
        } else {
            k + 1
        };
        let (lo, hi) = (k.min(into), k.max(into));
        bins[lo] = (bins[lo].0.merged(bins[hi].0), bins[hi].1);
        bins.remove(hi);
    }
}

/// Bins one feature on training rows. `direction`: the registry's (numeric features without one
/// take the sign of their correlation with the label). `weights`: row weights (None = 1).
pub fn fit(feature: &str, values: Values, y: &[bool], weights: Option<&[f64]>, direction: Direction, opts: &BinningOptions) -> Result<FeatureBins> {
    opts.check()?;
    let n = match &values {
        Values::Numeric(v) => v.len(),
        Values::Categorical(v) => v.len(),
    };
    if y.len() != n || weights.is_some_and(|w| w.len() != n) {
        return Err(Error::Internal(format!("binning {feature}: {n} values but {} labels", y.len())));
    }
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let mut overall = Tally::default();
    (0..n).for_each(|i| overall.add(y[i], weight(i)));
    if !(overall.positives > 0.0 && overall.negatives > 0.0) {
        return Err(Error::BadArgument(format!("binning {feature} needs both outcomes among the (weighted) training rows")));
    }
    let prior = overall.positives / overall.rows();
    match values {
        Values::Numeric(v) => {
            // Distinct finite values, ascending, with their weight: the pre-bin cuts sit on them.
            let mut present: Vec<(f64, f64)> = (0..n).filter_map(|i| v[i].filter(|x| x.is_finite()).map(|x| (x, weight(i)))).collect();
            present.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut distinct: Vec<(f64, f64)> = Vec::new();
            for (x, w) in present {
                match distinct.last_mut() {
                    Some(last) if last.0 == x => last.1 += w,
                    _ => distinct.push((x, w)),
                }
            }
            let total: f64 = distinct.iter().map(|d| d.1).sum();
            let mut cuts: Vec<f64> = Vec::new();
            let mut cumulative = 0.0;
            let mut k = 1;
            for (i, (x, w)) in distinct.iter().enumerate() {
                cumulative += w;
                // The smallest value whose cumulative share reaches k / pre_bins ends pre-bin k;
                // never the largest value (its bin would be empty).
                let mut reached = false;
                while k < opts.pre_bins && cumulative >= total * k as f64 / opts.pre_bins as f64 {
                    reached = true;
                    k += 1;
                }
                if reached && i + 1 < distinct.len() {
                    cuts.push(*x);
                }
            }
            let mut tallies = vec![Tally::default(); cuts.len() + 2];
            for i in 0..n {
                tallies[numeric_bin(&cuts, v[i])].add(y[i], weight(i));
            }
            let missing = tallies.pop().expect("the missing bin");
            let (direction, source) = match direction {
                Direction::None => {
                    // Weighted correlation of the pre-bin index with the label.
                    let (mut sw, mut sx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0);
                    for (j, t) in tallies.iter().enumerate() {
                        let x = j as f64;
                        sw += t.rows();
                        sx += t.rows() * x;
                        sy += t.positives;
                        sxy += t.positives * x;
                    }
                    let covariance = sxy - sx * sy / sw.max(f64::MIN_POSITIVE);
                    (if covariance < 0.0 { Direction::Decreasing } else { Direction::Increasing }, DirectionSource::Correlation)
                }
                d => (d, DirectionSource::Registry),
            };
            let sign = if direction == Direction::Decreasing { -1.0 } else { 1.0 };
            // (tally, index of the pre-bin that ends the bin): a merged bin keeps its last cut.
            let mut bins: Vec<(Tally, usize)> = tallies.into_iter().enumerate().map(|(j, t)| (t, j)).collect();
            let min_rows = opts.min_bin_share * total;
            loop {
                let before = bins.len();
                pool_adjacent_violators(&mut bins, sign, prior, opts.smoothing);
                merge_small(&mut bins, min_rows, prior, opts.smoothing);
                if bins.len() == before {
                    break;
                }
            }
            let final_cuts: Vec<f64> = bins[..bins.len() - 1].iter().map(|(_, j)| cuts[*j]).collect();
            let mut all: Vec<Tally> = bins.iter().map(|b| b.0).collect();
            all.push(missing);
            let w = woe(&all, opts.smoothing);
            let mut out = Vec::with_capacity(all.len());
            for (k, t) in all.iter().enumerate() {
                let range = if k + 1 == all.len() {
                    BinRange::Missing
                } else {
                    BinRange::Interval { lower: k.checked_sub(1).map(|j| final_cuts[j]), upper: final_cuts.get(k).copied() }
                };
                out.push(Bin { range, rows: t.rows(), positives: t.positives, woe: w[k], points: 0.0 });
            }
            Ok(FeatureBins { feature: feature.into(), direction, direction_source: source, cuts: final_cuts, bins: out })
        }
        Values::Categorical(v) => {
            let mut levels: std::collections::BTreeMap<&str, Tally> = Default::default();
            let mut missing = Tally::default();
            for i in 0..n {
                match v[i].as_deref() {
                    Some(l) => levels.entry(l).or_default().add(y[i], weight(i)),
                    None => missing.add(y[i], weight(i)),
                }
            }
            let total: f64 = levels.values().map(Tally::rows).sum();
            let mut ranges = Vec::new();
            let mut all = Vec::new();
            let (mut other, mut rare) = (Tally::default(), Vec::new());
            for (l, t) in levels {
                if t.rows() >= opts.min_bin_share * total {
                    ranges.push(BinRange::Levels { levels: vec![l.to_string()] });
                    all.push(t);
                } else {
                    other = other.merged(t);
                    rare.push(l.to_string());
                }
            }
            ranges.push(BinRange::Other { levels: rare });
            all.push(other);
            ranges.push(BinRange::Missing);
            all.push(missing);
            let w = woe(&all, opts.smoothing);
            let bins = ranges.into_iter().zip(&all).zip(w).map(|((range, t), woe)| Bin { range, rows: t.rows(), positives: t.positives, woe, points: 0.0 }).collect();
            Ok(FeatureBins { feature: feature.into(), direction: Direction::None, direction_source: DirectionSource::Unordered, cuts: Vec::new(), bins })
        }
    }
}
