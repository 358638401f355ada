//! Reading and validating a weights file (no_std, zero-copy when aligned).

use core::fmt;

use super::{DTYPE_F32, HEADER_LEN, MAGIC, VERSION, crc32, file_len, tensor_offset};
use crate::params::{Params, ParamsRef};
use crate::vocab::{TERMINATOR, Vocab};

/// Every way a weights file can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsError {
    /// Shorter than its header or than its header says it is.
    Truncated {
        /// Bytes the file should have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// Longer than its header says.
    TrailingBytes {
        /// Bytes the file should have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// Not a charmlp weights file.
    BadMagic,
    /// A format version this crate does not read.
    UnsupportedVersion(u16),
    /// A tensor element type this crate does not read.
    UnsupportedDtype(u8),
    /// The file's shape is not the one asked for.
    ShapeMismatch {
        /// Which dimension: `"V"`, `"B"`, `"E"` or `"H"`.
        dim: &'static str,
        /// The value asked for.
        expected: u32,
        /// The value in the file.
        found: u32,
    },
    /// The checksum does not match the contents.
    CrcMismatch {
        /// CRC stored in the file.
        stored: u32,
        /// CRC of the contents.
        computed: u32,
    },
    /// A weight is NaN or infinite.
    NonFinite {
        /// Which tensor: `"C"`, `"W1"`, `"b1"`, `"W2"`, `"b2"`.
        tensor: &'static str,
        /// Flat index in it.
        index: usize,
    },
    /// The vocabulary string is not UTF-8.
    VocabNotUtf8,
    /// The vocabulary has a different number of symbols than the header says, or more than `V`.
    VocabSize {
        /// Symbols the header announces.
        expected: u32,
        /// Symbols found (or the capacity exceeded).
        found: u32,
    },
    /// A symbol appears twice.
    DuplicateSymbol(char),
    /// The vocabulary does not start with `.`.
    MissingTerminator,
    /// Zero-copy reading needs the file at a 4-byte-aligned address (see
    /// [`super::Aligned`]); use [`Weights::copy_into`] otherwise.
    Misaligned,
    /// A reserved header byte is not zero.
    Reserved,
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WeightsError::Truncated { expected, found } => write!(
                f,
                "weights file truncated: {found} bytes, expected {expected}"
            ),
            WeightsError::TrailingBytes { expected, found } => {
                write!(
                    f,
                    "weights file has trailing bytes: {found} bytes, expected {expected}"
                )
            }
            WeightsError::BadMagic => f.write_str("not a charmlp weights file (bad magic)"),
            WeightsError::UnsupportedVersion(v) => write!(
                f,
                "unsupported weights format version {v} (this build reads {VERSION})"
            ),
            WeightsError::UnsupportedDtype(d) => {
                write!(f, "unsupported dtype code {d} (this build reads 1 = f32)")
            }
            WeightsError::ShapeMismatch {
                dim,
                expected,
                found,
            } => {
                write!(
                    f,
                    "weights shape mismatch: {dim} is {found} in the file, the model expects {expected}"
                )
            }
            WeightsError::CrcMismatch { stored, computed } => {
                write!(
                    f,
                    "weights file corrupt: CRC-32 {computed:#010x} does not match stored {stored:#010x}"
                )
            }
            WeightsError::NonFinite { tensor, index } => {
                write!(f, "weight {tensor}[{index}] is not finite")
            }
            WeightsError::VocabNotUtf8 => f.write_str("the vocabulary is not valid UTF-8"),
            WeightsError::VocabSize { expected, found } => {
                write!(f, "the vocabulary has {found} symbols, expected {expected}")
            }
            WeightsError::DuplicateSymbol(c) => {
                write!(f, "symbol {c:?} appears twice in the vocabulary")
            }
            WeightsError::MissingTerminator => f.write_str("the vocabulary must start with '.'"),
            WeightsError::Misaligned => {
                f.write_str("weights bytes are not 4-byte aligned; copy them or align the blob")
            }
            WeightsError::Reserved => f.write_str("reserved header byte is not zero"),
        }
    }
}

impl core::error::Error for WeightsError {}

/// The fixed header fields of a weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Classes.
    pub v: u32,
    /// Context length.
    pub b: u32,
    /// Embedding width.
    pub e: u32,
    /// Hidden width.
    pub h: u32,
    /// Symbols in the vocabulary.
    pub symbols: u32,
    /// Bytes of the vocabulary string.
    pub vocab_len: u32,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Reads and checks the header only (magic, version, dtype), e.g. to pick a model shape.
