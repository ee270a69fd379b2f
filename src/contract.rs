//! The input data contract (SPEC §1, docs/data-contract.md): tables, columns, types and row rules.
//!
//! This registry is the single source for the footer schema check in `io`, the row rules in
//! `validate`, the writer in `generate` and the generated contract document.

/// Logical column type after loading. Wider physical types are accepted and cast (see `io`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    Date,
    F64,
    I32,
    Bool,
}

impl ColType {
    pub fn describe(self) -> &'static str {
        match self {
            ColType::Str => "string",
            ColType::Date => "date (a timestamp is truncated to its date)",
            ColType::F64 => "float64 (integers accepted)",
            ColType::I32 => "int32 (any integer accepted)",
            ColType::Bool => "bool",
        }
    }
}

/// A row rule on one column; a row failing any rule is quarantined with the rule's reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    None,
    /// A valid USCC (GB 32100-2015 check digit).
    Uscc,
    /// A valid USCC present among the used rows of `subjects`.
    SubjectRef,
    NonEmpty,
    OneOf(&'static [&'static str]),
    /// GB/T 4754: one section letter A–T, then 0–4 digits.
    Industry,
    /// 6-digit administrative division code.
    Region,
    /// ≥ 0 and finite.
    NonNegative,
    /// Finite (not NaN or infinite).
    Finite,
    /// An id, not a name: 6 to 64 ASCII letters, digits, `-`, `_` or `:`.
    NodeId,
    /// Not before 1949-10-01 and not after the reference date (today or `--as-of`).
    PastDate,
    /// Not before the named date column of the same row (and itself a past date).
    NotBefore(&'static str),
    /// The end of a validity period: not before 1949-10-01 and not before the named start column
    /// of the same row, but it may lie after the reference date (an override valid until next year).
    PeriodEnd(&'static str),
    /// A report year between 1949 and the reference date's year.
    ReportYear,
    /// An inspector_id present among the used rows of `inspectors`.
    InspectorRef,
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    /// Optional columns may be absent from the file (e.g. `recorded_on`).
    pub optional: bool,
    pub rule: Rule,
    pub doc: &'static str,
}

const fn col(name: &'static str, ty: ColType, rule: Rule, doc: &'static str) -> ColumnSpec {
    ColumnSpec { name, ty, nullable: false, optional: false, rule, doc }
}
const fn nullable(name: &'static str, ty: ColType, rule: Rule, doc: &'static str) -> ColumnSpec {
    ColumnSpec { name, ty, nullable: true, optional: false, rule, doc }
}
const RECORDED_ON: ColumnSpec = ColumnSpec {
    name: "recorded_on",
    ty: ColType::Date,
    nullable: true,
    optional: true,
    rule: Rule::None, // checked against the table's event date in `validate`
    doc: "when the record entered the system; a row counts as of T only if dated and recorded before T",
};

#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub required: bool,
    pub columns: &'static [ColumnSpec],
    /// The column that dates an event (`None` for subjects and the roster tables).
    pub event_date: Option<&'static str>,
    /// Columns that together must be unique; later duplicates are quarantined, the first kept.
    pub unique_key: &'static [&'static str],
    pub doc: &'static str,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

pub const SUBJECT_TYPES: &[&str] = &["enterprise", "individual", "cooperative", "branch", "other"];
pub const STATUSES: &[&str] = &["active", "suspended", "revoked", "cancelled"];
pub const SCORED_STATUSES: &[&str] = &["active", "suspended"];
pub const INSPECTION_MODES: &[&str] = &["random", "targeted", "complaint", "joint"];
pub const INSPECTION_OUTCOMES: &[&str] = &["pass", "issues", "violation"];
pub const SEVERITIES: &[&str] = &["minor", "general", "serious"];
pub const CHANNELS: &[&str] = &["12315", "12345", "other"];
pub const CASE_TYPES: &[&str] = &["civil", "administrative", "criminal", "enforcement"];
pub const ROLES: &[&str] = &["defendant", "plaintiff", "executed_party"];
pub const LISTS: &[&str] = &["abnormal_operations", "serious_violation", "dishonest_debtor"];
/// 核查 · 约谈 · 责令整改 · 立案 · 移送
pub const DISPOSITION_ACTIONS: &[&str] = &["verify", "interview", "order", "case", "refer"];
/// 属实 · 不属实 · 无法核查 · 处理中
pub const DISPOSITION_RESULTS: &[&str] = &["confirmed", "not_confirmed", "unreachable", "pending"];
pub const RELATION_KINDS: &[&str] = &["legal_representative", "shareholder", "branch_of", "same_address"];
pub const GRADES: &[&str] = &["A", "B", "C", "D"];
pub const LEVELS: &[&str] = &["red", "orange", "yellow", "blue"];

