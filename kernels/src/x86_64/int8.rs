//! int8 matrix-vector product on AVX2: `vpmovsxbw` sign-extends 16 int8 values to int16 and
//! `vpmaddwd` multiplies pairs and adds them into int32 lanes — exact (two products of at most
//! 2¹⁴), unlike `vpmaddubsw`, which saturates. Four rows at a time share one horizontal
//! reduction (`vphaddd`). The AVX-512 path runs `vpdpbusd` (AVX-512 VNNI) where the CPU has it,
//! else this one; both run the AVX2 requantize-and-lookup.

#![allow(unsafe_op_in_unsafe_fn)]

use core::arch::x86_64::*;

/// Where a row's last, partial chunk of `N` weight bytes (from `start`) is read: in `wt` when
/// all `N` bytes lie inside it (the bytes past the row meet the zero padding of `x`'s tail, so
/// they add 0), else in `buf`, zeroed, which takes the row's last `rest` bytes.
#[inline(always)]
fn tail_ptr<const N: usize>(wt: &[i8], start: usize, rest: usize, buf: &mut [i8; N]) -> *const i8 {
    if start + N <= wt.len() {
        wt[start..].as_ptr()
    } else {
        buf[..rest].copy_from_slice(&wt[start..start + rest]);
        buf.as_ptr()
    }
}

/// `Σ` over 16-value chunks of `x` and the `R` rows at `at`, `at + k`, …, as 8 int32 lanes per
/// row: the `full` whole chunks (each chunk of `x` sign-extended once for the `R` rows), then
/// the tail against `xtail` (x's last `k − 16·full` values, zero-padded).
#[inline(always)]
unsafe fn rows_sum<const R: usize>(
    x: &[i8],
    wt: &[i8],
    at: usize,
    full: usize,
    xtail: Option<__m256i>,
) -> [__m256i; R] {
    let k = x.len();
    let row = wt.as_ptr().add(at);
    let mut acc = [_mm256_setzero_si256(); R];
    for c in 0..full {
        let xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(x.as_ptr().add(16 * c).cast()));
        for (r, a) in acc.iter_mut().enumerate() {
            let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.add(r * k + 16 * c).cast()));
            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xv, wv));
        }
    }
    if let Some(xt) = xtail {
        let mut buf = [0i8; 16];
        for (r, a) in acc.iter_mut().enumerate() {
            let p = tail_ptr(wt, at + r * k + 16 * full, k - 16 * full, &mut buf);
            let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(p.cast()));
            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xt, wv));
        }
    }
    acc
}

/// The int8 matrix-vector kernels of this module.
enum Matvec {
    /// [`matvec_i8`].
    Avx2,
    /// [`matvec_i8_vnni`].
    Vnni,
}

/// The kernel `k` runs: VNNI on the AVX-512 path where the CPU has it, else AVX2 on both x86
/// paths (AVX-512F is detected together with AVX2); `None` for the other paths.
fn matvec_for(k: crate::Kernels) -> Option<Matvec> {
    match k.path() {
        crate::Path::Avx512 if vnni() => Some(Matvec::Vnni),
        crate::Path::Avx2Fma | crate::Path::Avx512 => Some(Matvec::Avx2),
        _ => None,
    }
}

/// What [`crate::Kernels::int8_kernel`] reports for `k`.
pub(crate) fn name(k: crate::Kernels) -> &'static str {
    match matvec_for(k) {
        Some(Matvec::Vnni) => "avx512-vnni vpdpbusd",
        Some(Matvec::Avx2) => "avx2 vpmaddwd",
        None => "reference",
    }
}

