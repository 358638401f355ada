//! Forward pass: embed → `tanh(x·W1 + b1)` → `h·W2 + b2`, for `n` contexts at once (a training
//! batch, an evaluation chunk, or the one context the sampler extends).

use charmlp_kernels::{Index, KernelError, Kernels, Mat, MatMut};

use crate::params::ParamsView;
use crate::table::TableView;

/// Where the forward pass writes, for up to `capacity` rows: `emb` holds `capacity × IN`
/// floats, `h` `capacity × H`, `logits` `capacity × V`. The first `n` rows are used.
#[derive(Debug)]
pub struct Activations<'a> {
    /// Concatenated embeddings, row-major `n × IN`.
    pub emb: &'a mut [f32],
    /// Hidden layer output (after tanh), `n × H`.
    pub h: &'a mut [f32],
    /// Output logits, `n × V`.
    pub logits: &'a mut [f32],
}

/// The number of rows in `ctx` (`B` indices per row).
///
/// # Errors
/// [`KernelError::Shape`] unless `ctx.len()` is a multiple of `block`.
pub fn rows_of(ctx: &[Index], block: usize) -> Result<usize, KernelError> {
    if block == 0 || !ctx.len().is_multiple_of(block) {
        return Err(KernelError::Shape {
            what: "context indices (a multiple of the block size)",
            expected: ctx.len().next_multiple_of(block.max(1)),
            found: ctx.len(),
        });
    }
    Ok(ctx.len() / block)
}

/// Runs the forward pass for the contexts in `ctx` (`n·B` indices, row after row) into the
/// first `n` rows of `act`; returns `n`.
///
/// # Errors
/// [`KernelError::Shape`] if `ctx` is not a whole number of contexts or a buffer of `act` has
/// room for fewer than `n` rows, [`KernelError::IndexOutOfRange`] if a context index is not
/// below `V`.
pub fn forward(
    k: Kernels,
    p: &ParamsView<'_>,
    ctx: &[Index],
    act: Activations<'_>,
) -> Result<usize, KernelError> {
    let s = p.shape();
    let n = rows_of(ctx, s.block())?;
    let mut emb = MatMut::prefix(act.emb, n, s.input())?;
    let mut h = MatMut::prefix(act.h, n, s.hidden())?;
    let logits = MatMut::prefix(act.logits, n, s.vocab())?;
    k.embed_gather(p.c(), ctx, emb.reborrow())?;
    // Layer 1 is summed per context position (the reference arithmetic's association).
    k.linear_tanh(emb.as_mat(), p.w1(), p.b1(), s.emb(), h.reborrow())?;
    k.linear(h.as_mat(), p.w2(), p.b2(), logits)?;
    Ok(n)
}

/// One row's forward pass with layer 1 from a per-position table ([`crate::table`]):
/// `h = tanh(((b1 + T[0][c₀]) + T[1][c₁]) + …)`, `logits = h·W2 + b2` (the bits of
/// [`forward`] on the same context). `h` and `logits` need at least `H` and `V` elements.
///
/// # Errors
/// [`KernelError::Shape`] for a context that is not `B` indices or buffers too short,
/// [`KernelError::IndexOutOfRange`] for an index not below `V`.
pub fn forward_table(
    k: Kernels,
    p: &ParamsView<'_>,
    t: &TableView<'_>,
    ctx: &[Index],
    h: &mut [f32],
    logits: &mut [f32],
) -> Result<(), KernelError> {
    let s = p.shape();
    let bad = KernelError::Shape {
        what: "context (B indices below V)",
        expected: s.block(),
        found: ctx.len(),
    };
    if ctx.len() != s.block() {
        return Err(bad);
    }
    let h = h.get_mut(..s.hidden()).ok_or(bad)?;
    let logits = logits.get_mut(..s.vocab()).ok_or(bad)?;
    for (pos, &c) in ctx.iter().enumerate() {
        let row = t
            .row(pos, usize::from(c))
            .ok_or(KernelError::IndexOutOfRange {
                index: usize::from(c),
                len: s.vocab(),
            })?;
        if pos == 0 {
            k.add(p.b1(), row, h)?;
        } else {
            k.add_assign(h, row)?;
        }
    }
    k.tanh(h);
    k.linear(
        Mat::row_vector(h),
        p.w2(),
        p.b2(),
        MatMut::row_vector(logits),
    )
}
