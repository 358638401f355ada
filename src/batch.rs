//! (context, target) pairs, built on the fly from items stored once as symbol indices.
//!
//! A split is every item's symbols followed by the terminator `0`, concatenated:
//! `e m m a 0 o l i v i a 0 …`. Each position is one pair: its target is the symbol there (the
//! terminator at the end of an item), its context the `B` symbols before it within the same
//! item, `0`-padded at the item's start — makemore's `build_dataset`, without materializing it
//! (`B + 1` bytes per character would be 20× the text for `B = 19`).
//!
//! Minibatches are drawn uniformly with replacement over the positions, from a generator seeded
//! with `(seed, step)` only, so a resumed run sees exactly the batches of an uninterrupted one.

use charmlp_kernels::Index;
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::SplitMix64;

/// The items of one split, as symbol indices each followed by `0` (see the module docs). Small
/// vocabularies (≤ 256 symbols) are stored one byte per symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items<'a> {
    /// One byte per symbol.
    U8(&'a [u8]),
    /// Two bytes per symbol.
    U16(&'a [Index]),
}

impl Items<'_> {
    /// The number of (context, target) pairs: one per symbol, terminators included.
    pub fn pairs(&self) -> usize {
        match self {
            Items::U8(s) => s.len(),
            Items::U16(s) => s.len(),
        }
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs() == 0
    }

    /// The symbol at position `i`.
    #[inline]
    fn at(&self, i: usize) -> Index {
        match self {
            Items::U8(s) => Index::from(s[i]),
            Items::U16(s) => s[i],
        }
    }

    /// Writes pair `pos`'s context into `ctx` (its length is `B`) and returns its target.
    #[inline]
    pub fn pair(&self, pos: usize, ctx: &mut [Index]) -> Index {
        let b = ctx.len();
        ctx.fill(0);
        // Walk back from the target to the item's start (a terminator or the split's start).
        for j in 1..=b.min(pos) {
            let s = self.at(pos - j);
            if s == 0 {
                break;
            }
            ctx[b - j] = s;
        }
        self.at(pos)
    }

    /// Fills consecutive pairs from position `start`: as many as `targets` holds (and `ctx`
    /// holds `B` indices for each) or as remain; returns how many.
    pub fn fill(&self, start: usize, ctx: &mut [Index], targets: &mut [Index]) -> usize {
        let b = ctx.len().checked_div(targets.len()).unwrap_or(0);
        if b == 0 {
            return 0;
        }
        let n = targets.len().min(self.pairs().saturating_sub(start));
        for (i, (c, t)) in ctx
            .chunks_exact_mut(b)
            .zip(targets.iter_mut())
            .take(n)
            .enumerate()
        {
            *t = self.pair(start + i, c);
        }
        n
    }

    /// Fills `targets.len()` pairs drawn uniformly with replacement (see the module docs); `ctx`
    /// holds `B` indices per pair. Draws depend only on `(seed, step)`: indices come from
    /// `SplitMix64` seeded with `seed ⊕ step·φ`, mapped to `[0, pairs)` by a 64×64→128-bit
    /// multiply. Nothing is drawn when there are no pairs.
    pub fn sample_batch(&self, seed: u64, step: u64, ctx: &mut [Index], targets: &mut [Index]) {
        let len = self.pairs() as u64;
        let b = ctx.len().checked_div(targets.len()).unwrap_or(0);
        if len == 0 || b == 0 {
            return;
        }
        let mut rng = SplitMix64::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for (c, t) in ctx.chunks_exact_mut(b).zip(targets.iter_mut()) {
            let i = ((u128::from(rng.next_u64()) * u128::from(len)) >> 64) as usize;
            *t = self.pair(i, c);
        }
    }
}

/// Encodes `text` — items one per line (`\n`, an optional `\r` before it), empty lines skipped —
/// as the symbol indices of `vocab` in `out`, each item followed by the end marker `0`: the
/// layout of [`Items::U8`]. No heap and no shuffle (the file's order), for a device that trains on
/// a list baked into its flash, and for the host that must match it. Returns the bytes written.
///
/// # Errors
/// [`crate::VocabError::Unknown`] for a character not in `vocab` (or `.`, the end marker),
/// [`crate::VocabError::BadIndex`] for a vocabulary of more than 256 symbols (an index would not
/// fit a byte), [`crate::VocabError::TooManySymbols`] if `out` is too short (`needed` counts
/// bytes).
pub fn encode_lines(
    text: &str,
    vocab: crate::vocab::VocabView<'_>,
    out: &mut [u8],
) -> Result<usize, crate::VocabError> {
    use crate::VocabError;
    if vocab.len() > 256 {
        return Err(VocabError::BadIndex(vocab.len()));
    }
    let mut n = 0;
    let mut push = |b: u8, n: &mut usize| -> Result<(), VocabError> {
        match out.get_mut(*n) {
            Some(slot) => {
                *slot = b;
                *n += 1;
                Ok(())
            }
            None => Err(VocabError::TooManySymbols {
                needed: *n + 1,
                capacity: out.len(),
            }),
        }
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        for c in line.chars() {
            if c == '.' {
                return Err(VocabError::Unknown(c));
            }
            let ix = vocab.encode(c)?;
            push(ix as u8, &mut n)?;
        }
        push(0, &mut n)?;
    }
    Ok(n)
}
