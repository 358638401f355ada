//! Kernels written once over a small vector trait, [`Simd`], and instantiated per instruction set
//! by the arch modules (`x86_64::avx2_fma`, `x86_64::avx512`, `aarch64::neon`).
//!
//! Everything here is `#[inline(always)]` and carries no `#[target_feature]` itself: it is
//! inlined into the arch modules' `#[target_feature(enable = …)]` entry points, which is where the
//! instruction set is switched on. The algorithms perform [`crate::scalar`]'s operations (the
//! reference arithmetic v2) in its order, one output per lane: every result is the reference's
//! bits.
//!
//! # Safety contract of this module
//! Every function here is `unsafe` for two reasons only: it must run on a CPU that has the
//! instruction set of `S`, and the raw pointers it gets must cover the lengths the caller
//! states. The arch entry points guarantee the first by being reachable only through
//! [`crate::Kernels`], which is constructed only for supported paths, and the second by
//! receiving slices whose lengths the const-generic API fixes.

#![allow(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)]

pub(crate) mod elementwise;
pub(crate) mod gemm;

/// One SIMD register of f32 lanes and what the kernels do with it.
///
/// # Safety
/// Implementors promise that each function is correct for `LANES` lanes and only touches the
/// memory it is given (`load_m`/`store_m` never touch lanes outside the mask).
pub(crate) unsafe trait Simd: Copy {
    /// Lanes per register.
    const LANES: usize;
    /// The register.
    type V: Copy;
    /// A lane mask for partial loads and stores.
    type M: Copy;

