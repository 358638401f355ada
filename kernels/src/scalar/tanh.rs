//! tanh: an odd polynomial near zero, `1 − 2/(e^{2|x|} + 1)` beyond, exactly ±1 at saturation.

use super::exp::exp;

/// Below this |x| the polynomial branch is used.
pub const TANH_POLY_MAX: f32 = 0.5625;
/// At and beyond this |x| tanh(x) rounds to ±1 in f32 and the kernels return exactly ±1.
pub const TANH_SATURATE: f32 = 9.1;
/// tanh(a) ≈ a + a·s·P(s), s = a², on [0, 0.5625] (Chebyshev fit, highest coefficient first;
/// fit error 1.6e-8 in P, below 0.1 ulp of the result).
pub const TANH_POLY: [f32; 5] = [
    -6.525_572e-3,
    2.126_335_3e-2,
    -5.390_175_3e-2,
    0.133_330_74,
    -0.333_333_3,
];

/// tanh(x): max error 2 ulp against the correctly rounded value for every finite f32 (see the
/// precision table in the README for the measured maximum), odd, `tanh(±0) = ±0`, exactly ±1
/// for |x| ≥ 9.1, NaN for NaN.
#[inline]
pub fn tanh(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let a = libm::fabsf(x);
    let y = if a < TANH_POLY_MAX {
        let s = a * a;
        let mut p = TANH_POLY[0];
        p = p * s + TANH_POLY[1];
        p = p * s + TANH_POLY[2];
        p = p * s + TANH_POLY[3];
        p = p * s + TANH_POLY[4];
        (a * s) * p + a
    } else if a >= TANH_SATURATE {
        1.0
    } else {
        1.0 - 2.0 / (exp(a + a) + 1.0)
    };
    libm::copysignf(y, x)
}

/// Backward of `h = tanh(z)` in place: `dh[i] *= 1 − h[i]²`, computed as `dh·(1 − h·h)`.
#[inline]
pub fn tanh_backward(h: &[f32], dh: &mut [f32]) {
    for (d, &h) in dh.iter_mut().zip(h) {
        *d *= 1.0 - h * h;
    }
}
