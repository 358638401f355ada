//! The dense-layer matmuls on every path: bit for bit against the scalar reference on random
//! shapes (every tail, every segment length), the scalar reference against an independent
//! implementation of the reference arithmetic (`f32::mul_add` chains written from the spec),
//! and the reference against the exact f64 result within its rounding bound.
//!
//! The spec (`charmlp_kernels::scalar` module docs): a *chain* is `t = a₀·b₀` then
//! `t = fma(aₚ, bₚ, t)` in increasing `p`; a forward layer is `((b + T₀) + T₁) + …` over its
//! segments; `dW = Xᵀ·dY` chains over the rows; `dX = dY·Wᵀ` chains over the columns of `dY`,
//! then `·fma(−h, h, 1)`; `db = ((0 + dY₀) + dY₁) + …`.

mod common;
use charmlp_kernels::{Kernels, Mat, MatMut};
use common::*;
use proptest::prelude::*;

/// A chain over `n` products `a[p·sa]·b[p·sb]`, written from the spec with std's `mul_add`.
fn chain(n: usize, a: impl Fn(usize) -> f32, b: impl Fn(usize) -> f32) -> f32 {
    if n == 0 {
        return 0.0;
    }
    let mut t = a(0) * b(0);
    for p in 1..n {
        t = a(p).mul_add(b(p), t);
    }
    t
}

/// `y = epi(x·w + b)` per the spec: segments of `seg` inputs, `tanh` from the scalar reference
/// (its own tests cover it).
fn spec_layer(
    (m, k, n, seg): (usize, usize, usize, usize),
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    tanh: bool,
) -> Vec<f32> {
    let mut y = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut o = 0.0f32;
            for s in 0..(k / seg).max(1) {
                let len = if k == 0 { 0 } else { seg };
                let t = chain(
                    len,
                    |p| x[i * k + s * seg + p],
                    |p| w[(s * seg + p) * n + j],
                );
                o = if s == 0 {
                    b.map_or(t, |b| b[j] + t)
                } else {
                    o + t
                };
            }
            y[i * n + j] = if tanh {
                charmlp_kernels::scalar::tanh(o)
            } else {
                o
            };
        }
    }
    y
}

/// Values in ±2 with a few specials mixed in (signed zeros, subnormals, larger magnitudes).
fn vals(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![
            8 => -2.0f32..2.0,
            1 => prop::sample::select(vec![0.0f32, -0.0, 1e-40, -3e-39, 1e-3, 37.5, -1e4]),
        ],
        n,
    )
}

/// Segment lengths that divide `k`.
fn segment(k: usize) -> impl Strategy<Value = usize> {
    let divisors: Vec<usize> = (1..=k.max(1))
        .filter(|d| k.max(1).is_multiple_of(*d))
        .collect();
    prop::sample::select(divisors)
}

/// One random problem: shapes, segment, operands.
#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    seg: usize,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    dy: Vec<f32>,
    h: Vec<f32>,
}

fn case() -> impl Strategy<Value = Case> {
    case_in(1..=37, 1..=70, 1..=70)
}

