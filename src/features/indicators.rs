//! Declared indicators (申报指标): features the policy declares (`[[features.indicator]]`) over
//! the long `indicators` table — tax or social-insurance arrears, utility arrears, staff numbers,
//! any department's figures — evaluated by the same kernel and point-in-time rule as every
//! built-in family, with the direction, dimension and labels the policy gives.

use polars::prelude::*;

use super::spec::{Label, Measure, Stat, TableFeatures, Visibility, Window, INDICATORS};
use super::{FeatureOptions, IndicatorMeasure};

/// Each distinct indicator takes one predicate bit.
pub const MAX_INDICATORS: usize = 32;

fn describe(measure: IndicatorMeasure) -> &'static str {
    match measure {
        IndicatorMeasure::Last => "the latest value",
        IndicatorMeasure::Sum => "the sum of the values",
        IndicatorMeasure::Count => "the number of observations",
        IndicatorMeasure::Max => "the largest value",
        IndicatorMeasure::Mean => "the mean value",
        IndicatorMeasure::DaysSince => "days from the latest observation to T",
    }
}

pub fn declare(opts: &FeatureOptions) -> TableFeatures {
    let mut t = TableFeatures::new("indicators", &INDICATORS);
    let value = t.value("value", col("value"));
    let mut bits: Vec<(&str, u32)> = Vec::new();
    for f in &opts.indicators {
        let bit = match bits.iter().find(|(i, _)| *i == f.indicator) {
            Some((_, b)) => *b,
            None => {
                let b = t.equals(&f.indicator, "indicator", f.indicator.as_str());
                bits.push((&f.indicator, b));
                b
            }
        };
        let window = f.window.map_or(Window::Known, Window::Within);
        let observed = |stat| Measure::Observed { stat, value, bits: bit, window };
        let measure = match f.measure {
            IndicatorMeasure::Count => Measure::Count { window, bits: bit },
            IndicatorMeasure::Sum => Measure::Sum { value, window, bits: bit },
            IndicatorMeasure::Last => observed(Stat::Last),
            IndicatorMeasure::Max => observed(Stat::Max),
            IndicatorMeasure::Mean => observed(Stat::Mean),
            IndicatorMeasure::DaysSince => observed(Stat::DaysSince),
        };
        let span = match f.window {
            Some(days) => format!("observed in the {days} days before T"),
            None => "observed before T".into(),
        };
        let null = match f.measure {
            IndicatorMeasure::Count | IndicatorMeasure::Sum => "0",
            _ => "null",
        };
        let doc = format!(
            "{} of indicator `{}` {span} ({null} when there is none); declared in the policy (`[[features.indicator]]`)",
            describe(f.measure),
            f.indicator
        );
        let feature = t.add(f.name.clone(), doc, Label::new(f.zh.clone(), f.en.clone()), measure);
        feature.direction = f.direction;
        feature.dimension = f.dimension;
        feature.visibility = if f.public { Visibility::Public } else { Visibility::Internal };
    }
    t
}
