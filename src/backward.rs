//! Manual gradients of the mean cross-entropy, layer by layer (no autograd):
//!
//! ```text
//! dlogits = (softmax(logits) − onehot(y)) / n          (kernels: cross_entropy)
//! dW2 = hᵀ·dlogits,  db2 = Σ_rows dlogits
//! dpre = (dlogits·W2ᵀ) ⊙ (1 − h²)                       (tanh backward fused)
//! dW1 = embᵀ·dpre,   db1 = Σ_rows dpre
//! demb = dpre·W1ᵀ,   dC[ctx] += demb                    (scatter-add)
//! ```

use charmlp_kernels::{KernelError, Kernels};

use crate::forward::Activations;
use crate::params::{Params, ParamsRef};

/// Scratch for the backward pass of up to `N` rows.
#[derive(Debug, Clone)]
pub struct BackwardScratch<const IN: usize, const H: usize, const N: usize> {
    /// Gradient at the hidden pre-activation.
    pub dpre: [[f32; H]; N],
    /// Gradient at the concatenated embeddings.
    pub demb: [[f32; IN]; N],
}

impl<const IN: usize, const H: usize, const N: usize> BackwardScratch<IN, H, N> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        BackwardScratch {
            dpre: [[0.0; H]; N],
            demb: [[0.0; IN]; N],
        }
    }
}

impl<const IN: usize, const H: usize, const N: usize> Default for BackwardScratch<IN, H, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes the gradient of the loss with respect to every parameter into `grads`, given the
/// forward activations of `ctx.len()` rows and `dlogits` for the same rows.
///
/// # Errors
/// [`KernelError::RowMismatch`] if `dlogits` and `ctx` disagree or exceed `N` rows,
/// [`KernelError::IndexOutOfRange`] for a context index not below `V`.
#[allow(clippy::too_many_arguments)]
pub fn backward<
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
    act: &Activations<V, IN, H, N>,
    dlogits: &[[f32; V]],
    scratch: &mut BackwardScratch<IN, H, N>,
    grads: &mut Params<V, B, E, IN, H>,
) -> Result<(), KernelError> {
    let n = ctx.len();
    if n > N || dlogits.len() != n {
        return Err(KernelError::RowMismatch {
            expected: n.min(N),
            found: dlogits.len().max(n),
        });
    }
    let (h, emb) = (&act.h[..n], &act.emb[..n]);
    let (dpre, demb) = (&mut scratch.dpre[..n], &mut scratch.demb[..n]);
    k.matmul_tn_rows(h, dlogits, &mut grads.w2)?;
    k.bias_grad_rows(dlogits, &mut grads.b2);
    k.matmul_nt_tanh_backward_rows(dlogits, p.w2, h, dpre)?;
    k.matmul_tn_rows(emb, dpre, &mut grads.w1)?;
    k.bias_grad_rows(dpre, &mut grads.b1);
    k.matmul_nt_rows(dpre, p.w1, demb)?;
    grads.c.as_flattened_mut().fill(0.0);
    k.embed_scatter_add_rows(demb, ctx, &mut grads.c)?;
    Ok(())
}
