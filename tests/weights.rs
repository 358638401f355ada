//! The weights file: a round trip is bit-exact (zero-copy and copying), and every defect is
//! reported as its own `WeightsError` variant, never a panic.
#![cfg(feature = "std")]

use charmlp::shape::Dim;
use charmlp::weights::{self, Aligned, HEADER_LEN, Header, crc32, tensor_offset};
use charmlp::{Init, Params, Vocab, Weights, WeightsError};

const V: usize = 7;
const B: usize = 3;
const E: usize = 4;
const IN: usize = 12;
const H: usize = 9;
type P = Params<V, B, E, IN, H>;
type W<'a> = Weights<'a, V, B, E, IN, H>;

fn vocab() -> Vocab<V> {
    Vocab::from_symbols(['.', 'a', 'b', 'c', 'd', 'e', 'f']).unwrap()
}

fn params(seed: u64) -> P {
    P::init(seed, Init::Randn)
}

/// A file of shape (7, 3, 4, 9) with the 7-symbol ASCII vocabulary.
fn file() -> Vec<u8> {
    weights::to_bytes(&params(1).view(), vocab().view())
}

/// A copy of `bytes` starting `offset` bytes after a 4-byte-aligned address. The returned
/// buffer owns the memory; `slice(&buf, offset, len)` gives the bytes.
fn placed(bytes: &[u8], offset: usize) -> Vec<u32> {
    let mut buf = vec![0u32; (bytes.len() + offset).div_ceil(4) + 1];
    let raw: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
    raw[offset..offset + bytes.len()].copy_from_slice(bytes);
    buf
}

fn slice(buf: &[u32], offset: usize, len: usize) -> &[u8] {
    &bytemuck::cast_slice::<u32, u8>(buf)[offset..offset + len]
}

fn bits(p: &P) -> Vec<u32> {
    p.view().iter().map(f32::to_bits).collect()
}

fn file_len(vocab_bytes: usize) -> usize {
    P::SHAPE.file_len(vocab_bytes)
}

/// Rewrites the trailing CRC so that only the defect under test is left.
fn fix_crc(b: &mut [u8]) {
    let n = b.len();
    let c = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

fn parse(b: &[u8]) -> Result<W<'_>, WeightsError> {
    W::parse(b)
}

/// Byte offset of element `index` of tensor `t` (0 = C … 4 = b2) in `file()`.
fn elem_offset(t: usize, index: usize) -> usize {
    let lens = [V * E, IN * H, H, H * V, V];
    // The vocabulary string ".abcdef" is 7 bytes.
    tensor_offset(7) + 4 * (lens[..t].iter().sum::<usize>() + index)
}

// ---------------------------------------------------------------------------------------------
// Round trips

#[test]
fn crc32_check_values() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
}

#[test]
fn layout_matches_the_documented_table() {
    let b = file();
    let p = params(1);
    assert_eq!(b.len(), file_len(7));
    assert_eq!(b.len(), 44 + 4 * P::COUNT + 4);
    assert_eq!(&b[..8], b"CHARMLP\0");
    assert_eq!(u16::from_le_bytes([b[8], b[9]]), 1);
    assert_eq!(b[10], 1);
    assert_eq!(b[11], 0);
    let u = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(
        [u(12), u(16), u(20), u(24), u(28), u(32)],
        [7, 3, 4, 9, 7, 7]
    );
    assert_eq!(&b[36..43], b".abcdef");
    assert_eq!(b[43], 0, "padding");
    // First weight is C[0][0], last before the CRC is b2[V-1].
    assert_eq!(f32::from_le_bytes(b[44..48].try_into().unwrap()), p.c[0][0]);
    let n = b.len();
    assert_eq!(
        f32::from_le_bytes(b[n - 8..n - 4].try_into().unwrap()),
        p.b2[V - 1]
    );
    assert_eq!(u(n - 4), crc32(&b[..n - 4]));
    let h = Header::parse(&b).unwrap();
    assert_eq!(
        (h.vocab, h.block, h.emb, h.hidden, h.symbols, h.vocab_len),
        (7, 3, 4, 9, 7, 7)
    );
}

#[test]
fn round_trip_zero_copy_and_copy_are_bit_identical() {
    let p = params(1);
    let b = weights::to_bytes(&p.view(), vocab().view());
    let buf = placed(&b, 0);
    let bytes = slice(&buf, 0, b.len());
    let w = parse(bytes).unwrap();
    assert_eq!(w.vocab(), vocab().view());
    let r = w.params().unwrap();
    // Zero-copy: the view points into the file's bytes.
    let range = bytes.as_ptr_range();
    let at = r.c().as_slice().as_ptr() as *const u8;
    assert!(range.contains(&at), "params() copied");
    assert_eq!(at as usize - bytes.as_ptr() as usize, tensor_offset(7));
    let mut q = P::zeros();
    q.view_mut().copy_from(&r).unwrap();
    assert_eq!(bits(&q), bits(&p));
    let mut z = P::zeros();
    w.copy_into(&mut z);
    assert_eq!(bits(&z), bits(&p));
    // Writing again gives the same bytes.
    assert_eq!(weights::to_bytes(&z.view(), w.vocab()), b);
}

