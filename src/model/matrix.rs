//! Features → model matrix: median imputation with a missing-value indicator, asinh (log-like
//! for large counts, near-identity around 0, defined for negative trends), standardisation
//! (clipped to ±10 standard deviations), and one-hot levels for categorical features. Fitted on
//! training rows and stored in the model, so scoring applies exactly the same transformation.

use ndarray::Array2;
use polars::prelude::*;

use crate::error::{Error, Result};

pub(crate) const CLIP: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MatrixColumn {
    /// (asinh(value, or `median` when null) − mean) / std, clipped to ±10.
    Numeric { feature: String, median: f64, mean: f64, std: f64 },
    /// 1 when the feature is null.
    Missing { feature: String },
    /// The value itself, NaN when null (trees split on raw values and route missing ones).
    Raw { feature: String },
    /// 1 when the categorical feature equals `level` (the most frequent level is the baseline).
    Level { feature: String, level: String },
    /// The weight of evidence of the feature's bin (points scorecard: the bins are the model's
    /// `points` part, which computes this column).
    Woe { feature: String },
}

impl MatrixColumn {
    pub fn name(&self) -> String {
        match self {
            MatrixColumn::Numeric { feature, .. } => feature.clone(),
            MatrixColumn::Missing { feature } => format!("{feature}__missing"),
            MatrixColumn::Raw { feature } => feature.clone(),
            MatrixColumn::Level { feature, level } => format!("{feature}={level}"),
            MatrixColumn::Woe { feature } => format!("{feature}__woe"),
        }
    }
    pub fn feature(&self) -> &str {
        match self {
            MatrixColumn::Numeric { feature, .. }
            | MatrixColumn::Missing { feature }
            | MatrixColumn::Raw { feature }
            | MatrixColumn::Level { feature, .. }
            | MatrixColumn::Woe { feature } => feature,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preprocessor {
    pub columns: Vec<MatrixColumn>,
}

/// Where a fit reads feature columns: a frame, or rows kept in parts ([`super::rows::Rows`]),
/// which are read one column at a time.
pub trait FeatureSource {
    fn rows(&self) -> usize;
    /// The column `name`; an error naming the feature when there is none.
    fn feature(&self, name: &str) -> Result<Column>;
}

pub(crate) fn missing_feature(name: &str) -> Error {
    Error::BadArgument(format!("feature `{name}` is missing from the data"))
}

impl FeatureSource for DataFrame {
    fn rows(&self) -> usize {
        self.height()
    }
    fn feature(&self, name: &str) -> Result<Column> {
        self.column(name).cloned().map_err(|_| missing_feature(name))
    }
}

fn f64_column(df: &dyn FeatureSource, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.feature(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

fn str_column(df: &dyn FeatureSource, name: &str) -> Result<Vec<Option<String>>> {
    Ok(df.feature(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

impl Preprocessor {
    /// Fits on training rows. Constant numeric features carry no information and are left out.
    pub fn fit(df: &dyn FeatureSource, numeric: &[String], categorical: &[String]) -> Result<Self> {
        let mut columns = Vec::new();
        for name in numeric {
            let values = f64_column(df, name)?;
            let mut present: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
            if present.is_empty() {
                continue;
            }
            present.sort_by(f64::total_cmp);
            let median = present[present.len() / 2];
            let filled: Vec<f64> = values.iter().map(|v| v.filter(|x| x.is_finite()).unwrap_or(median).asinh()).collect();
            let n = filled.len() as f64;
            let mean = filled.iter().sum::<f64>() / n;
            let std = (filled.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            if std > 0.0 {
                columns.push(MatrixColumn::Numeric { feature: name.clone(), median, mean, std });
            }
            if present.len() < values.len() {
                columns.push(MatrixColumn::Missing { feature: name.clone() });
            }
        }
        for name in categorical {
            let values = str_column(df, name)?;
            let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
            for v in values.iter().flatten() {
                *counts.entry(v.clone()).or_default() += 1;
            }
            let baseline = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.clone());
            for level in counts.keys().filter(|k| Some(*k) != baseline.as_ref()) {
                columns.push(MatrixColumn::Level { feature: name.clone(), level: level.clone() });
            }
        }
        Ok(Preprocessor { columns })
    }

    /// For trees: raw numeric values (features with at least two distinct values) and one-hot
    /// levels of categorical features.
    pub fn fit_raw(df: &dyn FeatureSource, numeric: &[String], categorical: &[String]) -> Result<Self> {
        let mut columns = Vec::new();
        for name in numeric {
            let values = f64_column(df, name)?;
            let mut present = values.iter().flatten().filter(|v| v.is_finite());
            if let Some(first) = present.next()
                && present.any(|v| v != first)
            {
                columns.push(MatrixColumn::Raw { feature: name.clone() });
            }
        }
        let levels = Self::fit(df, &[], categorical)?;
        columns.extend(levels.columns);
        Ok(Preprocessor { columns })
    }

    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(MatrixColumn::name).collect()
    }

    /// The input features this preprocessing reads, in first-use order.
    pub fn features(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.columns {
            if !out.iter().any(|f| f == c.feature()) {
                out.push(c.feature().to_string());
            }
        }
        out
    }

    /// The same matrix as [`Preprocessor::transform`], column-major in one flat vector (what the
    /// trees read), built one matrix column at a time: no row-major copy, and rows kept in parts
    /// ([`super::rows::Rows`]) are read one column at a time, so only the matrix is whole in memory.
    pub fn transform_column_major(&self, df: &dyn FeatureSource) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(df.rows() * self.columns.len());
        for j in 0..self.columns.len() {
            out.extend(self.column_values(j, df)?);
        }
        Ok(out)
    }

    /// Matrix column `j` of `df`.
    fn column_values(&self, j: usize, df: &dyn FeatureSource) -> Result<Vec<f64>> {
        let one = Preprocessor { columns: vec![self.columns[j].clone()] }.transform(df)?;
        Ok(one.into_raw_vec_and_offset().0)
    }

    pub fn transform(&self, df: &dyn FeatureSource) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros((df.rows(), self.columns.len()));
        for (j, c) in self.columns.iter().enumerate() {
            match c {
                MatrixColumn::Numeric { feature, median, mean, std } => {
                    for (i, v) in f64_column(df, feature)?.into_iter().enumerate() {
                        let v = v.filter(|x| x.is_finite()).unwrap_or(*median).asinh();
                        x[[i, j]] = ((v - mean) / std).clamp(-CLIP, CLIP);
                    }
                }
                MatrixColumn::Missing { feature } => {
                    for (i, v) in f64_column(df, feature)?.into_iter().enumerate() {
                        x[[i, j]] = if v.is_some_and(f64::is_finite) { 0.0 } else { 1.0 };
                    }
                }
                MatrixColumn::Raw { feature } => {
                    for (i, v) in f64_column(df, feature)?.into_iter().enumerate() {
                        x[[i, j]] = v.filter(|x| x.is_finite()).unwrap_or(f64::NAN);
                    }
                }
                MatrixColumn::Level { feature, level } => {
                    for (i, v) in str_column(df, feature)?.into_iter().enumerate() {
                        x[[i, j]] = if v.as_deref() == Some(level.as_str()) { 1.0 } else { 0.0 };
                    }
                }
                MatrixColumn::Woe { feature } => {
                    return Err(Error::Internal(format!("the WoE of `{feature}` needs the model's bins (Model::matrix)")));
                }
            }
        }
        Ok(x)
    }
}

/// A model matrix, column-major, each column stored as compactly as its values allow without
/// changing one: codes into its distinct values (one byte for up to 256 of them, two for up to
/// 65,536), else the values themselves. Counts and indicators, most of a scorecard's columns,
/// take one byte a row instead of eight; the scorecard's fit reads it block by block
/// ([`super::logistic::Blocks`]), so the whole matrix is never dense in memory.
pub struct CompactMatrix {
    rows: usize,
    columns: Vec<CompactColumn>,
}

enum CompactColumn {
    Dense(Vec<f64>),
    Byte { values: Vec<f64>, codes: Vec<u8> },
    Short { values: Vec<f64>, codes: Vec<u16> },
}

/// Hashes a value's bits by one multiplication: the keys are f64 bit patterns, not adversarial.
#[derive(Default)]
struct BitsHasher(u64);

impl std::hash::Hasher for BitsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        let h = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

impl CompactColumn {
    fn of(values: Vec<f64>) -> Self {
        let mut codes: std::collections::HashMap<u64, u16, std::hash::BuildHasherDefault<BitsHasher>> = Default::default();
        let mut distinct: Vec<f64> = Vec::new();
        let mut coded: Vec<u16> = Vec::with_capacity(values.len());
        let mut last: Option<(u64, u16)> = None;
        for &v in &values {
            let bits = v.to_bits();
            let code = match last {
                Some((b, c)) if b == bits => c,
                _ => {
                    let next = distinct.len();
                    let c = match codes.entry(bits) {
                        std::collections::hash_map::Entry::Occupied(e) => *e.get(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            if next > u16::MAX as usize {
                                return CompactColumn::Dense(values);
                            }
                            distinct.push(v);
                            *e.insert(next as u16)
                        }
                    };
                    last = Some((bits, c));
                    c
                }
            };
            coded.push(code);
        }
        if distinct.len() <= 256 {
            CompactColumn::Byte { values: distinct, codes: coded.into_iter().map(|c| c as u8).collect() }
        } else {
            CompactColumn::Short { values: distinct, codes: coded }
        }
    }

    fn negate(&mut self) {
        match self {
            CompactColumn::Dense(v) | CompactColumn::Byte { values: v, .. } | CompactColumn::Short { values: v, .. } => v.iter_mut().for_each(|x| *x = -*x),
        }
    }

    fn fill(&self, a: usize, out: &mut [f64]) {
        let e = a + out.len();
        match self {
            CompactColumn::Dense(v) => out.copy_from_slice(&v[a..e]),
            CompactColumn::Byte { values, codes } => out.iter_mut().zip(&codes[a..e]).for_each(|(o, c)| *o = values[*c as usize]),
            CompactColumn::Short { values, codes } => out.iter_mut().zip(&codes[a..e]).for_each(|(o, c)| *o = values[*c as usize]),
        }
    }

    fn values(&self) -> &[f64] {
        match self {
            CompactColumn::Dense(v) | CompactColumn::Byte { values: v, .. } | CompactColumn::Short { values: v, .. } => v,
        }
    }
}

impl CompactMatrix {
    /// The matrix `pre` makes of `df`, column by column (one dense column in memory at a time);
    /// the columns where `negated` is true are stored negated.
    pub fn build(pre: &Preprocessor, df: &dyn FeatureSource, negated: &[bool]) -> Result<Self> {
        let mut columns = Vec::with_capacity(pre.columns.len());
        for j in 0..pre.columns.len() {
            let mut column = CompactColumn::of(pre.column_values(j, df)?);
            if negated.get(j).copied().unwrap_or(false) {
                column.negate();
            }
            columns.push(column);
        }
        Ok(CompactMatrix { rows: df.rows(), columns })
    }

    /// Bytes the matrix holds.
    pub fn bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                CompactColumn::Dense(v) => 8 * v.len(),
                CompactColumn::Byte { values, codes } => 8 * values.len() + codes.len(),
                CompactColumn::Short { values, codes } => 8 * values.len() + 2 * codes.len(),
            })
            .sum()
    }
}

impl super::logistic::Blocks for CompactMatrix {
    fn dim(&self) -> (usize, usize) {
        (self.rows, self.columns.len())
    }
    fn block(&self, a: usize, e: usize) -> ndarray::CowArray<'_, f64, ndarray::Ix2> {
        use ndarray::ShapeBuilder;
        let height = e - a;
        let mut flat = vec![0.0; height * self.columns.len()];
        for (column, out) in self.columns.iter().zip(flat.chunks_mut(height.max(1))) {
            column.fill(a, out);
        }
        Array2::from_shape_vec((height, self.columns.len()).f(), flat).expect("a block's shape").into()
    }
    fn all_finite(&self) -> bool {
        self.columns.iter().all(|c| c.values().iter().all(|v| v.is_finite()))
    }
}

impl linfa::dataset::Records for &CompactMatrix {
    type Elem = f64;
    fn nsamples(&self) -> usize {
        self.rows
    }
    fn nfeatures(&self) -> usize {
        self.columns.len()
    }
}
