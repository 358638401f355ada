//! Files the tools write, and the output directory a run owns.
//!
//! * Every file is written **atomically**: a temporary file created exclusively (`O_EXCL`, a
//!   random name, never following a link) beside the target by the `tempfile` crate, written,
//!   synced, renamed over the target, and then the directory is synced — so a crash leaves the
//!   old file or the new one, and a link planted at any name is replaced, never written through.
//! * A run **locks** its `--out` directory ([`OutDir::lock`], an OS file lock on `.charmlp.lock`,
//!   released when the process ends, even by `kill -9`): a second run on the same directory is
//!   refused with a message, and only the lock holder removes temporary files that a killed run
//!   left there.
//! * Output locations are **checked before any work** ([`check_output_file`],
//!   [`OutDir::lock`]): a file where a directory should be, a directory that cannot be written,
//!   a JSON path that is a directory — each is an error naming the path, before training starts.
//! * `-` as a file name means standard output ([`write_output`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{fs, io};

use crate::error::RunError;

/// Temporary files start with this (then the target's name), so a locked run can find the ones
/// a killed run left.
const TMP_PREFIX: &str = ".charmlp-tmp.";
/// The lock file in an output directory.
pub const LOCK_FILE: &str = ".charmlp.lock";

fn io_err(path: &Path) -> impl Fn(io::Error) -> RunError + '_ {
    move |err| RunError::Io {
        path: path.to_path_buf(),
        err,
    }
}

/// The directory a file goes in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Syncs a directory, so that a rename in it survives a crash (a no-op where directories cannot
/// be opened, e.g. on Windows).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically (see the module docs); the parent directory is created if
/// missing.
///
/// # Errors
/// [`RunError::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let io = io_err(path);
    let dir = parent_of(path);
    fs::create_dir_all(dir).map_err(&io)?;
    if path.is_dir() {
        return Err(io(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!("{TMP_PREFIX}{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // Created readable as any new file is (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(&io)?;
    tmp.write_all(bytes).map_err(&io)?;
    tmp.as_file().sync_all().map_err(&io)?;
    // On failure the temporary file is removed when `tmp` drops.
    tmp.persist(path).map_err(|e| io(e.error))?;
    sync_dir(dir).map_err(&io)
}

/// Writes `bytes` to `path` atomically, or to standard output if `path` is `-`.
///
/// # Errors
/// [`RunError::Io`] naming the path.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    if path == Path::new("-") {
        let mut out = io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(io_err(path));
    }
    write_atomic(path, bytes)
}

/// Checks, before any work, that `path` can be written by [`write_output`]: `-`, or not a
/// directory, in a directory that exists (or can be created) and accepts new files. Nothing is
/// left behind.
///
/// # Errors
/// [`RunError::Io`] naming the path.
pub fn check_output_file(path: &Path) -> Result<(), RunError> {
    if path == Path::new("-") {
        return Ok(());
    }
    let io = io_err(path);
    if path.is_dir() {
        return Err(io(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory, not a file",
        )));
    }
    let dir = parent_of(path);
    fs::create_dir_all(dir).map_err(&io)?;
    probe_writable(dir).map_err(io)
}

/// Creates and removes a temporary file in `dir`.
fn probe_writable(dir: &Path) -> io::Result<()> {
    tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map(drop)
}

/// An output directory owned by this process until dropped.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    // Holds the OS lock; closing it (drop, exit, kill) releases the lock.
    lock: Option<fs::File>,
    /// This run created the directory: if nothing but the lock is in it at the end (a run that
    /// failed before writing anything), it is removed again.
    created: bool,
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let lock_path = self.dir.join(LOCK_FILE);
        let only_lock = fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries
                .flatten()
                .all(|e| e.file_name() == std::ffi::OsStr::new(LOCK_FILE))
        });
        if self.created && only_lock {
            // Still holding the lock: no other run can be using the directory.
            let _ = fs::remove_file(&lock_path);
            let _ = fs::remove_dir(&self.dir);
        }
        drop(self.lock.take());
    }
}

impl OutDir {
    /// Creates `dir` if needed, checks that it is a writable directory, takes its lock (refusing
    /// if another run holds it), and removes temporary files that a killed run left in it.
    ///
    /// # Errors
    /// [`RunError::Io`] naming the directory (not a directory, not writable) or
    /// [`RunError::Busy`] if another process holds the lock.
    pub fn lock(dir: &Path) -> Result<OutDir, RunError> {
        let io = io_err(dir);
        if dir.exists() && !dir.is_dir() {
            return Err(io(io::Error::new(
                io::ErrorKind::NotADirectory,
                "exists and is not a directory (--out needs a directory)",
            )));
        }
        let created = !dir.exists();
        fs::create_dir_all(dir).map_err(&io)?;
        let out = OutDir {
            dir: dir.to_path_buf(),
            lock: None,
            created,
        };
        probe_writable(dir).map_err(&io)?;
        let lock_path = dir.join(LOCK_FILE);
        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&lock_path).unwrap_or_default();
                return Err(RunError::Busy {
                    dir: dir.to_path_buf(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        // Who holds it, for the message a second run prints.
        f.set_len(0).map_err(io_err(&lock_path))?;
        write!(f, "pid {}", std::process::id()).map_err(io_err(&lock_path))?;
        let mut out = out;
        out.lock = Some(f);
        out.remove_stale_temporaries()?;
        Ok(out)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Removes this directory's temporary files: with the lock held, no live run is writing
    /// them (they are a killed run's).
    fn remove_stale_temporaries(&self) -> Result<(), RunError> {
        let entries = fs::read_dir(&self.dir).map_err(io_err(&self.dir))?;
        for e in entries.flatten() {
            let stale = e.file_name().to_string_lossy().starts_with(TMP_PREFIX)
                && e.file_type().is_ok_and(|t| t.is_file());
            if stale {
                let p = e.path();
                fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
        Ok(())
    }
}

/// Reads a whole file, refusing more than `max` bytes.
///
/// # Errors
/// [`RunError::Io`] naming the path (a file over the cap is `InvalidData`).
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, RunError> {
    use std::io::Read as _;
    let io = io_err(path);
    let f = fs::File::open(path).map_err(&io)?;
    let mut out = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(&io)?;
    if out.len() as u64 > max {
        return Err(io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        )));
    }
    Ok(out)
}
