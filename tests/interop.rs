//! PyTorch interop: our weights ↔ `.safetensors` round trip bit for bit for any shape, a file
//! written by Python's `safetensors` (tests/fixtures/make_fixture.py) imports and gives numpy's
//! loss, and each defect is its own error.

#![cfg(feature = "safetensors")]

use std::path::PathBuf;

use charmlp::batch::Items;
use charmlp::interop::{self, InteropError, LECTURE_VOCAB};
use charmlp::shape::Dim;
use charmlp::weights::{self, WeightsError, WeightsView};
use charmlp::{
    Index, Init, Kernels, ParamsBuf, Shape, ShapeError, VocabBuf, VocabError, WorkspaceBuf,
};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The value of `"key": …` in the fixture's flat JSON (numbers and the names list only).
fn json_field(json: &str, key: &str) -> String {
    let at = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key}"))
        + key.len()
        + 3;
    let rest = json[at..].trim_start();
    let end = if rest.starts_with('[') {
        rest.find(']').unwrap() + 1
    } else {
        rest.find([',', '}', '\n']).unwrap()
    };
    rest[..end].trim().to_string()
}

fn vocab_of(s: &str) -> VocabBuf {
    VocabBuf::from_symbols(s.chars()).unwrap()
}

/// Our weights file of shape `(v, b, e, h)` with vocabulary `vocab` (fewer symbols than `v`
/// leave spare classes, as files of older versions had).
fn ours(v: usize, b: usize, e: usize, h: usize, vocab: &str, seed: u64) -> Vec<u8> {
    let s = Shape::new(v, b, e, h).unwrap();
    let p = ParamsBuf::init(s, seed, Init::Randn).unwrap();
    weights::to_bytes(&p.view(), vocab_of(vocab).view())
}

fn roundtrip(v: usize, b: usize, e: usize, h: usize, vocab: &str, seed: u64) {
    let ours = ours(v, b, e, h, vocab, seed);
    let st = interop::export(&ours).unwrap();
    let back = interop::import(&st, None).unwrap();
    assert!(
        back.weights == ours,
        "V={v} B={b} E={e} H={h}: round trip is not bit-identical"
    );
    assert!(back.vocab_from_metadata && back.block_from_metadata && back.converted.is_empty());
    assert_eq!(back.vocab, vocab);
    // Export is deterministic: the imported file exports to the same bytes.
    assert!(
        interop::export(&back.weights).unwrap() == st,
        "export is not deterministic"
    );
}

#[test]
fn round_trip_is_bit_identical() {
    roundtrip(27, 3, 10, 200, LECTURE_VOCAB, 1);
    roundtrip(27, 4, 2, 10, ".0123456789abcdefghijklmnop", 2);
    // Non-ASCII symbols, any shape, and a model with spare classes (V = 128, 27 symbols).
    roundtrip(27, 3, 4, 10, ".abcdefghijklmnopqrstuvwxéü", 3);
    roundtrip(27, 7, 7, 77, LECTURE_VOCAB, 5);
    roundtrip(128, 3, 10, 200, LECTURE_VOCAB, 4);
}

