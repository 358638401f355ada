//! The tools' errors: one enum, each variant naming what failed and where, with the library's
//! error as its `source()`.

use std::fmt;
use std::io;
use std::path::PathBuf;

use charmlp::checkpoint::{CheckpointError, Difference};
use charmlp::data::DataError;
use charmlp::interop::InteropError;
use charmlp::weights::TableError;
use charmlp::{SampleError, Shape, ShapeError, TrainError, WeightsError};

/// A flag whose value is out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagError {
    /// The flag, e.g. `--lr`.
    pub flag: &'static str,
    /// Its value as given.
    pub value: String,
    /// What it must be, e.g. `finite and > 0`.
    pub expected: &'static str,
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be {}, got {}",
            self.flag, self.expected, self.value
        )
    }
}

impl std::error::Error for FlagError {}

/// Why a tool failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// A flag is out of range.
    Flag(FlagError),
    /// The dataset.
    Data {
        /// The data file.
        path: PathBuf,
        /// What is wrong with it.
        err: DataError,
    },
    /// The model's shape.
    Shape(ShapeError),
    /// Too few items for a split with every part non-empty.
    TooFewItems {
        /// Items in the file.
        items: usize,
    },
    /// Training diverged or a batch was bad.
    Train(TrainError),
    /// Sampling failed.
    Sample(SampleError),
    /// Fine-tuning failed (a diverging step, a bad list).
    FineTune(String),
    /// A name could not be scored.
    Score {
        /// The name.
        name: String,
        /// Why (a character the model does not know).
        err: SampleError,
    },
    /// A weights file.
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        err: WeightsError,
    },
    /// A per-position table file.
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        err: TableError,
    },
    /// A checkpoint file.
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        err: CheckpointError,
    },
    /// `--resume` with settings that differ from the checkpoint's.
    ResumeMismatch {
        /// The checkpoint.
        path: PathBuf,
        /// Every setting that differs.
        differences: Vec<Difference>,
    },
    /// `--resume` with another model shape than the checkpoint's.
    ResumeShape {
        /// The checkpoint.
        path: PathBuf,
        /// The checkpoint's shape.
        checkpoint: Shape,
        /// The shape asked for now.
        now: Shape,
    },
    /// Another process holds the output directory's lock.
    Busy {
        /// The output directory.
        dir: PathBuf,
        /// What the lock file says about its holder (`pid N`).
        holder: String,
    },
    /// A fresh run would overwrite an interrupted run's checkpoint.
    WouldOverwrite {
        /// The checkpoint.
        path: PathBuf,
        /// What is there, e.g. `an interrupted run (step 10000 of 30000)`.
        what: String,
    },
    /// A file could not be read or written.
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        err: io::Error,
    },
    /// A safetensors conversion.
    Interop {
        /// The input file.
        path: PathBuf,
        /// What is wrong.
        err: InteropError,
    },
    /// A plot could not be drawn.
    Plot {
        /// The plot file.
        path: PathBuf,
        /// The plotting library's message.
        message: String,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Flag(e) => write!(f, "{e}"),
            RunError::Data { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Shape(e) => write!(f, "model shape: {e}"),
            RunError::TooFewItems { items } => write!(
                f,
                "the dataset has {items} items: too few for an 80/10/10 split with every split non-empty (at least 10 are needed)"
            ),
            RunError::Train(e) => write!(f, "{e}"),
            RunError::Sample(e) => write!(f, "sampling: {e}"),
            RunError::Score { name, err } => write!(f, "cannot score {name:?}: {err}"),
            RunError::FineTune(e) => write!(f, "fine-tuning: {e}"),
            RunError::Weights { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Table { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Checkpoint { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::ResumeMismatch { path, differences } => {
                write!(
                    f,
                    "{}: cannot resume: the checkpoint was written with other settings:",
                    path.display()
                )?;
                for d in differences {
                    write!(
                        f,
                        "\n  {}: {} in the checkpoint, {} now",
                        d.name, d.checkpoint, d.now
                    )?;
                }
                write!(
                    f,
                    "\nresume with the checkpoint's settings, or start over with --overwrite"
                )
            }
            RunError::ResumeShape {
                path,
                checkpoint,
                now,
            } => write!(
                f,
                "{}: cannot resume: the checkpoint's model is {checkpoint}, this run's is {now}",
                path.display()
            ),
            RunError::Io { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Interop { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Busy { dir, holder } => write!(
                f,
                "{}: another run is using this output directory ({}); wait for it, or use another --out",
                dir.display(),
                if holder.is_empty() {
                    "holder unknown"
                } else {
                    holder
                }
            ),
            RunError::WouldOverwrite { path, what } => write!(
                f,
                "{}: {what}; continue it with --resume, or start over (replacing it) with --overwrite",
                path.display()
            ),
            RunError::Plot { path, message } => {
                write!(f, "{}: cannot draw the plot: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Flag(e) => Some(e),
            RunError::Data { err, .. } => Some(err),
            RunError::Shape(e) => Some(e),
            RunError::Train(e) => Some(e),
            RunError::Sample(e) => Some(e),
            RunError::Weights { err, .. } => Some(err),
            RunError::Checkpoint { err, .. } => Some(err),
            RunError::Io { err, .. } => Some(err),
            RunError::Interop { err, .. } => Some(err),
            RunError::Table { err, .. } => Some(err),
            RunError::Score { err, .. } => Some(err),
            _ => None,
        }
    }
}

impl From<FlagError> for RunError {
    fn from(e: FlagError) -> Self {
        RunError::Flag(e)
    }
}

impl From<ShapeError> for RunError {
    fn from(e: ShapeError) -> Self {
        RunError::Shape(e)
    }
}

impl From<TrainError> for RunError {
    fn from(e: TrainError) -> Self {
        RunError::Train(e)
    }
}

impl From<SampleError> for RunError {
    fn from(e: SampleError) -> Self {
        RunError::Sample(e)
    }
}

/// Checks a flag: `Ok(value)` if `ok(value)`, else a [`FlagError`].
pub fn check<T: fmt::Debug + Copy>(
    flag: &'static str,
    value: T,
    expected: &'static str,
    ok: impl FnOnce(T) -> bool,
) -> Result<T, FlagError> {
    if ok(value) {
        Ok(value)
    } else {
        Err(FlagError {
            flag,
            // Debug: the shortest exact form of a float (`1e-45`, not 46 decimals).
            value: format!("{value:?}"),
            expected,
        })
    }
}
