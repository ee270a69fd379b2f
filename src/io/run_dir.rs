//! A run's output directory (docs/outputs.md). Files are written into `OUT/.tmp-<run_id>-<pid>/`
//! while the run holds an exclusive OS lock on `OUT/.tmp-<run_id>-<pid>.lock`; when every file
//! is complete the directory is renamed to `OUT/<run_id>/` and `OUT/latest` is switched last.
//!
//! The lock is how a live run is told from a dead one on every platform: the operating system
//! releases it when the process ends, however it ends, so a temporary directory whose lock can
//! be taken belongs to a killed run and is removed by the next run.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use super::{create_dir_all, At};
use crate::error::{Error, IoAction, Result};

/// A committed run found in an output directory.
#[derive(Debug, Clone)]
pub struct RunEntry {
    pub dir: PathBuf,
    pub run_id: String,
    pub as_of: String,
}

/// Every committed run in `out`: the directories holding a manifest with a run id and an as-of
/// date. Temporary directories, `latest` and anything unreadable are skipped; a missing `out`
/// holds no run.
pub fn list_runs(out: &Path) -> Vec<RunEntry> {
    let Ok(entries) = std::fs::read_dir(out) else { return Vec::new() };
    let mut runs = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == "latest" || !e.path().is_dir() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path().join("manifest.json")) else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let (Some(id), Some(date)) = (v["run_id"].as_str(), v["as_of"].as_str()) else { continue };
        runs.push(RunEntry { dir: e.path(), run_id: id.to_string(), as_of: date.to_string() });
    }
    runs
}

/// The temporary directory of a run in progress, locked for as long as this value lives.
/// Dropped without [`RunDir::commit`], it removes the directory; a killed process leaves it to
/// the next run.
pub struct RunDir {
    out: PathBuf,
    run_id: String,
    tmp: LockedDir,
}

/// A temporary directory `OUT/<name>/` held under an OS lock on `OUT/<name>.lock`: created
/// empty (after removing the temporary directories of dead processes), and on drop removed
/// unless kept, its lock released and its lock file removed.
struct LockedDir {
    dir: PathBuf,
    lock_path: PathBuf,
    lock: Option<File>,
    keep: bool,
}

impl LockedDir {
    fn create(out: &Path, name: &str) -> Result<LockedDir> {
        create_dir_all(out)?;
        let lock_path = out.join(format!("{name}.lock"));
        let lock = lock_new(&lock_path)?;
        let locked = LockedDir { dir: out.join(name), lock_path, lock: Some(lock), keep: false };
        remove_dead_temp_dirs(out);
        // A leftover of this very name cannot be live: its lock is ours.
        if locked.dir.exists() {
            std::fs::remove_dir_all(&locked.dir).at(IoAction::Remove, &locked.dir)?;
        }
        std::fs::create_dir(&locked.dir).at(IoAction::CreateDir, &locked.dir)?;
        Ok(locked)
    }
}

impl Drop for LockedDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        release(self.lock.take());
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

impl RunDir {
    /// Creates `out` if needed, takes this run's lock, removes the temporary directories of dead
    /// runs, and creates an empty temporary directory.
    pub fn create(out: &Path, run_id: &str) -> Result<RunDir> {
        let tmp = LockedDir::create(out, &format!(".tmp-{run_id}-{}", std::process::id()))?;
        Ok(RunDir { out: out.to_path_buf(), run_id: run_id.to_string(), tmp })
    }

    /// Where the run's files are written.
    pub fn path(&self) -> &Path {
        &self.tmp.dir
    }

    /// Renames the finished directory to `out/<run_id>` (replacing a run of the same id whole),
    /// then points `out/latest` at it. Returns the run's directory.
    ///
    /// A run of the same id (same inputs, model, policy, seed and baseline) is first moved
    /// aside to `<temporary name>.old`, under this run's lock: if the process dies before the new
    /// directory is in place, the next run finds the lock free and puts the old one back.
    pub fn commit(mut self) -> Result<PathBuf> {
        let target = self.out.join(&self.run_id);
        let aside = replaced_name(&self.tmp.dir);
        let replacing = target.exists();
        if replacing {
            std::fs::rename(&target, &aside).at(IoAction::Rename, &aside)?;
        }
        if let Err(e) = std::fs::rename(&self.tmp.dir, &target).at(IoAction::Rename, &target) {
            if replacing {
                let _ = std::fs::rename(&aside, &target);
            }
            return Err(e);
        }
        self.tmp.keep = true;
        point_latest(&self.out, &self.run_id)?;
        if replacing {
            // Best effort: a leftover is removed by the next run.
            let _ = std::fs::remove_dir_all(&aside);
        }
        Ok(target)
    }
}

/// Where a committing run keeps the run of the same id it replaces.
fn replaced_name(tmp: &Path) -> PathBuf {
    let mut name = tmp.as_os_str().to_owned();
    name.push(".old");
    PathBuf::from(name)
}