/// Runs the kernel [`matvec_for`] picks for `k` (when the lengths fit); `false` if none.
pub(crate) fn run(k: crate::Kernels, x: &[i8], wt: &[i8], out: &mut [i32]) -> bool {
    if wt.len() < out.len() * x.len() {
        return false;
    }
    let Some(kernel) = matvec_for(k) else {
        return false;
    };
    // SAFETY: `matvec_for` picks a kernel only on paths constructed on CPUs with AVX2
    // (`Path::is_supported`; AVX-512F is detected together with AVX2), VNNI only where the CPU
    // has it, and `wt` holds `out.len()·x.len()` values (checked above).
    unsafe {
        match kernel {
            Matvec::Vnni => matvec_i8_vnni(x, wt, out),
            Matvec::Avx2 => matvec_i8(x, wt, out),
        }
    }
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
        let [a0, a1, a2, a3] = rows_sum::<4>(x, wt, j * k, full, xtail);
        // [Σa, Σb, Σc, Σd] of the four rows' 8 lanes each.
        let s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        let o = out.as_mut_ptr().add(j).cast::<__m128i>();
        _mm_storeu_si128(o, _mm_add_epi32(_mm_loadu_si128(o), s));
        j += 4;
    }
    while j < n {
        let [acc] = rows_sum::<1>(x, wt, j * k, full, xtail);
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

/// [`matvec_i8`] with AVX-512 VNNI: `vpdpbusd` multiplies 64 unsigned bytes by 64 signed ones
/// and adds each group of four products to an int32 lane, exactly (no saturation). `x` is made
/// unsigned by adding 128 (`x ^ 0x80`), and `128·Σ w` is taken off again:
/// `Σ x·w = Σ (x + 128)·w − Σ 128·w`, both sums by `vpdpbusd`, wrapping like the reference.
/// Four rows per pass share each chunk of `x`; one reduction per row.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VNNI; `wt` must hold `out.len()·x.len()` values.
#[target_feature(enable = "avx512f,avx512vnni")]
pub(crate) unsafe fn matvec_i8_vnni(x: &[i8], wt: &[i8], out: &mut [i32]) {
    let k = x.len();
    let n = out.len();
    debug_assert!(wt.len() >= n * k);
    let full = k / 64;
    let rest = k - 64 * full;
    let flip = _mm512_set1_epi8(-128);
    // x's tail plus 128, and the matching 128s, zero past the end: products there are 0.
    let (mut xt, mut ct) = ([0u8; 64], [0u8; 64]);
    for i in 0..rest {
        xt[i] = (x[64 * full + i] as u8) ^ 0x80;
        ct[i] = 0x80;
    }
    let (xt, ct) = (
        _mm512_loadu_si512(xt.as_ptr().cast()),
        _mm512_loadu_si512(ct.as_ptr().cast()),
    );
    let mut buf = [0i8; 64];
    let mut j = 0;
    while j < n {
        let rows = (n - j).min(4);
        // Σ (x + 128)·w and Σ 128·w per row.
        let (mut acc, mut off) = ([_mm512_setzero_si512(); 4], [_mm512_setzero_si512(); 4]);
        for c in 0..full {
            let xu = _mm512_xor_si512(_mm512_loadu_si512(x.as_ptr().add(64 * c).cast()), flip);
            for r in 0..rows {
                let w = _mm512_loadu_si512(wt.as_ptr().add((j + r) * k + 64 * c).cast());
                acc[r] = _mm512_dpbusd_epi32(acc[r], xu, w);
                off[r] = _mm512_dpbusd_epi32(off[r], flip, w);
            }
        }
        if rest > 0 {
            for r in 0..rows {
                let p = tail_ptr(wt, (j + r) * k + 64 * full, rest, &mut buf);
                let w = _mm512_loadu_si512(p.cast());
                acc[r] = _mm512_dpbusd_epi32(acc[r], xt, w);
                off[r] = _mm512_dpbusd_epi32(off[r], ct, w);
            }
        }
        for r in 0..rows {
            let o = out.get_unchecked_mut(j + r);
            let s = _mm512_reduce_add_epi32(_mm512_sub_epi32(acc[r], off[r]));
            *o = o.wrapping_add(s);
        }
        j += rows;
    }
}

/// Whether the CPU has AVX-512 VNNI (at run time with `std`, else as compiled).
fn vnni() -> bool {
    #[cfg(feature = "std")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "avx512vnni")
    }
}

