//! Register-tiled matmuls over [`Simd`] registers, bit-identical to [`crate::scalar`].
//!
//! Every output element is a *chain* (`t = a₀·b₀`, then `t = fma(aₚ, bₚ, t)` in increasing `p`):
//! the tiles vectorize across output columns, so each lane runs exactly the scalar chain of its
//! column, and the result is the reference's to the bit whatever the lane count.
//!
//! * [`nn`] (forward `Y = X·W (+b) (tanh)` in segments, and `dW = Xᵀ·dY` by reading `X` with
//!   swapped strides): an `MR × NV·LANES` tile of chains (up to `6 × 2` registers) lives in
//!   registers; for each reduction index one row segment of `W` is loaded and each `A` element
//!   is broadcast. A layer cut into segments (one per context position) runs one pass per
//!   segment, each combining its chains into `C` in segment order: `C = b + T₀`, then
//!   `C = C + Tₛ`, with the tanh applied in the last pass.
//! * [`nt`] (`dX = dY·Wᵀ`, optionally `⊙ fma(−h, h, 1)`): the chain runs along the rows of `W`,
//!   so blocks of `Wᵀ` are copied into a small panel and the `nn` tiles run on it; a long
//!   reduction is cut into chunks, each pass continuing the chains from `C`.
//!
//! Register budget: AVX2 has 16 vector registers. A tile's accumulators, its row segments of the
//! operands and a broadcast must fit with one to spare, or LLVM spills an accumulator and the
//! store/reload lands in the FMA dependency chain (this halved the batch matmuls once).
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

/// How a pass's chains start.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Init {
    /// `t = a₀·b₀`: a new chain.
    Mul,
    /// `t = C`: continue the chain stored in `C` by the previous pass.
    LoadC,
}

/// What a pass does with its chains `t` at the end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// `C = t`.
    Store,
    /// `C = bias + t` (the bias read through `aux` at the register's column).
    Bias,
    /// `C = C + t`.
    AddC,
    /// `C = fma(−lr, t, C)`: the SGD update of a weight by its gradient `t`.
    Sgd,
}

/// What happens to the combined value before it is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Post {
    /// Nothing.
    None,
    /// `tanh`.
    Tanh,
    /// `· fma(−h, h, 1)`, `h` read through `aux` at the register's row and column (row stride
    /// `ldc`, like `C`): the backward of the tanh that produced `h`.
    TanhBackward,
}

/// One pass's instructions to the tiles.
#[derive(Clone, Copy)]
struct Pass {
    init: Init,
    combine: Combine,
    post: Post,
    /// The bias (for [`Combine::Bias`]) or `h` (for [`Post::TanhBackward`]), at the tile's
    /// first column (and row, for `h`).
    aux: *const f32,
    /// The learning rate of [`Combine::Sgd`].
    lr: f32,
}

/// Loads a (possibly masked) register.
#[inline(always)]
unsafe fn ld<S: Simd>(p: *const f32, masked: bool, last: S::M) -> S::V {
    if masked {
        S::load_m(p, last)
    } else {
        S::load(p)
    }
}

/// Stores a (possibly masked) register.
#[inline(always)]
unsafe fn st<S: Simd>(p: *mut f32, v: S::V, masked: bool, last: S::M) {
    if masked {
        S::store_m(p, v, last)
    } else {
        S::store(p, v)
    }
}

/// Combines the chains of register `j` of row `i` into `C` per `pass`.
#[inline(always)]
unsafe fn finish<S: Simd>(
    t: S::V,
    pass: Pass,
    c: *mut f32,
    i: usize,
    ldc: usize,
    j: usize,
    masked: bool,
    last: S::M,
) {
    let at = c.add(i * ldc + j * S::LANES);
    let v = match pass.combine {
        Combine::Store => t,
        Combine::Bias => S::add(ld::<S>(pass.aux.add(j * S::LANES), masked, last), t),
        Combine::AddC => S::add(ld::<S>(at, masked, last), t),
        Combine::Sgd => S::fnma(S::splat(pass.lr), t, ld::<S>(at, masked, last)),
    };
    let v = match pass.post {
        Post::None => v,
        Post::Tanh => tanh::<S>(v),
        Post::TanhBackward => {
            let h = ld::<S>(pass.aux.add(i * ldc + j * S::LANES), masked, last);
            S::mul(v, S::fnma(h, h, S::splat(1.0)))
        }
    };
    st::<S>(at, v, masked, last);
}

