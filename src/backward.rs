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
use crate::shape::Shape;

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

/// The first `n` rows of each buffer, as matrices: `emb`, `h`, `dlogits`, `dpre`, `demb`.
type Rows<'a> = (Mat<'a>, Mat<'a>, Mat<'a>, MatMut<'a>, MatMut<'a>);

impl<'a> BackwardBufs<'a> {
    fn rows(self, n: usize, s: Shape) -> Result<Rows<'a>, KernelError> {
        Ok((
            Mat::prefix(self.emb, n, s.input())?,
            Mat::prefix(self.h, n, s.hidden())?,
            Mat::prefix(self.dlogits, n, s.vocab())?,
            MatMut::prefix(self.dpre, n, s.hidden())?,
            MatMut::prefix(self.demb, n, s.input())?,
        ))
    }
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
    let (emb, h, dlogits, mut dpre, mut demb) = b.rows(n, s)?;
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

/// The backward pass and the SGD step in one (no gradient buffers): every parameter is updated
/// by `fma(−lr, g, p)` as soon as its gradient `g` is produced, in an order that reads each
/// weight before it changes — `dpre` with the old `W2`, then `W2`, `b2`; `demb` with the old
/// `W1`, then `W1`, `b1`; then the rows of `C` in the batch. The result is, to the bit, that of
/// [`backward`] followed by [`Kernels::sgd`] on every tensor, with no gradient stored: the RAM of
/// a training step is its activations (see [`crate::train::LeanWorkspace`]).
///
/// The gradient of `C` touches only the rows in the batch: row `c`'s gradient is summed, in
/// context order, in the `demb` slot of its first occurrence (`0 + d₀ + d₁ + …`, as the
/// scatter-add into a zeroed `dC` does) and applied once; rows not in the batch keep their
/// bits (`fma(−lr, 0, p) = p`).
///
/// # Errors
/// As [`backward`].
pub fn backward_sgd(
    k: Kernels,
    p: &mut ParamsViewMut<'_>,
    ctx: &[Index],
    b: BackwardBufs<'_>,
    lr: f32,
) -> Result<(), KernelError> {
    let s: Shape = p.shape();
    let n = rows_of(ctx, s.block())?;
    let (emb, h, dlogits, mut dpre, mut demb) = b.rows(n, s)?;
    k.matmul_nt_tanh_backward(dlogits, p.as_view().w2(), h, dpre.reborrow())?;
    k.matmul_tn_sgd(h, dlogits, p.w2_mut(), lr)?;
    k.bias_grad_sgd(dlogits, p.b2_mut(), lr)?;
    k.matmul_nt(dpre.as_mat(), p.as_view().w1(), demb.reborrow())?;
    k.matmul_tn_sgd(emb, dpre.as_mat(), p.w1_mut(), lr)?;
    k.bias_grad_sgd(dpre.as_mat(), p.b1_mut(), lr)?;
    // dC, row by row of the batch: indices were checked by the forward pass's gather, but a
    // caller may come here directly.
    let (v, e) = (s.vocab(), s.emb());
    if let Some(&bad) = ctx[..n * s.block()].iter().find(|&&c| usize::from(c) >= v) {
        return Err(KernelError::IndexOutOfRange {
            index: usize::from(bad),
            len: v,
        });
    }
    let d = demb.as_mut_slice();
    let ctx = &ctx[..n * s.block()];
    let mut c = p.c_mut();
    let table = c.as_mut_slice();
    // Positions already summed into an earlier occurrence of their symbol: a bitset for the
    // first `TRACKED` positions (32 bytes of stack), a search for any beyond.
    const TRACKED: usize = 256;
    let mut done = [0u64; TRACKED / 64];
    for t in 0..ctx.len() {
        let sym = ctx[t];
        let repeated = if t < TRACKED {
            done[t / 64] >> (t % 64) & 1 == 1
        } else {
            ctx[..t].contains(&sym)
        };
        if repeated {
            continue;
        }
        let (head, tail) = d.split_at_mut((t + 1) * e);
        let acc = &mut head[t * e..];
        for a in acc.iter_mut() {
            *a += 0.0;
        }
        for (t2, &c2) in ctx.iter().enumerate().skip(t + 1) {
            if c2 == sym {
                if t2 < TRACKED {
                    done[t2 / 64] |= 1 << (t2 % 64);
                }
                let off = (t2 - t - 1) * e;
                for (a, &g) in acc.iter_mut().zip(&tail[off..off + e]) {
                    *a += g;
                }
            }
        }
        let row = usize::from(sym) * e;
        k.sgd(&mut table[row..row + e], acc, lr)?;
    }
    Ok(())
}