use ColType::*;

pub const SUBJECTS: TableSpec = TableSpec {
    name: "subjects",
    required: true,
    columns: &[
        col("uscc", Str, Rule::Uscc, "18-char USCC; the key of every table"),
        col("name", Str, Rule::NonEmpty, "registered name (for `individual` it is personal data)"),
        col("subject_type", Str, Rule::OneOf(SUBJECT_TYPES), "kind of market subject"),
        col("industry", Str, Rule::Industry, "GB/T 4754 code, e.g. `H6210`, `C`"),
        col("region", Str, Rule::Region, "6-digit administrative division code"),
        col("established_on", Date, Rule::PastDate, "date of establishment"),
        nullable("registered_capital", F64, Rule::NonNegative, "10k CNY"),
        col("status", Str, Rule::OneOf(STATUSES), "only active/suspended subjects are scored"),
        nullable("ownership", Str, Rule::None, "fairness audits only; never a model feature"),
    ],
    event_date: None,
    unique_key: &["uscc"],
    doc: "the market-subject registry, one row per subject",
};

pub const INSPECTIONS: TableSpec = TableSpec {
    name: "inspections",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "inspected subject"),
        col("inspected_on", Date, Rule::PastDate, "date of the check"),
        col("department", Str, Rule::NonEmpty, "inspecting department"),
        col("mode", Str, Rule::OneOf(INSPECTION_MODES), "`random` is 双随机; only its outcomes are an unbiased sample"),
        col("outcome", Str, Rule::OneOf(INSPECTION_OUTCOMES), "`issues` = 责令改正, `violation` = 立案/违法"),
        nullable("issues_found", I32, Rule::NonNegative, "number of issues found"),
        RECORDED_ON,
    ],
    event_date: Some("inspected_on"),
    unique_key: &[],
    doc: "on-site and off-site checks (行政检查), the source of training labels",
};

pub const PENALTIES: TableSpec = TableSpec {
    name: "penalties",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "penalised subject"),
        col("decided_on", Date, Rule::PastDate, "date of the decision"),
        col("department", Str, Rule::NonEmpty, "deciding department"),
        col("category", Str, Rule::NonEmpty, "kind of violation"),
        col("severity", Str, Rule::OneOf(SEVERITIES), "`general`/`serious` make a positive label"),
        col("fine_cny", F64, Rule::NonNegative, "fine in CNY"),
        col("license_revoked", Bool, Rule::None, "licence revoked by the decision"),
        RECORDED_ON,
    ],
    event_date: Some("decided_on"),
    unique_key: &[],
    doc: "administrative penalties and enforcement (行政处罚、行政强制)",
};

pub const COMPLAINTS: TableSpec = TableSpec {
    name: "complaints",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "subject complained about"),
        col("received_on", Date, Rule::PastDate, "date received"),
        col("channel", Str, Rule::OneOf(CHANNELS), "hotline"),
        col("category", Str, Rule::NonEmpty, "complaint category (never published)"),
        nullable("substantiated", Bool, Rule::None, "null while undecided"),
        RECORDED_ON,
    ],
    event_date: Some("received_on"),
    unique_key: &[],
    doc: "complaints and reports (投诉举报, 12315/12345)",
};

pub const PRODUCT_CHECKS: TableSpec = TableSpec {
    name: "product_checks",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "producer or seller"),
        col("sampled_on", Date, Rule::PastDate, "sampling date"),
        col("product", Str, Rule::NonEmpty, "product sampled"),
        col("passed", Bool, Rule::None, "test result"),
        RECORDED_ON,
    ],
    event_date: Some("sampled_on"),
    unique_key: &[],
    doc: "product sampling tests (抽查抽检)",
};

