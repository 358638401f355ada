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
pub(crate) mod read;
pub mod table;
#[cfg(feature = "std")]
mod write;

pub use baked::{Baked, baked_dims};

/// The CRC-32 that the weights file of `p` and `vocab` ends with (what `to_bytes` would write),
/// computed without writing the file: a device that trained its weights reports it, and the host
/// compares it with the file it wrote.
pub fn file_crc(p: &crate::params::ParamsView<'_>, vocab: crate::vocab::VocabView<'_>) -> u32 {
    let s = p.shape();
    let mut d = crc32::CRC32.digest();
    let mut text_len = 0usize;
    for c in vocab.symbols() {
        text_len += c.len_utf8();
    }
    d.update(&MAGIC);
    d.update(&VERSION.to_le_bytes());
    d.update(&[DTYPE_F32, 0]);
    for v in [
        s.vocab(),
        s.block(),
        s.emb(),
        s.hidden(),
        vocab.len(),
        text_len,
    ] {
        d.update(&(v as u32).to_le_bytes());
    }
    for c in vocab.symbols() {
        let mut buf = [0u8; 4];
        d.update(c.encode_utf8(&mut buf).as_bytes());
    }
    for _ in HEADER_LEN + text_len..tensor_offset(text_len) {
        d.update(&[0]);
    }
    for x in p.iter() {
        d.update(&x.to_le_bytes());
    }
    d.finalize()
}
pub use crc32::crc32;
pub use format::{
    DTYPE_F32, DTYPE_INT8, HEADER_LEN, Header, MAGIC, VERSION, VERSION_INT8, tensor_offset,
};
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
