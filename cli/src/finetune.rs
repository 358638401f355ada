//! `finetune`: continue training a weights file on a short list — the host's side of the
//! on-device fine-tuning scenario. It runs `charmlp::finetune::fine_tune`, the same code as the
//! firmware, so it prints the same report byte for byte and writes weights whose CRC the device
//! reports.

use std::path::PathBuf;
use std::process::ExitCode;

use charmlp::batch::{Items, encode_lines};
use charmlp::finetune::{FineTune, fine_tune};
use charmlp::sample::SampleVecs;
use charmlp::{Index, Kernels, ParamsBuf, VocabBuf, WeightsView, WorkspaceBuf, weights};
use clap::Parser;

use crate::error::{FlagError, RunError, check};
use crate::eval::MAX_WEIGHTS_BYTES;
use crate::fsio::{check_output_file, read_capped, write_atomic};

/// Fine-tune a weights file on a list of names (one per line): the loss over the list and a
/// sample before and after, and the weights written to --out.
#[derive(Parser, Debug, Clone)]
#[command(name = "finetune", version = crate::VERSION, long_version = crate::long_version())]
pub struct FineTuneArgs {
    /// The pretrained weights file.
    #[arg(long)]
    weights: PathBuf,
    /// The list, one name per line; every character must be in the weights' vocabulary.
    #[arg(long)]
    list: PathBuf,
    /// SGD steps.
    #[arg(long, default_value_t = 300)]
    steps: u64,
    /// Minibatch size.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Learning rate (constant).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    lr: f32,
    /// Seed of the minibatch draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Names sampled before and after.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Seed of those samples.
    #[arg(long, default_value_t = 7)]
    sample_seed: u64,
    /// Count the samples that start with this character (default: the list's first character).
    #[arg(long)]
    starts_with: Option<char>,
    /// Print the minibatch loss every N steps.
    #[arg(long, default_value_t = 25)]
    report_every: u64,
    /// Write the fine-tuned weights here (atomically).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn run(a: &FineTuneArgs) -> Result<(), RunError> {
    check("--steps", a.steps, "at least 1", |s| s >= 1)?;
    check("--batch", a.batch, "at least 1", |b| b >= 1)?;
    check("--lr", a.lr, "finite and > 0", |l| l.is_finite() && l > 0.0)?;
    if let Some(o) = &a.out {
        check_output_file(o)?;
    }
    let werr = |err| RunError::Weights {
        path: a.weights.clone(),
        err,
    };
    let bytes = read_capped(&a.weights, MAX_WEIGHTS_BYTES)?;
    let w = WeightsView::parse(&bytes).map_err(werr)?;
    let shape = w.shape();
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars())
        .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
    let mut params = ParamsBuf::zeros(shape)?;
    w.copy_params(&mut params.view_mut()).map_err(werr)?;
    let list = read_capped(&a.list, 1 << 30)?;
    let text = std::str::from_utf8(&list).map_err(|_| RunError::Io {
        path: a.list.clone(),
        err: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
    })?;
    let mut encoded = vec![0u8; list.len() + 1];
    let n = encode_lines(text, vocab.view(), &mut encoded).map_err(|e| {
        RunError::Flag(FlagError {
            flag: "--list",
            value: format!("{} ({e})", a.list.display()),
            expected: "names whose every character is in the weights' vocabulary",
        })
    })?;
    if n == 0 {
        return Err(FlagError {
            flag: "--list",
            value: a.list.display().to_string(),
            expected: "at least one name",
        }
        .into());
    }
    let first = text.chars().find(|c| !c.is_whitespace()).unwrap_or('.');
    let mut cfg = FineTune::new(a.steps, a.lr, a.seed, a.starts_with.unwrap_or(first));
    cfg.samples = a.samples;
    cfg.sample_seed = a.sample_seed;
    cfg.report_every = a.report_every;
    let mut ws = WorkspaceBuf::new(Kernels::best(), shape, a.batch)?;
    let mut ctx: Vec<Index> = vec![0; a.batch * shape.block()];
    let mut targets: Vec<Index> = vec![0; a.batch];
    let mut scratch = SampleVecs::new(shape);
    let outcome = fine_tune(
        &mut ws.view(),
        &mut params.view_mut(),
        vocab.view(),
        Items::U8(&encoded[..n]),
        &cfg,
        &mut ctx,
        &mut targets,
        &mut scratch,
        |args| print!("{args}"),
    )
    .map_err(|e| RunError::FineTune(e.to_string()))?;
    if let Some(o) = &a.out {
        let file = weights::to_bytes(&params.view(), vocab.view());
        debug_assert_eq!(
            u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap_or_default()),
            outcome.crc
        );
        write_atomic(o, &file)?;
        eprintln!("wrote {}", o.display());
    }
    Ok(())
}

/// `finetune`: prints the report (and writes `--out`).
pub fn main(a: &FineTuneArgs) -> ExitCode {
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}
