//! Embedding gather and scatter-add, SGD and the tanh backward on every path.
//!
//! Gather and scatter are one implementation for every path and must match a plain loop bit for
//! bit. SGD (`fma(−lr, g, p)`) and the tanh backward (`d·fma(−h, h, 1)`) are the same operations
//! on every path, so every path must give the scalar reference's bits; against the exact value
//! (f64) their errors are one rounding for SGD (`≤ ε|p − lr·g|`, ε = 2⁻²⁴) and two for the tanh
//! backward (`≤ 2ε|d·(1 − h²)|`).

mod common;
use charmlp_kernels::{KernelError, Kernels};
use common::*;
use proptest::prelude::*;

/// Headroom for second-order terms and f64 evaluation of the exact values.
const SECOND_ORDER: f64 = 1.0 + 1e-6;
/// 2⁻¹⁴⁹: two half-ulp roundings where the result is subnormal.
const SUBNORMAL: f64 = 1.0 / (1u128 << 126) as f64 / (1u64 << 23) as f64;

/// Odd lengths (a single lane, every tail below 8 and 16, several registers) and the model's
/// parameter counts (W1 = 30×200, W2 = 200×27, C = 27×10).
const LENGTHS: [usize; 10] = [1, 3, 7, 17, 27, 33, 65, 270, 5400, 6000];

// ---------------------------------------------------------------------------------------------
// Embedding gather / scatter-add.

fn gather_case<const V: usize, const E: usize, const B: usize, const IN: usize, const M: usize>(
    table: &[f32],
    ctx: &[u16],
) {
    let table = rows::<V, E>(table);
    let ctx: Box<[[u16; B]; M]> = Box::new(core::array::from_fn(|r| {
        core::array::from_fn(|j| ctx[r * B + j])
    }));
    let mut want = Box::new([[0.0f32; IN]; M]);
    for r in 0..M {
        for j in 0..B {
            want[r][j * E..(j + 1) * E].copy_from_slice(&table[usize::from(ctx[r][j])]);
        }
    }
    for k in all_paths() {
        let mut out = Box::new([[f32::NAN; IN]; M]);
        k.fixed().embed_gather(&table, &ctx, &mut out).unwrap();
        assert!(
            out.as_flattened()
                .iter()
                .zip(want.as_flattened())
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}: gather differs from the plain loop",
            k.path().name()
        );
    }
}

fn scatter_case<const V: usize, const E: usize, const B: usize, const IN: usize, const M: usize>(
    dout: &[f32],
    ctx: &[u16],
    init: &[f32],
) {
    let dout = rows::<M, IN>(dout);
    let ctx: Box<[[u16; B]; M]> = Box::new(core::array::from_fn(|r| {
        core::array::from_fn(|j| ctx[r * B + j])
    }));
    // The spec: accumulate into dtable row by row, context slot by slot, in f32.
    let mut want = rows::<V, E>(init);
    for r in 0..M {
        for j in 0..B {
            let row = &mut want[usize::from(ctx[r][j])];
            for (d, &g) in row.iter_mut().zip(&dout[r][j * E..(j + 1) * E]) {
                *d += g;
            }
        }
    }
    for k in all_paths() {
        let mut dtable = rows::<V, E>(init);
        k.fixed()
            .embed_scatter_add(&dout, &ctx, &mut dtable)
            .unwrap();
        assert!(
            dtable
                .as_flattened()
                .iter()
                .zip(want.as_flattened())
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}: scatter-add differs from the plain loop",
            k.path().name()
        );
    }
}

