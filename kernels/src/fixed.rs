//! The kernels over fixed-size arrays: thin wrappers over [`Kernels`] for code whose shapes are
//! const generics. The compiler checks the shapes, so only index checks can fail.

use crate::{Epilogue, Index, KernelError, Kernels, Mat, MatMut};

/// The const-generic face of [`Kernels`] (see [`Kernels::fixed`]).
///
/// ```
/// use charmlp_kernels::Kernels;
/// let k = Kernels::best().fixed();
/// let x = [[1.0f32, 2.0]];
/// let w = [[1.0f32, 0.0, 1.0], [0.0, 1.0, 1.0]];
/// let mut y = [[0.0f32; 3]];
/// k.linear(&x, &w, &[0.0, 0.0, 0.5], &mut y);
/// assert_eq!(y, [[1.0, 2.0, 3.5]]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed(Kernels);

impl Fixed {
    pub(crate) const fn new(k: Kernels) -> Fixed {
        Fixed(k)
    }

    /// The run-time face of the same path.
    pub const fn kernels(self) -> Kernels {
        self.0
    }

    /// `y = epi(x·w (+ b))`, the three forward products below.
    fn dense<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        w: &[[f32; N]; K],
        b: Option<&[f32; N]>,
        epi: Epilogue,
        y: &mut [[f32; N]; M],
    ) {
        let b = b.map(|b| &b[..]);
        self.0
            .nn(x.into(), w.into(), b, K, epi, y.as_flattened_mut());
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

    /// `y = tanh(x·w + b)`.
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

    /// `dw = xᵀ·dy` (overwrites `dw`).
    pub fn matmul_tn<const M: usize, const K: usize, const N: usize>(
        self,
        x: &[[f32; K]; M],
        dy: &[[f32; N]; M],
        dw: &mut [[f32; N]; K],
    ) {
        self.0.tn(x.into(), dy.into(), dw.as_flattened_mut());
    }

    /// `dx = dy·wᵀ` (overwrites `dx`).
    pub fn matmul_nt<const M: usize, const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]; M],
        w: &[[f32; N]; K],
        dx: &mut [[f32; K]; M],
    ) {
        self.0.nt(dy.into(), w.into(), None, dx.as_flattened_mut());
    }

    /// `dz = (dy·wᵀ) ⊙ (1 − h²)`.
    pub fn matmul_nt_tanh_backward<const M: usize, const N: usize, const K: usize>(
        self,
        dy: &[[f32; N]; M],
        w: &[[f32; N]; K],
        h: &[[f32; K]; M],
        dz: &mut [[f32; K]; M],
    ) {
        self.0.nt(
            dy.into(),
            w.into(),
            Some(h.as_flattened()),
            dz.as_flattened_mut(),
        );
    }

    /// `db = Σ_rows dy` (overwrites `db`).
    pub fn bias_grad<const M: usize, const N: usize>(self, dy: &[[f32; N]; M], db: &mut [f32; N]) {
        self.0.bias(dy.into(), db);
    }

    /// `out = softmax(logits · inv_temp)`.
    pub fn softmax<const V: usize>(self, logits: &[f32; V], inv_temp: f32, out: &mut [f32; V]) {
        // Equal lengths by type: cannot fail.
        let _ = self.0.softmax(logits, inv_temp, out);
    }

    /// `y = tanh(x·w + b)` with the `K` inputs in segments of `SEG` (see
    /// [`Kernels::linear_tanh`]).
    pub fn linear_tanh_segmented<
        const M: usize,
        const K: usize,
        const N: usize,
        const SEG: usize,
    >(
        self,
        x: &[[f32; K]; M],
        w: &[[f32; N]; K],
        b: &[f32; N],
        y: &mut [[f32; N]; M],
    ) {
        const { assert!(SEG > 0 && K.is_multiple_of(SEG), "SEG must divide K") };
        self.0.nn(
            x.into(),
            w.into(),
            Some(b),
            SEG,
            Epilogue::BiasTanh,
            y.as_flattened_mut(),
        );
    }

    /// Mean cross-entropy of `M` rows and, if `dlogits` is given, its gradient.
    ///
    /// # Errors
    /// [`KernelError::IndexOutOfRange`] for a target not below `V`, [`KernelError::EmptyBatch`]
    /// if `M` is 0; nothing is written then.
    pub fn cross_entropy<const M: usize, const V: usize>(
        self,
        logits: &[[f32; V]; M],
        targets: &[Index; M],
        dlogits: Option<&mut [[f32; V]; M]>,
    ) -> Result<f32, KernelError> {
        self.0
            .cross_entropy(logits.into(), targets, dlogits.map(MatMut::from))
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
        ctx: &[[Index; B]; M],
        out: &mut [[f32; IN]; M],
    ) -> Result<(), KernelError> {
        const { assert!(IN == B * E, "IN must equal B * E") };
        self.0
            .embed_gather(Mat::from(table), ctx.as_flattened(), out.into())
    }

    /// The gradient of [`Fixed::embed_gather`]: `dtable[ctx[r][j]] += dout[r][j·E..(j+1)·E]`.
    ///
    /// # Errors
    /// As [`Fixed::embed_gather`].
    pub fn embed_scatter_add<
        const V: usize,
        const E: usize,
        const B: usize,
        const IN: usize,
        const M: usize,
    >(
        self,
        dout: &[[f32; IN]; M],
        ctx: &[[Index; B]; M],
        dtable: &mut [[f32; E]; V],
    ) -> Result<(), KernelError> {
        const { assert!(IN == B * E, "IN must equal B * E") };
        self.0
            .embed_scatter_add(dout.into(), ctx.as_flattened(), dtable.into())
    }
}
