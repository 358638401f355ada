//! exp, tanh, softmax/cross-entropy, SGD and the bias gradient over [`Simd`] registers.

#![allow(unsafe_op_in_unsafe_fn)]

use super::Simd;
use crate::scalar::{EXP_MIN_ARG, TANH_POLY, TANH_POLY_MAX, TANH_SATURATE};

// The same constants as the scalar reference, so both paths run one algorithm.
use crate::scalar::exp::{EXP_P, LN2_HI, LN2_LO, LOG2E};

/// e^x for x in [EXP_MIN_ARG, 88]; lanes below EXP_MIN_ARG give 0 (NaN stays NaN).
#[inline(always)]
pub(crate) unsafe fn exp<S: Simd>(x: S::V) -> S::V {
    let lo = S::splat(EXP_MIN_ARG);
    // Clamp first so that the integer conversion in pow2i never sees a huge k.
    let xc = S::max(x, lo);
    let k = S::round(S::mul(xc, S::splat(LOG2E)));
    let r = S::fnma(k, S::splat(LN2_HI), xc);
    let r = S::fnma(k, S::splat(LN2_LO), r);
    let mut p = S::splat(EXP_P[0]);
    p = S::fma(p, r, S::splat(EXP_P[1]));
    p = S::fma(p, r, S::splat(EXP_P[2]));
    p = S::fma(p, r, S::splat(EXP_P[3]));
    p = S::fma(p, r, S::splat(EXP_P[4]));
    p = S::fma(p, r, S::splat(EXP_P[5]));
    let e = S::add(S::fma(p, S::mul(r, r), r), S::splat(1.0));
    let y = S::mul(e, S::pow2i(k));
    // x < lo → 0; NaN → NaN (max(NaN, lo) is lo on x86, so restore it explicitly).
    let y = S::select_lt(x, lo, S::zero(), y);
    S::select_ge(x, x, y, x)
}

/// tanh, the vector twin of [`crate::scalar::tanh`].
#[inline(always)]
pub(crate) unsafe fn tanh<S: Simd>(x: S::V) -> S::V {
    let a = S::abs(x);
    let s = S::mul(a, a);
    let mut p = S::splat(TANH_POLY[0]);
    p = S::fma(p, s, S::splat(TANH_POLY[1]));
    p = S::fma(p, s, S::splat(TANH_POLY[2]));
    p = S::fma(p, s, S::splat(TANH_POLY[3]));
    p = S::fma(p, s, S::splat(TANH_POLY[4]));
    let small = S::fma(S::mul(a, s), p, a);
    // 2|x| clamped below 40 (NaN kept) so exp never overflows; e^40 already saturates.
    let two_a = S::min_keep_nan(S::splat(40.0), S::add(a, a));
    let e = exp::<S>(two_a);
    let one = S::splat(1.0);
    let large = S::sub(one, S::div(S::splat(2.0), S::add(e, one)));
    let y = S::select_lt(a, S::splat(TANH_POLY_MAX), small, large);
    let y = S::select_ge(a, S::splat(TANH_SATURATE), one, y);
    S::copysign(y, x)
}

/// In-place tanh over a slice.
#[inline(always)]
pub(crate) unsafe fn tanh_slice<S: Simd>(x: &mut [f32]) {
    let n = x.len();
    let p = x.as_mut_ptr();
    let mut i = 0;
    while i + S::LANES <= n {
        S::store(p.add(i), tanh::<S>(S::load(p.add(i))));
        i += S::LANES;
    }
    if i < n {
        let m = S::mask(n - i);
        S::store_m(p.add(i), tanh::<S>(S::load_m(p.add(i), m)), m);
    }
}

/// `dh *= 1 − h²`.
#[inline(always)]
pub(crate) unsafe fn tanh_backward<S: Simd>(h: &[f32], dh: &mut [f32]) {
    let n = dh.len().min(h.len());
    let (hp, dp) = (h.as_ptr(), dh.as_mut_ptr());
    let one = S::splat(1.0);
    let mut i = 0;
    while i + S::LANES <= n {
        let hv = S::load(hp.add(i));
        S::store(dp.add(i), S::mul(S::load(dp.add(i)), S::fnma(hv, hv, one)));
        i += S::LANES;
    }
    if i < n {
        let m = S::mask(n - i);
        let hv = S::load_m(hp.add(i), m);
        S::store_m(
            dp.add(i),
            S::mul(S::load_m(dp.add(i), m), S::fnma(hv, hv, one)),
            m,
        );
    }
}

/// `p −= lr·g`.
#[inline(always)]
pub(crate) unsafe fn sgd<S: Simd>(p: &mut [f32], g: &[f32], lr: f32) {
    let n = p.len().min(g.len());
    let (pp, gp) = (p.as_mut_ptr(), g.as_ptr());
    let l = S::splat(lr);
    let mut i = 0;
    while i + S::LANES <= n {
        S::store(
            pp.add(i),
            S::fnma(l, S::load(gp.add(i)), S::load(pp.add(i))),
        );
        i += S::LANES;
    }
    if i < n {
        let m = S::mask(n - i);
        S::store_m(
            pp.add(i),
            S::fnma(l, S::load_m(gp.add(i), m), S::load_m(pp.add(i), m)),
            m,
        );
    }
}

