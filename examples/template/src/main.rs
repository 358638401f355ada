//! Samples names from a charmlp model baked into flash, and prints them over semihosting.
//!
//! Copy this project, replace `weights.bin` with your trainer's `out/weights.bin`, paste the
//! `include_weights!` line the trainer printed, and `cargo run --release` (see .cargo/config.toml
//! for the targets and their QEMU machines).

#![no_std]
#![no_main]

use charmlp::{Kernels, SampleConfig, include_weights};
use semihosting::{println, process};

// The model's type comes from the file's header at compile time; a file of another shape (or a
// damaged one) is a compile error that says what is wrong. Checked: CRC, vocabulary, finiteness.
include_weights!(MODEL: Model<27, 3, 10, 200> = "../weights.bin");

/// Names to print, the sampler's seed, and its settings (the host's `charmlp sample` defaults).
const COUNT: usize = 20;
const SEED: u64 = 42;

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    if let Err(e) = run() {
        // `as_str` describes any error without formatting code.
        semihosting::eprintln!("error: {}", e.as_str());
        process::exit(1);
    }
    process::exit(0)
}

fn run() -> Result<(), charmlp::Error> {
    // 1.1 KB of scratch for the canonical model, on the stack; no heap anywhere.
    let mut scratch = Model::sample_arrays();
    let mut sampler =
        MODEL.sampler(Kernels::best(), SEED, SampleConfig::default(), &mut scratch)?;
    for _ in 0..COUNT {
        // The capacity of a `heapless::String` is in bytes (UTF-8), not characters.
        let name: charmlp::heapless::String<64> = sampler.sample_string()?;
        println!("{}", name);
    }
    Ok(())
}
