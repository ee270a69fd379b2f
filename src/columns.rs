//! String columns of few distinct values, built so that each distinct value is stored once and
//! every row views it: at province scale the list and the plan repeat a few long strings (the
//! reasons' features, the model id, the plan's method, region and industry names) millions of
//! times, which a column built value by value copies for every row.

use std::collections::HashMap;

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};

use crate::error::{Error, Result};

/// A column of `dictionary[i]` for each `i` of `index` (None: null).
pub fn repeated(name: &str, dictionary: &[&str], index: impl ExactSizeIterator<Item = Option<usize>>) -> Result<Series> {
    let mut bytes = Vec::new();
    let mut view_of = Vec::with_capacity(dictionary.len());
    for s in dictionary {
        let offset = u32::try_from(bytes.len()).map_err(|_| Error::Internal(format!("{name}: more than 4 GB of distinct values")))?;
        view_of.push(View::new_from_bytes(s.as_bytes(), 0, offset));
        if s.len() > View::MAX_INLINE_SIZE as usize {
            bytes.extend_from_slice(s.as_bytes());
        }
    }
    let mut validity = polars_arrow::bitmap::MutableBitmap::with_capacity(index.len());
    let views: Vec<View> = index
        .map(|i| {
            validity.push(i.is_some());
            i.map_or_else(View::default, |i| view_of[i])
        })
        .collect();
    let validity: Option<polars_arrow::bitmap::Bitmap> = if validity.unset_bits() > 0 { Some(validity.into()) } else { None };
    let array = Utf8ViewArray::try_new(polars_arrow::datatypes::ArrowDataType::Utf8View, views.into(), vec![bytes.into()].into(), validity)
        .map_err(|e| Error::Internal(format!("{name}: {e}")))?;
    Ok(StringChunked::with_chunk(name.into(), array).into_series())
}

/// `values` with each value replaced by its `label` (a value without one stays as it is; nulls
/// stay null), each distinct result stored once.
pub fn relabeled<'a>(name: &str, values: &'a StringChunked, label: impl Fn(&'a str) -> Option<&'a str>) -> Result<Series> {
    let mut dictionary: Vec<&str> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let index: Vec<Option<usize>> = values
        .iter()
        .map(|v| {
            v.map(|v| {
                *index_of.entry(v).or_insert_with(|| {
                    dictionary.push(label(v).unwrap_or(v));
                    dictionary.len() - 1
                })
            })
        })
        .collect();
    repeated(name, &dictionary, index.into_iter())
}

/// Distinct strings numbered in order of first appearance: a column of millions of rows and few
/// values held as 4-byte codes.
#[derive(Debug, Clone, Default)]
pub struct Coder {
    index: HashMap<String, u32>,
    pub values: Vec<String>,
}

impl Coder {
    /// The code of a null.
    pub const NULL: u32 = u32::MAX;

    pub fn code(&mut self, v: &str) -> u32 {
        if let Some(&c) = self.index.get(v) {
            return c;
        }
        let c = self.values.len() as u32;
        self.index.insert(v.to_string(), c);
        self.values.push(v.to_string());
        c
    }

    /// The code of a value or a null.
    pub fn code_of(&mut self, v: Option<&str>) -> u32 {
        v.map_or(Self::NULL, |v| self.code(v))
    }

    /// The value of a code (None for [`Coder::NULL`]).
    pub fn value(&self, c: u32) -> Option<&str> {
        self.values.get(c as usize).map(String::as_str)
    }

    /// A string column of the values of `codes`, each distinct value stored once.
    pub fn column(&self, name: &str, codes: &[u32]) -> Result<Series> {
        let dictionary: Vec<&str> = self.values.iter().map(String::as_str).collect();
        repeated(name, &dictionary, codes.iter().map(|&c| (c != Self::NULL).then_some(c as usize)))
    }
}