#[test]
fn export_has_the_lectures_names_shapes_and_metadata() {
    let s = Shape::new(128, 3, 10, 200).unwrap();
    let p = ParamsBuf::init(s, 7, Init::Scaled).unwrap();
    let st = interop::export(&weights::to_bytes(
        &p.view(),
        vocab_of(LECTURE_VOCAB).view(),
    ))
    .unwrap();
    let p = p.view();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&st).unwrap();
    let m = meta.metadata().as_ref().unwrap();
    assert_eq!(m.get("vocab").map(String::as_str), Some(LECTURE_VOCAB));
    assert_eq!(m.get("block_size").map(String::as_str), Some("3"));
    assert_eq!(m.get("spare_classes").map(String::as_str), Some("101"));
    let f = safetensors::SafeTensors::deserialize(&st).unwrap();
    let mut names = f.names();
    names.sort();
    assert_eq!(names, ["C", "W1", "W2", "b1", "b2"]);
    for (name, shape, want) in [
        ("C", vec![128, 10], p.c().as_slice()),
        ("W1", vec![30, 200], p.w1().as_slice()),
        ("b1", vec![200], p.b1()),
        ("W2", vec![200, 128], p.w2().as_slice()),
        ("b2", vec![128], p.b2()),
    ] {
        let t = f.tensor(name).unwrap();
        assert_eq!(t.dtype(), safetensors::Dtype::F32, "{name}");
        assert_eq!(t.shape(), shape, "{name}");
        let got: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

fn params_of(bytes: &[u8]) -> (ParamsBuf, VocabBuf) {
    let w = WeightsView::parse(bytes).unwrap();
    let mut p = ParamsBuf::zeros(w.shape()).unwrap();
    w.copy_params(&mut p.view_mut()).unwrap();
    (p, vocab_of(w.vocab_str()))
}

/// The mean loss over every pair of `names` on kernels `k`.
fn loss_of_names(k: Kernels, p: &ParamsBuf, vocab: &VocabBuf, names: &[String]) -> (f32, usize) {
    let mut items: Vec<u8> = Vec::new();
    for n in names {
        items.extend(n.chars().map(|c| vocab.encode(c).unwrap() as u8));
        items.push(0);
    }
    let s = p.shape();
    let mut ws = WorkspaceBuf::new(k, s, 32).unwrap();
    let (mut ctx, mut tgt) = (vec![0 as Index; 32 * s.block()], vec![0 as Index; 32]);
    let items = Items::U8(&items);
    let loss = ws
        .view()
        .items_loss(&p.view(), items, &mut ctx, &mut tgt)
        .unwrap();
    (loss, items.pairs())
}

#[test]
fn python_fixture_matches_numpy_loss() {
    let expected_json = String::from_utf8(fixture("lecture_expected.json")).unwrap();
    let expected: f64 = json_field(&expected_json, "loss").parse().unwrap();
    let names: Vec<String> = json_field(&expected_json, "names")
        .trim_matches(['[', ']'])
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    assert_eq!(names.len(), 8);
    let pairs_expected: usize = json_field(&expected_json, "pairs").parse().unwrap();

    let imported = interop::import(&fixture("lecture.safetensors"), None).unwrap();
    assert_eq!(imported.shape, Shape::CANONICAL);
    assert!(imported.vocab_from_metadata && imported.block_from_metadata);
    let (p, vocab) = params_of(&imported.weights);
    assert_eq!(vocab.to_text(), LECTURE_VOCAB);
    for k in Kernels::all_supported() {
        let (ours, pairs) = loss_of_names(k, &p, &vocab, &names);
        assert_eq!(pairs, pairs_expected);
        let diff = (f64::from(ours) - expected).abs();
        eprintln!(
            "{}: numpy (f64) {expected:.9}, ours (f32) {ours:.9}, |diff| {diff:.3e}",
            k.path()
        );
        assert!(
            diff < 1e-5,
            "{}: loss {ours} vs numpy's {expected}",
            k.path()
        );
    }
}

#[test]
fn python_fixture_without_metadata_uses_the_default_vocab_and_inferred_block() {
    let with = interop::import(&fixture("lecture.safetensors"), None).unwrap();
    let without = interop::import(&fixture("lecture_nometa.safetensors"), None).unwrap();
    assert!(!without.vocab_from_metadata && !without.block_from_metadata);
    assert!(without.weights == with.weights);
    // An explicit vocabulary for a file without one.
    let custom = ".zyxwvutsrqponmlkjihgfedcba";
    let r = interop::import(&fixture("lecture_nometa.safetensors"), Some(custom)).unwrap();
    assert_eq!(r.vocab, custom);
    assert_eq!(params_of(&r.weights).1.to_text(), custom);
}

#[test]
fn python_f64_fixture_rounds_to_nearest_even_like_numpy() {
    let f32_file = interop::import(&fixture("lecture.safetensors"), None).unwrap();
    let f64_file = interop::import(&fixture("lecture_f64.safetensors"), None).unwrap();
    assert!(
        f64_file.weights == f32_file.weights,
        "F64 rounding differs from numpy's astype(float32)"
    );
    let names: Vec<&str> = f64_file.converted.iter().map(|c| c.0).collect();
    assert_eq!(names, ["C", "W1", "b1", "W2", "b2"]);
    assert!(f64_file.converted.iter().all(|c| c.1 == "F64"));
}

// ---- hand-built files ----

struct T {
    name: &'static str,
    dtype: &'static str,
    shape: Vec<usize>,
    data: Vec<u8>,
}

const META: &str = r#"{"vocab":".abcdefghijklmnopqrstuvwxyz","block_size":"3"}"#;

fn f32s(n: usize, salt: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) ^ salt) % 2001) as f32 / 1000.0 - 1.0)
        .flat_map(f32::to_le_bytes)
        .collect()
}

