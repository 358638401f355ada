//! Arbitrary bytes → `Weights::parse` for the canonical shape and a small one.
//!
//! The reader must never panic. When it accepts a file, everything it promises is checked:
//! `params()` works at a 4-byte-aligned address (and reports `Misaligned`, not a panic, at an
//! odd one), `copy_into` agrees with it bit for bit, every weight is finite, and the vocabulary
//! starts with `.`, has between 1 and `V` distinct symbols and matches the header.
//!
//! Random mutations almost always break the CRC-32, which would stop the fuzzer at that check,
//! so every input is also tried a second time with its last four bytes replaced by the CRC of
//! the rest: that reaches the vocabulary and finiteness checks.

#![no_main]

use charmlp::weights::{self, Weights, WeightsError};
use charmlp::{Params, Vocab};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_all(data);
    if data.len() >= 4 {
        let mut fixed = data.to_vec();
        let n = fixed.len() - 4;
        let crc = weights::crc32(&fixed[..n]);
        fixed[n..].copy_from_slice(&crc.to_le_bytes());
        check_all(&fixed);
    }
});

fn check_all(data: &[u8]) {
    // The same bytes at a 4-byte-aligned address and at an odd one.
    let mut buf = vec![0u8; data.len() + 8];
    let a = buf.as_ptr().align_offset(4);
    buf[a..a + data.len()].copy_from_slice(data);
    check::<27, 3, 10, 30, 200>(&buf[a..a + data.len()], true);
    check::<7, 3, 4, 12, 9>(&buf[a..a + data.len()], true);
    buf[a + 1..a + 1 + data.len()].copy_from_slice(data);
    check::<7, 3, 4, 12, 9>(&buf[a + 1..a + 1 + data.len()], false);
}

fn check<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    bytes: &[u8],
    aligned: bool,
) {
    let header = weights::read_header(bytes);
    let w = match Weights::<V, B, E, IN, H>::parse(bytes) {
        Ok(w) => w,
        Err(e) => {
            // Errors render without panicking.
            let _ = format!("{e}");
            return;
        }
    };
    let h = header.expect("parse accepted a file whose header read_header rejects");
    assert_eq!(
        (h.v, h.b, h.e, h.h),
        (V as u32, B as u32, E as u32, H as u32)
    );
    assert_eq!(
        bytes.len(),
        weights::file_len(V, B, E, H, h.vocab_len as usize)
    );

    // Vocabulary: '.' first, 1..=V distinct symbols, exactly the header's string.
    let vocab: &Vocab<V> = w.vocab();
    let syms = vocab.symbols();
    assert!(!syms.is_empty() && syms.len() <= V);
    assert_eq!(syms.len(), h.symbols as usize);
    assert_eq!(syms[0], '.', "vocabulary does not start with '.'");
    for (i, c) in syms.iter().enumerate() {
        assert!(!syms[..i].contains(c), "duplicate symbol {c:?}");
        assert_eq!(vocab.encode(*c), Ok(i as u8));
        assert_eq!(vocab.decode(i as u8), Ok(*c));
    }
    let text: String = syms.iter().collect();
    let at = weights::HEADER_LEN;
    assert_eq!(&bytes[at..at + h.vocab_len as usize], text.as_bytes());

    // copy_into works at any alignment; every weight is finite.
    let mut owned = Box::new(Params::<V, B, E, IN, H>::zeros());
    w.copy_into(&mut owned);
    assert!(owned.all_finite(), "parse accepted a non-finite weight");

    // params(): zero-copy at an aligned address (little-endian), Misaligned otherwise.
    match w.params() {
        Ok(view) => {
            assert!(aligned, "params() succeeded on misaligned bytes");
            let mut copy = Box::new(Params::<V, B, E, IN, H>::zeros());
            copy.copy_from(view);
            for (x, y) in copy.tensors().iter().zip(owned.tensors()) {
                assert_eq!(x.len(), y.len());
                for (a, b) in x.iter().zip(y.iter()) {
                    assert_eq!(a.to_bits(), b.to_bits(), "params() and copy_into differ");
                }
            }
        }
        Err(WeightsError::Misaligned) => {
            assert!(
                !aligned || cfg!(target_endian = "big"),
                "params() failed on 4-byte-aligned bytes"
            );
        }
        Err(e) => panic!("params() failed after parse succeeded: {e:?}"),
    }
}
