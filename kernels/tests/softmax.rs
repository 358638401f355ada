//! Cross-entropy (loss and gradient) and softmax on every path: bit for bit against the scalar
//! reference, against an exact f64 evaluation, against finite differences, on extreme logits,
//! and on bad targets.
//!
//! # Every path gives the reference's bits
//!
//! Reference arithmetic v2 fixes the order of every operation: the shifted logits
//! `z = (x − max)·inv_temp` (two roundings), `e = exp(z)` (one formula, element by element, on
//! every path), the sum `S = ((0 + e₀) + e₁) + …` in index order (the SIMD paths compute the
//! exponentials vector-wide and add them in order), `p = e/S`, the gradient `p·(1/M)` and
//! `(e_t/S − 1)·(1/M)`, the row loss `ln S − z_t` and the mean in row order. So every path's
//! results are the scalar reference's, to the bit, which the tests below assert.
//!
//! # Accuracy bounds (ε = 2⁻²⁴, `U` in `common`)
//!
//! Against the exact values of the f32 `z` (evaluated in f64), per row of `V` logits:
//!
//! * `ê = exp(z)` is within 1 ulp, i.e. a relative `2ε`, of `e^z`;
//! * `Ŝ = Σ ê` in index order: every term passes through at most `V − 1` additions, so
//!   `|Ŝ − Σê| ≤ γ_{V−1}·Σê ≈ (V − 1)ε·Σê`;
//! * `p̂ = ê/Ŝ` adds one rounding.
//!
//! So `|p̂ − p| ≤ (V + 4)·ε·p`. The gradient `(p̂ − [j = t])·fl(1/M)` adds `ε|1 − p|/M` for the
//! target (the subtraction) and two roundings `2ε|g|` (of `1/M` and of the product). A row loss
//! `ln Ŝ − z_t` is off by the relative error of `Ŝ`, `(V + 1)ε`, plus one ulp of `ln Ŝ` and a
//! rounding of the difference, together `≤ (V + 1)ε + 3ε·l` (as `0 ≤ ln Ŝ ≤ l`); the mean of `M`
//! rows adds `γ_{M−1}` and two roundings, so `|losŝ − loss| ≤ (V + 1)ε + (M + 4)ε·loss`.

mod common;
use charmlp_kernels::{KernelError, Kernels, Mat, MatMut};
use common::*;
use proptest::prelude::*;

/// Absolute slack for results in the subnormal range and for `exp` flushing arguments below
/// `EXP_MIN_ARG` to zero (those terms are below 2⁻¹²⁶ of the row's largest).
const FLOOR: f64 = 1.0 / (1u128 << 120) as f64;
/// Headroom for the second-order terms dropped from the first-order bounds.
const SECOND_ORDER: f64 = 1.0 + 1e-4;

/// `(x − max)·inv_temp` in f32, exactly as every path computes it.
fn shifted(row: &[f32], inv_temp: f32) -> Vec<f32> {
    let max = row
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    row.iter().map(|&x| (x - max) * inv_temp).collect()
}

/// The exact softmax of the f32 shifted logits `z`, in f64.
fn exact_softmax(z: &[f32]) -> Vec<f64> {
    let e: Vec<f64> = z.iter().map(|&z| (z as f64).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|&e| e / s).collect()
}

/// The exact row loss `ln Σ e^z − z_t` of the f32 shifted logits, in f64.
fn exact_row_loss(z: &[f32], t: usize) -> f64 {
    z.iter().map(|&z| (z as f64).exp()).sum::<f64>().ln() - z[t] as f64
}

/// Bound on `|p̂ − p|` for one path (see the module docs).
fn p_bound(v: usize, p: f64) -> f64 {
    (v as f64 + 4.0) * U * p * SECOND_ORDER + FLOOR
}

/// Bound on `|ĝ − g|` for one path, `g = (p − [j = t])/M`.
fn g_bound(m: usize, v: usize, p: f64, is_target: bool) -> f64 {
    let g = (p - if is_target { 1.0 } else { 0.0 }) / m as f64;
    let sub = if is_target { U * (1.0 - p).abs() } else { 0.0 };
    ((v as f64 + 4.0) * U * p + sub) / m as f64 * SECOND_ORDER
        + 2.0 * U * g.abs() * SECOND_ORDER
        + FLOOR
}

