//! Manual gradients of the mean cross-entropy, layer by layer (no autograd):
//!
//! ```text
//! dlogits = (softmax(logits) − onehot(y)) / n          (kernels: cross_entropy)
//! dW2 = hᵀ·dlogits,  db2 = Σ_rows dlogits
//! dpre = (dlogits·W2ᵀ) ⊙ (1 − h²)                       (tanh backward fused)
//! dW1 = embᵀ·dpre,   db1 = Σ_rows dpre
//! demb = dpre·W1ᵀ,   dC[ctx] += demb                    (scatter-add)
//! ```

use charmlp_kernels::{Index, KernelError, Kernels, Mat, MatMut};

use crate::forward::rows_of;
use crate::params::{ParamsView, ParamsViewMut};

/// What the backward pass reads from the forward pass, and its scratch, for `n` rows.
#[derive(Debug)]
pub struct BackwardBufs<'a> {
    /// The concatenated embeddings of the forward pass, `n × IN` (or more rows).
    pub emb: &'a [f32],
    /// The hidden activations of the forward pass, `n × H` (or more rows).
    pub h: &'a [f32],
    /// `∂loss/∂logits`, `n × V` (or more rows).
    pub dlogits: &'a [f32],
    /// Scratch: the gradient at the hidden pre-activation, room for `n × H`.
    pub dpre: &'a mut [f32],
    /// Scratch: the gradient at the embeddings, room for `n × IN`.
    pub demb: &'a mut [f32],
}

/// Writes the gradient of the loss with respect to every parameter into `grads`, given the
/// forward activations and `dlogits` of the `n` contexts in `ctx`.
///
/// # Errors
/// [`KernelError::Shape`] if a buffer has room for fewer than `n` rows or `grads` has another
/// shape, [`KernelError::IndexOutOfRange`] for a context index not below `V`.
pub fn backward(
    k: Kernels,
    p: &ParamsView<'_>,
    ctx: &[Index],
    b: BackwardBufs<'_>,
    grads: &mut ParamsViewMut<'_>,
) -> Result<(), KernelError> {
    let s = p.shape();
    if grads.shape() != s {
        return Err(KernelError::Shape {
            what: "gradient parameters (= the model's parameter count)",
            expected: s.param_count(),
            found: grads.shape().param_count(),
        });
    }
    let n = rows_of(ctx, s.block())?;
    let emb = Mat::prefix(b.emb, n, s.input())?;
    let h = Mat::prefix(b.h, n, s.hidden())?;
    let dlogits = Mat::prefix(b.dlogits, n, s.vocab())?;
    let mut dpre = MatMut::prefix(b.dpre, n, s.hidden())?;
    let mut demb = MatMut::prefix(b.demb, n, s.input())?;
    k.matmul_tn(h, dlogits, grads.w2_mut())?;
    k.bias_grad(dlogits, grads.b2_mut())?;
    k.matmul_nt_tanh_backward(dlogits, p.w2(), h, dpre.reborrow())?;
    k.matmul_tn(emb, dpre.as_mat(), grads.w1_mut())?;
    k.bias_grad(dpre.as_mat(), grads.b1_mut())?;
    k.matmul_nt(dpre.as_mat(), p.w1(), demb.reborrow())?;
    let mut dc = grads.c_mut();
    dc.as_mut_slice().fill(0.0);
    k.embed_scatter_add(demb.as_mat(), ctx, dc)?;
    Ok(())
}
