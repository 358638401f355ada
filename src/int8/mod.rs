//! int8 models: post-training quantization of an f32 model, its file (format version 2), and an
//! integer-only forward pass and sampler that give the same bits on every target.
//!
//! * [`arith`]: the requantization, the tanh and exp tables, the draw — the whole arithmetic;
//! * [`file`](mod@file): the int8 file's layout and [`QuantView`], its validating, zero-copy reader;
//! * [`forward`]: [`logits`], [`QuantSampler`] and the evaluation loss [`nll`];
//! * `quantize` (feature `std`): an f32 model to an int8 file.
//!
//! The int32 sums run on [`crate::Kernels::matvec_i8`] (AVX2 `vpmaddwd`, Cortex-M `smlad`, the
//! scalar reference): integer sums are exact, so every path gives the same logits, and the
//! microcontroller prints exactly the names the host predicts.

pub mod arith;
mod baked;
pub mod file;
pub mod forward;
#[cfg(feature = "std")]
pub mod quantize;

pub use baked::BakedInt8;
pub use file::{Layout, QuantView, is_int8};
#[cfg(feature = "std")]
pub use forward::QuantVecs;
pub use forward::{
    QuantArrays, QuantNames, QuantSampler, QuantScratch, compute_table, items_loss, logits,
    logits_with, nll, table_array, table_len,
};
#[cfg(feature = "std")]
pub use quantize::quantize;
