//! int8 models: the quantizer, the file reader's named errors, the integer sampler (the same
//! names on every kernel path, a draw that follows the model), and the quantized model's loss.
#![cfg(feature = "std")]

use charmlp::int8::Layout;
use charmlp::int8::{QuantSampler, QuantVecs, QuantView, is_int8, logits, nll, quantize};
use charmlp::sample::SampleVecs;
use charmlp::weights::format::tensor_offset;
use charmlp::{Index, Kernels, ParamsBuf, SampleConfig, VocabBuf, WeightsError, WeightsView};

fn template() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/template/weights.bin"
    ))
    .unwrap()
}

fn names() -> Vec<String> {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/names.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The mean loss over every pair of `names` of the f32 model and of its int8 file.
fn losses(f32_file: &[u8], int8_file: &[u8], names: &[String]) -> (f64, f64) {
    let w = WeightsView::parse(f32_file).unwrap();
    let s = w.shape();
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars()).unwrap();
    let mut p = ParamsBuf::zeros(s).unwrap();
    w.copy_params(&mut p.view_mut()).unwrap();
    let q = QuantView::parse(int8_file).unwrap();
    let mut qs = QuantVecs::new(s);
    let k = Kernels::best();
    let mut sampler = charmlp::Sampler::new(
        p.view(),
        vocab.view(),
        k,
        1,
        SampleConfig::default(),
        SampleVecs::new(s),
    )
    .unwrap();
    let (mut lf, mut lq, mut n) = (0.0f64, 0.0f64, 0usize);
    for name in names {
        lf -= f64::from(sampler.score_with(name, |_, _| {}).unwrap());
        let mut ctx: Vec<Index> = vec![0; s.block()];
        let ix: Vec<Index> = name
            .chars()
            .map(|c| vocab.view().encode(c).unwrap())
            .chain([0])
            .collect();
        for &t in &ix {
            logits(k, &q, &ctx, &mut qs.view()).unwrap();
            let z: Vec<i32> = qs.view().z.to_vec();
            lq += nll(&z, usize::from(t));
            n += 1;
            ctx.rotate_left(1);
            *ctx.last_mut().unwrap() = t;
        }
    }
    (lf / n as f64, lq / n as f64)
}

#[test]
fn the_quantized_canonical_model_keeps_its_loss() {
    let f = template();
    let w = WeightsView::parse(&f).unwrap();
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars()).unwrap();
    let mut p = ParamsBuf::zeros(w.shape()).unwrap();
    w.copy_params(&mut p.view_mut()).unwrap();
    let q = quantize(&p.view(), vocab.view()).unwrap();
    assert!(is_int8(&q) && !is_int8(&f));
    eprintln!("int8 file: {} bytes (f32: {})", q.len(), f.len());
    let (lf, lq) = losses(&f, &q, &names());
    eprintln!(
        "loss over every pair of data/names.txt: f32 {lf:.5}, int8 {lq:.5} (+{:.5})",
        lq - lf
    );
    assert!(lq - lf < 0.01, "f32 {lf}, int8 {lq}");
}

fn quantized() -> (Vec<u8>, Vec<u8>) {
    let f = template();
    let w = WeightsView::parse(&f).unwrap();
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars()).unwrap();
    let mut p = ParamsBuf::zeros(w.shape()).unwrap();
    w.copy_params(&mut p.view_mut()).unwrap();
    let q = quantize(&p.view(), vocab.view()).unwrap();
    (f, q)
}

fn names_of(q: &QuantView<'_>, k: Kernels, cfg: SampleConfig, n: u64) -> Vec<String> {
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars()).unwrap();
    let s = QuantSampler::new(*q, vocab.view(), k, 42, cfg).unwrap();
    let mut scratch = QuantVecs::new(q.shape());
    (0..n)
        .map(|i| {
            let mut name = String::new();
            s.name(i, &mut scratch.view(), |c| name.push(c)).unwrap();
            name
        })
        .collect()
}

#[test]
fn every_path_samples_the_same_names() {
    let (_, q) = quantized();
    let q = QuantView::parse(&q).unwrap();
    for cfg in [
        SampleConfig::default(),
        SampleConfig {
            temperature: 0.7,
            top_k: Some(5),
            max_len: 12,
        },
    ] {
        let want = names_of(&q, Kernels::scalar(), cfg, 300);
        for k in Kernels::all_supported() {
            assert_eq!(names_of(&q, k, cfg, 300), want, "{} differs", k.path());
        }
        eprintln!("{:?}: {:?}", cfg, &want[..8]);
        assert!(want.iter().all(|n| n.chars().count() <= cfg.max_len));
    }
}