    unsafe fn splat(x: f32) -> Self::V;
    unsafe fn zero() -> Self::V;
    unsafe fn load(p: *const f32) -> Self::V;
    unsafe fn store(p: *mut f32, v: Self::V);
    /// Mask of the first `n` lanes, `n <= LANES`.
    unsafe fn mask(n: usize) -> Self::M;
    /// Masked-off lanes read as zero and are never accessed.
    unsafe fn load_m(p: *const f32, m: Self::M) -> Self::V;
    /// Masked-off lanes read as `fill` and are never accessed.
    unsafe fn load_m_or(p: *const f32, m: Self::M, fill: Self::V) -> Self::V;
    /// Masked-off lanes are not written.
    unsafe fn store_m(p: *mut f32, v: Self::V, m: Self::M);
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V;
    /// `a·b + c`, one rounding.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `c − a·b`, one rounding.
    unsafe fn fnma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// `min(a, b)`; if `b` is NaN the result is NaN.
    unsafe fn min_keep_nan(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn abs(a: Self::V) -> Self::V;
    /// `|mag|` with the sign bit of `sign`.
    unsafe fn copysign(mag: Self::V, sign: Self::V) -> Self::V;
    /// Lane-wise `if a < b { t } else { f }` (false for NaN).
    unsafe fn select_lt(a: Self::V, b: Self::V, t: Self::V, f: Self::V) -> Self::V;
    /// Lane-wise `if a >= b { t } else { f }` (false for NaN).
    unsafe fn select_ge(a: Self::V, b: Self::V, t: Self::V, f: Self::V) -> Self::V;
    /// Round to nearest, ties to even.
    unsafe fn round(a: Self::V) -> Self::V;
    /// `2^k` for integral `k` in [-126, 127].
    unsafe fn pow2i(k: Self::V) -> Self::V;
    unsafe fn reduce_max(a: Self::V) -> f32;
    /// Lane `i` reads `p[i·stride]` where the mask is set and is `0` elsewhere (masked-off
    /// lanes are never accessed); `stride·LANES` fits in an `i32`.
    unsafe fn gather_stride(p: *const f32, stride: usize, m: Self::M) -> Self::V;
}

/// Generates the `#[target_feature]` entry points of one instruction set: each one is the
/// generic kernel instantiated for `$S`, compiled with `$feat` switched on.
macro_rules! entry_points {
    ($S:ty, $feat:literal) => {
        use $crate::scalar::Epilogue;
        use $crate::simd::{elementwise, gemm};

        /// # Safety
        /// See [`gemm::nn`]; the CPU must support the features this function enables.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        pub(crate) unsafe fn matmul_nn(
            m: usize,
            k: usize,
            n: usize,
            seg: usize,
            a: gemm::A,
            b: *const f32,
            bias: *const f32,
            epi: Epilogue,
            c: *mut f32,
        ) {
            // SAFETY: forwarded contract.
            unsafe { gemm::nn::<$S>(m, k, n, seg, a, b, bias, epi, c) }
        }
        /// # Safety
        /// See [`gemm::nt`]; the CPU must support the features this function enables.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn matmul_nt(
            m: usize,
            n: usize,
            k: usize,
            dy: *const f32,
            w: *const f32,
            h: *const f32,
            dx: *mut f32,
        ) {
            // SAFETY: forwarded contract.
            unsafe { gemm::nt::<$S>(m, n, k, dy, w, h, dx) }
        }
        /// # Safety
        /// See [`gemm::tn_sgd`]; the CPU must support the features this function enables.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn matmul_tn_sgd(
            k: usize,
            m: usize,
            n: usize,
            a: gemm::A,
            dy: *const f32,
            w: *mut f32,
            lr: f32,
        ) {
            // SAFETY: forwarded contract.
            unsafe { gemm::tn_sgd::<$S>(k, m, n, a, dy, w, lr) }
        }
        /// # Safety
        /// `dy.len() >= m*n`, `b.len() >= n`; the CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn bias_grad_sgd(m: usize, n: usize, dy: &[f32], b: &mut [f32], lr: f32) {
            // SAFETY: forwarded contract.
            unsafe { elementwise::bias_grad_sgd::<$S>(m, n, dy, b, lr) }
        }
        /// # Safety
        /// `dy.len() >= m*n`, `db.len() >= n`; the CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn bias_grad(m: usize, n: usize, dy: &[f32], db: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { elementwise::bias_grad::<$S>(m, n, dy, db) }
        }
        /// # Safety
        /// The CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn tanh_slice(x: &mut [f32]) {
            // SAFETY: slice-bounded; features guaranteed by the caller.
            unsafe { elementwise::tanh_slice::<$S>(x) }
        }
        /// # Safety
        /// The CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn tanh_backward(h: &[f32], dh: &mut [f32]) {
            // SAFETY: slice-bounded; features guaranteed by the caller.
            unsafe { elementwise::tanh_backward::<$S>(h, dh) }
        }
        /// # Safety
        /// `a` is null or covers `y.len()`; `x` is as long as `y`; the CPU must support the
        /// features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn add(a: *const f32, x: &[f32], y: &mut [f32]) {
            // SAFETY: forwarded contract.
            unsafe { elementwise::add::<$S>(a, x, y) }
        }
        /// # Safety
        /// The CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn sgd(p: &mut [f32], g: &[f32], lr: f32) {
            // SAFETY: slice-bounded; features guaranteed by the caller.
            unsafe { elementwise::sgd::<$S>(p, g, lr) }
        }
        /// # Safety
        /// `out.len() == logits.len()`; the CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn softmax_unnormalized(
            logits: &[f32],
            inv_temp: f32,
            out: &mut [f32],
            sum: &mut f32,
        ) {
            // SAFETY: forwarded contract.
            *sum = unsafe { elementwise::softmax_unnormalized::<$S>(logits, inv_temp, out) };
        }
        /// # Safety
        /// `logits` and `out` cover `m*v`, `sums` covers `m`; the CPU must support the features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn softmax_unnormalized_rows(
            m: usize,
            v: usize,
            logits: &[f32],
            inv_temp: f32,
            out: &mut [f32],
            sums: &mut [f32],
        ) {
            // SAFETY: forwarded contract.
            unsafe {
                elementwise::softmax_unnormalized_rows::<$S>(m, v, logits, inv_temp, out, sums)
            }
        }
        /// # Safety
        /// The CPU must support the features.
        #[cfg(feature = "std")]
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn fma_chains_into(iters: usize, out: &mut f32) {
            // SAFETY: registers only; features guaranteed by the caller.
            *out = unsafe { elementwise::fma_chains::<$S>(iters) };
        }
        /// # Safety
        /// Targets below `v`, `logits` (and `dlogits`) cover `m*v`; the CPU must support the
        /// features.
        #[target_feature(enable = $feat)]
        pub(crate) unsafe fn cross_entropy_into(
            m: usize,
            v: usize,
            logits: &[f32],
            targets: &[u16],
            dlogits: Option<&mut [f32]>,
            out: &mut f32,
        ) {
            // SAFETY: forwarded contract.
            let loss = unsafe { elementwise::cross_entropy::<$S>(m, v, logits, targets, dlogits) };
            *out = loss;
        }
    };
}
pub(crate) use entry_points;

