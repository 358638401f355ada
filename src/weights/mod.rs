//! The weights file: one self-describing, checksummed blob that the trainer writes and the
//! sampler reads, zero-copy, straight out of flash.
//!
//! # Layout (version 1, all integers little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `CHARMLP\0` |
//! | 8 | 2 | format version, `1` |
//! | 10 | 1 | dtype: `1` = f32 little-endian |
//! | 11 | 1 | reserved, `0` |
//! | 12 | 4 | `V`: classes (vocabulary capacity) |
//! | 16 | 4 | `B`: context length |
//! | 20 | 4 | `E`: embedding width |
//! | 24 | 4 | `H`: hidden width |
//! | 28 | 4 | `S`: symbols in the vocabulary (`1 ≤ S ≤ V`) |
//! | 32 | 4 | `L`: bytes of the vocabulary string |
//! | 36 | L | the vocabulary: the `S` symbols in index order as UTF-8, `.` first |
//! | 36+L | 0–3 | zero padding to a multiple of 4 |
//! | T | 4·n | tensors `C[V][E]`, `W1[B·E][H]`, `b1[H]`, `W2[H][V]`, `b2[V]`, row-major f32 |
//! | end−4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! The tensors start at a multiple of 4 from the beginning of the file, so a file placed at a
//! 4-byte-aligned address (see [`Aligned`]) is read without copying.

mod crc32;
mod read;
#[cfg(feature = "std")]
mod write;

pub use crc32::crc32;
pub use read::{Header, Weights, WeightsError, read_header};
#[cfg(feature = "std")]
pub use write::to_bytes;

/// The first eight bytes of every weights file.
pub const MAGIC: [u8; 8] = *b"CHARMLP\0";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// dtype code for little-endian f32 tensors.
pub const DTYPE_F32: u8 = 1;
/// Bytes before the vocabulary string.
pub const HEADER_LEN: usize = 36;

/// Wraps bytes so they start at a 4-byte-aligned address, for zero-copy reading of an
/// `include_bytes!` blob:
///
/// ```
/// use charmlp::weights::Aligned;
/// static FILE: &Aligned<[u8]> = &Aligned { _align: [], bytes: *b"CHARMLP\0" };
/// assert_eq!(FILE.bytes.as_ptr() as usize % 4, 0);
/// ```
#[repr(C)]
pub struct Aligned<T: ?Sized> {
    /// Zero-sized; forces the alignment of `u32`.
    pub _align: [u32; 0],
    /// The bytes.
    pub bytes: T,
}

/// Offset of the first tensor for a vocabulary string of `vocab_len` bytes.
pub const fn tensor_offset(vocab_len: usize) -> usize {
    (HEADER_LEN + vocab_len).div_ceil(4) * 4
}

/// Total file length for the given shape and vocabulary string length.
pub const fn file_len(v: usize, b: usize, e: usize, h: usize, vocab_len: usize) -> usize {
    tensor_offset(vocab_len) + 4 * (v * e + b * e * h + h + h * v + v) + 4
}
