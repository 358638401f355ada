//! int8 × int8 → int32: the integer reference of the int8 models.
//!
//! Integer arithmetic is exact, so this kernel has no rounding to agree on: every path computes
//! `acc[j] + Σᵢ x[i]·wt[j][i]` in two's-complement int32 that wraps on overflow (`wrapping_*`),
//! and wrapping addition is associative and commutative, so any order of the sum gives these
//! bits — the property tests assert equality, not a tolerance. (A product of two int8 values is
//! at most 2¹⁴ in magnitude; a quantizer keeps `k·127² + |bias|` below 2³¹, so a valid model
//! never wraps. A damaged one wraps the same way on every path.)

/// `acc[j] += Σᵢ x[i]·wt[j·k + i]` for `j < n = acc.len()`, `k = x.len()`: a matrix-vector
/// product with the weights stored transposed (`wt` is `n × k`, one output's weights
/// contiguous), int32 accumulation onto what `acc` holds (the bias), wrapping. Lengths are
/// checked by [`crate::Kernels::matvec_i8`]; here `wt` must hold at least `n·k` values.
pub fn matvec_i8(x: &[i8], wt: &[i8], out: &mut [i32]) {
    let k = x.len();
    for (j, o) in out.iter_mut().enumerate() {
        let row = &wt[j * k..(j + 1) * k];
        // Four products per step (fewer loop instructions on cores without SIMD, e.g. the M0),
        // then the tail; wrapping sums in any order give the same bits.
        let mut acc = *o;
        let (xq, xt) = x.split_at(k / 4 * 4);
        let (wq, wt_) = row.split_at(k / 4 * 4);
        for (a, w) in xq.chunks_exact(4).zip(wq.chunks_exact(4)) {
            let p = i32::from(a[0]) * i32::from(w[0])
                + i32::from(a[1]) * i32::from(w[1])
                + i32::from(a[2]) * i32::from(w[2])
                + i32::from(a[3]) * i32::from(w[3]);
            acc = acc.wrapping_add(p);
        }
        for (&a, &w) in xt.iter().zip(wt_) {
            acc = acc.wrapping_add(i32::from(a) * i32::from(w));
        }
        *o = acc;
    }
}

/// `(v·m + 2^(s−1)) >> s` (`>>` arithmetic, so the quotient rounds to nearest, halves up) for
/// `1 ≤ s ≤ 62`: the requantization of an int32 sum by a multiplier and a shift, in 64-bit
/// arithmetic — the definition. [`crate::requantize_clamp`] computes it (clamped) faster.
#[inline(always)]
pub const fn requantize(v: i32, m: i32, s: u32) -> i64 {
    (v as i64 * m as i64 + (1i64 << (s - 1))) >> s
}

/// The high word of the 64-bit product, `(v·m) >> 32`.
#[inline(always)]
pub const fn mul_hi(v: i32, m: i32) -> i32 {
    ((v as i64 * m as i64) >> 32) as i32
}

/// [`mul_hi`] with 32-bit operations only (ARMv6-M has no 32×32→64 multiply; the compiler would
/// call a 64×64 library routine): the product from four 16×16-bit products.
#[inline(always)]
pub const fn mul_hi_32(v: i32, m: i32) -> i32 {
    // v = vh·2¹⁶ + vl and m = mh·2¹⁶ + ml with vl, ml in [0, 2¹⁶) and vh, mh in [−2¹⁵, 2¹⁵).
    let (vl, vh) = ((v & 0xffff) as u32, v >> 16);
    let (ml, mh) = ((m & 0xffff) as u32, m >> 16);
    // Each cross product is below 2³¹ in magnitude.
    let cross_a = vh * ml as i32;
    let cross_b = vl as i32 * mh;
    // The low word ll + (cross_a + cross_b)·2¹⁶, for its carries into the high word.
    let (lo, c1) = (vl * ml).overflowing_add((cross_a as u32) << 16);
    let (_, c2) = lo.overflowing_add((cross_b as u32) << 16);
    (vh * mh)
        .wrapping_add(cross_a >> 16)
        .wrapping_add(cross_b >> 16)
        .wrapping_add(c1 as i32 + c2 as i32)
}

/// [`mul_hi`] as the target computes it best: [`mul_hi_32`] on ARMv6-M, one multiply elsewhere.
#[inline(always)]
pub(crate) const fn mul_hi_target(v: i32, m: i32) -> i32 {
    #[cfg(charmlp_armv6m)]
    {
        mul_hi_32(v, m)
    }
    #[cfg(not(charmlp_armv6m))]
    {
        mul_hi(v, m)
    }
}

/// [`requantize`] from the high word of the product: for `s ≥ 33` the rounding term has no low
/// word, so `(v·m + 2^(s−1)) >> s = (hi + 2^(s−33)) >> (s − 32)` with `hi = (v·m) >> 32`
/// (`|hi| ≤ 2³⁰`, no overflow). Only for `33 ≤ s ≤ 62`.
#[inline(always)]
pub const fn requantize_hi(hi: i32, s: u32) -> i32 {
    (hi + (1 << (s - 33))) >> (s - 32)
}

/// `out[j] = ±lut[|p_j|]` (the sign of `p_j`, wrapping) with
/// `p_j = `[`crate::requantize_clamp`]`(acc[j], m_j, s, lim)` and `m_j` the little-endian int32
/// at `m[4j..4j + 4]`: an int8 layer's requantization and odd lookup table (the int8 tanh).
/// Lengths and `s`, `lim` are checked by [`crate::Kernels::requantize_lut_i8`]. Not inlined:
/// on its own its loop keeps every constant in a register (on a Cortex-M, inlined into the
/// sampler, it spilled them).
#[inline(never)]
pub fn requantize_lut_i8(acc: &[i32], m: &[u8], s: u32, lim: i32, lut: &[i8], out: &mut [i8]) {
    // Branch-free (the signs are random): `(t ^ s) − s` negates when `s = −1`.
    let look = |p: i32| {
        let t = lut[p.unsigned_abs() as usize];
        let sign = (p >> 31) as i8;
        (t ^ sign).wrapping_sub(sign)
    };
    let items = out.iter_mut().zip(acc).zip(m.chunks_exact(4));
    let mj = |mb: &[u8]| i32::from_le_bytes([mb[0], mb[1], mb[2], mb[3]]);
    if s >= 33 && lim > 0 {
        // `crate::requantize_clamp`'s high-word case, the test on `s` out of the loop; the sign
        // taken before the clamp and the clamp on the magnitude (`min`, one compare): the same
        // index and sign as `look(clamp(q, ±lim))` when `lim > 0`, in fewer instructions.
        let lim = lim as u32;
        for ((o, &a), mb) in items {
            let q = requantize_hi(mul_hi_target(a, mj(mb)), s);
            let sign = (q >> 31) as i8;
            let t = lut[q.unsigned_abs().min(lim) as usize];
            *o = (t ^ sign).wrapping_sub(sign);
        }
    } else {
        for ((o, &a), mb) in items {
            *o = look(crate::requantize_clamp(a, mj(mb), s, lim));
        }
    }
}
