//! The sampler: reproducible per seed, only vocabulary symbols, validated settings, greedy
//! decoding at top-k 1, bounded names, and errors (not panics or hangs) for bad weights.
#![cfg(feature = "std")]

use charmlp::forward::{Activations, forward};
use charmlp::sample::SampleArrays;
use charmlp::{Index, Init, Kernels, Params, SampleConfig, SampleError, Sampler, Vocab};

const V: usize = 7;
const B: usize = 3;
const E: usize = 4;
const IN: usize = 12;
const H: usize = 9;
type P = Params<V, B, E, IN, H>;

fn vocab() -> Vocab<V> {
    Vocab::from_symbols(['.', 'a', 'b', 'c', 'd', 'e', 'f']).unwrap()
}

/// Random weights, shrunk so that names are a few characters long rather than saturated.
fn params(seed: u64) -> P {
    let mut p = P::init(seed, Init::Randn);
    for t in p.view_mut().tensors_mut() {
        t.iter_mut().for_each(|x| *x *= 0.7);
    }
    p
}

type S<'a> = Sampler<'a, SampleArrays<V, IN, H>>;

fn sampler<'a>(
    p: &'a P,
    v: &'a Vocab<V>,
    k: Kernels,
    seed: u64,
    c: SampleConfig,
) -> Result<S<'a>, SampleError> {
    Sampler::new(p.view(), v.view(), k, seed, c, SampleArrays::new())
}

/// The logits of one context, from the forward pass.
fn forward_one(k: Kernels, p: &P, ctx: &[Index; B], logits: &mut [f32; V]) {
    let (mut emb, mut h) = ([0.0; IN], [0.0; H]);
    forward(
        k,
        &p.view(),
        ctx,
        Activations {
            emb: &mut emb,
            h: &mut h,
            logits,
        },
    )
    .unwrap();
}

fn cfg(temperature: f32, top_k: Option<usize>, max_len: usize) -> SampleConfig {
    SampleConfig {
        temperature,
        top_k,
        max_len,
    }
}

fn names(p: &P, v: &Vocab<V>, k: Kernels, seed: u64, c: SampleConfig, n: usize) -> Vec<String> {
    let mut s = sampler(p, v, k, seed, c).unwrap();
    (0..n)
        .map(|_| s.sample_string::<256>().unwrap().as_str().to_string())
        .collect()
}

#[test]
fn same_seed_same_names_other_seed_other_names() {
    let p = params(1);
    let v = vocab();
    for k in Kernels::all_supported() {
        let c = SampleConfig::default();
        let a = names(&p, &v, k, 7, c, 50);
        let b = names(&p, &v, k, 7, c, 50);
        let d = names(&p, &v, k, 8, c, 50);
        assert_eq!(a, b, "{}", k.path());
        assert_ne!(
            a,
            d,
            "{}: another seed must give another sequence",
            k.path()
        );
        // The names are not all empty (so the comparison above means something).
        assert!(a.iter().any(|s| !s.is_empty()), "{}: {a:?}", k.path());
    }
}

#[test]
fn default_config_is_the_models_distribution() {
    let c = SampleConfig::default();
    assert_eq!(c.temperature, 1.0);
    assert_eq!(c.top_k, None);
    assert!(c.max_len > 0);
}

#[test]
fn names_use_only_vocabulary_symbols() {
    let v = vocab();
    let letters = &v.symbols()[1..];
    for k in [Kernels::scalar(), Kernels::best()] {
        for seed in 0..4 {
            let p = params(seed);
            for c in [
                cfg(1.0, None, 20),
                cfg(3.0, None, 20),
                cfg(0.3, Some(3), 20),
            ] {
                for name in names(&p, &v, k, seed + 100, c, 100) {
                    assert!(name.chars().count() <= 20, "{name}");
                    assert!(
                        name.chars().all(|ch| letters.contains(&ch)),
                        "{}: {name:?} has a symbol outside the vocabulary",
                        k.path()
                    );
                }
            }
        }
    }
}

#[test]
fn sample_with_and_sample_string_agree() {
    let p = params(2);
    let v = vocab();
    let k = Kernels::scalar();
    let mut a = sampler(&p, &v, k, 11, SampleConfig::default()).unwrap();
    let mut b = sampler(&p, &v, k, 11, SampleConfig::default()).unwrap();
    for _ in 0..30 {
        let mut s = String::new();
        let n = a.sample_with(|c| s.push(c)).unwrap();
        assert_eq!(n, s.chars().count());
        assert_eq!(b.sample_string::<128>().unwrap().as_str(), s);
    }
}

