//! The table file: a weights file's per-position layer-1 table ([`crate::table`]), stored so
//! that firmware can bake it into flash (`include_weights!(… = "weights.bin", table =
//! "weights.table")`) and the host can skip recomputing it.
//!
//! # Layout (version 1, all integers little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `CMLPTAB\0` ([`TABLE_MAGIC`]) |
//! | 8 | 4 | format version, `1` ([`TABLE_VERSION`]) |
//! | 12 | 4 | reference arithmetic version the table was computed with (`2`) |
//! | 16 | 4 × 4 | `V`, `B`, `E`, `H` of the weights file |
//! | 32 | 4 | CRC-32 of the weights file it was computed from (its last four bytes) |
//! | 36 | 4 | reserved, `0` |
//! | 40 | 4·B·V·H | `T[B][V][H]`, f32 |
//! | end−4 | 4 | CRC-32 of every byte before it |
//!
//! A table belongs to exactly one weights file: readers compare the recorded CRC with the
//! weights file's, and refuse a table made with another reference arithmetic (whose bits would
//! differ from computing layer 1).

use core::fmt;

use charmlp_kernels::ARITHMETIC_VERSION;

use super::crc32::crc32;
use crate::error::ShapeError;
use crate::shape::Shape;
use crate::table::{TableView, table_len};

/// The first eight bytes of a table file.
pub const TABLE_MAGIC: [u8; 8] = *b"CMLPTAB\0";
/// The table format version this crate writes and reads.
pub const TABLE_VERSION: u32 = 1;
/// Bytes before the table's floats.
pub const TABLE_HEADER_LEN: usize = 40;

/// Why a table file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// Not a table file.
    BadMagic,
    /// A format version this crate does not read.
    UnsupportedVersion(u32),
    /// Computed with another reference arithmetic (its bits would differ).
    Arithmetic {
        /// The version in the file.
        file: u32,
        /// This crate's.
        this: u32,
    },
    /// The header's dimensions are not a model.
    Shape(ShapeError),
    /// Not as long as its header says.
    Length {
        /// Bytes it should have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// The checksum does not match the contents.
    CrcMismatch,
    /// A value is NaN or infinite.
    NonFinite {
        /// Its index in the table.
        index: usize,
    },
    /// The reserved field is not zero.
    Reserved,
    /// It was computed from another weights file (CRC or shape differ).
    OtherWeights {
        /// The weights CRC it records.
        table: u32,
        /// The CRC of the weights file it was paired with.
        weights: u32,
    },
    /// Zero-copy reading needs the bytes at a 4-byte-aligned address.
    Misaligned,
}

impl TableError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            TableError::BadMagic => "not a charmlp table file (bad magic)",
            TableError::UnsupportedVersion(_) => "unsupported table format version",
            TableError::Arithmetic { .. } => {
                "table computed with another reference arithmetic version"
            }
            TableError::Shape(e) => e.as_str(),
            TableError::Length { .. } => "table file length does not match its header",
            TableError::CrcMismatch => "table file corrupt (CRC-32 mismatch)",
            TableError::NonFinite { .. } => "a table value is not finite",
            TableError::Reserved => "reserved table header field is not zero",
            TableError::OtherWeights { .. } => "the table was computed from another weights file",
            TableError::Misaligned => "table bytes are not 4-byte aligned",
        }
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TableError::UnsupportedVersion(v) => write!(
                f,
                "unsupported table format version {v} (this build reads {TABLE_VERSION})"
            ),
            TableError::Arithmetic { file, this } => write!(
                f,
                "table computed with reference arithmetic v{file}; this build computes v{this}: \
                 recompute it (charmlp table)"
            ),
            TableError::Shape(e) => write!(f, "table header: {e}"),
            TableError::Length { expected, found } => {
                write!(f, "table file is {found} bytes, its header says {expected}")
            }
            TableError::NonFinite { index } => write!(f, "table value {index} is not finite"),
            TableError::OtherWeights { table, weights } => write!(
                f,
                "the table was computed from the weights file with CRC {table:08x}, not this \
                 one ({weights:08x}): recompute it (charmlp table)"
            ),
            _ => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for TableError {}

/// A validated table file's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableHeader {
    /// The shape of its weights file.
    pub shape: Shape,
    /// The CRC-32 of its weights file.
    pub weights_crc: u32,
}

const fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Validates a table file (a `const fn`: [`crate::include_weights!`] runs it at compile time):
/// magic, versions, shape, length, CRC, finiteness.
///
/// # Errors
/// The first defect found.
pub const fn check_table(bytes: &[u8]) -> Result<TableHeader, TableError> {
    if bytes.len() < TABLE_HEADER_LEN + 4 {
        return Err(TableError::Length {
            expected: TABLE_HEADER_LEN + 4,
            found: bytes.len(),
        });
    }
    let mut i = 0;
    while i < 8 {
        if bytes[i] != TABLE_MAGIC[i] {
            return Err(TableError::BadMagic);
        }
        i += 1;
    }
    let version = u32_le(bytes, 8);
    if version != TABLE_VERSION {
        return Err(TableError::UnsupportedVersion(version));
    }
    let arith = u32_le(bytes, 12);
    if arith != ARITHMETIC_VERSION as u32 {
        return Err(TableError::Arithmetic {
            file: arith,
            this: ARITHMETIC_VERSION as u32,
        });
    }
    if u32_le(bytes, 36) != 0 {
        return Err(TableError::Reserved);
    }
    let shape = match Shape::new(
        u32_le(bytes, 16) as usize,
        u32_le(bytes, 20) as usize,
        u32_le(bytes, 24) as usize,
        u32_le(bytes, 28) as usize,
    ) {
        Ok(s) => s,
        Err(e) => return Err(TableError::Shape(e)),
    };
    let floats = table_len(&shape);
    let expected = TABLE_HEADER_LEN + 4 * floats + 4;
    if bytes.len() != expected {
        return Err(TableError::Length {
            expected,
            found: bytes.len(),
        });
    }
    let (body, _) = bytes.split_at(expected - 4);
    if crc32(body) != u32_le(bytes, expected - 4) {
        return Err(TableError::CrcMismatch);
    }
    let mut k = 0;
    while k < floats {
        if (u32_le(bytes, TABLE_HEADER_LEN + 4 * k) >> 23) & 0xff == 0xff {
            return Err(TableError::NonFinite { index: k });
        }
        k += 1;
    }
    Ok(TableHeader {
        shape,
        weights_crc: u32_le(bytes, 32),
    })
}

/// A validated table file, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct TableFile<'a> {
    bytes: &'a [u8],
    header: TableHeader,
}

impl<'a> TableFile<'a> {
    /// Validates `bytes` (see [`check_table`]).
    ///
    /// # Errors
    /// The first defect found.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TableError> {
        let header = check_table(bytes)?;
        Ok(TableFile { bytes, header })
    }

    /// A file [`check_table`] accepted with `header` (at compile time, for baked tables).
    pub(crate) const fn from_checked(bytes: &'a [u8], header: TableHeader) -> Self {
        TableFile { bytes, header }
    }

    /// Its header.
    pub const fn header(&self) -> TableHeader {
        self.header
    }

    /// Checks that it was computed from the weights file of `shape` whose CRC is `weights_crc`.
    ///
    /// # Errors
    /// [`TableError::OtherWeights`] otherwise.
    pub fn check_pair(&self, shape: &Shape, weights_crc: u32) -> Result<(), TableError> {
        if self.header.shape != *shape || self.header.weights_crc != weights_crc {
            return Err(TableError::OtherWeights {
                table: self.header.weights_crc,
                weights: weights_crc,
            });
        }
        Ok(())
    }

    fn floats(&self) -> &'a [u8] {
        let n = table_len(&self.header.shape);
        &self.bytes[TABLE_HEADER_LEN..TABLE_HEADER_LEN + 4 * n]
    }

    /// The table, zero-copy (the bytes must be 4-byte aligned, on a little-endian target).
    ///
    /// # Errors
    /// [`TableError::Misaligned`] otherwise; use [`TableFile::copy_to`] then.
    pub fn view(&self) -> Result<TableView<'a>, TableError> {
        if cfg!(target_endian = "big") {
            return Err(TableError::Misaligned);
        }
        let data: &[f32] =
            bytemuck::try_cast_slice(self.floats()).map_err(|_| TableError::Misaligned)?;
        TableView::new(self.header.shape, data).map_err(TableError::Shape)
    }

    /// Copies the table into `out` (`B·V·H` floats), from any alignment.
    ///
    /// # Errors
    /// [`TableError::Length`] if `out` has another length.
    pub fn copy_to(&self, out: &mut [f32]) -> Result<(), TableError> {
        let src = self.floats();
        if out.len() * 4 != src.len() {
            return Err(TableError::Length {
                expected: src.len(),
                found: out.len() * 4,
            });
        }
        for (x, c) in out.iter_mut().zip(src.chunks_exact(4)) {
            *x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok(())
    }
}

/// The table file for `table`, computed from the weights file whose CRC is `weights_crc`.
#[cfg(feature = "std")]
pub fn table_to_bytes(table: &TableView<'_>, weights_crc: u32) -> std::vec::Vec<u8> {
    let s = table.shape();
    let mut out = std::vec::Vec::with_capacity(TABLE_HEADER_LEN + 4 * table.data().len() + 4);
    out.extend_from_slice(&TABLE_MAGIC);
    for v in [
        TABLE_VERSION,
        ARITHMETIC_VERSION as u32,
        s.vocab() as u32,
        s.block() as u32,
        s.emb() as u32,
        s.hidden() as u32,
        weights_crc,
        0,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for x in table.data() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
