//! Cortex-M cores with a single-precision FPU that fuses multiply-adds (FPv4-SP: Cortex-M4F,
//! M7; FPv5: Cortex-M33, M55): the [`crate::Path::CortexM`] kernels, in VFP assembly, and the
//! reference arithmetic's [`fma`] as one `vfma.f32`.
//!
//! The FPU has no vector registers, so speed comes from the instruction count: multi-register
//! loads (`vldm`) feed up to 14 multiply-adds each, constants stay in registers, and nothing is
//! spilled. Every kernel performs the reference's operations in the reference's order (see
//! [`crate::scalar`]), so its results are the reference's bits.
//!
//! `core::arch` has no FPU intrinsics for 32-bit Arm, and stable Rust (1.95) does not accept FPU
//! registers as `asm!` operands on these targets; the blocks take pointers and integers in core
//! registers and name the FPU registers they use as clobbers (the compiler saves the callee-saved
//! ones, `s16`–`s31`, around them).
//!
//! The int8 matrix-vector product has a kernel per core family: `int8` with the DSP extension
//! (ARMv7E-M, and ARMv8-M Mainline built for a core that has it: `sxtb16`, `smlad`), `int8_mla`
//! for Thumb-2 cores that may lack it (ARMv8-M Mainline otherwise: `ldrsb`, `mla`) and
//! `int8_thumb1` for ARMv6-M (Cortex-M0/M0+, no FPU: only that kernel and `requantize_thumb1`,
//! the int8 tanh's requantization, are compiled there; the f32 kernels run the reference).

#[cfg(charmlp_arm_fpu)]
mod add;
#[cfg(charmlp_arm_dsp)]
mod int8;
#[cfg(all(charmlp_arm_fpu, not(charmlp_arm_dsp)))]
mod int8_mla;
#[cfg(all(charmlp_armv6m, not(charmlp_arm_fpu)))]
mod int8_thumb1;
#[cfg(charmlp_arm_fpu)]
mod linear;
#[cfg(all(charmlp_armv6m, not(charmlp_arm_fpu), target_endian = "little"))]
mod requantize_thumb1;
#[cfg(charmlp_arm_fpu)]
mod softmax;
#[cfg(charmlp_arm_fpu)]
mod tanh;

#[cfg(charmlp_arm_fpu)]
pub(crate) use add::{add, add_assign};
// Exactly one int8 kernel per core family, under one name.
#[cfg(charmlp_arm_dsp)]
pub(crate) use int8::{NAME as INT8_KERNEL, matvec_i8};
#[cfg(all(charmlp_arm_fpu, not(charmlp_arm_dsp)))]
pub(crate) use int8_mla::{NAME as INT8_KERNEL, matvec_i8};
#[cfg(all(charmlp_armv6m, not(charmlp_arm_fpu)))]
pub(crate) use int8_thumb1::{NAME as INT8_KERNEL, matvec_i8};
#[cfg(charmlp_arm_fpu)]
pub(crate) use linear::nn;
#[cfg(all(charmlp_armv6m, not(charmlp_arm_fpu), target_endian = "little"))]
pub(crate) use requantize_thumb1::requantize_lut_i8;
#[cfg(charmlp_arm_fpu)]
pub(crate) use softmax::softmax_unnormalized;
#[cfg(charmlp_arm_fpu)]
pub(crate) use tanh::tanh;

/// `a·b + c` rounded once: one `vfma.f32`.
#[cfg(charmlp_arm_fpu)]
#[inline(always)]
pub(crate) fn fma(a: f32, b: f32, c: f32) -> f32 {
    let out: u32;
    // SAFETY: the block reads three core registers, computes in s0–s2 (declared clobbered) and
    // writes one core register; it touches no memory and no flags. The FPU is present and
    // enabled on every target this module is compiled for (build.rs: `thumbv7em`/`thumbv8m.main`
    // with `eabihf`, whose runtimes enable it before `main`).
    unsafe {
        core::arch::asm!(
            "vmov s0, {a}",
            "vmov s1, {b}",
            "vmov s2, {c}",
            "vfma.f32 s2, s0, s1",
            "vmov {c}, s2",
            a = in(reg) a.to_bits(),
            b = in(reg) b.to_bits(),
            c = inout(reg) c.to_bits() => out,
            out("s0") _, out("s1") _, out("s2") _,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    f32::from_bits(out)
}

/// `out[j] += Σᵢ x[i]·wt[j·k + i]` three rows at a time, `dot3(x, w0, k, acc)` giving
/// `acc[r] + Σ x·w0[r·k..]` for the rows starting at `w0` (a Thumb-2 kernel: DSP or `mla`). The
/// last one or two rows are the triple ending at row `n − 1`, whose first rows (already final)
/// are summed from 0 and dropped; fewer than three rows in all go to the reference.
#[cfg(charmlp_arm_fpu)]
#[inline(always)]
fn by_triples(
    x: &[i8],
    wt: &[i8],
    out: &mut [i32],
    dot3: impl Fn(&[i8], &[i8], usize, [i32; 3]) -> [i32; 3],
) {
    let (k, n) = (x.len(), out.len());
    if k == 0 {
        return;
    }
    if n < 3 {
        crate::scalar::matvec_i8(x, wt, out);
        return;
    }
    let mut j = 0;
    while j + 3 <= n {
        let a = dot3(x, &wt[j * k..], k, [out[j], out[j + 1], out[j + 2]]);
        // Stores by name: a loop here becomes a `memcpy` call.
        (out[j], out[j + 1], out[j + 2]) = (a[0], a[1], a[2]);
        j += 3;
    }
    let b = n - 3;
    match n - j {
        1 => out[b + 2] = dot3(x, &wt[b * k..], k, [0, 0, out[b + 2]])[2],
        2 => {
            let a = dot3(x, &wt[b * k..], k, [0, out[b + 1], out[b + 2]]);
            (out[b + 1], out[b + 2]) = (a[1], a[2]);
        }
        _ => {}
    }
}
