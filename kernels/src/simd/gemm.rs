//! Register-tiled matmuls over [`Simd`] registers.
//!
//! * `nn` (forward `Y = X·W (+b) (tanh)`, and `dW = Xᵀ·dY` by reading `X` with swapped strides):
//!   an `MR × NV·LANES` tile of `C` (up to `6 × 2` registers) lives in registers; for each
//!   reduction index one row segment of `W` is loaded and each `A` element is broadcast. No
//!   packing: `W`'s rows are already contiguous and these matrices fit in L1/L2.
//! * `nt` (`dX = dY·Wᵀ`, optionally times `1 − h²`): both operands are contiguous along the
//!   reduction, so a `4 × 3` block of dot products is accumulated lane-wise and reduced with
//!   [`Simd::hsum4`] at the end. For a short reduction (the 27 classes of `dh = dlogits·W2ᵀ`)
//!   the horizontal sums would cost more than the products, so `Wᵀ` is packed into a small
//!   panel, block by block, and the `nn` tiles run on it.
//!
//! Register budget: AVX2 has 16 vector registers. A tile's accumulators, its row segments of
//! the operands and a broadcast must fit with one to spare, or LLVM spills an accumulator and
//! the store/reload lands in the FMA dependency chain (this halved the batch matmuls once).
//!
//! Tails are handled with masked loads and stores, never by reading past a buffer.

#![allow(unsafe_op_in_unsafe_fn)]
// The tile kernels take their operands as raw pointers, strides and masks, one argument each.
#![allow(clippy::too_many_arguments)]

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

/// What the `nn` tiles do to each register of `C` before storing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Epi {
    /// Store as is.
    None,
    /// Add the bias, read through the `aux` pointer at the register's column.
    Bias,
    /// Add the bias, then tanh.
    BiasTanh,
    /// Multiply by `1 − h·h` (the backward of the tanh that produced `h`), with `h` read through
    /// the `aux` pointer at the register's row and column (row stride `ldc`, like `C`). Computed
    /// as `v·(1 − h·h)` with three roundings, exactly like [`crate::scalar::matmul_nt`].
    TanhBackward,
}

impl From<Epilogue> for Epi {
    fn from(e: Epilogue) -> Epi {
        match e {
            Epilogue::None => Epi::None,
            Epilogue::Bias => Epi::Bias,
            Epilogue::BiasTanh => Epi::BiasTanh,
        }
    }
}

/// Applies `epi` to register `j` of row `i` of a tile (`aux` as in [`Epi`]).
#[inline(always)]
unsafe fn epilogue<S: Simd>(
    v: S::V,
    epi: Epi,
    aux: *const f32,
    i: usize,
    ldc: usize,
    j: usize,
    masked: bool,
    last: S::M,
) -> S::V {
    if epi == Epi::None {
        return v;
    }
    let at = if epi == Epi::TanhBackward {
        aux.add(i * ldc + j * S::LANES)
    } else {
        aux.add(j * S::LANES)
    };
    let x = if masked {
        S::load_m(at, last)
    } else {
        S::load(at)
    };
    match epi {
        Epi::None => v,
        Epi::Bias => S::add(v, x),
        Epi::BiasTanh => tanh::<S>(S::add(v, x)),
        Epi::TanhBackward => S::mul(v, S::sub(S::splat(1.0), S::mul(x, x))),
    }
}

#[inline(always)]
unsafe fn nn_tile<S: Simd, const MR: usize, const NV: usize, const MASKED: bool>(
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epi,
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
            let v = epilogue::<S>(v, epi, bias, i, ldc, j, masked, last);
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
#[allow(clippy::needless_range_loop)] // `j` indexes both accumulator sets and `B`
unsafe fn nn_row<S: Simd, const NV: usize, const MASKED: bool>(
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epi,
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
        let v = epilogue::<S>(S::add(acc0[j], acc1[j]), epi, bias, 0, 0, j, masked, last);
        if masked {
            S::store_m(c.add(j * l), v, last);
        } else {
            S::store(c.add(j * l), v);
        }
    }
}

