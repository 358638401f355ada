//! The crate's small error enums, one per layer.

use core::fmt;

pub use charmlp_kernels::KernelError;

pub use crate::shape::ShapeError;

/// A training step that could not be applied.
#[derive(Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The minibatch loss was NaN or infinite; the parameters were left as they were.
    NonFiniteLoss {
        /// The step (0-based count of steps applied before it) that diverged.
        step: u64,
        /// The loss it produced.
        loss: f32,
    },
    /// The batch was empty, larger than the workspace, or indexed outside the vocabulary.
    Batch(KernelError),
    /// The batch asked for more rows than the workspace holds.
    BatchTooLarge {
        /// Rows asked for.
        rows: usize,
        /// Rows the workspace holds.
        capacity: usize,
    },
    /// The parameters have another shape than the workspace.
    Shape,
    /// Gradients were asked of a workspace without gradient buffers (a lean workspace).
    NoGradients,
}

impl TrainError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            TrainError::NonFiniteLoss { .. } => "training diverged: the loss is not finite",
            TrainError::Batch(e) => e.as_str(),
            TrainError::BatchTooLarge { .. } => "the batch exceeds the workspace capacity",
            TrainError::Shape => "the parameters have another shape than the workspace",
            TrainError::NoGradients => "this workspace keeps no gradients (a lean workspace)",
        }
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::NonFiniteLoss { step, loss } => {
                write!(
                    f,
                    "training diverged at step {step}: loss is {loss}; lower the learning rate"
                )
            }
            TrainError::Batch(e) => write!(f, "bad batch: {e}"),
            TrainError::BatchTooLarge { rows, capacity } => {
                write!(
                    f,
                    "batch of {rows} rows exceeds the workspace capacity of {capacity}"
                )
            }
            TrainError::Shape | TrainError::NoGradients => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            TrainError::Batch(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KernelError> for TrainError {
    fn from(e: KernelError) -> Self {
        TrainError::Batch(e)
    }
}

/// Why sampling could not start or continue.
#[derive(Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SampleError {
    /// Temperature must be finite and above zero.
    BadTemperature(f32),
    /// Top-k must be at least 1.
    BadTopK,
    /// The weights produced a NaN or infinite probability.
    NonFiniteWeights,
    /// The output buffer filled before the name ended.
    BufferFull,
    /// The scratch buffers or the vocabulary do not fit the parameters' shape.
    Shape(ShapeError),
    /// A context that is not `B` indices below `V`.
    Context,
    /// A per-position table of another shape than the parameters'.
    TableShape,
    /// A character (of a prefix or a scored name) that is not in the vocabulary, or is `.`.
    Symbol(char),
}

impl SampleError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            SampleError::BadTemperature(_) => "temperature must be finite and > 0",
            SampleError::BadTopK => "top-k must be at least 1",
            SampleError::NonFiniteWeights => "the weights produce non-finite probabilities",
            SampleError::BufferFull => "the output buffer is full",
            SampleError::Shape(e) => e.as_str(),
            SampleError::Context => "the context is not B symbol indices of the vocabulary",
            SampleError::TableShape => "the position table has another shape than the model",
            SampleError::Symbol(_) => "a character is not in the model's vocabulary",
        }
    }
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SampleError::BadTemperature(t) => {
                write!(f, "temperature must be finite and > 0, got {t:?}")
            }
            SampleError::BadTopK => f.write_str("top-k must be at least 1"),
            SampleError::NonFiniteWeights => {
                f.write_str("the weights produce non-finite probabilities")
            }
            SampleError::Shape(e) => write!(f, "sampler: {e}"),
            SampleError::Symbol('.') => {
                f.write_str("'.' is the end marker and cannot appear inside a name")
            }
            SampleError::Symbol(c) => write!(
                f,
                "{c:?} (U+{:04X}) is not in the model's vocabulary",
                u32::from(c)
            ),
            _ => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for SampleError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SampleError::Shape(e) => Some(e),
            _ => None,
        }
    }
}

/// A vocabulary that cannot be built or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VocabError {
    /// More distinct symbols (plus the `.` terminator) than the model has classes.
    TooManySymbols {
        /// Symbols needed, the terminator included.
        needed: usize,
        /// Classes available.
        capacity: usize,
    },
    /// The same symbol appears twice.
    Duplicate(char),
    /// `.` is the terminator and cannot appear inside an item.
    ReservedSymbol(char),
    /// The first symbol must be the terminator `.`.
    MissingTerminator,
    /// A character that is not in the vocabulary.
    Unknown(char),
    /// An index with no symbol.
    BadIndex(usize),
}

