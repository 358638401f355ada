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
    seed: u64,
    /// Names started so far: name `i` draws from its own stream, [`name_seed`]`(seed, i)`.
    names: u64,
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
            rng: Xoshiro128PlusPlus::seed_from_u64(name_seed(seed, 0)),
            seed,
            names: 0,
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
        draw(k, logits, b.probs, inv_temp, &mut self.rng)
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
        self.start_name();
        let w = Window::new(self.params.shape().block());
        self.continue_from(w, 0, emit)
    }

    /// Starts the next name: its own random stream, so that name `i` of a seed is the same
    /// however names are produced (one by one here, in batches and threads by
    /// [`sample_many`]).
    fn start_name(&mut self) {
        self.rng = Xoshiro128PlusPlus::seed_from_u64(name_seed(self.seed, self.names));
        self.names += 1;
    }

    /// Skips to name `index` of the seed: the next name sampled is that one.
    pub fn seek_name(&mut self, index: u64) {
        self.names = index;
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
        self.start_name();
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
        check_text(self.vocab, text)
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
        collect_string(|each| self.sample_with(each))
    }
}

/// Sets every logit outside the `k` largest to −∞ (ties broken by lower index); `mark` (as long
/// as `logits`) is scratch.
/// The seed of name `index`'s random stream for the sampler seed `seed` (two rounds of
/// SplitMix64's finalizer, so that nearby seeds and indices give unrelated streams).
pub const fn name_seed(seed: u64, index: u64) -> u64 {
    const fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    mix(mix(seed).wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Draws a symbol from finite `logits` (`−∞` for classes that cannot be drawn): the
/// unnormalized softmax at `inv_temp` into `weights`, then `u·S` against their running sums
/// (`u` of 24 random bits from `rng`).
fn draw(
    k: Kernels,
    logits: &[f32],
    weights: &mut [f32],
    inv_temp: f32,
    rng: &mut Xoshiro128PlusPlus,
) -> Result<Index, SampleError> {
    // Equal lengths (checked when the sampler was made). The draw needs no division: the
    // unnormalized weights `e_i = exp((l_i − max)/T)` and their sum `S` (index order).
    let sum = k
        .softmax_unnormalized(logits, inv_temp, weights)
        .map_err(|_| SampleError::Context)?;
    walk(weights, sum, rng)
}

/// The draw from unnormalized weights `e` and their sum `S`: `u ∈ [0, 1)` with 24 bits,
/// scaled by `S`, then the first index where the cumulative sum exceeds it.
///
/// The weights are `≥ 0` or NaN, so the sum is finite exactly when every weight is: one test
/// of `S` stands for a test of each (a non-finite `S` also makes `u` non-finite, so the walk
/// would have reached the bad weight).
fn walk(weights: &[f32], sum: f32, rng: &mut Xoshiro128PlusPlus) -> Result<Index, SampleError> {
    let u = (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0) * sum;
    if !sum.is_finite() {
        return Err(SampleError::NonFiniteWeights);
    }
    let mut acc = 0.0f32;
    let mut last = None;
    for (i, &e) in weights.iter().enumerate() {
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

/// Names `first..first + count` of the seed `seed` — exactly what a [`Sampler`] with that seed
/// prints as its names number `first`, `first + 1`, … — computed `rows` names at a time in
/// lockstep (one batched forward pass per symbol instead of one per name), optionally with a
/// per-position table and a prefix.
///
/// With `memo`, a context's draw weights are computed once per call and reused whenever a name
/// reaches that context again (the same bits: the model is a function of the context). The
/// memo is dense over all `V^B` contexts and is used only where that fits in 16 MB (2.2 MB for
/// the canonical model); otherwise `memo` changes nothing.
///
/// ```
/// use charmlp::sample::{SampleArrays, sample_many};
/// use charmlp::{Init, Kernels, Params, SampleConfig, Sampler, Vocab};
/// let p = Params::<5, 2, 3, 6, 8>::init(1, Init::Scaled);
/// let v = Vocab::<5>::from_symbols(".abcd".chars())?;
/// let k = Kernels::best();
/// let cfg = SampleConfig::default();
/// let batched = sample_many(p.view(), v.view(), k, None, 7, cfg, "", 0, 30, 8, true)?;
/// let mut one = Sampler::new(p.view(), v.view(), k, 7, cfg, SampleArrays::<5, 6, 8>::new())?;
/// for name in &batched {
///     let mut s = String::new();
///     one.sample_with(|c| s.push(c))?;
///     assert_eq!(&s, name);
/// }
/// # Ok::<(), charmlp::Error>(())
/// ```
///
/// # Errors
/// As [`Sampler::new`] and [`Sampler::sample_prefixed`].
#[cfg(feature = "std")]
#[allow(clippy::too_many_arguments)]
pub fn sample_many(
    params: ParamsView<'_>,
    vocab: VocabView<'_>,
    kernels: Kernels,
    table: Option<TableView<'_>>,
    seed: u64,
    cfg: SampleConfig,
    prefix: &str,
    first: u64,
    count: usize,
    rows: usize,
    memo: bool,
) -> Result<std::vec::Vec<std::string::String>, SampleError> {
    use std::string::String;
    use std::vec::Vec;
    let s = params.shape();
    let (v, b, h, inp) = (s.vocab(), s.block(), s.hidden(), s.input());
    let rows = rows.clamp(1, count.max(1));
    // The single-row sampler validates the settings and the prefix, and draws nothing here.
    let mut one = Sampler::new(params, vocab, kernels, seed, cfg, SampleVecs::new(s))?;
    if let Some(t) = table {
        one = one.with_table(t)?;
    }
    one.check_text(prefix)?;
    let prefix: Vec<Index> = prefix
        .chars()
        .map(|c| one.encode(c))
        .collect::<Result<_, _>>()?;
    let used = vocab.len();
    struct Row {
        name: u64,
        w: Window,
        rng: Xoshiro128PlusPlus,
        out: String,
        len: usize,
    }
    let start = |name: u64, one: &Sampler<'_, SampleVecs>| -> Result<Row, SampleError> {
        let mut r = Row {
            name,
            w: Window::new(b),
            rng: Xoshiro128PlusPlus::seed_from_u64(name_seed(seed, name)),
            out: String::new(),
            len: 0,
        };
        for &ix in prefix.iter().take(cfg.max_len) {
            r.out.push(
                one.vocab
                    .decode(ix)
                    .map_err(|_| SampleError::NonFiniteWeights)?,
            );
            r.w.push(ix);
            r.len += 1;
        }
        Ok(r)
    };
    let mut done: Vec<Option<String>> = (0..count).map(|_| None).collect();
    let mut next = 0usize;
    let mut live: Vec<Row> = Vec::with_capacity(rows);
    let (mut ctx, mut emb) = (
        std::vec![0 as Index; rows * b],
        std::vec![0.0f32; rows * inp],
    );
    let (mut hid, mut logits) = (std::vec![0.0f32; rows * h], std::vec![0.0f32; rows * v]);
    let mut weights = std::vec![0.0f32; v];
    // The unnormalized softmax and its sum of each context computed this symbol (compacted:
    // row `i` of the batch reads slot `src[i]`, or the memo when `src[i] == MEMO`).
    let (mut probs, mut sums) = (std::vec![0.0f32; rows * v], std::vec![0.0f32; rows]);
    let mut memo = if memo {
        ContextMemo::<f32>::new(v, b, v)
    } else {
        None
    };
    const MEMO: usize = usize::MAX;
    let (mut key, mut src) = (std::vec![0usize; rows], std::vec![0usize; rows]);
    let top_k = one.top_k;
    loop {
        // Fill the free rows with the next names (finishing at once those already at max_len).
        while live.len() < rows && next < count {
            let r = start(first + next as u64, &one)?;
            next += 1;
            if r.len >= cfg.max_len {
                done[(r.name - first) as usize] = Some(r.out);
            } else {
                live.push(r);
            }
        }
        if live.is_empty() {
            break;
        }
        // The contexts to compute: those the memo does not have yet (all, without a memo).
        let mut m = 0;
        for (i, r) in live.iter().enumerate() {
            let c = r.w.ctx();
            if let Some(mm) = &memo {
                key[i] = mm.key(c);
                if mm.get(key[i]).is_some() {
                    src[i] = MEMO;
                    continue;
                }
            }
            ctx[m * b..(m + 1) * b].copy_from_slice(c);
            src[i] = m;
            m += 1;
        }
        if m > 0 {
            match table {
                Some(t) => {
                    // As `forward_table`, row by row for the sums, then tanh and layer 2 over the
                    // whole batch (the same operations on each element).
                    let bad = |_| SampleError::Context;
                    for i in 0..m {
                        let hi = &mut hid[i * h..(i + 1) * h];
                        for (pos, &c) in ctx[i * b..(i + 1) * b].iter().enumerate() {
                            let row = t.row(pos, usize::from(c)).ok_or(SampleError::Context)?;
                            if pos == 0 {
                                kernels.add(params.b1(), row, hi).map_err(bad)?;
                            } else {
                                kernels.add_assign(hi, row).map_err(bad)?;
                            }
                        }
                    }
                    kernels.tanh(&mut hid[..m * h]);
                    kernels
                        .linear(
                            Mat::new(&hid[..m * h], m, h).map_err(bad)?,
                            params.w2(),
                            params.b2(),
                            charmlp_kernels::MatMut::new(&mut logits[..m * v], m, v)
                                .map_err(bad)?,
                        )
                        .map_err(bad)?;
                }
                None => {
                    forward(
                        kernels,
                        &params,
                        &ctx[..m * b],
                        Activations {
                            emb: &mut emb,
                            h: &mut hid,
                            logits: &mut logits,
                        },
                    )
                    .map_err(|_| SampleError::Context)?;
                }
            }
            for row in logits[..m * v].chunks_exact_mut(v) {
                // A fold without an early exit, so that it vectorizes.
                if row[..used]
                    .iter()
                    .fold(false, |bad, l| bad | !l.is_finite())
                {
                    return Err(SampleError::NonFiniteWeights);
                }
                row[used..].fill(f32::NEG_INFINITY);
                if top_k < used {
                    keep_top_k(row, top_k, &mut weights);
                }
            }
            // The bits of `draw`'s softmax row by row (`softmax_unnormalized_rows`).
            let bad = |_| SampleError::Context;
            kernels
                .softmax_unnormalized_rows(
                    Mat::new(&logits[..m * v], m, v).map_err(bad)?,
                    one.inv_temp,
                    charmlp_kernels::MatMut::new(&mut probs[..m * v], m, v).map_err(bad)?,
                    &mut sums[..m],
                )
                .map_err(bad)?;
            if let Some(mm) = &mut memo {
                for (&k, &j) in key.iter().zip(&src).take(live.len()) {
                    if j != MEMO {
                        mm.store(k, &probs[j * v..(j + 1) * v], sums[j]);
                    }
                }
            }
        }
        let mut i = 0;
        while i < live.len() {
            let r = &mut live[i];
            let (w, sum) = match (&memo, src[i]) {
                (Some(mm), MEMO) => mm.get(key[i]).ok_or(SampleError::Context)?,
                (_, j) => (&probs[j * v..(j + 1) * v], sums[j]),
            };
            let ix = walk(w, sum, &mut r.rng)?;
            let finished = if ix == 0 {
                true
            } else {
                r.out.push(
                    one.vocab
                        .decode(ix)
                        .map_err(|_| SampleError::NonFiniteWeights)?,
                );
                r.w.push(ix);
                r.len += 1;
                r.len >= cfg.max_len
            };
            if finished {
                let r = live.swap_remove(i);
                // The row that moved into slot `i` takes its weights' place along.
                let moved = live.len();
                if i < moved {
                    (key[i], src[i]) = (key[moved], src[moved]);
                }
                done[(r.name - first) as usize] = Some(r.out);
            } else {
                i += 1;
            }
        }
    }
    Ok(done.into_iter().map(Option::unwrap_or_default).collect())
}

/// The draw weights (after the temperature and the top-k mask) and their sum of every context
/// one batched call has computed ([`sample_many`], [`crate::int8::QuantSampler::names_prefixed`]):
/// the model is a function of the context, so a context seen again (every name's first one,
/// common prefixes) needs no forward pass — the same bits as computing it. Dense, indexed by the
/// context read as a number in base `V`, and only when all `V^B` contexts fit in
/// [`ContextMemo::MAX_BYTES`] (2.2 MB for the canonical model); allocated zeroed, so the pages
/// of contexts never seen are never touched. A stored sum is never 0 (the largest logit's
/// weight is `e⁰ = 1`, or `2¹⁵` in Q15, and the top-k mask keeps it; a NaN sum is not 0
/// either), so a sum of 0 marks a context not stored yet.
#[cfg(feature = "std")]
pub(crate) struct ContextMemo<T> {
    v: usize,
    width: usize,
    weights: std::vec::Vec<T>,
    sums: std::vec::Vec<T>,
}

#[cfg(feature = "std")]
impl<T: Copy + Default + PartialEq> ContextMemo<T> {
    /// The largest memo, in bytes: the weights and sum of every context.
    pub(crate) const MAX_BYTES: usize = 16 << 20;

    /// A memo for `V^b` contexts of `width` weights each, or `None` if it would not fit.
    pub(crate) fn new(v: usize, b: usize, width: usize) -> Option<Self> {
        let n = v.checked_pow(u32::try_from(b).ok()?)?;
        let bytes = n.checked_mul(size_of::<T>() * (width + 1))?;
        (bytes <= Self::MAX_BYTES).then(|| ContextMemo {
            v,
            width,
            weights: std::vec![T::default(); n * width],
            sums: std::vec![T::default(); n],
        })
    }

    /// The context's index: `((c₀·V + c₁)·V + …)`.
    pub(crate) fn key(&self, ctx: &[Index]) -> usize {
        ctx.iter().fold(0, |k, &c| k * self.v + usize::from(c))
    }

    /// The weights and sum stored for context `k`, if any.
    pub(crate) fn get(&self, k: usize) -> Option<(&[T], T)> {
        let sum = self.sums[k];
        (sum != T::default()).then(|| (&self.weights[k * self.width..(k + 1) * self.width], sum))
    }

    /// Stores context `k`'s weights (`width` of them) and sum (never 0, see the type).
    pub(crate) fn store(&mut self, k: usize, w: &[T], sum: T) {
        debug_assert!(
            sum != T::default(),
            "a draw's weights sum to at least the largest, 1"
        );
        self.weights[k * self.width..(k + 1) * self.width].copy_from_slice(w);
        self.sums[k] = sum;
    }
}

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

/// Every character of `text` is a symbol of `vocab` other than the end marker.
pub(crate) fn check_text(vocab: VocabView<'_>, text: &str) -> Result<(), SampleError> {
    match text.chars().find(|&c| c == '.' || vocab.encode(c).is_err()) {
        Some(c) => Err(SampleError::Symbol(c)),
        None => Ok(()),
    }
}

/// The name `sample` passes to its callback, in a fixed-capacity string of `N` bytes (UTF-8):
/// [`SampleError::BufferFull`] if it does not fit.
pub(crate) fn collect_string<const N: usize>(
    sample: impl FnOnce(&mut dyn FnMut(char)) -> Result<usize, SampleError>,
) -> Result<heapless::String<N>, SampleError> {
    let mut s = heapless::String::new();
    let mut full = false;
    sample(&mut |c| full |= s.push(c).is_err())?;
    if full {
        Err(SampleError::BufferFull)
    } else {
        Ok(s)
    }
}

/// The last `B` symbols of a name being sampled or scored, `.` before its start.
///
/// The context is the window `hist[at..at + b]`; it slides right as symbols are pushed and jumps
/// back to the front when it reaches the end (a copy every `2·MAX_BLOCK − b` symbols instead of
/// a shift per symbol, which compiles to a `memmove` call).
pub(crate) struct Window {
    hist: [Index; 2 * Shape::MAX_BLOCK],
    at: usize,
    b: usize,
}

impl Window {
    /// `b ≤ Shape::MAX_BLOCK` (a shape's block).
    pub(crate) fn new(b: usize) -> Window {
        Window {
            hist: [0; 2 * Shape::MAX_BLOCK],
            at: 0,
            b: b.min(Shape::MAX_BLOCK),
        }
    }

    pub(crate) fn ctx(&self) -> &[Index] {
        &self.hist[self.at..self.at + self.b]
    }

    pub(crate) fn push(&mut self, ix: Index) {
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
