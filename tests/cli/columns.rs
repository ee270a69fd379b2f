//! Columns that store each distinct string once hold the same values as columns built value by
//! value: nulls, empty strings, short (inline) and long strings, non-ASCII, and values the
//! labels do not know; and they survive a Parquet round trip unchanged.

use std::collections::HashMap;

use polars::prelude::*;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        3 => "[a-c]{1,3}".prop_map(Some),
        3 => "[a-c检]{13,40}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn relabeled_equals_value_by_value(values in proptest::collection::vec(text(), 0..200), labelled in proptest::collection::vec(("[a-c]{1,3}", "[x-z市]{0,30}"), 0..6)) {
        let labels: HashMap<String, String> = labelled.into_iter().collect();
        let column: StringChunked = values.iter().map(|v| v.as_deref()).collect();
        let got = riskwarn::columns::relabeled("c", &column, |v| labels.get(v).map(String::as_str)).unwrap();
        let expected: Vec<Option<String>> = values.iter().map(|v| v.as_ref().map(|v| labels.get(v).unwrap_or(v).clone())).collect();
        let got_values: Vec<Option<String>> = got.str().unwrap().iter().map(|v| v.map(str::to_string)).collect();
        prop_assert_eq!(&got_values, &expected);
        prop_assert_eq!(got.null_count(), values.iter().filter(|v| v.is_none()).count());

        let mut df = DataFrame::new(got.len(), vec![got.into_column()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut df).unwrap();
        let back = ParquetReader::new(std::fs::File::open(&path).unwrap()).finish().unwrap();
        let back_values: Vec<Option<String>> = back.column("c").unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect();
        prop_assert_eq!(back_values, expected);
    }

    #[test]
    fn repeated_takes_the_dictionary_entry_of_each_index(dictionary in proptest::collection::vec("[a-c检]{0,30}", 1..8), index in proptest::collection::vec(proptest::option::of(0usize..8), 0..200)) {
        let index: Vec<Option<usize>> = index.into_iter().map(|i| i.map(|i| i % dictionary.len())).collect();
        let refs: Vec<&str> = dictionary.iter().map(String::as_str).collect();
        let got = riskwarn::columns::repeated("c", &refs, index.iter().copied()).unwrap();
        let expected: Vec<Option<&str>> = index.iter().map(|i| i.map(|i| refs[i])).collect();
        prop_assert_eq!(got.str().unwrap().iter().collect::<Vec<_>>(), expected);
    }
}
