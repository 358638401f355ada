//! The int8 weights file (format version 2, dtype 2) and its validated, zero-copy view.
//!
//! # Layout (all integers little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 36 + L + pad | the header and vocabulary of [`crate::weights::format`], with version `2` and dtype `2` |
//! | T | 4 | `s1`: fraction bits of layer 1's requantization, 1..=62 |
//! | T+4 | 4 | `s2`: the same for layer 2 |
//! | T+8 | 4·H | `b1[H]` int32: layer 1's bias in units of its products |
//! | | 4·H | `m1[H]` int32 > 0: per hidden unit, the multiplier to `1/64` of the tanh input |
//! | | 4·V | `b2[V]` int32: layer 2's bias |
//! | | 4·V | `m2[V]` int32 > 0: per class, the multiplier to `1/64` nat of the logit |
//! | | V·E | `C[V][E]` int8 |
//! | | H·B·E | `W1ᵀ[H][B·E]` int8 (transposed: one hidden unit's weights contiguous) |
//! | | V·H | `W2ᵀ[V][H]` int8 |
//! | | 0–3 | zero padding to a multiple of 4 |
//! | end−4 | 4 | CRC-32 of every byte before it |
//!
//! `T` = [`tensor_offset`]`(L)`. Every int8 weight is in `−127..=127`; the reader also checks
//! that no sum can overflow int32 (`127²·k + |b| < 2³¹`).

use crate::shape::Shape;
use crate::vocab::Vocab;
use crate::weights::format::{
    CRC_LEN, DTYPE_INT8, HEADER_LEN, Header, VERSION_INT8, tensor_offset,
};
use crate::weights::read::check_vocab;
use crate::weights::{WeightsError, crc32};

/// Bytes of the two shifts.
const SHIFTS: usize = 8;

/// The byte offsets of an int8 file's fields for `shape` and a vocabulary of `vocab_len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// `s1`, `s2`.
    pub shifts: usize,
    /// `b1`.
    pub b1: usize,
    /// `m1`.
    pub m1: usize,
    /// `b2`.
    pub b2: usize,
    /// `m2`.
    pub m2: usize,
    /// `C`.
    pub c: usize,
    /// `W1ᵀ`.
    pub w1t: usize,
    /// `W2ᵀ`.
    pub w2t: usize,
    /// The padding after `W2ᵀ`.
    pub pad: usize,
    /// The CRC.
    pub crc: usize,
    /// The whole file.
    pub len: usize,
}

impl Layout {
    /// The layout for `shape` and a vocabulary string of `vocab_len` bytes.
    pub const fn new(shape: Shape, vocab_len: usize) -> Layout {
        let (v, h, e, inp) = (shape.vocab(), shape.hidden(), shape.emb(), shape.input());
        let shifts = tensor_offset(vocab_len);
        let b1 = shifts + SHIFTS;
        let m1 = b1 + 4 * h;
        let b2 = m1 + 4 * h;
        let m2 = b2 + 4 * v;
        let c = m2 + 4 * v;
        let w1t = c + v * e;
        let w2t = w1t + h * inp;
        let pad = w2t + v * h;
        let crc = pad.div_ceil(4) * 4;
        Layout {
            shifts,
            b1,
            m1,
            b2,
            m2,
            c,
            w1t,
            w2t,
            pad,
            crc,
            len: crc + CRC_LEN,
        }
    }
}

#[inline(always)]
const fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

const fn bad(tensor: &'static str, index: usize) -> WeightsError {
    WeightsError::Quantization { tensor, index }
}

/// Every bias of `n` at `at` leaves room for `k` products: `127²·k + |b| < 2³¹`.
const fn check_biases(
    bytes: &[u8],
    name: &'static str,
    at: usize,
    n: usize,
    k: usize,
) -> Result<(), WeightsError> {
    let room = (i32::MAX as u64).checked_sub(127 * 127 * k as u64);
    let mut j = 0;
    while j < n {
        let b = i32_at(bytes, at + 4 * j).unsigned_abs() as u64;
        match room {
            Some(r) if b <= r => {}
            _ => return Err(bad(name, j)),
        }
        j += 1;
    }
    Ok(())
}

/// Every multiplier of `n` at `at` is positive.
const fn check_multipliers(
    bytes: &[u8],
    name: &'static str,
    at: usize,
    n: usize,
) -> Result<(), WeightsError> {
    let mut j = 0;
    while j < n {
        if i32_at(bytes, at + 4 * j) <= 0 {
            return Err(bad(name, j));
        }
        j += 1;
    }
    Ok(())
}

fn i8s(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}

/// A validated int8 model of any shape, borrowing its file's bytes (no alignment needed).
#[derive(Debug, Clone, Copy)]
pub struct QuantView<'a> {
    bytes: &'a [u8],
    shape: Shape,
    layout: Layout,
    vocab: &'a str,
    s1: u32,
    s2: u32,
}