/// Creates and locks this run's lock file. A dead run's cleanup may remove the file between our
/// open and our lock; then the lock is on a name that no longer exists, and it is taken again.
fn lock_new(path: &Path) -> Result<File> {
    for _ in 0..100 {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path).at(IoAction::Lock, path)?;
        match file.try_lock() {
            Ok(()) if path.exists() => return Ok(file),
            Ok(()) => continue,
            Err(TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(10)),
            // A file system without locks: the run goes on, and no run can remove its directory.
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(file),
            Err(TryLockError::Error(e)) => return Err(Error::io(IoAction::Lock, path, e)),
        }
    }
    Err(Error::io(IoAction::Lock, path, std::io::Error::new(std::io::ErrorKind::WouldBlock, "held by another process")))
}

/// The lock of a temporary directory: held by a live run, or free (taken now, or no lock file).
enum Lock {
    Held,
    Free(Option<File>),
}

fn probe(path: &Path) -> Lock {
    match OpenOptions::new().write(true).open(path) {
        Ok(file) => match file.try_lock() {
            Ok(()) => Lock::Free(Some(file)),
            // Held, or locks are not supported here: then never remove it.
            Err(_) => Lock::Held,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lock::Free(None),
        Err(_) => Lock::Held,
    }
}

/// Removes the `.tmp-*` directories (and lock files) of runs that are no longer alive. Best
/// effort: what cannot be removed now is tried again by the next run.
fn remove_dead_temp_dirs(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with(".tmp-") {
            continue;
        }
        let path = e.path();
        if let Some(tmp_name) = name.strip_suffix(".old") {
            restore_or_remove_replaced(out, &path, tmp_name);
            continue;
        }
        let (dir, lock_path) = match name.strip_suffix(".lock") {
            // A lock file whose directory is gone: a run killed after its commit, or a run
            // about to create its directory (then its lock is held).
            Some(dir_name) if out.join(dir_name).exists() => continue,
            Some(_) => (None, path),
            None if path.is_dir() => (Some(path), out.join(format!("{name}.lock"))),
            None => continue,
        };
        let Lock::Free(lock) = probe(&lock_path) else { continue };
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        release(lock);
        let _ = std::fs::remove_file(&lock_path);
    }
}

/// A run that died while replacing `out/<run_id>` left the old directory at
/// `.tmp-<run_id>-<pid>.old`: put back if the new one never arrived, else removed.
fn restore_or_remove_replaced(out: &Path, path: &Path, tmp_name: &str) {
    let lock_path = out.join(format!("{tmp_name}.lock"));
    let Lock::Free(lock) = probe(&lock_path) else { return };
    let run_id = tmp_name.strip_prefix(".tmp-").and_then(|rest| rest.rsplit_once('-')).map(|(id, _pid)| id);
    match run_id.map(|id| out.join(id)) {
        Some(target) if !target.exists() => {
            let _ = std::fs::rename(path, target);
        }
        _ => {
            let _ = std::fs::remove_dir_all(path);
        }
    }
    release(lock);
}

/// Unlocks explicitly rather than by closing: a lock lasts until the last copy of its descriptor
/// is closed, and a process being spawned at that moment may hold a copy until its exec.
fn release(lock: Option<File>) {
    if let Some(file) = lock {
        let _ = file.unlock();
    }
}

/// Switches `out/latest` to the run: a relative symbolic link, replaced by an atomic rename.
#[cfg(unix)]
fn point_latest(out: &Path, run_id: &str) -> Result<()> {
    let link = out.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(run_id, &link).at(IoAction::Link, &link)?;
    let latest = out.join("latest");
    std::fs::rename(&link, &latest).at(IoAction::Link, &latest)
}

/// Switches `out/latest` to the run. A directory link cannot be replaced atomically here, so the
/// old one is removed first; where symbolic links may not be made (Windows without developer
/// mode or the privilege), `latest` is a text file holding the run id (docs/outputs.md).
#[cfg(not(unix))]
fn point_latest(out: &Path, run_id: &str) -> Result<()> {
    let latest = out.join("latest");
    match std::fs::symlink_metadata(&latest) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_dir(&latest).or_else(|_| std::fs::remove_file(&latest)).at(IoAction::Link, &latest)?
        }
        Ok(m) if m.is_file() => std::fs::remove_file(&latest).at(IoAction::Link, &latest)?,
        _ => {}
    }
    #[cfg(windows)]
    if std::os::windows::fs::symlink_dir(run_id, &latest).is_ok() {
        return Ok(());
    }
    super::write_text(&latest, &format!("{run_id}\n"))
}

/// A locked temporary directory for a bucketed run's intermediate files,
/// `OUT/.riskwarn-spill/.tmp-spill-<pid>-<nanos>/`: removed when dropped (and the
/// `.riskwarn-spill` folder with it once empty), and by the next bucketed run in `OUT` if this
/// one is killed. Only that folder is ever cleaned, never `OUT` itself (for `train`, `OUT` is
/// the model file's directory, which may hold anything).
pub struct SpillDir {
    container: PathBuf,
    dir: Option<LockedDir>,
}

impl SpillDir {
    pub fn create(out: &Path) -> Result<SpillDir> {
        let container = out.join(".riskwarn-spill");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = LockedDir::create(&container, &format!(".tmp-spill-{}-{nanos}", std::process::id()))?;
        Ok(SpillDir { container, dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        &self.dir.as_ref().expect("live until dropped").dir
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        drop(self.dir.take());
        // Fails while another run's spill is there, as it should.
        let _ = std::fs::remove_dir(&self.container);
    }
}
