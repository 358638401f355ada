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
    #[cfg(all(not(charmlp_arm_fpu), feature = "std"))]
    {
        // With `std`: the platform's `fmaf` (glibc picks the `vfmadd` instruction at load time on
        // a CPU that has FMA; AArch64 inlines `fmadd`), ~100× faster than the portable routine on
        // an x86-64 baseline build. Correctly rounded either way: the same bits.
        a.mul_add(b, c)
    }
    #[cfg(all(not(charmlp_arm_fpu), not(feature = "std")))]
    {
        // A correctly rounded software routine (soft-float targets: Cortex-M0, RISC-V `imac`;
        // hosts without `std`).
        libm::fmaf(a, b, c)
    }
}
