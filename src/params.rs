//! The model's parameters `C[V][E]`, `W1[IN][H]`, `b1[H]`, `W2[H][V]`, `b2[V]`, and their
//! initialization from a seed.
//!
//! Everything that reads or writes parameters does so through a view, [`ParamsView`] or
//! [`ParamsViewMut`]: the shape plus the five tensors as row-major slices, their lengths checked
//! once, when the view is made. The storage is up to the owner:
//!
//! * [`Params<V, B, E, IN, H>`](Params) — five fixed-size arrays, for firmware (no heap; a
//!   `static` or the stack);
//! * `ParamsBuf` (feature `std`) — one `Vec<f32>` in file order, any shape chosen at run time;
//! * a weights file — [`crate::weights::WeightsView::params`] borrows its bytes, zero-copy.
//!
//! A view over one flat slice in file order is [`ParamsView::from_flat`].

use charmlp_kernels::{Mat, MatMut};
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::shape::{Shape, ShapeError};

/// How the parameters start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Init {
    /// Every tensor standard normal, as in the makemore part 2 lecture.
    Randn,
    /// makemore part 3's fix: `W1 · (5/3)/√IN` (Kaiming for tanh), `b1 · 0.01`, `W2 · 0.01`,
    /// `b2 = 0`; `C` stays standard normal. The first loss is then ≈ ln V.
    Scaled,
}

impl Init {
    /// Every initialization, in the order of their codes.
    pub const ALL: [Init; 2] = [Init::Randn, Init::Scaled];

    /// `randn` or `scaled`.
    pub const fn name(self) -> &'static str {
        match self {
            Init::Randn => "randn",
            Init::Scaled => "scaled",
        }
    }

    /// Parses a name as printed by [`Init::name`].
    pub fn from_name(name: &str) -> Option<Init> {
        Init::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// The tensor names, in file order.
pub const TENSOR_NAMES: [&str; 5] = ["C", "W1", "b1", "W2", "b2"];

/// Borrowed parameters: a shape and its five tensors.
#[derive(Debug, Clone, Copy)]
pub struct ParamsView<'a> {
    shape: Shape,
    c: Mat<'a>,
    w1: Mat<'a>,
    b1: &'a [f32],
    w2: Mat<'a>,
    b2: &'a [f32],
}

/// Mutably borrowed parameters: a shape and its five tensors.
#[derive(Debug)]
pub struct ParamsViewMut<'a> {
    shape: Shape,
    c: &'a mut [f32],
    w1: &'a mut [f32],
    b1: &'a mut [f32],
    w2: &'a mut [f32],
    b2: &'a mut [f32],
}

/// Checks five tensor lengths against a shape.
fn check_lens(shape: &Shape, lens: [usize; 5]) -> Result<(), ShapeError> {
    for ((name, want), got) in TENSOR_NAMES.iter().zip(shape.tensor_lens()).zip(lens) {
        Shape::check_len(name, want, got)?;
    }
    Ok(())
}

/// Splits a flat slice into the five tensors of `shape` (its length already checked).
fn split5<'d, T>(shape: &Shape, data: &'d [T]) -> [&'d [T]; 5] {
    let [c, w1, b1, w2, b2] = shape.tensor_ranges();
    [&data[c], &data[w1], &data[b1], &data[w2], &data[b2]]
}

impl<'a> ParamsView<'a> {
    /// A view of the tensors `C, W1, b1, W2, b2` of `shape`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming the first tensor whose length is not the shape's.
    pub fn new(shape: Shape, tensors: [&'a [f32]; 5]) -> Result<Self, ShapeError> {
        check_lens(&shape, tensors.map(<[f32]>::len))?;
        let [c, w1, b1, w2, b2] = tensors;
        let (v, e, inp, h) = (shape.vocab(), shape.emb(), shape.input(), shape.hidden());
        // The lengths were checked above, so the matrices cannot fail.
        let mat = |d: &'a [f32], r, cols| Mat::new(d, r, cols).map_err(|_| ShapeError::TooLarge);
        Ok(ParamsView {
            shape,
            c: mat(c, v, e)?,
            w1: mat(w1, inp, h)?,
            b1,
            w2: mat(w2, h, v)?,
            b2,
        })
    }

    /// A view of one flat slice holding the five tensors in file order.
    ///
    /// # Errors
    /// [`ShapeError::Length`] unless `data` has exactly [`Shape::param_count`] elements.
    pub fn from_flat(shape: Shape, data: &'a [f32]) -> Result<Self, ShapeError> {
        Shape::check_len("parameters", shape.param_count(), data.len())?;
        Self::new(shape, split5(&shape, data))
    }

    /// The shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// `C`, `V × E`.
    pub const fn c(&self) -> Mat<'a> {
        self.c
    }

