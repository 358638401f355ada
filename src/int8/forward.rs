//! The int8 forward pass and sampler: integers only (one float operation per sampler, to turn
//! the temperature into a multiplier), identical on every target and path.

use charmlp_kernels::{Index, Kernels};
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro128PlusPlus;

use super::arith::{TANH_LUT, TANH_MAX, inv_temperature_q16, logit, pick, weight_q15};
use super::file::QuantView;
use crate::error::SampleError;
#[cfg(feature = "std")]
use crate::sample::ContextMemo;
use crate::sample::{SampleConfig, Window, check_text, collect_string, name_seed};
use crate::shape::{Shape, ShapeError};
use crate::vocab::VocabView;

/// The scratch of one int8 forward pass and draw, borrowed: `x` (`B·E`), `h` (`H`), `z` (`V`),
/// `w` (`V`). (Layer 1's int32 sums live on the stack, [`UNITS`] at a time.)
#[derive(Debug)]
pub struct QuantScratch<'a> {
    /// The concatenated embeddings.
    pub x: &'a mut [i8],
    /// The hidden units.
    pub h: &'a mut [i8],
    /// Layer 2's int32 sums, then the logits in units of 1/64 nat.
    pub z: &'a mut [i32],
    /// The draw's Q15 weights.
    pub w: &'a mut [u32],
}

impl QuantScratch<'_> {
    fn check(&self, s: Shape) -> Result<(), ShapeError> {
        Shape::check_len("x (B·E)", s.input(), self.x.len())?;
        Shape::check_len("h (H)", s.hidden(), self.h.len())?;
        Shape::check_len("z (V)", s.vocab(), self.z.len())?;
        Shape::check_len("w (V)", s.vocab(), self.w.len())
    }
}

/// Fixed-size scratch for an int8 model with `V` classes, `IN = B·E` inputs and `H` hidden
/// units: a `const fn` constructor, for a `static`.
#[derive(Debug, Clone)]
pub struct QuantArrays<const V: usize, const IN: usize, const H: usize> {
    x: [i8; IN],
    h: [i8; H],
    z: [i32; V],
    w: [u32; V],
}

impl<const V: usize, const IN: usize, const H: usize> QuantArrays<V, IN, H> {
    /// Zeroed scratch.
    pub const fn new() -> Self {
        QuantArrays {
            x: [0; IN],
            h: [0; H],
            z: [0; V],
            w: [0; V],
        }
    }

    /// The borrowed buffers.
    pub fn view(&mut self) -> QuantScratch<'_> {
        QuantScratch {
            x: &mut self.x,
            h: &mut self.h,
            z: &mut self.z,
            w: &mut self.w,
        }
    }
}

impl<const V: usize, const IN: usize, const H: usize> Default for QuantArrays<V, IN, H> {
    fn default() -> Self {
        Self::new()
    }
}

/// Heap scratch for any shape (feature `std`).
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct QuantVecs {
    x: std::vec::Vec<i8>,
    h: std::vec::Vec<i8>,
    z: std::vec::Vec<i32>,
    w: std::vec::Vec<u32>,
}

#[cfg(feature = "std")]
impl QuantVecs {
    /// Zeroed scratch for `s`.
    pub fn new(s: Shape) -> Self {
        QuantVecs {
            x: std::vec![0; s.input()],
            h: std::vec![0; s.hidden()],
            z: std::vec![0; s.vocab()],
            w: std::vec![0; s.vocab()],
        }
    }

    /// The borrowed buffers.
    pub fn view(&mut self) -> QuantScratch<'_> {
        QuantScratch {
            x: &mut self.x,
            h: &mut self.h,
            z: &mut self.z,
            w: &mut self.w,
        }
    }
}

