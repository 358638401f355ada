//! (std) The training run behind `examples/train.rs` and `examples/sweep.rs`: load the data,
//! pick the model instantiation, train with progress, checkpoint and resume, evaluate, write
//! the weights file and a JSON report — every file written atomically.

use std::borrow::ToOwned;
use std::boxed::Box;
use std::fmt::{self, Write as _};
use std::format;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::Instant;
use std::vec::Vec;
use std::{eprintln, fs, io};

use crate::data::{Corpus, DataError, Splits};
use crate::error::{TrainError, VocabError};
use crate::params::{Init, Params};
use crate::sample::{SampleConfig, Sampler};
use crate::train::{Schedule, Workspace, sample_batch};
use crate::weights::{self, Weights, WeightsError};
use crate::{Kernels, Vocab};

/// The largest minibatch the trainer's workspaces hold.
pub const MAX_BATCH: usize = 256;

/// Everything a run is told.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// One item per line.
    pub data: PathBuf,
    /// SGD steps.
    pub steps: u64,
    /// Minibatch size (1..=[`MAX_BATCH`]).
    pub batch: usize,
    /// Learning rate schedule.
    pub schedule: Schedule,
    /// Seed of the initialization and of the minibatch draws.
    pub seed: u64,
    /// Seed of the item shuffle before the 80/10/10 split.
    pub split_seed: u64,
    /// Initialization.
    pub init: Init,
    /// Context length B.
    pub block: usize,
    /// Embedding width E.
    pub emb: usize,
    /// Hidden width H.
    pub hidden: usize,
    /// Where the weights, checkpoint and plots go (`None`: write nothing).
    pub out: Option<PathBuf>,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Continue from `out/checkpoint.bin`.
    pub resume: bool,
    /// Stop (after checkpointing) once this many steps are done, as if interrupted.
    pub stop_after: Option<u64>,
    /// Names to sample at the end.
    pub samples: usize,
    /// Print progress lines.
    pub progress: bool,
    /// Keep the per-step loss history (for plots).
    pub keep_history: bool,
}

impl TrainConfig {
    /// The lecture's run on `data`: B=3, E=10, H=200, batch 32, 200 000 steps, lr 0.1 then 0.01
    /// from step 100 000, `randn` init.
    pub fn canonical(data: PathBuf) -> Self {
        TrainConfig {
            data,
            steps: 200_000,
            batch: 32,
            schedule: Schedule::Step {
                lr: 0.1,
                decay_at: 100_000,
                lr_after: 0.01,
            },
            seed: 2_147_483_647,
            split_seed: 42,
            init: Init::Randn,
            block: 3,
            emb: 10,
            hidden: 200,
            out: None,
            checkpoint_every: 0,
            resume: false,
            stop_after: None,
            samples: 20,
            progress: false,
            keep_history: false,
        }
    }

    fn fingerprint(&self, data_crc: u32, v: usize) -> u64 {
        let s = format!(
            "{:?}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.schedule,
            self.steps,
            self.batch,
            self.seed,
            self.split_seed,
            self.init.name(),
            self.block,
            self.emb,
            self.hidden,
            v,
            data_crc
        );
        fnv1a(s.as_bytes())
    }
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// B.
    pub block: usize,
    /// E.
    pub emb: usize,
    /// H.
    pub hidden: usize,
    /// V (classes).
    pub vocab_size: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Steps trained in total.
    pub steps: u64,
    /// Initialization name.
    pub init: &'static str,
    /// Seed.
    pub seed: u64,
    /// Parameter count.
    pub params: usize,
    /// Wall-clock seconds of the training loop in this process.
    pub seconds: f64,
    /// Microseconds per step in this process.
    pub us_per_step: f64,
    /// Mean loss on the full training split.
    pub train_loss: f32,
    /// Mean loss on the full dev split.
    pub dev_loss: f32,
    /// Mean loss on the full test split.
    pub test_loss: f32,
    /// The kernel path that ran.
    pub kernel: &'static str,
    /// Sampled names.
    pub samples: Vec<String>,
    /// log10 of each step's minibatch loss (if kept).
    pub history: Vec<f32>,
    /// Whether the run stopped early (`stop_after`).
    pub stopped_early: bool,
}