    /// `W1`, `IN × H`.
    pub const fn w1(&self) -> Mat<'a> {
        self.w1
    }

    /// `b1`, `H`.
    pub const fn b1(&self) -> &'a [f32] {
        self.b1
    }

    /// `W2`, `H × V`.
    pub const fn w2(&self) -> Mat<'a> {
        self.w2
    }

    /// `b2`, `V`.
    pub const fn b2(&self) -> &'a [f32] {
        self.b2
    }

    /// The five tensors, flattened, in file order.
    pub fn tensors(&self) -> [&'a [f32]; 5] {
        [
            self.c.as_slice(),
            self.w1.as_slice(),
            self.b1,
            self.w2.as_slice(),
            self.b2,
        ]
    }

    /// Whether every parameter is finite.
    pub fn all_finite(&self) -> bool {
        self.tensors()
            .iter()
            .all(|t| t.iter().all(|x| x.is_finite()))
    }

    /// Every parameter, in file order.
    pub fn iter(&self) -> impl Iterator<Item = f32> + 'a {
        self.tensors().into_iter().flatten().copied()
    }
}

impl<'a> ParamsViewMut<'a> {
    /// A mutable view of the tensors `C, W1, b1, W2, b2` of `shape`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming the first tensor whose length is not the shape's.
    pub fn new(shape: Shape, tensors: [&'a mut [f32]; 5]) -> Result<Self, ShapeError> {
        check_lens(&shape, [0, 1, 2, 3, 4].map(|i| tensors[i].len()))?;
        let [c, w1, b1, w2, b2] = tensors;
        Ok(ParamsViewMut {
            shape,
            c,
            w1,
            b1,
            w2,
            b2,
        })
    }

    /// A mutable view of one flat slice holding the five tensors in file order.
    ///
    /// # Errors
    /// [`ShapeError::Length`] unless `data` has exactly [`Shape::param_count`] elements.
    pub fn from_flat(shape: Shape, data: &'a mut [f32]) -> Result<Self, ShapeError> {
        Shape::check_len("parameters", shape.param_count(), data.len())?;
        let [_, r1, r2, r3, r4] = shape.tensor_ranges();
        let (c, rest) = data.split_at_mut(r1.start);
        let (w1, rest) = rest.split_at_mut(r1.len());
        let (b1, rest) = rest.split_at_mut(r2.len());
        let (w2, b2) = rest.split_at_mut(r3.len());
        debug_assert_eq!(b2.len(), r4.len());
        Self::new(shape, [c, w1, b1, w2, b2])
    }

    /// The shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// A read-only view of the same parameters.
    pub fn as_view(&self) -> ParamsView<'_> {
        let s = self.shape;
        let (v, e, inp, h) = (s.vocab(), s.emb(), s.input(), s.hidden());
        ParamsView {
            shape: s,
            c: mat(self.c, v, e),
            w1: mat(self.w1, inp, h),
            b1: self.b1,
            w2: mat(self.w2, h, v),
            b2: self.b2,
        }
    }

