//! Which code path runs: detected at run time (feature `std`), fixed at compile time
//! (`no_std`, from `cfg!(target_feature)`), or forced (tests, benches, `CHARMLP_KERNEL`).

use core::fmt;

/// One implementation of every kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// Portable Rust; the reference every other path is tested against.
    Scalar,
    /// x86_64 with AVX2 and FMA (8 lanes).
    Avx2Fma,
    /// x86_64 with AVX-512F (16 lanes, mask registers for the tails).
    Avx512,
    /// aarch64 NEON (4 lanes).
    Neon,
    /// Cortex-M: on the M4F/M7/M33/M55 single-precision FPU (`vfma.f32`, `vldm`), VFP assembly
    /// for the forward layers and tanh (`thumbv7em-*-eabihf`, `thumbv8m.main-*-eabihf`), and the
    /// DSP int8 kernel on ARMv7E-M; on the M0/M0+ (`thumbv6m-*`), the Thumb-1 int8 kernel (the
    /// f32 kernels run the reference there).
    CortexM,
}

impl Path {
    /// Every path, fastest last.
    pub const ALL: [Path; 5] = [
        Path::Scalar,
        Path::CortexM,
        Path::Neon,
        Path::Avx2Fma,
        Path::Avx512,
    ];

    /// The name used by `CHARMLP_KERNEL` and in reports: `scalar`, `avx2`, `avx512`, `neon`,
    /// `cortex-m`.
    pub const fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2Fma => "avx2",
            Path::Avx512 => "avx512",
            Path::Neon => "neon",
            Path::CortexM => "cortex-m",
        }
    }

    /// Parses a name as printed by [`Path::name`].
    pub fn from_name(name: &str) -> Option<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether this CPU can run the path (at run time with `std`, else as compiled).
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar => true,
            Path::Avx2Fma => avx2_supported(),
            Path::Avx512 => avx512_supported(),
            Path::Neon => neon_supported(),
            // Compiled in (build.rs) only for targets whose every core has the FPU, and ARMv6-M.
            Path::CortexM => cfg!(all(
                any(charmlp_arm_fpu, charmlp_armv6m),
                not(feature = "force-scalar")
            )),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(target_arch = "x86_64", feature = "std", not(feature = "force-scalar")))]
fn avx2_supported() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
#[cfg(all(
    target_arch = "x86_64",
    not(feature = "std"),
    not(feature = "force-scalar")
))]
fn avx2_supported() -> bool {
    cfg!(all(target_feature = "avx2", target_feature = "fma"))
}
#[cfg(any(not(target_arch = "x86_64"), feature = "force-scalar"))]
fn avx2_supported() -> bool {
    false
}

#[cfg(all(target_arch = "x86_64", feature = "std", not(feature = "force-scalar")))]
fn avx512_supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && avx2_supported()
}
#[cfg(all(
    target_arch = "x86_64",
    not(feature = "std"),
    not(feature = "force-scalar")
))]
fn avx512_supported() -> bool {
    cfg!(all(
        target_feature = "avx512f",
        target_feature = "avx2",
        target_feature = "fma"
    ))
}
#[cfg(any(not(target_arch = "x86_64"), feature = "force-scalar"))]
fn avx512_supported() -> bool {
    false
}

#[cfg(all(
    target_arch = "aarch64",
    feature = "std",
    not(feature = "force-scalar")
))]
fn neon_supported() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}
#[cfg(all(
    target_arch = "aarch64",
    not(feature = "std"),
    not(feature = "force-scalar")
))]
fn neon_supported() -> bool {
    cfg!(target_feature = "neon")
}
#[cfg(any(not(target_arch = "aarch64"), feature = "force-scalar"))]
fn neon_supported() -> bool {
    false
}

/// The fastest supported path, ignoring any override.
pub fn fastest() -> Path {
    Path::ALL
        .into_iter()
        .rev()
        .find(|p| p.is_supported())
        .unwrap_or(Path::Scalar)
}

/// The path [`crate::Kernels::best`] uses: `CHARMLP_KERNEL` if set to a supported path's name
/// (feature `std` only), else [`fastest`]. Detected once and cached.
#[cfg(feature = "std")]
pub fn detect() -> Path {
    use std::sync::OnceLock;
    static CHOSEN: OnceLock<Path> = OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var("CHARMLP_KERNEL") {
        Ok(name) => match Path::from_name(name.trim()) {
            Some(p) if p.is_supported() => p,
            Some(p) => {
                std::eprintln!("CHARMLP_KERNEL={name}: path {p} is not supported by this CPU; using {}", fastest());
                fastest()
            }
            None => {
                std::eprintln!(
                    "CHARMLP_KERNEL={name}: unknown path (expected scalar, avx2, avx512, neon or cortex-m); using {}",
                    fastest()
                );
                fastest()
            }
        },
        Err(_) => fastest(),
    })
}

/// The path [`crate::Kernels::best`] uses: fixed at compile time without `std` (a constant, so
/// that the paths it does not pick can be dropped from the binary).
#[cfg(not(feature = "std"))]
pub const fn detect() -> Path {
    crate::Kernels::for_target().path()
}
