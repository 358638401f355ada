//! Every SIMD path's matmuls against the scalar reference, on the model's shapes and on odd
//! shapes that exercise every tail.
//!
//! Bound (written down in the crate docs): both results carry at most a γ_{K+1} relative
//! rounding error of Σ|terms|, so `|simd − scalar| ≤ 2·(K+1)·u·(|b| + Σ|x·w|)`; where a tanh
//! follows, its 1-Lipschitz map adds the two kernels' 2-ulp tanh errors.

mod common;
use common::*;
use proptest::prelude::*;

fn vals(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-2.0f32..2.0, n)
}

/// Σ|x·w| (+|b|) per output of Y = X·W + b, in f64.
fn abs_nn(m: usize, k: usize, n: usize, x: &[f32], w: &[f32], b: Option<&[f32]>) -> Vec<f64> {
    let mut s = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut t = b.map_or(0.0, |b| b[j].abs() as f64);
            for p in 0..k {
                t += (x[i * k + p] as f64 * w[p * n + j] as f64).abs();
            }
            s[i * n + j] = t;
        }
    }
    s
}

fn check(name: &str, got: &[f32], want: &[f32], scale: &[f64], k: usize, extra_ulps: f64) {
    for (idx, ((&g, &w), &s)) in got.iter().zip(want).zip(scale).enumerate() {
        let bound = 2.0 * (k as f64 + 1.0) * U * s + extra_ulps * ulp_at(w as f64);
        let d = (g as f64 - w as f64).abs();
        assert!(
            d <= bound,
            "{name}[{idx}]: simd {g} vs scalar {w}: |Δ| {d:e} > bound {bound:e}"
        );
    }
}

macro_rules! shape {
    ($name:ident, $m:literal, $k:literal, $n:literal, $cases:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases($cases))]
            #[test]
            fn $name(x in vals($m * $k), w in vals($k * $n), b in vals($n), dy in vals($m * $n), h in prop::collection::vec(-1.0f32..1.0, $m * $k)) {
                const M: usize = $m;
                const K: usize = $k;
                const N: usize = $n;
                let xa = rows::<M, K>(&x);
                let wa = rows::<K, N>(&w);
                let ba: [f32; N] = b.clone().try_into().unwrap();
                let dya = rows::<M, N>(&dy);
                let ha = rows::<M, K>(&h);
                let s = charmlp_kernels::Kernels::scalar();
                for kern in simd_paths() {
                    let p = kern.path().name();
                    // Forward: y = xw + b, and tanh(xw + b).
                    let scale = abs_nn(M, K, N, &x, &w, Some(&b));
                    let (mut y0, mut y1) = (Box::new([[0.0f32; N]; M]), Box::new([[0.0f32; N]; M]));
                    s.fixed().linear(&xa, &wa, &ba, &mut y0);
                    kern.fixed().linear(&xa, &wa, &ba, &mut y1);
                    check(&format!("{p} linear"), y1.as_flattened(), y0.as_flattened(), &scale, K, 0.0);
                    s.fixed().linear_tanh(&xa, &wa, &ba, &mut y0);
                    kern.fixed().linear_tanh(&xa, &wa, &ba, &mut y1);
                    check(&format!("{p} linear_tanh"), y1.as_flattened(), y0.as_flattened(), &scale, K, 4.0);
                    let scale0 = abs_nn(M, K, N, &x, &w, None);
                    s.fixed().matmul(&xa, &wa, &mut y0);
                    kern.fixed().matmul(&xa, &wa, &mut y1);
                    check(&format!("{p} matmul"), y1.as_flattened(), y0.as_flattened(), &scale0, K, 0.0);

                    // dW = xᵀ dy  (K×N, reduction over M).
                    let mut xt = vec![0.0f32; K * M];
                    for i in 0..M { for q in 0..K { xt[q * M + i] = x[i * K + q]; } }
                    let scale = abs_nn(K, M, N, &xt, &dy, None);
                    let (mut d0, mut d1) = (Box::new([[0.0f32; N]; K]), Box::new([[0.0f32; N]; K]));
                    s.fixed().matmul_tn(&xa, &dya, &mut d0);
                    kern.fixed().matmul_tn(&xa, &dya, &mut d1);
                    check(&format!("{p} matmul_tn"), d1.as_flattened(), d0.as_flattened(), &scale, M, 0.0);

                    // dX = dy wᵀ (M×K, reduction over N), plain and fused with tanh backward.
                    let mut wt = vec![0.0f32; N * K];
                    for q in 0..K { for j in 0..N { wt[j * K + q] = w[q * N + j]; } }
                    let scale = abs_nn(M, N, K, &dy, &wt, None);
                    let (mut e0, mut e1) = (Box::new([[0.0f32; K]; M]), Box::new([[0.0f32; K]; M]));
                    s.fixed().matmul_nt(&dya, &wa, &mut e0);
                    kern.fixed().matmul_nt(&dya, &wa, &mut e1);
                    check(&format!("{p} matmul_nt"), e1.as_flattened(), e0.as_flattened(), &scale, N, 0.0);
                    s.fixed().matmul_nt_tanh_backward(&dya, &wa, &ha, &mut e0);
                    kern.fixed().matmul_nt_tanh_backward(&dya, &wa, &ha, &mut e1);
                    check(&format!("{p} matmul_nt_tanh_backward"), e1.as_flattened(), e0.as_flattened(), &scale, N + 2, 0.0);

                    // Bias gradient: column sums over M rows.
                    let mut sc = vec![0.0f64; N];
                    for i in 0..M { for j in 0..N { sc[j] += dy[i * N + j].abs() as f64; } }
                    let (mut g0, mut g1) = ([0.0f32; N], [0.0f32; N]);
                    s.fixed().bias_grad(&dya, &mut g0);
                    kern.fixed().bias_grad(&dya, &mut g1);
                    check(&format!("{p} bias_grad"), &g1, &g0, &sc, M, 0.0);
                }
            }
        }
    };
}

// The model's shapes (B=3, E=10 → IN=30; H=200; V=27; batch 32; one row for sampling).
shape!(model_batch_layer1, 32, 30, 200, 24);
shape!(model_batch_layer2, 32, 200, 27, 24);
shape!(model_row_layer1, 1, 30, 200, 48);
shape!(model_row_layer2, 1, 200, 27, 48);
// Odd shapes: every tail of 8- and 16-lane registers, 1–4 register column blocks, row tails.
shape!(odd_1_1_1, 1, 1, 1, 64);
shape!(odd_3_7_17, 3, 7, 17, 64);
shape!(odd_7_17_33, 7, 17, 33, 64);
shape!(odd_17_33_65, 17, 33, 65, 32);
shape!(odd_27_3_7, 27, 3, 7, 64);
shape!(odd_33_65_1, 33, 65, 1, 32);
shape!(odd_65_27_3, 65, 27, 3, 32);
shape!(odd_2_1_65, 2, 1, 65, 64);
shape!(odd_5_65_27, 5, 65, 27, 32);
