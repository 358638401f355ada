//! Plain SGD.

use super::fma::fma;

/// `p[i] ← fma(−lr, g[i], p[i])`: `p − lr·g` rounded once (reference arithmetic v2).
#[inline]
pub fn sgd(p: &mut [f32], g: &[f32], lr: f32) {
    for (p, &g) in p.iter_mut().zip(g) {
        *p = fma(-lr, g, *p);
    }
}