pub const JUDGMENTS: TableSpec = TableSpec {
    name: "judgments",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "party"),
        col("judged_on", Date, Rule::PastDate, "date of judgment"),
        col("case_type", Str, Rule::OneOf(CASE_TYPES), "kind of case"),
        col("role", Str, Rule::OneOf(ROLES), "the subject's role"),
        nullable("amount_cny", F64, Rule::NonNegative, "amount at stake"),
        RECORDED_ON,
    ],
    event_date: Some("judged_on"),
    unique_key: &[],
    doc: "court judgments and enforcement cases (司法判决)",
};

pub const CREDIT_LISTS: TableSpec = TableSpec {
    name: "credit_lists",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "listed subject"),
        col("list", Str, Rule::OneOf(LISTS), "which list"),
        col("listed_on", Date, Rule::PastDate, "date listed"),
        nullable("removed_on", Date, Rule::NotBefore("listed_on"), "date removed (信用修复), null while listed"),
        RECORDED_ON,
    ],
    event_date: Some("listed_on"),
    unique_key: &[],
    doc: "list entries (经营异常名录、严重违法失信名单、失信被执行人)",
};

pub const ANNUAL_REPORTS: TableSpec = TableSpec {
    name: "annual_reports",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "filing subject"),
        col("year", I32, Rule::ReportYear, "report year; due 30 June of year+1"),
        nullable("filed_on", Date, Rule::PastDate, "null = not filed"),
    ],
    event_date: None,
    unique_key: &["uscc", "year"],
    doc: "annual report filings (年报公示)",
};

pub const LICENCES: TableSpec = TableSpec {
    name: "licences",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "licence holder"),
        col(
            "licence_type",
            Str,
            Rule::NonEmpty,
            "kind of permit as the issuing department names it (食品经营许可 …); the policy's `[[features.licence]]` \
             declares which types become features, the rest still count as licences",
        ),
        col("issued_on", Date, Rule::PastDate, "date issued (a renewal is a new row)"),
        nullable("expires_on", Date, Rule::PeriodEnd("issued_on"), "last day of validity; null = no expiry"),
        nullable("revoked_on", Date, Rule::NotBefore("issued_on"), "date revoked (吊销) or withdrawn (撤销); null = not revoked"),
        nullable("issuer", Str, Rule::NonEmpty, "issuing department"),
        RECORDED_ON,
    ],
    event_date: Some("issued_on"),
    unique_key: &[],
    doc: "administrative licences (行政许可, the other half of 双公示). A licence is current at T while \
          `issued_on < T`, `expires_on` is null or ≥ T and `revoked_on` is null or ≥ T",
};

pub const INDICATORS: TableSpec = TableSpec {
    name: "indicators",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "subject observed"),
        col("indicator", Str, Rule::NonEmpty, "what was observed (`tax_arrears` …); the policy's `[[features.indicator]]` declares features over it"),
        col("observed_on", Date, Rule::PastDate, "date the value refers to"),
        nullable("value", F64, Rule::Finite, "the observed value; null = observed without a value (counts for `count` and `days_since`)"),
        RECORDED_ON,
    ],
    event_date: Some("observed_on"),
    unique_key: &[],
    doc: "declared indicators in long form (申报指标: tax, social insurance, utilities, staff … from any department), \
          one row per subject, indicator and observation. An indicator no feature declares is ignored with one notice; \
          a declared one without rows is left out of the run, said once",
};