#[test]
fn round_trip_through_the_aligned_wrapper() {
    const N: usize = P::SHAPE.file_len(7);
    let p = params(3);
    let b = weights::to_bytes(&p.view(), vocab().view());
    let mut a = Box::new(Aligned {
        _align: [],
        bytes: [0u8; N],
    });
    a.bytes.copy_from_slice(&b);
    assert_eq!(a.bytes.as_ptr() as usize % 4, 0);
    let w = parse(&a.bytes).unwrap();
    let mut q = P::zeros();
    q.view_mut().copy_from(&w.params().unwrap()).unwrap();
    assert_eq!(bits(&q), bits(&p));
}

#[test]
fn round_trip_special_values() {
    // Signed zero, subnormals, extremes: all must survive exactly.
    let mut p = params(2);
    p.c[0] = [-0.0, f32::MIN_POSITIVE / 8.0, f32::MAX, f32::MIN];
    p.b2[6] = -f32::MIN_POSITIVE;
    let b = weights::to_bytes(&p.view(), vocab().view());
    let buf = placed(&b, 0);
    let w = parse(slice(&buf, 0, b.len())).unwrap();
    let mut q = P::zeros();
    w.copy_into(&mut q);
    assert_eq!(bits(&q), bits(&p));
}

#[test]
fn vocabulary_round_trip_with_padding_and_non_ascii() {
    // Different string lengths give every padding 0..=3 (and a partial vocabulary).
    let vocabs: [&[char]; 5] = [
        &['.', 'a'],                           // 2 bytes → pad 2
        &['.', 'a', 'b'],                      // 3 bytes → pad 1
        &['.', 'é', 'ж', 'q'],                 // 6 bytes → pad 2, multi-byte
        &['.', 'z', '€'],                      // 5 bytes → pad 3
        &['.', 'A', 'ö', '😀', 'ж', '-', 'x'], // 12 bytes → pad 0
    ];
    let p = params(4);
    for syms in vocabs {
        let v = Vocab::<V>::from_symbols(syms.iter().copied()).unwrap();
        let b = weights::to_bytes(&p.view(), v.view());
        let text: String = syms.iter().collect();
        assert_eq!(b.len(), file_len(text.len()));
        assert_eq!(tensor_offset(text.len()) % 4, 0);
        assert_eq!(&b[HEADER_LEN..HEADER_LEN + text.len()], text.as_bytes());
        let buf = placed(&b, 0);
        let w = parse(slice(&buf, 0, b.len())).unwrap();
        assert_eq!(w.vocab().symbols(), syms);
        let mut q = P::zeros();
        q.view_mut().copy_from(&w.params().unwrap()).unwrap();
        assert_eq!(bits(&q), bits(&p), "{text}");
    }
}

#[test]
fn misaligned_input_refuses_zero_copy_but_copies() {
    let p = params(5);
    let b = weights::to_bytes(&p.view(), vocab().view());
    for offset in 1..4 {
        let buf = placed(&b, offset);
        let bytes = slice(&buf, offset, b.len());
        assert_ne!(bytes.as_ptr() as usize % 4, 0);
        let w = parse(bytes).unwrap();
        assert_eq!(w.params().err(), Some(WeightsError::Misaligned));
        let mut q = P::zeros();
        w.copy_into(&mut q);
        assert_eq!(bits(&q), bits(&p));
    }
}

// ---------------------------------------------------------------------------------------------
// Header defects

#[test]
fn bad_magic() {
    for i in 0..8 {
        let mut b = file();
        b[i] ^= 0x20;
        fix_crc(&mut b);
        assert_eq!(parse(&b).err(), Some(WeightsError::BadMagic), "byte {i}");
    }
}

