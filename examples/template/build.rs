//! Puts the memory map of the target's board where the runtime's linker script finds it.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let board = match target.as_str() {
        t if t.starts_with("thumbv6m") => "microbit", // Cortex-M0
        t if t.starts_with("thumbv8m.main") => "mps2-an505", // Cortex-M33
        t if t.starts_with("riscv32") => "riscv-virt", // QEMU virt
        _ => "netduinoplus2",                         // Cortex-M4F
    };
    fs::copy(format!("memory/{board}.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory");
}
