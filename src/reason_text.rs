//! Readable reasons: `label=value(contribution)`, with the feature's label from the registry
//! (`features::Feature::label`) in the report language.

/// A feature value as written in a reason: whole numbers without decimals.
pub fn format_value(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        Some(x) => format!("{x:.2}"),
    }
}

/// One reason: `label=value(+0.81)`, the label in the report language.
pub fn reason(label: &str, value: Option<f64>, contribution: f64) -> String {
    format!("{label}={}({contribution:+.2})", format_value(value))
}
