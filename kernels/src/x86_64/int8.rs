//! int8 matrix-vector product on AVX2: `vpmovsxbw` sign-extends 16 int8 values to int16 and
//! `vpmaddwd` multiplies pairs and adds them into int32 lanes — exact (two products of at most
//! 2¹⁴), unlike `vpmaddubsw`, which saturates. Four rows at a time share one horizontal
//! reduction (`vphaddd`). The AVX-512 path runs this one too.

#![allow(unsafe_op_in_unsafe_fn)]

use core::arch::x86_64::*;

/// `Σ` over 16-value chunks of `x` and one row, as 8 int32 lanes: the `full` whole chunks, then
/// the tail against `xtail` (x's last `k − 16·full` values, zero-padded). The tail's 16 weight
/// bytes are read from the row when they stay inside `wt` (bytes past the row meet zeros of
/// `xtail`, so they add 0), else from a zero-padded copy.
#[inline(always)]
unsafe fn row_sum(x: &[i8], wt: &[i8], at: usize, full: usize, xtail: Option<__m256i>) -> __m256i {
    let row = wt.as_ptr().add(at);
    let mut acc = _mm256_setzero_si256();
    for c in 0..full {
        let xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(x.as_ptr().add(16 * c).cast()));
        let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.add(16 * c).cast()));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
    }
    if let Some(xt) = xtail {
        let start = at + 16 * full;
        let wv = if start + 16 <= wt.len() {
            _mm_loadu_si128(wt.as_ptr().add(start).cast())
        } else {
            let mut buf = [0i8; 16];
            let rest = x.len() - 16 * full;
            buf[..rest].copy_from_slice(&wt[start..start + rest]);
            _mm_loadu_si128(buf.as_ptr().cast())
        };
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xt, _mm256_cvtepi8_epi16(wv)));
    }
    acc
}

/// Runs [`matvec_i8`] if `k`'s path is AVX2 or AVX-512 (and the lengths fit); `false` otherwise.
pub(crate) fn run(k: crate::Kernels, x: &[i8], wt: &[i8], out: &mut [i32]) -> bool {
    if !matches!(k.path(), crate::Path::Avx2Fma | crate::Path::Avx512)
        || wt.len() < out.len() * x.len()
    {
        return false;
    }
    // SAFETY: both paths are only constructed on CPUs with AVX2 (`Path::is_supported`; AVX-512
    // is detected together with AVX2), and `wt` holds `out.len()·x.len()` values (checked above).
    unsafe { matvec_i8(x, wt, out) };
    true
}

/// `out[j] += Σᵢ x[i]·wt[j·k + i]`, wrapping int32 (see [`crate::scalar::matvec_i8`]).
///
/// # Safety
/// The CPU must support AVX2; `wt` must hold `out.len()·x.len()` values.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn matvec_i8(x: &[i8], wt: &[i8], out: &mut [i32]) {
    let k = x.len();
    let n = out.len();
    debug_assert!(wt.len() >= n * k);
    let full = k / 16;
    let xtail = (!k.is_multiple_of(16)).then(|| {
        let mut xt = [0i8; 16];
        xt[..k - 16 * full].copy_from_slice(&x[16 * full..]);
        _mm256_cvtepi8_epi16(_mm_loadu_si128(xt.as_ptr().cast()))
    });
    let mut j = 0;
    while j + 4 <= n {
        let a0 = row_sum(x, wt, j * k, full, xtail);
        let a1 = row_sum(x, wt, (j + 1) * k, full, xtail);
        let a2 = row_sum(x, wt, (j + 2) * k, full, xtail);
        let a3 = row_sum(x, wt, (j + 3) * k, full, xtail);
        // [Σa, Σb, Σc, Σd] of the four rows' 8 lanes each.
        let s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        let o = out.as_mut_ptr().add(j).cast::<__m128i>();
        _mm_storeu_si128(o, _mm_add_epi32(_mm_loadu_si128(o), s));
        j += 4;
    }
    while j < n {
        let acc = row_sum(x, wt, j * k, full, xtail);
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        let o = out.get_unchecked_mut(j);
        *o = o.wrapping_add(_mm_cvtsi128_si32(s));
        j += 1;
    }
}
