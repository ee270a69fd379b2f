//! Models: serde JSON carrying the feature schema they expect, the fitted preprocessing, the
//! coefficients and the calibration. Loading a model against data whose features differ is a
//! clear error (exit 2). A scorecard score splits exactly into per-feature contributions.

pub mod calibration;
pub mod logistic;
pub mod matrix;
pub mod train;

use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// L2-regularised logistic regression on standardised features (a scorecard).
    Logistic,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub model_id: String,
    pub kind: ModelKind,
    pub engine_version: String,
    /// Input features the model reads, and a hash of their names in order.
    pub features: Vec<String>,
    pub schema_hash: String,
    pub preprocessing: matrix::Preprocessor,
    /// One coefficient per matrix column (`preprocessing.columns`), in log-odds.
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    pub calibration: calibration::Platt,
    pub calibration_method: String,
    pub params: logistic::LogisticParams,
    pub horizon_days: i32,
    pub train_as_of: Vec<String>,
    pub calibration_as_of: String,
    pub test_as_of: String,
    /// Matrix columns whose fitted sign runs against the expected direction (reported).
    pub direction_warnings: Vec<String>,
    pub backtest: train::Backtest,
}

pub fn schema_hash(features: &[String]) -> String {
    let digest = Sha256::digest(features.join("\n").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Model {
    /// The raw score (log-odds before calibration) of every row.
    pub fn raw_scores(&self, x: &Array2<f64>) -> Vec<f64> {
        x.rows().into_iter().map(|r| self.intercept + r.iter().zip(&self.coefficients).map(|(v, w)| v * w).sum::<f64>()).collect()
    }

    pub fn matrix(&self, features: &DataFrame) -> Result<Array2<f64>> {
        let missing: Vec<&String> = self.features.iter().filter(|f| features.column(f).is_err()).collect();
        if !missing.is_empty() {
            return Err(Error::BadArgument(format!(
                "model {} expects features the data does not have ({}); retrain the model or supply those tables",
                self.model_id,
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        self.preprocessing.transform(features)
    }

    /// Calibrated probabilities of a violation within the horizon.
    pub fn score(&self, features: &DataFrame) -> Result<Vec<f64>> {
        let x = self.matrix(features)?;
        Ok(self.raw_scores(&x).into_iter().map(|z| self.calibration.apply(z)).collect())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_json(self, path)
    }

    pub fn load(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::bad_file(path, format!("cannot read model: {e}")))?;
        let model: Model = serde_json::from_str(&text).map_err(|e| Error::bad_file(path, format!("not a riskwarn model: {e}")))?;
        if schema_hash(&model.features) != model.schema_hash {
            return Err(Error::bad_file(path, "feature schema hash does not match the model's feature list"));
        }
        if model.coefficients.len() != model.preprocessing.columns.len() {
            return Err(Error::bad_file(path, "coefficients do not match the model's matrix columns"));
        }
        Ok(model)
    }
}