/// Bound on `|losŝ − loss|` for one path.
fn loss_bound(m: usize, v: usize, loss: f64) -> f64 {
    ((v as f64 + 1.0) * U + (m as f64 + 4.0) * U * loss) * SECOND_ORDER
}

/// Cross-entropy of every path against the exact values and the scalar reference's bits; `None` and
/// `Some(dlogits)` must give the same loss bits.
fn check_cross_entropy<const M: usize, const V: usize>(logits: &[[f32; V]; M], targets: &[u16; M]) {
    let z: Vec<Vec<f32>> = logits.iter().map(|r| shifted(r, 1.0)).collect();
    let p: Vec<Vec<f64>> = z.iter().map(|z| exact_softmax(z)).collect();
    let loss = z
        .iter()
        .zip(targets)
        .map(|(z, &t)| exact_row_loss(z, usize::from(t)))
        .sum::<f64>()
        / M as f64;
    let run = |k: Kernels| {
        let mut g = Box::new([[f32::NAN; V]; M]);
        let l = k
            .fixed()
            .cross_entropy(logits, targets, Some(&mut g))
            .unwrap();
        let l2 = k.fixed().cross_entropy(logits, targets, None).unwrap();
        assert_eq!(
            l.to_bits(),
            l2.to_bits(),
            "{}: loss depends on whether the gradient is requested",
            k.path().name()
        );
        (l, g)
    };
    let (ls, gs) = run(Kernels::scalar());
    for k in all_paths() {
        let name = k.path().name();
        let (l, g) = run(k);
        let lb = loss_bound(M, V, loss);
        assert!(
            (l as f64 - loss).abs() <= lb,
            "{name}: loss {l} vs exact {loss}: |Δ| {:e} > {lb:e}",
            (l as f64 - loss).abs()
        );
        for i in 0..M {
            let t = usize::from(targets[i]);
            for j in 0..V {
                let exact = (p[i][j] - if j == t { 1.0 } else { 0.0 }) / M as f64;
                let b = g_bound(M, V, p[i][j], j == t);
                let (got, reference) = (g[i][j], gs[i][j]);
                let d = (got as f64 - exact).abs();
                assert!(
                    d <= b,
                    "{name}: dlogits[{i}][{j}] = {got:e} vs exact {exact:e}: |Δ| {d:e} > {b:e}"
                );
                assert!(
                    same(got, reference),
                    "{name}: dlogits[{i}][{j}] = {got:e} vs scalar {reference:e}: the bits differ"
                );
            }
        }
        assert!(
            same(l, ls),
            "{name}: loss {l} vs scalar {ls}: the bits differ"
        );
    }
}