#[test]
fn unsupported_version() {
    for v in [0u16, 2, 256, u16::MAX] {
        let mut b = file();
        b[8..10].copy_from_slice(&v.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(parse(&b).err(), Some(WeightsError::UnsupportedVersion(v)));
        assert_eq!(
            Header::parse(&b).err(),
            Some(WeightsError::UnsupportedVersion(v))
        );
    }
}

#[test]
fn unsupported_dtype() {
    for d in [0u8, 2, 0xff] {
        let mut b = file();
        b[10] = d;
        fix_crc(&mut b);
        assert_eq!(parse(&b).err(), Some(WeightsError::UnsupportedDtype(d)));
    }
}

#[test]
fn reserved_byte_must_be_zero() {
    let mut b = file();
    b[11] = 1;
    fix_crc(&mut b);
    assert_eq!(parse(&b).err(), Some(WeightsError::Reserved));
}

#[test]
fn each_dimension_mismatch_is_named() {
    let b = file();
    assert_eq!(
        Weights::<8, B, E, IN, H>::parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Vocab,
            expected: 8,
            found: 7
        })
    );
    assert_eq!(
        Weights::<V, 4, E, 16, H>::parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Block,
            expected: 4,
            found: 3
        })
    );
    assert_eq!(
        Weights::<V, B, 5, 15, H>::parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Emb,
            expected: 5,
            found: 4
        })
    );
    assert_eq!(
        Weights::<V, B, E, IN, 10>::parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Hidden,
            expected: 10,
            found: 9
        })
    );
    // The same dimension count but B and E swapped (IN is the same): still B is wrong.
    assert_eq!(
        Weights::<V, 4, 3, 12, H>::parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Block,
            expected: 4,
            found: 3
        })
    );
}

