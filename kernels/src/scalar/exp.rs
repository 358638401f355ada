//! `exp` for the softmax and the cross-entropy (arguments `≤ 0`, after the row maximum is
//! subtracted): Cody–Waite reduction and a degree-7 polynomial, with fused multiply-adds.

use super::fma::fma;

/// Below this argument `exp` returns `0.0` (the result would be subnormal). Softmax terms this
/// small are below 2^-126 of the row's largest term, far under f32 resolution of their sum.
pub const EXP_MIN_ARG: f32 = -87.33;
/// Above this argument `exp` returns `+inf`.
pub const EXP_MAX_ARG: f32 = 88.72;

pub(crate) const LOG2E: f32 = core::f32::consts::LOG2_E;
/// 1.5·2²³: adding and subtracting it rounds an f32 of magnitude below 2²² to an integer.
pub(crate) const ROUND_MAGIC: f32 = 12_582_912.0;
/// ln 2 split so that `k * LN2_HI` is exact for |k| < 2^12.
pub(crate) const LN2_HI: f32 = 0.693_359_4;
pub(crate) const LN2_LO: f32 = -2.121_944_4e-4;
/// e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (Cephes `expf` coefficients, highest first).
pub(crate) const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    0.166_666_65,
    0.5,
];

/// e^x with max error 1 ulp for x in [`EXP_MIN_ARG`], [`EXP_MAX_ARG`]; `0` below, `+inf` above,
/// NaN for NaN.
///
/// Reference arithmetic v2: `k = round(x·log₂e)` (ties to even), `r = fma(−k, ln2_lo,
/// fma(−k, ln2_hi, x))`, `p` by fma Horner, `e = fma(p, r·r, r) + 1`, then `e·2ᵏ` (two
/// multiplications by powers of two for `k > 0`, one for `k ≤ 0`).
#[inline]
pub fn exp(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x < EXP_MIN_ARG {
        return 0.0;
    }
    if x > EXP_MAX_ARG {
        return f32::INFINITY;
    }
    // Round to nearest, ties to even, by the 1.5·2²³ trick (exact for |t| < 2²²; here |t| ≤ 128):
    // the same result as `rintf`, in two additions instead of a software call.
    let t = x * LOG2E;
    let k = (t + ROUND_MAGIC) - ROUND_MAGIC;
    let r = fma(-k, LN2_HI, x);
    let r = fma(-k, LN2_LO, r);
    let mut p = EXP_P[0];
    p = fma(p, r, EXP_P[1]);
    p = fma(p, r, EXP_P[2]);
    p = fma(p, r, EXP_P[3]);
    p = fma(p, r, EXP_P[4]);
    p = fma(p, r, EXP_P[5]);
    let e = fma(p, r * r, r) + 1.0;
    let k = k as i32;
    if k <= 0 {
        // k in [-126, 0]: one multiplication (the result is normal, so it is exact or rounds once).
        e * pow2i(k)
    } else {
        // k in [1, 128]: 2^k in two halves so that k = 128 does not overflow early.
        let h = k / 2;
        e * pow2i(h) * pow2i(k - h)
    }
}

/// 2^k for k in [-126, 127], exactly.
#[inline]
pub(crate) fn pow2i(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}