///
/// # Errors
/// [`WeightsError::Truncated`], [`WeightsError::BadMagic`], [`WeightsError::UnsupportedVersion`],
/// [`WeightsError::UnsupportedDtype`], [`WeightsError::Reserved`].
pub fn read_header(bytes: &[u8]) -> Result<Header, WeightsError> {
    if bytes.len() < HEADER_LEN {
        return Err(WeightsError::Truncated {
            expected: HEADER_LEN,
            found: bytes.len(),
        });
    }
    if bytes[..8] != MAGIC {
        return Err(WeightsError::BadMagic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(WeightsError::UnsupportedVersion(version));
    }
    if bytes[10] != DTYPE_F32 {
        return Err(WeightsError::UnsupportedDtype(bytes[10]));
    }
    if bytes[11] != 0 {
        return Err(WeightsError::Reserved);
    }
    Ok(Header {
        v: u32_at(bytes, 12),
        b: u32_at(bytes, 16),
        e: u32_at(bytes, 20),
        h: u32_at(bytes, 24),
        symbols: u32_at(bytes, 28),
        vocab_len: u32_at(bytes, 32),
    })
}

/// A validated weights file of shape `(V, B, E, IN, H)`, borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Weights<
    'a,
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
> {
    bytes: &'a [u8],
    vocab: Vocab<V>,
    tensors: usize,
}

const NAMES: [&str; 5] = ["C", "W1", "b1", "W2", "b2"];

impl<'a, const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Weights<'a, V, B, E, IN, H>
{
    const LENS: [usize; 5] = [V * E, IN * H, H, H * V, V];

    /// Validates `bytes` against the shape `(V, B, E, H)`: header, exact length, CRC,
    /// vocabulary, and that every weight is finite. Nothing is copied.
    ///
    /// # Errors
    /// Each defect is its own [`WeightsError`] variant.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        let () = Params::<V, B, E, IN, H>::SHAPE_OK;
        let h = read_header(bytes)?;
        for (dim, want, got) in [("V", V, h.v), ("B", B, h.b), ("E", E, h.e), ("H", H, h.h)] {
            if want as u64 != u64::from(got) {
                return Err(WeightsError::ShapeMismatch {
                    dim,
                    expected: want as u32,
                    found: got,
                });
            }
        }
        let vocab_len = h.vocab_len as usize;
        // A vocabulary string is at most 4 bytes per symbol.
        if vocab_len > 4 * V {
            return Err(WeightsError::VocabSize {
                expected: h.symbols,
                found: h.vocab_len,
            });
        }
        let expected = file_len(V, B, E, H, vocab_len);
        if bytes.len() < expected {
            return Err(WeightsError::Truncated {
                expected,
                found: bytes.len(),
            });
        }
        if bytes.len() > expected {
            return Err(WeightsError::TrailingBytes {
                expected,
                found: bytes.len(),
            });
        }
        let stored = u32_at(bytes, expected - 4);
        let computed = crc32(&bytes[..expected - 4]);
        if stored != computed {
            return Err(WeightsError::CrcMismatch { stored, computed });
        }
        let text = core::str::from_utf8(&bytes[HEADER_LEN..HEADER_LEN + vocab_len])
            .map_err(|_| WeightsError::VocabNotUtf8)?;
        let count = text.chars().count();
        if count != h.symbols as usize || count > V || count == 0 {
            return Err(WeightsError::VocabSize {
                expected: h.symbols,
                found: count as u32,
            });
        }
        if !text.starts_with(TERMINATOR) {
            return Err(WeightsError::MissingTerminator);
        }
        let vocab = Vocab::from_symbols(text.chars()).map_err(|e| match e {
            crate::error::VocabError::Duplicate(c) => WeightsError::DuplicateSymbol(c),
            crate::error::VocabError::MissingTerminator => WeightsError::MissingTerminator,
            _ => WeightsError::VocabSize {
                expected: h.symbols,
                found: count as u32,
            },
        })?;
        let w = Weights {
            bytes,
            vocab,
            tensors: tensor_offset(vocab_len),
        };
        let mut at = w.tensors;
        for (name, len) in NAMES.iter().zip(Self::LENS) {
            let t = &bytes[at..at + 4 * len];
            if let Some(index) = t
                .chunks_exact(4)
                .position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
            {
                return Err(WeightsError::NonFinite {
                    tensor: name,
                    index,
                });
            }
            at += 4 * len;
        }
        Ok(w)
    }

    /// The vocabulary stored in the file.
    pub fn vocab(&self) -> &Vocab<V> {
        &self.vocab
    }

    /// The parameters as views into the file's bytes (no copy).
    ///
    /// # Errors
    /// [`WeightsError::Misaligned`] if the bytes are not 4-byte aligned (on a big-endian target,
    /// always: the file is little-endian).
    pub fn params(&self) -> Result<ParamsRef<'a, V, B, E, IN, H>, WeightsError> {
        if cfg!(target_endian = "big") {
            return Err(WeightsError::Misaligned);
        }
        let data = &self.bytes[self.tensors..self.bytes.len() - 4];
        let floats: &'a [f32] =
            bytemuck::try_cast_slice(data).map_err(|_| WeightsError::Misaligned)?;
        let (c, rest) = floats.split_at(V * E);
        let (w1, rest) = rest.split_at(IN * H);
        let (b1, rest) = rest.split_at(H);
        let (w2, b2) = rest.split_at(H * V);
        let bad = |_| WeightsError::Misaligned;
        Ok(ParamsRef {
            c: c.as_chunks::<E>().0.try_into().map_err(bad)?,
            w1: w1.as_chunks::<H>().0.try_into().map_err(bad)?,
            b1: b1.try_into().map_err(bad)?,
            w2: w2.as_chunks::<V>().0.try_into().map_err(bad)?,
            b2: b2.try_into().map_err(bad)?,
        })
    }

    /// Copies the parameters out (works at any alignment and endianness).
    pub fn copy_into(&self, out: &mut Params<V, B, E, IN, H>) {
        let mut at = self.tensors;
        for t in out.tensors_mut() {
            for (x, c) in t.iter_mut().zip(self.bytes[at..].chunks_exact(4)) {
                *x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
            at += 4 * t.len();
        }
    }
}