/// Softmax of every row at temperatures 0.5, 1 and 2 on every path: against the exact values,
/// the scalar reference's bits, and row sums (in f64) within `γ_{V−1} + ε ≈ V·ε` of one.
fn check_softmax<const V: usize>(rows: &[[f32; V]]) {
    for row in rows {
        for temp in [0.5f32, 1.0, 2.0] {
            let inv_temp = 1.0 / temp;
            let p = exact_softmax(&shifted(row, inv_temp));
            let mut want = [0.0f32; V];
            Kernels::scalar().softmax(row, inv_temp, &mut want).unwrap();
            for k in all_paths() {
                let name = k.path().name();
                let mut got = [f32::NAN; V];
                k.softmax(row, inv_temp, &mut got).unwrap();
                for j in 0..V {
                    let b = p_bound(V, p[j]);
                    let d = (got[j] as f64 - p[j]).abs();
                    assert!(
                        d <= b,
                        "{name} T={temp}: p[{j}] = {:e} vs exact {:e}: |Δ| {d:e} > {b:e}",
                        got[j],
                        p[j]
                    );
                    assert!(
                        same(got[j], want[j]),
                        "{name} T={temp}: p[{j}] = {:e} vs scalar {:e}: the bits differ",
                        got[j],
                        want[j]
                    );
                }
                let sum: f64 = got.iter().map(|&p| p as f64).sum();
                let b = V as f64 * U * SECOND_ORDER;
                assert!(
                    (sum - 1.0).abs() <= b,
                    "{name} T={temp}: Σp − 1 = {:e} > {b:e}",
                    sum - 1.0
                );
            }
        }
    }
    // All rows at once: the bits of the scalar reference row by row, exponentials and sums.
    let flat = rows.as_flattened();
    let m = rows.len();
    for temp in [0.5f32, 1.0, 2.0] {
        let inv_temp = 1.0 / temp;
        let (mut want, mut want_s) = (vec![0.0f32; m * V], vec![0.0f32; m]);
        for ((row, w), s) in rows.iter().zip(want.chunks_exact_mut(V)).zip(&mut want_s) {
            *s = Kernels::scalar()
                .softmax_unnormalized(row, inv_temp, w)
                .unwrap();
        }
        for k in all_paths() {
            let (mut got, mut sums) = (vec![f32::NAN; m * V], vec![f32::NAN; m]);
            k.softmax_unnormalized_rows(
                Mat::new(flat, m, V).unwrap(),
                inv_temp,
                MatMut::new(&mut got, m, V).unwrap(),
                &mut sums,
            )
            .unwrap();
            let name = k.path().name();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(same(*g, *w), "{name} rows: e[{i}] = {g:e} vs scalar {w:e}");
            }
            for (i, (g, w)) in sums.iter().zip(&want_s).enumerate() {
                assert!(same(*g, *w), "{name} rows: S[{i}] = {g:e} vs scalar {w:e}");
            }
        }
    }
}

/// `softmax_unnormalized_rows` with buffers of another shape: an error, nothing written.
#[test]
fn softmax_rows_of_another_shape_are_refused() {
    let x = [0.5f32; 6];
    for k in all_paths() {
        let (mut out, mut sums) = ([7.0f32; 6], [7.0f32; 3]);
        let r = k.softmax_unnormalized_rows(
            Mat::new(&x, 2, 3).unwrap(),
            1.0,
            MatMut::new(&mut out, 2, 3).unwrap(),
            &mut sums,
        );
        assert!(matches!(r, Err(KernelError::Shape { .. })), "{r:?}");
        let r = k.softmax_unnormalized_rows(
            Mat::new(&x, 2, 3).unwrap(),
            1.0,
            MatMut::new(&mut out, 3, 2).unwrap(),
            &mut sums[..2],
        );
        assert!(matches!(r, Err(KernelError::Shape { .. })), "{r:?}");
        assert_eq!((out, sums), ([7.0; 6], [7.0; 3]));
    }
}

/// Logits uniform in ±scale for one of `scales`, and targets.
fn case_at(
    m: usize,
    v: usize,
    scales: &[f32],
) -> impl Strategy<Value = (Vec<f32>, Vec<u16>)> + use<> {
    let scale = prop::sample::select(scales.to_vec());
    (
        scale,
        prop::collection::vec(-1.0f32..1.0, m * v),
        prop::collection::vec(0..v as u16, m),
    )
        .prop_map(|(s, x, t)| (x.into_iter().map(|x| x * s).collect(), t))
}

/// Logits at several scales (at ±120 many terms fall below `exp`'s range) and targets.
fn case(m: usize, v: usize) -> impl Strategy<Value = (Vec<f32>, Vec<u16>)> {
    case_at(m, v, &[1.0, 4.0, 20.0, 120.0])
}

macro_rules! shape {
    ($name:ident, $m:literal, $v:literal, $cases:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases($cases))]
            #[test]
            fn $name((x, t) in case($m, $v)) {
                const M: usize = $m;
                const V: usize = $v;
                let logits = rows::<M, V>(&x);
                let targets: [u16; M] = t.try_into().unwrap();
                check_cross_entropy(&logits, &targets);
                check_softmax(&logits[..]);
            }
        }
    };
}

// The model's batch and sampling shapes, and odd ones (tails, more than 64 classes, V = 1).
shape!(shape_32x27, 32, 27, 64);
shape!(shape_1x27, 1, 27, 256);
shape!(shape_7x3, 7, 3, 256);
shape!(shape_5x65, 5, 65, 128);
shape!(shape_3x1, 3, 1, 64);
// Two blocks of the 8 rows whose sums run side by side, and three rows left over.
shape!(shape_19x70, 19, 70, 64);

