//! The charmlp tools as a library: the training run ([`train`]), sampling and scoring
//! ([`sample`]),
//! evaluation ([`eval`]), safetensors conversion ([`convert`]) and the homework sweep
//! ([`sweep`]), each with its command-line arguments, plus what they share: typed errors
//! ([`error`]), atomic file writes ([`fsio`]), JSON reports ([`report`]), progress lines and
//! plots.
//!
//! The `charmlp` binary (`charmlp train | sample | score | eval | convert | sweep`) and the root crate's
//! examples (`cargo run --release --example train --features std`) are thin `main`s over this
//! crate.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod convert;
pub mod error;
pub mod eval;
pub mod finetune;
pub mod fsio;
pub mod plots;
pub mod progress;
pub mod report;
pub mod sample;
pub mod sweep;
pub mod train;

use std::process::ExitCode;
use std::sync::OnceLock;

/// The tools' version (the package's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `--version --verbose` text: the version, the reference arithmetic and the kernel paths this
/// CPU runs (the fastest first picked).
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let paths: Vec<&str> = charmlp::Kernels::all_supported()
            .map(|k| k.path().name())
            .collect();
        format!(
            "{VERSION} (reference arithmetic v{}; kernel paths on this CPU: {}; using {})",
            charmlp::kernels::ARITHMETIC_VERSION,
            paths.join(", "),
            charmlp::Kernels::best().path().name()
        )
    })
}

/// The `--data` value that names the dataset built into the tools (the default): the 32 257 US
/// given names of `data/names.txt` (SSA 2018, public domain; see the repository's
/// `data/README.md`), so that `charmlp train` works outside a checkout.
pub const BUILTIN_DATA: &str = "builtin:names";

/// The built-in dataset's bytes.
pub const BUILTIN_NAMES: &[u8] = include_bytes!("../data/names.txt");

/// Loads `path` as [`charmlp::data::Corpus::load`] does, or the built-in names for
/// [`BUILTIN_DATA`].
///
/// # Errors
/// As [`charmlp::data::Corpus::load`].
pub fn load_corpus(
    path: &std::path::Path,
    vocab: Option<charmlp::VocabView<'_>>,
    opts: &charmlp::data::LoadOptions,
) -> Result<charmlp::data::Corpus, charmlp::data::DataError> {
    if path == std::path::Path::new(BUILTIN_DATA) {
        charmlp::data::Corpus::from_bytes(BUILTIN_NAMES, vocab, opts)
    } else {
        charmlp::data::Corpus::load(path, vocab, opts)
    }
}

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
