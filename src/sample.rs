//! Sampling names: one forward row per character, softmax with temperature, optional top-k,
//! a draw from `Xoshiro128PlusPlus` — no heap, the same names on every target for a seed when
//! the scalar kernels run.
//!
//! [`Sampler`] is written once over its scratch buffers ([`SampleBufs`]); the storage is up to
//! the owner: [`SampleArrays<V, IN, H>`](SampleArrays) (fixed-size arrays, firmware),
//! `SampleVecs` (feature `std`, any shape), or caller-owned slices. A sampler owns its storage or
//! borrows it (`&mut storage`: firmware keeps the scratch in one place instead of moving it).

use charmlp_kernels::{Index, Kernels, Mat};
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro128PlusPlus;

use crate::error::SampleError;
use crate::forward::{Activations, forward, forward_table};
use crate::params::ParamsView;
use crate::shape::{Shape, ShapeError};
use crate::table::TableView;
use crate::vocab::VocabView;

/// Sampling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleConfig {
    /// Softmax temperature, finite and > 0 (1 = the model's distribution).
    pub temperature: f32,
    /// Keep only the `k` most likely symbols (`None`: all).
    pub top_k: Option<usize>,
    /// Stop a name after this many characters even if `.` was not drawn.
    pub max_len: usize,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            temperature: 1.0,
            top_k: None,
            max_len: 64,
        }
    }
}

/// The sampler's scratch for one forward row: `emb` (`IN` floats), `h` (`H`), `logits` and
/// `probs` (`V` each).
#[derive(Debug)]
pub struct SampleBufs<'a> {
    /// The concatenated embeddings of the context.
    pub emb: &'a mut [f32],
    /// The hidden layer.
    pub h: &'a mut [f32],
    /// The logits.
    pub logits: &'a mut [f32],
    /// The probabilities (and the top-k mask before them).
    pub probs: &'a mut [f32],
}

impl SampleBufs<'_> {
    /// Checks the lengths against `shape`.
    fn check(&self, shape: &Shape) -> Result<(), ShapeError> {
        Shape::check_len("emb", shape.input(), self.emb.len())?;
        Shape::check_len("h", shape.hidden(), self.h.len())?;
        Shape::check_len("logits", shape.vocab(), self.logits.len())?;
        Shape::check_len("probs", shape.vocab(), self.probs.len())
    }
}

/// Storage for a [`Sampler`]'s scratch.
pub trait SampleStorage {
    /// The buffers.
    fn bufs(&mut self) -> SampleBufs<'_>;
}

impl<T: SampleStorage + ?Sized> SampleStorage for &mut T {
    fn bufs(&mut self) -> SampleBufs<'_> {
        (**self).bufs()
    }
}

impl SampleStorage for SampleBufs<'_> {
    fn bufs(&mut self) -> SampleBufs<'_> {
        SampleBufs {
            emb: &mut *self.emb,
            h: &mut *self.h,
            logits: &mut *self.logits,
            probs: &mut *self.probs,
        }
    }
}

/// A sampler's scratch in fixed-size arrays, for a shape with `V` symbols, input `IN` and
/// hidden width `H` (no heap).
#[derive(Debug, Clone)]
pub struct SampleArrays<const V: usize, const IN: usize, const H: usize> {
    emb: [f32; IN],
    h: [f32; H],
    logits: [f32; V],
    probs: [f32; V],
}

impl<const V: usize, const IN: usize, const H: usize> SampleArrays<V, IN, H> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        SampleArrays {
            emb: [0.0; IN],
            h: [0.0; H],
            logits: [0.0; V],
            probs: [0.0; V],
        }
    }
}

impl<const V: usize, const IN: usize, const H: usize> Default for SampleArrays<V, IN, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const V: usize, const IN: usize, const H: usize> SampleStorage for SampleArrays<V, IN, H> {
    fn bufs(&mut self) -> SampleBufs<'_> {
        SampleBufs {
            emb: &mut self.emb,
            h: &mut self.h,
            logits: &mut self.logits,
            probs: &mut self.probs,
        }
    }
}

