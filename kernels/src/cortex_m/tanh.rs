//! tanh in place: the reference's 15 operations ([`crate::scalar::tanh`]), in order, two
//! elements per loop turn. `C`, `D2`, `Q2` and `4` stay in registers; the four constants that
//! fused multiply-adds accumulate onto (`D1`, `D0`, `Q1`, `1`) are reloaded for both elements by
//! one `vldm` per turn instead of four register copies per element.

use crate::scalar::{TANH_C, TANH_D, TANH_Q};

/// `s16…s19`: `C`, `D2`, `Q2`, `4`.
static KEPT: [f32; 4] = [TANH_C, TANH_D[2], TANH_Q[1], 4.0];
/// Reloaded each turn into `s4…s11`: `D1`, `D0`, `Q1`, `1` for element a, then for element b.
static ACC: [f32; 8] = [
    TANH_D[1], TANH_D[0], TANH_Q[0], 1.0, TANH_D[1], TANH_D[0], TANH_Q[0], 1.0,
];

/// The operations on one element: `x` in `$x`, the result in `$t`, scratch `$s`; `$u $d $v $q`
/// hold `D1 D0 Q1 1` on entry.
macro_rules! tanh_ops {
    (clamp $x:literal $t:literal) => {
        // t = min(|x|, C) (`>` is false for NaN, which passes through).
        concat!(
            "vabs.f32 ",
            $t,
            ", ",
            $x,
            "\n",
            "vcmp.f32 ",
            $t,
            ", s16\n",
            "vmrs APSR_nzcv, fpscr\n",
            "it gt\n",
            "vmovgt.f32 ",
            $t,
            ", s16\n",
        )
    };
    (rational $t:literal $s:literal $u:literal $d:literal $v:literal $q:literal) => {
        // s = t·t; d = fma(fma(D2, s, D1), s, D0); q = fma(fma(Q2, s, Q1), s, 1);
        // y = fma(t·s, d/q, t) (in t).
        concat!(
            "vmul.f32 ",
            $s,
            ", ",
            $t,
            ", ",
            $t,
            "\n",
            "vfma.f32 ",
            $u,
            ", s17, ",
            $s,
            "\n",
            "vfma.f32 ",
            $d,
            ", ",
            $u,
            ", ",
            $s,
            "\n",
            "vfma.f32 ",
            $v,
            ", s18, ",
            $s,
            "\n",
            "vfma.f32 ",
            $q,
            ", ",
            $v,
            ", ",
            $s,
            "\n",
            "vdiv.f32 ",
            $d,
            ", ",
            $d,
            ", ",
            $q,
            "\n",
            "vmul.f32 ",
            $u,
            ", ",
            $t,
            ", ",
            $s,
            "\n",
            "vfma.f32 ",
            $t,
            ", ",
            $u,
            ", ",
            $d,
            "\n",
        )
    };
    (double $t:literal $s:literal $u:literal) => {
        // w = y·y / (y·y + 4); r = fma(−y, w, y) (in t).
        concat!(
            "vmul.f32 ",
            $s,
            ", ",
            $t,
            ", ",
            $t,
            "\n",
            "vadd.f32 ",
            $u,
            ", ",
            $s,
            ", s19\n",
            "vdiv.f32 ",
            $s,
            ", ",
            $s,
            ", ",
            $u,
            "\n",
            "vfms.f32 ",
            $t,
            ", ",
            $t,
            ", ",
            $s,
            "\n",
        )
    };
}

/// `x[i] = tanh(x[i])`.
pub(crate) fn tanh(x: &mut [f32]) {
    if x.is_empty() {
        return;
    }
    // SAFETY: reads the 12 constants and reads/writes the `x.len() ≥ 1` elements of `x` (f32,
    // 4-byte aligned): two per turn, then one if the length is odd; uses the core registers it
    // names and the FPU registers it declares clobbered; the FPU is enabled.
    unsafe {
        core::arch::asm!(
            "vldm {kept}, {{s16-s19}}",
            "lsrs {cnt}, {n}, #1",
            "beq 3f",
            // Two elements per turn: a in s0 → s2, b in s1 → s3.
            "2:",
            "vldm {p}, {{s0-s1}}",
            "vldm {acc}, {{s4-s11}}",
            tanh_ops!(clamp "s0" "s2"),
            tanh_ops!(clamp "s1" "s3"),
            tanh_ops!(rational "s2" "s12" "s4" "s5" "s6" "s7"),
            tanh_ops!(rational "s3" "s13" "s8" "s9" "s10" "s11"),
            tanh_ops!(double "s2" "s12" "s4"),
            tanh_ops!(double "s3" "s13" "s8"),
            // r ≥ +0 (or NaN): the sign of x, as `copysign` (−0 included: the integer sign).
            "vmov {ta}, {tb}, s0, s1",
            "cmp {ta}, #0",
            "it lt",
            "vneglt.f32 s2, s2",
            "cmp {tb}, #0",
            "it lt",
            "vneglt.f32 s3, s3",
            "vstmia {p}!, {{s2-s3}}",
            "subs {cnt}, {cnt}, #1",
            "bne 2b",
            // The last element of an odd length.
            "3:",
            "tst {n}, #1",
            "beq 4f",
            "vldr s0, [{p}]",
            "vldm {acc}, {{s4-s7}}",
            tanh_ops!(clamp "s0" "s2"),
            tanh_ops!(rational "s2" "s12" "s4" "s5" "s6" "s7"),
            tanh_ops!(double "s2" "s12" "s4"),
            "vmov {ta}, s0",
            "cmp {ta}, #0",
            "it lt",
            "vneglt.f32 s2, s2",
            "vstr s2, [{p}]",
            "4:",
            kept = in(reg) KEPT.as_ptr(),
            acc = in(reg) ACC.as_ptr(),
            p = inout(reg) x.as_mut_ptr() => _,
            n = in(reg) x.len(),
            cnt = out(reg) _,
            ta = out(reg) _,
            tb = out(reg) _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _,
            out("s16") _, out("s17") _, out("s18") _, out("s19") _,
            options(nostack)
        );
    }
}
