//! The weights file: one self-describing, checksummed blob that the trainer writes and the
//! sampler reads, zero-copy, straight out of flash. [`format`] documents every byte.
//!
//! * [`WeightsView::parse`] validates a file of any shape (no_std, no copy);
//! * [`Weights<V, B, E, IN, H>`](Weights) is the same for a shape fixed at compile time, with
//!   the vocabulary in an array;
//! * `to_bytes` (feature `std`) writes one.

pub(crate) mod baked;
mod crc32;
pub mod format;
pub(crate) mod read;
pub mod table;
#[cfg(feature = "std")]
mod write;

pub use baked::{Baked, BakedFor, Dtype, baked_dims};

/// Emits a file's header, vocabulary string and padding up to the first tensor, in pieces, to
/// `out` (format `version`, `dtype`, the model `shape`); returns the vocabulary's byte length.
/// The one place the header is written: the f32 writer, [`file_crc`] and the int8 quantizer.
pub(crate) fn emit_header(
    version: u16,
    dtype: u8,
    shape: crate::Shape,
    vocab: crate::vocab::VocabView<'_>,
    mut out: impl FnMut(&[u8]),
) -> usize {
    let text_len: usize = vocab.symbols().iter().map(|c| c.len_utf8()).sum();
    out(&MAGIC);
    out(&version.to_le_bytes());
    out(&[dtype, 0]);
    for v in [
        shape.vocab(),
        shape.block(),
        shape.emb(),
        shape.hidden(),
        vocab.len(),
        text_len,
    ] {
        out(&(v as u32).to_le_bytes());
    }
    for c in vocab.symbols() {
        let mut buf = [0u8; 4];
        out(c.encode_utf8(&mut buf).as_bytes());
    }
    out(&[0; 3][..tensor_offset(text_len) - HEADER_LEN - text_len]);
    text_len
}

/// The CRC-32 that the weights file of `p` and `vocab` ends with (what `to_bytes` would write),
/// computed without writing the file: a device that trained its weights reports it, and the host
/// compares it with the file it wrote.
pub fn file_crc(p: &crate::params::ParamsView<'_>, vocab: crate::vocab::VocabView<'_>) -> u32 {
    let mut d = crc32::CRC32.digest();
    emit_header(VERSION, DTYPE_F32, p.shape(), vocab, |b| d.update(b));
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