/// One `MR × NV` tile of chains over `k` reduction steps.
#[inline(always)]
unsafe fn nn_tile<S: Simd, const MR: usize, const NV: usize, const MASKED: bool>(
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    let l = S::LANES;
    let masked = |j: usize| MASKED && j == NV - 1;
    let row = |p: usize| {
        let brow = b.add(p * ldb);
        let mut bv = [S::zero(); NV];
        for (j, bj) in bv.iter_mut().enumerate() {
            *bj = ld::<S>(brow.add(j * l), masked(j), last);
        }
        bv
    };
    let mut acc = [[S::zero(); NV]; MR];
    let start = match pass.init {
        Init::LoadC => {
            for (i, r) in acc.iter_mut().enumerate() {
                for (j, cij) in r.iter_mut().enumerate() {
                    *cij = ld::<S>(c.add(i * ldc + j * l), masked(j), last);
                }
            }
            0
        }
        Init::Mul if k > 0 => {
            let bv = row(0);
            for (i, r) in acc.iter_mut().enumerate() {
                let av = S::splat(*a.ptr.add(i * a.rs));
                for (cij, &bj) in r.iter_mut().zip(bv.iter()) {
                    *cij = S::mul(av, bj);
                }
            }
            1
        }
        Init::Mul => 0,
    };
    for p in start..k {
        let bv = row(p);
        for (i, r) in acc.iter_mut().enumerate() {
            let av = S::splat(*a.ptr.add(i * a.rs + p * a.cs));
            for (cij, &bj) in r.iter_mut().zip(bv.iter()) {
                *cij = S::fma(av, bj, *cij);
            }
        }
    }
    for (i, r) in acc.iter().enumerate() {
        for (j, &v) in r.iter().enumerate() {
            // For `TanhBackward`, `aux` is `h` laid out like `C`; `finish` offsets it itself.
            finish::<S>(v, pass, c, i, ldc, j, masked(j), last);
        }
    }
}

/// Rows per full register tile: `6 × 2` registers of chains is 12 independent FMA chains,
/// enough to cover two FMA pipes of latency 4, and with the two row segments of `B` and one
/// broadcast of `A` it needs 15 registers — one short of the 16 that AVX2 has, so the compiler
/// keeps every accumulator in a register. (A `4 × 3` tile needs all 16, and LLVM then spills an
/// accumulator, putting a store and a reload into its FMA chain: that halved the throughput of
/// the batch matmuls.)
const NN_MR: usize = 6;

/// Runs `nn_tile::<S, mr, NV, MASKED>` for a run-time `mr` in `1..=NN_MR`.
#[inline(always)]
unsafe fn nn_tile_rows<S: Simd, const NV: usize, const MASKED: bool>(
    mr: usize,
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    match mr {
        1 => nn_tile::<S, 1, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
        2 => nn_tile::<S, 2, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
        3 => nn_tile::<S, 3, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
        4 => nn_tile::<S, 4, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
        5 => nn_tile::<S, 5, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
        _ => nn_tile::<S, NN_MR, NV, MASKED>(k, a, b, ldb, pass, c, ldc, last),
    }
}

/// One column block of `NV` registers (the last one masked if `MASKED`) over all `m` rows.
///
/// Rows go in tiles of [`NN_MR`]; a remainder of `r` rows is not left to a thin tile (few
/// chains leave the FMA pipes idle) but shares the last full tile's rows: `NN_MR + r` rows
/// become two tiles of `⌈(NN_MR + r)/2⌉` and `⌊(NN_MR + r)/2⌋` (32 rows: 6+6+6+6+4+4).
#[inline(always)]
unsafe fn nn_colblock<S: Simd, const NV: usize, const MASKED: bool>(
    m: usize,
    k: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
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
        let aux = if pass.post == Post::TanhBackward {
            pass.aux.add(i * ldc)
        } else {
            pass.aux
        };
        let p = Pass { aux, ..pass };
        nn_tile_rows::<S, NV, MASKED>(mr, k, ai, b, ldb, p, c.add(i * ldc), ldc, last);
        i += mr;
    }
}

