//! Samples names from a trained weights file, one per line.
//!
//! ```text
//! cargo run --release --example sample --features std -- --weights out/weights.bin --count 20
//! ```
//!
//! The file's header picks the compiled `(V, B, E, H)` instantiation, so every shape the trainer
//! writes can be sampled. `--kernel scalar` runs the scalar reference kernels: the names are then
//! bit-identical to what the Cortex-M firmware (`examples/firmware`) prints for the same file,
//! seed, temperature, top-k and maximum length.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use charmlp::trainer::available_models;
use charmlp::weights::{Weights, read_header};
use charmlp::{Kernels, SampleConfig, Sampler};
use clap::{Parser, ValueEnum};

/// Files larger than this are rejected before they are read (the largest compiled model is a
/// few hundred KB).
const MAX_FILE: u64 = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KernelArg {
    /// The scalar reference (bit-identical to the microcontroller).
    Scalar,
    /// The fastest path this CPU runs (`CHARMLP_KERNEL` overrides it).
    Best,
}

/// Sample names from a charmlp weights file.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The weights file written by the trainer.
    #[arg(long)]
    weights: PathBuf,
    /// Names to sample.
    #[arg(long, default_value_t = 20)]
    count: usize,
    /// Seed of the sampler's `Xoshiro128PlusPlus`.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Softmax temperature (finite, > 0).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Keep only the K most likely symbols at each step (default: all).
    #[arg(long)]
    top_k: Option<usize>,
    /// Kernel path.
    #[arg(long, value_enum, default_value_t = KernelArg::Best)]
    kernel: KernelArg,
    /// Stop a name after this many characters.
    #[arg(long, default_value_t = SampleConfig::default().max_len)]
    max_len: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the whole file into 4-byte-aligned storage, so that the weights are read in place.
fn read_aligned(path: &Path) -> Result<(Vec<u32>, usize), String> {
    let ctx = |e: io::Error| format!("{}: {e}", path.display());
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(ctx)?
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(ctx)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!(
            "{}: larger than {MAX_FILE} bytes: not a weights file",
            path.display()
        ));
    }
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(&bytes);
    Ok((words, bytes.len()))
}

fn run(args: &Args) -> Result<(), String> {
    let (words, len) = read_aligned(&args.weights)?;
    let bytes = &bytemuck::cast_slice::<u32, u8>(&words)[..len];
    let path = args.weights.display();
    let h = read_header(bytes).map_err(|e| format!("{path}: {e}"))?;
    let shape = (h.v as usize, h.b as usize, h.e as usize, h.h as usize);
    macro_rules! dispatch {
        ($(($v:literal, $b:literal, $e:literal, $h:literal)),* $(,)?) => {
            match shape {
                $(($v, $b, $e, $h) => sample::<$v, $b, $e, { $b * $e }, $h>(bytes, args),)*
                _ => Err(format!(
                    "{path}: no compiled model for V={} B={} E={} H={}; available (V, B, E, H): {}",
                    h.v,
                    h.b,
                    h.e,
                    h.h,
                    available_models()
                        .iter()
                        .map(|m| format!("{m:?}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
            }
        };
    }
    charmlp::for_each_model!(dispatch)
}

fn sample<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    bytes: &[u8],
    args: &Args,
) -> Result<(), String> {
    let path = args.weights.display();
    let w = Weights::<V, B, E, IN, H>::parse(bytes).map_err(|e| format!("{path}: {e}"))?;
    let params = w.params().map_err(|e| format!("{path}: {e}"))?;
    let kernels = match args.kernel {
        KernelArg::Scalar => Kernels::scalar(),
        KernelArg::Best => Kernels::best(),
    };
    let cfg = SampleConfig {
        temperature: args.temperature,
        top_k: args.top_k,
        max_len: args.max_len,
    };
    let mut sampler =
        Sampler::new(params, w.vocab(), kernels, args.seed, cfg).map_err(|e| e.to_string())?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut name = String::new();
    for _ in 0..args.count {
        name.clear();
        sampler
            .sample_with(|c| name.push(c))
            .map_err(|e| format!("{path}: {e}"))?;
        if let Err(e) = writeln!(out, "{name}") {
            return write_failed(e);
        }
    }
    out.flush().or_else(write_failed)
}

/// A closed pipe (`| head`) ends the output quietly; other write errors are reported.
fn write_failed(e: io::Error) -> Result<(), String> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("stdout: {e}"))
    }
}
