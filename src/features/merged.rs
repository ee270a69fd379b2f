//! Features over more than one source, computed per subject after the families: one revocation
//! fact from penalties and licences (a rule should not depend on which department recorded it),
//! and the lapsed-licence count limited to `active` subjects (the registry's status).

use polars::prelude::*;

use super::licences::{revoked_name, LAPSED};
use super::spec::{windowed_name, Feature, Kind, Label, LICENCES};
use super::subject::ACTIVE;
use super::FeatureOptions;
use crate::error::Result;

pub fn revoked_any(opts: &FeatureOptions) -> String {
    windowed_name("licence_revoked", opts.recent_days)
}

/// The merged revocation's sources among the present tables.
fn revocation_sources(present: &[&str], opts: &FeatureOptions) -> Vec<String> {
    let mut out = Vec::new();
    if present.contains(&"penalties") {
        out.push(windowed_name("pen_license_revoked", opts.recent_days));
    }
    if present.contains(&"licences") {
        out.push(revoked_name(opts.recent_days));
    }
    out
}

pub fn catalogue(present: &[&str], opts: &FeatureOptions) -> Vec<Feature> {
    if revocation_sources(present, opts).is_empty() {
        return Vec::new();
    }
    let days = opts.recent_days;
    let mut f = Feature::new(
        revoked_any(opts),
        &LICENCES,
        format!(
            "1 if a licence was revoked in the {days} days before T, by a penalty decision (`license_revoked`) or in the \
             licence records (`revoked_on`), else 0: one fact for hard rules whichever table holds it"
        ),
        Label::windowed(days, "被吊销许可证件", "a licence revoked"),
    );
    f.kind(Kind::Flag).increasing();
    vec![f]
}

/// Adds the merged features to one as-of date's per-subject frame.
pub fn add(df: DataFrame, present: &[&str], opts: &FeatureOptions) -> Result<DataFrame> {
    let sources = revocation_sources(present, opts);
    let mut lf = df.lazy();
    if let Some(any) = sources.iter().map(|s| col(s).gt(lit(0.0))).reduce(|a, b| a.or(b)) {
        lf = lf.with_column(any.cast(DataType::Float64).alias(revoked_any(opts)));
    }
    if present.contains(&"licences") {
        lf = lf.with_column((col(LAPSED) * col(ACTIVE).cast(DataType::Float64)).alias(LAPSED));
    }
    Ok(lf.collect()?)
}
