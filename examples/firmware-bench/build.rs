//! Uses the template's memory map for the target's board (`../template/memory/`), where the
//! runtime's linker script finds it as `memory.x`.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let board = match target.as_str() {
        t if t.starts_with("thumbv6m") => "microbit",
        t if t.starts_with("thumbv8m.main") => "mps2-an505",
        t if t.starts_with("riscv32") => "riscv-virt",
        _ => "netduinoplus2",
    };
    let src = format!("../template/memory/{board}.x");
    fs::copy(&src, out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=../template/weights.bin");
}
