//! Register-tiled matmuls over [`Simd`] registers.
//!
//! * `nn` (forward `Y = X·W (+b) (tanh)`, and `dW = Xᵀ·dY` by reading `X` with swapped strides):
//!   an `MR × NV·LANES` tile of `C` lives in registers; for each reduction index one row
//!   segment of `W` is loaded and each `A` element is broadcast. No packing: `W`'s rows are
//!   already contiguous and these matrices fit in L1/L2.
//! * `nt` (`dX = dY·Wᵀ`, optionally times `1 − h²`): both operands are contiguous along the
//!   reduction, so a `2 × 4` block of dot products is accumulated lane-wise and reduced with
//!   [`Simd::hsum4`] at the end.
//!
//! Tails are handled with masked loads and stores, never by reading past a buffer.

#![allow(unsafe_op_in_unsafe_fn)]

use super::Simd;
use super::elementwise::tanh;
use crate::scalar::Epilogue;

/// Strided view of the left operand: element (i, p) is at `ptr[i*rs + p*cs]`.
#[derive(Clone, Copy)]
pub(crate) struct A {
    pub ptr: *const f32,
    pub rs: usize,
    pub cs: usize,
}

#[inline(always)]
unsafe fn nn_tile<S: Simd, const MR: usize, const NV: usize, const MASKED: bool>(
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    let l = S::LANES;
    let mut acc = [[S::zero(); NV]; MR];
    for p in 0..k {
        let brow = b.add(p * ldb);
        let mut bv = [S::zero(); NV];
        for (j, bj) in bv.iter_mut().enumerate() {
            *bj = if MASKED && j == NV - 1 {
                S::load_m(brow.add(j * l), last)
            } else {
                S::load(brow.add(j * l))
            };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = S::splat(*a.ptr.add(i * a.rs + p * a.cs));
            for (cij, &bj) in row.iter_mut().zip(bv.iter()) {
                *cij = S::fma(av, bj, *cij);
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        let crow = c.add(i * ldc);
        for (j, &v) in row.iter().enumerate() {
            let masked = MASKED && j == NV - 1;
            let mut v = v;
            if epi != Epilogue::None {
                let bj = if masked {
                    S::load_m(bias.add(j * l), last)
                } else {
                    S::load(bias.add(j * l))
                };
                v = S::add(v, bj);
                if epi == Epilogue::BiasTanh {
                    v = tanh::<S>(v);
                }
            }
            if masked {
                S::store_m(crow.add(j * l), v, last);
            } else {
                S::store(crow.add(j * l), v);
            }
        }
    }
}

/// One row, `NV` registers wide, with two accumulator sets (even and odd reduction index) so
/// that the FMA latency is hidden even though only one row is in flight.
#[inline(always)]
unsafe fn nn_row<S: Simd, const NV: usize, const MASKED: bool>(
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
    last: S::M,
) {
    let l = S::LANES;
    let mut acc0 = [S::zero(); NV];
    let mut acc1 = [S::zero(); NV];
    let ld = |p: usize, j: usize| -> S::V {
        let ptr = b.add(p * ldb + j * l);
        if MASKED && j == NV - 1 {
            S::load_m(ptr, last)
        } else {
            S::load(ptr)
        }
    };
    let mut p = 0;
    while p + 2 <= k {
        let a0 = S::splat(*a.ptr.add(p * a.cs));
        let a1 = S::splat(*a.ptr.add((p + 1) * a.cs));
        for j in 0..NV {
            acc0[j] = S::fma(a0, ld(p, j), acc0[j]);
            acc1[j] = S::fma(a1, ld(p + 1, j), acc1[j]);
        }
        p += 2;
    }
    if p < k {
        let a0 = S::splat(*a.ptr.add(p * a.cs));
        for j in 0..NV {
            acc0[j] = S::fma(a0, ld(p, j), acc0[j]);
        }
    }
    for j in 0..NV {
        let masked = MASKED && j == NV - 1;
        let mut v = S::add(acc0[j], acc1[j]);
        if epi != Epilogue::None {
            let bj = if masked {
                S::load_m(bias.add(j * l), last)
            } else {
                S::load(bias.add(j * l))
            };
            v = S::add(v, bj);
            if epi == Epilogue::BiasTanh {
                v = tanh::<S>(v);
            }
        }
        if masked {
            S::store_m(c.add(j * l), v, last);
        } else {
            S::store(c.add(j * l), v);
        }
    }
}

/// Dispatch one column block of `nv` registers (the last one masked if `masked`) over all rows.
#[inline(always)]
unsafe fn nn_colblock<S: Simd, const NV: usize, const MASKED: bool>(
    m: usize,
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    if m == 1 {
        nn_row::<S, NV, MASKED>(k, a, b, ldb, bias, epi, c, last);
        return;
    }
    // 12 accumulators at most (of 16 registers): 4 rows for NV ≤ 3, 3 rows for NV = 4.
    const fn mr(nv: usize) -> usize {
        if nv >= 4 { 3 } else { 4 }
    }
    let step = mr(NV);
    let mut i = 0;
    while i + step <= m {
        let ai = A {
            ptr: a.ptr.add(i * a.rs),
            ..a
        };
        if step == 4 {
            nn_tile::<S, 4, NV, MASKED>(k, ai, b, ldb, bias, epi, c.add(i * ldc), ldc, last);
        } else {
            nn_tile::<S, 3, NV, MASKED>(k, ai, b, ldb, bias, epi, c.add(i * ldc), ldc, last);
        }
        i += step;
    }
    let ai = A {
        ptr: a.ptr.add(i * a.rs),
        ..a
    };
    let ci = c.add(i * ldc);
    match m - i {
        0 => {}
        1 => nn_tile::<S, 1, NV, MASKED>(k, ai, b, ldb, bias, epi, ci, ldc, last),
        2 => nn_tile::<S, 2, NV, MASKED>(k, ai, b, ldb, bias, epi, ci, ldc, last),
        _ => nn_tile::<S, 3, NV, MASKED>(k, ai, b, ldb, bias, epi, ci, ldc, last),
    }
}

/// `C[m×n] = epi(A[m×k] · B[k×n])`, `B` and `C` row-major with row strides `n`.
///
/// # Safety
/// `a` covers every (i, p) it names, `b` covers `k*n`, `bias` covers `n` if `epi` uses it, `c`
/// covers `m*n`, and the CPU supports `S`.
#[inline(always)]
pub(crate) unsafe fn nn<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    a: A,
    b: *const f32,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
) {
    let l = S::LANES;
    let nvec = n.div_ceil(l);
    let rem = n % l;
    let last = S::mask(if rem == 0 { l } else { rem });
    let full_last = S::mask(l);
    // Column blocks: if everything fits in 4 registers, one block; else blocks of 3 registers
    // (4 for a single row) and a final block of the remaining registers.
    let blk = Block::<S> {
        m,
        k,
        n,
        a,
        b,
        bias,
        epi,
        c,
        nvec,
        masked_tail: rem != 0,
        last,
        full_last,
    };
    if nvec <= 4 {
        _ = match nvec {
            0 => 0,
            1 => blk.run::<1>(0),
            2 => blk.run::<2>(0),
            3 => blk.run::<3>(0),
            _ => blk.run::<4>(0),
        };
        return;
    }
    let mut col = 0; // in registers
    if m == 1 {
        while nvec - col >= 4 {
            col = blk.run::<4>(col);
        }
    } else {
        while nvec - col >= 3 {
            col = blk.run::<3>(col);
        }
    }
    match nvec - col {
        0 => {}
        1 => _ = blk.run::<1>(col),
        2 => _ = blk.run::<2>(col),
        _ => _ = blk.run::<3>(col),
    }
}

/// The arguments of [`nn`], shared by its column blocks.
struct Block<S: Simd> {
    m: usize,
    k: usize,
    n: usize,
    a: A,
    b: *const f32,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
    nvec: usize,
    masked_tail: bool,
    last: S::M,
    full_last: S::M,
}

impl<S: Simd> Block<S> {
    /// Runs the `NV`-register column block starting at register `col`; returns `col + NV`.
    #[inline(always)]
    unsafe fn run<const NV: usize>(&self, col: usize) -> usize {
        let l = S::LANES;
        let (bb, bi, cc) = (
            self.b.add(col * l),
            self.bias.wrapping_add(col * l),
            self.c.add(col * l),
        );
        if self.masked_tail && col + NV == self.nvec {
            nn_colblock::<S, NV, true>(
                self.m, self.k, self.a, bb, self.n, bi, self.epi, cc, self.n, self.last,
            );
        } else {
            nn_colblock::<S, NV, false>(
                self.m,
                self.k,
                self.a,
                bb,
                self.n,
                bi,
                self.epi,
                cc,
                self.n,
                self.full_last,
            );
        }
        col + NV
    }
}

#[inline(always)]
unsafe fn nt_tile<S: Simd, const MR: usize, const KR: usize>(
    n: usize,
    dy: *const f32,
    w: *const f32,
    h: *const f32,
    dx: *mut f32,
    ldx: usize,
) {
    let l = S::LANES;
    let mut acc = [[S::zero(); KR]; MR];
    let mut p = 0;
    while p + l <= n {
        let mut wv = [S::zero(); KR];
        for (j, wj) in wv.iter_mut().enumerate() {
            *wj = S::load(w.add(j * n + p));
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let dv = S::load(dy.add(i * n + p));
            for (cij, &wj) in row.iter_mut().zip(wv.iter()) {
                *cij = S::fma(dv, wj, *cij);
            }
        }
        p += l;
    }
    if p < n {
        let m = S::mask(n - p);
        let mut wv = [S::zero(); KR];
        for (j, wj) in wv.iter_mut().enumerate() {
            *wj = S::load_m(w.add(j * n + p), m);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let dv = S::load_m(dy.add(i * n + p), m);
            for (cij, &wj) in row.iter_mut().zip(wv.iter()) {
                *cij = S::fma(dv, wj, *cij);
            }
        }
    }
    let z = S::zero();
    for (i, row) in acc.iter().enumerate() {
        let g = |j: usize| if j < KR { row[j] } else { z };
        let s = S::hsum4(g(0), g(1), g(2), g(3));
        let out = dx.add(i * ldx);
        for (j, &sj) in s.iter().enumerate().take(KR) {
            *out.add(j) = if h.is_null() {
                sj
            } else {
                let hv = *h.add(i * ldx + j);
                sj * (1.0 - hv * hv)
            };
        }
    }
}

#[inline(always)]
unsafe fn nt_rows<S: Simd, const MR: usize>(
    n: usize,
    kk: usize,
    dy: *const f32,
    w: *const f32,
    h: *const f32,
    dx: *mut f32,
    ldx: usize,
) {
    let mut j = 0;
    let hj = |j: usize| if h.is_null() { h } else { h.add(j) };
    while j + 4 <= kk {
        nt_tile::<S, MR, 4>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx);
        j += 4;
    }
    match kk - j {
        0 => {}
        1 => nt_tile::<S, MR, 1>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
        2 => nt_tile::<S, MR, 2>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
        _ => nt_tile::<S, MR, 3>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
    }
}

/// `dX[m×k] = dY[m×n] · W[k×n]ᵀ`, then `*= 1 − h²` if `h` is non-null.
///
/// # Safety
/// `dy` covers `m*n`, `w` covers `k*n`, `h` (if non-null) and `dx` cover `m*k`, and the CPU
/// supports `S`.
#[inline(always)]
pub(crate) unsafe fn nt<S: Simd>(
    m: usize,
    n: usize,
    k: usize,
    dy: *const f32,
    w: *const f32,
    h: *const f32,
    dx: *mut f32,
) {
    let mut i = 0;
    let hi = |i: usize| if h.is_null() { h } else { h.add(i * k) };
    while i + 2 <= m {
        nt_rows::<S, 2>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k);
        i += 2;
    }
    if i < m {
        nt_rows::<S, 1>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k);
    }
}