/// The logits (units of 1/64 nat) of the context `ctx` into `s.z`:
///
/// ```text
/// x   = C[ctx₀] ‖ C[ctx₁] ‖ …                                   (int8)
/// h_j = tanh_lut(clamp((b1_j + Σᵢ xᵢ·W1ᵀ_ji)·m1_j ≫ s1, ±512))    (int8, ≫ rounds half up)
/// z_k = clamp((b2_k + Σ_j h_j·W2ᵀ_kj)·m2_k ≫ s2, ±2²⁴)             (int32)
/// ```
///
/// # Errors
/// [`SampleError::Shape`] for scratch of another shape, [`SampleError::Context`] for a context
/// that is not `B` indices below `V`.
pub fn logits(
    k: Kernels,
    m: &QuantView<'_>,
    ctx: &[Index],
    s: &mut QuantScratch<'_>,
) -> Result<(), SampleError> {
    logits_with(k, m, None, ctx, s)
}

/// Hidden units per pass of layer 1 (a multiple of 3, 4 and 8: the kernels' row blocks and
/// lanes), whose int32 sums are on the stack: 48 (192 B) on 32-bit targets, the
/// microcontrollers; 240 on 64-bit hosts, where fewer passes are faster (one for `H ≤ 240`).
/// The chunking does not change the result (integer sums).
pub const UNITS: usize = if cfg!(target_pointer_width = "64") {
    240
} else {
    48
};

/// The length of an int8 model's per-position layer-1 table: `B·V·H` int32.
pub const fn table_len(s: Shape) -> usize {
    s.block() * s.vocab() * s.hidden()
}

/// Fills `table` with the int8 model's per-position layer-1 sums,
/// `T[pos][c][j] = [pos = 0]·b1_j + Σ_e C[c][e]·W1ᵀ[j][pos·E + e]` (int32, wrapping; the bias in
/// position 0's rows): layer 1 is then `T[0][ctx₀] + T[1][ctx₁] + …` — the same integers as
/// the bias plus the matrix-vector product, because integer sums do not depend on their order
/// ([`logits_with`]). For a host that samples many names (64.8 KB for the canonical model).
///
/// # Errors
/// [`SampleError::Shape`] unless `table` has [`table_len`] values.
pub fn compute_table(m: &QuantView<'_>, table: &mut [i32]) -> Result<(), SampleError> {
    let s = m.shape();
    Shape::check_len("int8 table (B·V·H)", table_len(s), table.len())
        .map_err(SampleError::Shape)?;
    let (v, h) = (s.vocab(), s.hidden());
    for (pc, out) in table.chunks_exact_mut(h).enumerate() {
        for (j, t) in out.iter_mut().enumerate() {
            *t = table_entry(m, pc / v, pc % v, j);
        }
    }
    Ok(())
}

/// [`compute_table`] as a `const fn`, into an array of `N` = [`table_len`] values: the same
/// integers, computed at compile time when it initializes a `static` — how firmware bakes the
/// table into flash ([`super::BakedInt8::table`]), with no table file to keep in step with the
/// weights.
///
/// # Panics
/// If `N` is not [`table_len`]`(m.shape())` (in a `static` initializer: a compile error).
pub const fn table_array<const N: usize>(m: &QuantView<'_>) -> [i32; N] {
    let s = m.shape();
    if N != table_len(s) {
        panic!("an int8 table holds B·V·H values (table_len): the array has another length");
    }
    let (v, h) = (s.vocab(), s.hidden());
    let mut t = [0i32; N];
    let mut at = 0;
    while at < N {
        t[at] = table_entry(m, at / (v * h), at / h % v, at % h);
        at += 1;
    }
    t
}

/// The table's entry `T[pos][c][j] = [pos = 0]·b1_j + Σ_e C[c][e]·W1ᵀ[j][pos·E + e]`, the one
/// definition behind [`compute_table`] and [`table_array`] (a `const fn`, from the file's bytes):
/// summed in i64 (no overflow: at most 2³¹ + E·2¹⁴), then truncated — the wrapping int32 sum.
const fn table_entry(m: &QuantView<'_>, pos: usize, c: usize, j: usize) -> i32 {
    let s = m.shape();
    let (e, inp) = (s.emb(), s.input());
    let (l, b) = (m.layout(), m.bytes());
    let mut acc = if pos == 0 {
        let q = l.b1 + 4 * j;
        i32::from_le_bytes([b[q], b[q + 1], b[q + 2], b[q + 3]]) as i64
    } else {
        0
    };
    let (row, w) = (l.c + c * e, l.w1t + j * inp + pos * e);
    let mut i = 0;
    while i < e {
        acc += (b[row + i] as i8 as i64) * (b[w + i] as i8 as i64);
        i += 1;
    }
    acc as i32
}