/// Many names at once, with and without the memo of contexts, on every path, with a prefix and
/// top-k: the names `name_prefixed` gives one by one.
#[test]
fn names_prefixed_are_the_single_names_with_or_without_the_memo() {
    let (_, q) = quantized();
    let q = QuantView::parse(&q).unwrap();
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars()).unwrap();
    let cfg = SampleConfig {
        temperature: 0.8,
        top_k: Some(6),
        max_len: 10,
    };
    for k in Kernels::all_supported() {
        let s = QuantSampler::new(q, vocab.view(), k, 9, cfg).unwrap();
        let mut scratch = QuantVecs::new(q.shape());
        for prefix in ["", "ma"] {
            let want: Vec<String> = (100..700)
                .map(|i| {
                    let mut name = String::new();
                    s.name_prefixed(i, prefix, &mut scratch.view(), |c| name.push(c))
                        .unwrap();
                    name
                })
                .collect();
            for memo in [false, true] {
                let got = s.names_prefixed(100, 600, prefix, memo).unwrap();
                assert_eq!(got, want, "{} prefix {prefix:?} memo {memo}", k.path());
            }
        }
        assert_eq!(
            s.names_prefixed(0, 3, "k.", true),
            Err(charmlp::SampleError::Symbol('.'))
        );
    }
}

/// A prefix fills the context and is emitted first; the draws after it follow the context the
/// prefix leaves, from the name's own stream: "ka" then what the window "ka" predicts.
#[test]
fn a_prefix_starts_the_name_and_conditions_the_draws() {
    let (_, q) = quantized();
    let q = QuantView::parse(&q).unwrap();
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars()).unwrap();
    let cfg = SampleConfig::default();
    let s = QuantSampler::new(q, vocab.view(), Kernels::best(), 42, cfg).unwrap();
    let mut scratch = QuantVecs::new(q.shape());
    let mut start_k = 0;
    for i in 0..200 {
        let (mut plain, mut empty, mut ka) = (String::new(), String::new(), String::new());
        s.name(i, &mut scratch.view(), |c| plain.push(c)).unwrap();
        s.name_prefixed(i, "", &mut scratch.view(), |c| empty.push(c))
            .unwrap();
        assert_eq!(plain, empty, "an empty prefix is no prefix");
        let n = s
            .name_prefixed(i, "ka", &mut scratch.view(), |c| ka.push(c))
            .unwrap();
        assert_eq!(n, ka.chars().count());
        assert!(ka.starts_with("ka"), "{ka}");
        start_k += usize::from(plain.starts_with('k'));
    }
    assert!(start_k < 200, "the prefix changed nothing to compare with");
    // The first draw after "ka" is the sampler's draw for the window [., k, a].
    let (k, a) = (
        vocab.view().encode('k').unwrap(),
        vocab.view().encode('a').unwrap(),
    );
    let mut ctx_names = 0;
    for i in 0..50 {
        let mut ka = String::new();
        s.name_prefixed(i, "ka", &mut scratch.view(), |c| ka.push(c))
            .unwrap();
        let mut rng = <rand_xoshiro::Xoshiro128PlusPlus as rand_core::SeedableRng>::seed_from_u64(
            charmlp::sample::name_seed(42, i),
        );
        let ix = s.draw(&[0, k, a], &mut rng, &mut scratch.view()).unwrap();
        let third = ka.chars().nth(2);
        match ix {
            0 => assert_eq!(third, None, "name {i}: {ka}"),
            ix => assert_eq!(third, vocab.view().decode(ix).ok(), "name {i}: {ka}"),
        }
        ctx_names += 1;
    }
    assert_eq!(ctx_names, 50);
    // max_len cuts the prefix too; a symbol outside the vocabulary (or '.') is an error.
    let short = QuantSampler::new(
        q,
        vocab.view(),
        Kernels::best(),
        42,
        SampleConfig { max_len: 1, ..cfg },
    )
    .unwrap();
    let mut out = String::new();
    assert_eq!(
        short
            .name_prefixed(0, "ka", &mut scratch.view(), |c| out.push(c))
            .unwrap(),
        1
    );
    assert_eq!(out, "k");
    for bad in ["k#", "a.b"] {
        let mut out = String::new();
        assert!(matches!(
            s.name_prefixed(0, bad, &mut scratch.view(), |c| out.push(c)),
            Err(charmlp::SampleError::Symbol(_))
        ));
        assert!(out.is_empty(), "emitted before the error");
    }
}

