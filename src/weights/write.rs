//! Writing a weights file (std).

use std::vec::Vec;

use super::{DTYPE_F32, MAGIC, VERSION, crc32, file_len, tensor_offset};
use crate::params::Params;
use crate::vocab::Vocab;

/// Serializes parameters and vocabulary into the version-1 format.
pub fn to_bytes<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    p: &Params<V, B, E, IN, H>,
    vocab: &Vocab<V>,
) -> Vec<u8> {
    let mut text = std::string::String::new();
    text.extend(vocab.symbols());
    let mut out = Vec::with_capacity(file_len(V, B, E, H, text.len()));
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(DTYPE_F32);
    out.push(0);
    for d in [V, B, E, H, vocab.len(), text.len()] {
        out.extend_from_slice(&(d as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out.resize(tensor_offset(text.len()), 0);
    for t in p.tensors() {
        for x in t {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