impl<'a> QuantView<'a> {
    /// Validates an int8 file: header (version 2, dtype 2), shape, exact length, CRC,
    /// vocabulary, and the range of every quantization parameter and weight.
    ///
    /// # Errors
    /// The [`WeightsError`] naming the first problem found ([`WeightsError::Quantization`] for a
    /// parameter out of range).
    pub const fn parse(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        // A `const fn` (loops by index, no closures), so `include_weights!` validates a baked
        // file at compile time.
        let header = match Header::parse_as(bytes, VERSION_INT8, DTYPE_INT8) {
            Ok(h) => h,
            Err(e) => return Err(e),
        };
        let shape = match header.shape() {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        if header.symbols > header.vocab {
            return Err(WeightsError::SymbolCount {
                announced: header.symbols,
                classes: header.vocab,
            });
        }
        let vocab_len = header.vocab_len as usize;
        if vocab_len > 4 * shape.vocab() {
            return Err(WeightsError::VocabLength {
                bytes: header.vocab_len,
                symbols: header.symbols,
            });
        }
        let layout = Layout::new(shape, vocab_len);
        if bytes.len() < layout.len {
            return Err(WeightsError::Truncated {
                expected: layout.len,
                found: bytes.len(),
            });
        }
        if bytes.len() > layout.len {
            return Err(WeightsError::TrailingBytes {
                expected: layout.len,
                found: bytes.len(),
            });
        }
        let stored = u32::from_le_bytes([
            bytes[layout.crc],
            bytes[layout.crc + 1],
            bytes[layout.crc + 2],
            bytes[layout.crc + 3],
        ]);
        let computed = crc32(bytes.split_at(layout.crc).0);
        if stored != computed {
            return Err(WeightsError::CrcMismatch { stored, computed });
        }
        let text = bytes.split_at(HEADER_LEN).1.split_at(vocab_len).0;
        let vocab = match core::str::from_utf8(text) {
            Ok(v) => v,
            Err(_) => return Err(WeightsError::VocabNotUtf8),
        };
        if let Err(e) = check_vocab(text, header.symbols) {
            return Err(e);
        }
        let s1 = i32_at(bytes, layout.shifts) as u32;
        let s2 = i32_at(bytes, layout.shifts + 4) as u32;
        if s1 < 1 || s1 > 62 {
            return Err(bad("shift1", 0));
        }
        if s2 < 1 || s2 > 62 {
            return Err(bad("shift2", 0));
        }
        // No sum can wrap: 127²·k + |bias| < 2³¹.
        let (v, h, inp) = (shape.vocab(), shape.hidden(), shape.input());
        if let Err(e) = check_biases(bytes, "b1", layout.b1, h, inp) {
            return Err(e);
        }
        if let Err(e) = check_biases(bytes, "b2", layout.b2, v, h) {
            return Err(e);
        }
        if let Err(e) = check_multipliers(bytes, "m1", layout.m1, h) {
            return Err(e);
        }
        if let Err(e) = check_multipliers(bytes, "m2", layout.m2, v) {
            return Err(e);
        }
        let tensors = [
            ("C", layout.c, layout.w1t),
            ("W1", layout.w1t, layout.w2t),
            ("W2", layout.w2t, layout.pad),
        ];
        let mut t = 0;
        while t < tensors.len() {
            let (name, from, to) = tensors[t];
            let mut i = from;
            while i < to {
                if bytes[i] == 0x80 {
                    return Err(bad(name, i - from));
                }
                i += 1;
            }
            t += 1;
        }
        let mut i = layout.pad;
        while i < layout.crc {
            if bytes[i] != 0 {
                return Err(bad("padding", i - layout.pad));
            }
            i += 1;
        }
        Ok(QuantView {
            bytes,
            shape,
            layout,
            vocab,
            s1,
            s2,
        })
    }

    /// The model's shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// The vocabulary string (symbols in index order, `.` first).
    pub const fn vocab_str(&self) -> &'a str {
        self.vocab
    }

    /// The vocabulary in a fixed-capacity array (no heap).
    ///
    /// # Errors
    /// [`WeightsError::VocabSize`] if it has more than `N` symbols.
    pub fn vocab_array<const N: usize>(&self) -> Result<Vocab<N>, WeightsError> {
        Vocab::from_symbols(self.vocab.chars()).map_err(|_| WeightsError::VocabSize {
            expected: N as u32,
            found: self.vocab.chars().count() as u32,
        })
    }

    /// The file's bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The fraction bits of the two requantizations.
    pub const fn shifts(&self) -> (u32, u32) {
        (self.s1, self.s2)
    }

    /// Row `c` of the embedding table.
    pub fn c_row(&self, c: usize) -> &'a [i8] {
        let e = self.shape.emb();
        i8s(&self.bytes[self.layout.c + c * e..self.layout.c + (c + 1) * e])
    }

    /// `W1ᵀ`, `H × B·E`.
    pub fn w1t(&self) -> &'a [i8] {
        i8s(&self.bytes[self.layout.w1t..self.layout.w2t])
    }

    /// `W2ᵀ`, `V × H`.
    pub fn w2t(&self) -> &'a [i8] {
        i8s(&self.bytes[self.layout.w2t..self.layout.pad])
    }

    /// The byte offsets of the file's fields.
    pub const fn layout(&self) -> Layout {
        self.layout
    }

    /// The little-endian int32 arrays `b1`, `m1`, `b2`, `m2`, as bytes (four per value).
    pub fn int32_fields(&self) -> [&'a [u8]; 4] {
        let l = &self.layout;
        [
            &self.bytes[l.b1..l.m1],
            &self.bytes[l.m1..l.b2],
            &self.bytes[l.b2..l.m2],
            &self.bytes[l.m2..l.c],
        ]
    }
}

/// Whether `bytes` start like an int8 file (magic, version 2), to pick a reader.
pub const fn is_int8(bytes: &[u8]) -> bool {
    if bytes.len() < HEADER_LEN {
        return false;
    }
    let mut i = 0;
    while i < 8 {
        if bytes[i] != crate::weights::MAGIC[i] {
            return false;
        }
        i += 1;
    }
    u16::from_le_bytes([bytes[8], bytes[9]]) == VERSION_INT8
}
