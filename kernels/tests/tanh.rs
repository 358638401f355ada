//! tanh on every path against the f64 `tanh` of `std` (about 1 f64 ulp, i.e. 2⁻²⁹ f32 ulp, from
//! the exact value), and every path bit for bit against the scalar reference.
//!
//! The crate promises ≤ 2 ulp from the correctly rounded value for every finite f32, the same
//! bits on every path, oddness bit for bit, `tanh(±0) = ±0`, exactly ±1 for |x| ≥ `TANH_C`
//! and NaN for NaN. The exhaustive check over all 2³² patterns is `cargo run --release -p
//! charmlp-kernels --example tanh_ulp`; these tests sweep the parts where errors concentrate
//! (around 0.25, where the first 2-ulp result lies, around the clamp `TANH_C`, the subnormals)
//! densely and the rest with a stride.

mod common;
use charmlp_kernels::{Kernels, scalar};
use common::*;
use proptest::prelude::*;

/// The promised accuracy, in ulps of the correctly rounded result.
const MAX_ULP: f64 = 2.0;

/// Inclusive ranges of positive bit patterns with a stride: all of [0, 10] every 61st pattern,
/// every pattern within ±20000 ulps of both branch points, and every subnormal.
fn sweep_ranges() -> Vec<(u32, u32, u32)> {
    let around = |x: f32| (x.to_bits() - 20_000, x.to_bits() + 20_000, 1);
    vec![
        (0, 10.0f32.to_bits(), 61),
        around(0.25),
        around(scalar::TANH_C),
        (1, f32::MIN_POSITIVE.to_bits() - 1, 1),
    ]
}

