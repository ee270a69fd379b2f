//! The validator never panics: every table of the contract filled with arbitrary values
//! (random, non-ASCII, empty and very long text; valid and invalid codes; NaN, ±inf, extreme
//! numbers; null and extreme dates; nulls in required columns), written as Parquet, loaded,
//! validated and turned into features. Every run reconciles: read = used + rejected per table,
//! and the quarantine holds Σ rejected rows.

use std::path::Path;

use polars::prelude::*;
use proptest::prelude::*;
use riskwarn::contract::{ColType, ColumnSpec, Rule, TableSpec, TABLES};

use crate::support::*;

const REFERENCE: &str = "2026-07-01";
const SUBJECT_CODES: u64 = 6;
const INSPECTOR_IDS: &[&str] = &["I-1", "I-2", "检查员3"];

/// One column's values, in the physical type the file carries.
#[derive(Debug, Clone)]
enum Values {
    Str(Vec<Option<String>>),
    F64(Vec<Option<f64>>),
    /// Integers wider than the contract's int32 (cast on load).
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    Date(Vec<Option<i32>>),
    /// Milliseconds since the epoch (a timestamp column is truncated to its date on load).
    Timestamp(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

impl Values {
    fn into_column(self, name: &str) -> Column {
        let name: PlSmallStr = name.into();
        match self {
            Values::Str(v) => Column::new(name, v),
            Values::F64(v) => Column::new(name, v),
            Values::I64(v) => Column::new(name, v),
            Values::I32(v) => Column::new(name, v),
            Values::Date(v) => Column::new(name, v).cast(&DataType::Date).unwrap(),
            Values::Timestamp(v) => Column::new(name, v).cast(&DataType::Datetime(TimeUnit::Milliseconds, None)).unwrap(),
            Values::Bool(v) => Column::new(name, v),
        }
    }
}

fn subject_code(i: u64) -> String {
    code(i)
}

/// Text a column's rule accepts.
fn fitting_text(c: &ColumnSpec) -> BoxedStrategy<String> {
    match c.rule {
        Rule::Uscc | Rule::SubjectRef => (0..SUBJECT_CODES).prop_map(subject_code).boxed(),
        Rule::InspectorRef => prop::sample::select(INSPECTOR_IDS).prop_map(str::to_string).boxed(),
        Rule::OneOf(values) => prop::sample::select(values).prop_map(str::to_string).boxed(),
        Rule::Industry => prop_oneof![Just("H6210".to_string()), Just("C".to_string()), Just("F5211".to_string())].boxed(),
        Rule::Region => prop_oneof![Just("140502".to_string()), Just("110101".to_string())].boxed(),
        _ if c.name == "inspector_id" => prop::sample::select(INSPECTOR_IDS).prop_map(str::to_string).boxed(),
        _ => "[a-z]{1,8}".boxed(),
    }
}

/// Text for a column's wild rows: near misses of its rule and arbitrary strings.
fn wild_text(c: &ColumnSpec) -> BoxedStrategy<String> {
    let arbitrary = prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        Just("\t\u{3000}".to_string()),
        Just("x".repeat(20_000)),
        Just("晋城市测试有限公司".to_string()),
        Just("'; DROP TABLE subjects; --".to_string()),
        Just("\u{0}\u{1}\u{feff}".to_string()),
        any::<String>(),
        "[A-Z][0-9]{0,5}",
        "[0-9]{5,7}",
    ];
    let near: BoxedStrategy<String> = match c.rule {
        Rule::Uscc | Rule::SubjectRef => prop_oneof![
            // A valid code of no subject, and codes with a wrong check character, length, case or charset.
            Just(subject_code(SUBJECT_CODES + 1)),
            (0..SUBJECT_CODES).prop_map(|i| {
                let mut s = subject_code(i);
                let last = s.pop().unwrap();
                s.push(if last == '0' { '1' } else { '0' });
                s
            }),
            (0..SUBJECT_CODES).prop_map(|i| subject_code(i)[..17].to_string()),
            (0..SUBJECT_CODES).prop_map(|i| subject_code(i).to_lowercase()),
            (0..SUBJECT_CODES).prop_map(|i| subject_code(i).replacen('9', "９", 1)),
        ]
        .boxed(),
        Rule::Industry => prop_oneof![Just("U1".to_string()), Just("h6210".to_string()), Just("H62100".to_string())].boxed(),
        Rule::Region => prop_oneof![Just("14050".to_string()), Just("１４０５０２".to_string()), Just("1405021".to_string())].boxed(),
        Rule::OneOf(values) => prop::sample::select(values).prop_map(|v| v.to_uppercase()).boxed(),
        _ => fitting_text(c),
    };
    prop_oneof![2 => fitting_text(c), 2 => near, 3 => arbitrary].boxed()
}

fn float() -> BoxedStrategy<f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(-0.0),
        Just(0.0),
        -1e6..1e6,
        any::<f64>(),
    ]
    .boxed()
}