/// [`logits`], with layer 1's sums from a [`compute_table`] table when one is given (the same
/// bits).
///
/// # Errors
/// As [`logits`]; [`SampleError::TableShape`] for a table of another length.
pub fn logits_with(
    k: Kernels,
    m: &QuantView<'_>,
    table: Option<&[i32]>,
    ctx: &[Index],
    s: &mut QuantScratch<'_>,
) -> Result<(), SampleError> {
    let shape = m.shape();
    s.check(shape).map_err(SampleError::Shape)?;
    let (e, h, v) = (shape.emb(), shape.hidden(), shape.vocab());
    if ctx.len() != shape.block() || ctx.iter().any(|&c| usize::from(c) >= v) {
        return Err(SampleError::Context);
    }
    let (s1, s2) = m.shifts();
    let [b1, m1, b2, m2] = m.int32_fields();
    let le = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if let Some(t) = table
        && t.len() != table_len(shape)
    {
        return Err(SampleError::TableShape);
    }
    if table.is_none() {
        for (pos, &c) in ctx.iter().enumerate() {
            s.x[pos * e..(pos + 1) * e].copy_from_slice(m.c_row(usize::from(c)));
        }
    }
    // Layer 1 in chunks of `UNITS` hidden units: their int32 sums live on the stack (192 B),
    // not in the scratch (4·H bytes), and go straight to the tanh lookup.
    let (inp, w1t) = (shape.input(), m.w1t());
    let mut sums = [0i32; UNITS];
    for (c, hc) in s.h.chunks_mut(UNITS).enumerate() {
        let (j0, n) = (c * UNITS, hc.len());
        let acc = &mut sums[..n];
        match table {
            Some(t) => {
                let row = |pos: usize| {
                    let at = (pos * v + usize::from(ctx[pos])) * h + j0;
                    &t[at..at + n]
                };
                // Position 0's row holds the bias. Up to three rows in the first pass, then
                // two per pass (one load and store of `acc` per pass).
                let mut pos = match ctx.len() {
                    1 => {
                        acc.copy_from_slice(row(0));
                        1
                    }
                    2 => {
                        for ((a, &x), &y) in acc.iter_mut().zip(row(0)).zip(row(1)) {
                            *a = x.wrapping_add(y);
                        }
                        2
                    }
                    _ => {
                        let rows = row(0).iter().zip(row(1)).zip(row(2));
                        for (a, ((&x, &y), &z)) in acc.iter_mut().zip(rows) {
                            *a = x.wrapping_add(y).wrapping_add(z);
                        }
                        3
                    }
                };
                while pos + 2 <= ctx.len() {
                    for ((a, &x), &y) in acc.iter_mut().zip(row(pos)).zip(row(pos + 1)) {
                        *a = a.wrapping_add(x).wrapping_add(y);
                    }
                    pos += 2;
                }
                if pos < ctx.len() {
                    for (a, &x) in acc.iter_mut().zip(row(pos)) {
                        *a = a.wrapping_add(x);
                    }
                }
            }
            None => {
                le_words(acc, &b1[4 * j0..4 * (j0 + n)]);
                k.matvec_i8(s.x, &w1t[j0 * inp..(j0 + n) * inp], acc)
                    .map_err(|_| SampleError::Context)?;
            }
        }
        // h_j = tanh_i8(acc_j, m1_j, s1), eight at a time on AVX2.
        k.requantize_lut_i8(acc, &m1[4 * j0..4 * (j0 + n)], s1, TANH_MAX, &TANH_LUT, hc)
            .map_err(|_| SampleError::Context)?;
    }
    le_words(s.z, b2);
    k.matvec_i8(s.h, m.w2t(), s.z)
        .map_err(|_| SampleError::Context)?;
    for (z, mk) in s.z.iter_mut().zip(m2.chunks_exact(4)) {
        *z = logit(*z, le(mk), s2);
    }
    Ok(())
}

