//! The scalar reference: portable, plain loops in a fixed order, no `unsafe`, no FMA.
//!
//! This is the spec. Every SIMD path is tested against these functions with the error bounds in
//! the crate docs, and this path is what a Cortex-M runs. Because it uses only IEEE-754 `+ − × ÷`
//! in a fixed order (Rust never contracts `a * b + c` into an FMA) and `libm`'s software
//! functions, it gives bit-identical results on every target: a host forced to the scalar path
//! samples the same names as the microcontroller.
//!
//! The functions work on flat row-major slices with the dimensions passed explicitly; the
//! const-generic wrappers in [`crate::Kernels`] guarantee the lengths.

mod embed;
pub(crate) mod exp;
mod matmul;
mod sgd;
mod softmax;
mod tanh;

pub use embed::{embed_gather, embed_scatter_add};
pub use exp::{EXP_MAX_ARG, EXP_MIN_ARG, exp};
pub use matmul::{COLS, Epilogue, bias_grad, matmul_nn, matmul_nt, matmul_tn};
pub use sgd::sgd;
pub use softmax::{cross_entropy, softmax};
pub use tanh::{TANH_POLY, TANH_POLY_MAX, TANH_SATURATE, tanh, tanh_backward};