/// xorshift64*, for the deterministic survey below.
struct Rng(u64);
impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32) / (1u32 << 24) as f32
    }
}

fn survey<const M: usize, const V: usize>(rng: &mut Rng, cases: usize, scale: f32) {
    for _ in 0..cases {
        let mut logits = Box::new([[0.0f32; V]; M]);
        logits
            .as_flattened_mut()
            .iter_mut()
            .for_each(|x| *x = (2.0 * rng.next_f32() - 1.0) * scale);
        let targets: [u16; M] = core::array::from_fn(|_| (rng.next_f32() * V as f32) as u16);
        check_cross_entropy(&logits, &targets);
        check_softmax(&logits[..]);
    }
}

/// Deterministic random rows through the same checks, at the model's batch shape and a wide one.
#[test]
fn survey_random_rows() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for scale in [1.0f32, 4.0, 20.0] {
        survey::<32, 27>(&mut rng, 40, scale);
        survey::<5, 65>(&mut rng, 40, scale);
    }
}

/// A 27-logit row where summation order matters as much as it can for a simple input: one term
/// is 1, the other 26 are just above half an ulp of 1, so adding them one by one to 1 rounds up
/// every time, while adding most of them to each other first (as lane-wise SIMD sums would)
/// does not. Every path must still give the scalar reference's bits.
#[test]
fn summation_order_adversarial() {
    // e^z = 1.5·2⁻²⁴ ⇒ z = ln 1.5 − 24 ln 2.
    let z = (1.5f64.ln() - 24.0 * 2f64.ln()) as f32;
    let mut row = [z; 27];
    row[0] = 0.0;
    let logits = [row];
    check_cross_entropy(&logits, &[0]);
    check_softmax(&logits[..]);
    let mut p = [0.0f32; 27];
    Kernels::scalar().softmax(&row, 1.0, &mut p).unwrap();
    let sum: f64 = p.iter().map(|&p| p as f64).sum();
    eprintln!(
        "adversarial 1×27: scalar Σp − 1 = {:.2}·2⁻²³ (every path identical)",
        (sum - 1.0) * (1u32 << 23) as f64
    );
}