/// `out[i]` = the little-endian int32 at `bytes[4i..4i + 4]`, for `4·out.len()` bytes: on a
/// little-endian target one `memcpy` (assembled byte by byte, the biases cost a Cortex-M4
/// ≈ 1 400 instructions per symbol; copied, ≈ 850).
#[inline(always)]
fn le_words(out: &mut [i32], bytes: &[u8]) {
    if cfg!(target_endian = "little") {
        bytemuck::cast_slice_mut::<i32, u8>(out).copy_from_slice(bytes);
    } else {
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *o = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}

/// An int8 sampler: names drawn with [`logits`], the exp table and a 32-bit random word per
/// symbol. Name `i` of seed `seed` draws from its own stream (`name_seed(seed, i)`, as the f32
/// sampler), so names do not depend on how many were drawn before or on which thread.
#[derive(Debug)]
pub struct QuantSampler<'a> {
    model: QuantView<'a>,
    vocab: VocabView<'a>,
    kernels: Kernels,
    seed: u64,
    inv_t: u32,
    top_k: usize,
    max_len: usize,
    table: Option<&'a [i32]>,
}

impl<'a> QuantSampler<'a> {
    /// A sampler of `model` with its vocabulary `vocab`.
    ///
    /// # Errors
    /// [`SampleError::BadTemperature`], [`SampleError::BadTopK`], [`SampleError::Shape`] if the
    /// vocabulary has more symbols than the model has classes.
    pub fn new(
        model: QuantView<'a>,
        vocab: VocabView<'a>,
        kernels: Kernels,
        seed: u64,
        cfg: SampleConfig,
    ) -> Result<Self, SampleError> {
        let t = cfg.temperature;
        if !(t.is_finite() && t > 0.0) {
            return Err(SampleError::BadTemperature(t));
        }
        if vocab.len() > model.shape().vocab() {
            return Err(SampleError::Shape(ShapeError::Length {
                what: "vocabulary (≤ V symbols)",
                expected: model.shape().vocab(),
                found: vocab.len(),
            }));
        }
        let top_k = match cfg.top_k {
            Some(0) => return Err(SampleError::BadTopK),
            Some(k) => k.min(vocab.len()),
            None => vocab.len(),
        };
        Ok(QuantSampler {
            model,
            vocab,
            kernels,
            seed,
            inv_t: inv_temperature_q16(t),
            top_k,
            max_len: cfg.max_len,
            table: None,
        })
    }

    /// The same sampler with layer 1 from a [`compute_table`] table (the same names).
    ///
    /// # Errors
    /// [`SampleError::TableShape`] unless the table has [`table_len`] values.
    pub fn with_table(mut self, table: &'a [i32]) -> Result<Self, SampleError> {
        if table.len() != table_len(self.model.shape()) {
            return Err(SampleError::TableShape);
        }
        self.table = Some(table);
        Ok(self)
    }

    /// Draws one symbol after `ctx`.
    ///
    /// # Errors
    /// As [`logits`].
    pub fn draw(
        &self,
        ctx: &[Index],
        rng: &mut Xoshiro128PlusPlus,
        s: &mut QuantScratch<'_>,
    ) -> Result<Index, SampleError> {
        let sum = self.weights(ctx, s)?;
        Ok(pick(&s.w[..self.vocab.len()], sum, rng.next_u32()) as Index)
    }

    /// The draw weights after `ctx` into `s.w` (Q15, top-k applied) and their sum.
    fn weights(&self, ctx: &[Index], s: &mut QuantScratch<'_>) -> Result<u32, SampleError> {
        logits_with(self.kernels, &self.model, self.table, ctx, s)?;
        let used = self.vocab.len();
        let z = &s.z[..used];
        let zmax = z.iter().copied().max().unwrap_or(0);
        let w = &mut s.w[..used];
        let mut sum = 0u32;
        for (i, (wi, &zi)) in w.iter_mut().zip(z).enumerate() {
            // Top-k: the k largest logits, ties to the lower index.
            let kept = self.top_k >= used || {
                let rank = z
                    .iter()
                    .enumerate()
                    .filter(|&(j, &zj)| zj > zi || (zj == zi && j < i))
                    .count();
                rank < self.top_k
            };
            *wi = if kept {
                weight_q15(zmax.abs_diff(zi), self.inv_t)
            } else {
                0
            };
            sum += *wi;
        }
        Ok(sum)
    }

