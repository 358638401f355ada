//! `out = exp((logits − max)·inv_temp)` and their sum: the reference's
//! [`crate::scalar::softmax_unnormalized`] (its `exp` on the branch `k ≤ 0`), with the twelve
//! constants held in `s16`–`s27`.
//!
//! With `inv_temp ≥ 0` and no NaN or `+∞` among the logits every argument is `≤ 0` or `−∞`, so
//! only two of the reference's branches occur: `0` below [`EXP_MIN_ARG`], else `e·2ᵏ` with
//! `k ≤ 0`. Any other input (the sum comes out NaN) is recomputed by the scalar path.

use crate::scalar::EXP_MIN_ARG;
use crate::scalar::exp::{EXP_P, LN2_HI, LN2_LO, LOG2E, ROUND_MAGIC};

/// The constants in register order `s16…s27`, then `+0` in `s31`.
static CONSTS: [f32; 12] = [
    EXP_MIN_ARG,
    LOG2E,
    ROUND_MAGIC,
    LN2_HI,
    LN2_LO,
    EXP_P[0],
    EXP_P[1],
    EXP_P[2],
    EXP_P[3],
    EXP_P[4],
    EXP_P[5],
    1.0,
];

/// The sum, or `None` (nothing usable written) when the scalar path must run: an empty row, a
/// negative or NaN `inv_temp`, or a NaN sum (NaN or `+∞` logits, all logits `−∞`).
pub(crate) fn softmax_unnormalized(logits: &[f32], inv_temp: f32, out: &mut [f32]) -> Option<f32> {
    let n = logits.len().min(out.len());
    if n == 0 || inv_temp.is_nan() || inv_temp < 0.0 {
        return None;
    }
    let sum: u32;
    // SAFETY: reads the 12 constants and `n ≥ 1` elements of `logits`, writes `n` elements of
    // `out` (both at least `n` long, f32, 4-byte aligned); uses the core registers it names and
    // the FPU registers it declares clobbered; the FPU is enabled.
    unsafe {
        core::arch::asm!(
            "vldm {c}, {{s16-s27}}",
            "vmov s28, {neginf}",
            "vmov s29, {inv_temp}",
            "vsub.f32 s31, s31, s31",
            "vmov.f32 s30, s31",
            // max = fold(−∞, if v > max { v } else { max }) (NaN never wins).
            "mov {p}, {x}",
            "mov {cnt}, {n}",
            "2:",
            "vldmia {p}!, {{s0}}",
            "vcmp.f32 s0, s28",
            "vmrs APSR_nzcv, fpscr",
            "it gt",
            "vmovgt.f32 s28, s0",
            "subs {cnt}, {cnt}, #1",
            "bne 2b",
            // Per element: a = (v − max)·inv_temp; e = exp(a); out = e; sum = sum + e.
            "3:",
            "vldmia {x}!, {{s0}}",
            "vsub.f32 s0, s0, s28",
            "vmul.f32 s0, s0, s29",
            "vcmp.f32 s0, s16",
            "vmrs APSR_nzcv, fpscr",
            // a < EXP_MIN_ARG (ordered): e = +0.
            "vmov.f32 s2, s31",
            "bmi 4f",
            // k = (a·log₂e + 1.5·2²³) − 1.5·2²³; its low bits give 2ᵏ = ((bits << 23) + 1.0's bits).
            "vmul.f32 s1, s0, s17",
            "vadd.f32 s1, s1, s18",
            "vmov {kb}, s1",
            "vsub.f32 s1, s1, s18",
            // r = fma(−k, ln2_lo, fma(−k, ln2_hi, a)).
            "vmov.f32 s2, s0",
            "vfms.f32 s2, s1, s19",
            "vfms.f32 s2, s1, s20",
            // p: Horner with fma, highest coefficient first.
            "vmov.f32 s3, s22",
            "vfma.f32 s3, s21, s2",
            "vmov.f32 s4, s23",
            "vfma.f32 s4, s3, s2",
            "vmov.f32 s3, s24",
            "vfma.f32 s3, s4, s2",
            "vmov.f32 s4, s25",
            "vfma.f32 s4, s3, s2",
            "vmov.f32 s3, s26",
            "vfma.f32 s3, s4, s2",
            // e = (fma(p, r·r, r) + 1)·2ᵏ.
            "vmul.f32 s4, s2, s2",
            "vfma.f32 s2, s3, s4",
            "vadd.f32 s2, s2, s27",
            "add {kb}, {one}, {kb}, lsl #23",
            "vmov s3, {kb}",
            "vmul.f32 s2, s2, s3",
            "4:",
            "vstmia {o}!, {{s2}}",
            "vadd.f32 s30, s30, s2",
            "subs {n}, {n}, #1",
            "bne 3b",
            "vmov {sum}, s30",
            c = in(reg) CONSTS.as_ptr(),
            neginf = in(reg) f32::NEG_INFINITY.to_bits(),
            inv_temp = in(reg) inv_temp.to_bits(),
            one = in(reg) 1.0f32.to_bits(),
            x = inout(reg) logits.as_ptr() => _,
            o = inout(reg) out.as_mut_ptr() => _,
            n = inout(reg) n => _,
            p = out(reg) _,
            cnt = out(reg) _,
            kb = out(reg) _,
            sum = lateout(reg) sum,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _, out("s4") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            out("s20") _, out("s21") _, out("s22") _, out("s23") _,
            out("s24") _, out("s25") _, out("s26") _, out("s27") _,
            out("s28") _, out("s29") _, out("s30") _, out("s31") _,
            options(nostack)
        );
    }
    let sum = f32::from_bits(sum);
    (!sum.is_nan()).then_some(sum)
}