/// A sampler's scratch sized at run time (feature `std`).
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct SampleVecs {
    emb: std::vec::Vec<f32>,
    h: std::vec::Vec<f32>,
    logits: std::vec::Vec<f32>,
    probs: std::vec::Vec<f32>,
}

#[cfg(feature = "std")]
impl SampleVecs {
    /// Zeroed buffers for `shape`.
    pub fn new(shape: Shape) -> Self {
        SampleVecs {
            emb: std::vec![0.0; shape.input()],
            h: std::vec![0.0; shape.hidden()],
            logits: std::vec![0.0; shape.vocab()],
            probs: std::vec![0.0; shape.vocab()],
        }
    }
}

#[cfg(feature = "std")]
impl SampleStorage for SampleVecs {
    fn bufs(&mut self) -> SampleBufs<'_> {
        SampleBufs {
            emb: &mut self.emb,
            h: &mut self.h,
            logits: &mut self.logits,
            probs: &mut self.probs,
        }
    }
}

/// Draws names from a model.
#[derive(Debug, Clone)]
pub struct Sampler<'a, S> {
    params: ParamsView<'a>,
    vocab: VocabView<'a>,
    kernels: Kernels,
    rng: Xoshiro128PlusPlus,
    inv_temp: f32,
    top_k: usize,
    max_len: usize,
    store: S,
    table: Option<TableView<'a>>,
}

impl<'a, S: SampleStorage> Sampler<'a, S> {
    /// A sampler seeded with `seed`, running `kernels` (use [`Kernels::scalar`] for results
    /// that are bit-identical across targets), with scratch `store`.
    ///
    /// # Errors
    /// [`SampleError::BadTemperature`], [`SampleError::BadTopK`], [`SampleError::Shape`] if the
    /// scratch does not fit the parameters' shape or the vocabulary has more symbols than the
    /// model has classes.
    pub fn new(
        params: ParamsView<'a>,
        vocab: VocabView<'a>,
        kernels: Kernels,
        seed: u64,
        cfg: SampleConfig,
        mut store: S,
    ) -> Result<Self, SampleError> {
        let shape = params.shape();
        store.bufs().check(&shape).map_err(SampleError::Shape)?;
        if vocab.len() > shape.vocab() {
            return Err(SampleError::Shape(ShapeError::Length {
                what: "vocabulary",
                expected: shape.vocab(),
                found: vocab.len(),
            }));
        }
        let t = cfg.temperature;
        if !t.is_finite() || t <= 0.0 || !(1.0 / t).is_finite() {
            return Err(SampleError::BadTemperature(t));
        }
        let top_k = match cfg.top_k {
            Some(0) => return Err(SampleError::BadTopK),
            Some(k) => k.min(vocab.len()),
            None => vocab.len(),
        };
        Ok(Sampler {
            params,
            vocab,
            kernels,
            rng: Xoshiro128PlusPlus::seed_from_u64(seed),
            inv_temp: 1.0 / t,
            top_k,
            max_len: cfg.max_len,
            store,
            table: None,
        })
    }

    /// Computes layer 1 from `table` (see [`crate::table`]): the same bits as without it, with
    /// `B·E·H` fewer multiply-adds per symbol.
    ///
    /// # Errors
    /// [`SampleError::TableShape`] if the table belongs to another shape.
    pub fn with_table(mut self, table: TableView<'a>) -> Result<Self, SampleError> {
        if table.shape() != self.params.shape() {
            return Err(SampleError::TableShape);
        }
        self.table = Some(table);
        Ok(self)
    }