    /// Name `index` of the sampler's seed, its characters passed to `out`; returns how many.
    ///
    /// # Errors
    /// As [`logits`].
    pub fn name(
        &self,
        index: u64,
        s: &mut QuantScratch<'_>,
        out: impl FnMut(char),
    ) -> Result<usize, SampleError> {
        self.name_prefixed(index, "", s, out)
    }

    /// Name `index` of the sampler's seed, started with `prefix`: the prefix's characters (up to
    /// `max_len`) are passed to `out` and fill the context, then symbols are drawn from the
    /// name's own random stream as [`QuantSampler::name`] draws them (the f32 sampler's
    /// `sample_prefixed`, in integers). Returns the characters in all.
    ///
    /// # Errors
    /// [`SampleError::Symbol`] for a prefix character outside the vocabulary or `.` (nothing is
    /// passed to `out` then); those of [`logits`].
    pub fn name_prefixed(
        &self,
        index: u64,
        prefix: &str,
        s: &mut QuantScratch<'_>,
        out: impl FnMut(char),
    ) -> Result<usize, SampleError> {
        self.name_with(index, prefix, out, |ctx, rng| self.draw(ctx, rng, s))
    }

    /// Names `first..first + count`, each started with `prefix`: what
    /// [`QuantSampler::name_prefixed`] gives for each. With `memo`, the draw weights of each
    /// context are computed once per call and reused whenever a name reaches it again (the same
    /// names: the model is a function of the context); the memo is dense over all `V^B`
    /// contexts, and used only where that fits in 16 MB (2.1 MB for the canonical model).
    ///
    /// # Errors
    /// As [`QuantSampler::name_prefixed`].
    #[cfg(feature = "std")]
    pub fn names_prefixed(
        &self,
        first: u64,
        count: usize,
        prefix: &str,
        memo: bool,
    ) -> Result<std::vec::Vec<std::string::String>, SampleError> {
        let shape = self.model.shape();
        let mut scratch = QuantVecs::new(shape);
        let mut memo = if memo {
            ContextMemo::<u32>::new(shape.vocab(), shape.block(), self.vocab.len())
        } else {
            None
        };
        (first..first + count as u64)
            .map(|i| {
                let mut name = std::string::String::new();
                let mut s = scratch.view();
                self.name_with(
                    i,
                    prefix,
                    |c| name.push(c),
                    |ctx, rng| {
                        let Some(mm) = memo.as_mut() else {
                            return self.draw(ctx, rng, &mut s);
                        };
                        let k = mm.key(ctx);
                        if let Some((w, sum)) = mm.get(k) {
                            return Ok(pick(w, sum, rng.next_u32()) as Index);
                        }
                        let (sum, w) = (self.weights(ctx, &mut s)?, &s.w[..self.vocab.len()]);
                        mm.store(k, w, sum);
                        Ok(pick(w, sum, rng.next_u32()) as Index)
                    },
                )?;
                Ok(name)
            })
            .collect()
    }

    /// [`QuantSampler::name_prefixed`] with each symbol from `draw(context, rng)`: the
    /// sampler's own draw, or one through a memo of contexts.
    fn name_with(
        &self,
        index: u64,
        prefix: &str,
        mut out: impl FnMut(char),
        mut draw: impl FnMut(&[Index], &mut Xoshiro128PlusPlus) -> Result<Index, SampleError>,
    ) -> Result<usize, SampleError> {
        check_text(self.vocab, prefix)?;
        let mut w = Window::new(self.model.shape().block());
        let mut n = 0;
        for c in prefix.chars() {
            if n == self.max_len {
                return Ok(n);
            }
            out(c);
            // Checked above: every prefix character is a symbol.
            w.push(self.vocab.encode(c).map_err(|_| SampleError::Symbol(c))?);
            n += 1;
        }
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(name_seed(self.seed, index));
        while n < self.max_len {
            let ix = draw(w.ctx(), &mut rng)?;
            if ix == 0 {
                break;
            }
            out(self.vocab.decode(ix).map_err(|_| SampleError::Context)?);
            w.push(ix);
            n += 1;
        }
        Ok(n)
    }
}

