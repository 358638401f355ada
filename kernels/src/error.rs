//! The kernels' one error type.

use core::fmt;

/// What a kernel refuses to compute. The kernel checks its operands before it touches memory
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
    /// Operands whose dimensions must agree did not.
    Shape {
        /// Which dimension, e.g. `"rows of w (= columns of x)"`.
        what: &'static str,
        /// What it had to be.
        expected: usize,
        /// What it was.
        found: usize,
    },
    /// A batch with no rows has no mean loss.
    EmptyBatch,
    /// A requantization shift outside `1..=62`, or a negative clamp limit.
    Requantization {
        /// The shift.
        shift: u32,
        /// The clamp limit.
        lim: i32,
    },
}

impl KernelError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            KernelError::IndexOutOfRange { .. } => "index out of range",
            KernelError::Shape { .. } => "operand shapes disagree",
            KernelError::EmptyBatch => "the batch has no rows",
            KernelError::Requantization { .. } => {
                "requantization shift outside 1..=62 or negative limit"
            }
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KernelError::IndexOutOfRange { index, len } => {
                write!(f, "index {index} is out of range for {len} rows")
            }
            KernelError::Shape {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected}, found {found}"),
            KernelError::EmptyBatch => f.write_str(self.as_str()),
            KernelError::Requantization { shift, lim } => write!(
                f,
                "requantization: shift {shift} (1..=62 allowed), limit {lim} (≥ 0 allowed)"
            ),
        }
    }
}

impl core::error::Error for KernelError {}

/// `Ok` if `found == expected`, else a [`KernelError::Shape`] naming `what`.
pub(crate) fn expect_dim(
    what: &'static str,
    expected: usize,
    found: usize,
) -> Result<(), KernelError> {
    if expected == found {
        Ok(())
    } else {
        Err(KernelError::Shape {
            what,
            expected,
            found,
        })
    }
}
