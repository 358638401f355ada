//! The int8 matrix-vector product on every path: integer arithmetic is exact, so every path must
//! give the reference's bits — equality, not a tolerance — including the extreme operands
//! (−128, 127), every tail length, and sums that wrap around int32.

mod common;
use charmlp_kernels::{KernelError, Kernels, scalar};
use common::*;
use proptest::prelude::*;

/// The plain definition, in i64 then wrapped to i32: what every path must equal.
fn definition(x: &[i8], wt: &[i8], bias: &[i32], n: usize) -> Vec<i32> {
    let k = x.len();
    (0..n)
        .map(|j| {
            let s: i64 = (0..k)
                .map(|i| i64::from(x[i]) * i64::from(wt[j * k + i]))
                .sum();
            (i64::from(bias[j]) + s) as i32
        })
        .collect()
}

fn check(x: &[i8], wt: &[i8], bias: &[i32]) {
    let n = bias.len();
    let want = definition(x, wt, bias, n);
    let mut r = bias.to_vec();
    scalar::matvec_i8(x, wt, &mut r);
    assert_eq!(
        r,
        want,
        "the reference is not the definition (k = {})",
        x.len()
    );
    for k in all_paths() {
        let mut out = bias.to_vec();
        k.matvec_i8(x, wt, &mut out).unwrap();
        assert_eq!(out, want, "{} differs (k = {}, n = {n})", k.path(), x.len());
    }
}

/// `m` as little-endian bytes at a 4-byte-aligned address, or one byte past one: the buffer and
/// where `m` starts in it (the ARMv6-M kernel reads aligned words and leaves an unaligned `m` to
/// the reference).
fn le_bytes_at(m: &[i32], unaligned: bool) -> (Vec<u8>, usize) {
    let mut bytes = vec![0u8; 4 * m.len() + 8];
    let at = bytes.as_ptr().align_offset(4) + usize::from(unaligned);
    for (d, b) in bytes[at..]
        .iter_mut()
        .zip(m.iter().flat_map(|v| v.to_le_bytes()))
    {
        *d = b;
    }
    (bytes, at)
}