/// The draw follows the int8 model: the first letters of 40 000 names against
/// softmax(z/64) of the empty context (total variation below 0.01; the sampling error alone is
/// about 0.006 here).
#[test]
fn the_draw_follows_the_model() {
    let (_, q) = quantized();
    let q = QuantView::parse(&q).unwrap();
    let mut scratch = QuantVecs::new(q.shape());
    logits(Kernels::best(), &q, &[0, 0, 0], &mut scratch.view()).unwrap();
    let z = scratch.view().z.to_vec();
    let p: Vec<f64> = (0..z.len()).map(|t| (-nll(&z, t)).exp()).collect();
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars()).unwrap();
    let n = 40_000;
    let mut counts = vec![0usize; z.len()];
    for name in names_of(&q, Kernels::best(), SampleConfig::default(), n) {
        let first = name
            .chars()
            .next()
            .map_or(0, |c| vocab.view().encode(c).unwrap());
        counts[usize::from(first)] += 1;
    }
    let tv: f64 = counts
        .iter()
        .zip(&p)
        .map(|(&c, &pi)| (c as f64 / n as f64 - pi).abs())
        .sum::<f64>()
        / 2.0;
    eprintln!("total variation of the first letter: {tv:.4}");
    assert!(tv < 0.01, "{tv}");
}

/// Rewrites the CRC after an edit, so that the check behind it is reached.
fn recrc(b: &mut [u8]) {
    let n = b.len() - 4;
    let c = charmlp::weights::crc32(&b[..n]);
    b[n..].copy_from_slice(&c.to_le_bytes());
}

#[test]
fn every_damage_is_a_named_error() {
    let (f, q) = quantized();
    let shape = QuantView::parse(&q).unwrap().shape();
    let l = Layout::new(shape, q[32] as usize);
    assert_eq!(l.shifts, tensor_offset(q[32] as usize));
    assert_eq!(l.len, q.len());
    // Each reader refuses the other's files by version.
    assert_eq!(
        QuantView::parse(&f).unwrap_err(),
        WeightsError::UnsupportedVersion(1)
    );
    assert_eq!(
        WeightsView::parse(&q).unwrap_err(),
        WeightsError::UnsupportedVersion(2)
    );
    let edit = |at: usize, bytes: &[u8], fix_crc: bool| {
        let mut b = q.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        if fix_crc {
            recrc(&mut b);
        }
        QuantView::parse(&b).unwrap_err()
    };
    let quant = |tensor: &'static str, index| WeightsError::Quantization { tensor, index };
    assert_eq!(edit(10, &[1], true), WeightsError::UnsupportedDtype(1));
    assert!(matches!(
        edit(l.c, &[5], false),
        WeightsError::CrcMismatch { .. }
    ));
    assert_eq!(
        edit(l.shifts, &0u32.to_le_bytes(), true),
        quant("shift1", 0)
    );
    assert_eq!(
        edit(l.shifts + 4, &63u32.to_le_bytes(), true),
        quant("shift2", 0)
    );
    assert_eq!(edit(l.m1 + 8, &0i32.to_le_bytes(), true), quant("m1", 2));
    assert_eq!(edit(l.m2 + 4, &(-5i32).to_le_bytes(), true), quant("m2", 1));
    assert_eq!(
        edit(l.b1 + 12, &i32::MAX.to_le_bytes(), true),
        quant("b1", 3)
    );
    assert_eq!(edit(l.b2, &i32::MIN.to_le_bytes(), true), quant("b2", 0));
    assert_eq!(edit(l.c + 7, &[0x80], true), quant("C", 7));
    assert_eq!(edit(l.w1t + 100, &[0x80], true), quant("W1", 100));
    assert_eq!(edit(l.w2t, &[0x80], true), quant("W2", 0));
    if l.crc > l.pad {
        assert_eq!(edit(l.pad, &[1], true), quant("padding", 0));
    }
    assert!(matches!(
        QuantView::parse(&q[..q.len() - 1]).unwrap_err(),
        WeightsError::Truncated { .. }
    ));
    let mut longer = q.clone();
    longer.push(0);
    assert!(matches!(
        QuantView::parse(&longer).unwrap_err(),
        WeightsError::TrailingBytes { .. }
    ));
    // Every error has a message that names the field.
    assert!(quant("m1", 2).to_string().contains("m1[2]"));
}

