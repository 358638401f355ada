//! # charmlp
//!
//! A character-level MLP language model — Bengio et al. 2003, as taught in makemore part 2 —
//! that trains and samples with **no heap**, from a workstation to a Cortex-M.
//!
//! ```text
//!  context (B symbol indices, '.'-padded)
//!     │  embed: rows of C[V][E], concatenated           ┐
//!     ▼                                                  │ forward.rs
//!  emb[IN = B·E] ── tanh(emb·W1 + b1) ──▶ h[H]           │
//!     ── h·W2 + b2 ──▶ logits[V] ── softmax ──▶ p(next)  ┘
//!  loss = mean cross-entropy; gradients by hand (backward.rs); SGD (train.rs)
//! ```
//!
//! ## Layers, in the order data flows
//!
//! | module | what | needs |
//! |---|---|---|
//! | `data` | text file → items → vocabulary → items in split order (80/10/10) | `std` |
//! | [`batch`] | (context, target) pairs built on the fly; minibatches keyed by `(seed, step)` | no_std |
//! | [`forward`] | embedding gather, `tanh(x·W1+b1)` fused, `h·W2+b2` | no_std |
//! | [`backward`] | manual gradients of every tensor | no_std |
//! | [`train`] | one step: forward → loss → backward → SGD; workspaces; LR schedule | no_std |
//! | [`params`] | parameter views and owners, initialization | no_std |
//! | [`weights`] | the versioned, CRC-checked file; zero-copy reader; writer (`std`) | no_std |
//! | [`sample`] | [`Sampler`]: temperature, top-k, `Xoshiro128PlusPlus` | no_std |
//! | [`finetune`] | fine-tuning on a list and sampling before and after (device and host) | no_std |
//! | [`int8`] | quantization (`std`), the int8 file, the integer-only forward pass and sampler | no_std |
//! | [`checkpoint`] | the checkpoint file (format 2): a run's state, CRC-covered | no_std |
//! | [`charmlp_kernels`] | the numeric kernels: scalar reference + AVX2/AVX-512/NEON/Cortex-M | no_std |
//!
//! ## Shapes: one implementation, two kinds of owners
//!
//! Every computation is written once, against a run-time [`Shape`] and *views* — borrowed
//! slices whose lengths were checked once, when the view was made: [`ParamsView`],
//! [`ParamsViewMut`], [`WorkspaceMut`], [`VocabView`], [`sample::SampleBufs`]. Owners only hold
//! storage and hand out views, in the manner of `heapless::Vec<T, N>` over `VecView<T>`:
//!
//! | | fixed at compile time (no heap) | chosen at run time (`std`) |
//! |---|---|---|
//! | parameters | [`Params<V, B, E, IN, H>`](Params) | `ParamsBuf` |
//! | training workspace | [`Workspace<V, B, E, IN, H, N>`](Workspace) | `WorkspaceBuf` |
//! | vocabulary | [`Vocab<V>`](Vocab) | `VocabBuf` |
//! | sampler scratch | [`sample::SampleArrays<V, IN, H>`](sample::SampleArrays) | `SampleVecs` |
//! | weights file | [`Weights<V, B, E, IN, H>`](Weights) | [`WeightsView`] |
//!
//! `IN = B·E` is its own const parameter (stable Rust cannot compute it in a type); a wrong `IN`
//! or a dimension outside [`Shape::new`]'s limits is a compile error.
//!
//! This crate has no `unsafe` (`#![forbid(unsafe_code)]`); all of it lives in the kernels
//! crate's SIMD modules.
//!
//! ## Features
//!
//! * default: `no_std`, no `alloc`. Kernels choose their path at compile time from
//!   `cfg!(target_feature)`.
//! * `std`: the `data` loader, the run-time-sized owners, the weights and checkpoint writers,
//!   run-time CPU detection (and the `CHARMLP_KERNEL` override).
//! * `safetensors`: PyTorch interop (`interop`).
//!
//! The tools (train, sample, eval, convert, sweep) live in the `charmlp-cli` crate.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod backward;
pub mod batch;
pub mod checkpoint;
#[cfg(feature = "std")]
pub mod data;
pub mod error;
pub mod finetune;
pub mod forward;
pub mod int8;
#[cfg(feature = "safetensors")]
pub mod interop;
pub mod params;
pub mod pyrandom;
pub mod sample;
pub mod shape;
pub mod table;
pub mod train;
pub mod vocab;
pub mod weights;

pub use charmlp_kernels::{self as kernels, Index, Kernels, Path};
pub use error::{Error, SampleError, TrainError, VocabError};
/// Re-exported: [`Sampler::sample_string`] returns a `heapless::String` (its capacity counts
/// UTF-8 bytes, not characters), so a firmware crate needs no `heapless` of its own version.
pub use heapless;
pub use params::{Init, Params, ParamsView, ParamsViewMut};
pub use sample::{SampleConfig, Sampler};
pub use shape::{Shape, ShapeError};
pub use table::TableView;
pub use train::{LeanWorkspace, Schedule, Workspace, WorkspaceMut};
pub use vocab::{Vocab, VocabView};
pub use weights::{Weights, WeightsError, WeightsView};

#[cfg(feature = "std")]
pub use params::ParamsBuf;
#[cfg(feature = "std")]
pub use sample::SampleVecs;
#[cfg(feature = "std")]
pub use train::WorkspaceBuf;
#[cfg(feature = "std")]
pub use vocab::VocabBuf;

/// The lecture's model: V=27, B=3, E=10, IN=30, H=200 (11 897 parameters).
pub type Canonical = Params<27, 3, 10, 30, 200>;

/// `n` zeros in a new vector, or [`ShapeError::OutOfMemory`] if they cannot be allocated.
#[cfg(feature = "std")]
pub(crate) fn alloc_zeroed(n: usize) -> Result<std::vec::Vec<f32>, ShapeError> {
    let bytes = n.saturating_mul(4);
    let mut v = std::vec::Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| ShapeError::OutOfMemory { bytes })?;
    v.resize(n, 0.0);
    Ok(v)
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
