//! Numerically stable softmax, log-softmax cross-entropy and its gradient.
//!
//! Reference arithmetic v2, per row of `v` logits: `max` (exact), `eⱼ = exp((xⱼ − max)·s)` (the
//! subtraction and the scaling round separately; `s` = 1 for the cross-entropy), the sum
//! `S = ((0 + e₀) + e₁) + …` in index order. Probabilities are `eⱼ / S`; the row loss is
//! `ln S − (x_t − max)` (`libm::logf`); the mean loss `(((0 + l₀) + l₁) + …) · (1/m)`; the
//! gradient `(eⱼ/S)·(1/m)`, `(e_t/S − 1)·(1/m)` at the target. Every path sums in this order,
//! so every path gives these bits.

use super::exp::exp;
use crate::KernelError;

/// Row maximum (`−∞` for an empty row; NaN is skipped by the comparison).
#[inline]
pub(crate) fn row_max(row: &[f32]) -> f32 {
    row.iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// Mean cross-entropy of `m` rows of `v` logits against `targets`, and optionally its gradient
/// `dlogits = (softmax(logits) − onehot(target)) / m`.
///
/// Each row is shifted by its maximum before `exp`, so finite logits (±1e30 included) give a
/// finite loss and gradient. Targets are checked before anything is written.
pub fn cross_entropy(
    m: usize,
    v: usize,
    logits: &[f32],
    targets: &[u16],
    dlogits: Option<&mut [f32]>,
) -> Result<f32, KernelError> {
    if let Some(&t) = targets[..m].iter().find(|&&t| usize::from(t) >= v) {
        return Err(KernelError::IndexOutOfRange {
            index: usize::from(t),
            len: v,
        });
    }
    let inv_m = 1.0 / m as f32;
    let mut total = 0.0f32;
    let mut grad = dlogits;
    for (i, row) in logits.chunks_exact(v).take(m).enumerate() {
        let t = usize::from(targets[i]);
        let max = row_max(row);
        let mut sum = 0.0f32;
        for &x in row {
            sum += exp(x - max);
        }
        total += libm::logf(sum) - (row[t] - max);
        if let Some(g) = grad.as_deref_mut() {
            let gr = &mut g[i * v..(i + 1) * v];
            for (j, (gv, &x)) in gr.iter_mut().zip(row).enumerate() {
                let p = exp(x - max) / sum;
                *gv = if j == t { (p - 1.0) * inv_m } else { p * inv_m };
            }
        }
    }
    Ok(total * inv_m)
}

/// `out = exp((logits − max)·inv_temp)` and returns their sum `S` (see the module docs); the
/// probabilities are `out / S`.
pub fn softmax_unnormalized(logits: &[f32], inv_temp: f32, out: &mut [f32]) -> f32 {
    let max = row_max(logits);
    let mut sum = 0.0f32;
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = exp((x - max) * inv_temp);
        sum += *o;
    }
    sum
}

/// `out = softmax(logits · inv_temp)`, shifted by the row maximum; rows sum to one within
/// `(V+4)·2⁻²⁴`.
pub fn softmax(logits: &[f32], inv_temp: f32, out: &mut [f32]) {
    let sum = softmax_unnormalized(logits, inv_temp, out);
    for o in out.iter_mut() {
        *o /= sum;
    }
}