pub const RELATIONS: TableSpec = TableSpec {
    name: "relations",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "subject"),
        col(
            "related",
            Str,
            Rule::NodeId,
            "the other party: a subject's USCC, or a person's (or address's) id hashed upstream — never a name. \
             Subjects that share a non-USCC id are related through it",
        ),
        col("relation", Str, Rule::OneOf(RELATION_KINDS), "`legal_representative` · `shareholder` · `branch_of` · `same_address`"),
        col("valid_from", Date, Rule::PastDate, "first day of the link"),
        nullable("valid_to", Date, Rule::PeriodEnd("valid_from"), "last day of the link; null = still valid"),
        RECORDED_ON,
    ],
    event_date: Some("valid_from"),
    unique_key: &[],
    doc: "related parties (关联关系): legal representatives, shareholders, branches, shared addresses. A link counts \
          as of T while `valid_from < T` and `valid_to` is null or ≥ T; links are symmetric. A person (or address) \
          id linked to more than `features.relation_person_cap` subjects (nominee directors, registered agents) \
          links nobody, and the manifest counts such ids",
};

pub const INSPECTORS: TableSpec = TableSpec {
    name: "inspectors",
    required: false,
    columns: &[
        col("inspector_id", Str, Rule::NonEmpty, "unique id"),
        col("name", Str, Rule::NonEmpty, "inspector's name"),
        col("department", Str, Rule::NonEmpty, "department the inspector belongs to"),
        col("region", Str, Rule::Region, "6-digit division code of the inspector's post"),
    ],
    event_date: None,
    unique_key: &["inspector_id"],
    doc: "执法检查人员名录库, for the inspection plan",
};

pub const CONFLICTS: TableSpec = TableSpec {
    name: "conflicts",
    required: false,
    columns: &[
        col("inspector_id", Str, Rule::InspectorRef, "inspector in the roster"),
        col("uscc", Str, Rule::SubjectRef, "subject the inspector must never be sent to (回避)"),
    ],
    event_date: None,
    unique_key: &["inspector_id", "uscc"],
    doc: "回避 pairs, for the inspection plan",
};

pub const DISPOSITIONS: TableSpec = TableSpec {
    name: "dispositions",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "subject the warning was about"),
        nullable(
            "case_id",
            Str,
            Rule::NonEmpty,
            "the case handled; null = the subject's case of `department` (or escalated to it) opened by \
             `handled_on`. Validation checks its form; the case step checks it against the case book",
        ),
        col("department", Str, Rule::NonEmpty, "department that acted"),
        col("handled_on", Date, Rule::PastDate, "date of the action"),
        col("action", Str, Rule::OneOf(DISPOSITION_ACTIONS), "`verify` 核查 · `interview` 约谈 · `order` 责令整改 · `case` 立案 · `refer` 移送"),
        col("result", Str, Rule::OneOf(DISPOSITION_RESULTS), "`confirmed` 属实 · `not_confirmed` 不属实 · `unreachable` 无法核查 · `pending` 处理中"),
        nullable("handler_id", Str, Rule::NonEmpty, "who handled it"),
        nullable("note", Str, Rule::None, "internal remark; never published, and no output carries it"),
    ],
    event_date: None,
    unique_key: &[],
    doc: "what a department did about a warning case (跟踪预警和反馈处理). As of T, a row handled before T \
          is applied to its case once (a rerun, or the next night's cumulative table, does not apply it \
          again): `confirmed`, `not_confirmed` and `unreachable` close the case, `pending` is recorded and \
          leaves it open. A row that belongs to no case (an unknown `case_id`, a case of another subject, no \
          case of `department` opened by `handled_on`, handled before its case opened, or the same row twice) \
          is rejected after validation with that reason, in rejected.parquet like every bad row. docs/cases.md. \
          `riskwarn train --labels inspections,dispositions` (and `evaluate --labels`) takes `confirmed` / \
          `not_confirmed` results as labels (docs/model.md)",
};

pub const CASES: TableSpec = TableSpec {
    name: "cases",
    required: false,
    columns: &[
        col("case_id", Str, Rule::NonEmpty, "the case's id, as dispositions name it"),
        col("uscc", Str, Rule::SubjectRef, "subject warned"),
        col("department", Str, Rule::NonEmpty, "department following it up"),
        col("opened_on", Date, Rule::PastDate, "day the case was opened"),
        col("level", Str, Rule::OneOf(LEVELS), "warning level at opening"),
        nullable("due_on", Date, Rule::NotBefore("opened_on"), "last day to handle it; null = `cases.due_days` of its level from `opened_on`"),
        nullable("score_at_opening", F64, Rule::NonNegative, "calibrated score at opening (the expected rate in the feedback figures)"),
    ],
    event_date: None,
    unique_key: &["case_id"],
    doc: "cases opened before this output directory (another installation, the system riskwarn replaces, \
          or the cases.parquet of an earlier output directory, whose extra columns are ignored). A run adds \
          each case whose id its previous run does not hold and that was opened before T, as an open case; \
          dispositions and due dates then take it on like any other. docs/cases.md",
};

