//! The crate's small error enums, one per layer.

use core::fmt;

pub use charmlp_kernels::KernelError;

pub use crate::shape::ShapeError;

/// A training step that could not be applied.
#[derive(Debug, Clone, Copy, PartialEq)]
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
}

impl TrainError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            TrainError::NonFiniteLoss { .. } => "training diverged: the loss is not finite",
            TrainError::Batch(e) => e.as_str(),
            TrainError::BatchTooLarge { .. } => "the batch exceeds the workspace capacity",
            TrainError::Shape => "the parameters have another shape than the workspace",
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
            TrainError::Shape => f.write_str(self.as_str()),
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
#[derive(Debug, Clone, Copy, PartialEq)]
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
        }
    }
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SampleError::BadTemperature(t) => {
                write!(f, "temperature must be finite and > 0, got {t}")
            }
            SampleError::BadTopK => f.write_str("top-k must be at least 1"),
            SampleError::NonFiniteWeights => {
                f.write_str("the weights produce non-finite probabilities")
            }
            SampleError::Shape(e) => write!(f, "sampler: {e}"),
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
