//! `riskwarn export`: a model as one SQL SELECT over the feature table (`riskwarn::export`).

use crate::cli::{ExportArgs, Global};
use crate::error::Result;

#[derive(serde::Serialize)]
struct Summary {
    model_id: String,
    kind: crate::model::ModelKind,
    dialect: String,
    table: String,
    sql: String,
    bytes: usize,
}

pub fn run(args: &ExportArgs, global: &Global) -> Result<()> {
    let model = crate::model::Model::load(&args.model)?;
    let opts = crate::export::SqlOptions { table: args.table.clone(), dialect: args.dialect };
    let text = crate::export::sql(&model, &opts)?;
    crate::io::write_text(&args.sql, &text)?;
    let summary = Summary {
        model_id: model.model_id.clone(),
        kind: model.kind,
        dialect: format!("{:?}", args.dialect).to_lowercase(),
        table: args.table.clone(),
        sql: args.sql.display().to_string(),
        bytes: text.len(),
    };
    super::print_summary(global, &summary, || format!("model {} as {} SQL over `{}` → {} ({} bytes)\n", summary.model_id, summary.dialect, summary.table, summary.sql, summary.bytes))
}