pub const OVERRIDES: TableSpec = TableSpec {
    name: "overrides",
    required: false,
    columns: &[
        col("uscc", Str, Rule::SubjectRef, "subject whose grade was changed"),
        col("grade", Str, Rule::OneOf(GRADES), "the approved credit grade; replaces the grade from score and hard rules"),
        col("reason", Str, Rule::NonEmpty, "why it was approved; published in the reasons (appeal decisions are public, 双公示), so write it for the public"),
        col("approved_by", Str, Rule::NonEmpty, "who approved it; kept for audit, never in any output"),
        col("valid_from", Date, Rule::PastDate, "in force in runs as of a date after this day"),
        nullable("valid_to", Date, Rule::PeriodEnd("valid_from"), "last day in force; null = until replaced"),
    ],
    event_date: None,
    unique_key: &["uscc", "valid_from"],
    doc: "grades changed after an appeal or credit repair (异议申诉 / 信用修复). As of T, an override is in \
          force while `valid_from < T` and (`valid_to` is null or `valid_to ≥ T`); of several in force for \
          one subject the latest `valid_from` wins (the key makes that unique). It replaces the final \
          `credit_grade`, keeping the earlier grade in `grade_before_override` (docs/outputs.md)",
};

/// Tables about what was done after a warning: no feature reads them, so their absence is no notice.
pub const FEEDBACK_TABLES: &[&str] = &["dispositions", "overrides", "cases"];

/// Tables whose used rows keep their file and row (`io::FILE_COL`, `io::ROW_COL`, the file as
/// named in rejected.parquet): a later stage may still reject a row (a disposition of no case).
pub const ORIGIN_KEPT: &[&str] = &["dispositions", "cases"];

/// Event tables whose used rows name their subject by `sid` alone (validation checks the code
/// and keeps it in any rejected row's `uscc`): every stage after validation reads them by
/// `sid`, and the code as a string costs 34 bytes a row (an 18-character string view).
pub const SUBJECT_BY_SID: &[&str] =
    &["penalties", "complaints", "product_checks", "judgments", "credit_lists", "annual_reports", "licences", "indicators"];

/// Every table, in dependency order: referenced tables before the tables that refer to them.
pub const TABLES: &[&TableSpec] = &[
    &SUBJECTS,
    &INSPECTIONS,
    &PENALTIES,
    &COMPLAINTS,
    &PRODUCT_CHECKS,
    &JUDGMENTS,
    &CREDIT_LISTS,
    &ANNUAL_REPORTS,
    &LICENCES,
    &INDICATORS,
    &RELATIONS,
    &INSPECTORS,
    &CONFLICTS,
    &CASES,
    &DISPOSITIONS,
    &OVERRIDES,
];

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// Earliest plausible date of any record: the founding of the PRC.
pub const EARLIEST_DATE: (i32, u32, u32) = (1949, 10, 1);