fn t(name: &'static str, shape: &[usize]) -> T {
    let n = shape.iter().product();
    T {
        name,
        dtype: "F32",
        shape: shape.to_vec(),
        data: f32s(n, name.len() as u32 * 77 + n as u32),
    }
}

fn lecture() -> Vec<T> {
    vec![
        t("C", &[27, 10]),
        t("W1", &[30, 200]),
        t("b1", &[200]),
        t("W2", &[200, 27]),
        t("b2", &[27]),
    ]
}

fn header(ts: &[T], meta: Option<&str>, offsets: &[(usize, usize)]) -> String {
    let mut h = String::from("{");
    if let Some(m) = meta {
        h += &format!("\"__metadata__\":{m}");
    }
    for (t, (a, b)) in ts.iter().zip(offsets) {
        if h.len() > 1 {
            h.push(',');
        }
        h += &format!(
            "\"{}\":{{\"dtype\":\"{}\",\"shape\":{:?},\"data_offsets\":[{a},{b}]}}",
            t.name, t.dtype, t.shape
        );
    }
    h + "}"
}

fn assemble(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    h.resize(h.len().next_multiple_of(8), b' ');
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

fn contiguous(ts: &[T]) -> Vec<(usize, usize)> {
    let mut at = 0;
    ts.iter()
        .map(|t| {
            at += t.data.len();
            (at - t.data.len(), at)
        })
        .collect()
}

fn raw(ts: &[T], meta: Option<&str>) -> Vec<u8> {
    let data: Vec<u8> = ts.iter().flat_map(|t| t.data.clone()).collect();
    assemble(&header(ts, meta, &contiguous(ts)), &data)
}

fn import_err(bytes: &[u8], vocab: Option<&str>) -> InteropError {
    let e = interop::import(bytes, vocab).expect_err("the import should fail");
    // Every error has a message and is a std::error::Error.
    let _: &dyn std::error::Error = &e;
    eprintln!("{e}");
    assert!(!e.to_string().is_empty());
    e
}

#[test]
fn hand_built_file_imports() {
    let r = interop::import(&raw(&lecture(), Some(META)), None).unwrap();
    let (p, _) = params_of(&r.weights);
    let ts = lecture();
    for (got, t) in p.view().tensors().iter().zip(&ts) {
        let want: Vec<f32> = t
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(*got, &want[..], "{}", t.name);
    }
    // Tensors in any order in the header and data; unknown metadata keys are ignored.
    let mut rev = lecture();
    rev.reverse();
    let r2 = interop::import(
        &raw(
            &rev,
            Some(r#"{"format":"pt","vocab":".abcdefghijklmnopqrstuvwxyz"}"#),
        ),
        None,
    )
    .unwrap();
    assert!(r2.weights == r.weights);
}

#[test]
fn half_precision_widens_exactly() {
    let mut ts = lecture();
    // b1 as F16: 1, −2, the smallest subnormal 2⁻²⁴, the largest subnormal, the largest
    // normal 65504, 1/3 rounded to half, −0; then zeros.
    let halves: [u16; 7] = [0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x3555, 0x8000];
    let want_b1 = [
        1.0f32,
        -2.0,
        2f32.powi(-24),
        1023.0 * 2f32.powi(-24),
        65504.0,
        0.333_251_95,
        -0.0,
    ];
    let mut d: Vec<u8> = halves.iter().flat_map(|h| h.to_le_bytes()).collect();
    d.resize(400, 0);
    ts[2] = T {
        name: "b1",
        dtype: "F16",
        shape: vec![200],
        data: d,
    };
    // b2 as BF16: 1, −1.5, π rounded to bfloat16 (0x4049 = 3.140625), the smallest subnormal.
    let bf: [u16; 4] = [0x3F80, 0xBFC0, 0x4049, 0x0001];
    let want_b2 = [1.0f32, -1.5, 3.140_625, f32::from_bits(0x0001_0000)];
    let mut d: Vec<u8> = bf.iter().flat_map(|h| h.to_le_bytes()).collect();
    d.resize(54, 0);
    ts[4] = T {
        name: "b2",
        dtype: "BF16",
        shape: vec![27],
        data: d,
    };
    let r = interop::import(&raw(&ts, Some(META)), None).unwrap();
    assert_eq!(
        r.converted,
        [("b1", "F16".to_string()), ("b2", "BF16".to_string())]
    );
    let (p, _) = params_of(&r.weights);
    let p = p.view();
    for (i, w) in want_b1.iter().enumerate() {
        assert_eq!(p.b1()[i].to_bits(), w.to_bits(), "b1[{i}]");
    }
    assert!(p.b1()[7..].iter().all(|&x| x == 0.0));
    for (i, w) in want_b2.iter().enumerate() {
        assert_eq!(p.b2()[i].to_bits(), w.to_bits(), "b2[{i}]");
    }
    assert_eq!(interop::f16_to_f32(0x7C00), f32::INFINITY);
    assert!(interop::f16_to_f32(0x7E00).is_nan());
    // Exhaustive: every finite half is exactly its f32 value (checked against the formula).
    for h in 0..=u16::MAX {
        let (s, e, m) = (h >> 15, (h >> 10) & 0x1f, h & 0x3ff);
        if e == 0x1f {
            continue;
        }
        let mag = if e == 0 {
            f64::from(m) * 2f64.powi(-24)
        } else {
            (1.0 + f64::from(m) / 1024.0) * 2f64.powi(i32::from(e) - 15)
        };
        let v = if s == 1 { -mag } else { mag };
        assert_eq!(f64::from(interop::f16_to_f32(h)), v, "{h:#06x}");
        assert_eq!(interop::f16_to_f32(h).is_sign_negative(), s == 1);
    }
}

#[test]
fn f64_rounds_to_nearest_ties_to_even() {
    let mut ts = lecture();
    let one = 1.0f64;
    let ulp = 2f64.powi(-23); // f32 spacing at 1
    let vals = [
        (0.1f64, 0.1f32),
        (one + ulp / 2.0, 1.0),                        // tie → even (1.0)
        (one + 1.5 * ulp, (1.0 + 2.0 * ulp) as f32),   // tie → even (1 + 2ulp)
        (one + ulp / 2.0 + 1e-12, (1.0 + ulp) as f32), // above the tie → up
        (-(one + ulp / 2.0), -1.0),
        (1e-50, 0.0), // underflows to zero
    ];
    let mut d: Vec<u8> = vals.iter().flat_map(|v| v.0.to_le_bytes()).collect();
    d.resize(270 * 8, 0);
    ts[0] = T {
        name: "C",
        dtype: "F64",
        shape: vec![27, 10],
        data: d,
    };
    let r = interop::import(&raw(&ts, Some(META)), None).unwrap();
    let (p, _) = params_of(&r.weights);
    for (i, (_, w)) in vals.iter().enumerate() {
        assert_eq!(p.view().c().as_slice()[i].to_bits(), w.to_bits(), "C[{i}]");
    }
    // Beyond the f32 range: infinite after rounding, so rejected.
    let mut d = 1e39f64.to_le_bytes().to_vec();
    d.resize(270 * 8, 0);
    ts[0].data = d;
    assert_eq!(
        import_err(&raw(&ts, Some(META)), None),
        InteropError::NonFinite {
            tensor: "C",
            index: 0
        }
    );
}

#[test]
fn bad_header_length() {
    let good = raw(&lecture(), Some(META));
    assert!(matches!(
        import_err(&good[..5], None),
        InteropError::BadHeaderLength(_)
    ));
    let mut b = good.clone();
    b[..8].copy_from_slice(&(good.len() as u64).to_le_bytes()); // past the end
    assert!(matches!(
        import_err(&b, None),
        InteropError::BadHeaderLength(_)
    ));
    b[..8].copy_from_slice(&(1u64 << 40).to_le_bytes()); // absurd
    assert!(matches!(
        import_err(&b, None),
        InteropError::BadHeaderLength(_)
    ));
    b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        import_err(&b, None),
        InteropError::BadHeaderLength(_)
    ));
    // Shorter than the real header: the JSON is cut, which is a bad header length for the data
    // that follows or bad JSON, never a panic.
    b[..8].copy_from_slice(&16u64.to_le_bytes());
    assert!(matches!(
        import_err(&b, None),
        InteropError::BadHeader(_) | InteropError::BadHeaderLength(_)
    ));
}

