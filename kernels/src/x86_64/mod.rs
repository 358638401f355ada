//! x86_64 paths: AVX2+FMA (8 lanes) and AVX-512F (16 lanes).

pub(crate) mod avx2_fma;
pub(crate) mod avx512;