/// One pass over every column block of `C[m×n]`: `A[m×k]` (strided) times `B[k×n]` (row stride
/// `ldb`), `C` with row stride `ldc`.
#[inline(always)]
unsafe fn pass_over<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
) {
    // (Packing stores partial chains in `C`: not for passes that read `C`'s old value.)
    let reads_c = matches!(pass.combine, Combine::AddC | Combine::Sgd);
    if ldb >= PACK_MIN_LDB && k > PACK_MIN_K && !reads_c {
        return pass_packed::<S>(m, k, n, a, b, ldb, pass, c, ldc);
    }
    if ldc >= PACK_MIN_LDB && m > ROW_PANEL {
        // Wide rows of `C` (a weight gradient `Xᵀ·dY` of a big layer): panels of rows, each
        // swept along its rows, so that `C` is written row by row rather than down its columns
        // (one page per row per tile).
        let mut i = 0;
        while i < m {
            let mm = (m - i).min(ROW_PANEL);
            let ai = A {
                ptr: a.ptr.add(i * a.rs),
                ..a
            };
            let aux = if pass.post == Post::TanhBackward {
                pass.aux.add(i * ldc)
            } else {
                pass.aux
            };
            pass_cols::<S>(
                mm,
                k,
                n,
                ai,
                b,
                ldb,
                Pass { aux, ..pass },
                c.add(i * ldc),
                ldc,
            );
            i += mm;
        }
        return;
    }
    pass_cols::<S>(m, k, n, a, b, ldb, pass, c, ldc)
}

/// [`pass_over`]'s sweep: every column block, all `m` rows in each.
#[inline(always)]
unsafe fn pass_cols<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
) {
    let l = S::LANES;
    let nvec = n.div_ceil(l);
    let rem = n % l;
    let last = S::mask(if rem == 0 { l } else { rem });
    let full = S::mask(l);
    let mut col = 0; // in registers
    // Blocks of 2 registers (tiles of `NN_MR × 2`), and one of 1 if `nvec` is odd.
    while col < nvec {
        let nv = (nvec - col).min(2);
        let (bb, cc) = (b.add(col * l), c.add(col * l));
        // The bias (per column) and `h` (like `C`) both move with the column block.
        let p = Pass {
            aux: pass.aux.wrapping_add(col * l),
            ..pass
        };
        match (nv, rem != 0 && col + nv == nvec) {
            (2, true) => nn_colblock::<S, 2, true>(m, k, a, bb, ldb, p, cc, ldc, last),
            (2, false) => nn_colblock::<S, 2, false>(m, k, a, bb, ldb, p, cc, ldc, full),
            (_, true) => nn_colblock::<S, 1, true>(m, k, a, bb, ldb, p, cc, ldc, last),
            (_, false) => nn_colblock::<S, 1, false>(m, k, a, bb, ldb, p, cc, ldc, full),
        }
        col += nv;
    }
}

/// `B` rows farther apart than this many floats (16 KB) are packed: read in place, every row of
/// a tile's column block is another page, and the tiles wait on TLB misses and memory (a layer
/// of 1 024 × 4 096 ran at 12 GFLOP/s).
const PACK_MIN_LDB: usize = 4096;
/// Rows per panel of a wide `C` (8 full tiles).
const ROW_PANEL: usize = 8 * NN_MR;
/// Reductions shorter than this are not worth packing.
const PACK_MIN_K: usize = 32;
/// Rows of `B` per packed panel: `PACK_KC × 2 registers` floats (32 KB with 16 lanes) stay in
/// the L1/L2 caches while every row tile of the block runs on them.
const PACK_KC: usize = 256;

