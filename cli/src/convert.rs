//! Conversion between our weights file (`.bin`) and `.safetensors`, for PyTorch interop; the
//! direction comes from the extensions. See `charmlp::interop` for the layout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use charmlp::interop;
use charmlp::table::{TableView, compute_table, table_len};
use charmlp::weights::table::table_to_bytes;
use charmlp::{Kernels, ParamsBuf, WeightsView};
use clap::Parser;

use crate::error::{FlagError, RunError};
use crate::eval::MAX_WEIGHTS_BYTES;
use crate::fsio::{read_capped, write_atomic};

/// Convert charmlp weights (.bin) ↔ safetensors (.safetensors), compute a weights file's
/// per-position layer-1 table (.bin → .table, for `sample --table` and `include_weights!`), or
/// quantize it (`--quantize int8`, .bin → .bin); the direction comes from the file extensions.
#[derive(Parser, Debug, Clone)]
#[command(name = "convert", version = crate::VERSION, long_version = crate::long_version())]
pub struct ConvertArgs {
    /// Input file (.bin or .safetensors).
    input: PathBuf,
    /// Output file (.safetensors, .bin or .table), written atomically.
    output: PathBuf,
    /// Import only: the vocabulary ('.' first, then the symbols in index order) when the file
    /// has no `vocab` metadata. Default: the lecture's, '.' then a–z.
    #[arg(long)]
    vocab: Option<String>,
    /// Quantize an f32 weights file (.bin) to an int8 one (.bin, format version 2): symmetric
    /// int8 weights with per-unit scales, integer-only sampling (see the README).
    #[arg(long, value_enum)]
    quantize: Option<Quantize>,
}

/// The quantized formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Quantize {
    /// int8 weights, int32 sums, lookup-table tanh and softmax.
    Int8,
}

/// `convert --quantize int8 IN.bin OUT.bin`.
fn quantize(a: &ConvertArgs) -> Result<String, RunError> {
    if a.vocab.is_some()
        || ext(&a.input).as_deref() != Some("bin")
        || ext(&a.output).as_deref() != Some("bin")
    {
        return Err(FlagError {
            flag: "--quantize",
            value: format!("{} {}", a.input.display(), a.output.display()),
            expected: "an f32 .bin file in, a .bin file out, and no --vocab",
        }
        .into());
    }
    let bytes = read_capped(&a.input, MAX_WEIGHTS_BYTES)?;
    let werr = |err| RunError::Weights {
        path: a.input.clone(),
        err,
    };
    let out = quantized_bytes(&bytes).map_err(werr)?;
    write_atomic(&a.output, &out)?;
    Ok(format!(
        "quantized {} ({} bytes, f32) → {} ({} bytes, int8)",
        a.input.display(),
        bytes.len(),
        a.output.display(),
        out.len()
    ))
}

/// The int8 file of an f32 weights file's bytes (also used by `train --int8`).
///
/// # Errors
/// The f32 file's [`charmlp::WeightsError`], or [`charmlp::WeightsError::Quantization`].
pub fn quantized_bytes(f32_file: &[u8]) -> Result<Vec<u8>, charmlp::WeightsError> {
    let w = WeightsView::parse(f32_file)?;
    let vocab = charmlp::VocabBuf::from_symbols(w.vocab_str().chars())
        .map_err(|_| charmlp::WeightsError::MissingTerminator)?;
    let mut p = ParamsBuf::zeros(w.shape()).map_err(charmlp::WeightsError::Shape)?;
    w.copy_params(&mut p.view_mut())?;
    charmlp::int8::quantize(&p.view(), vocab.view())
}

fn ext(p: &Path) -> Option<String> {
    p.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Converts `a.input` to `a.output`; returns a line describing what was done.
///
/// # Errors
/// [`RunError::Flag`] for extensions that name no direction or `--vocab` on export,
/// [`RunError::Io`], [`RunError::Interop`].
pub fn convert(a: &ConvertArgs) -> Result<String, RunError> {
    if a.quantize.is_some() {
        return quantize(a);
    }
    let (i, o) = (ext(&a.input), ext(&a.output));
    let ierr = |err| RunError::Interop {
        path: a.input.clone(),
        err,
    };
    match (i.as_deref(), o.as_deref()) {
        (Some("bin"), Some("safetensors")) => {
            if a.vocab.is_some() {
                return Err(FlagError {
                    flag: "--vocab",
                    value: "given on export".into(),
                    expected: "used on import (.safetensors → .bin) only",
                }
                .into());
            }
            let bytes = read_capped(&a.input, MAX_WEIGHTS_BYTES)?;
            let out = interop::export(&bytes).map_err(ierr)?;
            write_atomic(&a.output, &out)?;
            Ok(format!(
                "exported {} → {} ({} bytes)",
                a.input.display(),
                a.output.display(),
                out.len()
            ))
        }
        (Some("bin"), Some("table")) => {
            let bytes = read_capped(&a.input, MAX_WEIGHTS_BYTES)?;
            let werr = |err| RunError::Weights {
                path: a.input.clone(),
                err,
            };
            let w = WeightsView::parse(&bytes).map_err(werr)?;
            let mut params = ParamsBuf::zeros(w.shape())?;
            w.copy_params(&mut params.view_mut()).map_err(werr)?;
            let mut table = vec![0.0; table_len(&w.shape())];
            compute_table(Kernels::best(), &params.view(), &mut table)?;
            let out = table_to_bytes(&TableView::new(w.shape(), &table)?, w.crc());
            write_atomic(&a.output, &out)?;
            Ok(format!(
                "computed the per-position table of {} ({}) → {} ({} bytes)",
                a.input.display(),
                w.shape(),
                a.output.display(),
                out.len()
            ))
        }
        (Some("safetensors"), Some("bin")) => {
            let bytes = read_capped(&a.input, MAX_WEIGHTS_BYTES)?;
            let r = interop::import(&bytes, a.vocab.as_deref()).map_err(ierr)?;
            write_atomic(&a.output, &r.weights)?;
            let mut msg = format!(
                "imported {} → {}: {}, vocabulary {:?} ({}), block size {}",
                a.input.display(),
                a.output.display(),
                r.shape,
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
                msg += &format!("\n  {t}: converted {d} to F32");
            }
            Ok(msg)
        }
        _ => Err(FlagError {
            flag: "INPUT OUTPUT",
            value: format!("{} {}", a.input.display(), a.output.display()),
            expected: "a .bin and a .safetensors file, in either order, or a .bin then a .table",
        }
        .into()),
    }
}

/// `convert`: converts and says what it did on stderr.
pub fn main(a: &ConvertArgs) -> ExitCode {
    match convert(a) {
        Ok(msg) => {
            eprintln!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => crate::fail(&e),
    }
}
