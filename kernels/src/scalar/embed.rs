//! Embedding lookup (gather) and its gradient (scatter-add).
//!
//! These are copies and adds of `E`-float rows; one implementation serves every path.

use crate::KernelError;

/// For each of `m` contexts of `b` indices, concatenate rows `table[idx]` (each `e` floats) into
/// `out` (`m × b·e`). Every index is checked against `v` before anything is written.
pub fn embed_gather(
    v: usize,
    e: usize,
    b: usize,
    m: usize,
    table: &[f32],
    ctx: &[u16],
    out: &mut [f32],
) -> Result<(), KernelError> {
    check(v, &ctx[..m * b])?;
    for (c, o) in ctx[..m * b].iter().zip(out.chunks_exact_mut(e)) {
        let r = usize::from(*c) * e;
        o.copy_from_slice(&table[r..r + e]);
    }
    Ok(())
}

/// The gradient of [`embed_gather`]: `dtable[idx] += dout` row by row, in context order.
/// `dtable` is accumulated into (zero it first for a fresh gradient).
pub fn embed_scatter_add(
    v: usize,
    e: usize,
    b: usize,
    m: usize,
    dout: &[f32],
    ctx: &[u16],
    dtable: &mut [f32],
) -> Result<(), KernelError> {
    check(v, &ctx[..m * b])?;
    for (c, g) in ctx[..m * b].iter().zip(dout.chunks_exact(e)) {
        let r = usize::from(*c) * e;
        for (d, &g) in dtable[r..r + e].iter_mut().zip(g) {
            *d += g;
        }
    }
    Ok(())
}

fn check(v: usize, idx: &[u16]) -> Result<(), KernelError> {
    match idx.iter().find(|&&i| usize::from(i) >= v) {
        Some(&i) => Err(KernelError::IndexOutOfRange {
            index: usize::from(i),
            len: v,
        }),
        None => Ok(()),
    }
}
