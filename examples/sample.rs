//! `charmlp sample` as an example of this crate (see `charmlp_cli::sample`):
//!
//! ```text
//! cargo run --release --example sample --features std -- --help
//! ```

use clap::Parser;

fn main() -> std::process::ExitCode {
    charmlp_cli::sample::main(&charmlp_cli::sample::SampleArgs::parse())
}