    /// A shorter-lived mutable view (to pass on and keep using this one).
    pub fn reborrow(&mut self) -> ParamsViewMut<'_> {
        ParamsViewMut {
            shape: self.shape,
            c: &mut *self.c,
            w1: &mut *self.w1,
            b1: &mut *self.b1,
            w2: &mut *self.w2,
            b2: &mut *self.b2,
        }
    }

    /// The five tensors, flattened and mutable, in file order.
    pub fn tensors_mut(&mut self) -> [&mut [f32]; 5] {
        [
            &mut *self.c,
            &mut *self.w1,
            &mut *self.b1,
            &mut *self.w2,
            &mut *self.b2,
        ]
    }

    /// `C` (`V × E`) as a mutable matrix.
    pub fn c_mut(&mut self) -> MatMut<'_> {
        mat_mut(self.c, self.shape.vocab(), self.shape.emb())
    }

    /// `W1` (`IN × H`) as a mutable matrix.
    pub fn w1_mut(&mut self) -> MatMut<'_> {
        mat_mut(self.w1, self.shape.input(), self.shape.hidden())
    }

    /// `b1` (`H`).
    pub fn b1_mut(&mut self) -> &mut [f32] {
        self.b1
    }

    /// `W2` (`H × V`) as a mutable matrix.
    pub fn w2_mut(&mut self) -> MatMut<'_> {
        mat_mut(self.w2, self.shape.hidden(), self.shape.vocab())
    }

    /// `b2` (`V`).
    pub fn b2_mut(&mut self) -> &mut [f32] {
        self.b2
    }

    /// Copies every parameter from `src`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] if `src` has another shape; nothing is copied then.
    pub fn copy_from(&mut self, src: &ParamsView<'_>) -> Result<(), ShapeError> {
        if src.shape() != self.shape {
            return Err(ShapeError::Length {
                what: "parameters",
                expected: self.shape.param_count(),
                found: src.shape().param_count(),
            });
        }
        for (d, s) in self.tensors_mut().into_iter().zip(src.tensors()) {
            d.copy_from_slice(s);
        }
        Ok(())
    }

    /// Sets every parameter to zero.
    pub fn fill_zero(&mut self) {
        self.tensors_mut().into_iter().for_each(|t| t.fill(0.0));
    }

    /// Fresh parameters from `seed`: standard normals (Box–Muller over `Xoshiro256PlusPlus`) in
    /// the order C, W1, b1, W2, b2, then scaled per `init`.
    pub fn init(&mut self, seed: u64, init: Init) {
        let mut n = Normal::new(seed);
        for t in self.tensors_mut() {
            t.iter_mut().for_each(|x| *x = n.sample());
        }
        if init == Init::Scaled {
            let gain = (5.0 / 3.0) / libm::sqrtf(self.shape.input() as f32);
            self.w1.iter_mut().for_each(|w| *w *= gain);
            self.b1.iter_mut().for_each(|w| *w *= 0.01);
            self.w2.iter_mut().for_each(|w| *w *= 0.01);
            self.b2.fill(0.0);
        }
    }
}

/// A matrix over a slice whose length the view checked.
fn mat(d: &[f32], rows: usize, cols: usize) -> Mat<'_> {
    // The view checked `d.len() == rows · cols` when it was made.
    Mat::prefix(d, rows, cols).unwrap_or(Mat::row_vector(&[]))
}

/// A mutable matrix over a slice whose length the view checked.
fn mat_mut(d: &mut [f32], rows: usize, cols: usize) -> MatMut<'_> {
    match MatMut::prefix(d, rows, cols) {
        Ok(m) => m,
        // Unreachable: the view checked `d.len() == rows · cols` when it was made.
        Err(_) => MatMut::row_vector(&mut []),
    }
}

/// Parameters of a shape fixed at compile time: five arrays, no heap. `IN` must equal `B·E`
/// (stable Rust cannot compute it in a type); a wrong `IN` or an out-of-range dimension is a
/// compile error.
///
/// ```
/// use charmlp::{Init, Params};
/// let p = Params::<27, 3, 10, 30, 200>::init(42, Init::Scaled);
/// assert_eq!(p.view().shape().param_count(), 11_897);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Params<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize> {
    /// Embedding table, one row per symbol.
    pub c: [[f32; E]; V],
    /// First layer weights.
    pub w1: [[f32; H]; IN],
    /// First layer bias.
    pub b1: [f32; H],
    /// Output layer weights.
    pub w2: [[f32; V]; H],
    /// Output layer bias.
    pub b2: [f32; V],
}

/// The [`Shape`] of const parameters `V, B, E, IN, H`: a compile error unless `IN = B·E` and
/// every dimension is within [`Shape::new`]'s limits.
pub const fn const_shape<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
>() -> Shape {
    assert!(IN == B * E, "IN must equal B * E");
    match Shape::new(V, B, E, H) {
        Ok(s) => s,
        Err(_) => panic!("V, B, E or H is outside the limits of Shape::new"),
    }
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Params<V, B, E, IN, H>
{
    /// The shape (checked at compile time).
    pub const SHAPE: Shape = const_shape::<V, B, E, IN, H>();

    /// The number of scalar parameters: `V·E + IN·H + H + H·V + V`.
    pub const COUNT: usize = Self::SHAPE.param_count();

    /// All zeros.
    pub const fn zeros() -> Self {
        let _ = Self::SHAPE;
        Params {
            c: [[0.0; E]; V],
            w1: [[0.0; H]; IN],
            b1: [0.0; H],
            w2: [[0.0; V]; H],
            b2: [0.0; V],
        }
    }

    /// Fresh parameters from `seed` (see [`ParamsViewMut::init`]).
    pub fn init(seed: u64, init: Init) -> Self {
        let mut p = Self::zeros();
        p.view_mut().init(seed, init);
        p
    }

    /// A borrowed view.
    pub fn view(&self) -> ParamsView<'_> {
        ParamsView {
            shape: Self::SHAPE,
            c: Mat::from(&self.c),
            w1: Mat::from(&self.w1),
            b1: &self.b1,
            w2: Mat::from(&self.w2),
            b2: &self.b2,
        }
    }

    /// A mutable view.
    pub fn view_mut(&mut self) -> ParamsViewMut<'_> {
        ParamsViewMut {
            shape: Self::SHAPE,
            c: self.c.as_flattened_mut(),
            w1: self.w1.as_flattened_mut(),
            b1: &mut self.b1,
            w2: self.w2.as_flattened_mut(),
            b2: &mut self.b2,
        }
    }
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize> Default
    for Params<V, B, E, IN, H>
{
    fn default() -> Self {
        Self::zeros()
    }
}

