//! Files the tools write: every one atomically (a temporary file beside the target, flushed and
//! synced, then renamed over it), so a crash leaves either the old file or the new one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{fs, io};

use crate::error::RunError;

/// Writes `bytes` to `path` atomically.
///
/// # Errors
/// [`RunError::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let io = |err| RunError::Io {
        path: path.to_path_buf(),
        err,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io)
}

/// Reads a whole file, refusing more than `max` bytes.
///
/// # Errors
/// [`RunError::Io`] naming the path (a file over the cap is `InvalidData`).
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, RunError> {
    use std::io::Read as _;
    let io = |err| RunError::Io {
        path: path.to_path_buf(),
        err,
    };
    let f = fs::File::open(path).map_err(io)?;
    let mut out = Vec::new();
    f.take(max + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > max {
        return Err(io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        )));
    }
    Ok(out)
}
