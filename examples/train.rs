//! `charmlp train` as an example of this crate (see `charmlp_cli::train`):
//!
//! ```text
//! cargo run --release --example train --features std -- --help
//! ```

use clap::Parser;

fn main() -> std::process::ExitCode {
    charmlp_cli::train::main(&charmlp_cli::train::TrainArgs::parse())
}
