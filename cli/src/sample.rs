//! `sample`: names from a weights file of any shape, one per line (optionally continuing a
//! `--prefix`, optionally tagged with the split of a dataset that holds them), and `score`: the
//! log-likelihood of given names.
//!
//! `--kernel scalar` runs the scalar reference kernels; with reference arithmetic v2 every path
//! gives the same bits, so the names equal what the Cortex-M firmware (`examples/template`)
//! prints for the same file, seed, temperature, top-k and maximum length.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use charmlp::data::LoadOptions;
use charmlp::int8::{QuantSampler, QuantView};
use charmlp::sample::SampleVecs;
use charmlp::table::{TableView, table_len};
use charmlp::weights::TableFile;
use charmlp::{Kernels, SampleConfig, Sampler, VocabBuf, WeightsView};
use clap::{Args, Parser, ValueEnum};

use crate::error::RunError;
use crate::eval::MAX_WEIGHTS_BYTES;
use crate::fsio::read_capped;
use crate::train::{SampleTag, SplitArg, tag_names};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KernelArg {
    /// The scalar reference.
    Scalar,
    /// The fastest path this CPU runs (`CHARMLP_KERNEL` overrides it).
    Best,
}

impl KernelArg {
    fn kernels(self) -> Kernels {
        match self {
            KernelArg::Scalar => Kernels::scalar(),
            KernelArg::Best => Kernels::best(),
        }
    }
}

/// The model to sample or score with.
#[derive(Args, Debug, Clone)]
struct ModelArgs {
    /// The weights file written by the trainer.
    #[arg(long)]
    weights: PathBuf,
    /// Kernel path (every path gives the same bits; `scalar` is the reference).
    #[arg(long, value_enum, default_value_t = KernelArg::Best)]
    kernel: KernelArg,
    /// Compute layer 1 from this per-position table (`charmlp convert weights.bin
    /// weights.table`): the same results, fewer multiply-adds. It must belong to `--weights`.
    /// Without it the table is computed in memory (up to 256 MiB), unless --no-table.
    #[arg(long)]
    table: Option<PathBuf>,
    /// Compute layer 1 from the weights, without a table (the same results).
    #[arg(long, conflicts_with = "table")]
    no_table: bool,
}

/// Names sampled in lockstep by one thread (rows of one batched forward pass).
const ROWS: usize = 32;
/// Names per parallel task, at least: with `count` names, about four tasks per thread, so that
/// each task's memo of contexts (built per task) is reused many times.
const CHUNK: usize = 2048;

/// The largest per-position table computed in memory.
const MAX_TABLE_BYTES: usize = 256 << 20;

/// Sample names from a charmlp weights file, one per line.
#[derive(Parser, Debug, Clone)]
#[command(name = "sample", version = crate::VERSION, long_version = crate::long_version())]
pub struct SampleArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Names to sample.
    #[arg(long, default_value_t = 20)]
    count: usize,
    /// Compute every symbol's forward pass, without the memo of contexts already seen (the
    /// same results, slower; for measuring).
    #[arg(long)]
    no_memo: bool,
    /// Seed of the sampler's `Xoshiro128PlusPlus`.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Softmax temperature (finite, > 0).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    temperature: f32,
    /// Keep only the K most likely symbols at each step (default: all).
    #[arg(long)]
    top_k: Option<usize>,
    /// Stop a name after this many characters.
    #[arg(long, default_value_t = SampleConfig::default().max_len)]
    max_len: usize,
    /// Start every name with these characters and continue it.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Tag each name as in train, in dev, in test (of this dataset, split as the trainer
    /// splits it) or new, and print the counts.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The split of --data: the seed of the shuffle.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// The split of --data: how the items are shuffled.
    #[arg(long, value_enum, default_value_t = SplitArg::Charmlp)]
    split: SplitArg,
}

/// Score names: the natural-log likelihood of each under a model (each character given the
/// previous ones, then the end of the name), the likeliest first.
#[derive(Parser, Debug, Clone)]
#[command(name = "score", version = crate::VERSION, long_version = crate::long_version())]
pub struct ScoreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The names to score.
    #[arg(required = true)]
    names: Vec<String>,
    /// Also print the log-probability of each character.
    #[arg(long)]
    per_char: bool,
}

/// A weights file read in place from 4-byte-aligned storage, with its vocabulary and table.
struct Model {
    words: Vec<u32>,
    len: usize,
    vocab: VocabBuf,
    table: Option<Vec<f32>>,
    kernels: Kernels,
    path: PathBuf,
}

impl Model {
    fn load(a: &ModelArgs) -> Result<Model, RunError> {
        Self::from_bytes(a, &read_capped(&a.weights, MAX_WEIGHTS_BYTES)?)
    }

