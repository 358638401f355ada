//! Plain SGD.

/// `p[i] −= lr · g[i]`, computed as `p − lr·g` (two roundings; SIMD paths use one FMA).
#[inline]
pub fn sgd(p: &mut [f32], g: &[f32], lr: f32) {
    for (p, &g) in p.iter_mut().zip(g) {
        *p -= lr * g;
    }
}