/// Cases with `m`, `k`, `n` drawn from the given ranges.
fn case_in(
    m: core::ops::RangeInclusive<usize>,
    k: core::ops::RangeInclusive<usize>,
    n: core::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Case> {
    (m, k, n)
        .prop_flat_map(|(m, k, n)| {
            (
                Just((m, k, n)),
                segment(k),
                vals(m * k),
                vals(k * n),
                vals(n),
                vals(m * n),
                prop::collection::vec(-1.0f32..=1.0, m * k),
            )
        })
        .prop_map(|((m, k, n), seg, x, w, b, dy, h)| Case {
            m,
            k,
            n,
            seg,
            x,
            w,
            b,
            dy,
            h,
        })
}

/// Every kernel on path `k` for case `c`: linear, linear_tanh (segmented), matmul, matmul_tn,
/// matmul_nt, matmul_nt_tanh_backward, bias_grad.
fn run(kern: Kernels, c: &Case) -> [Vec<f32>; 7] {
    let (m, k, n) = (c.m, c.k, c.n);
    let x = Mat::new(&c.x, m, k).unwrap();
    let w = Mat::new(&c.w, k, n).unwrap();
    let dy = Mat::new(&c.dy, m, n).unwrap();
    let h = Mat::new(&c.h, m, k).unwrap();
    let mut out: [Vec<f32>; 7] = [
        vec![f32::NAN; m * n],
        vec![f32::NAN; m * n],
        vec![f32::NAN; m * n],
        vec![f32::NAN; k * n],
        vec![f32::NAN; m * k],
        vec![f32::NAN; m * k],
        vec![f32::NAN; n],
    ];
    let [o0, o1, o2, o3, o4, o5, o6] = &mut out;
    kern.linear(x, w, &c.b, MatMut::new(o0, m, n).unwrap())
        .unwrap();
    kern.linear_tanh(x, w, &c.b, c.seg, MatMut::new(o1, m, n).unwrap())
        .unwrap();
    kern.matmul(x, w, MatMut::new(o2, m, n).unwrap()).unwrap();
    kern.matmul_tn(x, dy, MatMut::new(o3, k, n).unwrap())
        .unwrap();
    // dX = dY·Wᵀ with W (k×n) playing the weights of a layer with k outputs... here: dY (m×n),
    // W (k×n) → dX (m×k).
    kern.matmul_nt(dy, w, MatMut::new(o4, m, k).unwrap())
        .unwrap();
    kern.matmul_nt_tanh_backward(dy, w, h, MatMut::new(o5, m, k).unwrap())
        .unwrap();
    kern.bias_grad(dy, o6).unwrap();
    out
}

const NAMES: [&str; 7] = [
    "linear",
    "linear_tanh",
    "matmul",
    "matmul_tn",
    "matmul_nt",
    "matmul_nt_tanh_backward",
    "bias_grad",
];

/// The spec's results for case `c`, computed independently.
fn spec(c: &Case) -> [Vec<f32>; 7] {
    let (m, k, n) = (c.m, c.k, c.n);
    let mut tn = vec![0.0f32; k * n];
    for i in 0..k {
        for j in 0..n {
            tn[i * n + j] = chain(m, |r| c.x[r * k + i], |r| c.dy[r * n + j]);
        }
    }
    let mut nt = vec![0.0f32; m * k];
    let mut ntb = vec![0.0f32; m * k];
    for r in 0..m {
        for i in 0..k {
            let acc = chain(n, |j| c.dy[r * n + j], |j| c.w[i * n + j]);
            nt[r * k + i] = acc;
            let hv = c.h[r * k + i];
            ntb[r * k + i] = acc * (-hv).mul_add(hv, 1.0);
        }
    }
    let mut db = vec![0.0f32; n];
    for row in c.dy.chunks_exact(n.max(1)).take(m) {
        for (d, &g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
    [
        spec_layer((m, k, n, k), &c.x, &c.w, Some(&c.b), false),
        spec_layer((m, k, n, c.seg), &c.x, &c.w, Some(&c.b), true),
        spec_layer((m, k, n, k), &c.x, &c.w, None, false),
        tn,
        nt,
        ntb,
        db,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The scalar reference computes exactly what the spec says.
    #[test]
    fn scalar_reference_follows_the_spec(c in case()) {
        let got = run(Kernels::scalar(), &c);
        for ((g, w), name) in got.iter().zip(spec(&c)).zip(NAMES) {
            if let Some(i) = first_difference(g, &w) {
                prop_assert!(false, "{} m={} k={} n={} seg={}: [{}] = {:e}, spec {:e}", name, c.m, c.k, c.n, c.seg, i, g[i], w[i]);
            }
        }
    }

    /// Every path gives the scalar reference's bits.
    #[test]
    fn every_path_is_the_reference(c in case()) {
        every_path_matches(&c)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Long reductions too: `n` past `matmul_nt`'s 128-row panel chunks (the canonical
    /// `demb`, `n` = 200), several column blocks of `k`.
    #[test]
    fn every_path_is_the_reference_for_long_reductions(c in case_in(1..=9, 1..=70, 100..=300)) {
        every_path_matches(&c)?;
    }
}

/// Every SIMD path's results are the scalar reference's bits for `c`.
fn every_path_matches(c: &Case) -> Result<(), TestCaseError> {
    {
        let want = run(Kernels::scalar(), c);
        for kern in simd_paths() {
            let got = run(kern, c);
            for ((g, w), name) in got.iter().zip(&want).zip(NAMES) {
                if let Some(i) = first_difference(g, w) {
                    prop_assert!(
                        false,
                        "{} {} m={} k={} n={} seg={}: [{}] = {:e}, scalar {:e}",
                        kern.path().name(),
                        name,
                        c.m,
                        c.k,
                        c.n,
                        c.seg,
                        i,
                        g[i],
                        w[i]
                    );
                }
            }
        }
    }
    Ok(())
}

/// The model's shapes (canonical forward, backward and sampling), checked against the exact
/// product: every chain of `K` fused terms is within `K·ε·Σ|x·w|` (plus the bias and segment
/// additions) of the exact value, on every path (they are all the reference).
#[test]
fn model_shapes_within_the_rounding_bound() {
    let mut s = 0x243f_6a88_85a3_08d3u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
    };
    for (m, k, n, seg) in [
        (32, 30, 200, 10),
        (32, 200, 27, 200),
        (1, 30, 200, 10),
        (1, 200, 27, 200),
    ] {
        let x: Vec<f32> = (0..m * k).map(|_| next()).collect();
        let w: Vec<f32> = (0..k * n).map(|_| next()).collect();
        let b: Vec<f32> = (0..n).map(|_| next()).collect();
        for kern in all_paths() {
            let mut y = vec![0.0f32; m * n];
            kern.linear(
                Mat::new(&x, m, k).unwrap(),
                Mat::new(&w, k, n).unwrap(),
                &b,
                MatMut::new(&mut y, m, n).unwrap(),
            )
            .unwrap();
            let mut yt = vec![0.0f32; m * n];
            kern.linear_tanh(
                Mat::new(&x, m, k).unwrap(),
                Mat::new(&w, k, n).unwrap(),
                &b,
                seg,
                MatMut::new(&mut yt, m, n).unwrap(),
            )
            .unwrap();
            for i in 0..m {
                for j in 0..n {
                    let (mut exact, mut abs) = (b[j] as f64, (b[j] as f64).abs());
                    for p in 0..k {
                        let t = x[i * k + p] as f64 * w[p * n + j] as f64;
                        exact += t;
                        abs += t.abs();
                    }
                    let bound = (k as f64 + 2.0) * U * abs;
                    let got = y[i * n + j] as f64;
                    assert!(
                        (got - exact).abs() <= bound,
                        "{} {m}x{k}x{n}: y[{i}][{j}] = {got:e}, exact {exact:e}",
                        kern.path().name()
                    );
                    // The segmented layer adds one rounding per segment; tanh is 1-Lipschitz and
                    // within 2 ulp.
                    let segs = (k / seg) as f64;
                    let bt = (k as f64 + segs + 1.0) * U * abs + 2.0 * ulp_at(exact.tanh()) + 1e-30;
                    let gt = yt[i * n + j] as f64;
                    assert!(
                        (gt - exact.tanh()).abs() <= bt,
                        "{} {m}x{k}x{n} seg {seg}: tanh y[{i}][{j}] = {gt:e}, exact {:e}",
                        kern.path().name(),
                        exact.tanh()
                    );
                }
            }
        }
    }
}

/// A layer whose segments are summed in another order would differ: the association is part of
/// the spec (checked on an input where it matters).
#[test]
fn segments_change_the_bits_only_as_specified() {
    // x = [1, 0, 2⁻²⁴, 2⁻²⁴] against w = 1. One segment of 4 is one chain, left to right:
    // 1 + 0 = 1, then 1 + 2⁻²⁴ ties to even (1) twice: y = tanh(1). Two segments of 2 give
    // T₀ = 1 and T₁ = 2⁻²⁴ + 2⁻²⁴ = 2⁻²³ exactly, and (b + T₀) + T₁ = 1 + 2⁻²³.
    let e = f32::EPSILON / 2.0;
    let x = [1.0f32, 0.0, e, e];
    let w = [1.0f32; 4];
    for kern in all_paths() {
        let mut one = [0.0f32];
        let mut two = [0.0f32];
        kern.linear_tanh(
            Mat::new(&x, 1, 4).unwrap(),
            Mat::new(&w, 4, 1).unwrap(),
            &[0.0],
            4,
            MatMut::new(&mut one, 1, 1).unwrap(),
        )
        .unwrap();
        kern.linear_tanh(
            Mat::new(&x, 1, 4).unwrap(),
            Mat::new(&w, 4, 1).unwrap(),
            &[0.0],
            2,
            MatMut::new(&mut two, 1, 1).unwrap(),
        )
        .unwrap();
        // tanh(1) vs tanh(1 + 2⁻²³): different arguments.
        let t1 = charmlp_kernels::scalar::tanh(1.0);
        let t2 = charmlp_kernels::scalar::tanh(1.0 + f32::EPSILON);
        assert_eq!(one[0].to_bits(), t1.to_bits(), "{}", kern.path().name());
        assert_eq!(two[0].to_bits(), t2.to_bits(), "{}", kern.path().name());
    }
}

#[test]
fn shapes_that_disagree_are_errors_and_write_nothing() {
    let k = Kernels::best();
    let x = [1.0f32; 6];
    let w = [1.0f32; 6];
    let mut y = [7.0f32; 4];
    assert!(
        k.linear(
            Mat::new(&x, 2, 3).unwrap(),
            Mat::new(&w, 2, 3).unwrap(),
            &[0.0; 3],
            MatMut::new(&mut y[..], 2, 2).unwrap()
        )
        .is_err()
    );
    assert_eq!(y, [7.0; 4]);
    // A segment that does not divide the inputs.
    let mut y = [7.0f32; 4];
    assert!(
        k.linear_tanh(
            Mat::new(&x, 2, 3).unwrap(),
            Mat::new(&w, 3, 2).unwrap(),
            &[0.0; 2],
            2,
            MatMut::new(&mut y[..], 2, 2).unwrap()
        )
        .is_err()
    );
    assert_eq!(y, [7.0; 4]);
    assert!(Mat::new(&x, 4, 2).is_err());
}

/// Wide layers take the packed and row-panel sweeps of the tiles (rows of `W` 16 KB or more
/// apart): still the reference's bits on every path.
#[test]
fn wide_layers_are_the_reference_too() {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut data = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    };
    let (m, k, n) = (7usize, 300usize, 4100usize);
    let (x, w, b) = (data(m * k), data(k * n), data(n));
    let (big_m, dy) = (61usize, data(61 * n));
    let xt = data(61 * 45);
    let xs = data(3 * big_m);
    let reference = |kern: charmlp_kernels::Kernels| {
        let mut y = vec![0.0f32; m * n];
        kern.linear(
            Mat::new(&x, m, k).unwrap(),
            Mat::new(&w, k, n).unwrap(),
            &b,
            MatMut::new(&mut y, m, n).unwrap(),
        )
        .unwrap();
        let mut yt = vec![0.0f32; m * n];
        kern.linear_tanh(
            Mat::new(&x, m, k).unwrap(),
            Mat::new(&w, k, n).unwrap(),
            &b,
            100,
            MatMut::new(&mut yt, m, n).unwrap(),
        )
        .unwrap();
        let mut dw = vec![0.0f32; 45 * n];
        kern.matmul_tn(
            Mat::new(&xt, big_m, 45).unwrap(),
            Mat::new(&dy, big_m, n).unwrap(),
            MatMut::new(&mut dw, 45, n).unwrap(),
        )
        .unwrap();
        let mut dw2 = vec![0.0f32; big_m * n];
        kern.matmul_tn(
            Mat::new(&xs, 3, big_m).unwrap(),
            Mat::new(&dy[..3 * n], 3, n).unwrap(),
            MatMut::new(&mut dw2, big_m, n).unwrap(),
        )
        .unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        (bits(&y), bits(&yt), bits(&dw), bits(&dw2))
    };
    let want = reference(charmlp_kernels::Kernels::scalar());
    for kern in all_paths() {
        assert!(
            reference(kern) == want,
            "{} differs from scalar on a wide layer",
            kern.path().name()
        );
    }
}

/// The fused weight and bias updates are, to the bit, the gradient then `sgd` of the
/// reference, on every path (the canonical shapes, odd ones, and a wide one).
#[test]
fn fused_sgd_is_the_gradient_then_sgd() {
    let mut s = 0x0dd5_eed5_0000_0001u64;
    let mut data = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    };
    for (m, k, n) in [
        (32, 200, 27),
        (32, 30, 200),
        (1, 1, 1),
        (7, 13, 65),
        (3, 5, 4100),
        (0, 4, 5),
    ] {
        let (x, dy, w) = (data(m * k), data(m * n), data(k * n));
        let b = data(n);
        for lr in [0.1f32, 0.01, 3.0] {
            let r = charmlp_kernels::Kernels::scalar();
            let mut g = vec![0.0f32; k * n];
            r.matmul_tn(
                Mat::new(&x, m, k).unwrap(),
                Mat::new(&dy, m, n).unwrap(),
                MatMut::new(&mut g, k, n).unwrap(),
            )
            .unwrap();
            let mut want = w.clone();
            r.sgd(&mut want, &g, lr).unwrap();
            let mut gb = vec![0.0f32; n];
            r.bias_grad(Mat::new(&dy, m, n).unwrap(), &mut gb).unwrap();
            let mut want_b = b.clone();
            r.sgd(&mut want_b, &gb, lr).unwrap();
            for kern in all_paths() {
                let mut got = w.clone();
                kern.matmul_tn_sgd(
                    Mat::new(&x, m, k).unwrap(),
                    Mat::new(&dy, m, n).unwrap(),
                    MatMut::new(&mut got, k, n).unwrap(),
                    lr,
                )
                .unwrap();
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} tn_sgd {m}x{k}x{n}",
                    kern.path().name()
                );
                let mut got_b = b.clone();
                kern.bias_grad_sgd(Mat::new(&dy, m, n).unwrap(), &mut got_b, lr)
                    .unwrap();
                assert!(
                    got_b
                        .iter()
                        .zip(&want_b)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} bias_sgd {m}x{n}",
                    kern.path().name()
                );
            }
        }
    }
}