    /// The logits after `ctx` into the scratch: finite for the vocabulary's symbols (checked),
    /// `−∞` for spare classes beyond it (never drawn, no probability).
    fn forward_logits(&mut self, ctx: &[Index]) -> Result<(), SampleError> {
        let used = self.vocab.len();
        let k = self.kernels;
        let b = self.store.bufs();
        if ctx.len() != self.params.shape().block() {
            return Err(SampleError::Context);
        }
        match self.table {
            Some(t) => forward_table(k, &self.params, &t, ctx, b.h, &mut *b.logits),
            None => forward(
                k,
                &self.params,
                ctx,
                Activations {
                    emb: b.emb,
                    h: b.h,
                    logits: &mut *b.logits,
                },
            )
            .map(|_| ()),
        }
        .map_err(|_| SampleError::Context)?;
        let logits = b.logits;
        // Checked before top-k, which would otherwise drop a NaN logit silently.
        if !logits[..used].iter().all(|l| l.is_finite()) {
            return Err(SampleError::NonFiniteWeights);
        }
        logits[used..].fill(f32::NEG_INFINITY);
        Ok(())
    }

    /// The index of the next symbol after `ctx` (`B` indices).
    ///
    /// # Errors
    /// [`SampleError::NonFiniteWeights`] if the probabilities are not finite,
    /// [`SampleError::Context`] if `ctx` is not `B` indices below `V`.
    pub fn next_index(&mut self, ctx: &[Index]) -> Result<Index, SampleError> {
        self.forward_logits(ctx)?;
        let used = self.vocab.len();
        let top_k = self.top_k;
        let inv_temp = self.inv_temp;
        let k = self.kernels;
        let b = self.store.bufs();
        let logits = b.logits;
        if top_k < used {
            keep_top_k(logits, top_k, b.probs);
        }
        let weights = b.probs;
        // Equal lengths (checked when the sampler was made). The draw needs no division: the
        // unnormalized weights `e_i = exp((l_i − max)/T)` and their sum `S` (index order).
        let sum = k
            .softmax_unnormalized(logits, inv_temp, weights)
            .map_err(|_| SampleError::Context)?;
        // Draw u ∈ [0, 1) with 24 bits, scale it by S, then walk the cumulative sum.
        let u = (self.rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0) * sum;
        let mut acc = 0.0f32;
        let mut last = None;
        for (i, &e) in weights.iter().enumerate() {
            if !e.is_finite() {
                return Err(SampleError::NonFiniteWeights);
            }
            if e > 0.0 {
                acc += e;
                last = Some(i);
                if u < acc {
                    return Ok(i as Index);
                }
            }
        }
        // Rounding left the sum just below u: take the last symbol with mass.
        last.map(|i| i as Index)
            .ok_or(SampleError::NonFiniteWeights)
    }

    /// Samples one name and calls `emit` with each character; returns the number of characters.
    ///
    /// ```
    /// use charmlp::{Init, Kernels, Params, SampleConfig, Sampler, Vocab};
    /// use charmlp::sample::SampleArrays;
    ///
    /// let params = Params::<5, 2, 3, 6, 8>::init(1, Init::Scaled);
    /// let vocab = Vocab::<5>::from_symbols(".abcd".chars())?;
    /// let mut s = Sampler::new(params.view(), vocab.view(), Kernels::best(), 42,
    ///                          SampleConfig::default(), SampleArrays::<5, 6, 8>::new())?;
    /// let mut name = String::new();
    /// let n = s.sample_with(|c| name.push(c))?;
    /// assert_eq!(name.chars().count(), n);
    /// assert!(name.chars().all(|c| "abcd".contains(c)));
    /// # Ok::<(), charmlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Sampler::next_index`].
    pub fn sample_with(&mut self, emit: impl FnMut(char)) -> Result<usize, SampleError> {
        let w = Window::new(self.params.shape().block());
        self.continue_from(w, 0, emit)
    }

