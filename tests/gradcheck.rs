//! Gradient check of every parameter tensor on random shapes, Karpathy's three levels:
//! 1. exact — where the math says two computations are the same, they agree to the bit;
//! 2. allclose — each analytic f32 gradient against f64 central finite differences of an
//!    independent f64 forward pass;
//! 3. the maximum difference per tensor is printed.
//!
//! Shapes (V, B, E, H) and batch sizes are drawn at random, so the run-time path is checked on
//! shapes no const generic names, tails of every kernel included.
#![cfg(feature = "std")]

use charmlp::backward::{BackwardBufs, backward};
use charmlp::forward::{Activations, forward};
use charmlp::kernels::{Mat, MatMut};
use charmlp::{Index, Init, Kernels, ParamsBuf, Shape, WorkspaceBuf};
use proptest::prelude::*;

/// The mean cross-entropy in f64, written from the definition with plain loops; `p` holds the
/// five tensors of `s`.
fn loss64(s: Shape, p: &[Vec<f64>; 5], ctx: &[Index], y: &[Index]) -> f64 {
    let (v, b, e, inp, h) = (s.vocab(), s.block(), s.emb(), s.input(), s.hidden());
    let [c, w1, b1, w2, b2] = p;
    let mut total = 0.0;
    for (x, &t) in ctx.chunks(b).zip(y) {
        let mut emb = vec![0.0f64; inp];
        for (j, &ix) in x.iter().enumerate() {
            for q in 0..e {
                emb[j * e + q] = c[ix as usize * e + q];
            }
        }
        let mut hid = vec![0.0f64; h];
        for (k, hk) in hid.iter_mut().enumerate() {
            let mut sum = b1[k];
            for (i, ev) in emb.iter().enumerate() {
                sum += ev * w1[i * h + k];
            }
            *hk = sum.tanh();
        }
        let mut logits = vec![0.0f64; v];
        for (o, l) in logits.iter_mut().enumerate() {
            let mut sum = b2[o];
            for (k, hk) in hid.iter().enumerate() {
                sum += hk * w2[k * v + o];
            }
            *l = sum;
        }
        let m = logits.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
        total += lse - logits[t as usize];
    }
    total / y.len() as f64
}

/// Parameters (randn scaled by 0.5, so the tanh units are not saturated and the gradients are
/// informative) and a batch of `n` contexts drawn from `seed`.
fn setup(s: Shape, n: usize, seed: u64) -> (ParamsBuf, Vec<Index>, Vec<Index>) {
    let mut p = ParamsBuf::init(s, seed, Init::Randn).unwrap();
    p.as_mut_slice().iter_mut().for_each(|x| *x *= 0.5);
    let v = s.vocab() as u64;
    let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        (r % v) as Index
    };
    let ctx = (0..n * s.block()).map(|_| next()).collect();
    let y = (0..n).map(|_| next()).collect();
    (p, ctx, y)
}

/// Checks every gradient of `s` at batch `n` on every path; returns the largest difference.
fn check_gradients(s: Shape, n: usize, seed: u64) -> f64 {
    let names = ["C", "W1", "b1", "W2", "b2"];
    let (p, ctx, y) = setup(s, n, seed);
    let p64: [Vec<f64>; 5] = p
        .view()
        .tensors()
        .map(|t| t.iter().map(|&x| x as f64).collect());
    let l64 = loss64(s, &p64, &ctx, &y);
    let mut worst = 0.0f64;
    for k in Kernels::all_supported() {
        let mut ws = WorkspaceBuf::new(k, s, n).unwrap();
        let mut wv = ws.view();
        let loss = wv.loss_and_grad(&p.view(), &ctx, &y).unwrap();
        assert!(
            (loss as f64 - l64).abs() < 1e-5 * (1.0 + l64),
            "{s} n={n} {}: loss {loss} vs f64 {l64}",
            k.path()
        );
        let grads = wv.grads().expect("a workspace with gradients");
        for (ti, name) in names.iter().enumerate() {
            let g = grads.tensors()[ti];
            for i in 0..p64[ti].len() {
                let eps = 1e-6;
                let mut plus = p64.clone();
                plus[ti][i] += eps;
                let mut minus = p64.clone();
                minus[ti][i] -= eps;
                let num = (loss64(s, &plus, &ctx, &y) - loss64(s, &minus, &ctx, &y)) / (2.0 * eps);
                let ana = g[i] as f64;
                let d = (num - ana).abs();
                worst = worst.max(d);
                // f32 gradients of O(0.1) carry ~1e-8 rounding; the f64 central difference has
                // O(eps²) truncation and ~1e-10 cancellation error. 2e-6 + 1e-4·|g| leaves room
                // for neither a missing term nor a wrong factor.
                assert!(
                    d <= 2e-6 + 1e-4 * num.abs(),
                    "{s} n={n} path {} seed {seed}: d{name}[{i}] analytic {ana} vs numeric {num}",
                    k.path()
                );
            }
        }
    }
    worst
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// Random shapes, including V = 2, B = 1, E = 1, H = 1 and widths that hit every SIMD tail.
    #[test]
    fn random_shapes_match_f64_finite_differences(
        v in 2usize..=13, b in 1usize..=4, e in 1usize..=5, h in 1usize..=19, n in 1usize..=7,
        seed in any::<u64>(),
    ) {
        let s = Shape::new(v, b, e, h).unwrap();
        check_gradients(s, n, seed);
    }
}