/// Days since 1970-01-01: plausible dates, the contract's edges, and the extremes of Date32.
fn day() -> BoxedStrategy<i32> {
    let earliest = riskwarn::dates::earliest();
    let reference = date(REFERENCE);
    prop_oneof![
        4 => earliest..=reference,
        1 => Just(earliest - 1),
        1 => Just(earliest),
        1 => Just(reference),
        1 => Just(reference + 1),
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
        1 => Just(i32::MIN + 1),
        1 => Just(i32::MAX - 1),
        1 => Just(-719_468), // 0000-03-01
        1 => Just(2_932_896), // 9999-12-31
        1 => any::<i32>(),
        1 => -1_000_000..1_000_000,
    ]
    .boxed()
}

fn int() -> BoxedStrategy<i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i32::MIN as i64),
        Just(i32::MAX as i64),
        Just(i32::MAX as i64 + 1),
        Just(-1),
        Just(0),
        1940i64..2030,
        any::<i64>(),
    ]
    .boxed()
}

/// A value or null; nulls appear in every column, required or not.
fn maybe<T: std::fmt::Debug + Clone + 'static>(s: BoxedStrategy<T>) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 5 => s.prop_map(Some)].boxed()
}

/// A column of `clean` rows that pass its own rule, then `wild` rows of arbitrary values, in
/// one of the physical types the contract accepts for it.
fn column_values(c: &'static ColumnSpec, clean: usize, wild: usize) -> BoxedStrategy<Values> {
    fn both<T: std::fmt::Debug + Clone + 'static>(
        clean: (BoxedStrategy<T>, usize),
        wild: (BoxedStrategy<T>, usize),
        make: fn(Vec<Option<T>>) -> Values,
    ) -> BoxedStrategy<Values> {
        (prop::collection::vec(clean.0, clean.1), prop::collection::vec(maybe(wild.0), wild.1))
            .prop_map(move |(a, b)| make(a.into_iter().map(Some).chain(b).collect()))
            .boxed()
    }
    let earliest = riskwarn::dates::earliest();
    let reference = date(REFERENCE);
    let ms = |d: i32| d as i64 * 86_400_000;
    match c.ty {
        ColType::Str => both((fitting_text(c), clean), (wild_text(c), wild), Values::Str),
        ColType::F64 => prop_oneof![
            3 => both(((0.0..1e6).boxed(), clean), (float(), wild), Values::F64),
            1 => both(((0i64..1_000_000).boxed(), clean), (int(), wild), Values::I64),
        ]
        .boxed(),
        ColType::I32 => {
            let fitting = if c.rule == Rule::ReportYear { (2015..2025).boxed() } else { (0..10).boxed() };
            prop_oneof![
                2 => both((fitting.clone(), clean), (int().prop_map(|x| x.clamp(i32::MIN as i64, i32::MAX as i64) as i32).boxed(), wild), Values::I32),
                1 => both((fitting.prop_map(i64::from).boxed(), clean), (int(), wild), Values::I64),
            ]
            .boxed()
        }
        ColType::Date => prop_oneof![
            3 => both(((earliest..=reference).boxed(), clean), (day(), wild), Values::Date),
            1 => both(
                ((earliest..=reference).prop_map(ms).boxed(), clean),
                (prop_oneof![day().prop_map(ms), any::<i64>()].boxed(), wild),
                Values::Timestamp,
            ),
        ]
        .boxed(),
        ColType::Bool => both((any::<bool>().boxed(), clean), (any::<bool>().boxed(), wild), Values::Bool),
    }
}

