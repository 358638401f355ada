//! The kernels' one error type.

use core::fmt;

/// What a kernel refuses to compute.
///
/// Kernels take fixed-size arrays, so shapes cannot disagree; what remains is an index that
/// does not fit the table it indexes. The kernel checks every index before it touches memory
/// and writes nothing when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelError {
    /// An index (a context symbol or a target class) was not below the number of rows.
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The number of rows it had to be below.
        len: usize,
    },
    /// Row-slice arguments that must have the same number of rows did not.
    RowMismatch {
        /// Rows of the first operand.
        expected: usize,
        /// Rows of the operand that differed.
        found: usize,
    },
    /// A batch with no rows has no mean loss.
    EmptyBatch,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KernelError::IndexOutOfRange { index, len } => {
                write!(f, "index {index} is out of range for {len} rows")
            }
            KernelError::RowMismatch { expected, found } => {
                write!(
                    f,
                    "operands disagree on the number of rows: {expected} vs {found}"
                )
            }
            KernelError::EmptyBatch => f.write_str("the batch has no rows"),
        }
    }
}

impl core::error::Error for KernelError {}
