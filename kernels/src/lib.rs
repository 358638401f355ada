//! Fixed-size f32 kernels for a character-level MLP: embedding gather/scatter, the three dense
//! matmul layouts, tanh, log-softmax cross-entropy, softmax and SGD.
//!
//! # Layers
//!
//! * [`scalar`] — the reference. Plain loops, no `unsafe`, no FMA, bit-identical on every
//!   target. It is the spec, and what a Cortex-M runs.
//! * `simd` — the same algorithms written once over a small register trait and compiled per
//!   instruction set (AVX2+FMA, AVX-512F, NEON). All of this crate's `unsafe` lives there and in
//!   the `x86_64`/`aarch64` modules, each block with a `// SAFETY:` comment.
//! * [`detect`] — which path runs: [`detect::detect`] checks the CPU once at run time (feature
//!   `std`; `CHARMLP_KERNEL=scalar|avx2|avx512|neon` forces a path) or uses
//!   `cfg!(target_feature)` without `std`. Feature `force-scalar` pins the scalar path.
//! * [`Kernels`] — the safe API. A `Kernels` value names a path this CPU can run (constructing
//!   one for an unsupported path fails), and its methods take fixed-size row-major arrays, so
//!   shapes are checked by the compiler and nothing here allocates or panics on any input.
//!
//! # Error bounds of the SIMD paths against [`scalar`]
//!
//! SIMD paths fuse multiplies and adds and sum in lane order, so they differ from the reference
//! by rounding only. The property tests in `kernels/tests/` hold every path to these bounds
//! (ε = 2⁻²⁴, `K` the reduction length, `V` classes per row, `M` rows; derivations in the test
//! files' module docs):
//!
//! | kernel | bound, SIMD vs scalar | measured here (AVX2) |
//! |---|---|---|
//! | matmuls (all layouts, bias, fused tanh backward) | `|Δ| ≤ 2(K+1)ε·(|b| + Σ|x·w|)` | within bound on 13 shapes × 24–64 cases |
//! | fused `tanh(x·W + b)` | the matmul bound + 4 ulp of the result | within bound |
//! | tanh | ≤ 2 ulp apart; each ≤ 2 ulp from exact | max 1.425 ulp (scalar), 1.448 ulp (AVX2) from exact over all 2³² inputs |
//! | softmax probability | `|Δp| ≤ 2(V+4)ε·p` | up to 14ε on an adversarial row |
//! | cross-entropy gradient | `(2(V+4)ε·p + 2ε·[j=t]·|1−p|)/M + 4ε·|g|` | within bound |
//! | cross-entropy loss | `2(V+1)ε + 2(M+4)ε·loss` | within bound |
//! | softmax row sum | `|Σp − 1| ≤ (V+4)·ε` (exact sum of the f32 outputs) | 6.5·2⁻²³ on an adversarial row |
//! | sgd | `ε·|lr·g| + 2ε·|p − lr·g|` (one rounding more in the scalar path) | within bound |
//! | gather/scatter | bit-identical (one implementation) | – |
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
pub mod scalar;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod simd;
#[cfg(target_arch = "x86_64")]
mod x86_64;

pub use detect::Path;
pub use error::KernelError;
pub use scalar::Epilogue;

/// A handle to one supported code path; every kernel is a method.
///
/// ```
/// use charmlp_kernels::{Kernels, Path};
/// let k = Kernels::best();
/// assert!(k.path().is_supported());
/// assert!(Kernels::new(Path::Scalar).is_some());
/// let mut x = [0.5f32, -20.0, 0.0];
/// k.tanh(&mut x);
/// assert_eq!(x[1], -1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    path: Path,
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

impl Kernels {
    /// The path chosen by [`detect::detect`] (run-time detection with `std`).
    pub fn best() -> Kernels {
        Kernels {
            path: detect::detect(),
        }
    }

    /// The scalar reference, available everywhere.
    pub const fn scalar() -> Kernels {
        Kernels { path: Path::Scalar }
    }

    /// A handle for `path`, or `None` if this CPU (or this build) cannot run it.
    pub fn new(path: Path) -> Option<Kernels> {
        path.is_supported().then_some(Kernels { path })
    }

    /// Every path this CPU can run, scalar first.
    pub fn all_supported() -> impl Iterator<Item = Kernels> {
        Path::ALL.into_iter().filter_map(Kernels::new)
    }

    /// The path this handle runs.
    pub const fn path(self) -> Path {
        self.path
    }

