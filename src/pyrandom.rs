//! Bit-exact reimplementation of CPython's `random` module core
//! (Mersenne Twister MT19937 as used by `random.Random`), sufficient to
//! reproduce
//!
//! ```python
//! import random
//! random.seed(42)
//! random.shuffle(words)
//! ```
//!
//! exactly, as done in Andrej Karpathy's *makemore* lectures for the
//! train/dev/test split.
//!
//! The module is `no_std`, allocation-free, contains no `unsafe` code and is
//! self-contained in this single file so it can be dropped into another crate.
//!
//! # Correspondence with CPython (3.11)
//!
//! | Rust                          | CPython                                          |
//! |-------------------------------|--------------------------------------------------|
//! | [`PyRandom::from_seed_u64`]   | `random.seed(n)` / `random.Random(n)`, `n >= 0`  |
//! | [`PyRandom::from_seed_i64`]   | `random.seed(n)` for any `int` in `i64` range    |
//! | [`PyRandom::from_key`]        | `init_by_array(key)` in `_randommodule.c`        |
//! | [`PyRandom::next_u32`]        | `genrand_uint32()` in `_randommodule.c`          |
//! | [`PyRandom::getrandbits`]     | `random.getrandbits(k)`, `1 <= k <= 64`          |
//! | [`PyRandom::randbelow`]       | `Random._randbelow_with_getrandbits(n)`          |
//! | [`PyRandom::randrange`]       | `random.randrange(n)` (single argument)          |
//! | [`PyRandom::shuffle`]         | `random.shuffle(x)`                              |
//! | [`PyRandom::random`]          | `random.random()` (`genrand_res53`)              |
//!
//! # Seeding from an integer
//!
//! CPython's `random_seed()` takes `n = abs(a)`, splits `n` into 32-bit
//! words, least significant word first (`_PyLong_AsByteArray`, little
//! endian), using `max(1, ceil(n.bit_length() / 32))` words — so `0` becomes
//! the key `[0]`, `42` becomes `[42]`, `2**32 + 5` becomes `[5, 1]` — and
//! calls `init_by_array(key)`, which itself starts from
//! `init_genrand(19650218)`. The sign of the seed is discarded, so `seed(-5)`
//! and `seed(5)` give the same stream.
//!
//! # Example
//!
//! ```
//! use charmlp::pyrandom::PyRandom;
//!
//! let mut rng = PyRandom::from_seed_u64(42);
//! let mut v = [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9];
//! rng.shuffle(&mut v);
//! // Python: random.seed(42); x = list(range(10)); random.shuffle(x); x
//! assert_eq!(v, [7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
//! ```

/// Degree of recurrence of MT19937 (number of 32-bit state words).
const N: usize = 624;
/// Middle word offset of MT19937.
const M: usize = 397;
/// Constant vector a.
const MATRIX_A: u32 = 0x9908_b0df;
/// Most significant w-r bits.
const UPPER_MASK: u32 = 0x8000_0000;
/// Least significant r bits.
const LOWER_MASK: u32 = 0x7fff_ffff;