/// [`pass_over`] for a `B` with a long row stride: for each column block, `PACK_KC` rows of `B`
/// at a time are copied into a contiguous panel and every row tile runs on it; later chunks
/// continue the chains from `C` (`t = C`, then the same fmas in the same order), so the bits are
/// those of the unpacked pass. Only for passes that do not add to `C` (`Store`, `Bias`).
#[inline(always)]
unsafe fn pass_packed<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    pass: Pass,
    c: *mut f32,
    ldc: usize,
) {
    let l = S::LANES;
    debug_assert!(2 * l <= NT_PACK_W);
    let nvec = n.div_ceil(l);
    let rem = n % l;
    let last = S::mask(if rem == 0 { l } else { rem });
    let full = S::mask(l);
    let mut panel = [0.0f32; PACK_KC * NT_PACK_W];
    let chunks = k.div_ceil(PACK_KC);
    let mut col = 0; // in registers
    while col < nvec {
        let nv = (nvec - col).min(2);
        let width = nv * l;
        let j0 = col * l;
        let cols = (n - j0).min(width);
        let masked = rem != 0 && col + nv == nvec;
        let mk = if masked { last } else { full };
        let cc = c.add(j0);
        for ch in 0..chunks {
            let p0 = ch * PACK_KC;
            let len = (k - p0).min(PACK_KC);
            let (src, dst) = (b.add(p0 * ldb + j0), panel.as_mut_ptr());
            for p in 0..len {
                core::ptr::copy_nonoverlapping(src.add(p * ldb), dst.add(p * width), cols);
            }
            let last_chunk = ch + 1 == chunks;
            let pc = Pass {
                init: if ch == 0 { pass.init } else { Init::LoadC },
                combine: if last_chunk {
                    pass.combine
                } else {
                    Combine::Store
                },
                post: if last_chunk { pass.post } else { Post::None },
                aux: pass.aux.wrapping_add(j0),
                lr: pass.lr,
            };
            let ac = A {
                ptr: a.ptr.add(p0 * a.cs),
                ..a
            };
            let pb = panel.as_ptr();
            match (nv, masked) {
                (2, true) => nn_colblock::<S, 2, true>(m, len, ac, pb, width, pc, cc, ldc, mk),
                (2, false) => nn_colblock::<S, 2, false>(m, len, ac, pb, width, pc, cc, ldc, mk),
                (_, true) => nn_colblock::<S, 1, true>(m, len, ac, pb, width, pc, cc, ldc, mk),
                (_, false) => nn_colblock::<S, 1, false>(m, len, ac, pb, width, pc, cc, ldc, mk),
            }
        }
        col += nv;
    }
}

/// `C[m×n] = epi(A[m×k] · B[k×n])` with the `k` inputs in segments of `seg` (`seg` divides
/// `k`); `B` and `C` row-major with row stride `n`.
///
/// # Safety
/// `a` covers every (i, p) it names, `b` covers `k*n`, `bias` covers `n` if `epi` uses it, `c`
/// covers `m*n`, and the CPU supports `S`.
#[inline(always)]
pub(crate) unsafe fn nn<S: Simd>(
    m: usize,
    k: usize,
    n: usize,
    seg: usize,
    a: A,
    b: *const f32,
    bias: *const f32,
    epi: Epilogue,
    c: *mut f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    let seg = if seg == 0 || !k.is_multiple_of(seg) {
        k
    } else {
        seg
    };
    let segments = if k == 0 { 1 } else { k / seg };
    if segments > 1 && a.cs == 1 {
        return nn_segs::<S>(m, n, seg, segments, a, b, bias, epi, c);
    }
    for s in 0..segments {
        let combine = match (s, epi) {
            (0, Epilogue::None) => Combine::Store,
            (0, _) => Combine::Bias,
            _ => Combine::AddC,
        };
        let post = if s + 1 == segments && epi == Epilogue::BiasTanh {
            Post::Tanh
        } else {
            Post::None
        };
        let pass = Pass {
            init: Init::Mul,
            combine,
            post,
            aux: bias,
            lr: 0.0,
        };
        let a_s = A {
            ptr: a.ptr.add(s * seg * a.cs),
            ..a
        };
        let kk = if k == 0 { 0 } else { seg };
        pass_over::<S>(m, kk, n, a_s, b.add(s * seg * n), n, pass, c, n);
    }
}

