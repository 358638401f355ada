//! Writing a weights file (std).

use std::vec::Vec;

use super::crc32;
use super::format::{DTYPE_F32, VERSION};
use crate::params::ParamsView;
use crate::vocab::VocabView;

/// Serializes parameters and vocabulary into the version-1 format.
pub fn to_bytes(p: &ParamsView<'_>, vocab: VocabView<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let text_len = super::emit_header(VERSION, DTYPE_F32, p.shape(), vocab, |b| {
        out.extend_from_slice(b)
    });
    out.reserve_exact(p.shape().file_len(text_len) - out.len());
    for x in p.iter() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