#[test]
fn bad_temperature_is_rejected() {
    let p = params(1);
    let v = vocab();
    for t in [
        0.0f32,
        -0.0,
        -1.0,
        -1e-30,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        // 1/t overflows.
        1e-45,
    ] {
        let r = sampler(&p, &v, Kernels::scalar(), 1, cfg(t, None, 10));
        match r {
            Err(SampleError::BadTemperature(x)) => {
                assert_eq!(x.to_bits(), t.to_bits(), "reported temperature")
            }
            other => panic!("temperature {t}: expected BadTemperature, got {other:?}"),
        }
    }
    // Small and large finite temperatures are fine.
    for t in [1e-3f32, 0.5, 1.0, 100.0] {
        assert!(sampler(&p, &v, Kernels::scalar(), 1, cfg(t, None, 10)).is_ok());
    }
}

#[test]
fn top_k_zero_is_rejected() {
    let p = params(1);
    let v = vocab();
    assert!(matches!(
        sampler(&p, &v, Kernels::scalar(), 1, cfg(1.0, Some(0), 10)),
        Err(SampleError::BadTopK)
    ));
    // Larger than V is the same as no limit.
    let a = names(&p, &v, Kernels::scalar(), 3, cfg(1.0, Some(1000), 20), 40);
    let b = names(&p, &v, Kernels::scalar(), 3, cfg(1.0, None, 20), 40);
    assert_eq!(a, b);
}

/// Argmax over the vocabulary's classes, lowest index on ties.
fn argmax(logits: &[f32], len: usize) -> Index {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate().take(len) {
        if l > logits[best] {
            best = i;
        }
    }
    best as Index
}

/// Greedy decoding computed directly from the forward pass.
fn greedy(p: &P, v: &Vocab<V>, k: Kernels, max_len: usize) -> String {
    let mut ctx = [0 as Index; B];
    let mut out = String::new();
    while out.chars().count() < max_len {
        let mut logits = [0.0f32; V];
        forward_one(k, p, &ctx, &mut logits);
        let ix = argmax(&logits, v.len());
        if ix == 0 {
            break;
        }
        out.push(v.decode(ix).unwrap());
        ctx = [ctx[1], ctx[2], ix];
    }
    out
}

#[test]
fn top_k_one_is_greedy_decoding() {
    let v = vocab();
    let mut nonempty = 0;
    for k in Kernels::all_supported() {
        for pseed in 0..12 {
            let p = params(pseed);
            let want = greedy(&p, &v, k, 15);
            nonempty += usize::from(!want.is_empty());
            // Whatever the seed and temperature, top-1 is the argmax path.
            for (seed, t) in [(1u64, 1.0f32), (2, 5.0), (3, 0.1)] {
                let got = names(&p, &v, k, seed, cfg(t, Some(1), 15), 3);
                for g in got {
                    assert_eq!(g, want, "{} params {pseed} seed {seed} T {t}", k.path());
                }
            }
        }
    }
    assert!(
        nonempty > 0,
        "every greedy name was empty: the test is vacuous"
    );
}

#[test]
fn top_k_draws_only_among_the_k_largest() {
    let v = vocab();
    let k = Kernels::scalar();
    let p = params(5);
    let mut s = sampler(&p, &v, k, 9, cfg(2.0, Some(2), 10)).unwrap();
    let mut seen_second = false;
    for a in 0..V as Index {
        for b in 0..V as Index {
            let ctx = [0, a, b];
            let mut logits = [0.0f32; V];
            forward_one(k, &p, &ctx, &mut logits);
            let first = argmax(&logits, V);
            let mut masked = logits;
            masked[usize::from(first)] = f32::NEG_INFINITY;
            let second = argmax(&masked, V);
            for _ in 0..20 {
                let ix = s.next_index(&ctx).unwrap();
                assert!(ix == first || ix == second, "ctx {ctx:?}: drew {ix}");
                seen_second |= ix == second;
            }
        }
    }
    assert!(seen_second, "top-2 never drew the second choice");
}