/// Runs `$f($args)` from the arch module of `$k`'s SIMD path and evaluates to `true`, or to
/// `false` when `$k` is the scalar path.
macro_rules! on_simd_path {
    ($k:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $k.path() {
            #[cfg(target_arch = "x86_64")]
            $crate::Path::Avx2Fma => {
                // SAFETY: a `Kernels` exists only for a path this CPU supports (`Kernels::new`
                // checks, `Kernels::best` detects), and the caller passed buffers whose lengths
                // match the dimensions (asserted in the safe wrapper).
                unsafe { $crate::x86_64::avx2_fma::$f($($arg),*) };
                true
            }
            #[cfg(target_arch = "x86_64")]
            $crate::Path::Avx512 => {
                // SAFETY: as above.
                unsafe { $crate::x86_64::avx512::$f($($arg),*) };
                true
            }
            #[cfg(target_arch = "aarch64")]
            $crate::Path::Neon => {
                // SAFETY: as above.
                unsafe { $crate::aarch64::neon::$f($($arg),*) };
                true
            }
            _ => false,
        }
    };
}

use crate::Kernels;
use crate::scalar::Epilogue;

/// Safe wrapper: `Y = epi(A·W)` with `A` read through strides and the `kk` inputs in segments
/// of `seg`; `false` on the scalar path.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_nn(
    k: Kernels,
    m: usize,
    kk: usize,
    n: usize,
    seg: usize,
    (a, rs, cs): (&[f32], usize, usize),
    w: &[f32],
    bias: Option<&[f32]>,
    epi: Epilogue,
    y: &mut [f32],
) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    assert!(kk == 0 || (m - 1) * rs + (kk - 1) * cs < a.len());
    assert!(w.len() >= kk * n && y.len() >= m * n);
    assert!(epi == Epilogue::None || bias.is_some_and(|b| b.len() >= n));
    let av = gemm::A {
        ptr: a.as_ptr(),
        rs,
        cs,
    };
    let bp = bias.map_or(core::ptr::null(), |b| b.as_ptr());
    let (wp, yp) = (w.as_ptr(), y.as_mut_ptr());
    on_simd_path!(k, matmul_nn(m, kk, n, seg, av, wp, bp, epi, yp))
}

/// Safe wrapper: `dX = dY·Wᵀ (⊙ (1 − h²))`; `false` on the scalar path.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_nt(
    k: Kernels,
    m: usize,
    n: usize,
    kk: usize,
    dy: &[f32],
    w: &[f32],
    h: Option<&[f32]>,
    dx: &mut [f32],
) -> bool {
    assert!(dy.len() >= m * n && w.len() >= kk * n && dx.len() >= m * kk);
    assert!(h.is_none_or(|h| h.len() >= m * kk));
    let hp = h.map_or(core::ptr::null(), |h| h.as_ptr());
    let (dyp, wp, dxp) = (dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr());
    on_simd_path!(k, matmul_nt(m, n, kk, dyp, wp, hp, dxp))
}

/// `iters` rounds of 12 independent vector FMA chains (the machine's
/// FMA peak, for the benches); `None` on the scalar path. Returns (lanes, a value that depends
/// on every chain).
#[cfg(feature = "std")]
pub(crate) fn fma_chains(k: Kernels, iters: usize) -> Option<(usize, f32)> {
    let mut out = 0.0;
    let lanes = match k.path() {
        crate::Path::Avx512 => 16,
        crate::Path::Avx2Fma => 8,
        crate::Path::Neon => 4,
        _ => 0,
    };
    let ran = {
        let out = &mut out;
        on_simd_path!(k, fma_chains_into(iters, out))
    };
    ran.then_some((lanes, out))
}

