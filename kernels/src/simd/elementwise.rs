//! exp, tanh, softmax/cross-entropy, SGD and the bias gradient over [`Simd`] registers.

#![allow(unsafe_op_in_unsafe_fn)]

use super::Simd;
use crate::scalar::{EXP_MIN_ARG, TANH_C, TANH_D, TANH_Q};

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

/// tanh, the vector twin of [`crate::scalar::tanh`]: the same operations in the same order.
#[inline(always)]
pub(crate) unsafe fn tanh<S: Simd>(x: S::V) -> S::V {
    let a = S::abs(x);
    // `min(C, a)` returns `a` when it is NaN, as the scalar `a > C ? C : a` does.
    let t = S::min_keep_nan(S::splat(TANH_C), a);
    let s = S::mul(t, t);
    let d = S::fma(
        S::fma(S::splat(TANH_D[2]), s, S::splat(TANH_D[1])),
        s,
        S::splat(TANH_D[0]),
    );
    let one = S::splat(1.0);
    let q = S::fma(S::fma(S::splat(TANH_Q[1]), s, S::splat(TANH_Q[0])), s, one);
    let c = S::div(d, q);
    let y = S::fma(S::mul(t, s), c, t);
    let yy = S::mul(y, y);
    let w = S::div(yy, S::add(yy, S::splat(4.0)));
    let r = S::fnma(y, w, y);
    S::copysign(r, x)
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

/// `y = a + x` (`b` = null) or `y += x`, one IEEE addition per element (equal lengths,
/// checked by the caller).
#[inline(always)]
pub(crate) unsafe fn add<S: Simd>(a: *const f32, x: &[f32], y: &mut [f32]) {
    let n = y.len().min(x.len());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    let a = if a.is_null() { yp.cast_const() } else { a };
    let mut i = 0;
    while i + S::LANES <= n {
        S::store(yp.add(i), S::add(S::load(a.add(i)), S::load(xp.add(i))));
        i += S::LANES;
    }
    if i < n {
        let m = S::mask(n - i);
        S::store_m(
            yp.add(i),
            S::add(S::load_m(a.add(i), m), S::load_m(xp.add(i), m)),
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
    column_sums::<S>(m, n, dy, db, None);
}

/// `b ← fma(−lr, column sums of dy[m×n], b)`.
#[inline(always)]
pub(crate) unsafe fn bias_grad_sgd<S: Simd>(
    m: usize,
    n: usize,
    dy: &[f32],
    b: &mut [f32],
    lr: f32,
) {
    column_sums::<S>(m, n, dy, b, Some(lr));
}

/// The column sums of `dy[m×n]`, stored into `out` (`lr` none) or applied to it as an SGD step
/// `out ← fma(−lr, sum, out)`.
#[inline(always)]
unsafe fn column_sums<S: Simd>(m: usize, n: usize, dy: &[f32], out: &mut [f32], lr: Option<f32>) {
    debug_assert!(dy.len() >= m * n && out.len() >= n);
    let (yp, op) = (dy.as_ptr(), out.as_mut_ptr());
    let mut j = 0;
    while j < n {
        let w = (n - j).min(S::LANES);
        let mask = S::mask(w);
        let mut acc = S::zero();
        for r in 0..m {
            acc = S::add(acc, S::load_m(yp.add(r * n + j), mask));
        }
        if let Some(lr) = lr {
            acc = S::fnma(S::splat(lr), acc, S::load_m(op.add(j), mask));
        }
        S::store_m(op.add(j), acc, mask);
        j += S::LANES;
    }
}

/// The row maximum (masked-off lanes read as `−∞`); exact, so the same on every path.
#[inline(always)]
unsafe fn row_max<S: Simd>(row: &[f32]) -> f32 {
    let n = row.len();
    let xp = row.as_ptr();
    let ninf = S::splat(f32::NEG_INFINITY);
    let mut mx = ninf;
    let mut i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        // The new values first: `max` returns its second operand when one is NaN, so a NaN
        // logit is skipped, as the scalar comparison skips it.
        mx = S::max(S::load_m_or(xp.add(i), m, ninf), mx);
        i += S::LANES;
    }
    S::reduce_max(mx)
}

/// `out = exp((row − max)·scale)` vector-wide; returns `max`. `out.len() == row.len()`.
#[inline(always)]
unsafe fn exp_shifted_only<S: Simd>(row: &[f32], scale: f32, out: &mut [f32]) -> f32 {
    let n = row.len();
    let (xp, op) = (row.as_ptr(), out.as_mut_ptr());
    let max = row_max::<S>(row);
    let (mv, sv) = (S::splat(max), S::splat(scale));
    let mut i = 0;
    while i < n {
        let m = S::mask((n - i).min(S::LANES));
        let e = exp::<S>(S::mul(S::sub(S::load_m(xp.add(i), m), mv), sv));
        S::store_m(op.add(i), e, m);
        i += S::LANES;
    }
    max
}

/// [`exp_shifted_only`], and returns `(max, S)`, `S = ((0 + e₀) + e₁) + …` in index order (so
/// the scalar reference's bits).
#[inline(always)]
unsafe fn exp_shifted<S: Simd>(row: &[f32], scale: f32, out: &mut [f32]) -> (f32, f32) {
    let max = exp_shifted_only::<S>(row, scale, out);
    let mut sum = 0.0f32;
    for &e in out.iter() {
        sum += e;
    }
    (max, sum)
}

/// Rows summed per pass of [`sums_in_order`].
const SUM_ROWS: usize = 8;

/// `sums[r] = ((0 + e[r][0]) + e[r][1]) + …` for the `SUM_ROWS` rows of `v` values starting
/// at `e`: each row's sum in index order, as the reference adds, but the rows' chains
/// interleaved so that the adder's latency is paid once for all of them (one row alone is a
/// chain of `v` dependent additions).
#[inline(always)]
fn sums_in_order(e: &[f32], v: usize) -> [f32; SUM_ROWS] {
    let rows: [&[f32]; SUM_ROWS] = core::array::from_fn(|r| &e[r * v..(r + 1) * v]);
    let mut sums = [0.0f32; SUM_ROWS];
    for j in 0..v {
        for (s, row) in sums.iter_mut().zip(&rows) {
            *s += row[j];
        }
    }
    sums
}

/// Vector twin of [`crate::scalar::softmax_unnormalized`]: `out = exp((logits − max)·inv_temp)`;
/// returns their sum.
#[inline(always)]
pub(crate) unsafe fn softmax_unnormalized<S: Simd>(
    logits: &[f32],
    inv_temp: f32,
    out: &mut [f32],
) -> f32 {
    exp_shifted::<S>(logits, inv_temp, out).1
}

/// The next block of rows from row `i0` of `m` rows of `v` values: [`SUM_ROWS`] of them if
/// that many are left, else one. Each row's `exp((x − max)·scale)` goes to `out`; returns the
/// block's length and each row's `max` and sum in index order (the rows' sums side by side).
#[inline(always)]
unsafe fn exp_block<S: Simd>(
    (i0, m, v): (usize, usize, usize),
    logits: &[f32],
    scale: f32,
    out: &mut [f32],
) -> (usize, [f32; SUM_ROWS], [f32; SUM_ROWS]) {
    let mut maxes = [0.0f32; SUM_ROWS];
    if m - i0 < SUM_ROWS {
        let mut sums = [0.0f32; SUM_ROWS];
        let r = i0 * v..(i0 + 1) * v;
        (maxes[0], sums[0]) = exp_shifted::<S>(&logits[r.clone()], scale, &mut out[r]);
        return (1, maxes, sums);
    }
    for (r, mx) in maxes.iter_mut().enumerate() {
        let rows = (i0 + r) * v..(i0 + r + 1) * v;
        *mx = exp_shifted_only::<S>(&logits[rows.clone()], scale, &mut out[rows]);
    }
    let sums = sums_in_order(&out[i0 * v..(i0 + SUM_ROWS) * v], v);
    (SUM_ROWS, maxes, sums)
}

/// [`softmax_unnormalized`] on each of the `m` rows of `v` logits: `out` row `r` gets the
/// exponentials, `sums[r]` their sum in index order — the same bits as row by row, with the
/// sums of [`SUM_ROWS`] rows side by side.
#[inline(always)]
pub(crate) unsafe fn softmax_unnormalized_rows<S: Simd>(
    m: usize,
    v: usize,
    logits: &[f32],
    inv_temp: f32,
    out: &mut [f32],
    sums: &mut [f32],
) {
    let mut i0 = 0;
    while i0 < m {
        let (nb, _, s) = exp_block::<S>((i0, m, v), logits, inv_temp, out);
        sums[i0..i0 + nb].copy_from_slice(&s[..nb]);
        i0 += nb;
    }
}

/// Row max and `Σ exp(x − max)` in index order, through a small stack buffer (the loss without
/// its gradient).
#[inline(always)]
unsafe fn max_exp_sum<S: Simd>(row: &[f32]) -> (f32, f32) {
    let max = row_max::<S>(row);
    let mv = S::splat(max);
    let mut buf = [0.0f32; 64];
    let mut sum = 0.0f32;
    for chunk in row.chunks(64) {
        let (n, xp, bp) = (chunk.len(), chunk.as_ptr(), buf.as_mut_ptr());
        let mut i = 0;
        while i < n {
            let m = S::mask((n - i).min(S::LANES));
            S::store_m(bp.add(i), exp::<S>(S::sub(S::load_m(xp.add(i), m), mv)), m);
            i += S::LANES;
        }
        for &e in &buf[..n] {
            sum += e;
        }
    }
    (max, sum)
}

/// Vector twin of [`crate::scalar::cross_entropy`] (targets already checked by the caller).
#[inline(always)]
pub(crate) unsafe fn cross_entropy<S: Simd>(
    m: usize,
    v: usize,
    logits: &[f32],
    targets: &[u16],
    dlogits: Option<&mut [f32]>,
) -> f32 {
    let inv_m = 1.0 / m as f32;
    let mut total = 0.0f32;
    let Some(g) = dlogits else {
        for (i, row) in logits.chunks_exact(v).take(m).enumerate() {
            let t = usize::from(targets[i]);
            let (max, sum) = max_exp_sum::<S>(row);
            total += libm::logf(sum) - (row[t] - max);
        }
        return total * inv_m;
    };
    // A block of rows at a time (`exp_block`): their exponentials into `dlogits` and their sums,
    // then each row's loss (in row order) and gradient.
    let im = S::splat(inv_m);
    let mut i0 = 0;
    while i0 < m {
        let (nb, maxes, sums) = exp_block::<S>((i0, m, v), logits, 1.0, g);
        for r in 0..nb {
            let i = i0 + r;
            let (row, t, sum) = (
                &logits[i * v..(i + 1) * v],
                usize::from(targets[i]),
                sums[r],
            );
            total += libm::logf(sum) - (row[t] - maxes[r]);
            let out = &mut g[i * v..(i + 1) * v];
            let et = out[t];
            let op = out.as_mut_ptr();
            let s = S::splat(sum);
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
        i0 += nb;
    }
    total * inv_m
}

#[cfg(feature = "std")]
use crate::FMA_CHAINS;

/// `iters` rounds of `FMA_CHAINS` independent vector FMAs (`acc = acc·a + b`), the machine's FMA
/// throughput; returns a value that depends on every chain, so none is optimized away.
#[cfg(feature = "std")]
#[inline(always)]
pub(crate) unsafe fn fma_chains<S: Simd>(iters: usize) -> f32 {
    let a = S::splat(0.999_999);
    let b = S::splat(1e-7);
    let mut acc = [S::splat(1.0); FMA_CHAINS];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = S::fma(*v, a, b);
        }
    }
    let mut m = acc[0];
    for v in &acc[1..] {
        m = S::max(m, *v);
    }
    S::reduce_max(m)
}
