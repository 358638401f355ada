//! Sampling names: one forward row per character, softmax with temperature, optional top-k,
//! a draw from `Xoshiro128PlusPlus` — no heap, the same names on every target for a seed when
//! the scalar kernels run.

use charmlp_kernels::Kernels;
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro128PlusPlus;

use crate::error::SampleError;
use crate::forward::forward_one;
use crate::params::ParamsRef;
use crate::vocab::Vocab;

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

/// Draws names from a model.
#[derive(Debug, Clone)]
pub struct Sampler<
    'a,
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
> {
    params: ParamsRef<'a, V, B, E, IN, H>,
    vocab: &'a Vocab<V>,
    kernels: Kernels,
    rng: Xoshiro128PlusPlus,
    inv_temp: f32,
    top_k: usize,
    max_len: usize,
}

impl<'a, const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Sampler<'a, V, B, E, IN, H>
{
    /// A sampler seeded with `seed`, running `kernels` (use [`Kernels::scalar`] for results
    /// that are bit-identical across targets).
    ///
    /// # Errors
    /// [`SampleError::BadTemperature`], [`SampleError::BadTopK`].
    pub fn new(
        params: ParamsRef<'a, V, B, E, IN, H>,
        vocab: &'a Vocab<V>,
        kernels: Kernels,
        seed: u64,
        cfg: SampleConfig,
    ) -> Result<Self, SampleError> {
        let () = crate::params::Params::<V, B, E, IN, H>::SHAPE_OK;
        let t = cfg.temperature;
        if !t.is_finite() || t <= 0.0 || !(1.0 / t).is_finite() {
            return Err(SampleError::BadTemperature(t));
        }
        let top_k = match cfg.top_k {
            Some(0) => return Err(SampleError::BadTopK),
            Some(k) => k.min(V),
            None => V,
        };
        Ok(Sampler {
            params,
            vocab,
            kernels,
            rng: Xoshiro128PlusPlus::seed_from_u64(seed),
            inv_temp: 1.0 / t,
            top_k,
            max_len: cfg.max_len,
        })
    }

    /// The index of the next symbol after `ctx`.
    ///
    /// # Errors
    /// [`SampleError::NonFiniteWeights`] if the probabilities are not finite.
    pub fn next_index(&mut self, ctx: &[u8; B]) -> Result<u8, SampleError> {
        let mut logits = [0.0f32; V];
        forward_one(self.kernels, self.params, ctx, &mut logits)
            .map_err(|_| SampleError::NonFiniteWeights)?;
        // Checked before top-k, which would otherwise drop a NaN logit silently.
        if !logits[..self.vocab.len()].iter().all(|l| l.is_finite()) {
            return Err(SampleError::NonFiniteWeights);
        }
        // Classes beyond the vocabulary are never drawn.
        for l in logits.iter_mut().skip(self.vocab.len()) {
            *l = f32::NEG_INFINITY;
        }
        if self.top_k < self.vocab.len() {
            keep_top_k(&mut logits, self.top_k);
        }
        let mut probs = [0.0f32; V];
        self.kernels.softmax(&logits, self.inv_temp, &mut probs);
        // Draw u ∈ [0, 1) with 24 bits, then walk the cumulative sum.
        let u = (self.rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0);
        let mut acc = 0.0f32;
        let mut last = None;
        for (i, &p) in probs.iter().enumerate() {
            if !p.is_finite() {
                return Err(SampleError::NonFiniteWeights);
            }
            if p > 0.0 {
                acc += p;
                last = Some(i);
                if u < acc {
                    return Ok(i as u8);
                }
            }
        }
        // Rounding left the sum just below u: take the last symbol with mass.
        last.map(|i| i as u8).ok_or(SampleError::NonFiniteWeights)
    }

    /// Samples one name and calls `emit` with each character; returns the number of characters.
    ///
    /// # Errors
    /// As [`Sampler::next_index`].
    pub fn sample_with(&mut self, mut emit: impl FnMut(char)) -> Result<usize, SampleError> {
        let mut ctx = [0u8; B];
        let mut n = 0;
        while n < self.max_len {
            let ix = self.next_index(&ctx)?;
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
            ctx.copy_within(1.., 0);
            ctx[B - 1] = ix;
        }
        Ok(n)
    }

    /// Samples one name into a fixed-capacity string.
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

/// Sets every logit outside the `k` largest to −∞ (ties broken by lower index).
fn keep_top_k<const V: usize>(logits: &mut [f32; V], k: usize) {
    let mut keep = [false; V];
    for _ in 0..k {
        let mut best: Option<usize> = None;
        for (i, &l) in logits.iter().enumerate() {
            if !keep[i] && l > f32::NEG_INFINITY && best.is_none_or(|b| l > logits[b]) {
                best = Some(i);
            }
        }
        match best {
            Some(b) => keep[b] = true,
            None => break,
        }
    }
    for (l, k) in logits.iter_mut().zip(keep) {
        if !k {
            *l = f32::NEG_INFINITY;
        }
    }
}