#[test]
fn bad_json() {
    let ts = lecture();
    let data: Vec<u8> = ts.iter().flat_map(|t| t.data.clone()).collect();
    let h = header(&ts, Some(META), &contiguous(&ts));
    for bad in [
        h.replacen(':', ";", 1),
        h[..h.len() - 1].to_string(),
        h.replace("\"F32\"", "\"Q4\""), // not a dtype
        h.replace("\"3\"", "3"),        // metadata values are strings
        h.replace("data_offsets", "offsets"),
    ] {
        assert!(
            matches!(
                import_err(&assemble(&bad, &data), None),
                InteropError::BadHeader(_)
            ),
            "{bad}"
        );
    }
    let mut b = raw(&ts, Some(META));
    b[9] = 0xFF; // not UTF-8
    assert!(matches!(import_err(&b, None), InteropError::BadHeader(_)));
}

#[test]
fn bad_offsets() {
    let ts = lecture();
    let data: Vec<u8> = ts.iter().flat_map(|t| t.data.clone()).collect();
    let good = contiguous(&ts);
    let n = data.len();
    // Past the end of the data.
    let mut o = good.clone();
    o[4].1 = n + 4;
    assert!(matches!(
        import_err(&assemble(&header(&ts, Some(META), &o), &data), None),
        InteropError::BadOffsets(_)
    ));
    // Overlapping: W1 starts inside C.
    let mut o = good.clone();
    o[1] = (o[1].0 - 40, o[1].1 - 40);
    assert!(matches!(
        import_err(&assemble(&header(&ts, Some(META), &o), &data), None),
        InteropError::BadOffsets(_)
    ));
    // A hole, and a range that disagrees with shape × dtype.
    let mut o = good.clone();
    o[4].0 += 4;
    assert!(matches!(
        import_err(&assemble(&header(&ts, Some(META), &o), &data), None),
        InteropError::BadOffsets(_)
    ));
    // Data shorter than the offsets say.
    assert!(matches!(
        import_err(
            &assemble(&header(&ts, Some(META), &good), &data[..n - 4]),
            None
        ),
        InteropError::BadOffsets(_)
    ));
    // Trailing bytes after the last tensor.
    let mut long = data.clone();
    long.extend([0; 8]);
    assert!(matches!(
        import_err(&assemble(&header(&ts, Some(META), &good), &long), None),
        InteropError::BadOffsets(_)
    ));
}