/// `db = column sums of dy[m×n]`.
#[inline(always)]
pub(crate) unsafe fn bias_grad<S: Simd>(m: usize, n: usize, dy: &[f32], db: &mut [f32]) {
    debug_assert!(dy.len() >= m * n && db.len() >= n);
    let (yp, bp) = (dy.as_ptr(), db.as_mut_ptr());
    let mut j = 0;
    while j < n {
        let w = (n - j).min(S::LANES);
        let mask = S::mask(w);
        let mut acc = S::zero();
        for r in 0..m {
            acc = S::add(acc, S::load_m(yp.add(r * n + j), mask));
        }
        S::store_m(bp.add(j), acc, mask);
        j += S::LANES;
    }
}

/// Row max, `e = exp(x − max)` into `out`, returns (max, Σe). `out.len() == row.len()`.
#[inline(always)]
unsafe fn exp_shifted<S: Simd>(row: &[f32], scale: f32, out: &mut [f32]) -> (f32, f32) {
    let n = row.len();
    let (xp, op) = (row.as_ptr(), out.as_mut_ptr());
    let ninf = S::splat(f32::NEG_INFINITY);
    let mut mx = ninf;
    let mut i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        mx = S::max(mx, S::load_m_or(xp.add(i), m, ninf));
        i += S::LANES;
    }
    let max = S::reduce_max(mx);
    let (mv, sv) = (S::splat(max), S::splat(scale));
    let mut sum = S::zero();
    i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        // Masked-off lanes hold exp(−max·scale), which may be nonzero: keep them out of the sum.
        let e = S::keep(exp::<S>(S::mul(S::sub(S::load_m(xp.add(i), m), mv), sv)), m);
        S::store_m(op.add(i), e, m);
        sum = S::add(sum, e);
        i += S::LANES;
    }
    (max, S::reduce_add(sum))
}

/// Vector twin of [`crate::scalar::softmax`].
#[inline(always)]
pub(crate) unsafe fn softmax<S: Simd>(logits: &[f32], inv_temp: f32, out: &mut [f32]) {
    let (_, sum) = exp_shifted::<S>(logits, inv_temp, out);
    let n = out.len();
    let op = out.as_mut_ptr();
    let s = S::splat(sum);
    let mut i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        S::store_m(op.add(i), S::div(S::load_m(op.add(i), m), s), m);
        i += S::LANES;
    }
}

/// Row max and `Σ exp(x − max)` without storing the terms (the loss without its gradient).
#[inline(always)]
unsafe fn max_exp_sum<S: Simd>(row: &[f32]) -> (f32, f32) {
    let n = row.len();
    let xp = row.as_ptr();
    let ninf = S::splat(f32::NEG_INFINITY);
    let mut mx = ninf;
    let mut i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        mx = S::max(mx, S::load_m_or(xp.add(i), m, ninf));
        i += S::LANES;
    }
    let max = S::reduce_max(mx);
    let mv = S::splat(max);
    let mut sum = S::zero();
    i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        let e = S::keep(exp::<S>(S::sub(S::load_m(xp.add(i), m), mv)), m);
        sum = S::add(sum, e);
        i += S::LANES;
    }
    (max, S::reduce_add(sum))
}

/// Vector twin of [`crate::scalar::cross_entropy`] (targets already checked by the caller).
#[inline(always)]
pub(crate) unsafe fn cross_entropy<S: Simd>(
    m: usize,
    v: usize,
    logits: &[f32],
    targets: &[u16],
    mut dlogits: Option<&mut [f32]>,
) -> f32 {
    let inv_m = 1.0 / m as f32;
    let mut total = 0.0f32;
    for (i, row) in logits.chunks_exact(v).take(m).enumerate() {
        let t = usize::from(targets[i]);
        let Some(g) = dlogits.as_deref_mut() else {
            let (max, sum) = max_exp_sum::<S>(row);
            total += libm::logf(sum) - (row[t] - max);
            continue;
        };
        let out = &mut g[i * v..(i + 1) * v];
        let (max, sum) = exp_shifted::<S>(row, 1.0, out);
        total += libm::logf(sum) - (row[t] - max);
        let et = out[t];
        let op = out.as_mut_ptr();
        let (s, im) = (S::splat(sum), S::splat(inv_m));
        let mut j = 0;
        while j < v {
            let mk = S::mask((v - j).min(S::LANES));
            S::store_m(
                op.add(j),
                S::mul(S::div(S::load_m(op.add(j), mk), s), im),
                mk,
            );
            j += S::LANES;
        }
        out[t] = (et / sum - 1.0) * inv_m;
    }
    total * inv_m
}
