//! Fixed-size f32 kernels for a character-level MLP: embedding gather/scatter, the three dense
//! matmul layouts, tanh, log-softmax cross-entropy, softmax and SGD; and the int8 models'
//! integer kernels (matrix-vector product, requantization with a lookup table).
//!
//! # Layers
//!
//! * [`scalar`] — the reference: plain loops, no `unsafe` (but for the one-instruction `fma` on
//!   Cortex-M), and the spec of **reference arithmetic v2** ([`ARITHMETIC_VERSION`]): fused
//!   multiply-adds, dot products as chains in index order, layer 1 summed per context position,
//!   a 15-operation tanh (see [`scalar`] and the README).
//! * `simd` — the same algorithms written once over a small register trait and compiled per
//!   instruction set (AVX2+FMA, AVX-512F, NEON), and `cortex_m` — VFP assembly for the Cortex-M
//!   cores whose FPU fuses (M4F, M7, M33, M55). Both perform the reference's operations in the
//!   reference's order: **every path gives the reference's bits**. All of this crate's `unsafe`
//!   lives there and in the `x86_64`/`aarch64` modules, each block with a `// SAFETY:` comment.
//! * [`detect`] — which path runs: [`detect::detect`] checks the CPU once at run time (feature
//!   `std`; `CHARMLP_KERNEL=scalar|avx2|avx512|neon|cortex-m` forces a path) or uses
//!   `cfg!(target_feature)` (the target, for Cortex-M) without `std`. Feature `force-scalar`
//!   pins the scalar path.
//! * [`Kernels`] — the safe API. A `Kernels` value names a path this CPU can run (constructing
//!   one for an unsupported path fails). Its methods take row-major matrices with run-time
//!   dimensions ([`Mat`], [`MatMut`]) and slices, check that the operands agree and that every
//!   index is in range, and return [`KernelError`] otherwise: nothing here allocates or panics
//!   on any input.
//! * [`Fixed`] (from [`Kernels::fixed`]) — the same kernels over fixed-size arrays, for code
//!   whose shapes are const generics: the compiler checks the shapes, so these cannot fail on
//!   shapes. Thin wrappers over the run-time implementation.
//!
//! # Precision
//!
//! Every path equals the reference bit for bit; the tests in `kernels/tests/` assert that on
//! random and adversarial inputs for every path the CPU runs, and hold the reference itself to
//! bounds against exact (f64) arithmetic (ε = 2⁻²⁴, `K` the reduction length):
//!
//! | kernel | reference against exact |
//! |---|---|
//! | matmuls (chains of fma) | `|Δ| ≤ (K+1)ε·(|b| + Σ|x·w|)` |
//! | tanh | ≤ 2 ulp over every f32 (`examples/tanh_ulp.rs`) |
//! | exp | ≤ 1 ulp on `[−87.33, 0]` |
//! | softmax probability, row sum | `(V+4)ε` relative; `|Σp − 1| ≤ (V+4)ε` |
//! | cross-entropy loss, gradient | `(V+1)ε + (M+4)ε·loss`; `(V+4)ε·p/M` |
//! | gather / scatter, add, sgd | exact / one rounding |
//! | int8 matvec, requantize + lookup | exact (integers): every path asserted equal, not close |
//!
//! Losses are finite for any finite logits unless the exact loss itself exceeds `f32::MAX`
//! (e.g. logits ±`f32::MAX`), where it is +∞, the correctly rounded value.

#![no_std]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "std")]
extern crate std;

pub mod detect;
mod error;
mod fixed;
mod mat;
#[cfg(feature = "std")]
pub mod peak;
pub mod scalar;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(any(charmlp_arm_fpu, charmlp_armv6m))]
mod cortex_m;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod simd;
#[cfg(target_arch = "x86_64")]
mod x86_64;

pub use detect::Path;
pub use error::KernelError;
pub use fixed::Fixed;
pub use mat::{Mat, MatMut};
pub use scalar::Epilogue;

use error::expect_dim;

/// The int8 models' requantization `(v·m + 2^(s−1)) >> s` ([`scalar::requantize`], the
/// definition), `1 ≤ s ≤ 62`, clamped to `±lim`. For `s ≥ 33` (what the quantizer writes for
/// any model whose factors are below 2⁻²) it needs only the product's high word
/// ([`scalar::requantize_hi`]), 32-bit work: one `smull` on ARMv7-M, four 16-bit multiplies on
/// ARMv6-M ([`scalar::mul_hi_32`]) instead of library calls.
#[inline(always)]
pub fn requantize_clamp(v: i32, m: i32, s: u32, lim: i32) -> i32 {
    if s >= 33 {
        scalar::requantize_hi(scalar::int8::mul_hi_target(v, m), s).clamp(-lim, lim)
    } else {
        scalar::requantize(v, m, s).clamp(-i64::from(lim), i64::from(lim)) as i32
    }
}

