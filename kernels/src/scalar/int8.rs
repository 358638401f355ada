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