#[test]
fn max_len_is_respected() {
    let v = vocab();
    let mut p = params(3);
    // The terminator is never likely: names run until max_len.
    p.b2[0] = -1e4;
    for k in [Kernels::scalar(), Kernels::best()] {
        for max_len in [0usize, 1, 5, 33] {
            let got = names(&p, &v, k, 4, cfg(1.0, None, max_len), 20);
            for n in got {
                assert_eq!(n.chars().count(), max_len, "{}", k.path());
            }
        }
    }
    // With an ordinary model, names never exceed max_len.
    let p = params(3);
    for n in names(&p, &v, Kernels::scalar(), 5, cfg(2.0, None, 4), 200) {
        assert!(n.chars().count() <= 4, "{n}");
    }
}

#[test]
fn small_buffer_is_buffer_full() {
    let v = vocab();
    let mut p = params(3);
    p.b2[0] = -1e4;
    let mut s = sampler(&p, &v, Kernels::scalar(), 1, cfg(1.0, None, 10)).unwrap();
    assert_eq!(s.sample_string::<4>().err(), Some(SampleError::BufferFull));
    assert_eq!(s.sample_string::<9>().err(), Some(SampleError::BufferFull));
    // Exactly fits.
    assert_eq!(s.sample_string::<10>().unwrap().len(), 10);
    // A multi-byte vocabulary counts bytes, not characters.
    let w: Vocab<V> = Vocab::from_symbols(['.', 'é', 'ж', 'ü', 'ß', 'ø', 'å']).unwrap();
    let mut s = sampler(&p, &w, Kernels::scalar(), 1, cfg(1.0, None, 10)).unwrap();
    assert_eq!(s.sample_string::<10>().err(), Some(SampleError::BufferFull));
    let n = s.sample_string::<20>().unwrap();
    assert_eq!((n.len(), n.chars().count()), (20, 10));
}

type Poison = fn(&mut P);

#[test]
fn nan_weights_are_an_error_not_a_panic_or_hang() {
    let v = vocab();
    // (what is poisoned, how)
    let poison: [(&str, Poison); 6] = [
        ("W2[0][0]", |p| p.w2[0][0] = f32::NAN),
        ("W2[4][3]", |p| p.w2[4][3] = f32::NAN),
        ("W2 column 0", |p| {
            p.w2.iter_mut().for_each(|r| r[0] = f32::NAN)
        }),
        ("W1[2][1]", |p| p.w1[2][1] = f32::NAN),
        ("b2[5]", |p| p.b2[5] = f32::NAN),
        ("C[0][0]", |p| p.c[0][0] = f32::NAN),
    ];
    for k in Kernels::all_supported() {
        for (what, f) in poison {
            for top_k in [None, Some(1), Some(2), Some(6)] {
                let mut p = params(1);
                f(&mut p);
                let mut s = sampler(&p, &v, k, 1, cfg(1.0, top_k, 50)).unwrap();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    (0..20)
                        .map(|_| s.sample_string::<64>().map(|_| ()))
                        .find(|r| r.is_err())
                }));
                let r = r.unwrap_or_else(|_| panic!("{}: {what} top_k {top_k:?}: panic", k.path()));
                assert_eq!(
                    r,
                    Some(Err(SampleError::NonFiniteWeights)),
                    "{}: {what} top_k {top_k:?}",
                    k.path()
                );
            }
        }
    }
}

/// The batched sampler reports poisoned weights the same way, with and without its memo.
#[test]
fn batched_nan_weights_are_an_error() {
    use charmlp::sample::sample_many;
    let v = vocab();
    for k in Kernels::all_supported() {
        for memo in [false, true] {
            let mut p = params(1);
            p.w2[4][3] = f32::NAN;
            let c = cfg(1.0, None, 50);
            let r = sample_many(p.view(), v.view(), k, None, 1, c, "", 0, 20, 8, memo);
            assert_eq!(
                r,
                Err(SampleError::NonFiniteWeights),
                "{} memo {memo}",
                k.path()
            );
        }
    }
}

#[test]
fn infinite_weights_are_an_error() {
    let v = vocab();
    for k in Kernels::all_supported() {
        let mut p = params(1);
        p.b2[2] = f32::INFINITY;
        let mut s = sampler(&p, &v, k, 1, cfg(1.0, None, 50)).unwrap();
        assert_eq!(
            s.sample_string::<64>().err(),
            Some(SampleError::NonFiniteWeights),
            "{}",
            k.path()
        );
    }
}

