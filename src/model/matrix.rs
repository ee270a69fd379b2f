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

fn f64_column(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name).map_err(|_| Error::BadArgument(format!("feature `{name}` is missing from the data")))?;
    Ok(c.cast(&DataType::Float64)?.f64()?.iter().collect())
}

fn str_column(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let c = df.column(name).map_err(|_| Error::BadArgument(format!("feature `{name}` is missing from the data")))?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

impl Preprocessor {
    /// Fits on training rows. Constant numeric features carry no information and are left out.
    pub fn fit(df: &DataFrame, numeric: &[String], categorical: &[String]) -> Result<Self> {
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
    pub fn fit_raw(df: &DataFrame, numeric: &[String], categorical: &[String]) -> Result<Self> {
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
    /// trees read), without a row-major copy.
    pub fn transform_column_major(&self, df: &DataFrame) -> Result<Vec<f64>> {
        // A frame clone shares its columns, so consuming it releases nothing of `df`.
        self.into_column_major(df.clone())
    }

    /// [`Preprocessor::transform_column_major`] that consumes the frame and releases each input
    /// column once its last matrix column is built, so the frame and the matrix are never both
    /// whole in memory (at 6 million training rows each is about 5 GB).
    pub fn into_column_major(&self, mut df: DataFrame) -> Result<Vec<f64>> {
        let mut last_use: std::collections::HashMap<&str, usize> = Default::default();
        for (i, c) in self.columns.iter().enumerate() {
            last_use.insert(c.feature(), i);
        }
        let mut out = Vec::with_capacity(df.height() * self.columns.len());
        for (i, c) in self.columns.iter().enumerate() {
            let one = Preprocessor { columns: vec![c.clone()] }.transform(&df)?;
            out.extend(one.iter().copied());
            if last_use.get(c.feature()) == Some(&i) {
                df.drop_in_place(c.feature())?;
            }
        }
        Ok(out)
    }

    pub fn transform(&self, df: &DataFrame) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros((df.height(), self.columns.len()));
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
