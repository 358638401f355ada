//! The integer arithmetic of an int8 model, written once for every target: the requantization
//! of int32 sums, the tanh and exp lookup tables, and the draw. The tables are computed by
//! `const fn` at compile time (Rust's compile-time floats are IEEE-exact on every host), so they
//! are the same bytes on every target; nothing here touches a float at run time.

/// Fixed-point unit of the tanh input and of the logits: `1/64` (six fraction bits).
pub const FRAC_BITS: u32 = 6;
/// `|p| ≤ TANH_MAX` for a tanh input `p` in units of `1/64` (±8.0; `tanh(8)·127` rounds to 127).
pub const TANH_MAX: i32 = 512;
/// The largest logit magnitude, in units of `1/64` nat (±2¹⁸ nats).
pub const LOGIT_MAX: i32 = 1 << 24;
/// `Q15` one: the weight of the most likely symbol.
pub const ONE_Q15: u32 = 1 << 15;
/// A logit more than `EXP_RANGE` nats below the largest has weight 0.
pub const EXP_RANGE: u32 = 16;

/// `e^x` by Taylor series of `e^(x/256)`, squared eight times: good to ~1e-14 relative for
/// `|x| ≤ 32`, more than the 8-bit and 15-bit tables need.
const fn exp_f64(x: f64) -> f64 {
    let y = x / 256.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1;
    while n < 20 {
        term = term * y / n as f64;
        sum += term;
        n += 1;
    }
    let mut i = 0;
    while i < 8 {
        sum *= sum;
        i += 1;
    }
    sum
}

/// Rounds half away from zero (the tables' values are never exact halves).
const fn round_f64(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        -((-x + 0.5) as i64)
    }
}

/// `round(127·tanh(p/64))` for `p = 0..=TANH_MAX` (the odd half of the table), then three
/// zero bytes of padding (vector paths read four bytes per lookup:
/// [`charmlp_kernels::Kernels::requantize_lut_i8`]).
pub static TANH_LUT: [i8; TANH_MAX as usize + 4] = {
    let mut t = [0i8; TANH_MAX as usize + 4];
    let mut p = 0;
    while p <= TANH_MAX as usize {
        let e = exp_f64(2.0 * p as f64 / 64.0);
        t[p] = round_f64(127.0 * (e - 1.0) / (e + 1.0)) as i8;
        p += 1;
    }
    t
};

/// `round(2¹⁵·e^(−n))` for `n = 0..=EXP_RANGE`.
pub static EXP_INT: [u32; EXP_RANGE as usize + 1] = {
    let mut t = [0u32; EXP_RANGE as usize + 1];
    let mut n = 0;
    while n <= EXP_RANGE as usize {
        t[n] = round_f64(32768.0 * exp_f64(-(n as f64))) as u32;
        n += 1;
    }
    t
};

/// `round(2¹⁵·e^(−i/64))` for `i = 0..64`.
pub static EXP_FRAC: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = round_f64(32768.0 * exp_f64(-(i as f64) / 64.0)) as u32;
        i += 1;
    }
    t
};

/// `(v·m + 2^(s−1)) >> s`: the product of an int32 sum and a positive multiplier, rounded to
/// nearest (halves up) at `s` fraction bits, `1 ≤ s ≤ 62` (checked when the file is read): the
/// definition. The forward pass computes it clamped with [`charmlp_kernels::requantize_clamp`]
/// (the same values, 32-bit work).
#[inline(always)]
pub const fn requantize(v: i32, m: i32, s: u32) -> i64 {
    charmlp_kernels::scalar::requantize(v, m, s)
}

/// The hidden unit's int8 value for the int32 pre-activation `v`: `tanh` of the requantized
/// value in units of `1/64`, clamped to ±[`TANH_MAX`], from [`TANH_LUT`] (odd symmetry).
#[inline(always)]
pub fn tanh_i8(v: i32, m: i32, s: u32) -> i8 {
    let p = charmlp_kernels::requantize_clamp(v, m, s, TANH_MAX);
    // Branch-free (the signs are random): the table at |p|, then the sign by `(t ^ s) − s`.
    let t = TANH_LUT[p.unsigned_abs() as usize];
    let sign = (p >> 31) as i8;
    (t ^ sign).wrapping_sub(sign)
}

/// The logit in units of `1/64` nat for the int32 output sum `v`.
#[inline(always)]
pub fn logit(v: i32, m: i32, s: u32) -> i32 {
    charmlp_kernels::requantize_clamp(v, m, s, LOGIT_MAX)
}

