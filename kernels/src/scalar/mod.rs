//! The scalar reference — **reference arithmetic v2**: portable, plain loops in a fixed order, no
//! `unsafe`.
//!
//! This is the spec: every operation is an IEEE-754 `+ − × ÷`, a fused multiply-add ([`fma`],
//! exactly specified, so hardware and software give the same bits) or one of `libm`'s software
//! functions, in an order each kernel's docs write down. Every other path (AVX2, AVX-512, NEON,
//! the Cortex-M FPU kernels) performs the same operations on every element in the same order,
//! so all of them give the same bits as this one, on every target: a host on any path samples
//! the same names as the microcontroller, and a run resumed on another path continues
//! bit-identically. The property tests in `kernels/tests/` assert that to the bit.
//!
//! The functions work on flat row-major slices with the dimensions passed explicitly; the
//! safe API in [`crate::Kernels`] checks the lengths.

mod add;
mod embed;
pub(crate) mod exp;
mod fma;
pub(crate) mod int8;
mod matmul;
mod sgd;
mod softmax;
mod tanh;

pub use add::{add, add_assign};
pub use embed::{embed_gather, embed_scatter_add};
pub use exp::{EXP_MAX_ARG, EXP_MIN_ARG, exp};
pub use fma::fma;
pub use int8::{matvec_i8, mul_hi, mul_hi_32, requantize, requantize_hi, requantize_lut_i8};
pub use matmul::{
    COLS, Epilogue, bias_grad, bias_grad_sgd, matmul_nn, matmul_nt, matmul_tn, matmul_tn_sgd,
};
pub use sgd::sgd;
pub use softmax::{cross_entropy, softmax, softmax_unnormalized};
pub use tanh::{TANH_C, TANH_D, TANH_Q, tanh, tanh_backward};
