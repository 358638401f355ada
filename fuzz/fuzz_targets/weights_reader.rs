//! Arbitrary bytes → `WeightsView::parse` (any shape), and `Weights::parse` for the canonical
//! shape and a small one.
//!
//! The reader must never panic. When it accepts a file, everything it promises is checked:
//! the shape is the header's and within the limits, the length is the shape's, `params()` works
//! at a 4-byte-aligned address (and reports `Misaligned`, not a panic, at an odd one),
//! `copy_params` agrees with it bit for bit, every weight is finite, and the vocabulary starts
//! with `.`, has between 1 and `V` distinct symbols and matches the header. The const-generic
//! reader accepts exactly the files of its shape that the run-time one accepts.
//!
//! Random mutations almost always break the CRC-32, which would stop the fuzzer at that check,
//! so every input is also tried a second time with its last four bytes replaced by the CRC of
//! the rest: that reaches the vocabulary and finiteness checks.

#![no_main]

use charmlp::weights::{self, Header, Weights, WeightsError, WeightsView};
use charmlp::{ParamsBuf, Shape, VocabView};
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
    let view = check(&buf[a..a + data.len()], true);
    fixed::<27, 3, 10, 30, 200>(&buf[a..a + data.len()], view);
    fixed::<7, 3, 4, 12, 9>(&buf[a..a + data.len()], view);
    buf[a + 1..a + 1 + data.len()].copy_from_slice(data);
    let odd = check(&buf[a + 1..a + 1 + data.len()], false);
    assert_eq!(odd, view, "the verdict depends on the alignment");
}

/// The run-time reader; returns the accepted shape.
fn check(bytes: &[u8], aligned: bool) -> Option<Shape> {
    let header = Header::parse(bytes);
    let w = match WeightsView::parse(bytes) {
        Ok(w) => w,
        Err(e) => {
            // Errors render without panicking.
            let _ = format!("{e}");
            let _ = e.as_str();
            return None;
        }
    };
    let h = header.expect("parse accepted a file whose header Header::parse rejects");
    let s = w.shape();
    assert_eq!(
        (h.vocab, h.block, h.emb, h.hidden),
        (
            s.vocab() as u32,
            s.block() as u32,
            s.emb() as u32,
            s.hidden() as u32
        )
    );
    assert_eq!(Shape::new(s.vocab(), s.block(), s.emb(), s.hidden()), Ok(s));
    assert_eq!(bytes.len(), s.file_len(h.vocab_len as usize));

    // Vocabulary: '.' first, 1..=V distinct symbols, exactly the header's string.
    let mut syms = vec!['\0'; w.symbols()];
    let vocab: VocabView<'_> = w.vocab_into(&mut syms).expect("a valid vocabulary");
    let syms = vocab.symbols();
    assert!(!syms.is_empty() && syms.len() <= s.vocab());
    assert_eq!(syms.len(), h.symbols as usize);
    assert_eq!(syms[0], '.', "vocabulary does not start with '.'");
    for (i, c) in syms.iter().enumerate() {
        assert!(!syms[..i].contains(c), "duplicate symbol {c:?}");
        assert_eq!(vocab.encode(*c), Ok(i as u16));
        assert_eq!(vocab.decode(i as u16), Ok(*c));
    }
    let text: String = syms.iter().collect();
    let at = weights::HEADER_LEN;
    assert_eq!(&bytes[at..at + h.vocab_len as usize], text.as_bytes());

    // copy_params works at any alignment; every weight is finite.
    let mut owned = ParamsBuf::zeros(s).expect("a small model");
    w.copy_params(&mut owned.view_mut()).unwrap();
    assert!(
        owned.view().all_finite(),
        "parse accepted a non-finite weight"
    );

    // params(): zero-copy at an aligned address (little-endian), Misaligned otherwise.
    match w.params() {
        Ok(view) => {
            assert!(aligned, "params() succeeded on misaligned bytes");
            assert!(
                view.iter()
                    .map(f32::to_bits)
                    .eq(owned.view().iter().map(f32::to_bits)),
                "params() and copy_params differ"
            );
        }
        Err(WeightsError::Misaligned) => {
            assert!(
                !aligned || cfg!(target_endian = "big"),
                "params() failed on 4-byte-aligned bytes"
            );
        }
        Err(e) => panic!("params() failed after parse succeeded: {e:?}"),
    }
    Some(s)
}

/// The const-generic reader accepts exactly the files of its shape the run-time one accepts.
fn fixed<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    bytes: &[u8],
    accepted: Option<Shape>,
) {
    let mine = accepted == Some(Weights::<V, B, E, IN, H>::SHAPE);
    match Weights::<V, B, E, IN, H>::parse(bytes) {
        Ok(w) => {
            assert!(
                mine,
                "the const reader accepted what the run-time one did not"
            );
            assert_eq!(w.vocab().len(), w.view().symbols());
        }
        Err(e) => {
            assert!(
                !mine,
                "the const reader rejected a valid file of its shape: {e:?}"
            );
        }
    }
}
