//! aarch64 paths: NEON (4 lanes).

pub(crate) mod neon;
