//! tanh (reference arithmetic v2): a rational approximation of `2·tanh(t/2)`, doubled by the
//! exact identity `tanh t = y − y·y²/(y² + 4)`, `y = 2·tanh(t/2)` — 15 IEEE operations, no
//! branches (the clamp is a `min`), within 2 ulp of the correctly rounded result for every f32.
//!
//! The coefficients were fitted (weighted rational Remez in multi-precision arithmetic, then
//! rounded to f32 and tuned against an exhaustive sweep) for charmlp; the error profile over all
//! 2³² inputs is in the crate's precision table.

use super::fma::fma;

/// Arguments are clamped to this (the first f32 whose correctly rounded tanh is 1); the result
/// there is exactly 1.
pub const TANH_C: f32 = 9.010_914;
/// `2·tanh(t/2) ≈ t + t³·D(t²)/Q(t²)`: `D = D0 + D1·s + D2·s²`.
pub const TANH_D: [f32; 3] = [-0.083_333_27, -0.000_974_633_5, -6.956_565e-8];
/// `Q = 1 + Q1·s + Q2·s²`.
pub const TANH_Q: [f32; 2] = [0.111_694_8, 0.001_051_512_8];

/// tanh(x), within 2 ulp of the correctly rounded value for every finite f32; odd to the bit,
/// `tanh(±0) = ±0`, exactly ±1 for |x| ≥ [`TANH_C`] (±∞ included), NaN for NaN.
///
/// The operations, in order (every path performs exactly these):
/// `a = |x|`, `t = a > C ? C : a`, `s = t·t`, `d = fma(fma(D2, s, D1), s, D0)`,
/// `q = fma(fma(Q2, s, Q1), s, 1)`, `y = fma(t·s, d/q, t)`, `w = y·y / (y·y + 4)`,
/// `r = fma(−y, w, y)`, and `r` with the sign of `x`.
#[inline]
pub fn tanh(x: f32) -> f32 {
    let a = libm::fabsf(x);
    // `>` is false for NaN, which thus passes through.
    let t = if a > TANH_C { TANH_C } else { a };
    let s = t * t;
    let d = fma(fma(TANH_D[2], s, TANH_D[1]), s, TANH_D[0]);
    let q = fma(fma(TANH_Q[1], s, TANH_Q[0]), s, 1.0);
    let c = d / q;
    let y = fma(t * s, c, t);
    let yy = y * y;
    let w = yy / (yy + 4.0);
    let r = fma(-y, w, y);
    libm::copysignf(r, x)
}

/// Backward of `h = tanh(z)` in place: `dh[i] ·= fma(−h[i], h[i], 1)` (`1 − h²` rounded once).
#[inline]
pub fn tanh_backward(h: &[f32], dh: &mut [f32]) {
    for (d, &h) in dh.iter_mut().zip(h) {
        *d *= fma(-h, h, 1.0);
    }
}