/// Safe wrapper: `W[k×n] ← fma(−lr, Xᵀ·dY, W)` for `X[m×k]`, `dY[m×n]`; `false` on the scalar
/// path.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_tn_sgd(
    kern: Kernels,
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    dy: &[f32],
    w: &mut [f32],
    lr: f32,
) -> bool {
    assert!(x.len() >= m * k && dy.len() >= m * n && w.len() >= k * n);
    let a = gemm::A {
        ptr: x.as_ptr(),
        rs: 1,
        cs: k,
    };
    let (dyp, wp) = (dy.as_ptr(), w.as_mut_ptr());
    on_simd_path!(kern, matmul_tn_sgd(k, m, n, a, dyp, wp, lr))
}

/// Safe wrapper: `b ← fma(−lr, Σ_rows dY, b)`; `false` on the scalar path.
pub(crate) fn bias_grad_sgd(
    k: Kernels,
    m: usize,
    n: usize,
    dy: &[f32],
    b: &mut [f32],
    lr: f32,
) -> bool {
    assert!(dy.len() >= m * n && b.len() >= n);
    on_simd_path!(k, bias_grad_sgd(m, n, dy, b, lr))
}

/// Safe wrapper for the slice kernels; each returns `false` on the scalar path.
pub(crate) fn bias_grad(k: Kernels, m: usize, n: usize, dy: &[f32], db: &mut [f32]) -> bool {
    assert!(dy.len() >= m * n && db.len() >= n);
    on_simd_path!(k, bias_grad(m, n, dy, db))
}
pub(crate) fn tanh_slice(k: Kernels, x: &mut [f32]) -> bool {
    on_simd_path!(k, tanh_slice(x))
}
pub(crate) fn tanh_backward(k: Kernels, h: &[f32], dh: &mut [f32]) -> bool {
    on_simd_path!(k, tanh_backward(h, dh))
}
/// `y = a + x` or, without `a`, `y += x`; `false` on the scalar path.
pub(crate) fn add(k: Kernels, a: Option<&[f32]>, x: &[f32], y: &mut [f32]) -> bool {
    assert!(x.len() == y.len() && a.is_none_or(|a| a.len() == y.len()));
    let ap = a.map_or(core::ptr::null(), <[f32]>::as_ptr);
    on_simd_path!(k, add(ap, x, y))
}
pub(crate) fn sgd(k: Kernels, p: &mut [f32], g: &[f32], lr: f32) -> bool {
    on_simd_path!(k, sgd(p, g, lr))
}
/// `Some(sum)` of the unnormalized softmax written to `out`, or `None` on the scalar path.
pub(crate) fn softmax_unnormalized(
    k: Kernels,
    logits: &[f32],
    inv_temp: f32,
    out: &mut [f32],
) -> Option<f32> {
    assert!(out.len() == logits.len());
    let mut sum = 0.0;
    on_simd_path!(k, softmax_unnormalized(logits, inv_temp, out, &mut sum)).then_some(sum)
}
/// `true` if the rows' unnormalized softmaxes were written (`false` on the scalar path).
pub(crate) fn softmax_unnormalized_rows(
    k: Kernels,
    (m, v): (usize, usize),
    logits: &[f32],
    inv_temp: f32,
    out: &mut [f32],
    sums: &mut [f32],
) -> bool {
    assert!(logits.len() >= m * v && out.len() >= m * v && sums.len() >= m);
    on_simd_path!(
        k,
        softmax_unnormalized_rows(m, v, logits, inv_temp, out, sums)
    )
}
/// Targets must already be checked against `v`.
pub(crate) fn cross_entropy(
    k: Kernels,
    m: usize,
    v: usize,
    logits: &[f32],
    targets: &[u16],
    dlogits: Option<&mut [f32]>,
) -> Option<f32> {
    assert!(logits.len() >= m * v && targets.len() >= m);
    assert!(targets[..m].iter().all(|&t| usize::from(t) < v));
    assert!(dlogits.as_ref().is_none_or(|d| d.len() >= m * v));
    let mut out = 0.0;
    let ran = on_simd_path!(
        k,
        cross_entropy_into(m, v, logits, targets, dlogits, &mut out)
    );
    ran.then_some(out)
}