/// The requantize-and-lookup kernel's definition: the clamped requantization, the table at |p|,
/// the sign of p.
fn lut_definition(acc: &[i32], m: &[i32], s: u32, lim: i32, lut: &[i8]) -> Vec<i8> {
    acc.iter()
        .zip(m)
        .map(|(&a, &mj)| {
            let p = scalar::requantize(a, mj, s).clamp(-i64::from(lim), i64::from(lim));
            let t = lut[p.unsigned_abs() as usize];
            if p < 0 { t.wrapping_neg() } else { t }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_path_is_the_reference(
        k in 0usize..80,
        n in 1usize..40,
        seed in any::<u64>(),
        extreme in any::<bool>(),
    ) {
        let mut s = seed | 1;
        let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
        let val = |r: u64| if extreme { if r & 1 == 0 { -128 } else { 127 } } else { r as i8 };
        let x: Vec<i8> = (0..k).map(|_| val(next())).collect();
        let wt: Vec<i8> = (0..k * n).map(|_| val(next())).collect();
        let bias: Vec<i32> = (0..n).map(|_| (next() >> 40) as i32 - (1 << 23)).collect();
        check(&x, &wt, &bias);
    }

    /// The requantize-and-lookup kernel (the int8 tanh) on every path equals the definition:
    /// the clamped requantization, the table at |p|, the sign of p — for any sums, multipliers
    /// (positive, as files hold, or any), sums near the clamp, shifts on both sides of 33, `m`
    /// aligned or not, and lengths around the 8 lanes.
    #[test]
    fn requantize_lut_every_path_is_the_definition(
        n in 0usize..40,
        s in prop_oneof![1u32..=32, 33u32..=62],
        lim in 0i32..600,
        seed in any::<u64>(),
        extreme in any::<bool>(),
        signed in any::<bool>(),
        unaligned in any::<bool>(),
        near in any::<bool>(),
    ) {
        let mut st = seed | 1;
        let mut next = || { st ^= st << 13; st ^= st >> 7; st ^= st << 17; st };
        // Positive multipliers, as files hold; with `signed`, any int32 (the kernel's contract).
        let m: Vec<i32> = (0..n)
            .map(|_| match (extreme, signed) {
                (true, false) => i32::MAX,
                (true, true) => [i32::MAX, i32::MIN, -1][(next() % 3) as usize],
                (false, false) => (next() >> 33) as i32 | 1,
                (false, true) => next() as i32,
            })
            .collect();
        // Sums anywhere, or (with `near`) where the requantized value is within about 2¹⁰ of
        // zero: inside and around the clamp, where every bit of the product's high word counts.
        let acc: Vec<i32> = m
            .iter()
            .map(|&mj| {
                if extreme {
                    [i32::MIN, i32::MAX, 0, -1][(next() % 4) as usize]
                } else if near {
                    let bound = ((1i128 << (s + 10)) / i128::from(mj.unsigned_abs().max(1)))
                        .min(i128::from(i32::MAX)) as i64;
                    ((next() >> 1) as i64 % (2 * bound + 1) - bound) as i32
                } else {
                    next() as i32
                }
            })
            .collect();
        let lut: Vec<i8> = (0..lim as usize + 4).map(|_| next() as i8).collect();
        let (bytes, at) = le_bytes_at(&m, unaligned);
        let mb = &bytes[at..at + 4 * n];
        let want = lut_definition(&acc, &m, s, lim, &lut);
        for k in all_paths() {
            let mut out = vec![0x55i8; n];
            k.requantize_lut_i8(&acc, mb, s, lim, &lut, &mut out).unwrap();
            prop_assert_eq!(&out, &want, "{} (s = {}, lim = {}, unaligned {})", k.path(), s, lim, unaligned);
        }
    }

    /// The requantization the forward pass runs (high word only for s ≥ 33; ARMv6-M's 32-bit
    /// product) equals the definition clamped, for any operands, shift and limit.
    #[test]
    fn requantize_clamp_is_the_definition(
        v in any::<i32>(),
        m in any::<i32>(),
        s in 1u32..=62,
        lim in 0i32..=i32::MAX,
    ) {
        prop_assert_eq!(scalar::mul_hi_32(v, m), scalar::mul_hi(v, m));
        let want = scalar::requantize(v, m, s).clamp(-i64::from(lim), i64::from(lim));
        prop_assert_eq!(i64::from(charmlp_kernels::requantize_clamp(v, m, s, lim)), want);
    }
}

/// At the smallest high-word shifts (`s` = 33, 34, 35) a product's high word off by one changes
/// the result about half the time, a quarter, an eighth: every path of the requantize-and-lookup
/// kernel, over sums that land inside the clamp, against the definition.
#[test]
fn requantize_lut_every_bit_of_the_high_word_counts() {
    let mut st = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        st
    };
    let lim = 600;
    let lut: Vec<i8> = (0..lim as usize + 4).map(|i| (i % 251) as i8).collect();
    for s in 33..=35u32 {
        for signed in [false, true] {
            let n = 64;
            let m: Vec<i32> = (0..n)
                .map(|_| {
                    if signed {
                        next() as i32
                    } else {
                        (next() >> 33) as i32 | 1
                    }
                })
                .collect();
            let acc: Vec<i32> = m
                .iter()
                .map(|&mj| {
                    let bound = ((1i128 << (s + 9)) / i128::from(mj.unsigned_abs().max(1)))
                        .min(i128::from(i32::MAX)) as i64;
                    ((next() >> 1) as i64 % (2 * bound + 1) - bound) as i32
                })
                .collect();
            let (bytes, at) = le_bytes_at(&m, false);
            let want = lut_definition(&acc, &m, s, lim, &lut);
            for k in all_paths() {
                let mut out = vec![0x55i8; n];
                k.requantize_lut_i8(&acc, &bytes[at..at + 4 * n], s, lim, &lut, &mut out)
                    .unwrap();
                assert_eq!(out, want, "{} (s = {s}, signed {signed})", k.path());
            }
        }
    }
}

#[test]
fn requantize_clamp_is_the_definition_at_the_extremes() {
    let vals = [
        i32::MIN,
        i32::MIN + 1,
        -65536,
        -65535,
        -32769,
        -1,
        0,
        1,
        32767,
        65535,
        65536,
        i32::MAX,
    ];
    for &v in &vals {
        for &m in &vals {
            assert_eq!(
                scalar::mul_hi_32(v, m),
                scalar::mul_hi(v, m),
                "v = {v}, m = {m}"
            );
            for s in 1..=62 {
                for lim in [512, 1 << 24, i32::MAX] {
                    let want = scalar::requantize(v, m, s).clamp(-i64::from(lim), i64::from(lim));
                    assert_eq!(
                        i64::from(charmlp_kernels::requantize_clamp(v, m, s, lim)),
                        want,
                        "v = {v}, m = {m}, s = {s}, lim = {lim}"
                    );
                }
            }
        }
    }
    // Halves round up: 1.5 → 2, −1.5 → −1 (at s < 33 and at s ≥ 33).
    assert_eq!(scalar::requantize(3, 1, 1), 2);
    assert_eq!(scalar::requantize(-3, 1, 1), -1);
    assert_eq!(charmlp_kernels::requantize_clamp(6, 1 << 30, 32, 9), 2);
    assert_eq!(charmlp_kernels::requantize_clamp(-6, 1 << 30, 32, 9), -1);
    assert_eq!(charmlp_kernels::requantize_clamp(3 << 3, 1 << 30, 34, 9), 2);
    assert_eq!(
        charmlp_kernels::requantize_clamp(-3 << 3, 1 << 30, 34, 9),
        -1
    );
}

#[test]
fn the_model_shapes_and_every_tail() {
    // Layer 1 (k = B·E = 30, n = H = 200), layer 2 (k = 200, n = 27), and k = 0..=40.
    for (k, n) in (0..=40usize)
        .map(|k| (k, 3usize))
        .chain([(30, 200), (200, 27), (1024, 5)])
    {
        let x: Vec<i8> = (0..k).map(|i| (i as i32 * 37 - 100) as i8).collect();
        let wt: Vec<i8> = (0..k * n).map(|i| (i as i32 * 91 + 5) as i8).collect();
        let bias: Vec<i32> = (0..n).map(|j| j as i32 * 1000 - 5000).collect();
        check(&x, &wt, &bias);
    }
}

#[test]
fn sums_that_overflow_wrap_the_same_on_every_path() {
    // (−128)·(−128) = 2¹⁴ per term: 2¹⁷ terms reach 2³¹; with a bias near i32::MAX the sum wraps
    // after a few.
    let k = 64;
    let x = vec![-128i8; k];
    let wt = vec![-128i8; 2 * k];
    check(&x, &wt, &[i32::MAX - 5, i32::MIN + 3]);
    let x = vec![127i8; k];
    let wt: Vec<i8> = (0..2 * k)
        .map(|i| if i % 2 == 0 { -128 } else { 127 })
        .collect();
    check(&x, &wt, &[i32::MIN, i32::MAX]);
}

#[test]
fn requantize_lut_rejects_bad_arguments_and_writes_nothing() {
    let (acc, m, lut) = ([1i32; 9], [1u8; 36], [0i8; 20]);
    for k in all_paths() {
        let mut out = [7i8; 9];
        for (s, lim, m_len, lut_len, out_len) in [
            (0, 8, 36, 20, 9),
            (63, 8, 36, 20, 9),
            (40, -1, 36, 20, 9),
            (40, 8, 35, 20, 9),
            (40, 8, 36, 11, 9),
            (40, 8, 36, 20, 8),
        ] {
            assert!(
                k.requantize_lut_i8(
                    &acc,
                    &m[..m_len],
                    s,
                    lim,
                    &lut[..lut_len],
                    &mut out[..out_len]
                )
                .is_err(),
                "{}: s = {s}, lim = {lim}, lengths {m_len} {lut_len} {out_len}",
                k.path()
            );
            assert_eq!(out, [7; 9], "{} wrote on an error", k.path());
        }
        assert!(
            k.requantize_lut_i8(&acc, &m, 40, 16, &lut, &mut out)
                .is_ok()
        );
    }
}

#[test]
fn mismatched_lengths_are_errors_and_write_nothing() {
    let k = Kernels::best();
    let mut out = [5i32; 3];
    let e = k.matvec_i8(&[1, 2], &[1; 5], &mut out).unwrap_err();
    assert!(matches!(e, KernelError::Shape { .. }), "{e}");
    let e = k.matvec_i8(&[1, 2], &[1; 7], &mut out).unwrap_err();
    assert!(matches!(e, KernelError::Shape { .. }), "{e}");
    assert_eq!(out, [5; 3]);
    eprintln!(
        "int8 paths tested: {}",
        all_paths()
            .iter()
            .map(|k| k.path().name())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