/// Layer 1 from the per-position int32 table gives the same logits as the matrix-vector
/// product, for every context of the canonical model's first two positions (and a third), and
/// the sampler with the table draws the same names.
#[test]
fn the_table_gives_the_same_integers() {
    let (_, q) = quantized();
    let q = QuantView::parse(&q).unwrap();
    let s = q.shape();
    let mut table = vec![0i32; charmlp::int8::table_len(s)];
    charmlp::int8::compute_table(&q, &mut table).unwrap();
    let (mut a, mut b) = (QuantVecs::new(s), QuantVecs::new(s));
    for c0 in 0..27u16 {
        for c1 in 0..27u16 {
            let ctx = [c0, c1, (c0 * 7 + c1) % 27];
            logits(Kernels::best(), &q, &ctx, &mut a.view()).unwrap();
            charmlp::int8::logits_with(Kernels::scalar(), &q, Some(&table), &ctx, &mut b.view())
                .unwrap();
            assert_eq!(a.view().z, b.view().z, "{ctx:?}");
        }
    }
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars()).unwrap();
    let cfg = SampleConfig::default();
    let plain = QuantSampler::new(q, vocab.view(), Kernels::best(), 3, cfg).unwrap();
    let tabled = QuantSampler::new(q, vocab.view(), Kernels::best(), 3, cfg)
        .unwrap()
        .with_table(&table)
        .unwrap();
    for i in 0..200 {
        let (mut x, mut y) = (String::new(), String::new());
        plain.name(i, &mut a.view(), |c| x.push(c)).unwrap();
        tabled.name(i, &mut b.view(), |c| y.push(c)).unwrap();
        assert_eq!(x, y);
    }
    assert!(matches!(
        QuantSampler::new(q, vocab.view(), Kernels::best(), 3, cfg)
            .unwrap()
            .with_table(&table[1..]),
        Err(charmlp::SampleError::TableShape)
    ));
}

/// The logits by the definition, in i64 with no chunking and no table: what every path, chunk
/// size ([`charmlp::int8::UNITS`]) and table must give.
fn logits_by_definition(q: &QuantView<'_>, ctx: &[Index]) -> Vec<i32> {
    use charmlp::int8::arith::{LOGIT_MAX, TANH_LUT, TANH_MAX, requantize};
    let s = q.shape();
    let (h, v, inp) = (s.hidden(), s.vocab(), s.input());
    let [b1, m1, b2, m2] = q.int32_fields();
    let at = |b: &[u8], j: usize| i32::from_le_bytes(b[4 * j..4 * j + 4].try_into().unwrap());
    let x: Vec<i8> = ctx
        .iter()
        .flat_map(|&c| q.c_row(usize::from(c)).to_vec())
        .collect();
    let (s1, s2) = q.shifts();
    let hid: Vec<i64> = (0..h)
        .map(|j| {
            let sum: i64 = (0..inp)
                .map(|i| i64::from(x[i]) * i64::from(q.w1t()[j * inp + i]))
                .sum();
            let p = requantize((i64::from(at(b1, j)) + sum) as i32, at(m1, j), s1)
                .clamp(-i64::from(TANH_MAX), i64::from(TANH_MAX));
            let t = i64::from(TANH_LUT[p.unsigned_abs() as usize]);
            if p < 0 { -t } else { t }
        })
        .collect();
    (0..v)
        .map(|k| {
            let sum: i64 = (0..h).map(|j| hid[j] * i64::from(q.w2t()[k * h + j])).sum();
            requantize((i64::from(at(b2, k)) + sum) as i32, at(m2, k), s2)
                .clamp(-i64::from(LOGIT_MAX), i64::from(LOGIT_MAX)) as i32
        })
        .collect()
}

/// Shapes whose hidden width is below, between and above the layer-1 chunks (48 on 32-bit
/// targets, 240 on 64-bit hosts), with and without the table, on every path: the definition's
/// integers.
#[test]
fn every_chunking_path_and_table_gives_the_definitions_logits() {
    let symbols = "abcdefghijklmnopqrstuvwxyz";
    for (hidden, block, emb, seed) in [(7, 2, 3, 1), (100, 3, 5, 2), (241, 3, 4, 3), (500, 4, 6, 4)]
    {
        let shape = charmlp::Shape::new(27, block, emb, hidden).unwrap();
        let p = ParamsBuf::init(shape, seed, charmlp::Init::Scaled).unwrap();
        let vocab = VocabBuf::from_symbols(std::iter::once('.').chain(symbols.chars())).unwrap();
        let file = quantize(&p.view(), vocab.view()).unwrap();
        let q = QuantView::parse(&file).unwrap();
        let mut table = vec![0i32; charmlp::int8::table_len(q.shape())];
        charmlp::int8::compute_table(&q, &mut table).unwrap();
        let mut scratch = QuantVecs::new(q.shape());
        for c in 0..40u64 {
            let ctx: Vec<Index> = (0..block)
                .map(|i| ((c * 7 + i as u64 * 11 + seed) % 27) as Index)
                .collect();
            let want = logits_by_definition(&q, &ctx);
            for k in Kernels::all_supported() {
                for t in [None, Some(&table[..])] {
                    charmlp::int8::logits_with(k, &q, t, &ctx, &mut scratch.view()).unwrap();
                    assert_eq!(
                        scratch.view().z.to_vec(),
                        want,
                        "H = {hidden}, ctx {ctx:?}, {}, table {}",
                        k.path(),
                        t.is_some()
                    );
                }
            }
        }
    }
}
