//! Numerically stable softmax, log-softmax cross-entropy and its gradient.

use super::exp::exp;
use crate::KernelError;

/// Mean cross-entropy of `m` rows of `v` logits against `targets`, and optionally its gradient
/// `dlogits = (softmax(logits) − onehot(target)) / m`.
///
/// Each row is shifted by its maximum before `exp`, so finite logits (±1e30 included) give a
/// finite loss and gradient. Row loss = `ln Σ e^{z} − z_t` with `z = x − max`; the mean is the
/// f32 sum of row losses in row order divided by `m`. Targets are checked before anything is
/// written.
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
        let max = row
            .iter()
            .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
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

/// `out = softmax(logits · inv_temp)`, shifted by the row maximum; rows sum to one within
/// `(V+4)·2⁻²⁴`.
pub fn softmax(logits: &[f32], inv_temp: f32, out: &mut [f32]) {
    let max = logits
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut sum = 0.0f32;
    for (o, &x) in out.iter_mut().zip(logits) {
        *o = exp((x - max) * inv_temp);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}
