//! Picks the memory map from the target: ARMv6-M → microbit (nRF51), otherwise netduinoplus2
//! (STM32F405). cortex-m-rt's `link.x` includes `memory.x` from the link search path.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let board = if target.starts_with("thumbv6m") {
        "microbit"
    } else {
        "netduinoplus2"
    };
    fs::copy(format!("memory/{board}.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=weights.bin");
}