#[test]
fn spare_classes_are_never_sampled() {
    // V = 7 classes, 4 symbols: classes 4, 5, 6 are spare. Make them the most likely ones so
    // that a missing mask would show at once.
    let v: Vocab<V> = Vocab::from_symbols(['.', 'x', 'y', 'z']).unwrap();
    let mut p = params(6);
    p.b2[4] = 8.0;
    p.b2[5] = 8.0;
    p.b2[6] = 8.0;
    for k in [Kernels::scalar(), Kernels::best()] {
        for top_k in [None, Some(2), Some(5)] {
            let got = names(&p, &v, k, 77, cfg(5.0, top_k, 30), 500);
            let mut total = 0;
            for n in &got {
                assert!(n.chars().all(|c| "xyz".contains(c)), "{n:?}");
                total += n.chars().count();
            }
            assert!(total > 0, "{}: only empty names", k.path());
            // And index by index.
            let mut s = sampler(&p, &v, k, 78, cfg(5.0, top_k, 30)).unwrap();
            for i in 0..2000u32 {
                let ctx = [0, (i % 4) as Index, ((i / 4) % 4) as Index];
                let ix = s.next_index(&ctx).unwrap();
                assert!(
                    usize::from(ix) < v.len(),
                    "{}: drew spare class {ix}",
                    k.path()
                );
            }
        }
    }
}

#[test]
fn sampling_follows_the_models_distribution() {
    // One context, many draws: the frequencies match softmax(logits / T) within 5 standard
    // errors (a test that fails about once in 10^6 runs for a correct sampler; the seed is
    // fixed, so it is deterministic).
    let v = vocab();
    let p = params(8);
    let k = Kernels::scalar();
    let t = 1.5f32;
    let ctx: [Index; 3] = [0, 1, 2];
    let mut logits = [0.0f32; V];
    forward_one(k, &p, &ctx, &mut logits);
    let m = logits
        .iter()
        .cloned()
        .fold(f64::MIN, |a, b| a.max(f64::from(b)));
    let w: Vec<f64> = logits
        .iter()
        .map(|&l| ((f64::from(l) - m) / f64::from(t)).exp())
        .collect();
    let z: f64 = w.iter().sum();
    let n = 200_000usize;
    let mut counts = [0usize; V];
    let mut s = sampler(&p, &v, k, 1234, cfg(t, None, 10)).unwrap();
    for _ in 0..n {
        counts[usize::from(s.next_index(&ctx).unwrap())] += 1;
    }
    for (i, (&wi, &ci)) in w.iter().zip(&counts).enumerate() {
        let q = wi / z;
        let se = (q * (1.0 - q) / n as f64).sqrt();
        let f = ci as f64 / n as f64;
        assert!(
            (f - q).abs() <= 5.0 * se + 1e-6,
            "class {i}: frequency {f}, probability {q}"
        );
    }
}

/// `score_with` is the log-softmax of the forward pass at each character and at the end
/// marker, summed (checked against an f64 log-softmax of the same logits).
#[test]
fn scores_are_the_log_softmax_of_the_forward_pass() {
    let p = params(3);
    let v = vocab();
    for k in Kernels::all_supported() {
        let mut s = sampler(&p, &v, k, 1, cfg(0.5, Some(2), 10)).unwrap();
        let name = "abcaf";
        let mut got = Vec::new();
        let total = s.score_with(name, |c, lp| got.push((c, lp))).unwrap();
        let mut ctx = [0 as Index; B];
        let mut want_total = 0.0f64;
        let chars: Vec<char> = name.chars().chain(std::iter::once('.')).collect();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), chars);
        for (i, &c) in chars.iter().enumerate() {
            let mut logits = [0.0f32; V];
            forward_one(k, &p, &ctx, &mut logits);
            let m = logits.iter().fold(f64::MIN, |a, &b| a.max(f64::from(b)));
            let lse = m + logits
                .iter()
                .map(|&l| (f64::from(l) - m).exp())
                .sum::<f64>()
                .ln();
            let t = v.view().encode(c).unwrap();
            let want = f64::from(logits[usize::from(t)]) - lse;
            assert!(
                (f64::from(got[i].1) - want).abs() < 1e-5,
                "{}: {c}: {} vs {want}",
                k.path(),
                got[i].1
            );
            want_total += want;
            ctx.rotate_left(1);
            ctx[B - 1] = t;
        }
        assert!((f64::from(total) - want_total).abs() < 1e-4);
        // Scoring draws nothing: the sampler's stream is where it was.
        let mut a = sampler(&p, &v, k, 1, cfg(1.0, None, 10)).unwrap();
        let mut b = sampler(&p, &v, k, 1, cfg(1.0, None, 10)).unwrap();
        b.score_with("ab", |_, _| {}).unwrap();
        let name = |s: &mut S<'_>| {
            let mut n = String::new();
            s.sample_with(|c| n.push(c)).unwrap();
            n
        };
        assert_eq!(name(&mut a), name(&mut b));
        // Symbols outside the vocabulary, and the end marker, are errors naming them.
        assert_eq!(
            s.score_with("abz", |_, _| {}),
            Err(SampleError::Symbol('z'))
        );
        assert_eq!(
            s.score_with("a.b", |_, _| {}),
            Err(SampleError::Symbol('.'))
        );
    }
}