/// Rows per full register tile of [`nn_colblock`]: `6 × 2` registers of `C` is 12 accumulators,
/// enough independent FMA chains to cover two FMA pipes of latency 4, and with the two row
/// segments of `B` and one broadcast of `A` it needs 15 registers — one short of the 16 that
/// AVX2 has, so that the compiler keeps every accumulator in a register. (A `4 × 3` tile needs
/// all 16, and LLVM then spills an accumulator, putting a store and a reload into its FMA chain:
/// that halved the throughput of the batch matmuls.)
const NN_MR: usize = 6;

/// Runs `nn_tile::<S, mr, NV, MASKED>` for a runtime `mr` in `1..=NN_MR`.
#[inline(always)]
unsafe fn nn_tile_rows<S: Simd, const NV: usize, const MASKED: bool>(
    mr: usize,
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epi,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    match mr {
        1 => nn_tile::<S, 1, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
        2 => nn_tile::<S, 2, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
        3 => nn_tile::<S, 3, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
        4 => nn_tile::<S, 4, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
        5 => nn_tile::<S, 5, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
        _ => nn_tile::<S, NN_MR, NV, MASKED>(k, a, b, ldb, bias, epi, c, ldc, last),
    }
}

/// Dispatch one column block of `NV` registers (the last one masked if `MASKED`) over all rows.
///
/// Rows go in tiles of [`NN_MR`]; a remainder of `r` rows is not left to a thin tile (few
/// accumulators leave the FMA pipes idle) but shares the last full tile's rows: `NN_MR + r` rows
/// become two tiles of `⌈(NN_MR + r)/2⌉` and `⌊(NN_MR + r)/2⌋` (32 rows: 6+6+6+6+4+4).
#[inline(always)]
unsafe fn nn_colblock<S: Simd, const NV: usize, const MASKED: bool>(
    m: usize,
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    epi: Epi,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    if m == 1 {
        nn_row::<S, NV, MASKED>(k, a, b, ldb, bias, epi, c, last);
        return;
    }
    // (A loop over at most three (row, height) steps rather than a closure: a closure is a
    // separate function that need not inherit the caller's `#[target_feature]`s.)
    let mut i = 0;
    while i < m {
        let left = m - i;
        let mr = if left >= 2 * NN_MR || left == NN_MR {
            NN_MR
        } else if left > NN_MR {
            left.div_ceil(2)
        } else {
            left
        };
        let ai = A {
            ptr: a.ptr.add(i * a.rs),
            ..a
        };
        // The bias is per column; `h` of the tanh backward is laid out like `C`.
        let aux = if epi == Epi::TanhBackward {
            bias.add(i * ldc)
        } else {
            bias
        };
        nn_tile_rows::<S, NV, MASKED>(mr, k, ai, b, ldb, aux, epi, c.add(i * ldc), ldc, last);
        i += mr;
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
    let epi = Epi::from(epi);
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
    let mut col = 0; // in registers
    if m == 1 {
        // One row: blocks of up to 4 registers, two accumulator sets each (see `nn_row`).
        while nvec - col >= 4 {
            col = blk.run::<4>(col);
        }
        match nvec - col {
            0 => {}
            1 => _ = blk.run::<1>(col),
            2 => _ = blk.run::<2>(col),
            _ => _ = blk.run::<3>(col),
        }
    } else {
        // Several rows: blocks of 2 registers (tiles of `NN_MR × 2`), and one of 1 if `nvec` is odd.
        while nvec - col >= 2 {
            col = blk.run::<2>(col);
        }
        if nvec - col == 1 {
            blk.run::<1>(col);
        }
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
    epi: Epi,
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
    while j + NT_KR <= kk {
        nt_tile::<S, MR, NT_KR>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx);
        j += NT_KR;
    }
    match kk - j {
        0 => {}
        1 => nt_tile::<S, MR, 1>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
        2 => nt_tile::<S, MR, 2>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
        _ => nt_tile::<S, MR, 3>(n, dy, w.add(j * n), hj(j), dx.add(j), ldx),
    }
}

/// Rows and columns of `dX` per dot-product tile of [`nt`]: `4 × 3` accumulators (12 FMA chains,
/// enough to cover two FMA pipes of latency 4), three rows of `W` and one of `dY` in registers.
/// (`2 × 4` leaves the FMA pipes partly idle with only 8 chains; `3 × 4` makes LLVM spill.)
const NT_MR: usize = 4;
/// See [`NT_MR`].
const NT_KR: usize = 3;

/// The longest reduction for which [`nt`] packs `Wᵀ` and runs the `nn` tiles.
const NT_PACK_MAX: usize = 64;
/// Row stride of the packed panel: two registers of up to 16 lanes.
const NT_PACK_W: usize = 32;
/// Fewest rows for which packing pays: the copy costs about as much as a few rows of products.
const NT_PACK_MIN_ROWS: usize = 4;

/// `nt` for a short reduction (`n ≤ NT_PACK_MAX`), such as `dh = dlogits·W2ᵀ` over 27 classes.
///
/// A dot-product kernel spends more on the horizontal sums than on the products when each
/// output has only a few registers of reduction. Instead, for each block of one or two
/// registers of output columns, the matching rows of `W` are copied transposed into a small
/// panel, which makes the block an ordinary `nn` product `dY · panel` for the register tiles
/// above; the copy is paid once and used by all `m` rows.
#[inline(always)]
unsafe fn nt_packed<S: Simd>(
    m: usize,
    n: usize,
    k: usize,
    dy: *const f32,
    w: *const f32,
    h: *const f32,
    dx: *mut f32,
) {
    let l = S::LANES;
    debug_assert!(n <= NT_PACK_MAX && 2 * l <= NT_PACK_W);
    let mut panel = [0.0f32; NT_PACK_MAX * NT_PACK_W];
    let nvec = k.div_ceil(l);
    let rem = k % l;
    let last = S::mask(if rem == 0 { l } else { rem });
    let full = S::mask(l);
    let a = A {
        ptr: dy,
        rs: n,
        cs: 1,
    };
    let epi = if h.is_null() {
        Epi::None
    } else {
        Epi::TanhBackward
    };
    let mut col = 0; // in registers
    while col < nvec {
        let nv = (nvec - col).min(2);
        let width = nv * l;
        let j0 = col * l;
        // panel[p][jj] = W[j0 + jj][p] for the columns that exist; the others are never read.
        let (cols, wb, pp) = ((k - j0).min(width), w.add(j0 * n), panel.as_mut_ptr());
        for p in 0..n {
            for jj in 0..cols {
                *pp.add(p * width + jj) = *wb.add(jj * n + p);
            }
        }
        let (b, hp, c) = (panel.as_ptr(), h.wrapping_add(j0), dx.add(j0));
        match (nv, rem != 0 && col + nv == nvec) {
            (2, true) => nn_colblock::<S, 2, true>(m, n, a, b, width, hp, epi, c, k, last),
            (2, false) => nn_colblock::<S, 2, false>(m, n, a, b, width, hp, epi, c, k, full),
            (_, true) => nn_colblock::<S, 1, true>(m, n, a, b, width, hp, epi, c, k, last),
            (_, false) => nn_colblock::<S, 1, false>(m, n, a, b, width, hp, epi, c, k, full),
        }
        col += nv;
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
    if n <= NT_PACK_MAX && m >= NT_PACK_MIN_ROWS && n > 0 {
        nt_packed::<S>(m, n, k, dy, w, h, dx);
        return;
    }
    let mut i = 0;
    let hi = |i: usize| if h.is_null() { h } else { h.add(i * k) };
    while i + NT_MR <= m {
        nt_rows::<S, NT_MR>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k);
        i += NT_MR;
    }
    match m - i {
        0 => {}
        1 => nt_rows::<S, 1>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k),
        2 => nt_rows::<S, 2>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k),
        _ => nt_rows::<S, 3>(n, k, dy.add(i * n), w, hi(i), dx.add(i * k), k),
    }
}
