//! `fma(a, b, c) = a·b + c` with one rounding: the reference arithmetic's multiply-add.
//!
//! Fused multiply-add is exactly specified by IEEE 754, so every implementation gives the same
//! bits: the FPU instruction where there is one (x86 `vfmadd`, AArch64 `fmadd`, Cortex-M4F/M7/M33
//! `vfma.f32`), a correctly rounded software routine (`libm::fmaf`) elsewhere (Cortex-M0,
//! RISC-V `imac`, x86 without FMA).

/// `a·b + c`, rounded once.
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(charmlp_arm_fpu)]
    {
        crate::cortex_m::fma(a, b, c)
    }
    #[cfg(not(charmlp_arm_fpu))]
    {
        // x86: an inline `vfmadd` when the CPU has FMA (detected once), else a correctly
        // rounded routine; AArch64: `fmadd`; soft-float targets: the routine.
        libm::fmaf(a, b, c)
    }
}
