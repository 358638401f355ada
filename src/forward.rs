//! Forward pass: embed → `tanh(x·W1 + b1)` → `h·W2 + b2`, for a batch (training, evaluation)
//! and for one context (sampling).

use charmlp_kernels::{KernelError, Kernels};

use crate::params::ParamsRef;

/// Activations of up to `N` rows: what the backward pass needs from the forward pass.
#[derive(Debug, Clone)]
pub struct Activations<const V: usize, const IN: usize, const H: usize, const N: usize> {
    /// Concatenated embeddings.
    pub emb: [[f32; IN]; N],
    /// Hidden layer output (after tanh).
    pub h: [[f32; H]; N],
    /// Output logits.
    pub logits: [[f32; V]; N],
}

impl<const V: usize, const IN: usize, const H: usize, const N: usize> Activations<V, IN, H, N> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Activations {
            emb: [[0.0; IN]; N],
            h: [[0.0; H]; N],
            logits: [[0.0; V]; N],
        }
    }
}

impl<const V: usize, const IN: usize, const H: usize, const N: usize> Default
    for Activations<V, IN, H, N>
{
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the forward pass for `ctx.len()` rows (at most `N`) into `act`'s first rows.
///
/// # Errors
/// [`KernelError::RowMismatch`] if `ctx` has more than `N` rows, [`KernelError::IndexOutOfRange`]
/// if a context index is not below `V`.
pub fn forward_batch<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
    const N: usize,
>(
    k: Kernels,
    p: ParamsRef<'_, V, B, E, IN, H>,
    ctx: &[[u8; B]],
    act: &mut Activations<V, IN, H, N>,
) -> Result<(), KernelError> {
    let n = ctx.len();
    if n > N {
        return Err(KernelError::RowMismatch {
            expected: N,
            found: n,
        });
    }
    k.embed_gather_rows(p.c, ctx, &mut act.emb[..n])?;
    k.linear_tanh_rows(&act.emb[..n], p.w1, p.b1, &mut act.h[..n])?;
    k.linear_rows(&act.h[..n], p.w2, p.b2, &mut act.logits[..n])?;
    Ok(())
}

/// The forward pass for one context, as the sampler runs it: logits for the next symbol.
///
/// # Errors
/// [`KernelError::IndexOutOfRange`] if a context index is not below `V`.
pub fn forward_one<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
>(
    k: Kernels,
    p: ParamsRef<'_, V, B, E, IN, H>,
    ctx: &[u8; B],
    logits: &mut [f32; V],
) -> Result<(), KernelError> {
    let mut emb = [[0.0f32; IN]; 1];
    let mut h = [[0.0f32; H]; 1];
    k.embed_gather(p.c, core::array::from_ref(ctx), &mut emb)?;
    k.linear_tanh(&emb, p.w1, p.b1, &mut h);
    k.linear(&h, p.w2, p.b2, core::array::from_mut(logits));
    Ok(())
}
