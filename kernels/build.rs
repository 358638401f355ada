//! Sets `cfg(charmlp_arm_fpu)` for Cortex-M targets with a single-precision FPU that fuses
//! multiply-adds (`vfma.f32`): Cortex-M4F/M7 (`thumbv7em-*-eabihf`) and Cortex-M33/M55
//! (`thumbv8m.main-*-eabihf`). Stable Rust does not expose ARM FPU features to `cfg`, so the
//! target name decides.
//!
//! Also sets `cfg(charmlp_arm_dsp)` for ARMv7E-M (`thumbv7em-*`), whose every core has the DSP
//! extension (`sxtb16`, `smlad`: the int8 kernel). It is optional on ARMv8-M Mainline (a
//! Cortex-M33 may lack it), so `thumbv8m.main` runs the int8 reference.
//!
//! And `cfg(charmlp_armv6m)` for ARMv6-M (`thumbv6m-*`: Cortex-M0/M0+/M1), whose
//! [`Path::CortexM`](../charmlp_kernels/enum.Path.html) has one kernel, the Thumb-1 int8
//! matrix-vector product (no FPU: the f32 kernels run the reference).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(charmlp_arm_fpu)");
    println!("cargo::rustc-check-cfg=cfg(charmlp_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(charmlp_armv6m)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let fpu = (target.starts_with("thumbv7em-") || target.starts_with("thumbv8m.main-"))
        && target.ends_with("eabihf");
    if fpu {
        println!("cargo::rustc-cfg=charmlp_arm_fpu");
    }
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=charmlp_arm_dsp");
    }
    if target.starts_with("thumbv6m-") {
        println!("cargo::rustc-cfg=charmlp_armv6m");
    }
}
