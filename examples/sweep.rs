//! `charmlp sweep` as an example of this crate (see `charmlp_cli::sweep`):
//!
//! ```text
//! cargo run --release --example sweep --features std -- --help
//! ```

use clap::Parser;

fn main() -> std::process::ExitCode {
    charmlp_cli::sweep::main(&charmlp_cli::sweep::SweepArgs::parse())
}
