//! Sets `cfg(charmlp_arm_fpu)` for Cortex-M targets with a single-precision FPU that fuses
//! multiply-adds (`vfma.f32`): Cortex-M4F/M7 (`thumbv7em-*-eabihf`) and Cortex-M33/M55
//! (`thumbv8m.main-*-eabihf`). Stable Rust does not expose ARM FPU features to `cfg`, so the
//! target name decides.
//!
//! Also sets `cfg(charmlp_arm_dsp)` for ARMv7E-M (`thumbv7em-*`), whose every core has the DSP
//! extension (`sxtb16`, `smlad`: the int8 kernel). It is optional on ARMv8-M Mainline, so
//! `thumbv8m.main` gets it only when the build says the core has it: `-C target-cpu=` one of
//! `cortex-m33`, `cortex-m35p`, `cortex-m55`, `cortex-m85` (LLVM then assumes DSP too), or a
//! `-C target-feature` list with `+dsp`. Otherwise `thumbv8m.main` runs the `ldrsb`/`mla` int8
//! kernel. (Stable Rust does not report `dsp` in `cfg(target_feature)`, so the flags decide.)
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
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    if target.starts_with("thumbv7em-") || (target.starts_with("thumbv8m.main-") && dsp_in_flags())
    {
        println!("cargo::rustc-cfg=charmlp_arm_dsp");
    }
    if target.starts_with("thumbv6m-") {
        println!("cargo::rustc-cfg=charmlp_armv6m");
    }
}

/// Whether the rustc flags of this build name a core with the DSP extension or enable it.
fn dsp_in_flags() -> bool {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let cpus = ["cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"];
    flags.split('\x1f').any(|f| {
        let cpu = f.split_once("target-cpu=").map(|(_, c)| c);
        let features = f.split_once("target-feature=").map(|(_, l)| l);
        cpu.is_some_and(|c| cpus.contains(&c))
            || features.is_some_and(|l| l.split(',').any(|x| x == "+dsp"))
    })
}
