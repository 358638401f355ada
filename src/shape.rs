//! The model's shape — vocabulary, context, embedding and hidden width — and every formula that
//! follows from it: validation, parameter count, where each tensor lives in the flat parameter
//! array, and how long a weights file is. This is the only place these formulas live.

use core::fmt;
use core::ops::Range;

use crate::weights::format;

/// The dimensions of a model: `V` symbols, a context of `B` symbols, `E`-wide embeddings and a
/// hidden layer of `H` units. The first layer's input is `IN = B·E`.
///
/// A `Shape` is always valid: [`Shape::new`] checks every dimension against its limit and that
/// the parameter count and the weights file length fit this target's address space.
///
/// ```
/// use charmlp::Shape;
/// let s = Shape::new(27, 3, 10, 200)?;
/// assert_eq!(s.input(), 30);
/// assert_eq!(s.param_count(), 11_897);
/// assert_eq!(s.tensor_ranges()[1], 270..6270); // W1 follows C
/// assert!(Shape::new(27, 33, 10, 200).is_err()); // block > 32
/// # Ok::<(), charmlp::ShapeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    vocab: usize,
    block: usize,
    emb: usize,
    hidden: usize,
}

/// One of the four dimensions, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dim {
    /// `V`, the number of symbols (classes), `.` included.
    Vocab,
    /// `B`, the context length.
    Block,
    /// `E`, the embedding width.
    Emb,
    /// `H`, the hidden width.
    Hidden,
}

impl Dim {
    /// The name the tools use for it: `vocab`, `block`, `emb`, `hidden`.
    pub const fn name(self) -> &'static str {
        match self {
            Dim::Vocab => "vocab",
            Dim::Block => "block",
            Dim::Emb => "emb",
            Dim::Hidden => "hidden",
        }
    }

    /// The letter of the lecture's notation: `V`, `B`, `E`, `H`.
    pub const fn letter(self) -> &'static str {
        match self {
            Dim::Vocab => "V",
            Dim::Block => "B",
            Dim::Emb => "E",
            Dim::Hidden => "H",
        }
    }
}

/// Why a shape is not a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// A dimension is outside its limits.
    OutOfRange {
        /// Which one.
        dim: Dim,
        /// Its value.
        value: usize,
        /// The smallest allowed.
        min: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The parameters (or the weights file) would not fit this target's address space.
    TooLarge,
    /// The memory for the parameters or the workspace could not be allocated.
    OutOfMemory {
        /// Bytes asked for.
        bytes: usize,
    },
    /// A buffer does not have the length the shape needs.
    Length {
        /// Which buffer, e.g. `"W1"`.
        what: &'static str,
        /// Elements it needs.
        expected: usize,
        /// Elements it has.
        found: usize,
    },
}

impl ShapeError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            ShapeError::OutOfRange { .. } => "a model dimension is out of range",
            ShapeError::TooLarge => "the model is too large for this target",
            ShapeError::OutOfMemory { .. } => "not enough memory for the model",
            ShapeError::Length { .. } => "a buffer has the wrong length for the model's shape",
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ShapeError::OutOfRange {
                dim,
                value,
                min,
                max,
            } => write!(
                f,
                "{} = {value} is out of range: it must be in {min}..={max}",
                dim.name()
            ),
            ShapeError::TooLarge => f.write_str(self.as_str()),
            ShapeError::OutOfMemory { bytes } => write!(
                f,
                "not enough memory for the model: {bytes} bytes could not be allocated; choose a smaller shape or batch"
            ),
            ShapeError::Length {
                what,
                expected,
                found,
            } => write!(f, "{what} has {found} elements, the shape needs {expected}"),
        }
    }
}

impl core::error::Error for ShapeError {}

/// Unwraps an `Option` in a `const fn`, returning `None` from it.
macro_rules! ok {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return None,
        }
    };
}

impl Shape {
    /// The most symbols: indices are [`charmlp_kernels::Index`] (`u16`), so 65 536.
    pub const MAX_VOCAB: usize = charmlp_kernels::MAX_CLASSES;
    /// The longest context.
    pub const MAX_BLOCK: usize = 32;
    /// The widest embedding and hidden layer.
    pub const MAX_WIDTH: usize = 1 << 16;

    /// The lecture's model: `V = 27, B = 3, E = 10, H = 200`.
    pub const CANONICAL: Shape = Shape {
        vocab: 27,
        block: 3,
        emb: 10,
        hidden: 200,
    };

