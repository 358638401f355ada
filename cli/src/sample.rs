//! Sampling names from a weights file of any shape, one per line.
//!
//! `--kernel scalar` runs the scalar reference kernels: the names are then bit-identical to what
//! the Cortex-M firmware (`examples/firmware`) prints for the same file, seed, temperature,
//! top-k and maximum length.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use charmlp::sample::SampleVecs;
use charmlp::table::{TableView, table_len};
use charmlp::weights::TableFile;
use charmlp::{Kernels, SampleConfig, Sampler, VocabBuf, WeightsView};
use clap::{Parser, ValueEnum};

use crate::error::RunError;
use crate::eval::MAX_WEIGHTS_BYTES;
use crate::fsio::read_capped;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KernelArg {
    /// The scalar reference (bit-identical to the microcontroller).
    Scalar,
    /// The fastest path this CPU runs (`CHARMLP_KERNEL` overrides it).
    Best,
}

/// Sample names from a charmlp weights file.
#[derive(Parser, Debug, Clone)]
#[command(name = "sample", version)]
pub struct SampleArgs {
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
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
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
    /// Compute layer 1 from this per-position table (`charmlp convert weights.bin
    /// weights.table`): the same names, fewer multiply-adds. It must belong to `--weights`.
    #[arg(long)]
    table: Option<PathBuf>,
}

/// Reads the whole file into 4-byte-aligned storage, so that the weights are read in place.
fn read_aligned(path: &std::path::Path) -> Result<(Vec<u32>, usize), RunError> {
    let bytes = read_capped(path, MAX_WEIGHTS_BYTES)?;
    let mut words = vec![0u32; bytes.len().div_ceil(4)];
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(&bytes);
    Ok((words, bytes.len()))
}

fn run(a: &SampleArgs) -> Result<(), RunError> {
    let (words, len) = read_aligned(&a.weights)?;
    let bytes = &bytemuck::cast_slice::<u32, u8>(&words)[..len];
    let werr = |err| RunError::Weights {
        path: a.weights.clone(),
        err,
    };
    let w = WeightsView::parse(bytes).map_err(werr)?;
    let params = w.params().map_err(werr)?;
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars())
        .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
    let kernels = match a.kernel {
        KernelArg::Scalar => Kernels::scalar(),
        KernelArg::Best => Kernels::best(),
    };
    let cfg = SampleConfig {
        temperature: a.temperature,
        top_k: a.top_k,
        max_len: a.max_len,
    };
    let mut sampler = Sampler::new(
        params,
        vocab.view(),
        kernels,
        a.seed,
        cfg,
        SampleVecs::new(w.shape()),
    )?;
    let table = match &a.table {
        Some(path) => {
            let terr = |err| RunError::Table {
                path: path.clone(),
                err,
            };
            let bytes = read_capped(path, MAX_WEIGHTS_BYTES * 4)?;
            let f = TableFile::parse(&bytes).map_err(terr)?;
            f.check_pair(&w.shape(), w.crc()).map_err(terr)?;
            let mut t = vec![0.0; table_len(&w.shape())];
            f.copy_to(&mut t).map_err(terr)?;
            Some(t)
        }
        None => None,
    };
    if let Some(t) = &table {
        sampler = sampler.with_table(TableView::new(w.shape(), t)?)?;
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut name = String::new();
    let werr = |err: io::Error| RunError::Io {
        path: PathBuf::from("<stdout>"),
        err,
    };
    for _ in 0..a.count {
        name.clear();
        sampler.sample_with(|c| name.push(c))?;
        if let Err(e) = writeln!(out, "{name}") {
            return write_failed(e).map_err(werr);
        }
    }
    out.flush().or_else(write_failed).map_err(werr)
}

/// A closed pipe (`| head`) ends the output quietly; other write errors are reported.
fn write_failed(e: io::Error) -> Result<(), io::Error> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// `sample`: prints `--count` names.
pub fn main(a: &SampleArgs) -> ExitCode {
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}