/// The f32 gradient against central differences of the loss evaluated in f64.
///
/// Tolerance 1e-5, absolute: the f64 difference quotient with h = 1e-4 is off by its truncation
/// error `h²/6·max|∂³L| ≤ 1e-8/6·0.1/M` plus cancellation `2⁻⁵³·|L|/h ≤ 1e-10` (|x| ≤ 20, so
/// |L| ≤ 45): it is exact to 1e-9; the f32 gradient is within `((V + 4)ε + 2ε)/M ≤ 2.1e-6` of the exact one
/// for these shapes (M ≥ 1, V ≤ 27, see the module docs). 1e-5 is five times that, and far
/// below any real mistake: a wrong sign, a missing 1/M or a dropped target term moves an entry
/// by at least `1/(M·V) ≥ 1e-3`.
fn check_finite_differences<const M: usize, const V: usize>(
    logits: &[[f32; V]; M],
    targets: &[u16; M],
) {
    let loss64 = |x: &[f64]| -> f64 {
        x.chunks_exact(V)
            .zip(targets)
            .map(|(r, &t)| {
                let max = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                r.iter().map(|&x| (x - max).exp()).sum::<f64>().ln() + (max - r[usize::from(t)])
            })
            .sum::<f64>()
            / M as f64
    };
    let x64: Vec<f64> = logits.as_flattened().iter().map(|&x| x as f64).collect();
    let h = 1e-4;
    let fd: Vec<f64> = (0..M * V)
        .map(|i| {
            let (mut up, mut dn) = (x64.clone(), x64.clone());
            up[i] += h;
            dn[i] -= h;
            (loss64(&up) - loss64(&dn)) / (2.0 * h)
        })
        .collect();
    for k in all_paths() {
        let mut g = Box::new([[0.0f32; V]; M]);
        k.fixed()
            .cross_entropy(logits, targets, Some(&mut g))
            .unwrap();
        for (i, (&g, &f)) in g.as_flattened().iter().zip(&fd).enumerate() {
            assert!(
                (g as f64 - f).abs() <= 1e-5,
                "{}: dlogits[{}][{}] = {g:e}, finite difference {f:e}",
                k.path().name(),
                i / V,
                i % V
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn gradient_matches_finite_differences(
        (x1, t1) in case_at(32, 27, &[1.0, 4.0, 20.0]),
        (x2, t2) in case_at(1, 27, &[1.0, 4.0, 20.0]),
        (x3, t3) in case_at(7, 3, &[1.0, 4.0, 20.0]),
    ) {
        check_finite_differences(&rows::<32, 27>(&x1), &t1.try_into().unwrap());
        check_finite_differences(&rows::<1, 27>(&x2), &t2.try_into().unwrap());
        check_finite_differences(&rows::<7, 3>(&x3), &t3.try_into().unwrap());
    }
}

/// The stable f64 loss of the original f32 logits (no f32 rounding of `x − max`).
fn reference_loss(logits: &[f32], v: usize, targets: &[u16]) -> f64 {
    let rows = logits.chunks_exact(v);
    let m = rows.len();
    rows.zip(targets)
        .map(|(r, &t)| {
            let max = r
                .iter()
                .map(|&x| x as f64)
                .fold(f64::NEG_INFINITY, f64::max);
            r.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln()
                + (max - r[usize::from(t)] as f64)
        })
        .sum::<f64>()
        / m as f64
}

fn check_extreme<const M: usize, const V: usize>(
    what: &str,
    logits: &[[f32; V]; M],
    targets: &[u16; M],
) {
    let want = reference_loss(logits.as_flattened(), V, targets);
    for k in all_paths() {
        let name = k.path().name();
        let mut g = Box::new([[f32::NAN; V]; M]);
        let loss = k
            .fixed()
            .cross_entropy(logits, targets, Some(&mut g))
            .unwrap();
        assert!(loss.is_finite(), "{name} {what}: loss {loss}");
        let rel = (loss as f64 - want).abs() / want.abs().max(f64::MIN_POSITIVE);
        assert!(
            rel <= 1e-6 || (loss as f64 - want).abs() <= 1e-6,
            "{name} {what}: loss {loss:e} vs f64 {want:e} (relative {rel:e})"
        );
        for (i, r) in g.iter().enumerate() {
            assert!(
                r.iter().all(|g| g.is_finite()),
                "{name} {what}: row {i} gradient {r:?}"
            );
            // Σ_j g = (Σp̂ − 1)/M up to the roundings of each entry: ≤ ((V + 1)ε + 4ε)/M.
            let sum: f64 = r.iter().map(|&g| g as f64).sum();
            let b = (V as f64 + 5.0) * U / M as f64 * SECOND_ORDER;
            assert!(
                sum.abs() <= b,
                "{name} {what}: row {i} gradient sums to {sum:e} > {b:e}"
            );
        }
    }
}

#[test]
fn extreme_logits() {
    let alt: [f32; 27] = core::array::from_fn(|j| if j % 3 == 0 { 1e30 } else { -1e30 });
    let neg_first: [f32; 27] = core::array::from_fn(|j| if j % 2 == 0 { -1e30 } else { 1e30 });
    let equal = [1e30f32; 27];
    let equal_neg = [-1e30f32; 27];
    let mut one_huge: [f32; 27] = core::array::from_fn(|j| 1e-30 * j as f32);
    one_huge[13] = 1e30;
    let mut one_tiny: [f32; 27] = core::array::from_fn(|j| (j as f32 - 13.0) * 0.25);
    one_tiny[5] = -1e30;
    let mut huge_and_tiny = [0.5f32; 27];
    huge_and_tiny[0] = 1e30;
    huge_and_tiny[26] = -1e30;
    let logits = [
        alt,
        neg_first,
        equal,
        equal_neg,
        one_huge,
        one_tiny,
        huge_and_tiny,
    ];
    // Targets on the winning logit, on a losing one (loss ≈ 2e30/M), and on ordinary ones.
    for targets in [
        [0u16, 1, 0, 26, 13, 5, 0],
        [1, 0, 26, 3, 0, 6, 26],
        [2, 2, 2, 2, 12, 4, 13],
    ] {
        check_extreme("mixed ±1e30 rows", &logits, &targets);
    }
    for (row, name) in logits.iter().zip([
        "alt",
        "neg_first",
        "equal",
        "equal_neg",
        "one_huge",
        "one_tiny",
        "huge_and_tiny",
    ]) {
        for t in [0u16, 5, 13, 26] {
            check_extreme(name, &[*row], &[t]);
        }
        // Softmax: finite, rows sum to one, at every temperature.
        for k in all_paths() {
            for inv_temp in [2.0f32, 1.0, 0.5] {
                let mut p = [f32::NAN; 27];
                k.softmax(row, inv_temp, &mut p).unwrap();
                let sum: f64 = p.iter().map(|&p| p as f64).sum();
                assert!(
                    p.iter().all(|p| p.is_finite()) && (sum - 1.0).abs() <= 27.0 * U,
                    "{} {name}: softmax {p:?}",
                    k.path().name()
                );
            }
        }
    }
    // All equal: exactly ln V per row and (1/V − [j = t])/M.
    for k in all_paths() {
        let mut g = [[0.0f32; 3]; 2];
        let loss = k
            .fixed()
            .cross_entropy(&[[1e30f32; 3]; 2], &[0, 2], Some(&mut g))
            .unwrap();
        assert!(
            (loss as f64 - 3f64.ln()).abs() <= 4.0 * U,
            "{}: {loss}",
            k.path().name()
        );
        assert!(
            (g[0][1] as f64 - 1.0 / 6.0).abs() <= 4.0 * U
                && (g[1][2] as f64 + 1.0 / 3.0).abs() <= 4.0 * U
        );
    }
}

/// When the true loss exceeds f32::MAX the loss is +inf (its correctly rounded value) and the
/// gradient still finite.
#[test]
fn loss_beyond_f32_range_is_inf_with_finite_gradient() {
    for k in all_paths() {
        let mut g = [[0.0f32; 3]; 1];
        let loss = k
            .fixed()
            .cross_entropy(&[[f32::MAX, -f32::MAX, 0.0]], &[1], Some(&mut g))
            .unwrap();
        assert_eq!(loss, f32::INFINITY, "{}", k.path().name());
        assert_eq!(g, [[1.0, -1.0, 0.0]], "{}", k.path().name());
    }
}

#[test]
fn target_out_of_range_is_an_error_and_writes_nothing() {
    const SENTINEL: f32 = -7.25;
    let logits: [[f32; 27]; 4] =
        core::array::from_fn(|i| core::array::from_fn(|j| (i * 27 + j) as f32 * 0.01));
    for bad in [
        [0u16, 27, 3, 4],
        [27, 0, 0, 0],
        [0, 0, 0, 255],
        [26, 26, 26, 100],
    ] {
        let first_bad = *bad.iter().find(|&&t| t >= 27).unwrap();
        for k in all_paths() {
            let mut g = [[SENTINEL; 27]; 4];
            let r = k.fixed().cross_entropy(&logits, &bad, Some(&mut g));
            assert_eq!(
                r,
                Err(KernelError::IndexOutOfRange {
                    index: usize::from(first_bad),
                    len: 27
                }),
                "{}",
                k.path().name()
            );
            assert!(
                g.as_flattened()
                    .iter()
                    .all(|&x| x.to_bits() == SENTINEL.to_bits()),
                "{}: dlogits written",
                k.path().name()
            );
            let r = k.fixed().cross_entropy(&logits, &bad, None);
            assert_eq!(
                r,
                Err(KernelError::IndexOutOfRange {
                    index: usize::from(first_bad),
                    len: 27
                })
            );
        }
    }
    // V = 1: the only valid target is 0.
    for k in all_paths() {
        let mut g = [[SENTINEL; 1]; 2];
        let r = k
            .fixed()
            .cross_entropy(&[[3.0], [4.0]], &[0, 1], Some(&mut g));
        assert_eq!(r, Err(KernelError::IndexOutOfRange { index: 1, len: 1 }));
        assert_eq!(g, [[SENTINEL]; 2]);
    }
}
