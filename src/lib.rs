//! # charmlp
//!
//! A character-level MLP language model — Bengio et al. 2003, as taught in makemore part 2 —
//! that trains and samples with **no heap**: every shape is a const generic and every buffer a
//! fixed-size array, so the same code runs on a workstation and on a Cortex-M.
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
//! | `data` | text file → items → [`Vocab`] → (context, target) pairs → 80/10/10 splits | `std` |
//! | [`train`] | minibatch sampling, one step: forward → loss → backward → SGD, LR schedule | no_std |
//! | [`forward`] | embedding gather, `tanh(x·W1+b1)` fused, `h·W2+b2`; batch and single row | no_std |
//! | [`backward`] | manual gradients of every tensor | no_std |
//! | [`params`] | [`Params`] (owned) / [`ParamsRef`] (borrowed, e.g. from flash), init | no_std |
//! | [`weights`] | the versioned, CRC-checked file; zero-copy reader; writer (`std`) | no_std |
//! | [`sample`] | [`Sampler`]: temperature, top-k, `Xoshiro128PlusPlus`, into a `heapless::String` | no_std |
//! | [`charmlp_kernels`] | the numeric kernels: scalar reference + AVX2/AVX-512/NEON | no_std |
//!
//! This crate has no `unsafe` (`#![forbid(unsafe_code)]`); all of it lives in the kernels
//! crate's SIMD modules.
//!
//! ## Features
//!
//! * default: `no_std`, no `alloc`. Kernels choose their path at compile time from
//!   `cfg!(target_feature)`.
//! * `std`: the [`data`] loader, the weights writer, run-time CPU detection (and the
//!   `CHARMLP_KERNEL` override), and what the trainer example needs (`clap`, `plotters`).
//!
//! ## Shapes
//!
//! `Params<V, B, E, IN, H>` with `IN = B·E` checked at compile time (stable Rust cannot compute
//! `B·E` in a type). `V` is the vocabulary capacity: a vocabulary may use fewer classes; the
//! spare ones are never targets and never sampled.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod backward;
#[cfg(feature = "std")]
pub mod data;
pub mod error;
#[cfg(feature = "std")]
pub mod eval;
pub mod forward;
#[cfg(feature = "safetensors")]
pub mod interop;
pub mod params;
pub mod sample;
pub mod train;
#[cfg(feature = "std")]
pub mod trainer;
pub mod vocab;
pub mod weights;

pub use charmlp_kernels::{self as kernels, Kernels, Path};
pub use error::{SampleError, TrainError, VocabError};
pub use params::{Init, Params, ParamsRef};
pub use sample::{SampleConfig, Sampler};
pub use train::{Schedule, Workspace, sample_batch};
pub use vocab::Vocab;
pub use weights::{Weights, WeightsError};

/// The lecture's model: V=27, B=3, E=10, IN=30, H=200 (11 897 parameters).
pub type Canonical = Params<27, 3, 10, 30, 200>;
