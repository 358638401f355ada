//! The model's parameters: `C[V][E]`, `W1[IN][H]`, `b1[H]`, `W2[H][V]`, `b2[V]`, and their
//! initialization from a seed.

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// How the parameters start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Every tensor standard normal, as in the makemore part 2 lecture.
    Randn,
    /// makemore part 3's fix: `W1 · (5/3)/√IN` (Kaiming for tanh), `b1 · 0.01`, `W2 · 0.01`,
    /// `b2 = 0`; `C` stays standard normal. The first loss is then ≈ ln V.
    Scaled,
}

impl Init {
    /// `randn` or `scaled`.
    pub const fn name(self) -> &'static str {
        match self {
            Init::Randn => "randn",
            Init::Scaled => "scaled",
        }
    }
}

/// The parameters of an MLP with vocabulary `V`, context `B`, embedding `E`, input `IN = B·E`
/// and hidden width `H`. Row-major, like the lecture's tensors.
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

/// A borrowed view of the parameters, e.g. straight out of a weights file in flash.
#[derive(Debug, Clone, Copy)]
pub struct ParamsRef<
    'a,
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
> {
    /// Embedding table.
    pub c: &'a [[f32; E]; V],
    /// First layer weights.
    pub w1: &'a [[f32; H]; IN],
    /// First layer bias.
    pub b1: &'a [f32; H],
    /// Output layer weights.
    pub w2: &'a [[f32; V]; H],
    /// Output layer bias.
    pub b2: &'a [f32; V],
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Params<V, B, E, IN, H>
{
    /// Checks `IN == B·E` at compile time.
    pub(crate) const SHAPE_OK: () = assert!(
        IN == B * E && B >= 1 && E >= 1 && H >= 1 && V >= 2 && V <= 256,
        "shapes: IN = B * E, B, E, H >= 1, 2 <= V <= 256"
    );

    /// The number of scalar parameters: `V·E + IN·H + H + H·V + V`.
    pub const COUNT: usize = V * E + IN * H + H + H * V + V;

    /// All zeros (the gradient buffers start like this).
    pub const fn zeros() -> Self {
        let () = Self::SHAPE_OK;
        Params {
            c: [[0.0; E]; V],
            w1: [[0.0; H]; IN],
            b1: [0.0; H],
            w2: [[0.0; V]; H],
            b2: [0.0; V],
        }
    }

    /// Fresh parameters drawn from `seed`: standard normals (Box–Muller over
    /// `Xoshiro256PlusPlus`) in the order C, W1, b1, W2, b2, then scaled per `init`.
    pub fn init(seed: u64, init: Init) -> Self {
        let mut p = Self::zeros();
        p.fill_normal(seed);
        if init == Init::Scaled {
            let gain = (5.0 / 3.0) / libm::sqrtf(IN as f32);
            p.w1.as_flattened_mut().iter_mut().for_each(|w| *w *= gain);
            p.b1.iter_mut().for_each(|w| *w *= 0.01);
            p.w2.as_flattened_mut().iter_mut().for_each(|w| *w *= 0.01);
            p.b2.fill(0.0);
        }
        p
    }

    /// Overwrites every parameter with standard normal samples from `seed`.
    pub fn fill_normal(&mut self, seed: u64) {
        let mut n = Normal::new(seed);
        for t in self.tensors_mut() {
            t.iter_mut().for_each(|x| *x = n.sample());
        }
    }

    /// The five tensors, flattened, in file order: C, W1, b1, W2, b2.
    pub fn tensors(&self) -> [&[f32]; 5] {
        [
            self.c.as_flattened(),
            self.w1.as_flattened(),
            &self.b1,
            self.w2.as_flattened(),
            &self.b2,
        ]
    }

    /// The five tensors, flattened and mutable, in file order.
    pub fn tensors_mut(&mut self) -> [&mut [f32]; 5] {
        [
            self.c.as_flattened_mut(),
            self.w1.as_flattened_mut(),
            &mut self.b1,
            self.w2.as_flattened_mut(),
            &mut self.b2,
        ]
    }

    /// A borrowed view.
    pub fn view(&self) -> ParamsRef<'_, V, B, E, IN, H> {
        ParamsRef {
            c: &self.c,
            w1: &self.w1,
            b1: &self.b1,
            w2: &self.w2,
            b2: &self.b2,
        }
    }

    /// Copies a borrowed view into owned parameters.
    pub fn copy_from(&mut self, r: ParamsRef<'_, V, B, E, IN, H>) {
        self.c = *r.c;
        self.w1 = *r.w1;
        self.b1 = *r.b1;
        self.w2 = *r.w2;
        self.b2 = *r.b2;
    }

    /// Whether every parameter is finite.
    pub fn all_finite(&self) -> bool {
        self.tensors()
            .iter()
            .all(|t| t.iter().all(|x| x.is_finite()))
    }
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize> Default
    for Params<V, B, E, IN, H>
{
    fn default() -> Self {
        Self::zeros()
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