impl VocabError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            VocabError::TooManySymbols { .. } => "too many symbols for the vocabulary capacity",
            VocabError::Duplicate(_) => "a symbol appears twice in the vocabulary",
            VocabError::ReservedSymbol(_) => "'.' is reserved as the end-of-item marker",
            VocabError::MissingTerminator => "the vocabulary must start with '.'",
            VocabError::Unknown(_) => "a character is not in the vocabulary",
            VocabError::BadIndex(_) => "an index has no symbol",
        }
    }
}

impl fmt::Display for VocabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VocabError::TooManySymbols { needed, capacity } => write!(
                f,
                "the text has {needed} symbols (with the '.' terminator) but the vocabulary capacity is {capacity}"
            ),
            VocabError::Duplicate(c) => write!(f, "symbol {c:?} appears twice in the vocabulary"),
            VocabError::ReservedSymbol(c) => {
                write!(f, "symbol {c:?} is reserved as the end-of-item marker")
            }
            VocabError::MissingTerminator => f.write_str("the vocabulary must start with '.'"),
            VocabError::Unknown(c) => write!(f, "character {c:?} is not in the vocabulary"),
            VocabError::BadIndex(i) => write!(f, "index {i} has no symbol"),
        }
    }
}

impl core::error::Error for VocabError {}

// `Debug` by hand for the two errors that carry an `f32`: a derived `Debug` formats the float,
// which links about 10 KB of float-formatting code into firmware that merely `unwrap`s. These
// print the float's bits instead.

impl fmt::Debug for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::NonFiniteLoss { step, loss } => f
                .debug_struct("NonFiniteLoss")
                .field("step", &step)
                .field("loss_bits", &loss.to_bits())
                .finish(),
            TrainError::Batch(e) => f.debug_tuple("Batch").field(&e).finish(),
            TrainError::BatchTooLarge { rows, capacity } => f
                .debug_struct("BatchTooLarge")
                .field("rows", &rows)
                .field("capacity", &capacity)
                .finish(),
            TrainError::Shape => f.write_str("Shape"),
            TrainError::NoGradients => f.write_str("NoGradients"),
        }
    }
}

impl fmt::Debug for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SampleError::BadTemperature(t) => f
                .debug_struct("BadTemperature")
                .field("bits", &t.to_bits())
                .finish(),
            SampleError::BadTopK => f.write_str("BadTopK"),
            SampleError::NonFiniteWeights => f.write_str("NonFiniteWeights"),
            SampleError::BufferFull => f.write_str("BufferFull"),
            SampleError::Shape(e) => f.debug_tuple("Shape").field(&e).finish(),
            SampleError::Context => f.write_str("Context"),
            SampleError::TableShape => f.write_str("TableShape"),
            SampleError::Symbol(c) => f.debug_tuple("Symbol").field(&c).finish(),
        }
    }
}

/// Any error of this crate, so that `?` works across reading weights, sampling and training:
/// every error type converts into it.
///
/// ```
/// fn first_name(bytes: &[u8]) -> Result<(), charmlp::Error> {
///     let w = charmlp::WeightsView::parse(bytes)?; // WeightsError
///     let _ = w.params()?;
///     Ok(())
/// }
/// assert_eq!(
///     first_name(b"not a weights file at all, really not").unwrap_err().as_str(),
///     "not a charmlp weights file (bad magic)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A weights file.
    Weights(crate::weights::WeightsError),
    /// Sampling.
    Sample(SampleError),
    /// A training step.
    Train(TrainError),
    /// A model shape or a buffer that does not fit it.
    Shape(ShapeError),
    /// A vocabulary.
    Vocab(VocabError),
    /// A kernel's operands.
    Kernel(KernelError),
    /// A per-position table file.
    Table(crate::weights::TableError),
}

impl Error {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Error::Weights(e) => e.as_str(),
            Error::Sample(e) => e.as_str(),
            Error::Train(e) => e.as_str(),
            Error::Shape(e) => e.as_str(),
            Error::Vocab(e) => e.as_str(),
            Error::Kernel(e) => e.as_str(),
            Error::Table(e) => e.as_str(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Weights(e) => write!(f, "{e}"),
            Error::Sample(e) => write!(f, "{e}"),
            Error::Train(e) => write!(f, "{e}"),
            Error::Shape(e) => write!(f, "{e}"),
            Error::Vocab(e) => write!(f, "{e}"),
            Error::Kernel(e) => write!(f, "{e}"),
            Error::Table(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Weights(e) => Some(e),
            Error::Sample(e) => Some(e),
            Error::Train(e) => Some(e),
            Error::Shape(e) => Some(e),
            Error::Vocab(e) => Some(e),
            Error::Kernel(e) => Some(e),
            Error::Table(e) => Some(e),
        }
    }
}

macro_rules! into_error {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::$v(e)
            }
        }
    )*};
}
into_error!(
    crate::weights::WeightsError => Weights,
    SampleError => Sample,
    TrainError => Train,
    ShapeError => Shape,
    VocabError => Vocab,
    KernelError => Kernel,
    crate::weights::TableError => Table,
);
