//! Writing a weights file (std).

use std::vec::Vec;

use super::crc32;
use super::format::{DTYPE_F32, MAGIC, VERSION, tensor_offset};
use crate::params::ParamsView;
use crate::vocab::VocabView;

/// Serializes parameters and vocabulary into the version-1 format.
pub fn to_bytes(p: &ParamsView<'_>, vocab: VocabView<'_>) -> Vec<u8> {
    let s = p.shape();
    let mut text = std::string::String::new();
    text.extend(vocab.symbols());
    let mut out = Vec::with_capacity(s.file_len(text.len()));
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(DTYPE_F32);
    out.push(0);
    for d in [
        s.vocab(),
        s.block(),
        s.emb(),
        s.hidden(),
        vocab.len(),
        text.len(),
    ] {
        out.extend_from_slice(&(d as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out.resize(tensor_offset(text.len()), 0);
    for x in p.iter() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