    /// A shape, if every dimension is within its limits (`2 ≤ V ≤ 65 536`, `1 ≤ B ≤ 32`,
    /// `1 ≤ E, H ≤ 65 536`) and the weights file fits this target's address space.
    ///
    /// # Errors
    /// [`ShapeError::OutOfRange`] naming the first dimension out of range,
    /// [`ShapeError::TooLarge`].
    pub const fn new(
        vocab: usize,
        block: usize,
        emb: usize,
        hidden: usize,
    ) -> Result<Shape, ShapeError> {
        let dims = [
            (Dim::Vocab, vocab, 2, Self::MAX_VOCAB),
            (Dim::Block, block, 1, Self::MAX_BLOCK),
            (Dim::Emb, emb, 1, Self::MAX_WIDTH),
            (Dim::Hidden, hidden, 1, Self::MAX_WIDTH),
        ];
        let mut i = 0;
        while i < dims.len() {
            let (dim, value, min, max) = dims[i];
            if value < min || value > max {
                return Err(ShapeError::OutOfRange {
                    dim,
                    value,
                    min,
                    max,
                });
            }
            i += 1;
        }
        let s = Shape {
            vocab,
            block,
            emb,
            hidden,
        };
        // The largest vocabulary string is 4 bytes per symbol.
        match s.checked_file_len(4 * vocab) {
            Some(_) => Ok(s),
            None => Err(ShapeError::TooLarge),
        }
    }

    /// `V`: symbols (classes), `.` included.
    pub const fn vocab(&self) -> usize {
        self.vocab
    }

    /// `B`: the context length.
    pub const fn block(&self) -> usize {
        self.block
    }

    /// `E`: the embedding width.
    pub const fn emb(&self) -> usize {
        self.emb
    }

    /// `H`: the hidden width.
    pub const fn hidden(&self) -> usize {
        self.hidden
    }

    /// `IN = B·E`: the width of the first layer's input.
    pub const fn input(&self) -> usize {
        self.block * self.emb
    }

    /// The lengths of the tensors `C[V][E]`, `W1[IN][H]`, `b1[H]`, `W2[H][V]`, `b2[V]`, in that
    /// (the weights file's) order.
    pub const fn tensor_lens(&self) -> [usize; 5] {
        [
            self.vocab * self.emb,
            self.input() * self.hidden,
            self.hidden,
            self.hidden * self.vocab,
            self.vocab,
        ]
    }

    /// Where each tensor lives in the flat parameter array (file order).
    pub const fn tensor_ranges(&self) -> [Range<usize>; 5] {
        let l = self.tensor_lens();
        let c = l[0];
        let w1 = c + l[1];
        let b1 = w1 + l[2];
        let w2 = b1 + l[3];
        let b2 = w2 + l[4];
        [0..c, c..w1, w1..b1, b1..w2, w2..b2]
    }

    /// The number of parameters: `V·E + IN·H + H + H·V + V`.
    pub const fn param_count(&self) -> usize {
        self.tensor_ranges()[4].end
    }

    /// The parameter count, or `None` if it overflows `usize`.
    const fn checked_param_count(&self) -> Option<usize> {
        let c = ok!(self.vocab.checked_mul(self.emb));
        let w1 = ok!(ok!(self.block.checked_mul(self.emb)).checked_mul(self.hidden));
        let w2 = ok!(self.hidden.checked_mul(self.vocab));
        let n = ok!(c.checked_add(w1));
        let n = ok!(n.checked_add(self.hidden));
        let n = ok!(n.checked_add(w2));
        n.checked_add(self.vocab)
    }

    /// The length in bytes of a weights file of this shape whose vocabulary string is
    /// `vocab_bytes` long, or `None` if that does not fit `usize`.
    pub const fn checked_file_len(&self, vocab_bytes: usize) -> Option<usize> {
        let bytes = ok!(ok!(self.checked_param_count()).checked_mul(4));
        let start = ok!(format::checked_tensor_offset(vocab_bytes));
        ok!(start.checked_add(bytes)).checked_add(format::CRC_LEN)
    }

    /// The length in bytes of a weights file of this shape whose vocabulary string is
    /// `vocab_bytes` long (at most `4·V`, which [`Shape::new`] checked fits).
    pub const fn file_len(&self, vocab_bytes: usize) -> usize {
        format::tensor_offset(vocab_bytes) + 4 * self.param_count() + format::CRC_LEN
    }

    /// Checks that `found` equals the length `expected` of the buffer `what`.
    pub(crate) const fn check_len(
        what: &'static str,
        expected: usize,
        found: usize,
    ) -> Result<(), ShapeError> {
        if expected == found {
            Ok(())
        } else {
            Err(ShapeError::Length {
                what,
                expected,
                found,
            })
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "V={} block={} emb={} hidden={}",
            self.vocab, self.block, self.emb, self.hidden
        )
    }
}