    /// Samples one name that starts with `prefix` (the candle convention: `emit` gets the
    /// prefix's characters, then the continuation); returns the number of characters, the
    /// prefix's included. `max_len` counts the whole name.
    ///
    /// ```
    /// # use charmlp::{Init, Kernels, Params, SampleConfig, Sampler, Vocab};
    /// # use charmlp::sample::SampleArrays;
    /// # let params = Params::<5, 2, 3, 6, 8>::init(1, Init::Scaled);
    /// # let vocab = Vocab::<5>::from_symbols(".abcd".chars())?;
    /// # let mut s = Sampler::new(params.view(), vocab.view(), Kernels::best(), 42,
    /// #                          SampleConfig::default(), SampleArrays::<5, 6, 8>::new())?;
    /// let mut name = String::new();
    /// s.sample_prefixed("ab", |c| name.push(c))?;
    /// assert!(name.starts_with("ab"));
    /// assert_eq!(s.sample_prefixed("ax", |_| {}), Err(charmlp::SampleError::Symbol('x')));
    /// # Ok::<(), charmlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`SampleError::Symbol`] (before anything is emitted) for a character of `prefix` that is
    /// not in the vocabulary or is `.`, and those of [`Sampler::next_index`].
    pub fn sample_prefixed(
        &mut self,
        prefix: &str,
        mut emit: impl FnMut(char),
    ) -> Result<usize, SampleError> {
        self.check_text(prefix)?;
        let mut w = Window::new(self.params.shape().block());
        let mut n = 0;
        for c in prefix.chars() {
            if n == self.max_len {
                break;
            }
            emit(c);
            w.push(self.encode(c)?);
            n += 1;
        }
        self.continue_from(w, n, emit)
    }

    /// The natural-log likelihood of the name `text` under the model — each character given the
    /// ones before it, then the end marker given the whole name — as `(character, log p)` pairs
    /// to `each` (the end marker as `.`), and their sum. Temperature and top-k do not apply; no
    /// random numbers are drawn.
    ///
    /// ```
    /// # use charmlp::{Init, Kernels, Params, SampleConfig, Sampler, Vocab};
    /// # use charmlp::sample::SampleArrays;
    /// # let params = Params::<5, 2, 3, 6, 8>::init(1, Init::Scaled);
    /// # let vocab = Vocab::<5>::from_symbols(".abcd".chars())?;
    /// # let mut s = Sampler::new(params.view(), vocab.view(), Kernels::best(), 42,
    /// #                          SampleConfig::default(), SampleArrays::<5, 6, 8>::new())?;
    /// let mut per_symbol = 0;
    /// let total = s.score_with("abba", |_, lp| { assert!(lp <= 0.0); per_symbol += 1 })?;
    /// assert_eq!(per_symbol, 5); // a, b, b, a, then the end
    /// assert!(total < 0.0);
    /// # Ok::<(), charmlp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`SampleError::Symbol`] for a character that is not in the vocabulary or is `.`,
    /// [`SampleError::NonFiniteWeights`] if the weights give a non-finite logit.
    pub fn score_with(
        &mut self,
        text: &str,
        mut each: impl FnMut(char, f32),
    ) -> Result<f32, SampleError> {
        self.check_text(text)?;
        let v = self.params.shape().vocab();
        let mut w = Window::new(self.params.shape().block());
        let mut total = 0.0f32;
        for c in text.chars().chain(core::iter::once('.')) {
            let ix = self.encode(c)?;
            self.forward_logits(w.ctx())?;
            let logits =
                Mat::new(&self.store.bufs().logits[..v], 1, v).map_err(|_| SampleError::Context)?;
            // −log p(c) by the stable log-softmax of the kernels (spare classes are −∞).
            let nll = self
                .kernels
                .cross_entropy(logits, &[ix], None)
                .map_err(|_| SampleError::Context)?;
            each(c, -nll);
            total += -nll;
            w.push(ix);
        }
        Ok(total)
    }