/// A table's columns (optional columns sometimes left out).
fn table_frame(spec: &'static TableSpec, max_rows: usize) -> BoxedStrategy<Vec<(&'static str, Values)>> {
    (0..=max_rows, 0..=max_rows, any::<bool>())
        .prop_flat_map(move |(clean, wild, with_optional)| {
            spec.columns
                .iter()
                .filter(|c| with_optional || !c.optional)
                .map(|c| column_values(c, clean, wild).prop_map(move |v| (c.name, v)))
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// Every table of the contract: subjects always, the others present or absent.
fn data_set() -> BoxedStrategy<Vec<(&'static TableSpec, Vec<(&'static str, Values)>)>> {
    TABLES
        .iter()
        .map(|spec| {
            let frame = table_frame(spec, 8);
            if spec.required {
                frame.prop_map(move |f| Some((*spec, f))).boxed()
            } else {
                prop_oneof![1 => Just(None), 4 => frame.prop_map(move |f| Some((*spec, f)))].boxed()
            }
        })
        .collect::<Vec<_>>()
        .prop_map(|tables| tables.into_iter().flatten().collect())
        .boxed()
}

fn write_data_set(dir: &Path, tables: &[(&'static TableSpec, Vec<(&'static str, Values)>)]) {
    for (spec, columns) in tables {
        let columns: Vec<Column> = columns.iter().cloned().map(|(name, v)| v.into_column(name)).collect();
        let mut df = DataFrame::new_infer_height(columns).unwrap();
        write(&mut df, &dir.join(format!("{}.parquet", spec.name)));
    }
}

/// Load, validate and compute features; panics only through a failed check.
fn validate_reconciles(dir: &Path) {
    let raw = riskwarn::io::load_dir(dir, riskwarn::messages::Messages::EN).and_then(|mut raw| raw.read_all().map(|_| raw));
    let raw = match raw {
        Ok(raw) => raw,
        // A clean refusal of a whole file (exit 2) is allowed; a panic is not.
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "loading fails only as bad input: {e}");
            return;
        }
    };
    let read: Vec<(String, u64)> = raw.tables.iter().map(|t| (t.spec.name.to_string(), t.frame.height() as u64)).collect();
    let opts = riskwarn::validate::ValidateOptions { reference_date: date(REFERENCE) };
    let validated = riskwarn::validate::validate(raw, &opts).expect("validation of loaded tables succeeds");
    assert_eq!(validated.counts.len(), read.len());
    for (table, rows) in &read {
        let c = validated.counts.iter().find(|c| &c.table == table).unwrap_or_else(|| panic!("{table} is counted"));
        assert_eq!(c.read, *rows, "{table}: every loaded row is counted");
        assert_eq!(c.read, c.used + c.rejected, "{table}: read = used + rejected");
        assert_eq!(validated.table(table).unwrap().height() as u64, c.used, "{table}");
    }
    let rejected: u64 = validated.counts.iter().map(|c| c.rejected).sum();
    assert_eq!(validated.rejected.height() as u64, rejected, "the quarantine holds every rejected row");
    for name in ["table", "file", "row", "column", "reason"] {
        assert_eq!(validated.rejected.column(name).unwrap().null_count(), 0, "rejected.{name} is never null");
    }
    // Tables read as validation takes them (one at a time) validate as when read first.
    let one_at_a_time = riskwarn::validate::validate(riskwarn::io::load_dir(dir, riskwarn::messages::Messages::EN).unwrap(), &opts)
        .expect("validation of tables read one at a time succeeds");
    assert_eq!(one_at_a_time.counts, validated.counts);
    assert!(one_at_a_time.rejected.equals_missing(&validated.rejected), "the same quarantine");
    for ((a, x), (b, y)) in one_at_a_time.tables.iter().zip(&validated.tables) {
        assert!(a.name == b.name && x.equals_missing(y), "{}: the same used rows", a.name);
    }
    let features = riskwarn::features::compute(&validated, &[date(REFERENCE)], &Default::default())
        .expect("features of validated data");
    // Releasing each table once its features are made changes no feature.
    let mut releasing = one_at_a_time;
    let released = riskwarn::features::compute_releasing(&mut releasing, &[date(REFERENCE)], &Default::default())
        .expect("features of validated data, releasing the tables");
    assert!(released.equals_missing(&features), "the same features");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn validation_never_panics_and_reconciles(tables in data_set()) {
        let dir = tempdir();
        write_data_set(dir.path(), &tables);
        validate_reconciles(dir.path());
    }
}

/// Regression (found by the property above): a day number polars cannot format as a date
/// (near i32::MIN or i32::MAX) panicked while writing the row's rejection reason. It is
/// rejected with its day number instead; formattable dates keep their calendar form.
#[test]
fn extreme_day_numbers_are_rejected_with_their_day_number() {
    let dir = tempdir();
    let codes: Vec<String> = (0..4).map(code).collect();
    let mut subjects = subjects_frame(&codes);
    let days = Column::new("established_on".into(), [Some(i32::MIN), Some(i32::MAX), Some(date("9999-12-31")), Some(date("2015-03-01"))])
        .cast(&DataType::Date)
        .unwrap();
    subjects.replace("established_on", days).unwrap();
    write(&mut subjects, &dir.path().join("subjects.parquet"));
    let mut lists = DataFrame::new_infer_height(vec![
        Column::new("uscc".into(), [codes[3].as_str(), codes[3].as_str()]),
        Column::new("list".into(), ["abnormal_operations", "serious_violation"]),
        dates("listed_on", &[Some("2020-01-01"), Some("2021-01-01")]),
        Column::new("removed_on".into(), [Some(i32::MIN + 1), None]).cast(&DataType::Date).unwrap(),
    ])
    .unwrap();
    write(&mut lists, &dir.path().join("credit_lists.parquet"));

    validate_reconciles(dir.path());
    let raw = riskwarn::io::load_dir(dir.path(), riskwarn::messages::Messages::EN).unwrap();
    let v = riskwarn::validate::validate(raw, &riskwarn::validate::ValidateOptions { reference_date: date(REFERENCE) }).unwrap();
    let reasons: Vec<String> = v.rejected.column("reason").unwrap().str().unwrap().iter().map(|r| r.unwrap().to_string()).collect();
    assert_eq!(
        reasons,
        [
            "'day -2147483648' is before 1949-10-01",
            "'day 2147483647' is in the future (after 2026-07-01)",
            "'9999-12-31' is in the future (after 2026-07-01)",
            "'day -2147483647' is before 1949-10-01",
        ]
    );
}
