//! The weights file: one self-describing, checksummed blob that the trainer writes and the
//! sampler reads, zero-copy, straight out of flash. [`format`] documents every byte.
//!
//! * [`WeightsView::parse`] validates a file of any shape (no_std, no copy);
//! * [`Weights<V, B, E, IN, H>`](Weights) is the same for a shape fixed at compile time, with
//!   the vocabulary in an array;
//! * `to_bytes` (feature `std`) writes one.

mod baked;
mod crc32;
pub mod format;
mod read;
pub mod table;
#[cfg(feature = "std")]
mod write;

pub use baked::{Baked, baked_dims};
pub use crc32::crc32;
pub use format::{DTYPE_F32, HEADER_LEN, Header, MAGIC, VERSION, tensor_offset};
pub use read::{Weights, WeightsError, WeightsView};
pub use table::{TableError, TableFile};
#[cfg(feature = "std")]
pub use write::to_bytes;

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