/// Matmuls of fewer multiply-adds run on one thread whatever [`Kernels::with_threads`] says
/// (starting a thread costs about as much as 2²⁰ multiply-adds).
pub const PAR_MIN_MACS: usize = 1 << 20;

/// Runs `f(rows, out_rows)` on `parts` near-equal ranges of the `m` rows of `out` (`len` floats
/// per row), on scoped threads (the last range on this thread). Each thread owns its rows of
/// `out`.
#[cfg(feature = "std")]
fn split_rows(
    out: &mut [f32],
    m: usize,
    len: usize,
    parts: usize,
    f: impl Fn(core::ops::Range<usize>, &mut [f32]) + Sync,
) {
    if len == 0 || parts <= 1 {
        return f(0..m, out);
    }
    let step = m.div_ceil(parts).max(1);
    std::thread::scope(|s| {
        let mut chunks = out[..m * len].chunks_mut(step * len).enumerate().peekable();
        while let Some((i, chunk)) = chunks.next() {
            let rows = i * step..(i * step + chunk.len() / len.max(1)).min(m);
            if chunks.peek().is_some() {
                let f = &f;
                s.spawn(move || f(rows, chunk));
            } else {
                f(rows, chunk);
            }
        }
    });
}

/// Independent chains of the FMA-peak loop ([`peak`]).
#[cfg(feature = "std")]
pub(crate) const FMA_CHAINS: usize = 12;

/// Runs the FMA-peak loop on `k`'s SIMD path: `(lanes, a value of the chains)`; `None` on paths
/// without vector FMA.
#[cfg(feature = "std")]
pub(crate) fn simd_peak(k: Kernels, iters: usize) -> Option<(usize, f32)> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        simd::fma_chains(k, iters)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (k, iters);
        None
    }
}

/// The type of a symbol index (a context entry or a target class): vocabularies have at most
/// [`MAX_CLASSES`] symbols.
pub type Index = u16;

/// The most classes (symbols) an [`Index`] can address: 65 536.
pub const MAX_CLASSES: usize = Index::MAX as usize + 1;

/// The version of the reference arithmetic (the scalar kernels' exact operations), recorded in
/// checkpoints: a run resumed under another version cannot be bit-identical.
pub const ARITHMETIC_VERSION: u8 = 2;

/// A handle to one supported code path; every kernel is a method.
///
/// ```
/// use charmlp_kernels::{Kernels, Mat, MatMut, Path};
/// let k = Kernels::best();
/// assert!(k.path().is_supported());
/// assert!(Kernels::new(Path::Scalar).is_some());
/// let mut x = [0.5f32, -20.0, 0.0];
/// k.tanh(&mut x);
/// assert_eq!(x[1], -1.0);
///
/// // y = x·w + b for a 2×3 times 3×2 product.
/// let (x, w, b) = ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [0.5, -0.5]);
/// let mut y = [0.0f32; 4];
/// k.linear(Mat::new(&x, 2, 3)?, Mat::new(&w, 3, 2)?, &b, MatMut::new(&mut y, 2, 2)?)?;
/// assert_eq!(y, [4.5, 4.5, 10.5, 10.5]);
/// # Ok::<(), charmlp_kernels::KernelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    path: Path,
    /// Threads for large matmuls (feature `std`; 1 otherwise).
    threads: u8,
}

impl Default for Kernels {
    fn default() -> Self {
        Kernels::best()
    }
}

/// Calls the SIMD path of `$k` if it has one, else the scalar expression.
macro_rules! simd_or {
    ($simd:expr, $scalar:expr) => {{
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        let done = $simd;
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let done = false;
        if !done {
            $scalar
        }
    }};
}

/// Checks `y = x·w (+ b)` shapes: `x: m×k`, `w: k×n`, `b: n`, `y: m×n`.
fn check_nn(
    x: &Mat<'_>,
    w: &Mat<'_>,
    b: Option<&[f32]>,
    y: &MatMut<'_>,
) -> Result<(), KernelError> {
    expect_dim("rows of w (= columns of x)", x.cols(), w.rows())?;
    expect_dim("rows of y (= rows of x)", x.rows(), y.rows())?;
    expect_dim("columns of y (= columns of w)", w.cols(), y.cols())?;
    if let Some(b) = b {
        expect_dim("length of b (= columns of w)", w.cols(), b.len())?;
    }
    Ok(())
}

/// Checks `dx = dy·wᵀ` shapes: `dy: m×n`, `w: k×n`, `dx: m×k`.
fn check_nt(dy: &Mat<'_>, w: &Mat<'_>, dx: &MatMut<'_>) -> Result<(), KernelError> {
    expect_dim("columns of w (= columns of dy)", dy.cols(), w.cols())?;
    expect_dim("rows of dx (= rows of dy)", dy.rows(), dx.rows())?;
    expect_dim("columns of dx (= rows of w)", w.rows(), dx.cols())
}

