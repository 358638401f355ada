//! The charmlp tools as a library: the training run ([`train`]), sampling ([`sample`]),
//! evaluation ([`eval`]), safetensors conversion ([`convert`]) and the homework sweep
//! ([`sweep`]), each with its command-line arguments, plus what they share: typed errors
//! ([`error`]), atomic file writes ([`fsio`]), JSON reports ([`report`]), progress lines and
//! plots.
//!
//! The `charmlp` binary (`charmlp train | sample | eval | convert | sweep`) and the root crate's
//! examples (`cargo run --release --example train --features std`) are thin `main`s over this
//! crate.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod convert;
pub mod error;
pub mod eval;
pub mod fsio;
pub mod plots;
pub mod progress;
pub mod report;
pub mod sample;
pub mod sweep;
pub mod train;

use std::process::ExitCode;

/// Prints `error: …` with the chain of sources and returns the failure exit code.
pub fn fail(e: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {e}");
    let mut s = e.source();
    while let Some(c) = s {
        // Sources whose text the top-level message already includes add nothing.
        let t = c.to_string();
        if !e.to_string().contains(&t) {
            eprintln!("  caused by: {t}");
        }
        s = c.source();
    }
    ExitCode::FAILURE
}