impl Report {
    /// One JSON object with the report's scalar fields and the samples.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        let _ = write!(
            s,
            "\"block\":{},\"emb\":{},\"hidden\":{},\"vocab_size\":{},\"batch\":{},\"steps\":{},\"init\":\"{}\",\"seed\":{},\"params\":{},\"seconds\":{:.3},\"us_per_step\":{:.3},\"train_loss\":{},\"dev_loss\":{},\"test_loss\":{},\"kernel\":\"{}\",\"samples\":[",
            self.block,
            self.emb,
            self.hidden,
            self.vocab_size,
            self.batch,
            self.steps,
            self.init,
            self.seed,
            self.params,
            self.seconds,
            self.us_per_step,
            json_f32(self.train_loss),
            json_f32(self.dev_loss),
            json_f32(self.test_loss),
            self.kernel
        );
        for (i, n) in self.samples.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_str(&mut s, n);
        }
        s.push_str("]}");
        s
    }
}

/// A finite float as JSON, or `null`.
pub fn json_f32(x: f32) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".to_string()
    }
}

/// Appends `v` as a JSON string literal.
pub fn json_str(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// Why a run failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The dataset.
    Data(DataError),
    /// The vocabulary.
    Vocab(VocabError),
    /// No compiled instantiation has this shape.
    NoModel {
        /// B, E, H asked for.
        block: usize,
        /// E.
        emb: usize,
        /// H.
        hidden: usize,
        /// Symbols the data needs.
        symbols: usize,
        /// What is compiled in, as text.
        available: String,
    },
    /// Bad settings.
    Config(String),
    /// Training diverged or a batch was bad.
    Train(TrainError),
    /// A file could not be written or read.
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        err: io::Error,
    },
    /// A checkpoint that does not belong to this run or is damaged.
    Checkpoint(String),
    /// A weights file.
    Weights(WeightsError),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Data(e) => write!(f, "dataset: {e}"),
            RunError::Vocab(e) => write!(f, "vocabulary: {e}"),
            RunError::NoModel {
                block,
                emb,
                hidden,
                symbols,
                available,
            } => write!(
                f,
                "no compiled model for block={block} emb={emb} hidden={hidden} with {symbols} symbols; available (V,B,E,H): {available}"
            ),
            RunError::Config(m) => f.write_str(m),
            RunError::Train(e) => write!(f, "{e}"),
            RunError::Io { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            RunError::Weights(e) => write!(f, "weights: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        RunError::Data(e)
    }
}
impl From<VocabError> for RunError {
    fn from(e: VocabError) -> Self {
        RunError::Vocab(e)
    }
}
impl From<TrainError> for RunError {
    fn from(e: TrainError) -> Self {
        RunError::Train(e)
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed and synced, then
/// renamed over the target.
///
/// # Errors
/// [`RunError::Io`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let io = |err| RunError::Io {
        path: path.to_path_buf(),
        err,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io)
}

/// The instantiations compiled into the trainer, as `(V, B, E, H)`: the canonical model, every
/// row of the homework tuning table (V = 27), and wide vocabularies for other alphabets.
///
/// To add one, add a line here; it costs a few seconds of compile time and ~60 KB of binary.
#[macro_export]
macro_rules! for_each_model {
    ($m:ident) => {
        $m! {
            (27, 3, 10, 200), (128, 3, 10, 200), (64, 3, 10, 200),
            (27, 4, 30, 10), (27, 4, 2, 10), (27, 4, 4, 10), (27, 2, 4, 10), (27, 3, 4, 10),
            (27, 3, 10, 100), (27, 3, 20, 100), (27, 3, 5, 500), (27, 3, 4, 80), (27, 4, 14, 300),
            (27, 3, 6, 200), (27, 3, 6, 20), (27, 3, 6, 300), (27, 3, 6, 220), (27, 3, 6, 180),
            (27, 8, 10, 200), (27, 5, 10, 200), (27, 6, 8, 200), (27, 4, 10, 200), (27, 6, 10, 100),
            (27, 8, 8, 150), (27, 5, 12, 180), (27, 8, 12, 100), (27, 3, 12, 250)
        }
    };
}

/// `(V, B, E, H)` of every compiled instantiation.
pub fn available_models() -> Vec<(usize, usize, usize, usize)> {
    macro_rules! list {
        ($(($v:literal, $b:literal, $e:literal, $h:literal)),* $(,)?) => { std::vec![$(($v, $b, $e, $h)),*] };
    }
    for_each_model!(list)
}

/// Trains per `cfg` and returns the report. Runs on a thread with a stack large enough for the
/// fixed-size workspaces.
///
/// # Errors
/// Every failure as a [`RunError`]; a diverging loss is [`RunError::Train`].
pub fn run(cfg: &TrainConfig) -> Result<Report, RunError> {
    let cfg = cfg.clone();
    std::thread::Builder::new()
        .name("charmlp-train".into())
        .stack_size(512 << 20)
        .spawn(move || run_here(&cfg))
        .map_err(|err| RunError::Io {
            path: PathBuf::from("<thread>"),
            err,
        })?
        .join()
        .unwrap_or_else(|_| Err(RunError::Config("the training thread panicked".into())))
}

