//! The training panel kept in parts and the compact model matrix change no value: a compact
//! matrix's blocks are the dense matrix's rows bit for bit (columns of one value, of up to 256,
//! of up to 65,536 and of more distinct values, with nulls and negated columns), the scorecard
//! fitted on it is the one fitted on the dense matrix, and rows kept in parts — in memory or on
//! disk — give back the columns and rows they were given.

use std::sync::Arc;

use ndarray::ShapeBuilder;
use polars::prelude::*;
use proptest::prelude::*;
use riskwarn::model::logistic::{self, Blocks, LogisticParams};
use riskwarn::model::matrix::{CompactMatrix, Preprocessor};
use riskwarn::model::rows::Rows;

/// A feature column of `n` values drawn from `distinct` values (some null).
fn column(name: &str, n: usize, distinct: u64, seed: u64) -> Column {
    let values: Vec<Option<f64>> = (0..n as u64)
        .map(|i| {
            let h = (i.wrapping_add(seed)).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
            if h % 23 == 0 { None } else { Some((h % distinct) as f64 * 0.37 - 3.0) }
        })
        .collect();
    Column::new(name.into(), values)
}

fn frame(n: usize, seed: u64) -> DataFrame {
    let label: Vec<bool> = (0..n as u64).map(|i| (i.wrapping_add(seed)).wrapping_mul(0xD1B5_4A32_D192_ED03) >> 61 < 3).collect();
    DataFrame::new_infer_height(vec![
        column("one", n, 1, seed),
        column("few", n, 5, seed ^ 1),
        column("bytes", n, 250, seed ^ 2),
        column("shorts", n, 3_000, seed ^ 3),
        column("dense", n, 1 << 40, seed ^ 4),
        Column::new("kind".into(), (0..n).map(|i| ["a", "b", "c"][i % 3]).collect::<Vec<_>>()),
        Column::new("label".into(), label),
    ])
    .unwrap()
}

const NUMERIC: [&str; 5] = ["one", "few", "bytes", "shorts", "dense"];

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_compact_matrix_holds_the_dense_values_and_fits_the_same_scorecard() {
    let n = 70_000;
    let df = frame(n, 11);
    let pre = Preprocessor::fit(&df, &names(&NUMERIC), &names(&["kind"])).unwrap();
    let negated: Vec<bool> = (0..pre.columns.len()).map(|j| j % 3 == 1).collect();
    let mut dense = pre.transform(&df).unwrap();
    for (j, &neg) in negated.iter().enumerate() {
        if neg {
            dense.column_mut(j).mapv_inplace(|v| -v);
        }
    }
    let dense = ndarray::Array2::from_shape_vec(dense.dim().f(), dense.t().iter().copied().collect()).unwrap();
    let compact = CompactMatrix::build(&pre, &df, &negated).unwrap();
    assert_eq!(compact.dim(), dense.dim());
    for (a, e) in [(0, n), (0, 1), (17, 16_401), (n - 5, n), (n, n)] {
        let block = compact.block(a, e);
        let expected = dense.slice(ndarray::s![a..e, ..]);
        assert!(block.iter().zip(expected.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "rows {a}..{e}");
        assert_eq!(block.dim(), expected.dim());
    }
    // The columns of few distinct values take one byte a row, not eight.
    assert!(compact.bytes() < 8 * n * 3, "{} bytes", compact.bytes());
    let y: Vec<bool> = df.column("label").unwrap().bool().unwrap().iter().map(|v| v.unwrap()).collect();
    let params = LogisticParams { l2: 1.0, ..Default::default() };
    let nonnegative: Vec<bool> = (0..pre.columns.len()).map(|j| j % 2 == 0).collect();
    let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64 / 7.0).collect();
    let from_dense = logistic::fit(&dense.view(), &y, Some(&weights), &nonnegative, &params).unwrap();
    let from_compact = logistic::fit(&compact, &y, Some(&weights), &nonnegative, &params).unwrap();
    assert_eq!(from_dense.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), from_compact.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    assert_eq!(from_dense.1.to_bits(), from_compact.1.to_bits());
}

fn parts_of(df: &DataFrame, cuts: &[usize], rows: &mut Rows) {
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&df.height())) {
        let end = end.clamp(start, df.height());
        rows.push(df.slice(start as i64, end - start)).unwrap();
        start = end;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rows_in_parts_give_back_their_columns_and_rows(n in 0usize..400, cuts in proptest::collection::vec(0usize..400, 0..5), picks in proptest::collection::btree_set(0usize..400, 0..60), on_disk in any::<bool>(), seed in any::<u64>()) {
        let df = frame(n, seed);
        let dir = tempfile::tempdir().unwrap();
        let spill = if on_disk { riskwarn::io::Spill::in_dir(dir.path()).unwrap() } else { riskwarn::io::Spill::memory() };
        let mut cuts = cuts;
        cuts.sort();
        let mut rows = Rows::new(Arc::new(spill), "t");
        parts_of(&df, &cuts, &mut rows);
        prop_assert_eq!(rows.height(), n);
        prop_assert!(rows.frame().unwrap().equals_missing(&df));
        prop_assert!(rows.columns(&["kind", "few"]).unwrap().equals_missing(&df.select(["kind", "few"]).unwrap()));
        let picks: Vec<IdxSize> = picks.into_iter().filter(|&i| i < n).map(|i| i as IdxSize).collect();
        let expected = df.take(&IdxCa::from_vec("".into(), picks.clone())).unwrap();
        prop_assert!(rows.take(&picks).unwrap().equals_missing(&expected));
        // Out of order or out of range is refused, not answered wrongly.
        prop_assert!(rows.take(&[n as IdxSize]).is_err());
        if picks.len() > 1 {
            let mut reversed = picks.clone();
            reversed.reverse();
            prop_assert!(rows.take(&reversed).is_err());
        }
    }
}
