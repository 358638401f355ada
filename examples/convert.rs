//! Converts between our weights file (`.bin`) and `.safetensors`, for PyTorch interop. The
//! direction comes from the extensions:
//!
//! ```text
//! cargo run --release --example convert --features safetensors -- out/weights.bin model.safetensors
//! cargo run --release --example convert --features safetensors -- model.safetensors weights.bin [--vocab STR]
//! ```
//!
//! In Python: `safetensors.torch.load_file("model.safetensors")` gives `C`, `W1`, `b1`, `W2`,
//! `b2`; `safe_open(...).metadata()` gives `vocab` and `block_size`. See `charmlp::interop`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use charmlp::interop;
use charmlp::trainer::write_atomic;
use clap::Parser;

/// Convert charmlp weights (.bin) ↔ safetensors (.safetensors); the direction comes from the
/// file extensions.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Input file (.bin or .safetensors).
    input: PathBuf,
    /// Output file (.safetensors or .bin), written atomically.
    output: PathBuf,
    /// Import only: the vocabulary ('.' first, then the symbols in index order) when the file
    /// has no `vocab` metadata. Default: the lecture's, '.' then a–z.
    #[arg(long)]
    vocab: Option<String>,
}

fn ext(p: &Path) -> Option<String> {
    p.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn main() -> ExitCode {
    let a = Args::parse();
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (i, o) = (ext(&a.input), ext(&a.output));
    let bytes =
        std::fs::read(&a.input).map_err(|e| format!("cannot read {}: {e}", a.input.display()))?;
    match (i.as_deref(), o.as_deref()) {
        (Some("bin"), Some("safetensors")) => {
            if a.vocab.is_some() {
                return Err("--vocab applies to import (.safetensors → .bin) only".into());
            }
            let out = interop::export(&bytes)?;
            write_atomic(&a.output, &out)?;
            eprintln!(
                "exported {} → {} ({} bytes)",
                a.input.display(),
                a.output.display(),
                out.len()
            );
        }
        (Some("safetensors"), Some("bin")) => {
            let r = interop::import(&bytes, a.vocab.as_deref())?;
            write_atomic(&a.output, &r.weights)?;
            let s = r.shape;
            eprintln!(
                "imported {} → {}: V={} block={} emb={} hidden={}, vocabulary {:?} ({}), block size {}",
                a.input.display(),
                a.output.display(),
                s.v,
                s.b,
                s.e,
                s.h,
                r.vocab,
                if r.vocab_from_metadata {
                    "from the file"
                } else if a.vocab.is_some() {
                    "from --vocab"
                } else {
                    "the lecture's default"
                },
                if r.block_from_metadata {
                    "from the file"
                } else {
                    "inferred from W1 and C"
                },
            );
            for (t, d) in &r.converted {
                eprintln!("  {t}: converted {d} to F32");
            }
        }
        _ => {
            return Err(format!(
                "cannot tell the direction from the extensions of {} and {}: use .bin → .safetensors or .safetensors → .bin",
                a.input.display(),
                a.output.display()
            )
            .into());
        }
    }
    Ok(())
}