#[test]
fn missing_and_unexpected_tensors() {
    for (i, name) in ["C", "W1", "b1", "W2", "b2"].into_iter().enumerate() {
        let mut ts = lecture();
        ts.remove(i);
        assert_eq!(
            import_err(&raw(&ts, Some(META)), None),
            InteropError::MissingTensor(name)
        );
    }
    let mut ts = lecture();
    ts.push(t("W3", &[4, 4]));
    assert_eq!(
        import_err(&raw(&ts, Some(META)), None),
        InteropError::UnexpectedTensor("W3".into())
    );
    // Names are case-sensitive: PyTorch's "w1" is not "W1".
    let mut ts = lecture();
    ts[1].name = "w1";
    assert_eq!(
        import_err(&raw(&ts, Some(META)), None),
        InteropError::UnexpectedTensor("w1".into())
    );
}

#[test]
fn wrong_shapes() {
    let cases: [(usize, &[usize], &str, &str); 6] = [
        (3, &[27, 200], "W2", "[200, 27]"), // transposed, same byte count
        (0, &[270], "C", "2-D [V, E]"),
        (1, &[6000], "W1", "2-D [B·E, H]"),
        (2, &[1, 200], "b1", "[200]"),
        (4, &[28], "b2", "[27]"),
        (3, &[200, 28], "W2", "[200, 27]"),
    ];
    for (i, shape, tensor, expected) in cases {
        let mut ts = lecture();
        ts[i] = t(ts[i].name, shape);
        assert_eq!(
            import_err(&raw(&ts, Some(META)), None),
            InteropError::WrongShape {
                tensor,
                expected: expected.into(),
                found: shape.to_vec()
            }
        );
    }
}