    /// `y = x·w + b` for a batch of `M` rows.
    pub fn linear<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        w: &[[f32; N]; K],
        b: &[f32; N],
        y: &mut [[f32; N]; M],
    ) {
        self.dense(x, w, Some(b), Epilogue::Bias, y);
    }

    /// `y = tanh(x·w + b)`: the hidden layer with bias and activation fused into the store.
    pub fn linear_tanh<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        w: &[[f32; N]; K],
        b: &[f32; N],
        y: &mut [[f32; N]; M],
    ) {
        self.dense(x, w, Some(b), Epilogue::BiasTanh, y);
    }

    /// `y = x·w` (no bias).
    pub fn matmul<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        w: &[[f32; N]; K],
        y: &mut [[f32; N]; M],
    ) {
        self.dense(x, w, None, Epilogue::None, y);
    }

    /// `dw = xᵀ·dy`: the weight gradient of a dense layer (overwrites `dw`).
    pub fn matmul_tn<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        dy: &[[f32; N]; M],
        dw: &mut [[f32; N]; K],
    ) {
        self.tn(x, dy, dw);
    }

    /// `dx = dy·wᵀ`: the input gradient of a dense layer (overwrites `dx`).
    pub fn matmul_nt<const M: usize, const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]; M],
        w: &[[f32; N]; K],
        dx: &mut [[f32; K]; M],
    ) {
        self.nt(
            M,
            N,
            K,
            dy.as_flattened(),
            w.as_flattened(),
            None,
            dx.as_flattened_mut(),
        );
    }

    /// `dz = (dy·wᵀ) ⊙ (1 − h²)`: the input gradient of a dense layer fused with the backward of
    /// the tanh that produced `h`.
    pub fn matmul_nt_tanh_backward<const M: usize, const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]; M],
        w: &[[f32; N]; K],
        h: &[[f32; K]; M],
        dz: &mut [[f32; K]; M],
    ) {
        self.nt(
            M,
            N,
            K,
            dy.as_flattened(),
            w.as_flattened(),
            Some(h.as_flattened()),
            dz.as_flattened_mut(),
        );
    }

    /// `db = Σ_rows dy`: the bias gradient (overwrites `db`).
    pub fn bias_grad<const M: usize, const N: usize>(self, dy: &[[f32; N]; M], db: &mut [f32; N]) {
        self.bias_grad_rows(dy, db);
    }

    /// tanh in place.
    pub fn tanh(self, x: &mut [f32]) {
        simd_or!(
            simd::tanh_slice(self, x),
            x.iter_mut().for_each(|v| *v = scalar::tanh(*v))
        );
    }

    /// `dh ⊙= 1 − h²` over the common length of `h` and `dh`.
    pub fn tanh_backward(self, h: &[f32], dh: &mut [f32]) {
        simd_or!(
            simd::tanh_backward(self, h, dh),
            scalar::tanh_backward(h, dh)
        );
    }

    /// `p −= lr·g` over the common length of `p` and `g`.
    pub fn sgd(self, p: &mut [f32], g: &[f32], lr: f32) {
        simd_or!(simd::sgd(self, p, g, lr), scalar::sgd(p, g, lr));
    }

    /// `out = softmax(logits · inv_temp)`, stable for any finite logits.
    pub fn softmax<const V: usize>(self, logits: &[f32; V], inv_temp: f32, out: &mut [f32; V]) {
        simd_or!(
            simd::softmax(self, logits, inv_temp, out),
            scalar::softmax(logits, inv_temp, out)
        );
    }

    /// Mean cross-entropy of `M` rows of logits against `targets`, and, if `dlogits` is given,
    /// its gradient `(softmax − onehot)/M`. Stable for any finite logits (±1e30 included).
    ///
    /// # Errors
    /// [`KernelError::IndexOutOfRange`] if a target is not below `V`, [`KernelError::EmptyBatch`]
    /// if `M` is 0; nothing is written then.
    pub fn cross_entropy<const M: usize, const V: usize>(
        self,
        logits: &[[f32; V]; M],
        targets: &[u8; M],
        dlogits: Option<&mut [[f32; V]; M]>,
    ) -> Result<f32, KernelError> {
        self.cross_entropy_rows(logits, targets, dlogits.map(|d| &mut d[..]))
    }

    /// Embedding lookup: `out[r] = table[ctx[r][0]] ‖ … ‖ table[ctx[r][B−1]]`.
    ///
    /// # Errors
    /// [`KernelError::IndexOutOfRange`] if an index is not below `V`; nothing is written then.
    pub fn embed_gather<
        const V: usize,
        const E: usize,
        const B: usize,
        const IN: usize,
        const M: usize,
    >(
        self,
        table: &[[f32; E]; V],
        ctx: &[[u8; B]; M],
        out: &mut [[f32; IN]; M],
    ) -> Result<(), KernelError> {
        self.embed_gather_rows(table, ctx, out)
    }

    /// The gradient of [`Kernels::embed_gather`]: `dtable[ctx[r][j]] += dout[r][j·E..(j+1)·E]`.
    ///
    /// # Errors
    /// [`KernelError::IndexOutOfRange`] if an index is not below `V`; nothing is written then.
    pub fn embed_scatter_add<
        const V: usize,
        const E: usize,
        const B: usize,
        const IN: usize,
        const M: usize,
    >(
        self,
        dout: &[[f32; IN]; M],
        ctx: &[[u8; B]; M],
        dtable: &mut [[f32; E]; V],
    ) -> Result<(), KernelError> {
        self.embed_scatter_add_rows(dout, ctx, dtable)
    }

    // ---- Row-slice variants: the batch size is a run-time length up to a buffer's capacity. ----

    /// [`Kernels::linear`] over as many rows as `x` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `y` has a different number of rows.
    pub fn linear_rows<const K: usize, const N: usize>(
        self,
        x: &[[f32; K]],
        w: &[[f32; N]; K],
        b: &[f32; N],
        y: &mut [[f32; N]],
    ) -> Result<(), KernelError> {
        same_rows(x.len(), y.len())?;
        self.dense(x, w, Some(b), Epilogue::Bias, y);
        Ok(())
    }

    /// [`Kernels::linear_tanh`] over as many rows as `x` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `y` has a different number of rows.
    pub fn linear_tanh_rows<const K: usize, const N: usize>(
        self,
        x: &[[f32; K]],
        w: &[[f32; N]; K],
        b: &[f32; N],
        y: &mut [[f32; N]],
    ) -> Result<(), KernelError> {
        same_rows(x.len(), y.len())?;
        self.dense(x, w, Some(b), Epilogue::BiasTanh, y);
        Ok(())
    }

    /// [`Kernels::matmul_tn`] (`dw = xᵀ·dy`) over as many rows as `x` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `dy` has a different number of rows.
    pub fn matmul_tn_rows<const K: usize, const N: usize>(
        self,
        x: &[[f32; K]],
        dy: &[[f32; N]],
        dw: &mut [[f32; N]; K],
    ) -> Result<(), KernelError> {
        same_rows(x.len(), dy.len())?;
        self.tn(x, dy, dw);
        Ok(())
    }

    /// [`Kernels::matmul_nt`] (`dx = dy·wᵀ`) over as many rows as `dy` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `dx` has a different number of rows.
    pub fn matmul_nt_rows<const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]],
        w: &[[f32; N]; K],
        dx: &mut [[f32; K]],
    ) -> Result<(), KernelError> {
        same_rows(dy.len(), dx.len())?;
        self.nt(
            dy.len(),
            N,
            K,
            dy.as_flattened(),
            w.as_flattened(),
            None,
            dx.as_flattened_mut(),
        );
        Ok(())
    }

    /// [`Kernels::matmul_nt_tanh_backward`] over as many rows as `dy` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `h` or `dz` has a different number of rows.
    pub fn matmul_nt_tanh_backward_rows<const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]],
        w: &[[f32; N]; K],
        h: &[[f32; K]],
        dz: &mut [[f32; K]],
    ) -> Result<(), KernelError> {
        same_rows(dy.len(), h.len())?;
        same_rows(dy.len(), dz.len())?;
        self.nt(
            dy.len(),
            N,
            K,
            dy.as_flattened(),
            w.as_flattened(),
            Some(h.as_flattened()),
            dz.as_flattened_mut(),
        );
        Ok(())
    }

    /// [`Kernels::bias_grad`] over as many rows as `dy` has.
    pub fn bias_grad_rows<const N: usize>(self, dy: &[[f32; N]], db: &mut [f32; N]) {
        let m = dy.len();
        let dy = dy.as_flattened();
        simd_or!(
            simd::bias_grad(self, m, N, dy, db),
            scalar::bias_grad(m, N, dy, db)
        );
    }

    /// [`Kernels::cross_entropy`] over as many rows as `logits` has.
    ///
    /// # Errors
    /// [`KernelError::EmptyBatch`] for no rows, [`KernelError::RowMismatch`] if `targets` or
    /// `dlogits` has a different number of rows, [`KernelError::IndexOutOfRange`] for a target
    /// not below `V`. Nothing is written on error.
    pub fn cross_entropy_rows<const V: usize>(
        self,
        logits: &[[f32; V]],
        targets: &[u8],
        dlogits: Option<&mut [[f32; V]]>,
    ) -> Result<f32, KernelError> {
        let m = logits.len();
        if m == 0 {
            return Err(KernelError::EmptyBatch);
        }
        same_rows(m, targets.len())?;
        if let Some(d) = &dlogits {
            same_rows(m, d.len())?;
        }
        if let Some(&t) = targets.iter().find(|&&t| usize::from(t) >= V) {
            return Err(KernelError::IndexOutOfRange {
                index: usize::from(t),
                len: V,
            });
        }
        let logits = logits.as_flattened();
        let mut dlogits = dlogits.map(|d| d.as_flattened_mut());
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let mut scratch = [0.0f32; V];
            let simd = simd::cross_entropy(
                self,
                m,
                V,
                logits,
                targets,
                dlogits.as_deref_mut(),
                &mut scratch,
            );
            if let Some(loss) = simd {
                return Ok(loss);
            }
        }
        scalar::cross_entropy(m, V, logits, targets, dlogits)
    }

    /// [`Kernels::embed_gather`] over as many rows as `ctx` has.
    ///
    /// # Errors
    /// [`KernelError::RowMismatch`] if `out` has a different number of rows,
    /// [`KernelError::IndexOutOfRange`] if an index is not below `V`. Nothing is written on error.
    pub fn embed_gather_rows<const V: usize, const E: usize, const B: usize, const IN: usize>(
        self,
        table: &[[f32; E]; V],
        ctx: &[[u8; B]],
        out: &mut [[f32; IN]],
    ) -> Result<(), KernelError> {
        const { assert!(IN == B * E, "IN must equal B * E") };
        same_rows(ctx.len(), out.len())?;
        scalar::embed_gather(
            V,
            E,
            B,
            ctx.len(),
            table.as_flattened(),
            ctx.as_flattened(),
            out.as_flattened_mut(),
        )
    }

    /// [`Kernels::embed_scatter_add`] over as many rows as `ctx` has.
    ///
    /// # Errors
    /// As [`Kernels::embed_gather_rows`].
    pub fn embed_scatter_add_rows<
        const V: usize,
        const E: usize,
        const B: usize,
        const IN: usize,
    >(
        self,
        dout: &[[f32; IN]],
        ctx: &[[u8; B]],
        dtable: &mut [[f32; E]; V],
    ) -> Result<(), KernelError> {
        const { assert!(IN == B * E, "IN must equal B * E") };
        same_rows(ctx.len(), dout.len())?;
        scalar::embed_scatter_add(
            V,
            E,
            B,
            ctx.len(),
            dout.as_flattened(),
            ctx.as_flattened(),
            dtable.as_flattened_mut(),
        )
    }

    /// `y = epi(x·w (+ b))` over the rows of `x` (the caller checked `y` has as many).
    fn dense<const K: usize, const N: usize>(
        self,
        x: &[[f32; K]],
        w: &[[f32; N]; K],
        b: Option<&[f32; N]>,
        epi: Epilogue,
        y: &mut [[f32; N]],
    ) {
        let b = b.map(|b| &b[..]);
        self.nn(
            x.len(),
            K,
            N,
            (x.as_flattened(), K, 1),
            w.as_flattened(),
            b,
            epi,
            y.as_flattened_mut(),
        );
    }

    /// `dw = xᵀ·dy` for `m` rows: `Xᵀ` is `X` read with swapped strides.
    fn tn<const K: usize, const N: usize>(
        self,
        x: &[[f32; K]],
        dy: &[[f32; N]],
        dw: &mut [[f32; N]; K],
    ) {
        let m = x.len().min(dy.len());
        let (x, dy, dw) = (x.as_flattened(), dy.as_flattened(), dw.as_flattened_mut());
        simd_or!(
            simd::matmul_nn(self, K, m, N, (x, 1, K), dy, None, Epilogue::None, dw),
            scalar::matmul_tn(m, K, N, x, dy, dw)
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn nn(
        self,
        m: usize,
        k: usize,
        n: usize,
        a: (&[f32], usize, usize),
        w: &[f32],
        b: Option<&[f32]>,
        epi: Epilogue,
        y: &mut [f32],
    ) {
        simd_or!(
            simd::matmul_nn(self, m, k, n, a, w, b, epi, y),
            scalar::matmul_nn(m, k, n, a.0, w, b.unwrap_or(&[]), epi, y)
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn nt(
        self,
        m: usize,
        n: usize,
        k: usize,
        dy: &[f32],
        w: &[f32],
        h: Option<&[f32]>,
        dx: &mut [f32],
    ) {
        simd_or!(
            simd::matmul_nt(self, m, n, k, dy, w, h, dx),
            scalar::matmul_nt(m, n, k, dy, w, h, dx)
        );
    }
}

fn same_rows(expected: usize, found: usize) -> Result<(), KernelError> {
    if expected == found {
        Ok(())
    } else {
        Err(KernelError::RowMismatch { expected, found })
    }
}