/// An int8 sampler with its scratch and a name counter: the int8 twin of [`crate::Sampler`]'s
/// name API ([`QuantNames::sample_with`], [`QuantNames::sample_string`],
/// [`QuantNames::seek_name`]), so firmware written for one runs the other. Name `i` is
/// [`QuantSampler::name`]`(i)`, as on the host.
#[derive(Debug)]
pub struct QuantNames<'a> {
    sampler: QuantSampler<'a>,
    scratch: QuantScratch<'a>,
    next: u64,
}

impl<'a> QuantNames<'a> {
    /// Names from `sampler`, starting with name 0, in `scratch`.
    ///
    /// # Errors
    /// [`SampleError::Shape`] if the scratch does not fit the model's shape.
    pub fn new(sampler: QuantSampler<'a>, scratch: QuantScratch<'a>) -> Result<Self, SampleError> {
        scratch
            .check(sampler.model.shape())
            .map_err(SampleError::Shape)?;
        Ok(QuantNames {
            sampler,
            scratch,
            next: 0,
        })
    }

    /// The same names with layer 1 from a per-position table ([`QuantSampler::with_table`]):
    /// on firmware, a `static` that [`super::BakedInt8::table`] filled at compile time.
    ///
    /// # Errors
    /// [`SampleError::TableShape`] unless the table has [`table_len`] values.
    pub fn with_table(self, table: &'a [i32]) -> Result<Self, SampleError> {
        Ok(QuantNames {
            sampler: self.sampler.with_table(table)?,
            ..self
        })
    }

    /// Skips to name `index`: the next name sampled is that one.
    pub fn seek_name(&mut self, index: u64) {
        self.next = index;
    }

    /// Samples the next name, passing its characters to `each`; returns how many.
    ///
    /// # Errors
    /// As [`logits`].
    pub fn sample_with(&mut self, each: impl FnMut(char)) -> Result<usize, SampleError> {
        let n = self.sampler.name(self.next, &mut self.scratch, each)?;
        self.next += 1;
        Ok(n)
    }

    /// Samples the next name into a fixed-capacity string of `N` bytes (UTF-8).
    ///
    /// # Errors
    /// [`SampleError::BufferFull`] if the name does not fit in `N` bytes, and those of
    /// [`logits`].
    pub fn sample_string<const N: usize>(&mut self) -> Result<heapless::String<N>, SampleError> {
        collect_string(|each| self.sample_with(each))
    }
}

/// `−ln softmax(z/64)[target]` in f64 for logits `z` in units of 1/64 nat (after [`logits`]):
/// the int8 model's loss on one pair, for evaluation.
pub fn nll(z: &[i32], target: usize) -> f64 {
    let zmax = z.iter().copied().max().unwrap_or(0);
    let sum: f64 = z
        .iter()
        .map(|&zi| libm::exp(f64::from(zi - zmax) / 64.0))
        .sum();
    libm::log(sum) - f64::from(z[target] - zmax) / 64.0
}

/// The mean loss ([`nll`]) of the int8 model over every pair of `items`, in pair order; 0 for
/// no pairs.
///
/// # Errors
/// As [`logits`].
pub fn items_loss(
    k: Kernels,
    m: &QuantView<'_>,
    items: crate::batch::Items<'_>,
    s: &mut QuantScratch<'_>,
) -> Result<f64, SampleError> {
    let b = m.shape().block();
    let mut ctx = [0 as Index; Shape::MAX_BLOCK];
    let ctx = &mut ctx[..b];
    let mut total = 0.0;
    for i in 0..items.pairs() {
        let t = items.pair(i, ctx);
        logits(k, m, ctx, s)?;
        total += nll(s.z, usize::from(t));
    }
    Ok(total / items.pairs().max(1) as f64)
}