/// Checks an embedding operation: `table: v×e`, `ctx: m·b` indices, `rows: m×(b·e)`; returns `b`.
fn check_embed(
    table_rows: usize,
    e: usize,
    ctx: &[Index],
    rows: usize,
    cols: usize,
) -> Result<usize, KernelError> {
    if e == 0 || !cols.is_multiple_of(e) {
        return Err(KernelError::Shape {
            what: "columns of the embedded rows (a multiple of the table's columns)",
            expected: e,
            found: cols,
        });
    }
    let b = cols / e;
    expect_dim("context indices (rows × block)", rows * b, ctx.len())?;
    check_indices(ctx, table_rows)?;
    Ok(b)
}

/// Checks that `segment` divides `k` (and is not 0 unless `k` is).
fn check_segment(k: usize, segment: usize) -> Result<(), KernelError> {
    if (segment == 0 && k != 0) || (segment != 0 && !k.is_multiple_of(segment)) {
        return Err(KernelError::Shape {
            what: "segment length (a divisor of the input width)",
            expected: k,
            found: segment,
        });
    }
    Ok(())
}

fn check_indices(idx: &[Index], len: usize) -> Result<(), KernelError> {
    match idx.iter().find(|&&i| usize::from(i) >= len) {
        Some(&i) => Err(KernelError::IndexOutOfRange {
            index: usize::from(i),
            len,
        }),
        None => Ok(()),
    }
}

impl Kernels {
    /// The path chosen by [`detect::detect`] (run-time detection with `std`).
    #[inline]
    pub fn best() -> Kernels {
        Kernels {
            path: detect::detect(),
            threads: 1,
        }
    }

