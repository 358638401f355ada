//! Gradient check of every parameter tensor, Karpathy's three levels:
//! 1. exact — where the math says two computations are the same, they agree to the bit;
//! 2. allclose — each analytic f32 gradient against f64 central finite differences of an
//!    independent f64 forward pass;
//! 3. the maximum difference per tensor is printed.

use charmlp::backward::{BackwardScratch, backward};
use charmlp::forward::{Activations, forward_batch};
use charmlp::{Init, Kernels, Params, Workspace};

const V: usize = 7;
const B: usize = 3;
const E: usize = 4;
const IN: usize = 12;
const H: usize = 9;
const N: usize = 5;
type P = Params<V, B, E, IN, H>;

/// The mean cross-entropy in f64, written from the definition with plain loops.
fn loss64(p: &[Vec<f64>; 5], ctx: &[[u8; B]], y: &[u8]) -> f64 {
    let [c, w1, b1, w2, b2] = p;
    let mut total = 0.0;
    for (x, &t) in ctx.iter().zip(y) {
        let mut emb = [0.0f64; IN];
        for (j, &ix) in x.iter().enumerate() {
            for q in 0..E {
                emb[j * E + q] = c[ix as usize * E + q];
            }
        }
        let mut h = [0.0f64; H];
        for (k, hk) in h.iter_mut().enumerate() {
            let mut s = b1[k];
            for (i, e) in emb.iter().enumerate() {
                s += e * w1[i * H + k];
            }
            *hk = s.tanh();
        }
        let mut logits = [0.0f64; V];
        for (v, l) in logits.iter_mut().enumerate() {
            let mut s = b2[v];
            for (k, hk) in h.iter().enumerate() {
                s += hk * w2[k * V + v];
            }
            *l = s;
        }
        let m = logits.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
        total += lse - logits[t as usize];
    }
    total / ctx.len() as f64
}

fn setup(seed: u64) -> (P, Vec<[u8; B]>, Vec<u8>) {
    // Scaled-down randn so the tanh units are not saturated (gradients are then informative).
    let mut p = P::init(seed, Init::Randn);
    for t in p.tensors_mut() {
        t.iter_mut().for_each(|x| *x *= 0.5);
    }
    let ctx: Vec<[u8; B]> = (0..N)
        .map(|i| {
            [
                (i % V) as u8,
                ((3 * i + 1) % V) as u8,
                ((5 * i + 2) % V) as u8,
            ]
        })
        .collect();
    let y: Vec<u8> = (0..N).map(|i| ((2 * i + 3) % V) as u8).collect();
    (p, ctx, y)
}

#[test]
fn every_tensor_matches_f64_finite_differences() {
    let names = ["C", "W1", "b1", "W2", "b2"];
    for k in Kernels::all_supported() {
        for seed in [1u64, 2, 3] {
            let (p, ctx, y) = setup(seed);
            let mut ws: Box<Workspace<V, B, E, IN, H, N>> = Box::new(Workspace::new(k));
            let loss = ws.loss_and_grad(&p, &ctx, &y).unwrap();
            let p64: [Vec<f64>; 5] = p.tensors().map(|t| t.iter().map(|&x| x as f64).collect());
            let l64 = loss64(&p64, &ctx, &y);
            assert!((loss as f64 - l64).abs() < 1e-5, "loss {loss} vs f64 {l64}");
            let grads = ws.grads().tensors();
            for (ti, name) in names.iter().enumerate() {
                let mut max_diff = 0.0f64;
                for i in 0..p64[ti].len() {
                    let eps = 1e-6;
                    let mut plus = p64.clone();
                    plus[ti][i] += eps;
                    let mut minus = p64.clone();
                    minus[ti][i] -= eps;
                    let num = (loss64(&plus, &ctx, &y) - loss64(&minus, &ctx, &y)) / (2.0 * eps);
                    let ana = grads[ti][i] as f64;
                    let d = (num - ana).abs();
                    max_diff = max_diff.max(d);
                    // f32 gradients of O(0.1) carry ~1e-8 rounding; the f64 central difference
                    // has O(eps²) truncation and ~1e-10 cancellation error. 2e-6 + 1e-4·|g|
                    // leaves room for neither a missing term nor a wrong factor.
                    assert!(
                        d <= 2e-6 + 1e-4 * num.abs(),
                        "{} path {}: d{name}[{i}] analytic {ana} vs numeric {num}",
                        k.path(),
                        seed
                    );
                }
                eprintln!(
                    "path {:>6} seed {seed}: max |analytic − numeric| for {name:>2} = {max_diff:.3e}",
                    k.path().name()
                );
            }
        }
    }
}

#[test]
fn exact_identities_hold_bit_for_bit() {
    for k in Kernels::all_supported() {
        let (p, ctx, y) = setup(7);
        let mut act: Box<Activations<V, IN, H, N>> = Box::default();
        forward_batch(k, p.view(), &ctx, &mut act).unwrap();
        let mut dlogits = [[0.0f32; V]; N];
        k.cross_entropy_rows(&act.logits[..N], &y, Some(&mut dlogits[..]))
            .unwrap();
        let mut scratch: Box<BackwardScratch<IN, H, N>> = Box::default();
        let mut g: Box<P> = Box::default();
        backward(k, p.view(), &ctx, &act, &dlogits, &mut scratch, &mut g).unwrap();
        // db2 is the column sum of dlogits, accumulated in row order.
        for v in 0..V {
            let mut s = 0.0f32;
            for r in dlogits.iter() {
                s += r[v];
            }
            if k.path() == charmlp::Path::Scalar {
                assert_eq!(g.b2[v].to_bits(), s.to_bits(), "db2[{v}]");
            }
        }
        // dC is the scatter of demb: rows of symbols that never occur get exactly zero.
        let used: Vec<u8> = ctx.iter().flatten().copied().collect();
        for sym in 0..V as u8 {
            if !used.contains(&sym) {
                assert!(
                    g.c[sym as usize].iter().all(|&x| x == 0.0),
                    "dC[{sym}] must be exactly 0"
                );
            }
        }
        // Gradient of the softmax rows sums to (1 − 1)/N = 0 per row, exactly up to rounding.
        for r in dlogits.iter() {
            let s: f64 = r.iter().map(|&x| x as f64).sum();
            assert!(s.abs() < 1e-7, "dlogits row sums to {s}");
        }
        // The workspace gives the same gradients as the free functions, bit for bit.
        let mut ws: Box<Workspace<V, B, E, IN, H, N>> = Box::new(Workspace::new(k));
        ws.loss_and_grad(&p, &ctx, &y).unwrap();
        for (a, b) in ws.grads().tensors().iter().zip(g.tensors()) {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
}
