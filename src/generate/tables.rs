//! Column buffers for the generated tables, one struct per table, finished into Arrow batches.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, RecordBatch, StringBuilder,
};

macro_rules! table_buffer {
    ($name:ident, $table:literal { $($field:ident : $builder:ty),* $(,)? }) => {
        #[derive(Default)]
        pub struct $name { $(pub $field: $builder),* }

        impl $name {
            pub const TABLE: &'static str = $table;

            pub fn finish(&mut self) -> RecordBatch {
                RecordBatch::try_from_iter_with_nullable(vec![
                    $((stringify!($field), Arc::new(self.$field.finish()) as ArrayRef, true)),*
                ])
                .expect("columns of one buffer have equal length")
            }
        }
    };
}

table_buffer!(Subjects, "subjects" {
    uscc: StringBuilder, name: StringBuilder, subject_type: StringBuilder, industry: StringBuilder,
    region: StringBuilder, established_on: Date32Builder, registered_capital: Float64Builder,
    status: StringBuilder, ownership: StringBuilder,
});
table_buffer!(Inspections, "inspections" {
    uscc: StringBuilder, inspected_on: Date32Builder, department: StringBuilder, mode: StringBuilder,
    outcome: StringBuilder, issues_found: Int32Builder, recorded_on: Date32Builder,
});
table_buffer!(Penalties, "penalties" {
    uscc: StringBuilder, decided_on: Date32Builder, department: StringBuilder, category: StringBuilder,
    severity: StringBuilder, fine_cny: Float64Builder, license_revoked: BooleanBuilder, recorded_on: Date32Builder,
});
table_buffer!(Complaints, "complaints" {
    uscc: StringBuilder, received_on: Date32Builder, channel: StringBuilder, category: StringBuilder,
    substantiated: BooleanBuilder, recorded_on: Date32Builder,
});
table_buffer!(ProductChecks, "product_checks" {
    uscc: StringBuilder, sampled_on: Date32Builder, product: StringBuilder, passed: BooleanBuilder,
    recorded_on: Date32Builder,
});
table_buffer!(Judgments, "judgments" {
    uscc: StringBuilder, judged_on: Date32Builder, case_type: StringBuilder, role: StringBuilder,
    amount_cny: Float64Builder, recorded_on: Date32Builder,
});
table_buffer!(CreditLists, "credit_lists" {
    uscc: StringBuilder, list: StringBuilder, listed_on: Date32Builder, removed_on: Date32Builder,
    recorded_on: Date32Builder,
});
table_buffer!(AnnualReports, "annual_reports" {
    uscc: StringBuilder, year: Int32Builder, filed_on: Date32Builder,
});
table_buffer!(Licences, "licences" {
    uscc: StringBuilder, licence_type: StringBuilder, issued_on: Date32Builder, expires_on: Date32Builder,
    revoked_on: Date32Builder, issuer: StringBuilder, recorded_on: Date32Builder,
});
table_buffer!(Indicators, "indicators" {
    uscc: StringBuilder, indicator: StringBuilder, observed_on: Date32Builder, value: Float64Builder,
    recorded_on: Date32Builder,
});
table_buffer!(Relations, "relations" {
    uscc: StringBuilder, related: StringBuilder, relation: StringBuilder, valid_from: Date32Builder,
    valid_to: Date32Builder, recorded_on: Date32Builder,
});
table_buffer!(Inspectors, "inspectors" {
    inspector_id: StringBuilder, name: StringBuilder, department: StringBuilder, region: StringBuilder,
});
table_buffer!(Conflicts, "conflicts" {
    inspector_id: StringBuilder, uscc: StringBuilder,
});
table_buffer!(Cases, "cases" {
    case_id: StringBuilder, uscc: StringBuilder, department: StringBuilder, opened_on: Date32Builder,
    level: StringBuilder, due_on: Date32Builder, score_at_opening: Float64Builder,
});
table_buffer!(Dispositions, "dispositions" {
    uscc: StringBuilder, case_id: StringBuilder, department: StringBuilder, handled_on: Date32Builder,
    action: StringBuilder, result: StringBuilder, handler_id: StringBuilder, note: StringBuilder,
});
table_buffer!(Overrides, "overrides" {
    uscc: StringBuilder, grade: StringBuilder, reason: StringBuilder, approved_by: StringBuilder,
    valid_from: Date32Builder, valid_to: Date32Builder,
});
table_buffer!(Truth, "truth" {
    uscc: StringBuilder, base_logit: Float64Builder, young_until: Date32Builder, young_bonus: Float64Builder,
    change_on: Date32Builder, change_delta: Float64Builder, terminated_on: Date32Builder,
});

/// Everything one chunk of subjects produced.
#[derive(Default)]
pub struct ChunkTables {
    pub subjects: Subjects,
    pub inspections: Inspections,
    pub penalties: Penalties,
    pub complaints: Complaints,
    pub product_checks: ProductChecks,
    pub judgments: Judgments,
    pub credit_lists: CreditLists,
    pub annual_reports: AnnualReports,
    pub licences: Licences,
    pub indicators: Indicators,
    pub relations: Relations,
    pub conflicts: Conflicts,
    pub feedback: super::feedback::FeedbackTables,
    pub truth: Truth,
}

impl ChunkTables {
    /// (table name, batch) in the fixed output order.
    pub fn finish(&mut self) -> Vec<(&'static str, RecordBatch)> {
        vec![
            (Subjects::TABLE, self.subjects.finish()),
            (Inspections::TABLE, self.inspections.finish()),
            (Penalties::TABLE, self.penalties.finish()),
            (Complaints::TABLE, self.complaints.finish()),
            (ProductChecks::TABLE, self.product_checks.finish()),
            (Judgments::TABLE, self.judgments.finish()),
            (CreditLists::TABLE, self.credit_lists.finish()),
            (AnnualReports::TABLE, self.annual_reports.finish()),
            (Licences::TABLE, self.licences.finish()),
            (Indicators::TABLE, self.indicators.finish()),
            (Relations::TABLE, self.relations.finish()),
            (Conflicts::TABLE, self.conflicts.finish()),
            (Cases::TABLE, self.feedback.cases.finish()),
            (Dispositions::TABLE, self.feedback.dispositions.finish()),
            (Overrides::TABLE, self.feedback.overrides.finish()),
            (Truth::TABLE, self.truth.finish()),
        ]
    }
}