#[test]
fn unsupported_dtypes() {
    for (dtype, bytes) in [
        ("I32", 4),
        ("I64", 8),
        ("U8", 1),
        ("F8_E4M3", 1),
        ("BOOL", 1),
    ] {
        let mut ts = lecture();
        ts[2] = T {
            name: "b1",
            dtype,
            shape: vec![200],
            data: vec![0; 200 * bytes],
        };
        assert_eq!(
            import_err(&raw(&ts, Some(META)), None),
            InteropError::UnsupportedDtype {
                tensor: "b1",
                dtype: dtype.into()
            }
        );
    }
}

#[test]
fn vocabulary_errors() {
    let bare = raw(&lecture(), None);
    // 26 symbols for 27 classes (a letter forgotten), and 28.
    assert_eq!(
        import_err(&bare, Some(".abcdefghijklmnopqrstuvwxy")),
        InteropError::VocabSize {
            expected: 27,
            found: 26,
            classes: 27
        }
    );
    let meta28 = r#"{"vocab":".abcdefghijklmnopqrstuvwxyz0","block_size":"3"}"#;
    assert_eq!(
        import_err(&raw(&lecture(), Some(meta28)), None),
        InteropError::VocabSize {
            expected: 27,
            found: 28,
            classes: 27
        }
    );
    // Spare classes must be declared: 26 symbols with spare_classes 1 is fine, with 0 it is not.
    let spare = r#"{"vocab":".abcdefghijklmnopqrstuvwxy","spare_classes":"1"}"#;
    let r = interop::import(&raw(&lecture(), Some(spare)), None).unwrap();
    assert_eq!(params_of(&r.weights).1.len(), 26);
    let no_spare = r#"{"vocab":".abcdefghijklmnopqrstuvwxy","spare_classes":"0"}"#;
    assert!(matches!(
        import_err(&raw(&lecture(), Some(no_spare)), None),
        InteropError::VocabSize { .. }
    ));
    // Not a vocabulary.
    assert_eq!(
        import_err(&bare, Some("abcdefghijklmnopqrstuvwxyz.")),
        InteropError::Vocab(VocabError::MissingTerminator)
    );
    assert_eq!(
        import_err(&bare, Some(".abcdefghijklmnopqrstuvwxya")),
        InteropError::Vocab(VocabError::Duplicate('a'))
    );
    // A --vocab that contradicts the file.
    assert!(matches!(
        import_err(
            &raw(&lecture(), Some(META)),
            Some(".zyxwvutsrqponmlkjihgfedcba")
        ),
        InteropError::VocabConflict { .. }
    ));
    // The same one is fine.
    assert!(interop::import(&raw(&lecture(), Some(META)), Some(LECTURE_VOCAB)).is_ok());
}