    /// Every character of `text` is a symbol of the vocabulary other than the end marker.
    fn check_text(&self, text: &str) -> Result<(), SampleError> {
        match text
            .chars()
            .find(|&c| c == '.' || self.vocab.encode(c).is_err())
        {
            Some(c) => Err(SampleError::Symbol(c)),
            None => Ok(()),
        }
    }

    fn encode(&self, c: char) -> Result<Index, SampleError> {
        self.vocab.encode(c).map_err(|_| SampleError::Symbol(c))
    }

    /// Draws symbols after the context `w` until the end marker or `max_len` characters (`n`
    /// emitted already); returns the characters in all.
    fn continue_from(
        &mut self,
        mut w: Window,
        mut n: usize,
        mut emit: impl FnMut(char),
    ) -> Result<usize, SampleError> {
        while n < self.max_len {
            let ix = self.next_index(w.ctx())?;
            if ix == 0 {
                break;
            }
            // Indices below the vocabulary length always decode.
            emit(
                self.vocab
                    .decode(ix)
                    .map_err(|_| SampleError::NonFiniteWeights)?,
            );
            n += 1;
            w.push(ix);
        }
        Ok(n)
    }

    /// Samples one name into a fixed-capacity string of `N` bytes (UTF-8).
    ///
    /// # Errors
    /// [`SampleError::BufferFull`] if the name does not fit in `N` bytes, and those of
    /// [`Sampler::next_index`].
    pub fn sample_string<const N: usize>(&mut self) -> Result<heapless::String<N>, SampleError> {
        let mut s = heapless::String::new();
        let mut full = false;
        self.sample_with(|c| full |= s.push(c).is_err())?;
        if full {
            Err(SampleError::BufferFull)
        } else {
            Ok(s)
        }
    }
}

/// Sets every logit outside the `k` largest to −∞ (ties broken by lower index); `mark` (as long
/// as `logits`) is scratch.
fn keep_top_k(logits: &mut [f32], k: usize, mark: &mut [f32]) {
    mark.fill(0.0);
    for _ in 0..k {
        let mut best: Option<usize> = None;
        for (i, &l) in logits.iter().enumerate() {
            if mark[i] == 0.0 && l > f32::NEG_INFINITY && best.is_none_or(|b| l > logits[b]) {
                best = Some(i);
            }
        }
        match best {
            Some(b) => mark[b] = 1.0,
            None => break,
        }
    }
    for (l, &m) in logits.iter_mut().zip(mark.iter()) {
        if m == 0.0 {
            *l = f32::NEG_INFINITY;
        }
    }
}

/// The last `B` symbols of a name being sampled or scored, `.` before its start.
///
/// The context is the window `hist[at..at + b]`; it slides right as symbols are pushed and jumps
/// back to the front when it reaches the end (a copy every `2·MAX_BLOCK − b` symbols instead of
/// a shift per symbol, which compiles to a `memmove` call).
struct Window {
    hist: [Index; 2 * Shape::MAX_BLOCK],
    at: usize,
    b: usize,
}

impl Window {
    /// `b ≤ Shape::MAX_BLOCK` (a shape's block).
    fn new(b: usize) -> Window {
        Window {
            hist: [0; 2 * Shape::MAX_BLOCK],
            at: 0,
            b: b.min(Shape::MAX_BLOCK),
        }
    }

    fn ctx(&self) -> &[Index] {
        &self.hist[self.at..self.at + self.b]
    }

    fn push(&mut self, ix: Index) {
        let (b, cap) = (self.b, self.hist.len());
        if self.at + b == cap {
            // The window lies in the back half (b ≤ MAX_BLOCK): copy it to the front.
            let (front, back) = self.hist.split_at_mut(Shape::MAX_BLOCK);
            let from = self.at - Shape::MAX_BLOCK;
            front[..b].copy_from_slice(&back[from..from + b]);
            self.at = 0;
        }
        self.hist[self.at + b] = ix;
        self.at += 1;
    }
}