#[test]
fn header_dims_edited_in_the_file() {
    // The file claims H = 10 while the reader wants 9.
    let mut b = file();
    b[24..28].copy_from_slice(&10u32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(
        parse(&b).err(),
        Some(WeightsError::ShapeMismatch {
            dim: Dim::Hidden,
            expected: 9,
            found: 10
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Length defects

#[test]
fn every_prefix_is_truncated() {
    let b = file();
    let n = b.len();
    for len in 0..n {
        let r = std::panic::catch_unwind(|| parse(&b[..len]).err());
        let e = r.unwrap_or_else(|_| panic!("parse panicked on a {len}-byte prefix"));
        let want_expected = if len < HEADER_LEN { HEADER_LEN } else { n };
        assert_eq!(
            e,
            Some(WeightsError::Truncated {
                expected: want_expected,
                found: len
            }),
            "prefix of {len} bytes"
        );
        if len < HEADER_LEN {
            assert_eq!(
                Header::parse(&b[..len]).err(),
                Some(WeightsError::Truncated {
                    expected: HEADER_LEN,
                    found: len
                })
            );
        }
    }
    assert!(parse(&b).is_ok());
}

#[test]
fn trailing_bytes() {
    let n = file().len();
    for extra in [1usize, 3, 4, 100] {
        let mut b = file();
        b.resize(n + extra, 0);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::TrailingBytes {
                expected: n,
                found: n + extra
            })
        );
    }
}

#[test]
fn vocab_length_field_too_large_is_an_error_not_a_panic() {
    // More than 4 bytes per symbol (V = 7: at most 28) is impossible.
    for l in [29u32, 1000, u32::MAX] {
        let mut b = file();
        b[32..36].copy_from_slice(&l.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::VocabLength {
                bytes: l,
                symbols: 7
            })
        );
    }
    // L = 8 keeps the tensors at offset 44, so the padding byte is read as a symbol: the
    // count (8) then disagrees with S (7).
    let mut b = file();
    b[32..36].copy_from_slice(&8u32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(
        parse(&b).err(),
        Some(WeightsError::VocabSize {
            expected: 7,
            found: 8
        })
    );
    // L = 9 moves the tensors to offset 48: the file is then 4 bytes short.
    let mut b = file();
    b[32..36].copy_from_slice(&9u32.to_le_bytes());
    fix_crc(&mut b);
    let n = b.len();
    assert_eq!(
        parse(&b).err(),
        Some(WeightsError::Truncated {
            expected: n + 4,
            found: n
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Content defects

#[test]
fn crc_mismatch_on_a_flipped_tensor_byte() {
    let good = file();
    let stored = crc32(&good[..good.len() - 4]);
    for at in [
        elem_offset(0, 0),
        elem_offset(1, 17) + 2,
        elem_offset(4, 6) + 3,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x01;
        let computed = crc32(&b[..b.len() - 4]);
        assert_ne!(computed, stored);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::CrcMismatch { stored, computed })
        );
    }
    // A flipped bit in the CRC itself.
    let mut b = good.clone();
    let n = b.len();
    b[n - 1] ^= 0x80;
    assert_eq!(
        parse(&b).err(),
        Some(WeightsError::CrcMismatch {
            stored: stored ^ 0x8000_0000,
            computed: stored
        })
    );
}

#[test]
fn non_finite_weight_names_tensor_and_index() {
    let cases = [
        (0usize, 0usize, f32::NAN, "C"),
        (0, V * E - 1, f32::INFINITY, "C"),
        (1, 5, f32::NAN, "W1"),
        (2, 8, f32::NEG_INFINITY, "b1"),
        (3, 40, f32::NAN, "W2"),
        (4, 6, f32::INFINITY, "b2"),
    ];
    for (t, index, x, tensor) in cases {
        let mut b = file();
        let at = elem_offset(t, index);
        b[at..at + 4].copy_from_slice(&x.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::NonFinite { tensor, index }),
            "{tensor}[{index}] = {x}"
        );
    }
    // Two bad weights: the first in file order is reported.
    let mut b = file();
    for (t, i) in [(3usize, 2usize), (1, 9)] {
        let at = elem_offset(t, i);
        b[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    }
    fix_crc(&mut b);
    assert_eq!(
        parse(&b).err(),
        Some(WeightsError::NonFinite {
            tensor: "W1",
            index: 9
        })
    );
    // The offsets used above really are where to_bytes puts those weights.
    let p = params(1);
    let b = file();
    let f = |at: usize| f32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let p = &p;
    assert_eq!(f(elem_offset(1, 5)).to_bits(), p.w1[0][5].to_bits());
    assert_eq!(
        f(elem_offset(3, 40)).to_bits(),
        p.w2[40 / V][40 % V].to_bits()
    );
    assert_eq!(f(elem_offset(2, 8)).to_bits(), p.b1[8].to_bits());
}

#[test]
fn vocabulary_not_utf8() {
    for bad in [0xffu8, 0x80, 0xc3] {
        let mut b = file();
        b[HEADER_LEN + 3] = bad;
        fix_crc(&mut b);
        assert_eq!(parse(&b).err(), Some(WeightsError::VocabNotUtf8));
    }
}

#[test]
fn vocabulary_size_differs_from_header() {
    for s in [0u32, 6] {
        let mut b = file();
        b[28..32].copy_from_slice(&s.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::VocabSize {
                expected: s,
                found: 7
            }),
            "S = {s}"
        );
    }
    // More symbols than classes: V is the most there can be.
    for s in [8u32, 1000] {
        let mut b = file();
        b[28..32].copy_from_slice(&s.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(
            parse(&b).err(),
            Some(WeightsError::SymbolCount {
                announced: s,
                classes: 7
            }),
            "S = {s}"
        );
    }
}

#[test]
fn duplicate_symbol() {
    let mut b = file();
    // ".abcdef" → ".abcdea"
    b[HEADER_LEN + 6] = b'a';
    fix_crc(&mut b);
    assert_eq!(parse(&b).err(), Some(WeightsError::DuplicateSymbol('a')));
    // A duplicated terminator.
    let mut b = file();
    b[HEADER_LEN + 4] = b'.';
    fix_crc(&mut b);
    assert_eq!(parse(&b).err(), Some(WeightsError::DuplicateSymbol('.')));
}

#[test]
fn missing_terminator() {
    let mut b = file();
    // ".abcdef" → "a.bcdef"
    b[HEADER_LEN] = b'a';
    b[HEADER_LEN + 1] = b'.';
    fix_crc(&mut b);
    assert_eq!(parse(&b).err(), Some(WeightsError::MissingTerminator));
    let mut b = file();
    b[HEADER_LEN] = b'z';
    fix_crc(&mut b);
    assert_eq!(parse(&b).err(), Some(WeightsError::MissingTerminator));
}

#[test]
fn errors_display_their_numbers() {
    let s = WeightsError::ShapeMismatch {
        dim: Dim::Hidden,
        expected: 200,
        found: 100,
    }
    .to_string();
    assert!(
        s.contains('H') && s.contains("200") && s.contains("100"),
        "{s}"
    );
    let s = WeightsError::NonFinite {
        tensor: "W2",
        index: 41,
    }
    .to_string();
    assert!(s.contains("W2") && s.contains("41"), "{s}");
    let s = WeightsError::Truncated {
        expected: 512,
        found: 77,
    }
    .to_string();
    assert!(s.contains("512") && s.contains("77"), "{s}");
}

#[test]
fn random_corruption_never_panics() {
    // A deterministic byte-flip sweep: every single-byte change (padding and CRC included) is
    // rejected, and none panics.
    let good = file();
    for at in 0..good.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut b = good.clone();
            b[at] ^= x;
            let r = std::panic::catch_unwind(|| parse(&b).map(|w| w.vocab().len()));
            let r = r.unwrap_or_else(|_| panic!("panic at byte {at} ^ {x:#x}"));
            assert!(r.is_err(), "byte {at} ^ {x:#x} was accepted");
        }
    }
}

/// A header announcing more symbols than classes is named as such (not "the vocabulary has
/// 4294967295 symbols").
#[test]
fn an_impossible_symbol_count_says_what_the_header_announces() {
    let mut b = file();
    b[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_crc(&mut b);
    let err = parse(&b).err().unwrap();
    assert_eq!(
        err,
        WeightsError::SymbolCount {
            announced: u32::MAX,
            classes: 7
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("announces 4294967295 symbols") && msg.contains("V = 7"),
        "{msg}"
    );
}
