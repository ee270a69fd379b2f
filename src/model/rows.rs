//! A panel's rows kept as parts (one per date, or per bucket) in a spill — in memory with one
//! bucket, on disk with more — so a fit reads the few columns or the sample it needs and the
//! rows are never all in memory at once (at 4M subjects × 8 dates they are 7.6 GB).

use std::sync::Arc;

use polars::prelude::*;

use super::matrix::{missing_feature, FeatureSource};
use crate::error::{Error, Result};
use crate::io::Spill;

/// Rows with the same columns, in parts, in the order they were pushed.
#[derive(Clone)]
pub struct Rows {
    spill: Arc<Spill>,
    name: String,
    /// Each part's key in the spill and its height.
    parts: Vec<(String, usize)>,
    columns: Vec<String>,
}

impl Rows {
    /// No rows yet; parts are kept in `spill` under `name/<k>`.
    pub fn new(spill: Arc<Spill>, name: &str) -> Rows {
        Rows { spill, name: name.into(), parts: Vec::new(), columns: Vec::new() }
    }

    /// Appends `part`, whose columns must be the first part's.
    pub fn push(&mut self, part: DataFrame) -> Result<()> {
        let names: Vec<String> = part.get_column_names().iter().map(|n| n.to_string()).collect();
        if self.parts.is_empty() {
            self.columns = names;
        } else if names != self.columns {
            return Err(Error::Internal(format!("{}: a part with other columns than the first", self.name)));
        }
        let key = format!("{}/{}", self.name, self.parts.len());
        let height = part.height();
        self.spill.put(&key, part)?;
        self.parts.push((key, height));
        Ok(())
    }

    pub fn height(&self) -> usize {
        self.parts.iter().map(|(_, h)| h).sum()
    }

    pub fn column_names(&self) -> &[String] {
        &self.columns
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c == name)
    }

    /// The columns `names` of every row, one part read at a time.
    pub fn columns(&self, names: &[&str]) -> Result<DataFrame> {
        let mut out: Option<DataFrame> = None;
        for (key, _) in &self.parts {
            crate::bucket::stack(&mut out, self.spill.get_columns(key, names)?)?;
        }
        let mut out = out.unwrap_or_default();
        out.rechunk_mut();
        Ok(out)
    }

    /// The rows at `rows` (ascending positions over all parts), in that order.
    pub fn take(&self, rows: &[IdxSize]) -> Result<DataFrame> {
        if rows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Internal(format!("{}: rows to take must ascend", self.name)));
        }
        let mut out: Option<DataFrame> = None;
        let (mut start, mut next) = (0usize, 0usize);
        for (key, height) in &self.parts {
            let end = start + height;
            let first = next;
            while next < rows.len() && (rows[next] as usize) < end {
                next += 1;
            }
            if next > first {
                let local: Vec<IdxSize> = rows[first..next].iter().map(|r| r - start as IdxSize).collect();
                let part = self.spill.get(key)?;
                crate::bucket::stack(&mut out, part.take(&IdxCa::from_vec("".into(), local))?)?;
            }
            start = end;
        }
        if next < rows.len() {
            return Err(Error::Internal(format!("{}: row {} of {}", self.name, rows[next], start)));
        }
        if out.is_none()
            && let Some((key, _)) = self.parts.first()
        {
            out = Some(self.spill.get(key)?.head(Some(0)));
        }
        let mut out = out.unwrap_or_default();
        out.rechunk_mut();
        Ok(out)
    }

    /// Every row in one frame.
    pub fn frame(&self) -> Result<DataFrame> {
        let mut out: Option<DataFrame> = None;
        for part in self.parts() {
            crate::bucket::stack(&mut out, part?)?;
        }
        let mut out = out.unwrap_or_default();
        out.rechunk_mut();
        Ok(out)
    }

    /// Each part's rows, read when iterated to.
    pub fn parts(&self) -> impl Iterator<Item = Result<DataFrame>> + '_ {
        self.parts.iter().map(|(key, _)| self.spill.get(key))
    }
}

impl FeatureSource for Rows {
    fn rows(&self) -> usize {
        self.height()
    }
    fn feature(&self, name: &str) -> Result<Column> {
        if !self.has_column(name) {
            return Err(missing_feature(name));
        }
        let frame = self.columns(&[name])?;
        Ok(frame.column(name)?.clone())
    }
}