/// The lecture's shape at a small batch, and a wide one, with the largest difference printed.
#[test]
fn model_shapes_match_f64_finite_differences() {
    for (v, b, e, h, n) in [(27, 3, 10, 20, 4), (7, 3, 4, 9, 5), (40, 2, 3, 33, 3)] {
        let s = Shape::new(v, b, e, h).unwrap();
        let worst = check_gradients(s, n, 1);
        eprintln!("{s} batch {n}: max |analytic − numeric| = {worst:.3e}");
    }
}

#[test]
fn exact_identities_hold_bit_for_bit() {
    let s = Shape::new(7, 3, 4, 9).unwrap();
    let n = 5;
    for k in Kernels::all_supported() {
        let (p, ctx, y) = setup(s, n, 7);
        let (mut emb, mut h, mut logits) = (
            vec![0.0; n * s.input()],
            vec![0.0; n * s.hidden()],
            vec![0.0; n * s.vocab()],
        );
        forward(
            k,
            &p.view(),
            &ctx,
            Activations {
                emb: &mut emb,
                h: &mut h,
                logits: &mut logits,
            },
        )
        .unwrap();
        let mut dlogits = vec![0.0f32; n * s.vocab()];
        k.cross_entropy(
            Mat::new(&logits, n, s.vocab()).unwrap(),
            &y,
            Some(MatMut::new(&mut dlogits, n, s.vocab()).unwrap()),
        )
        .unwrap();
        let (mut dpre, mut demb) = (vec![0.0; n * s.hidden()], vec![0.0; n * s.input()]);
        let mut g = ParamsBuf::zeros(s).unwrap();
        backward(
            k,
            &p.view(),
            &ctx,
            BackwardBufs {
                emb: &emb,
                h: &h,
                dlogits: &dlogits,
                dpre: &mut dpre,
                demb: &mut demb,
            },
            &mut g.view_mut(),
        )
        .unwrap();
        let gv = g.view();
        // db2 is the column sum of dlogits, accumulated in row order.
        for o in 0..s.vocab() {
            let mut sum = 0.0f32;
            for r in dlogits.chunks(s.vocab()) {
                sum += r[o];
            }
            if k.path() == charmlp::Path::Scalar {
                assert_eq!(gv.b2()[o].to_bits(), sum.to_bits(), "db2[{o}]");
            }
        }
        // dC is the scatter of demb: rows of symbols that never occur get exactly zero.
        for sym in 0..s.vocab() as Index {
            if !ctx.contains(&sym) {
                assert!(
                    gv.c().row(usize::from(sym)).iter().all(|&x| x == 0.0),
                    "dC[{sym}] must be exactly 0"
                );
            }
        }
        // Gradient of the softmax rows sums to (1 − 1)/N = 0 per row, exactly up to rounding.
        for r in dlogits.chunks(s.vocab()) {
            let sum: f64 = r.iter().map(|&x| x as f64).sum();
            assert!(sum.abs() < 1e-7, "dlogits row sums to {sum}");
        }
        // The workspace gives the same gradients as the free functions, bit for bit.
        let mut ws = WorkspaceBuf::new(k, s, n).unwrap();
        let mut wv = ws.view();
        wv.loss_and_grad(&p.view(), &ctx, &y).unwrap();
        for (a, b) in wv.grads().unwrap().tensors().iter().zip(gv.tensors()) {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
}