#[test]
fn block_size_and_metadata_errors() {
    let m4 = r#"{"vocab":".abcdefghijklmnopqrstuvwxyz","block_size":"4"}"#;
    assert_eq!(
        import_err(&raw(&lecture(), Some(m4)), None),
        InteropError::BlockSize {
            w1_rows: 30,
            emb: 10,
            metadata: Some(4)
        }
    );
    // Without metadata the rows of W1 must be a multiple of E.
    let mut ts = lecture();
    ts[0] = t("C", &[27, 7]);
    assert_eq!(
        import_err(&raw(&ts, None), None),
        InteropError::BlockSize {
            w1_rows: 30,
            emb: 7,
            metadata: None
        }
    );
    for bad in ["three", "-3", " 3", ""] {
        let m = format!(r#"{{"block_size":"{bad}"}}"#);
        assert_eq!(
            import_err(&raw(&lecture(), Some(&m)), None),
            InteropError::BadMetadata {
                key: "block_size",
                value: bad.into()
            }
        );
    }
    let m = r#"{"spare_classes":"99"}"#;
    assert!(matches!(
        import_err(&raw(&lecture(), Some(m)), None),
        InteropError::BadMetadata {
            key: "spare_classes",
            ..
        }
    ));
}

#[test]
fn non_finite_values() {
    for (i, bits) in [
        (1usize, f32::NAN.to_bits()),
        (3, f32::INFINITY.to_bits()),
        (4, f32::NEG_INFINITY.to_bits()),
    ] {
        let mut ts = lecture();
        ts[i].data[20..24].copy_from_slice(&bits.to_le_bytes());
        assert_eq!(
            import_err(&raw(&ts, Some(META)), None),
            InteropError::NonFinite {
                tensor: ts[i].name,
                index: 5
            }
        );
    }
    // A half-precision infinity too.
    let mut ts = lecture();
    let mut d = vec![0u8; 400];
    d[2..4].copy_from_slice(&0x7C00u16.to_le_bytes());
    ts[2] = T {
        name: "b1",
        dtype: "F16",
        shape: vec![200],
        data: d,
    };
    assert_eq!(
        import_err(&raw(&ts, Some(META)), None),
        InteropError::NonFinite {
            tensor: "b1",
            index: 1
        }
    );
}

#[test]
fn any_shape_imports_and_an_impossible_one_is_named() {
    // H = 7 is no instantiation of anything: it imports all the same.
    let ts = vec![
        t("C", &[27, 10]),
        t("W1", &[30, 7]),
        t("b1", &[7]),
        t("W2", &[7, 27]),
        t("b2", &[27]),
    ];
    let r = interop::import(&raw(&ts, Some(META)), None).unwrap();
    assert_eq!(r.shape, Shape::new(27, 3, 10, 7).unwrap());
    // A context of 33 (W1 has 33·E rows) is beyond the limit of 32.
    let ts = vec![
        t("C", &[27, 2]),
        t("W1", &[66, 7]),
        t("b1", &[7]),
        t("W2", &[7, 27]),
        t("b2", &[27]),
    ];
    assert_eq!(
        import_err(
            &raw(&ts, Some(r#"{"vocab":".abcdefghijklmnopqrstuvwxyz"}"#)),
            None
        ),
        InteropError::Shape(ShapeError::OutOfRange {
            dim: Dim::Block,
            value: 33,
            min: 1,
            max: 32
        })
    );
}

#[test]
fn export_rejects_bad_weights() {
    assert_eq!(
        interop::export(b"not a weights file at all, really not").unwrap_err(),
        InteropError::Weights(WeightsError::BadMagic)
    );
    let mut b = ours(27, 3, 10, 200, LECTURE_VOCAB, 1);
    let n = b.len();
    b[n - 10] ^= 1;
    assert!(matches!(
        interop::export(&b).unwrap_err(),
        InteropError::Weights(WeightsError::CrcMismatch { .. })
    ));
}
