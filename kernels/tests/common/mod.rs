//! Helpers shared by the kernel tests.
#![allow(dead_code)]

use charmlp_kernels::Kernels;

/// f32 machine epsilon of round-to-nearest (unit roundoff), 2⁻²⁴.
pub const U: f64 = 1.0 / 16_777_216.0;

/// Every SIMD path this CPU runs (the scalar reference excluded); prints which.
pub fn simd_paths() -> Vec<Kernels> {
    let v: Vec<Kernels> = Kernels::all_supported()
        .filter(|k| k.path() != charmlp_kernels::Path::Scalar)
        .collect();
    // Cross-check the crate's detection with std's, so a build that silently lost a path fails.
    // (Not under `force-scalar`, whose point is that no SIMD path is used.)
    #[cfg(all(target_arch = "x86_64", not(feature = "force-scalar")))]
    {
        use charmlp_kernels::Path;
        let has = |p: Path| v.iter().any(|k| k.path() == p);
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            assert!(
                has(Path::Avx2Fma),
                "CPU has AVX2+FMA but the path is not available"
            );
        }
        if is_x86_feature_detected!("avx512f") {
            assert!(
                has(Path::Avx512),
                "CPU has AVX-512F but the path is not available"
            );
        }
    }
    eprintln!(
        "SIMD paths under test: {:?}",
        v.iter().map(|k| k.path().name()).collect::<Vec<_>>()
    );
    v
}

/// Every path this CPU runs, scalar included.
pub fn all_paths() -> Vec<Kernels> {
    Kernels::all_supported().collect()
}

/// The ulp of the f32 nearest to `r` (subnormal spacing below 2⁻¹²⁶).
pub fn ulp_at(r: f64) -> f64 {
    let a = r.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    let e = a.log2().floor() as i32;
    // Guard against log2 rounding at exact powers of two.
    let e = if 2f64.powi(e) > a {
        e - 1
    } else if 2f64.powi(e + 1) <= a {
        e + 1
    } else {
        e
    };
    2f64.powi(e - 23)
}

/// Error of `y` against the exact `r`, in ulps of the correctly rounded result.
pub fn ulps(y: f32, r: f64) -> f64 {
    if y as f64 == r {
        return 0.0;
    }
    (y as f64 - r).abs() / ulp_at(r)
}

/// Distance between two f32 in representable steps (same sign assumed, as for tanh pairs).
pub fn ulp_diff(a: f32, b: f32) -> u32 {
    let ia = a.to_bits() as i32;
    let ib = b.to_bits() as i32;
    let ia = if ia < 0 { i32::MIN - ia } else { ia };
    let ib = if ib < 0 { i32::MIN - ib } else { ib };
    (ia as i64 - ib as i64).unsigned_abs() as u32
}

/// Copies a flat vector into an array of rows.
pub fn rows<const R: usize, const C: usize>(v: &[f32]) -> Box<[[f32; C]; R]> {
    let mut out = Box::new([[0.0f32; C]; R]);
    out.as_flattened_mut().copy_from_slice(&v[..R * C]);
    out
}

/// The same bits, or both NaN (NaN payloads are not specified).
pub fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// The first index where `a` and `b` differ in bits (NaN equal to NaN), if any.
pub fn first_difference(a: &[f32], b: &[f32]) -> Option<usize> {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).position(|(&x, &y)| !same(x, y))
}
