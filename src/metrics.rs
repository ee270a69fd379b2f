//! Ranking and calibration metrics for backtests: AUC, KS, Brier, precision and lift at the
//! top of the list, the share of positives in the first half, a calibration table, and the
//! population stability index (PSI) of a score or feature against a baseline distribution.
//! Ties in the score are handled exactly (average ranks; tied groups move together).

/// Indices ordered by score, highest first; ties broken by index so the order is deterministic.
fn order_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx
}

/// Area under the ROC curve (Mann–Whitney U with average ranks for ties); None without both classes.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += idx[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * avg;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Kolmogorov–Smirnov statistic: max over thresholds of TPR − FPR (tied scores move together).
pub fn ks(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let idx = order_desc(scores);
    let (mut tp, mut fp, mut best, mut i) = (0.0, 0.0, 0.0f64, 0);
    while i < idx.len() {
        let s = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == s {
            if labels[idx[i]] { tp += 1.0 } else { fp += 1.0 }
            i += 1;
        }
        best = best.max(tp / pos - fp / neg);
    }
    Some(best)
}

/// Mean squared error of probabilities against outcomes.
pub fn brier(probs: &[f64], labels: &[bool]) -> Option<f64> {
    (!probs.is_empty()).then(|| {
        probs.iter().zip(labels).map(|(p, &y)| (p - if y { 1.0 } else { 0.0 }).powi(2)).sum::<f64>() / probs.len() as f64
    })
}

/// Share of positives among the top `fraction` of the ranked list (at least one subject).
pub fn precision_at(scores: &[f64], labels: &[bool], fraction: f64) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let k = ((scores.len() as f64 * fraction).ceil() as usize).clamp(1, scores.len());
    let idx = order_desc(scores);
    Some(idx[..k].iter().filter(|&&i| labels[i]).count() as f64 / k as f64)
}

/// Precision at the top `fraction` divided by the base rate.
pub fn lift_at(scores: &[f64], labels: &[bool], fraction: f64) -> Option<f64> {
    let base = labels.iter().filter(|&&l| l).count() as f64 / labels.len().max(1) as f64;
    precision_at(scores, labels, fraction).filter(|_| base > 0.0).map(|p| p / base)
}

/// Share of all positives that fall in the first half of the ranked list.
pub fn positives_in_first_half(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return None;
    }
    let idx = order_desc(scores);
    let half = scores.len().div_ceil(2);
    Some(idx[..half].iter().filter(|&&i| labels[i]).count() as f64 / pos as f64)
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    pub bin: usize,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// Calibration by `bins` equal-count groups of the ranked list (lowest scores first).
pub fn calibration(probs: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let mut idx = order_desc(probs);
    idx.reverse();
    let n = idx.len();
    (0..bins)
        .filter_map(|b| {
            let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
            (hi > lo).then(|| {
                let part = &idx[lo..hi];
                CalibrationBin {
                    bin: b + 1,
                    count: part.len(),
                    mean_predicted: part.iter().map(|&i| probs[i]).sum::<f64>() / part.len() as f64,
                    observed_rate: part.iter().filter(|&&i| labels[i]).count() as f64 / part.len() as f64,
                }
            })
        })
        .collect()
}

/// A binned distribution of one variable (quantile edges from a baseline), for the population
/// stability index. Null values are a bin of their own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    /// Interior cut points, increasing; bin k holds edges[k-1] ≤ v < edges[k].
    pub edges: Vec<f64>,
    /// Share of baseline rows in each bin (edges.len() + 1 bins).
    pub shares: Vec<f64>,
    pub null_share: f64,
}

/// Counts per bin (nulls last) of values against edges.
fn bin_counts(edges: &[f64], values: &[Option<f64>]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() + 2];
    for v in values {
        match v.filter(|x| x.is_finite()) {
            Some(x) => counts[edges.partition_point(|e| *e <= x)] += 1.0,
            None => counts[edges.len() + 1] += 1.0,
        }
    }
    counts
}

impl Distribution {
    /// Quantile bins (at most `bins`, fewer when values repeat) fitted on baseline values.
    pub fn fit(values: &[Option<f64>], bins: usize) -> Distribution {
        let mut present: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        present.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = Vec::new();
        if !present.is_empty() {
            // Each edge sits halfway between a quantile and the next smaller distinct value, so
            // a point mass never lies on an edge (a tiny shift of it would swing the PSI).
            for k in 1..bins {
                let q = present[k * present.len() / bins];
                let first = present.partition_point(|x| *x < q);
                if first == 0 {
                    continue;
                }
                let e = (present[first - 1] + q) / 2.0;
                if edges.last().is_none_or(|l| *l < e) {
                    edges.push(e);
                }
            }
        }
        let counts = bin_counts(&edges, values);
        let n = values.len().max(1) as f64;
        let null_share = counts[edges.len() + 1] / n;
        let shares = counts[..=edges.len()].iter().map(|c| c / n).collect();
        Distribution { edges, shares, null_share }
    }

    /// Population stability index of `values` against this baseline: Σ (a − e) ln(a / e) over
    /// the bins and the null bin. Both sides are smoothed by half a row per bin (Laplace-style),
    /// so an empty bin gives a large but finite term, never infinity.
    pub fn psi(&self, values: &[Option<f64>], baseline_rows: usize) -> f64 {
        self.psi_of_counts(&self.counts(values), baseline_rows)
    }

    /// The rows of `values` per bin of this distribution, the null bin last: counts of parts of
    /// a population add up to the whole's ([`Distribution::psi_of_counts`]).
    pub fn counts(&self, values: &[Option<f64>]) -> Vec<f64> {
        bin_counts(&self.edges, values)
    }

    /// [`Distribution::psi`] of values counted per bin ([`Distribution::counts`]).
    pub fn psi_of_counts(&self, counts: &[f64], baseline_rows: usize) -> f64 {
        let bins = counts.len() as f64;
        let n: f64 = counts.iter().sum();
        let m = baseline_rows.max(1) as f64;
        let expected: Vec<f64> = self.shares.iter().copied().chain([self.null_share]).collect();
        counts
            .iter()
            .zip(expected)
            .map(|(c, e)| {
                let a = (c + 0.5) / (n + 0.5 * bins);
                let e = (e * m + 0.5) / (m + 0.5 * bins);
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}
