//! int8 matrix-vector product on AVX2: `vpmovsxbw` sign-extends 16 int8 values to int16 and
//! `vpmaddwd` multiplies pairs and adds them into int32 lanes — exact (two products of at most
//! 2¹⁴), unlike `vpmaddubsw`, which saturates. The AVX-512 path runs this one too.

#![allow(unsafe_op_in_unsafe_fn)]

use core::arch::x86_64::*;

/// `out[j] += Σᵢ x[i]·wt[j·k + i]`, wrapping int32 (see [`crate::scalar::matvec_i8`]).
///
/// # Safety
/// The CPU must support AVX2; `wt` must hold `out.len()·x.len()` values.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn matvec_i8(x: &[i8], wt: &[i8], out: &mut [i32]) {
    let k = x.len();
    let n = out.len();
    debug_assert!(wt.len() >= n * k);
    let full = k / 16 * 16;
    // The tail of x, zero-padded to 16 (its products with anything are 0).
    let mut xt = [0i8; 16];
    xt[..k - full].copy_from_slice(&x[full..]);
    let xtail = _mm256_cvtepi8_epi16(_mm_loadu_si128(xt.as_ptr().cast()));
    let mut wtail = [0i8; 16];
    for j in 0..n {
        let row = wt.as_ptr().add(j * k);
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < full {
            let xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(x.as_ptr().add(i).cast()));
            let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.add(i).cast()));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
            i += 16;
        }
        if full < k {
            core::ptr::copy_nonoverlapping(row.add(full), wtail.as_mut_ptr(), k - full);
            let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(wtail.as_ptr().cast()));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xtail, wv));
        }
        // Horizontal sum of the 8 int32 lanes (wrapping adds).
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        let o = out.get_unchecked_mut(j);
        *o = o.wrapping_add(_mm_cvtsi128_si32(s));
    }
}