/// Calls `f` with chunks of the sweep's positive arguments (chunk lengths are not multiples of
/// any register width, so every chunk also ends in a masked tail).
fn for_each_sweep_chunk(mut f: impl FnMut(&[f32])) {
    const CHUNK: usize = 100_003;
    let mut buf = Vec::with_capacity(CHUNK);
    for (lo, hi, step) in sweep_ranges() {
        let mut b = lo;
        loop {
            buf.push(f32::from_bits(b));
            if buf.len() == CHUNK {
                f(&buf);
                buf.clear();
            }
            match b.checked_add(step) {
                Some(n) if n <= hi => b = n,
                _ => break,
            }
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

#[test]
fn sweep_within_2_ulp_of_f64() {
    for k in all_paths() {
        let name = k.path().name();
        let (mut worst, mut worst_x, mut n) = (0.0f64, 0.0f32, 0usize);
        let mut y = Vec::new();
        for_each_sweep_chunk(|xs| {
            y.clear();
            y.extend_from_slice(xs);
            k.tanh(&mut y);
            for (&x, &t) in xs.iter().zip(&y) {
                let e = ulps(t, (x as f64).tanh());
                assert!(
                    e <= MAX_ULP,
                    "{name}: tanh({x:e} = {:#010x}) = {t:e}: {e:.3} ulp",
                    x.to_bits()
                );
                if e > worst {
                    (worst, worst_x) = (e, x);
                }
            }
            n += xs.len();
        });
        eprintln!(
            "{name}: max {worst:.3} ulp at x = {worst_x:e} ({:#010x}) over {n} swept arguments",
            worst_x.to_bits()
        );
    }
}

#[test]
fn scalar_elementwise_matches_slice_api() {
    // The per-element reference and the slice method of the scalar path are the same function.
    let s = Kernels::scalar();
    for_each_sweep_chunk(|xs| {
        let mut y = xs.to_vec();
        s.tanh(&mut y);
        for (&x, &t) in xs.iter().zip(&y) {
            assert_eq!(scalar::tanh(x).to_bits(), t.to_bits(), "x = {x:e}");
        }
    });
}

#[test]
fn every_path_is_the_reference_over_the_sweep() {
    for k in simd_paths() {
        let name = k.path().name();
        for_each_sweep_chunk(|xs| {
            for sign in [1.0f32, -1.0] {
                let x: Vec<f32> = xs.iter().map(|&x| x * sign).collect();
                let (mut got, mut want) = (x.clone(), x.clone());
                k.tanh(&mut got);
                Kernels::scalar().tanh(&mut want);
                if let Some(i) = first_difference(&got, &want) {
                    panic!(
                        "{name}: tanh({:e}) = {:e}, scalar {:e}",
                        x[i], got[i], want[i]
                    );
                }
            }
        });
    }
}

#[test]
fn odd_bit_for_bit() {
    for k in all_paths() {
        let name = k.path().name();
        for_each_sweep_chunk(|xs| {
            let mut pos = xs.to_vec();
            let mut neg: Vec<f32> = xs.iter().map(|&x| -x).collect();
            k.tanh(&mut pos);
            k.tanh(&mut neg);
            for ((&x, &p), &q) in xs.iter().zip(&pos).zip(&neg) {
                assert_eq!(
                    q.to_bits(),
                    (-p).to_bits(),
                    "{name}: tanh(-{x:e}) = {q:e} but tanh({x:e}) = {p:e}"
                );
            }
        });
    }
}

/// Runs `k.tanh` on `xs` both as one slice (specials in every lane position, a masked tail) and
/// one element at a time (a tail of one lane).
fn tanh_both_ways(k: Kernels, xs: &[f32]) -> Vec<f32> {
    let mut all = xs.to_vec();
    k.tanh(&mut all);
    for (&x, &y) in xs.iter().zip(&all) {
        let mut one = [x];
        k.tanh(&mut one);
        assert_eq!(
            one[0].to_bits(),
            y.to_bits(),
            "{}: tanh({x:e}) alone differs from in a slice",
            k.path().name()
        );
    }
    all
}

#[test]
fn specials() {
    let sat = scalar::TANH_C;
    assert_eq!(sat.to_bits(), 0x4110_2cb4);
    let big = [
        sat,
        f32::from_bits(sat.to_bits() + 1),
        9.5,
        10.0,
        20.0,
        88.0,
        89.0,
        1e10,
        1e30,
        f32::MAX,
        f32::INFINITY,
    ];
    for k in all_paths() {
        let name = k.path().name();
        // Zeros keep their sign.
        let y = tanh_both_ways(k, &[0.0, -0.0]);
        assert_eq!(y[0].to_bits(), 0.0f32.to_bits(), "{name}: tanh(+0)");
        assert_eq!(y[1].to_bits(), (-0.0f32).to_bits(), "{name}: tanh(-0)");
        // Saturation: exactly ±1 at and beyond the clamp, infinities included.
        let xs: Vec<f32> = big.iter().flat_map(|&x| [x, -x]).collect();
        for (&x, &y) in xs.iter().zip(&tanh_both_ways(k, &xs)) {
            assert_eq!(
                y,
                1.0f32.copysign(x),
                "{name}: tanh({x:e}) = {y:e}, expected exactly ±1"
            );
        }
        // Just below saturation the result is still within 2 ulp (and never above 1).
        let below = f32::from_bits(sat.to_bits() - 1);
        let y = tanh_both_ways(k, &[below])[0];
        assert!(
            y <= 1.0 && ulps(y, (below as f64).tanh()) <= MAX_ULP,
            "{name}: tanh({below:e}) = {y:e}"
        );
        // NaN in, NaN out, whatever its sign and payload.
        let nans = [
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
            f32::from_bits(0xffc1_2345),
        ];
        for (&x, &y) in nans.iter().zip(&tanh_both_ways(k, &nans)) {
            assert!(
                y.is_nan(),
                "{name}: tanh({:#010x}) = {y:e}, expected NaN",
                x.to_bits()
            );
        }
        // Smallest and largest subnormals and normals around zero: tanh(x) = x.
        let tiny = [
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            f32::MIN_POSITIVE,
            1e-20,
            1e-10,
        ];
        let xs: Vec<f32> = tiny.iter().flat_map(|&x| [x, -x]).collect();
        for (&x, &y) in xs.iter().zip(&tanh_both_ways(k, &xs)) {
            assert_eq!(
                y.to_bits(),
                x.to_bits(),
                "{name}: tanh({x:e}) = {y:e}, expected x"
            );
        }
    }
}

/// Odd lengths: a single lane, tails of every width below 8 and 16, several full registers.
const LENGTHS: [usize; 7] = [1, 3, 7, 17, 27, 33, 65];

/// Arguments where tanh is interesting: anything finite, the working range, the branch points.
fn arg() -> impl Strategy<Value = f32> {
    let near = |c: f32| {
        (-3000i32..3000).prop_map(move |d| f32::from_bits(c.to_bits().wrapping_add_signed(d)))
    };
    prop_oneof![
        any::<u32>()
            .prop_map(f32::from_bits)
            .prop_filter("finite", |x| x.is_finite()),
        -12.0f32..12.0,
        near(0.25),
        near(scalar::TANH_C),
        near(-0.25),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bit_patterns_within_2_ulp(bits in prop::collection::vec(any::<u32>(), 1..70)) {
        let xs: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
        for k in all_paths() {
            let mut y = xs.clone();
            k.tanh(&mut y);
            for (&x, &t) in xs.iter().zip(&y) {
                if x.is_nan() {
                    prop_assert!(t.is_nan());
                } else {
                    let e = ulps(t, (x as f64).tanh());
                    prop_assert!(e <= MAX_ULP, "{}: tanh({:e}) = {:e}: {:.3} ulp", k.path().name(), x, t, e);
                }
            }
        }
    }

    #[test]
    fn every_path_is_the_reference(len_idx in 0..LENGTHS.len(), xs in prop::collection::vec(arg(), 65), offset in 0usize..8) {
        let len = LENGTHS[len_idx];
        let xs = &xs[..len];
        let mut want = xs.to_vec();
        Kernels::scalar().tanh(&mut want);
        for k in simd_paths() {
            // Run on a sub-slice at an unaligned offset inside a guarded buffer: the masked tail
            // must not touch the neighbours.
            const GUARD: f32 = 12345.678;
            let mut buf = vec![GUARD; offset + len + 16];
            buf[offset..offset + len].copy_from_slice(xs);
            k.tanh(&mut buf[offset..offset + len]);
            prop_assert!(buf[..offset].iter().chain(&buf[offset + len..]).all(|&g| g == GUARD), "{}: tanh wrote outside its slice", k.path().name());
            for ((&x, &g), &w) in xs.iter().zip(&buf[offset..offset + len]).zip(&want) {
                prop_assert!(same(g, w), "{}: tanh({:e}) = {:e}, scalar {:e}: the bits differ", k.path().name(), x, g, w);
            }
        }
    }
}