fn run_here(cfg: &TrainConfig) -> Result<Report, RunError> {
    if cfg.batch == 0 || cfg.batch > MAX_BATCH {
        return Err(RunError::Config(format!(
            "--batch must be in 1..={MAX_BATCH}, got {}",
            cfg.batch
        )));
    }
    if cfg.steps == 0 {
        return Err(RunError::Config("--steps must be at least 1".into()));
    }
    let bytes = fs::read(&cfg.data).map_err(|err| RunError::Io {
        path: cfg.data.clone(),
        err,
    })?;
    let corpus = Corpus::parse(&bytes)?;
    let data_crc = weights::crc32(&bytes);
    let symbols = corpus.symbol_count()?;
    let mut best: Option<(usize, usize, usize, usize)> = None;
    for m in available_models() {
        if (m.1, m.2, m.3) == (cfg.block, cfg.emb, cfg.hidden)
            && m.0 >= symbols
            && best.is_none_or(|b| m.0 < b.0)
        {
            best = Some(m);
        }
    }
    let Some(chosen) = best else {
        let cap = available_models().iter().map(|m| m.0).max().unwrap_or(0);
        if symbols > cap {
            return Err(RunError::Vocab(VocabError::TooManySymbols {
                needed: symbols,
                capacity: cap,
            }));
        }
        let available = available_models()
            .iter()
            .map(|m| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(RunError::NoModel {
            block: cfg.block,
            emb: cfg.emb,
            hidden: cfg.hidden,
            symbols,
            available,
        });
    };
    macro_rules! dispatch {
        ($(($v:literal, $b:literal, $e:literal, $h:literal)),* $(,)?) => {
            match chosen {
                $(($v, $b, $e, $h) => run_model::<$v, $b, $e, { $b * $e }, $h>(cfg, &corpus, data_crc),)*
                _ => Err(RunError::Config("internal: instantiation list out of sync".into())),
            }
        };
    }
    for_each_model!(dispatch)
}

const CKPT_MAGIC: &[u8; 12] = b"CHARMLPCKPT1";

fn checkpoint_bytes(fingerprint: u64, step: u64, history: &[f32], weights: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(36 + 4 * history.len() + weights.len());
    out.extend_from_slice(CKPT_MAGIC);
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&step.to_le_bytes());
    out.extend_from_slice(&(history.len() as u64).to_le_bytes());
    for h in history {
        out.extend_from_slice(&h.to_le_bytes());
    }
    out.extend_from_slice(weights);
    out
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
}