/// One `MR × NV` tile of a layer summed in `segs` segments of `seg` inputs, with its running sum
/// in registers: `y = b + T₀` (or `T₀` without a bias), then `y = y + Tₛ` per segment, each
/// `Tₛ` a fresh chain; then `tanh` if asked, and one store. The same operations as the
/// pass-per-segment sweep, without storing and reloading `y` between segments.
#[inline(always)]
unsafe fn seg_tile<S: Simd, const MR: usize, const NV: usize, const MASKED: bool>(
    seg: usize,
    segs: usize,
    a: A,
    b: *const f32,
    ldb: usize,
    bias: *const f32,
    tanh_out: bool,
    c: *mut f32,
    ldc: usize,
    last: S::M,
) {
    let l = S::LANES;
    let masked = |j: usize| MASKED && j == NV - 1;
    let mut y = [[S::zero(); NV]; MR];
    for s in 0..segs {
        let p0 = s * seg;
        let mut t = [[S::zero(); NV]; MR];
        for p in p0..p0 + seg {
            let brow = b.add(p * ldb);
            let mut bv = [S::zero(); NV];
            for (j, bj) in bv.iter_mut().enumerate() {
                *bj = ld::<S>(brow.add(j * l), masked(j), last);
            }
            for (i, r) in t.iter_mut().enumerate() {
                let av = S::splat(*a.ptr.add(i * a.rs + p * a.cs));
                for (tij, &bj) in r.iter_mut().zip(bv.iter()) {
                    *tij = if p == p0 {
                        S::mul(av, bj)
                    } else {
                        S::fma(av, bj, *tij)
                    };
                }
            }
        }
        for (yr, tr) in y.iter_mut().zip(t.iter()) {
            for (j, (yij, &tij)) in yr.iter_mut().zip(tr.iter()).enumerate() {
                *yij = if s > 0 {
                    S::add(*yij, tij)
                } else if bias.is_null() {
                    tij
                } else {
                    S::add(ld::<S>(bias.add(j * l), masked(j), last), tij)
                };
            }
        }
    }
    for (i, yr) in y.iter().enumerate() {
        for (j, &v) in yr.iter().enumerate() {
            let v = if tanh_out { tanh::<S>(v) } else { v };
            st::<S>(c.add(i * ldc + j * l), v, masked(j), last);
        }
    }
}

/// Rows per [`seg_tile`]: its running sums and chains need `2·MR·NV` registers, plus `NV` of `W`
/// and a broadcast — 15 of AVX2's 16 with `3 × 2`, 27 of AVX-512's and NEON's 32 with `6 × 2`.
const fn seg_mr<S: Simd>() -> usize {
    if S::LANES == 8 { 3 } else { 6 }
}

/// [`nn`] for a layer of several segments (`A` with unit column stride): [`seg_tile`]s over
/// every column block and row tile.
#[inline(always)]
unsafe fn nn_segs<S: Simd>(
    m: usize,
    n: usize,
    seg: usize,
    segs: usize,
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
    let full = S::mask(l);
    let bias = if epi == Epilogue::None {
        core::ptr::null()
    } else {
        bias
    };
    let th = epi == Epilogue::BiasTanh;
    let mr_max = seg_mr::<S>();
    let mut col = 0;
    while col < nvec {
        let nv = (nvec - col).min(2);
        let masked = rem != 0 && col + nv == nvec;
        let mk = if masked { last } else { full };
        let (bb, bi) = (b.add(col * l), bias.wrapping_add(col * l));
        let mut i = 0;
        while i < m {
            let mr = (m - i).min(mr_max);
            let ai = A {
                ptr: a.ptr.add(i * a.rs),
                ..a
            };
            let cc = c.add(i * n + col * l);
            macro_rules! tile {
                ($mr:literal) => {
                    match (nv, masked) {
                        (2, true) => {
                            seg_tile::<S, $mr, 2, true>(seg, segs, ai, bb, n, bi, th, cc, n, mk)
                        }
                        (2, false) => {
                            seg_tile::<S, $mr, 2, false>(seg, segs, ai, bb, n, bi, th, cc, n, mk)
                        }
                        (_, true) => {
                            seg_tile::<S, $mr, 1, true>(seg, segs, ai, bb, n, bi, th, cc, n, mk)
                        }
                        (_, false) => {
                            seg_tile::<S, $mr, 1, false>(seg, segs, ai, bb, n, bi, th, cc, n, mk)
                        }
                    }
                };
            }
            match mr {
                1 => tile!(1),
                2 => tile!(2),
                3 => tile!(3),
                4 => tile!(4),
                5 => tile!(5),
                _ => tile!(6),
            }
            i += mr;
        }
        col += nv;
    }
}