fn rule_text(spec: &TableSpec, c: &ColumnSpec) -> String {
    let mut parts: Vec<String> = Vec::new();
    match c.rule {
        Rule::None => {}
        Rule::Uscc => parts.push("valid USCC (GB 32100-2015 check character)".into()),
        Rule::SubjectRef => parts.push("valid USCC of a used row of `subjects`".into()),
        Rule::NonEmpty => parts.push("not empty or blank".into()),
        Rule::OneOf(v) => parts.push(format!("one of {}", v.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(" · "))),
        Rule::Industry => parts.push("section letter A–T, then 0–4 digits".into()),
        Rule::Region => parts.push("exactly 6 digits".into()),
        Rule::NonNegative => parts.push("≥ 0 and finite".into()),
        Rule::Finite => parts.push("finite".into()),
        Rule::NodeId => parts.push("an id, not a name: 6 to 64 ASCII letters, digits, `-`, `_` or `:`".into()),
        Rule::PastDate => parts.push("from 1949-10-01 to the reference date".into()),
        Rule::NotBefore(o) => parts.push(format!("from 1949-10-01 to the reference date, not before `{o}`")),
        Rule::PeriodEnd(o) => parts.push(format!("from 1949-10-01, not before `{o}`; may lie after the reference date")),
        Rule::ReportYear => parts.push("1949 to the reference date's year".into()),
        Rule::InspectorRef => parts.push("`inspector_id` of a used row of `inspectors`".into()),
    }
    if c.name == "recorded_on" {
        parts.push(format!(
            "from 1949-10-01 to the reference date, not before `{}`",
            spec.event_date.unwrap_or("the event date")
        ));
    }
    if spec.name == "annual_reports" && c.name == "filed_on" {
        parts.push("in a year after `year`".into());
    }
    if c.nullable {
        parts.push("nullable".into());
    } else {
        parts.push("required value".into());
    }
    if c.optional {
        parts.push("optional column".into());
    }
    parts.join("; ")
}

/// The data contract as Markdown: docs/data-contract.md is this text (a test keeps it so).
pub fn markdown() -> String {
    let mut s = String::from(
        "# Data contract\n\n\
         Generated from `src/contract.rs` (`riskwarn` checks every input against it; a test keeps this file \
         identical to the code). The input is a directory holding `<table>.parquet` or `<table>/` with \
         several `*.parquet` files. Only `subjects` is required; an absent table leaves its features out \
         of the run, said once.\n\n\
         ## Whole-file problems: the run stops, exit code 2\n\n\
         A missing required table or column, a column whose type cannot be read as the contract's type, \
         or an unreadable or truncated file (its Parquet footer is checked before any data is loaded) \
         stops the run before anything is written, with one message naming the file, the column and the \
         problem. Extra columns and unknown files are ignored with a notice.\n\n\
         ## Bad rows: quarantined, never dropped\n\n\
         A row that breaks a rule below is not used; it goes to `rejected.parquet` with `table`, `file`, \
         `row` (1-based within the file), `column`, `reason` and `uscc`. For every table, rows read = \
         rows used + rows rejected. The first failing rule, in column order, is the reason given. \
         The *reference date* is today, or `--as-of` where a command takes it; dates after it are \
         in the future. Where a table has a key, the first row of each key among the otherwise valid \
         rows is used and later ones are rejected as duplicates.\n\n\
         Types: a string may be plain, large, view or dictionary-encoded; a date may be a Parquet DATE \
         or a timestamp (truncated to its date); a float64 column may hold any integer or float type; \
         an int32 column any integer type (a value outside int32 counts as missing).\n",
    );
    for t in TABLES {
        s += &format!("\n## {}{}\n\n{}.", t.name, if t.required { " (required)" } else { "" }, t.doc);
        if !t.unique_key.is_empty() {
            s += &format!(" Key: {}.", t.unique_key.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" + "));
        }
        if let Some(d) = t.event_date {
            s += &format!(" Event date: `{d}`.");
        }
        s += "\n\n| column | type | rule | meaning |\n|---|---|---|---|\n";
        for c in t.columns {
            s += &format!("| `{}` | {} | {} | {} |\n", c.name, c.ty.describe(), rule_text(t, c), c.doc);
        }
    }
    s += "\n## Time semantics\n\n\
          Features as of date T use only rows dated strictly before T, and where `recorded_on` is present, \
          recorded strictly before T (features as known at the time). A list entry counts as current while \
          `listed_on < T` and (`removed_on` is null or `removed_on ≥ T`); a licence while `issued_on < T` and \
          neither `expires_on` nor `revoked_on` lies before T (a revocation on or after T is not yet known). An annual report for `year` is due \
          on 30 June of `year + 1`. A grade override counts as of T while `valid_from < T` and (`valid_to` is \
          null or `valid_to ≥ T`), the same rule as a list entry: approved before T, not yet expired.\n";
    s
}