/// The temperature as a `Q16` multiplier of logit differences: `round(2¹⁶/T)`, at least 1.
/// The only floating-point operation of int8 sampling, once per sampler.
pub fn inv_temperature_q16(t: f32) -> u32 {
    let q = 65536.0 / t;
    if q >= u32::MAX as f32 {
        u32::MAX
    } else if q < 1.0 {
        1
    } else {
        // `q` is finite, ≥ 1 and below 2³²: the conversion is exact after adding ½.
        (q + 0.5) as u32
    }
}

/// The unnormalized `Q15` weight `≈ 2¹⁵·e^(−d/64)` of a logit `d ≥ 0` units below the largest,
/// after the temperature: `EXP_INT[n]·EXP_FRAC[f] >> 15` for `d·inv_t/2¹⁶ = 64n + f`, 0 beyond
/// [`EXP_RANGE`] nats.
#[inline(always)]
pub fn weight_q15(d: u32, inv_t_q16: u32) -> u32 {
    let scaled = (u64::from(d) * u64::from(inv_t_q16)) >> 16;
    let n = scaled >> FRAC_BITS;
    if n > u64::from(EXP_RANGE) {
        return 0;
    }
    (EXP_INT[n as usize] * EXP_FRAC[(scaled & 63) as usize]) >> 15
}

/// Picks a symbol from `weights` (Q15, their sum `sum > 0`) with the random word `r`: the
/// first index whose running sum exceeds `⌊r·sum/2³²⌋`.
#[inline(always)]
pub fn pick(weights: &[u32], sum: u32, r: u32) -> usize {
    let target = ((u64::from(r) * u64::from(sum)) >> 32) as u32;
    let mut acc = 0u32;
    for (i, &w) in weights.iter().enumerate() {
        acc += w;
        if target < acc {
            return i;
        }
    }
    // Unreachable for sum = Σ weights (target < sum); the last nonzero weight otherwise.
    weights.iter().rposition(|&w| w > 0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_against_f64() {
        for (p, &t) in TANH_LUT.iter().enumerate() {
            let want = if p <= TANH_MAX as usize {
                (127.0 * (p as f64 / 64.0).tanh()).round() as i8
            } else {
                0 // padding
            };
            assert_eq!(t, want, "tanh table at {p}");
        }
        for (n, &e) in EXP_INT.iter().enumerate() {
            assert_eq!(
                e,
                (32768.0 * (-(n as f64)).exp()).round() as u32,
                "exp table at {n}"
            );
        }
        for (i, &e) in EXP_FRAC.iter().enumerate() {
            let want = (32768.0 * (-(i as f64) / 64.0).exp()).round() as u32;
            assert_eq!(e, want, "exp fraction table at {i}");
        }
    }

    #[test]
    fn requantize_rounds_half_up_and_tanh_is_odd() {
        assert_eq!(requantize(3, 1, 1), 2); // 1.5 → 2
        assert_eq!(requantize(-3, 1, 1), -1); // −1.5 → −1
        assert_eq!(requantize(i32::MIN, i32::MAX, 62), -1); // no overflow in i64
        // m = 2, s = 1 is the identity (no halves): the table's odd symmetry shows.
        for v in [-100_000, -65, -1, 0, 1, 64, 99_999] {
            assert_eq!(tanh_i8(v, 2, 1), -tanh_i8(-v, 2, 1));
        }
        assert_eq!(tanh_i8(64, 2, 1), 97); // round(127·tanh(1))
        assert_eq!(tanh_i8(i32::MAX, i32::MAX, 1), 127);
        assert_eq!(tanh_i8(i32::MIN, i32::MAX, 1), -127);
    }

    #[test]
    fn weights_and_draw() {
        let t1 = inv_temperature_q16(1.0);
        assert_eq!(t1, 65536);
        assert_eq!(weight_q15(0, t1), ONE_Q15);
        // e^(−1) at d = 64.
        assert_eq!(weight_q15(64, t1), EXP_INT[1]);
        assert_eq!(weight_q15(64 * 17, t1), 0);
        // Temperature 2 halves the difference.
        assert_eq!(weight_q15(128, inv_temperature_q16(2.0)), EXP_INT[1]);
        let w = [0, 10, 0, 30];
        assert_eq!(pick(&w, 40, 0), 1);
        assert_eq!(pick(&w, 40, (u32::MAX / 4) - 1), 1);
        assert_eq!(pick(&w, 40, u32::MAX / 4 + 1), 3);
        assert_eq!(pick(&w, 40, u32::MAX), 3);
    }
}
