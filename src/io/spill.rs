//! Where a bucketed run keeps what one pass made of a bucket until a later pass needs it: in
//! memory when there is one bucket (nothing is written), otherwise as uncompressed-fast Parquet
//! files in a locked temporary directory of the output directory ([`SpillDir`]), each file
//! removed as it is taken back and the directory when the spill is dropped.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;

use super::run_dir::SpillDir;
use super::{create_dir_all, At};
use crate::error::{Error, IoAction, Result};

pub struct Spill {
    store: Store,
}

enum Store {
    Memory(Mutex<HashMap<String, DataFrame>>),
    Disk { dir: SpillDir, out: PathBuf, written: Mutex<u64> },
}

impl Spill {
    /// A spill that holds its frames in memory.
    pub fn memory() -> Spill {
        Spill { store: Store::Memory(Mutex::new(HashMap::new())) }
    }

    /// A spill in a new temporary directory of `out`.
    pub fn in_dir(out: &Path) -> Result<Spill> {
        Ok(Spill { store: Store::Disk { dir: SpillDir::create(out)?, out: out.to_path_buf(), written: Mutex::new(0) } })
    }

    /// A new, empty spill of the same kind: in memory, or in its own temporary directory beside
    /// this one's.
    pub fn sibling(&self) -> Result<Spill> {
        match &self.store {
            Store::Memory(_) => Ok(Spill::memory()),
            Store::Disk { out, .. } => Spill::in_dir(out),
        }
    }

    fn path(dir: &SpillDir, key: &str) -> PathBuf {
        dir.path().join(format!("{key}.parquet"))
    }

    /// Keeps `frame` under `key` (replacing what was there).
    pub fn put(&self, key: &str, mut frame: DataFrame) -> Result<()> {
        match &self.store {
            Store::Memory(m) => {
                m.lock().expect("spill lock").insert(key.to_string(), frame);
            }
            Store::Disk { dir, written, .. } => {
                let path = Self::path(dir, key);
                if let Some(parent) = path.parent() {
                    create_dir_all(parent)?;
                }
                let file = File::create(&path).at(IoAction::Write, &path)?;
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Lz4Raw)
                    .with_statistics(StatisticsOptions::empty())
                    .finish(&mut frame)
                    .map_err(|e| Error::io(IoAction::Write, &path, std::io::Error::other(e.to_string())))?;
                *written.lock().expect("spill lock") += super::file_len(&path)?;
            }
        }
        Ok(())
    }

    /// Takes back the frame kept under `key`.
    pub fn take(&self, key: &str) -> Result<DataFrame> {
        match &self.store {
            Store::Memory(m) => m.lock().expect("spill lock").remove(key).ok_or_else(|| Error::Internal(format!("spill: nothing kept under {key}"))),
            Store::Disk { dir, .. } => {
                let path = Self::path(dir, key);
                let file = File::open(&path).at(IoAction::Open, &path)?;
                let frame = ParquetReader::new(file).finish().map_err(|e| Error::io(IoAction::Read, &path, std::io::Error::other(e.to_string())))?;
                std::fs::remove_file(&path).at(IoAction::Remove, &path)?;
                Ok(frame)
            }
        }
    }

    /// A copy of the frame kept under `key`, which stays kept.
    pub fn get(&self, key: &str) -> Result<DataFrame> {
        match &self.store {
            Store::Memory(m) => m.lock().expect("spill lock").get(key).cloned().ok_or_else(|| Error::Internal(format!("spill: nothing kept under {key}"))),
            Store::Disk { dir, .. } => {
                let path = Self::path(dir, key);
                let file = File::open(&path).at(IoAction::Open, &path)?;
                ParquetReader::new(file).finish().map_err(|e| Error::io(IoAction::Read, &path, std::io::Error::other(e.to_string())))
            }
        }
    }

    /// The columns `names` of the frame kept under `key`, which stays kept (from disk, only those
    /// columns are read).
    pub fn get_columns(&self, key: &str, names: &[&str]) -> Result<DataFrame> {
        match &self.store {
            Store::Memory(m) => {
                let kept = m.lock().expect("spill lock");
                let frame = kept.get(key).ok_or_else(|| Error::Internal(format!("spill: nothing kept under {key}")))?;
                Ok(frame.select(names.iter().copied())?)
            }
            Store::Disk { dir, .. } => {
                let path = Self::path(dir, key);
                let file = File::open(&path).at(IoAction::Open, &path)?;
                let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                let frame = ParquetReader::new(file).with_columns(Some(names.clone())).finish().map_err(|e| Error::io(IoAction::Read, &path, std::io::Error::other(e.to_string())))?;
                Ok(frame.select(names)?)
            }
        }
    }

    /// Bytes written to disk so far (0 in memory).
    pub fn bytes_written(&self) -> u64 {
        match &self.store {
            Store::Memory(_) => 0,
            Store::Disk { written, .. } => *written.lock().expect("spill lock"),
        }
    }
}