/// Runs [`requantize_lut_i8`] if `k`'s path is AVX2 or AVX-512 and `s ≥ 33` (the lengths are
/// checked by the caller, [`crate::Kernels::requantize_lut_i8`]); `false` otherwise.
pub(crate) fn run_lut(
    k: crate::Kernels,
    acc: &[i32],
    m: &[u8],
    s: u32,
    lim: i32,
    lut: &[i8],
    out: &mut [i8],
) -> bool {
    if !matches!(k.path(), crate::Path::Avx2Fma | crate::Path::Avx512)
        || !(33..=62).contains(&s)
        || lim < 0
        || m.len() < 4 * acc.len()
        || out.len() < acc.len()
        || lut.len() < lim as usize + 4
    {
        return false;
    }
    // SAFETY: both paths are only constructed on CPUs with AVX2; the lengths, `s` and `lim` are
    // what `requantize_lut_i8` requires (checked above).
    unsafe { requantize_lut_i8(acc, m, s, lim, lut, out) };
    true
}

/// [`crate::scalar::requantize_lut_i8`], eight lanes at a time: the high words of the 64-bit
/// products (`vpmuldq` on the even and the odd lanes), the rounding and shift of
/// [`crate::scalar::requantize_hi`], the clamp, `|p|`, the table by `vpgatherdd` (four bytes
/// from `lut + |p|`, the low one kept), the sign, and the low byte of each lane.
///
/// # Safety
/// The CPU must support AVX2; `33 ≤ s ≤ 62`, `lim ≥ 0`, `m` holds `4·acc.len()` bytes, `out`
/// `acc.len()` values and `lut` at least `lim + 4`.
#[target_feature(enable = "avx2")]
unsafe fn requantize_lut_i8(acc: &[i32], m: &[u8], s: u32, lim: i32, lut: &[i8], out: &mut [i8]) {
    let n = acc.len();
    let round = _mm256_set1_epi32(1 << (s - 33));
    let shift = _mm_cvtsi32_si128((s - 32) as i32);
    let (hi_lim, lo_lim) = (_mm256_set1_epi32(lim), _mm256_set1_epi32(-lim));
    // Byte 0 of each dword to the lane's low four bytes, then the two lanes' words together.
    let pick = _mm256_setr_epi8(
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1,
    );
    let join = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    let mut j = 0;
    while j + 8 <= n {
        let v = _mm256_loadu_si256(acc.as_ptr().add(j).cast());
        let mm = _mm256_loadu_si256(m.as_ptr().add(4 * j).cast());
        let even = _mm256_mul_epi32(v, mm);
        let odd = _mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(mm, 32));
        // High words: the even lanes' shifted down, the odd lanes' in place.
        let hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0b1010_1010);
        let p = _mm256_sra_epi32(_mm256_add_epi32(hi, round), shift);
        let p = _mm256_min_epi32(_mm256_max_epi32(p, lo_lim), hi_lim);
        let t = _mm256_i32gather_epi32::<1>(lut.as_ptr().cast(), _mm256_abs_epi32(p));
        // The low byte, sign-extended, then negated where p < 0: (t ^ sign) − sign.
        let t = _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24);
        let sign = _mm256_srai_epi32(p, 31);
        let r = _mm256_sub_epi32(_mm256_xor_si256(t, sign), sign);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(r, pick), join);
        _mm_storel_epi64(
            out.as_mut_ptr().add(j).cast(),
            _mm256_castsi256_si128(bytes),
        );
        j += 8;
    }
    crate::scalar::requantize_lut_i8(&acc[j..], &m[4 * j..], s, lim, lut, &mut out[j..n]);
}
