//! x86_64 paths: AVX2+FMA (8 lanes) and AVX-512F (16 lanes); the int8 kernels on AVX2.

pub(crate) mod avx2_fma;
pub(crate) mod avx512;
pub(crate) mod int8;
