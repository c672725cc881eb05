//! Output files that appear complete or not at all.
//!
//! Every output is written to a hidden temporary name in its target
//! directory and renamed into place once complete. Temporary files are
//! removed when dropped (an error), and by [`remove_all_pending`], which the
//! command-line front end calls when interrupted (Ctrl-C, SIGTERM, SIGHUP);
//! writes fail once the program is interrupted.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files not yet renamed into place, for clean-up on a signal.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A file being written under a temporary name, renamed to its final name by
/// [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    writer: Option<BufWriter<File>>,
    temp: PathBuf,
    dest: PathBuf,
    /// Whether writes fail once the program is interrupted.
    interruptible: bool,
}

impl AtomicFile {
    /// Starts writing output `dest`: creates `.NAME.tmp-PID-N` beside it.
    /// Writes fail once the program is interrupted.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        AtomicFile::open(dest, true)
    }

    /// Starts writing `dest`, a record of what happened (a log, a state):
    /// as [`AtomicFile::create`], but written through an interrupt, which
    /// it may have to record.
    pub fn create_record(dest: &Path) -> io::Result<AtomicFile> {
        AtomicFile::open(dest, false)
    }

    fn open(dest: &Path, interruptible: bool) -> io::Result<AtomicFile> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "output has no file name"))?
            .to_string_lossy();
        let prefix = format!(".{name}.tmp-{}-", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        // Outputs get the usual permissions (0666 less the umask), not 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        // The file is created and registered under the lock, so that an
        // interrupt's clean-up never misses one it can see on disk.
        let mut pending = PENDING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let temp = builder.tempfile_in(dir)?;
        let (file, temp_path) = temp.keep().map_err(|e| e.error)?;
        pending.push(temp_path.clone());
        drop(pending);
        Ok(AtomicFile {
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            temp: temp_path,
            dest: dest.to_path_buf(),
            interruptible,
        })
    }

    /// An error once the program is interrupted, unless this is a record.
    fn check_interrupt(&self) -> io::Result<()> {
        if self.interruptible {
            crate::interrupt::check()
        } else {
            Ok(())
        }
    }

    /// The final path this file will have.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flushes, syncs and renames the file to its final name. On an error
    /// nothing partial stays behind: not under the final name (never
    /// written), nor under the temporary one.
    pub fn commit(mut self) -> io::Result<()> {
        self.check_interrupt()?;
        let writer = self.writer.as_mut().expect("writer present until commit");
        writer.flush()?;
        writer.get_ref().sync_all()?;
        drop(self.writer.take());
        // Renamed under the lock: once an interrupt's clean-up holds it, no
        // output takes its final name.
        let mut pending = PENDING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let renamed = std::fs::rename(&self.temp, &self.dest).map_err(|error| {
            let _ = std::fs::remove_file(&self.temp);
            rename_error(&self.dest, error)
        });
        pending.retain(|p| p != &self.temp);
        renamed
    }
}

/// Says why a finished output could not take its name.
fn rename_error(dest: &Path, error: io::Error) -> io::Error {
    if dest.is_dir() {
        io::Error::new(
            error.kind(),
            format!(
                "cannot write the output: a directory has its name ({error}); move the directory away"
            ),
        )
    } else {
        error
    }
}

/// Each write to an output fails once the program is interrupted, so that
/// an interrupted tool stops writing.
impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_interrupt()?;
        self.writer.as_mut().expect("not committed").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check_interrupt()?;
        self.writer.as_mut().expect("not committed").write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
            forget_pending(&self.temp);
        }
    }
}

fn forget_pending(path: &Path) {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .retain(|p| p != path);
}

/// Removes every temporary file still being written. Called on interruption,
/// just before the process exits: it keeps the list locked, so no output
/// starts (or finishes) after it.
pub fn remove_all_pending() -> usize {
    // A poisoned lock means a writer panicked; the paths are still valid.
    let pending = PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let removed = pending
        .iter()
        .filter(|path| std::fs::remove_file(path).is_ok())
        .count();
    std::mem::forget(pending);
    removed
}

/// Removes the temporary files that other processes left in `dir` (named
/// as [`AtomicFile::create`] names them, `.NAME.tmp-PID-…`, with a PID not
/// this process's): call it only where no other writer can be at work, as
/// a pipeline run does under its lock. Returns how many were removed.
pub fn remove_stale(dir: &Path) -> usize {
    let ours = format!(".tmp-{}-", std::process::id());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with('.') && name.contains(".tmp-") && !name.contains(&ours)
        })
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

/// Writes output `dest` atomically with the bytes `write` produces.
pub fn write_with(
    dest: &Path,
    write: impl FnOnce(&mut AtomicFile) -> io::Result<()>,
) -> io::Result<()> {
    let mut file = AtomicFile::create(dest)?;
    write(&mut file)?;
    file.commit()
}

/// Writes record `dest` atomically with `bytes`, interrupted or not (see
/// [`AtomicFile::create_record`]).
pub fn write_record(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create_record(dest)?;
    file.write_all(bytes)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_file_has_its_final_name_and_no_temporary_remains() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        write_with(&dest, |f| f.write_all(b"a\n1\n")).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"a\n1\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_rename_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("inside"), "x").unwrap();
        let error = write_with(&dest, |f| f.write_all(b"a\n1\n")).unwrap_err();
        assert!(
            error.to_string().contains("a directory has its name"),
            "{error}"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.csv"]);
        assert!(
            PENDING
                .lock()
                .unwrap()
                .iter()
                .all(|p| !p.starts_with(dir.path()))
        );
    }

    #[test]
    fn a_dropped_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        let result = write_with(&dest, |f| {
            f.write_all(b"partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
