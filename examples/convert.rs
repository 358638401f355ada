//! `charmlp convert` as an example of this crate (see `charmlp_cli::convert`):
//!
//! ```text
//! cargo run --release --example convert --features std -- --help
//! ```

use clap::Parser;

fn main() -> std::process::ExitCode {
    charmlp_cli::convert::main(&charmlp_cli::convert::ConvertArgs::parse())
}