    /// [`Model::load`] of bytes already read from `a.weights`.
    fn from_bytes(a: &ModelArgs, bytes: &[u8]) -> Result<Model, RunError> {
        let mut words = vec![0u32; bytes.len().div_ceil(4)];
        bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        let werr = |err| RunError::Weights {
            path: a.weights.clone(),
            err,
        };
        let w = WeightsView::parse(bytes).map_err(werr)?;
        let vocab = VocabBuf::from_symbols(w.vocab_str().chars())
            .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
        let table = match &a.table {
            Some(path) => {
                let terr = |err| RunError::Table {
                    path: path.clone(),
                    err,
                };
                let tb = read_capped(path, MAX_WEIGHTS_BYTES * 4)?;
                let f = TableFile::parse(&tb).map_err(terr)?;
                f.check_pair(&w.shape(), w.crc()).map_err(terr)?;
                let mut t = vec![0.0; table_len(&w.shape())];
                f.copy_to(&mut t).map_err(terr)?;
                Some(t)
            }
            None => None,
        };
        let kernels = a.kernel.kernels();
        let shape = w.shape();
        let table = match table {
            Some(t) => Some(t),
            None if !a.no_table && 4 * table_len(&shape) <= MAX_TABLE_BYTES => {
                let mut params = charmlp::ParamsBuf::zeros(shape)?;
                w.copy_params(&mut params.view_mut()).map_err(werr)?;
                let mut t = vec![0.0; table_len(&shape)];
                charmlp::table::compute_table(kernels, &params.view(), &mut t)?;
                Some(t)
            }
            None => None,
        };
        Ok(Model {
            words,
            len: bytes.len(),
            vocab,
            table,
            kernels,
            path: a.weights.clone(),
        })
    }

    fn weights(&self) -> WeightsView<'_> {
        let bytes = &bytemuck::cast_slice::<u32, u8>(&self.words)[..self.len];
        // Parsed once already in `load`.
        WeightsView::parse(bytes).expect("validated in Model::load")
    }

    /// Names `0..count` of the seed, computed in batches of [`ROWS`] names on every core
    /// (each name has its own random stream, so the result does not depend on the threads).
    fn sample_many(
        &self,
        seed: u64,
        cfg: SampleConfig,
        prefix: &str,
        count: usize,
        memo: bool,
    ) -> Result<Vec<String>, RunError> {
        use rayon::prelude::*;
        let w = self.weights();
        let params = w.params().map_err(|err| RunError::Weights {
            path: self.path.clone(),
            err,
        })?;
        let table = match &self.table {
            Some(t) => Some(TableView::new(w.shape(), t)?),
            None => None,
        };
        let parts: Result<Vec<Vec<String>>, charmlp::SampleError> = chunks(count)
            .par_iter()
            .map(|&(first, n)| {
                charmlp::sample::sample_many(
                    params,
                    self.vocab.view(),
                    self.kernels,
                    table,
                    seed,
                    cfg,
                    prefix,
                    first,
                    n,
                    ROWS,
                    memo,
                )
            })
            .collect();
        Ok(parts?.into_iter().flatten().collect())
    }

    fn sampler(&self, seed: u64, cfg: SampleConfig) -> Result<Sampler<'_, SampleVecs>, RunError> {
        let w = self.weights();
        let params = w.params().map_err(|err| RunError::Weights {
            path: self.path.clone(),
            err,
        })?;
        let mut s = Sampler::new(
            params,
            self.vocab.view(),
            self.kernels,
            seed,
            cfg,
            SampleVecs::new(w.shape()),
        )?;
        if let Some(t) = &self.table {
            s = s.with_table(TableView::new(w.shape(), t)?)?;
        }
        Ok(s)
    }
}

fn stdout_err(err: io::Error) -> RunError {
    RunError::Io {
        path: PathBuf::from("<stdout>"),
        err,
    }
}

/// The parallel tasks for names `0..count`: (first name, names), about four per thread and at
/// least [`CHUNK`] names each.
fn chunks(count: usize) -> Vec<(u64, usize)> {
    let chunk = count.div_ceil(4 * rayon::current_num_threads()).max(CHUNK);
    (0..count)
        .step_by(chunk)
        .map(|at| (at as u64, chunk.min(count - at)))
        .collect()
}

/// Names `0..count` of an int8 file (`charmlp convert --quantize int8`), on every core: the
/// integer sampler, whose names equal the firmware's for the same file and settings.
fn sample_int8(a: &SampleArgs, bytes: &[u8], cfg: SampleConfig) -> Result<Vec<String>, RunError> {
    use rayon::prelude::*;
    let m = &a.model;
    if m.table.is_some() {
        return Err(crate::error::FlagError {
            flag: "--table",
            value: "an int8 weights file".into(),
            expected: "used with f32 weights files only (an int8 model computes its own int32 \
                       table; --no-table turns it off)",
        }
        .into());
    }
    let werr = |err| RunError::Weights {
        path: m.weights.clone(),
        err,
    };
    let q = QuantView::parse(bytes).map_err(werr)?;
    let vocab = VocabBuf::from_symbols(q.vocab_str().chars())
        .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
    // Layer 1 from the per-position int32 table (the same integers), unless --no-table or too
    // big, as for f32 files.
    let len = charmlp::int8::table_len(q.shape());
    let table = if !m.no_table && 4 * len <= MAX_TABLE_BYTES {
        let mut t = vec![0i32; len];
        charmlp::int8::compute_table(&q, &mut t)?;
        Some(t)
    } else {
        None
    };
    let mut s = QuantSampler::new(q, vocab.view(), m.kernel.kernels(), a.seed, cfg)?;
    if let Some(t) = &table {
        s = s.with_table(t)?;
    }
    let parts: Result<Vec<Vec<String>>, charmlp::SampleError> = chunks(a.count)
        .par_iter()
        .map(|&(first, n)| s.names_prefixed(first, n, &a.prefix, !a.no_memo))
        .collect();
    Ok(parts?.into_iter().flatten().collect())
}

