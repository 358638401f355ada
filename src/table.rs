//! The per-position table of layer 1: `T[p][v] = C[v] · W1[p·E..(p+1)·E]` (`H` floats), for
//! every context position `p < B` and symbol `v < V`.
//!
//! The reference arithmetic sums layer 1 per position — `h = tanh(((b1 + T₀) + T₁) + …)`, each
//! `Tₚ` the fused chain over its `E` inputs — so a table of the `Tₚ` turns layer 1 into `B` row
//! additions with the **same bits** as computing it: `B·V·H` floats (64.8 KB for the canonical
//! model) for `B·E·H` fewer multiply-adds per sampled symbol. The sampler uses one when given
//! ([`crate::Sampler::with_table`]); [`crate::weights::table`] stores one in a file, and
//! [`crate::include_weights!`] bakes one into firmware.

use charmlp_kernels::{Kernels, Mat, MatMut};

use crate::error::ShapeError;
use crate::params::ParamsView;
use crate::shape::Shape;

/// Floats in the table of `shape`: `B·V·H`.
pub const fn table_len(shape: &Shape) -> usize {
    shape.block() * shape.vocab() * shape.hidden()
}

/// A per-position table of a shape, borrowed: `B` blocks of `V` rows of `H` floats.
#[derive(Debug, Clone, Copy)]
pub struct TableView<'a> {
    shape: Shape,
    data: &'a [f32],
}

impl<'a> TableView<'a> {
    /// Views `data` (`B·V·H` floats, position-major) as the table of `shape`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] if `data` has another length.
    pub fn new(shape: Shape, data: &'a [f32]) -> Result<Self, ShapeError> {
        Shape::check_len("position table", table_len(&shape), data.len())?;
        Ok(TableView { shape, data })
    }

    /// The shape it belongs to.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// All `B·V·H` floats.
    pub const fn data(&self) -> &'a [f32] {
        self.data
    }

    /// `T[p][v]`: `H` floats, or `None` if `p ≥ B` or `v ≥ V`.
    pub fn row(&self, p: usize, v: usize) -> Option<&'a [f32]> {
        let (vv, h) = (self.shape.vocab(), self.shape.hidden());
        if p >= self.shape.block() || v >= vv {
            return None;
        }
        let at = (p * vv + v) * h;
        self.data.get(at..at + h)
    }
}

/// Computes the table of `params` into `out` (`B·V·H` floats) with `kernels` (every path gives
/// the reference's bits): block `p` is `C · W1[p·E..(p+1)·E]`.
///
/// ```
/// use charmlp::table::{compute_table, table_len, TableView};
/// use charmlp::{Init, Kernels, ParamsBuf, Shape};
/// let shape = Shape::new(27, 3, 10, 200)?;
/// let p = ParamsBuf::init(shape, 1, Init::Scaled)?;
/// let mut t = vec![0.0; table_len(&shape)]; // 16 200 floats: 64.8 KB
/// compute_table(Kernels::best(), &p.view(), &mut t)?;
/// let view = TableView::new(shape, &t)?;
/// assert_eq!(view.row(2, 5).unwrap().len(), 200); // position 2, symbol 5
/// # Ok::<(), charmlp::ShapeError>(())
/// ```
///
/// # Errors
/// [`ShapeError::Length`] if `out` has another length.
pub fn compute_table(
    kernels: Kernels,
    params: &ParamsView<'_>,
    out: &mut [f32],
) -> Result<(), ShapeError> {
    let s = params.shape();
    Shape::check_len("position table", table_len(&s), out.len())?;
    let (v, e, h) = (s.vocab(), s.emb(), s.hidden());
    if v * h == 0 {
        return Ok(());
    }
    let w1 = params.w1().as_slice();
    for (p, block) in out.chunks_exact_mut(v * h).enumerate() {
        let rows = &w1[p * e * h..(p + 1) * e * h];
        // Shapes agree by construction (C is V×E, the W1 block E×H, the table block V×H).
        let done = Mat::new(rows, e, h)
            .and_then(|w| kernels.matmul(params.c(), w, MatMut::new(&mut *block, v, h)?));
        if done.is_err() {
            return Err(ShapeError::Length {
                what: "position table",
                expected: table_len(&s),
                found: out.len(),
            });
        }
    }
    Ok(())
}