fn floats(n: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-2.0f32..2.0, n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    // The model: 27 symbols, 10-wide embeddings, 3 context slots, batch 32.
    #[test]
    fn gather_scatter_model(table in floats(27 * 10), ctx in prop::collection::vec(0u16..27, 32 * 3), dout in floats(32 * 30), init in floats(27 * 10)) {
        gather_case::<27, 10, 3, 30, 32>(&table, &ctx);
        scatter_case::<27, 10, 3, 30, 32>(&dout, &ctx, &init);
    }

    // Odd sizes, and few symbols so that indices repeat within and across contexts.
    #[test]
    fn gather_scatter_odd(table in floats(3 * 7), ctx in prop::collection::vec(0u16..3, 5 * 4), dout in floats(5 * 28), init in floats(3 * 7)) {
        gather_case::<3, 7, 4, 28, 5>(&table, &ctx);
        scatter_case::<3, 7, 4, 28, 5>(&dout, &ctx, &init);
    }

    #[test]
    fn gather_scatter_single(table in floats(1), dout in floats(1)) {
        gather_case::<1, 1, 1, 1, 1>(&table, &[0]);
        scatter_case::<1, 1, 1, 1, 1>(&dout, &[0], &[0.5]);
    }
}

#[test]
fn gather_scatter_index_out_of_range_writes_nothing() {
    const SENTINEL: f32 = -3.5;
    let table: [[f32; 10]; 27] =
        core::array::from_fn(|i| core::array::from_fn(|j| (i * 10 + j) as f32));
    let dout = [[1.0f32; 30]; 4];
    // The first out-of-range index in context order is reported, wherever it sits.
    let cases: [([[u16; 3]; 4], u16); 4] = [
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 27]], 27),
        ([[27, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]], 27),
        ([[0, 1, 2], [3, 200, 5], [6, 7, 255], [9, 10, 11]], 200),
        ([[26, 26, 26], [26, 26, 26], [26, 26, 26], [26, 26, 28]], 28),
    ];
    for (ctx, bad) in cases {
        let err = Err(KernelError::IndexOutOfRange {
            index: usize::from(bad),
            len: 27,
        });
        for k in all_paths() {
            let name = k.path().name();
            let mut out = [[SENTINEL; 30]; 4];
            assert_eq!(
                k.fixed().embed_gather(&table, &ctx, &mut out),
                err,
                "{name}"
            );
            assert!(
                out.as_flattened()
                    .iter()
                    .all(|&x| x.to_bits() == SENTINEL.to_bits()),
                "{name}: gather wrote before failing"
            );
            let mut dtable = [[SENTINEL; 10]; 27];
            assert_eq!(
                k.fixed().embed_scatter_add(&dout, &ctx, &mut dtable),
                err,
                "{name}"
            );
            assert!(
                dtable
                    .as_flattened()
                    .iter()
                    .all(|&x| x.to_bits() == SENTINEL.to_bits()),
                "{name}: scatter wrote before failing"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SGD.

/// Runs `sgd` on every path at an unaligned offset inside a guarded buffer: each result within
/// one rounding of the exact update and bit-identical to the scalar reference.
fn check_sgd(p: &[f32], g: &[f32], lr: f32, offset: usize) {
    const GUARD: f32 = 4321.5;
    let n = p.len();
    let mut want = p.to_vec();
    Kernels::scalar().sgd(&mut want, g, lr).unwrap();
    for k in all_paths() {
        let name = k.path().name();
        let mut buf = vec![GUARD; offset + n + 16];
        buf[offset..offset + n].copy_from_slice(p);
        k.sgd(&mut buf[offset..offset + n], g, lr).unwrap();
        assert!(
            buf[..offset]
                .iter()
                .chain(&buf[offset + n..])
                .all(|&x| x == GUARD),
            "{name}: sgd wrote outside its slice"
        );
        for i in 0..n {
            let (got, reference) = (buf[offset + i], want[i]);
            let exact = p[i] as f64 - lr as f64 * g[i] as f64;
            let bound = U * exact.abs() * SECOND_ORDER + SUBNORMAL;
            let d = (got as f64 - exact).abs();
            assert!(
                d <= bound,
                "{name}: sgd p={} g={} lr={lr}: {got:e} vs exact {exact:e}, |Δ| {d:e} > {bound:e}",
                p[i],
                g[i]
            );
            assert!(
                same(got, reference),
                "{name}: sgd p={} g={} lr={lr}: {got:e} vs scalar {reference:e}: the bits differ",
                p[i],
                g[i]
            );
        }
    }
}

fn lr() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(0.1f32),
        Just(0.01),
        Just(1e-3),
        Just(1.0),
        -2.0f32..2.0
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sgd_every_path_is_the_reference(len_idx in 0..LENGTHS.len(), p in floats(6000), g in floats(6000), lr in lr(), offset in 0usize..8, gscale in prop::sample::select(vec![1.0f32, 1e-4, 1e3])) {
        let n = LENGTHS[len_idx];
        let g: Vec<f32> = g[..n].iter().map(|&g| g * gscale).collect();
        check_sgd(&p[..n], &g, lr, offset);
    }
}

/// `p` and `g` of different lengths: a shape error, and nothing is written.
#[test]
fn sgd_length_mismatch_is_an_error() {
    for k in all_paths() {
        let mut p = [1.0f32; 21];
        assert!(matches!(
            k.sgd(&mut p, &[1.0; 13], 0.5),
            Err(charmlp_kernels::KernelError::Shape {
                expected: 21,
                found: 13,
                ..
            })
        ));
        assert!(p.iter().all(|&x| x == 1.0), "{}: {p:?}", k.path().name());
        let mut p = [1.0f32; 13];
        assert!(k.sgd(&mut p, &[1.0; 21], 0.5).is_err());
        assert!(p.iter().all(|&x| x == 1.0), "{}: {p:?}", k.path().name());
    }
}

/// `p = 1`, `lr·g` just above 2⁻²⁵ but rounding to it: computed as `1 − RN(lr·g)` (two
/// roundings) this is a tie that rounds to 1; the fused update sees the exact product, just past
/// the midpoint, and rounds to `1 − 2⁻²⁴` on every path.
#[test]
fn sgd_is_fused() {
    let lr = 1.0 + f32::EPSILON;
    let g = f32::from_bits(0x32ff_ffff); // 2⁻²⁵ − 2⁻⁴⁹
    assert_eq!(lr * g, 2f32.powi(-25));
    assert_eq!(1.0 - lr * g, 1.0, "the unfused update rounds to 1");
    check_sgd(&[1.0; 9], &[g; 9], lr, 0);
    for k in all_paths() {
        let mut q = [1.0f32];
        k.sgd(&mut q, &[g], lr).unwrap();
        assert_eq!(q[0], 1.0 - f32::EPSILON / 2.0, "{}", k.path().name());
    }
}

// ---------------------------------------------------------------------------------------------
// tanh backward.

fn check_tanh_backward(h: &[f32], dh: &[f32], offset: usize) {
    const GUARD: f32 = -987.25;
    let n = dh.len();
    let mut want = dh.to_vec();
    Kernels::scalar().tanh_backward(h, &mut want).unwrap();
    for k in all_paths() {
        let name = k.path().name();
        let mut buf = vec![GUARD; offset + n + 16];
        buf[offset..offset + n].copy_from_slice(dh);
        k.tanh_backward(h, &mut buf[offset..offset + n]).unwrap();
        assert!(
            buf[..offset]
                .iter()
                .chain(&buf[offset + n..])
                .all(|&x| x == GUARD),
            "{name}: tanh_backward wrote outside its slice"
        );
        for i in 0..n {
            let (got, reference) = (buf[offset + i], want[i]);
            let exact = dh[i] as f64 * (1.0 - h[i] as f64 * h[i] as f64);
            let bound = 2.0 * U * exact.abs() * SECOND_ORDER + SUBNORMAL;
            let d = (got as f64 - exact).abs();
            assert!(
                d <= bound,
                "{name}: h={} dh={}: {got:e} vs exact {exact:e}, |Δ| {d:e} > {bound:e}",
                h[i],
                dh[i]
            );
            assert!(
                same(got, reference),
                "{name}: h={} dh={}: {got:e} vs scalar {reference:e}: the bits differ",
                h[i],
                dh[i]
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tanh_backward_every_path_is_the_reference(
        len_idx in 0..LENGTHS.len(),
        h in prop::collection::vec(prop_oneof![-1.0f32..=1.0, 0.99f32..=1.0, -1.5f32..1.5], 6000),
        dh in floats(6000),
        offset in 0usize..8,
    ) {
        let n = LENGTHS[len_idx];
        check_tanh_backward(&h[..n], &dh[..n], offset);
    }
}

#[test]
fn tanh_backward_values_and_length_mismatch() {
    for k in all_paths() {
        let name = k.path().name();
        // Saturated units pass no gradient; h = 0 passes all of it; h = ±0.5 passes 3/4.
        let h = [1.0f32, -1.0, 0.0, -0.0, 0.5, -0.5, 1.0, 0.0, 0.5];
        let mut dh = [2.0f32; 9];
        k.tanh_backward(&h, &mut dh).unwrap();
        assert_eq!(dh, [0.0, 0.0, 2.0, 2.0, 1.5, 1.5, 0.0, 2.0, 1.5], "{name}");
        // Lengths differ: a shape error, and nothing is written.
        let mut dh = [2.0f32; 19];
        assert!(k.tanh_backward(&[0.5; 11], &mut dh).is_err());
        assert!(dh.iter().all(|&x| x == 2.0), "{name}: {dh:?}");
        let mut dh = [2.0f32; 11];
        assert!(k.tanh_backward(&[0.5; 19], &mut dh).is_err());
        assert!(dh.iter().all(|&x| x == 2.0), "{name}: {dh:?}");
    }
}

/// `add` and `add_assign` (layer 1 from a per-position table) on one path against the
/// reference's one IEEE addition per element, bit for bit, at an offset (misaligned starts).
fn check_add(a: &[f32], x: &[f32], offset: usize) {
    let n = a.len().min(x.len()).saturating_sub(offset);
    let (a, x) = (&a[offset..offset + n], &x[offset..offset + n]);
    let want: Vec<u32> = a.iter().zip(x).map(|(a, x)| (a + x).to_bits()).collect();
    for k in all_paths() {
        let mut y = vec![f32::NAN; n];
        k.add(a, x, &mut y).unwrap();
        let got: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "add on {} (n = {n})", k.path().name());
        let mut y = a.to_vec();
        k.add_assign(&mut y, x).unwrap();
        let got: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "add_assign on {} (n = {n})", k.path().name());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add_every_path_is_the_reference(len_idx in 0..LENGTHS.len(), a in floats(6000), x in floats(6000), offset in 0usize..8) {
        let n = LENGTHS[len_idx] + offset;
        check_add(&a[..n.min(a.len())], &x[..n.min(x.len())], offset.min(n));
    }
}

#[test]
fn add_specials_and_length_mismatch() {
    let specials = [
        0.0f32,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MAX,
        -f32::MAX,
        1e-45,
        -1e-45,
        1.0,
    ];
    let a: Vec<f32> = specials
        .iter()
        .flat_map(|&s| specials.iter().map(move |_| s))
        .collect();
    let x: Vec<f32> = specials
        .iter()
        .flat_map(|_| specials.iter().copied())
        .collect();
    for k in all_paths() {
        let mut y = vec![0.0; a.len()];
        k.add(&a, &x, &mut y).unwrap();
        for ((&a, &x), &y) in a.iter().zip(&x).zip(&y) {
            let w = a + x;
            assert!(
                w.to_bits() == y.to_bits() || (w.is_nan() && y.is_nan()),
                "{a} + {x} on {}",
                k.path().name()
            );
        }
        let mut short = [7.0f32; 3];
        assert!(k.add(&a[..4], &x[..4], &mut short).is_err());
        assert_eq!(short, [7.0; 3], "nothing written on error");
        assert!(k.add_assign(&mut short, &x[..4]).is_err());
        assert_eq!(short, [7.0; 3], "nothing written on error");
    }
}