fn run(a: &SampleArgs) -> Result<(), RunError> {
    let cfg = SampleConfig {
        temperature: a.temperature,
        top_k: a.top_k,
        max_len: a.max_len,
    };
    let corpus = match &a.data {
        Some(path) => {
            let opts = LoadOptions {
                split_mode: a.split.mode(),
                split_seed: a.split_seed,
                ..LoadOptions::default()
            };
            Some(
                crate::load_corpus(path, None, &opts).map_err(|err| RunError::Data {
                    path: path.clone(),
                    err,
                })?,
            )
        }
        None => None,
    };
    let bytes = read_capped(&a.model.weights, MAX_WEIGHTS_BYTES)?;
    let names = if charmlp::int8::is_int8(&bytes) {
        sample_int8(a, &bytes, cfg)?
    } else {
        let m = Model::from_bytes(&a.model, &bytes)?;
        drop(bytes);
        // Validates the settings and the prefix before any thread starts.
        let mut probe = m.sampler(a.seed, cfg)?;
        probe.sample_prefixed(&a.prefix, |_| {})?;
        m.sample_many(a.seed, cfg, &a.prefix, a.count, !a.no_memo)?
    };
    let tags = corpus.as_ref().map(|c| tag_names(&names, c));
    let mut out = BufWriter::new(io::stdout().lock());
    for (i, name) in names.iter().enumerate() {
        let line = match &tags {
            Some(t) => writeln!(out, "{name:<20} {}", t[i].name()),
            None => writeln!(out, "{name}"),
        };
        if let Err(e) = line {
            return write_failed(e).map_err(stdout_err);
        }
    }
    out.flush().or_else(write_failed).map_err(stdout_err)?;
    if let Some(t) = tags {
        let count = |x: SampleTag| t.iter().filter(|&&y| y == x).count();
        eprintln!(
            "{} in train, {} in dev, {} in test, {} new",
            count(SampleTag::Train),
            count(SampleTag::Dev),
            count(SampleTag::Test),
            count(SampleTag::New)
        );
    }
    Ok(())
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

/// One scored name.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The name.
    pub name: String,
    /// Natural-log likelihood of the name and its end.
    pub total: f32,
    /// Each character's log-probability, then the end's (as `.`).
    pub per_char: Vec<(char, f32)>,
}

/// Scores every name of `a` (in the order given).
///
/// # Errors
/// [`RunError::Weights`], [`RunError::Table`], [`RunError::Io`], and [`RunError::Sample`] for a
/// name with a character the model does not know (the message names it).
pub fn score(a: &ScoreArgs) -> Result<Vec<Scored>, RunError> {
    let m = Model::load(&a.model)?;
    let mut s = m.sampler(0, SampleConfig::default())?;
    a.names
        .iter()
        .map(|name| {
            let mut per_char = Vec::new();
            let total = s
                .score_with(name, |c, lp| per_char.push((c, lp)))
                .map_err(|e| RunError::Score {
                    name: name.clone(),
                    err: e,
                })?;
            Ok(Scored {
                name: name.clone(),
                total,
                per_char,
            })
        })
        .collect()
}

/// `score`: prints each name's log-likelihood, the likeliest first.
pub fn score_main(a: &ScoreArgs) -> ExitCode {
    let mut scored = match score(a) {
        Ok(s) => s,
        Err(e) => return crate::fail(&e),
    };
    scored.sort_by(|x, y| y.total.total_cmp(&x.total));
    let mut out = BufWriter::new(io::stdout().lock());
    let mut text = String::from("log-likelihood  per symbol  name\n");
    for s in &scored {
        let n = s.per_char.len() as f32;
        text += &format!("{:>14.4}  {:>10.4}  {}\n", s.total, s.total / n, s.name);
        if a.per_char {
            for (c, lp) in &s.per_char {
                let c = if *c == '.' {
                    "(end)".to_string()
                } else {
                    c.to_string()
                };
                text += &format!("{:>14}  {lp:>10.4}  {c}\n", "");
            }
        }
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match write_failed(e) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => crate::fail(&stdout_err(e)),
        },
    }
}