/// A Mersenne Twister generator whose outputs match CPython's
/// `random.Random` bit for bit.
///
/// The state is exactly CPython's: 624 32-bit words plus an index into them
/// (`N` meaning "regenerate the block before the next output").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `init_genrand(s)`: the reference MT19937 single-word initialisation.
    ///
    /// This is *not* what `random.seed(s)` does (that is
    /// [`from_seed_u64`](Self::from_seed_u64)); it is exposed for testing
    /// against the reference MT19937 implementation.
    #[must_use]
    #[allow(clippy::cast_possible_truncation)] // i < N = 624
    pub fn from_init_genrand(s: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = s;
        for i in 1..N {
            let prev = mt[i - 1];
            mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        PyRandom { mt, index: N }
    }

    /// `init_by_array(key)`: seed from an array of 32-bit words.
    ///
    /// CPython always passes at least one word; an empty `key` is treated
    /// as `[0]` (which is what CPython uses for `seed(0)`).
    #[must_use]
    // `j as u32` / `i as u32` truncate exactly like CPython's `(uint32_t)` casts.
    #[allow(clippy::cast_possible_truncation)]
    pub fn from_key(key: &[u32]) -> Self {
        let key: &[u32] = if key.is_empty() { &[0] } else { key };
        let mut r = Self::from_init_genrand(19_650_218);
        let mt = &mut r.mt;
        let mut i: usize = 1;
        let mut j: usize = 0;
        let mut k = if N > key.len() { N } else { key.len() };
        while k > 0 {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = N - 1;
        while k > 0 {
            let prev = mt[i - 1];
            mt[i] =
                (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            k -= 1;
        }
        mt[0] = 0x8000_0000; // MSB is 1, assuring a non-zero initial array
        r
    }

    /// Equivalent of `random.seed(n)` (or `random.Random(n)`) for a
    /// non-negative Python `int` `n`.
    ///
    /// The key is the little-endian sequence of 32-bit words of `n`, with at
    /// least one word: `0 → [0]`, `n < 2**32 → [n]`,
    /// otherwise `[n & 0xffffffff, n >> 32]`.
    #[must_use]
    pub fn from_seed_u64(seed: u64) -> Self {
        let [b0, b1, b2, b3, b4, b5, b6, b7] = seed.to_le_bytes();
        let lo = u32::from_le_bytes([b0, b1, b2, b3]);
        let hi = u32::from_le_bytes([b4, b5, b6, b7]);
        if hi == 0 {
            Self::from_key(&[lo])
        } else {
            Self::from_key(&[lo, hi])
        }
    }

    /// Equivalent of `random.seed(n)` for any Python `int` in `i64` range.
    ///
    /// CPython seeds from `abs(n)`, so negative seeds alias their absolute
    /// value (`seed(-42)` is the same as `seed(42)`).
    #[must_use]
    pub fn from_seed_i64(seed: i64) -> Self {
        Self::from_seed_u64(seed.unsigned_abs())
    }

    /// Regenerate the whole block of `N` words (the "twist").
    fn twist(&mut self) {
        let mt = &mut self.mt;
        for kk in 0..N {
            let y = (mt[kk] & UPPER_MASK) | (mt[(kk + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[kk] = mt[(kk + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// `genrand_uint32()`: the next raw, tempered 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `random.getrandbits(k)` for `0 <= k <= 64`.
    ///
    /// For `k <= 32` one output word is drawn and its *top* `k` bits are
    /// returned. For `32 < k <= 64` the first word drawn is the low 32 bits
    /// of the result and the second word, shifted right by `64 - k`, gives
    /// the high `k - 32` bits (CPython fills the integer least-significant
    /// word first). `k == 0` returns 0 without consuming state, like
    /// CPython 3.9+.
    ///
    /// # Panics
    ///
    /// Panics if `k > 64`.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits: k must be <= 64");
        if k == 0 {
            0
        } else if k <= 32 {
            u64::from(self.next_u32() >> (32 - k))
        } else {
            let lo = u64::from(self.next_u32());
            let hi = u64::from(self.next_u32() >> (64 - k));
            (hi << 32) | lo
        }
    }

    /// `Random._randbelow_with_getrandbits(n)`: uniform integer in `[0, n)`.
    ///
    /// Draws `getrandbits(n.bit_length())` until the value is below `n`
    /// (note `bit_length(n)`, not `bit_length(n - 1)`: a power of two `n`
    /// uses one more bit than strictly needed, exactly like CPython).
    ///
    /// `n == 0` returns 0 without consuming any state. (CPython 3.11 would
    /// loop forever here: `getrandbits(0)` is always `0 >= 0`; `randrange(0)`
    /// raises `ValueError` before reaching it.)
    pub fn randbelow(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.randrange(n)` with a single argument: `Some(randbelow(n))`
    /// for `n > 0`, `None` (CPython: `ValueError`) for `n == 0`.
    pub fn randrange(&mut self, n: u64) -> Option<u64> {
        if n == 0 {
            None
        } else {
            Some(self.randbelow(n))
        }
    }

    /// `random.shuffle(x)` (CPython 3.11 and later; also identical to the
    /// default `random=None` path of 3.2–3.10).
    ///
    /// ```python
    /// for i in reversed(range(1, len(x))):
    ///     j = randbelow(i + 1)
    ///     x[i], x[j] = x[j], x[i]
    /// ```
    // The drawn index is <= i, so `as usize` never truncates.
    #[allow(clippy::cast_possible_truncation)]
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }

    /// `random.random()` (`genrand_res53`): a float in `[0.0, 1.0)` with 53
    /// random bits, built from two outputs (`a >> 5` high, `b >> 6` low).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// The raw state: the 624 words and the index, as in
    /// `random.getstate()[1]` (whose last element is the index).
    #[must_use]
    pub fn state(&self) -> (&[u32; N], usize) {
        (&self.mt, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from the original `mt19937ar.c` test output
    /// (`init_by_array({0x123, 0x234, 0x345, 0x456})`).
    #[test]
    fn reference_mt19937ar() {
        let mut r = PyRandom::from_key(&[0x123, 0x234, 0x345, 0x456]);
        let first = [
            1_067_595_299u32,
            955_945_823,
            477_289_528,
            4_107_218_783,
            4_228_976_476,
        ];
        for &e in &first {
            assert_eq!(r.next_u32(), e);
        }
    }

    #[test]
    fn reference_init_genrand_5489() {
        // 10000th output of MT19937 seeded with init_genrand(5489).
        let mut r = PyRandom::from_init_genrand(5489);
        let mut x = 0;
        for _ in 0..10_000 {
            x = r.next_u32();
        }
        assert_eq!(x, 4_123_659_995);
    }

    #[test]
    fn doc_example_seed42_range10() {
        // Python: random.seed(42); x = list(range(10)); random.shuffle(x); x
        let mut rng = PyRandom::from_seed_u64(42);
        let mut v = [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        rng.shuffle(&mut v);
        assert_eq!(v, [7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
    }

    #[test]
    fn empty_key_is_zero_seed() {
        assert_eq!(PyRandom::from_key(&[]), PyRandom::from_seed_u64(0));
    }

    #[test]
    fn negative_seed_aliases() {
        assert_eq!(PyRandom::from_seed_i64(-42), PyRandom::from_seed_u64(42));
        assert_eq!(
            PyRandom::from_seed_i64(i64::MIN),
            PyRandom::from_seed_u64(1 << 63)
        );
    }

    #[test]
    fn randbelow_zero_and_one() {
        let mut r = PyRandom::from_seed_u64(1);
        let before = r.clone();
        assert_eq!(r.randbelow(0), 0);
        assert_eq!(r, before);
        assert_eq!(r.randrange(0), None);
        // n == 1: k = 1, draws until the bit is 0.
        assert_eq!(r.randbelow(1), 0);
    }

    #[test]
    fn getrandbits_zero_consumes_nothing() {
        let mut r = PyRandom::from_seed_u64(7);
        let before = r.clone();
        assert_eq!(r.getrandbits(0), 0);
        assert_eq!(r, before);
    }
}