/// Parameters of a shape chosen at run time: one `Vec<f32>` in file order.
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq)]
pub struct ParamsBuf {
    shape: Shape,
    data: std::vec::Vec<f32>,
}

#[cfg(feature = "std")]
impl ParamsBuf {
    /// All zeros.
    ///
    /// # Errors
    /// [`ShapeError::TooLarge`] if the memory cannot be reserved.
    pub fn zeros(shape: Shape) -> Result<Self, ShapeError> {
        Ok(ParamsBuf {
            shape,
            data: crate::alloc_zeroed(shape.param_count())?,
        })
    }

    /// Fresh parameters from `seed` (see [`ParamsViewMut::init`]).
    ///
    /// ```
    /// use charmlp::{Init, ParamsBuf, Shape};
    /// let shape = Shape::new(34, 5, 12, 180)?; // any shape, chosen at run time
    /// let p = ParamsBuf::init(shape, 42, Init::Scaled)?;
    /// assert_eq!(p.view().iter().count(), shape.param_count());
    /// assert!(p.view().all_finite());
    /// # Ok::<(), charmlp::ShapeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ParamsBuf::zeros`].
    pub fn init(shape: Shape, seed: u64, init: Init) -> Result<Self, ShapeError> {
        let mut p = Self::zeros(shape)?;
        p.view_mut().init(seed, init);
        Ok(p)
    }

    /// A copy of a view.
    ///
    /// # Errors
    /// As [`ParamsBuf::zeros`].
    pub fn from_view(v: &ParamsView<'_>) -> Result<Self, ShapeError> {
        let mut p = Self::zeros(v.shape())?;
        p.view_mut().copy_from(v)?;
        Ok(p)
    }

    /// The shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// Every parameter, in file order.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Every parameter, in file order, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// A borrowed view.
    pub fn view(&self) -> ParamsView<'_> {
        let s = self.shape;
        let [c, w1, b1, w2, b2] = split5(&s, &self.data);
        let (v, e, inp, h) = (s.vocab(), s.emb(), s.input(), s.hidden());
        ParamsView {
            shape: s,
            c: mat(c, v, e),
            w1: mat(w1, inp, h),
            b1,
            w2: mat(w2, h, v),
            b2,
        }
    }

    /// A mutable view.
    pub fn view_mut(&mut self) -> ParamsViewMut<'_> {
        let s = self.shape;
        let [_, r1, r2, r3, _] = s.tensor_ranges();
        let (c, rest) = self.data.split_at_mut(r1.start);
        let (w1, rest) = rest.split_at_mut(r1.len());
        let (b1, rest) = rest.split_at_mut(r2.len());
        let (w2, b2) = rest.split_at_mut(r3.len());
        ParamsViewMut {
            shape: s,
            c,
            w1,
            b1,
            w2,
            b2,
        }
    }
}

/// Standard normal samples by the Box–Muller transform, in f64, from `Xoshiro256PlusPlus`.
///
/// Each pair of uniforms `u1 ∈ (0, 1]`, `u2 ∈ [0, 1)` (53-bit) gives two samples
/// `√(−2 ln u1)·cos(2πu2)` and `√(−2 ln u1)·sin(2πu2)`, rounded to f32.
#[derive(Debug, Clone)]
pub struct Normal {
    rng: Xoshiro256PlusPlus,
    spare: Option<f32>,
}

impl Normal {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Normal {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            spare: None,
        }
    }

    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// The next standard normal sample.
    pub fn sample(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let t = 2.0 * core::f64::consts::PI * u2;
        self.spare = Some((r * libm::sin(t)) as f32);
        (r * libm::cos(t)) as f32
    }
}
