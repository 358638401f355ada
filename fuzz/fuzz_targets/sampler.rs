//! Fuzz input → sampler settings and weights of the shape `Params<7, 3, 4, 12, 9>` → a few
//! names, with the scalar kernels and with the best ones this CPU has.
//!
//! Input layout (missing bytes read as zero):
//!
//! | bytes | meaning |
//! |---|---|
//! | 0..8 | seed, u64 LE |
//! | 8..12 | temperature, f32 bits LE (anything: NaN, ∞, 0, negative, subnormal) |
//! | 12 | top-k: `0xFF` = none, else `Some(byte)` (0 is invalid) |
//! | 13 | max_len = byte % 65 (capped, so sampling is bounded) |
//! | 14 | bits 0–2: symbols = 1 + (bits % 7) (1..=7, '.' included); bit 3: multi-byte symbols |
//! | 15 | bit 0: raw f32 weights (NaN/∞ included); else bounded: i16 LE / 4096 (|w| ≤ 8) |
//! | 16.. | the weights in file order C, W1, b1, W2, b2 (4 or 2 bytes each) |
//!
//! Never a panic or a hang. `Sampler::new` fails exactly on an invalid temperature or top-k.
//! Every name has at most `max_len` characters, all from the vocabulary and none of them `.`.
//! With bounded weights the logits are finite (|logit| ≤ 80), so sampling must succeed (a
//! 16-byte `heapless::String` may report `BufferFull`); with raw weights `NonFiniteWeights` is
//! allowed as well.

#![no_main]

use charmlp::sample::SampleArrays;
use charmlp::{Kernels, Params, SampleConfig, SampleError, Sampler, Vocab};
use libfuzzer_sys::fuzz_target;

type Small = Params<7, 3, 4, 12, 9>;

const MAX_LEN_CAP: usize = 64;
const ASCII: [char; 7] = ['.', 'a', 'b', 'c', 'd', 'e', 'f'];
const WIDE: [char; 7] = ['.', 'é', 'ß', '€', '😀', 'z', 'ж'];

fuzz_target!(|data: &[u8]| {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut word = [0u8; 8];
    for (i, w) in word.iter_mut().enumerate() {
        *w = byte(i);
    }
    let seed = u64::from_le_bytes(word);
    let temperature = f32::from_bits(u32::from_le_bytes([byte(8), byte(9), byte(10), byte(11)]));
    let top_k = match byte(12) {
        0xFF => None,
        k => Some(usize::from(k)),
    };
    let max_len = usize::from(byte(13)) % (MAX_LEN_CAP + 1);
    let n_symbols = 1 + usize::from(byte(14) & 7) % 7;
    let set = if byte(14) & 8 != 0 { WIDE } else { ASCII };
    let raw = byte(15) & 1 != 0;

    let mut p = Box::new(Small::zeros());
    let rest = data.get(16..).unwrap_or(&[]);
    let mut at = 0;
    for t in p.view_mut().tensors_mut() {
        for x in t.iter_mut() {
            let b = |j: usize| rest.get(at + j).copied().unwrap_or(0);
            *x = if raw {
                f32::from_le_bytes([b(0), b(1), b(2), b(3)])
            } else {
                f32::from(i16::from_le_bytes([b(0), b(1)])) / 4096.0
            };
            at += if raw { 4 } else { 2 };
        }
    }
    let finite = p.view().all_finite();
    let vocab =
        Vocab::<7>::from_symbols(set[..n_symbols].iter().copied()).expect("a valid vocabulary");

    let cfg = SampleConfig {
        temperature,
        top_k,
        max_len,
    };
    let bad_temp =
        !temperature.is_finite() || temperature <= 0.0 || !(1.0 / temperature).is_finite();
    let expect_new = if bad_temp {
        Err(SampleError::BadTemperature(temperature))
    } else if top_k == Some(0) {
        Err(SampleError::BadTopK)
    } else {
        Ok(())
    };

    for kernels in [Kernels::scalar(), Kernels::best()] {
        let mut s = match Sampler::new(
            p.view(),
            vocab.view(),
            kernels,
            seed,
            cfg,
            SampleArrays::<7, 12, 9>::new(),
        ) {
            Ok(s) => {
                assert_eq!(expect_new, Ok(()), "Sampler::new accepted {cfg:?}");
                s
            }
            Err(e) => {
                match (e, expect_new) {
                    (SampleError::BadTemperature(t), Err(SampleError::BadTemperature(want))) => {
                        assert_eq!(t.to_bits(), want.to_bits())
                    }
                    (e, want) => assert_eq!(Err(e), want, "Sampler::new with {cfg:?}"),
                }
                let _ = format!("{e}");
                continue;
            }
        };
        for round in 0..3 {
            let mut chars = Vec::new();
            let result = match round {
                0 => s.sample_with(|c| chars.push(c)),
                1 => s.sample_string::<256>().map(|name| {
                    chars.extend(name.chars());
                    chars.len()
                }),
                _ => s.sample_string::<16>().map(|name| {
                    chars.extend(name.chars());
                    chars.len()
                }),
            };
            match result {
                Ok(n) => {
                    assert_eq!(n, chars.len());
                    assert!(n <= max_len, "{n} characters, max_len {max_len}");
                    for c in &chars {
                        assert!(
                            vocab.symbols()[1..].contains(c),
                            "{c:?} is not a (non-terminator) symbol of {:?}",
                            vocab.symbols()
                        );
                    }
                }
                Err(SampleError::BufferFull) => {
                    assert_eq!(round, 2, "BufferFull with room for {max_len} characters");
                }
                Err(SampleError::NonFiniteWeights) => {
                    assert!(
                        raw || !finite,
                        "NonFiniteWeights from bounded finite weights ({:?}, {cfg:?})",
                        kernels.path()
                    );
                }
                Err(e) => panic!("unexpected sampling error {e:?}"),
            }
        }
    }
});