/// Trains one instantiation.
fn run_model<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    cfg: &TrainConfig,
    corpus: &Corpus,
    data_crc: u32,
) -> Result<Report, RunError> {
    let vocab: Vocab<V> = corpus.vocab()?;
    let splits: Splits<B> = Splits::new(&corpus.items, &vocab, cfg.split_seed)?;
    if splits.train.is_empty() || splits.dev.is_empty() || splits.test.is_empty() {
        return Err(RunError::Config(format!(
            "the dataset has {} items: too few for a 80/10/10 split with every split non-empty",
            corpus.items.len()
        )));
    }
    let kernels = Kernels::best();
    let mut params: Params<V, B, E, IN, H> = Params::init(cfg.seed, cfg.init);
    let mut ws: Box<Workspace<V, B, E, IN, H, MAX_BATCH>> = Box::new(Workspace::new(kernels));
    let fingerprint = cfg.fingerprint(data_crc, V);
    let mut history: Vec<f32> = Vec::new();
    let ckpt_path = cfg.out.as_ref().map(|d| d.join("checkpoint.bin"));
    if cfg.resume {
        let path = ckpt_path
            .as_ref()
            .ok_or_else(|| RunError::Config("--resume needs --out DIR".into()))?;
        let b = fs::read(path).map_err(|err| RunError::Io {
            path: path.clone(),
            err,
        })?;
        if b.len() < 36 || &b[..12] != CKPT_MAGIC {
            return Err(RunError::Checkpoint(format!(
                "{} is not a charmlp checkpoint",
                path.display()
            )));
        }
        let (fp, step, n) = (
            u64_at(&b, 12).unwrap_or(0),
            u64_at(&b, 20).unwrap_or(0),
            u64_at(&b, 28).unwrap_or(0) as usize,
        );
        if fp != fingerprint {
            return Err(RunError::Checkpoint(
                "it was written by a run with different settings or data; resume with the same flags".into(),
            ));
        }
        let wstart = 36usize.saturating_add(n.saturating_mul(4));
        if wstart > b.len() || step > cfg.steps {
            return Err(RunError::Checkpoint(
                "damaged (lengths out of range)".into(),
            ));
        }
        history = b[36..wstart]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let w = Weights::<V, B, E, IN, H>::parse(&b[wstart..]).map_err(RunError::Weights)?;
        w.copy_into(&mut params);
        ws.set_steps(step);
        if cfg.progress {
            eprintln!("resumed from {} at step {step}", path.display());
        }
    }

    let start_step = ws.steps();
    let end = cfg.stop_after.map_or(cfg.steps, |s| s.min(cfg.steps));
    let mut ctx = [[0u8; B]; MAX_BATCH];
    let mut tgt = [0u8; MAX_BATCH];
    let n = cfg.batch;
    let t0 = Instant::now();
    let mut last_print = t0;
    let mut ema: Option<f32> = None;
    let batch_seed = cfg.seed ^ 0x5EED_BA7C_4E55_0001;
    let write_ckpt =
        |params: &Params<V, B, E, IN, H>, step: u64, history: &[f32]| -> Result<(), RunError> {
            if let Some(p) = &ckpt_path {
                write_atomic(
                    p,
                    &checkpoint_bytes(
                        fingerprint,
                        step,
                        history,
                        &weights::to_bytes(params, &vocab),
                    ),
                )?;
            }
            Ok(())
        };
    for step in start_step..end {
        sample_batch(
            batch_seed,
            step,
            &splits.train.x,
            &splits.train.y,
            &mut ctx[..n],
            &mut tgt[..n],
        );
        let lr = cfg.schedule.lr(step);
        let loss = ws.train_step(&mut params, &ctx[..n], &tgt[..n], lr)?;
        if cfg.keep_history {
            history.push(libm::log10f(loss));
        }
        ema = Some(ema.map_or(loss, |e| 0.99 * e + 0.01 * loss));
        if cfg.checkpoint_every > 0 && (step + 1) % cfg.checkpoint_every == 0 && step + 1 < end {
            write_ckpt(&params, step + 1, &history)?;
        }
        if cfg.progress && last_print.elapsed().as_secs_f64() >= 2.0 {
            last_print = Instant::now();
            let done = step + 1 - start_step;
            let rate = done as f64 / t0.elapsed().as_secs_f64();
            let eta = (cfg.steps - step - 1) as f64 / rate;
            eprintln!(
                "step {:>8}/{} loss {:.4} (avg {:.4}) lr {lr} {:.0} steps/s ETA {:.1}s",
                step + 1,
                cfg.steps,
                loss,
                ema.unwrap_or(loss),
                rate,
                eta
            );
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let done = end - start_step;
    let stopped_early = end < cfg.steps;
    write_ckpt(&params, end, &history)?;

    let (train_loss, dev_loss, test_loss) = if stopped_early {
        (f32::NAN, f32::NAN, f32::NAN)
    } else {
        let p = params.view();
        (
            ws.loss(p, &splits.train.x, &splits.train.y)?,
            ws.loss(p, &splits.dev.x, &splits.dev.y)?,
            ws.loss(p, &splits.test.x, &splits.test.y)?,
        )
    };
    let mut samples = Vec::new();
    if !stopped_early && cfg.samples > 0 {
        let cfg_s = SampleConfig {
            temperature: 1.0,
            top_k: None,
            max_len: 64,
        };
        let mut s = Sampler::new(
            params.view(),
            &vocab,
            kernels,
            cfg.seed.wrapping_add(10),
            cfg_s,
        )
        .map_err(|e| RunError::Config(e.to_string()))?;
        for _ in 0..cfg.samples {
            let mut name = String::new();
            s.sample_with(|c| name.push(c))
                .map_err(|e| RunError::Config(e.to_string()))?;
            samples.push(name);
        }
    }
    if let (Some(dir), false) = (&cfg.out, stopped_early) {
        write_atomic(
            &dir.join("weights.bin"),
            &weights::to_bytes(&params, &vocab),
        )?;
    }
    Ok(Report {
        block: B,
        emb: E,
        hidden: H,
        vocab_size: V,
        batch: cfg.batch,
        steps: end,
        init: cfg.init.name(),
        seed: cfg.seed,
        params: Params::<V, B, E, IN, H>::COUNT,
        seconds,
        us_per_step: if done > 0 {
            seconds * 1e6 / done as f64
        } else {
            0.0
        },
        train_loss,
        dev_loss,
        test_loss,
        kernel: kernels.path().name(),
        samples,
        history,
        stopped_early,
    })
}
