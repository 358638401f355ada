//! The byte layout of a weights file: named field ranges and the header, parsed by a `const fn`
//! (so that a firmware crate can read its model's shape from the file at compile time).
//!
//! # Layout (version 1, all integers little-endian)
//!
//! | offset | size | field | constant |
//! |---|---|---|---|
//! | 0 | 8 | magic `CHARMLP\0` | [`MAGIC`] |
//! | 8 | 2 | format version, `1` | [`VERSION`] |
//! | 10 | 1 | dtype: `1` = f32 little-endian | [`DTYPE`] |
//! | 11 | 1 | reserved, `0` | [`RESERVED`] |
//! | 12 | 4 | `V`: symbols (classes) | [`VOCAB`] |
//! | 16 | 4 | `B`: context length | [`BLOCK`] |
//! | 20 | 4 | `E`: embedding width | [`EMB`] |
//! | 24 | 4 | `H`: hidden width | [`HIDDEN`] |
//! | 28 | 4 | `S`: symbols in the vocabulary string (`= V`) | [`SYMBOLS`] |
//! | 32 | 4 | `L`: bytes of the vocabulary string | [`VOCAB_LEN`] |
//! | 36 | L | the vocabulary: the `S` symbols in index order as UTF-8, `.` first | |
//! | 36+L | 0–3 | zero padding to a multiple of 4 | |
//! | T | 4·n | tensors `C[V][E]`, `W1[B·E][H]`, `b1[H]`, `W2[H][V]`, `b2[V]`, row-major f32 | |
//! | end−4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it | |
//!
//! `T` = [`tensor_offset`]`(L)` is a multiple of 4, so a file placed at a 4-byte-aligned address
//! (see [`super::Aligned`]) is read without copying. Files written before version 0.2 could have
//! fewer symbols than `V` (spare classes); the reader still accepts `S < V`, and such classes
//! are never sampled.

use core::ops::Range;

use super::WeightsError;

/// The first eight bytes of every weights file.
pub const MAGIC: [u8; 8] = *b"CHARMLP\0";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// dtype code for little-endian f32 tensors.
pub const DTYPE_F32: u8 = 1;
/// The format version of int8 files ([`crate::int8`]).
pub const VERSION_INT8: u16 = 2;
/// dtype code for int8 models ([`crate::int8`]).
pub const DTYPE_INT8: u8 = 2;

/// Field: the magic.
pub const MAGIC_FIELD: Range<usize> = 0..8;
/// Field: the format version (u16).
pub const VERSION_FIELD: Range<usize> = 8..10;
/// Field: the dtype (u8).
pub const DTYPE: usize = 10;
/// Field: reserved, zero (u8).
pub const RESERVED: usize = 11;
/// Field: `V` (u32).
pub const VOCAB: Range<usize> = 12..16;
/// Field: `B` (u32).
pub const BLOCK: Range<usize> = 16..20;
/// Field: `E` (u32).
pub const EMB: Range<usize> = 20..24;
/// Field: `H` (u32).
pub const HIDDEN: Range<usize> = 24..28;
/// Field: symbols in the vocabulary string (u32).
pub const SYMBOLS: Range<usize> = 28..32;
/// Field: bytes of the vocabulary string (u32).
pub const VOCAB_LEN: Range<usize> = 32..36;
/// Bytes before the vocabulary string.
pub const HEADER_LEN: usize = 36;
/// Bytes of the trailing CRC-32.
pub const CRC_LEN: usize = 4;

/// Offset of the first tensor for a vocabulary string of `vocab_len` bytes (at most a few
/// hundred kilobytes; see [`checked_tensor_offset`] for any length).
pub const fn tensor_offset(vocab_len: usize) -> usize {
    (HEADER_LEN + vocab_len).div_ceil(4) * 4
}

/// [`tensor_offset`], or `None` if it overflows `usize`.
pub const fn checked_tensor_offset(vocab_len: usize) -> Option<usize> {
    match HEADER_LEN.checked_add(vocab_len) {
        Some(n) => n.div_ceil(4).checked_mul(4),
        None => None,
    }
}

/// The little-endian `u32` in `b[r]` (`r` is one of the 4-byte fields above; `b` at least
/// [`HEADER_LEN`] long).
pub const fn u32_at(b: &[u8], r: Range<usize>) -> u32 {
    let s = r.start;
    u32::from_le_bytes([b[s], b[s + 1], b[s + 2], b[s + 3]])
}

/// The fixed header fields of a weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `V`.
    pub vocab: u32,
    /// `B`.
    pub block: u32,
    /// `E`.
    pub emb: u32,
    /// `H`.
    pub hidden: u32,
    /// Symbols in the vocabulary string.
    pub symbols: u32,
    /// Bytes of the vocabulary string.
    pub vocab_len: u32,
}

impl Header {
    /// Reads and checks the fixed header (magic, version, dtype, reserved byte). A `const fn`:
    /// a firmware crate can run it at compile time.
    ///
    /// # Errors
    /// [`WeightsError::Truncated`], [`WeightsError::BadMagic`],
    /// [`WeightsError::UnsupportedVersion`], [`WeightsError::UnsupportedDtype`],
    /// [`WeightsError::Reserved`].
    pub const fn parse(bytes: &[u8]) -> Result<Header, WeightsError> {
        Self::parse_as(bytes, VERSION, DTYPE_F32)
    }

    /// [`Header::parse`] for a file of another version and dtype (the int8 files: version
    /// [`VERSION_INT8`], dtype [`DTYPE_INT8`]).
    ///
    /// # Errors
    /// As [`Header::parse`].
    pub const fn parse_as(bytes: &[u8], version: u16, dtype: u8) -> Result<Header, WeightsError> {
        if bytes.len() < HEADER_LEN {
            return Err(WeightsError::Truncated {
                expected: HEADER_LEN,
                found: bytes.len(),
            });
        }
        let mut i = 0;
        while i < MAGIC.len() {
            if bytes[MAGIC_FIELD.start + i] != MAGIC[i] {
                return Err(WeightsError::BadMagic);
            }
            i += 1;
        }
        let found =
            u16::from_le_bytes([bytes[VERSION_FIELD.start], bytes[VERSION_FIELD.start + 1]]);
        if found != version {
            return Err(WeightsError::UnsupportedVersion(found));
        }
        if bytes[DTYPE] != dtype {
            return Err(WeightsError::UnsupportedDtype(bytes[DTYPE]));
        }
        if bytes[RESERVED] != 0 {
            return Err(WeightsError::Reserved);
        }
        Ok(Header {
            vocab: u32_at(bytes, VOCAB),
            block: u32_at(bytes, BLOCK),
            emb: u32_at(bytes, EMB),
            hidden: u32_at(bytes, HIDDEN),
            symbols: u32_at(bytes, SYMBOLS),
            vocab_len: u32_at(bytes, VOCAB_LEN),
        })
    }

    /// The model's shape, if the four dimensions form one.
    ///
    /// # Errors
    /// [`WeightsError::Shape`] naming the dimension out of range.
    pub const fn shape(&self) -> Result<crate::Shape, WeightsError> {
        match crate::Shape::new(
            self.vocab as usize,
            self.block as usize,
            self.emb as usize,
            self.hidden as usize,
        ) {
            Ok(s) => Ok(s),
            Err(e) => Err(WeightsError::Shape(e)),
        }
    }
}