/// `sample_prefixed` emits the prefix, then continues it; `max_len` bounds the whole name; a
/// bad prefix is an error before anything is emitted.
#[test]
fn prefixed_names_start_with_the_prefix() {
    let p = params(4);
    let v = vocab();
    let k = Kernels::best();
    let mut s = sampler(&p, &v, k, 9, cfg(1.0, None, 6)).unwrap();
    for _ in 0..50 {
        let mut n = String::new();
        let len = s.sample_prefixed("fa", |c| n.push(c)).unwrap();
        assert!(n.starts_with("fa"), "{n}");
        assert_eq!(n.chars().count(), len);
        assert!(len <= 6);
    }
    let mut n = String::new();
    assert_eq!(s.sample_prefixed("abcdefab", |c| n.push(c)).unwrap(), 6);
    assert_eq!(n, "abcdef");
    let mut emitted = 0;
    assert_eq!(
        s.sample_prefixed("abq", |_| emitted += 1),
        Err(SampleError::Symbol('q'))
    );
    assert_eq!(emitted, 0);
    // The empty prefix is plain sampling, draw for draw.
    let mut a = sampler(&p, &v, k, 5, cfg(1.0, None, 12)).unwrap();
    let mut b = sampler(&p, &v, k, 5, cfg(1.0, None, 12)).unwrap();
    for _ in 0..20 {
        let (mut x, mut y) = (String::new(), String::new());
        a.sample_with(|c| x.push(c)).unwrap();
        b.sample_prefixed("", |c| y.push(c)).unwrap();
        assert_eq!(x, y);
    }
}

/// `sample_many` gives, name for name, what one `Sampler` prints — whatever the batch, the
/// starting name, the table, the prefix and the settings — on every kernel path.
#[test]
fn batched_names_are_the_single_samplers_names() {
    use charmlp::sample::sample_many;
    use charmlp::table::{TableView, compute_table, table_len};
    let p = params(5);
    let v = vocab();
    let mut t = vec![0.0; table_len(&P::SHAPE)];
    compute_table(Kernels::scalar(), &p.view(), &mut t).unwrap();
    let table = TableView::new(P::SHAPE, &t).unwrap();
    for k in Kernels::all_supported() {
        for (c, prefix) in [
            (cfg(1.0, None, 12), ""),
            (cfg(0.7, Some(3), 8), "ab"),
            (cfg(1.3, None, 3), "abcd"),
        ] {
            let mut one = sampler(&p, &v, k, 11, c).unwrap();
            one.seek_name(5);
            let want: Vec<String> = (0..40)
                .map(|_| {
                    let mut s = String::new();
                    one.sample_prefixed(prefix, |ch| s.push(ch)).unwrap();
                    s
                })
                .collect();
            for rows in [1, 3, 32] {
                for tab in [None, Some(table)] {
                    for memo in [false, true] {
                        let got = sample_many(
                            p.view(),
                            v.view(),
                            k,
                            tab,
                            11,
                            c,
                            prefix,
                            5,
                            40,
                            rows,
                            memo,
                        )
                        .unwrap();
                        assert_eq!(
                            got,
                            want,
                            "{} rows {rows} table {} memo {memo}",
                            k.path(),
                            tab.is_some()
                        );
                    }
                }
            }
        }
    }
}