/// `W[k×n] ← fma(−lr, Xᵀ·dY, W)` element by element (`X[m×k]` read through `a` with swapped
/// strides, `dY[m×n]`): the weight gradient's chains, then the SGD update in the tile's
/// epilogue — no gradient buffer.
///
/// # Safety
/// As [`nn`] with `c = w`.
#[inline(always)]
pub(crate) unsafe fn tn_sgd<S: Simd>(
    k: usize,
    m: usize,
    n: usize,
    a: A,
    dy: *const f32,
    w: *mut f32,
    lr: f32,
) {
    if k == 0 || n == 0 || m == 0 {
        // No rows: every gradient is 0 and `fma(−lr, 0, w) = w`.
        return;
    }
    let pass = Pass {
        init: Init::Mul,
        combine: Combine::Sgd,
        post: Post::None,
        aux: core::ptr::null(),
        lr,
    };
    pass_over::<S>(k, m, n, a, dy, n, pass, w, n);
}

/// Reduction rows per chunk of [`nt`]'s packed panel.
const NT_CHUNK: usize = 128;
/// Row stride of the packed panel: two registers of up to 16 lanes.
const NT_PACK_W: usize = 32;

/// `dX[m×k] = dY[m×n] · W[k×n]ᵀ`, then `⊙ fma(−h, h, 1)` if `h` is non-null.
///
/// For each block of one or two registers of output columns, the matching rows of `W` are copied
/// transposed into a small panel (`NT_CHUNK` reduction rows at a time), which makes the block an
/// ordinary chain `dY · panel` for the register tiles above; later chunks continue the chains
/// from `dX`. The copy is paid once per block and used by all `m` rows.
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
    let l = S::LANES;
    debug_assert!(2 * l <= NT_PACK_W);
    if m == 0 || k == 0 {
        return;
    }
    // Not zeroed (16 KB per call was a fifth of the kernel's time): every lane the passes
    // read, `len` rows of `width` lanes, is written first.
    let mut panel = core::mem::MaybeUninit::<[f32; NT_CHUNK * NT_PACK_W]>::uninit();
    let pp = panel.as_mut_ptr().cast::<f32>();
    let nvec = k.div_ceil(l);
    let rem = k % l;
    let last = S::mask(if rem == 0 { l } else { rem });
    let full = S::mask(l);
    let chunks = n.div_ceil(NT_CHUNK).max(1);
    let mut col = 0; // in registers
    while col < nvec {
        let nv = (nvec - col).min(2);
        let width = nv * l;
        let j0 = col * l;
        let cols = (k - j0).min(width);
        let c = dx.add(j0);
        let masked = rem != 0 && col + nv == nvec;
        let mk = if masked { last } else { full };
        for ch in 0..chunks {
            let p0 = ch * NT_CHUNK;
            let len = (n - p0.min(n)).min(NT_CHUNK);
            // panel[p][jj] = W[j0 + jj][p0 + p] for the columns that exist (0 beyond them):
            // one strided gather per register.
            let wb = w.add(j0 * n + p0);
            let lanes = [S::mask(cols.min(l)), S::mask(cols.saturating_sub(l))];
            for p in 0..len {
                for (r, &lm) in lanes.iter().enumerate().take(nv) {
                    S::store(
                        pp.add(p * width + r * l),
                        S::gather_stride(wb.add(r * l * n + p), n, lm),
                    );
                }
            }
            let pass = Pass {
                init: if ch == 0 { Init::Mul } else { Init::LoadC },
                combine: Combine::Store,
                post: if ch + 1 == chunks && !h.is_null() {
                    Post::TanhBackward
                } else {
                    Post::None
                },
                aux: h.wrapping_add(j0),
                lr: 0.0,
            };
            let a = A {
                ptr: dy.add(p0),
                rs: n,
                cs: 1,
            };
            let b = pp.cast_const();
            match (nv, masked) {
                (2, true) => nn_colblock::<S, 2, true>(m, len, a, b, width, pass, c, k, mk),
                (2, false) => nn_colblock::<S, 2, false>(m, len, a, b, width, pass, c, k, mk),
                (_, true) => nn_colblock::<S, 1, true>(m, len, a, b, width, pass, c, k, mk),
                (_, false) => nn_colblock::<S, 1, false>(m, len, a, b, width, pass, c, k, mk),
            }
        }
        col += nv;
    }
}