    /// The fastest path this build's target guarantees, chosen at compile time (a `const fn`,
    /// for `static` initializers in firmware): the Cortex-M FPU path on `thumbv7em`/`thumbv8m.main`
    /// with `eabihf`, AVX2/AVX-512/NEON if the target enables them, else scalar. With `std`,
    /// [`Kernels::best`] also detects what the CPU has at run time.
    pub const fn for_target() -> Kernels {
        let path = if cfg!(all(
            any(charmlp_arm_fpu, charmlp_armv6m),
            not(feature = "force-scalar")
        )) {
            Path::CortexM
        } else if cfg!(all(
            target_arch = "x86_64",
            target_feature = "avx512f",
            target_feature = "avx2",
            target_feature = "fma",
            not(feature = "force-scalar")
        )) {
            Path::Avx512
        } else if cfg!(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma",
            not(feature = "force-scalar")
        )) {
            Path::Avx2Fma
        } else if cfg!(all(
            target_arch = "aarch64",
            target_feature = "neon",
            not(feature = "force-scalar")
        )) {
            Path::Neon
        } else {
            Path::Scalar
        };
        Kernels { path, threads: 1 }
    }

    /// The scalar reference, available everywhere.
    pub const fn scalar() -> Kernels {
        Kernels {
            path: Path::Scalar,
            threads: 1,
        }
    }

    /// A handle for `path`, or `None` if this CPU (or this build) cannot run it.
    pub fn new(path: Path) -> Option<Kernels> {
        path.is_supported().then_some(Kernels { path, threads: 1 })
    }

    /// Every path this CPU can run, scalar first.
    pub fn all_supported() -> impl Iterator<Item = Kernels> {
        Path::ALL.into_iter().filter_map(Kernels::new)
    }

    /// The path this handle runs.
    pub const fn path(self) -> Path {
        self.path
    }

    /// The same kernels, splitting large matmuls (at least [`PAR_MIN_MACS`] multiply-adds) over
    /// `threads` threads (feature `std`; clamped to 1..=64). Each output element is computed by
    /// one thread with the same operations: the results do not depend on the thread count.
    /// The scalar path stays on one thread.
    pub const fn with_threads(self, threads: usize) -> Kernels {
        let t = if threads < 1 {
            1
        } else if threads > 64 {
            64
        } else {
            threads
        };
        Kernels {
            path: self.path,
            threads: t as u8,
        }
    }

    /// The threads of [`Kernels::with_threads`].
    pub const fn threads(self) -> usize {
        self.threads as usize
    }

    /// This handle on one thread.
    #[cfg(feature = "std")]
    const fn single(self) -> Kernels {
        self.with_threads(1)
    }

    /// How many threads a matmul of `m` rows and `macs` multiply-adds uses.
    #[cfg(feature = "std")]
    fn split_for(self, m: usize, macs: usize) -> usize {
        if self.threads <= 1 || self.path == Path::Scalar || macs < PAR_MIN_MACS {
            1
        } else {
            self.threads().min(m)
        }
    }

    /// The same kernels over fixed-size arrays (shapes checked by the compiler).
    pub const fn fixed(self) -> Fixed {
        Fixed::new(self)
    }

    /// `y = x·w + b`: `x` is `m×k`, `w` is `k×n`, `b` has `n` elements, `y` is `m×n`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] if the dimensions disagree; nothing is written then.
    pub fn linear(
        self,
        x: Mat<'_>,
        w: Mat<'_>,
        b: &[f32],
        mut y: MatMut<'_>,
    ) -> Result<(), KernelError> {
        check_nn(&x, &w, Some(b), &y)?;
        let k = x.cols();
        self.nn(x, w, Some(b), k, Epilogue::Bias, y.as_mut_slice());
        Ok(())
    }

    /// `y = tanh(x·w + b)`: the hidden layer with bias and activation fused into the store,
    /// its `k` inputs summed in segments of `segment` (the context positions: `segment = E`;
    /// `segment = k` for one segment): `y = tanh(((b + T₀) + T₁) + …)`, each `Tₛ` the chain over
    /// its segment. This association is the reference arithmetic's, so a per-position table of
    /// the `Tₛ` gives the same bits.
    ///
    /// # Errors
    /// As [`Kernels::linear`]; [`KernelError::Shape`] if `segment` does not divide `k`.
    pub fn linear_tanh(
        self,
        x: Mat<'_>,
        w: Mat<'_>,
        b: &[f32],
        segment: usize,
        mut y: MatMut<'_>,
    ) -> Result<(), KernelError> {
        check_nn(&x, &w, Some(b), &y)?;
        check_segment(x.cols(), segment)?;
        self.nn(x, w, Some(b), segment, Epilogue::BiasTanh, y.as_mut_slice());
        Ok(())
    }

    /// `y = x·w` (no bias).
    ///
    /// # Errors
    /// As [`Kernels::linear`].
    pub fn matmul(self, x: Mat<'_>, w: Mat<'_>, mut y: MatMut<'_>) -> Result<(), KernelError> {
        check_nn(&x, &w, None, &y)?;
        let k = x.cols();
        self.nn(x, w, None, k, Epilogue::None, y.as_mut_slice());
        Ok(())
    }

    /// `dw = xᵀ·dy`: the weight gradient of a dense layer (overwrites `dw`). `x` is `m×k`, `dy`
    /// is `m×n`, `dw` is `k×n`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] if the dimensions disagree; nothing is written then.
    pub fn matmul_tn(self, x: Mat<'_>, dy: Mat<'_>, mut dw: MatMut<'_>) -> Result<(), KernelError> {
        expect_dim("rows of dy (= rows of x)", x.rows(), dy.rows())?;
        expect_dim("rows of dw (= columns of x)", x.cols(), dw.rows())?;
        expect_dim("columns of dw (= columns of dy)", dy.cols(), dw.cols())?;
        self.tn(x, dy, dw.as_mut_slice());
        Ok(())
    }

    /// `dx = dy·wᵀ`: the input gradient of a dense layer (overwrites `dx`). `dy` is `m×n`, `w`
    /// is `k×n`, `dx` is `m×k`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] if the dimensions disagree; nothing is written then.
    pub fn matmul_nt(self, dy: Mat<'_>, w: Mat<'_>, mut dx: MatMut<'_>) -> Result<(), KernelError> {
        check_nt(&dy, &w, &dx)?;
        self.nt(dy, w, None, dx.as_mut_slice());
        Ok(())
    }

    /// `dz = (dy·wᵀ) ⊙ (1 − h²)`: the input gradient of a dense layer fused with the backward of
    /// the tanh that produced `h` (`h` has the shape of `dz`).
    ///
    /// # Errors
    /// [`KernelError::Shape`] if the dimensions disagree; nothing is written then.
    pub fn matmul_nt_tanh_backward(
        self,
        dy: Mat<'_>,
        w: Mat<'_>,
        h: Mat<'_>,
        mut dz: MatMut<'_>,
    ) -> Result<(), KernelError> {
        check_nt(&dy, &w, &dz)?;
        expect_dim("rows of h (= rows of dz)", dz.rows(), h.rows())?;
        expect_dim("columns of h (= columns of dz)", dz.cols(), h.cols())?;
        self.nt(dy, w, Some(h.as_slice()), dz.as_mut_slice());
        Ok(())
    }

    /// `w ← w − lr·(xᵀ·dy)`: the weight gradient of [`Kernels::matmul_tn`] applied as an SGD
    /// step as it is produced (each element `fma(−lr, g, w)`, the bits of `matmul_tn` then
    /// [`Kernels::sgd`]) without a gradient buffer. `x` is `m×k`, `dy` is `m×n`, `w` is `k×n`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] if the dimensions disagree; nothing is written then.
    pub fn matmul_tn_sgd(
        self,
        x: Mat<'_>,
        dy: Mat<'_>,
        mut w: MatMut<'_>,
        lr: f32,
    ) -> Result<(), KernelError> {
        expect_dim("rows of dy (= rows of x)", x.rows(), dy.rows())?;
        expect_dim("rows of w (= columns of x)", x.cols(), w.rows())?;
        expect_dim("columns of w (= columns of dy)", dy.cols(), w.cols())?;
        let (m, k, n) = (x.rows(), x.cols(), dy.cols());
        let (xs, ds, ws) = (x.as_slice(), dy.as_slice(), w.as_mut_slice());
        simd_or!(
            simd::matmul_tn_sgd(self, m, k, n, xs, ds, ws, lr),
            scalar::matmul_tn_sgd(m, k, n, xs, ds, ws, lr)
        );
        Ok(())
    }

    /// `b ← b − lr·Σ_rows dy`: [`Kernels::bias_grad`] applied as an SGD step (each element
    /// `fma(−lr, g, b)`), without a gradient buffer.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `b` has as many elements as `dy` has columns.
    pub fn bias_grad_sgd(self, dy: Mat<'_>, b: &mut [f32], lr: f32) -> Result<(), KernelError> {
        expect_dim("length of b (= columns of dy)", dy.cols(), b.len())?;
        let (m, n, ds) = (dy.rows(), dy.cols(), dy.as_slice());
        simd_or!(
            simd::bias_grad_sgd(self, m, n, ds, b, lr),
            scalar::bias_grad_sgd(m, n, ds, b, lr)
        );
        Ok(())
    }

    /// `db = Σ_rows dy`: the bias gradient (overwrites `db`).
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `db` has as many elements as `dy` has columns.
    pub fn bias_grad(self, dy: Mat<'_>, db: &mut [f32]) -> Result<(), KernelError> {
        expect_dim("length of db (= columns of dy)", dy.cols(), db.len())?;
        self.bias(dy, db);
        Ok(())
    }

    /// tanh in place.
    pub fn tanh(self, x: &mut [f32]) {
        #[cfg(charmlp_arm_fpu)]
        if self.path == Path::CortexM {
            cortex_m::tanh(x);
            return;
        }
        simd_or!(
            simd::tanh_slice(self, x),
            x.iter_mut().for_each(|v| *v = scalar::tanh(*v))
        );
    }

    /// `y = a + x`, elementwise: with [`Kernels::add_assign`], layer 1 from a per-position
    /// table, `((b + T₀) + T₁) + …` (each element one IEEE addition: the same bits on every path).
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless the three have the same length; nothing is written then.
    pub fn add(self, a: &[f32], x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        expect_dim("length of x (= length of a)", a.len(), x.len())?;
        expect_dim("length of y (= length of a)", a.len(), y.len())?;
        #[cfg(charmlp_arm_fpu)]
        if self.path == Path::CortexM {
            cortex_m::add(a, x, y);
            return Ok(());
        }
        simd_or!(simd::add(self, Some(a), x, y), scalar::add(a, x, y));
        Ok(())
    }

    /// `y += x`, elementwise (see [`Kernels::add`]).
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `x` and `y` have the same length; nothing is written then.
    pub fn add_assign(self, y: &mut [f32], x: &[f32]) -> Result<(), KernelError> {
        expect_dim("length of x (= length of y)", y.len(), x.len())?;
        #[cfg(charmlp_arm_fpu)]
        if self.path == Path::CortexM {
            cortex_m::add_assign(y, x);
            return Ok(());
        }
        simd_or!(simd::add(self, None, x, y), scalar::add_assign(y, x));
        Ok(())
    }

    /// `acc[j] += Σᵢ x[i]·wt[j·k + i]`: the int8 models' matrix-vector product, int8 operands,
    /// int32 accumulation onto what `acc` holds (the bias), wrapping, the weights transposed
    /// (`wt` is `n × k`, `k = x.len()`, `n = acc.len()`). Exact: every path gives
    /// [`scalar::matvec_i8`]'s bits (AVX2 `vpmaddwd` on x86_64; AVX-512 VNNI `vpdpbusd` on the
    /// AVX-512 path where the CPU has it, else the AVX2 kernel; on the Cortex-M path
    /// `sxtb16`/`smlad` for ARMv7E-M and for ARMv8-M Mainline built for a core with the DSP
    /// extension (`-C target-cpu=cortex-m33`, …: see `build.rs`), `ldrsb`/`mla` for ARMv8-M
    /// Mainline otherwise, Thumb-1 `ldrsb`/`muls` for ARMv6-M). [`Kernels::int8_kernel`] names
    /// the one that runs.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `wt` has `n·k` values; nothing is written then.
    pub fn matvec_i8(self, x: &[i8], wt: &[i8], acc: &mut [i32]) -> Result<(), KernelError> {
        expect_dim("length of wt (= n·k)", acc.len() * x.len(), wt.len())?;
        #[cfg(any(charmlp_arm_fpu, charmlp_armv6m))]
        if self.path == Path::CortexM {
            cortex_m::matvec_i8(x, wt, acc);
            return Ok(());
        }
        #[cfg(target_arch = "x86_64")]
        if x86_64::int8::run(self, x, wt, acc) {
            return Ok(());
        }
        scalar::matvec_i8(x, wt, acc);
        Ok(())
    }

    /// The implementation [`Kernels::matvec_i8`] runs on this path and CPU, for reports:
    /// `reference`, `avx2 vpmaddwd`, `avx512-vnni vpdpbusd` (the AVX-512 path on a CPU with
    /// VNNI; without it, the AVX2 kernel), `cortex-m dsp smlad`, `cortex-m mla` (ARMv8-M
    /// Mainline not built for a core with DSP), `cortex-m thumb-1` (ARMv6-M).
    pub fn int8_kernel(self) -> &'static str {
        match self.path {
            #[cfg(target_arch = "x86_64")]
            Path::Avx2Fma | Path::Avx512 => x86_64::int8::name(self),
            #[cfg(any(charmlp_arm_fpu, charmlp_armv6m))]
            Path::CortexM => cortex_m::INT8_KERNEL,
            _ => "reference",
        }
    }

    /// `out[j] = ±lut[|p_j|]`, the sign of `p_j`, with `p_j` = [`requantize_clamp`]`(acc[j],
    /// m_j, s, lim)` and `m_j` the little-endian int32 at `m[4j..4j + 4]`: an int8 layer's
    /// requantization and odd lookup table (the int8 models' tanh). Exact: every path gives
    /// [`scalar::requantize_lut_i8`]'s bits (AVX2: eight lanes, the table read by `vpgatherdd`,
    /// for `s ≥ 33`; ARMv6-M: the 64-bit product's high word from four 16-bit products, in
    /// Thumb-1 assembly, for `s ≥ 33` and a 4-byte-aligned `m`).
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `m` has `4·n` bytes and `out` `n` values (`n = acc.len()`)
    /// and `lut` at least `lim + 4` (the vector paths read four bytes at a time; the last three
    /// are padding); [`KernelError::Requantization`] unless `1 ≤ s ≤ 62` and `lim ≥ 0`. Nothing
    /// is written then.
    pub fn requantize_lut_i8(
        self,
        acc: &[i32],
        m: &[u8],
        s: u32,
        lim: i32,
        lut: &[i8],
        out: &mut [i8],
    ) -> Result<(), KernelError> {
        if !(1..=62).contains(&s) || lim < 0 {
            return Err(KernelError::Requantization { shift: s, lim });
        }
        expect_dim("length of m (= 4·n)", 4 * acc.len(), m.len())?;
        expect_dim("length of out (= n)", acc.len(), out.len())?;
        let need = lim as usize + 4;
        if lut.len() < need {
            return Err(KernelError::Shape {
                what: "length of lut (≥ lim + 4)",
                expected: need,
                found: lut.len(),
            });
        }
        #[cfg(target_arch = "x86_64")]
        if x86_64::int8::run_lut(self, acc, m, s, lim, lut, out) {
            return Ok(());
        }
        #[cfg(all(charmlp_armv6m, not(charmlp_arm_fpu), target_endian = "little"))]
        if self.path == Path::CortexM && cortex_m::requantize_lut_i8(acc, m, s, lim, lut, out) {
            return Ok(());
        }
        scalar::requantize_lut_i8(acc, m, s, lim, lut, out);
        Ok(())
    }

    /// `dh ⊙= 1 − h²`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `h` and `dh` have the same length.
    pub fn tanh_backward(self, h: &[f32], dh: &mut [f32]) -> Result<(), KernelError> {
        expect_dim("length of dh (= length of h)", h.len(), dh.len())?;
        simd_or!(
            simd::tanh_backward(self, h, dh),
            scalar::tanh_backward(h, dh)
        );
        Ok(())
    }

    /// `p −= lr·g`.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `p` and `g` have the same length.
    pub fn sgd(self, p: &mut [f32], g: &[f32], lr: f32) -> Result<(), KernelError> {
        expect_dim("length of g (= length of p)", p.len(), g.len())?;
        simd_or!(simd::sgd(self, p, g, lr), scalar::sgd(p, g, lr));
        Ok(())
    }

    /// `out = softmax(logits · inv_temp)`, stable for any finite logits.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `out` is as long as `logits`.
    pub fn softmax(
        self,
        logits: &[f32],
        inv_temp: f32,
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        let sum = self.softmax_unnormalized(logits, inv_temp, out)?;
        for o in out.iter_mut() {
            *o /= sum;
        }
        Ok(())
    }

    /// `out = exp((logits − max)·inv_temp)`; returns their sum `S` (in index order), so the
    /// probabilities are `out / S`. The sampler draws from these without dividing.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `out` is as long as `logits`.
    pub fn softmax_unnormalized(
        self,
        logits: &[f32],
        inv_temp: f32,
        out: &mut [f32],
    ) -> Result<f32, KernelError> {
        expect_dim(
            "length of out (= length of logits)",
            logits.len(),
            out.len(),
        )?;
        #[cfg(charmlp_arm_fpu)]
        if self.path == Path::CortexM
            && let Some(sum) = cortex_m::softmax_unnormalized(logits, inv_temp, out)
        {
            return Ok(sum);
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if let Some(sum) = simd::softmax_unnormalized(self, logits, inv_temp, out) {
            return Ok(sum);
        }
        Ok(scalar::softmax_unnormalized(logits, inv_temp, out))
    }

    /// [`Kernels::softmax_unnormalized`] on every row of `logits` (`m×v`): row `r` of `out`
    /// gets its exponentials and `sums[r]` their sum — the bits of calling it row by row, in
    /// less time (the SIMD paths add several rows' sums side by side; each sum is a chain of
    /// dependent additions).
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `out` has the shape of `logits` and `sums` one value per
    /// row; nothing is written then.
    pub fn softmax_unnormalized_rows(
        self,
        logits: Mat<'_>,
        inv_temp: f32,
        mut out: MatMut<'_>,
        sums: &mut [f32],
    ) -> Result<(), KernelError> {
        let (m, v) = (logits.rows(), logits.cols());
        expect_dim("rows of out (= rows of logits)", m, out.rows())?;
        expect_dim("columns of out (= columns of logits)", v, out.cols())?;
        expect_dim("length of sums (= rows of logits)", m, sums.len())?;
        let (x, o) = (logits.as_slice(), out.as_mut_slice());
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if simd::softmax_unnormalized_rows(self, (m, v), x, inv_temp, o, sums) {
            return Ok(());
        }
        for (r, s) in sums.iter_mut().enumerate() {
            let (row, orow) = (&x[r * v..(r + 1) * v], &mut o[r * v..(r + 1) * v]);
            *s = self.softmax_unnormalized(row, inv_temp, orow)?;
        }
        Ok(())
    }

    /// Mean cross-entropy of the rows of `logits` (`m×v`) against `targets` (`m` classes), and,
    /// if `dlogits` (`m×v`) is given, its gradient `(softmax − onehot)/m`. Stable for any finite
    /// logits (±1e30 included).
    ///
    /// # Errors
    /// [`KernelError::EmptyBatch`] for no rows, [`KernelError::Shape`] if `targets` or
    /// `dlogits` disagree with `logits`, [`KernelError::IndexOutOfRange`] for a target not below
    /// `v`. Nothing is written on error.
    pub fn cross_entropy(
        self,
        logits: Mat<'_>,
        targets: &[Index],
        dlogits: Option<MatMut<'_>>,
    ) -> Result<f32, KernelError> {
        let (m, v) = (logits.rows(), logits.cols());
        if m == 0 {
            return Err(KernelError::EmptyBatch);
        }
        expect_dim("targets (= rows of logits)", m, targets.len())?;
        if let Some(d) = &dlogits {
            expect_dim("rows of dlogits (= rows of logits)", m, d.rows())?;
            expect_dim("columns of dlogits (= columns of logits)", v, d.cols())?;
        }
        check_indices(targets, v)?;
        let logits = logits.as_slice();
        let dlogits = dlogits.map(MatMut::into_slice);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        let dlogits = {
            let mut d = dlogits;
            if let Some(loss) = simd::cross_entropy(self, m, v, logits, targets, d.as_deref_mut()) {
                return Ok(loss);
            }
            d
        };
        scalar::cross_entropy(m, v, logits, targets, dlogits)
    }

    /// Embedding lookup: row `r` of `out` is `table[ctx[r·b]] ‖ … ‖ table[ctx[r·b + b − 1]]`,
    /// where `b = out.cols / table.cols` is the context length.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `out`'s columns are a multiple of `table`'s and `ctx` has
    /// `rows · b` indices; [`KernelError::IndexOutOfRange`] for an index not below
    /// `table.rows`. Nothing is written on error.
    pub fn embed_gather(
        self,
        table: Mat<'_>,
        ctx: &[Index],
        mut out: MatMut<'_>,
    ) -> Result<(), KernelError> {
        let (v, e) = (table.rows(), table.cols());
        let b = check_embed(v, e, ctx, out.rows(), out.cols())?;
        scalar::embed_gather(
            v,
            e,
            b,
            out.rows(),
            table.as_slice(),
            ctx,
            out.as_mut_slice(),
        )
    }

    /// The gradient of [`Kernels::embed_gather`]: `dtable[ctx[r·b + j]] += dout[r][j·e..(j+1)·e]`,
    /// accumulated in context order.
    ///
    /// # Errors
    /// As [`Kernels::embed_gather`].
    pub fn embed_scatter_add(
        self,
        dout: Mat<'_>,
        ctx: &[Index],
        mut dtable: MatMut<'_>,
    ) -> Result<(), KernelError> {
        let (v, e) = (dtable.rows(), dtable.cols());
        let b = check_embed(v, e, ctx, dout.rows(), dout.cols())?;
        scalar::embed_scatter_add(
            v,
            e,
            b,
            dout.rows(),
            dout.as_slice(),
            ctx,
            dtable.as_mut_slice(),
        )
    }

    /// `dw = xᵀ·dy` (shapes checked by the caller): `Xᵀ` is `X` read with swapped strides.
    fn tn(self, x: Mat<'_>, dy: Mat<'_>, dw: &mut [f32]) {
        let (m, k, n) = (x.rows(), x.cols(), dy.cols());
        let (x, dy) = (x.as_slice(), dy.as_slice());
        // Rows of dw (columns of x) to threads: each element's chain runs on one thread.
        #[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let parts = self.split_for(k, m * k * n);
            if parts > 1 {
                let one = self.single();
                split_rows(dw, k, n, parts, |rows, out| {
                    let a = (&x[rows.start..], 1, k);
                    let rk = rows.len();
                    simd::matmul_nn(one, rk, m, n, m, a, dy, None, Epilogue::None, out);
                });
                return;
            }
        }
        simd_or!(
            simd::matmul_nn(self, k, m, n, m, (x, 1, k), dy, None, Epilogue::None, dw),
            scalar::matmul_tn(m, k, n, x, dy, dw)
        );
    }

    /// `db = Σ_rows dy` (shapes checked by the caller).
    fn bias(self, dy: Mat<'_>, db: &mut [f32]) {
        let (m, n, dy) = (dy.rows(), dy.cols(), dy.as_slice());
        simd_or!(
            simd::bias_grad(self, m, n, dy, db),
            scalar::bias_grad(m, n, dy, db)
        );
    }

    /// `y = epi(x·w (+ b))`, inputs in segments of `seg` (shapes checked by the caller).
    pub(crate) fn nn(
        self,
        x: Mat<'_>,
        w: Mat<'_>,
        b: Option<&[f32]>,
        seg: usize,
        epi: Epilogue,
        y: &mut [f32],
    ) {
        let (m, k, n) = (x.rows(), x.cols(), w.cols());
        let (x, w) = (x.as_slice(), w.as_slice());
        // Rows to threads: each row is computed by one thread, with the same operations.
        #[cfg(feature = "std")]
        {
            let parts = self.split_for(m, m * k * n);
            if parts > 1 {
                let one = self.single();
                split_rows(y, m, n, parts, |rows, out| {
                    let xs = &x[rows.start * k..rows.end * k];
                    // Shapes agree: a row range of checked operands.
                    if let (Ok(xm), Ok(wm)) = (Mat::new(xs, rows.len(), k), Mat::new(w, k, n)) {
                        one.nn(xm, wm, b, seg, epi, out);
                    }
                });
                return;
            }
        }
        #[cfg(charmlp_arm_fpu)]
        if self.path == Path::CortexM && cortex_m::nn(m, k, n, seg, x, w, b, epi, y) {
            return;
        }
        simd_or!(
            simd::matmul_nn(self, m, k, n, seg, (x, k, 1), w, b, epi, y),
            scalar::matmul_nn(m, k, n, seg, x, w, b.unwrap_or(&[]), epi, y)
        );
    }

    /// `dx = dy·wᵀ (⊙ (1 − h²))` (shapes checked by the caller).
    fn nt(self, dy: Mat<'_>, w: Mat<'_>, h: Option<&[f32]>, dx: &mut [f32]) {
        let (m, n, k) = (dy.rows(), dy.cols(), w.rows());
        #[cfg(feature = "std")]
        {
            let parts = self.split_for(m, m * k * n);
            if parts > 1 {
                let (one, dys, ws) = (self.single(), dy.as_slice(), w.as_slice());
                split_rows(dx, m, k, parts, |rows, out| {
                    let d = &dys[rows.start * n..rows.end * n];
                    let hs = h.map(|h| &h[rows.start * k..rows.end * k]);
                    if let (Ok(dm), Ok(wm)) = (Mat::new(d, rows.len(), n), Mat::new(ws, k, n)) {
                        one.nt(dm, wm, hs, out);
                    }
                });
                return;
            }
        }
        let (dy, w) = (dy.as_slice(), w.as_slice());
        simd_or!(
            simd::matmul_nt(self, m, n, k, dy, w, h, dx),
            scalar::matmul_nt(m, n, k, dy, w, h, dx)
        );
    }
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
