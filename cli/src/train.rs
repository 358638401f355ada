//! The training run: load the data, build the model of any shape, train with progress,
//! checkpoint and resume bit-identically, evaluate, sample, and write the weights — every file
//! written atomically.
//!
//! The run is three phases, each its own function: [`prepare`] (flags, data, shape, buffers),
//! [`start_or_resume`] (fresh parameters, or the checkpoint's), [`train_steps`] (the SGD loop with
//! progress and periodic checkpoints) and [`finish`] (full-split losses, samples, files).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use charmlp::checkpoint::{self, Checkpoint, Contents, ScheduleFields, Settings, SplitMode};
use charmlp::data::{Corpus, DEFAULT_MAX_BYTES, LoadOptions};
use charmlp::sample::SampleVecs;
use charmlp::{
    Index, Init, Kernels, ParamsBuf, SampleConfig, Sampler, Schedule, Shape, WorkspaceBuf, weights,
};
use clap::{Parser, ValueEnum};

use crate::error::{FlagError, RunError, check};
use crate::fsio::{OutDir, check_output_file, read_capped, write_atomic, write_output};
use crate::progress::Progress;
use crate::report::Report;

/// Rows per chunk when the full splits are evaluated.
pub const EVAL_ROWS: usize = 256;

/// Everything a run is told.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// One item per line.
    pub data: PathBuf,
    /// Refuse data files larger than this.
    pub max_data_bytes: u64,
    /// SGD steps.
    pub steps: u64,
    /// Minibatch size.
    pub batch: usize,
    /// Learning rate schedule.
    pub schedule: Schedule,
    /// Seed of the initialization and of the minibatch draws.
    pub seed: u64,
    /// Seed of the item shuffle before the 80/10/10 split.
    pub split_seed: u64,
    /// How the items are shuffled.
    pub split_mode: SplitMode,
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
    /// Start afresh even if `out` holds an interrupted run's checkpoint (replacing it).
    pub overwrite: bool,
    /// Stop (after checkpointing) once this many steps are done, as if interrupted.
    pub stop_after: Option<u64>,
    /// Names to sample at the end.
    pub samples: usize,
    /// Also write the int8 quantization of the weights, `weights.int8.bin`.
    pub int8: bool,
    /// Print progress lines.
    pub progress: bool,
    /// Keep the per-step loss history (for plots; stored in the checkpoint).
    pub keep_history: bool,
    /// Evaluate the dev loss on a fixed subsample every this many steps (0: never), keep the
    /// best parameters by it (`best.bin`), and log it to `metrics.jsonl`.
    pub eval_every: u64,
    /// Dev pairs in that subsample (drawn once, with a fixed seed).
    pub eval_rows: usize,
    /// Write a line to `metrics.jsonl` every this many steps (the mean minibatch loss since the
    /// last line), besides one per evaluation (0: evaluations only).
    pub metrics_every: u64,
    /// The kernels to run.
    pub kernels: Kernels,
}

impl TrainConfig {
    /// The lecture's run on `data`: B=3, E=10, H=200, batch 32, 200 000 steps, lr 0.1 then 0.01
    /// from step 100 000, `randn` init.
    pub fn canonical(data: PathBuf) -> Self {
        TrainConfig {
            data,
            max_data_bytes: DEFAULT_MAX_BYTES,
            steps: 200_000,
            batch: 32,
            schedule: Schedule::Step {
                lr: 0.1,
                decay_at: 100_000,
                lr_after: 0.01,
            },
            seed: 2_147_483_647,
            split_seed: 42,
            split_mode: SplitMode::Charmlp,
            init: Init::Randn,
            block: 3,
            emb: 10,
            hidden: 200,
            out: None,
            checkpoint_every: 0,
            resume: false,
            overwrite: false,
            stop_after: None,
            samples: 20,
            int8: false,
            progress: false,
            keep_history: false,
            eval_every: 500,
            eval_rows: 1000,
            metrics_every: 100,
            kernels: Kernels::best(),
        }
    }

    /// Checks every numeric setting against its documented range.
    ///
    /// # Errors
    /// A [`FlagError`] naming the first flag out of range.
    pub fn validate(&self) -> Result<(), FlagError> {
        let pos = |x: f32| x.is_finite() && x > 0.0;
        check("--steps", self.steps, "at least 1", |s| s >= 1)?;
        check("--batch", self.batch, "at least 1", |b| b >= 1)?;
        check("--block", self.block, "in 1..=32", |b| {
            (1..=Shape::MAX_BLOCK).contains(&b)
        })?;
        check("--emb", self.emb, "in 1..=65536", |e| {
            (1..=Shape::MAX_WIDTH).contains(&e)
        })?;
        check("--hidden", self.hidden, "in 1..=65536", |h| {
            (1..=Shape::MAX_WIDTH).contains(&h)
        })?;
        match self.schedule {
            Schedule::Step { lr, lr_after, .. } => {
                check("--lr", lr, "finite and > 0", pos)?;
                check("--lr-after", lr_after, "finite and > 0", pos)?;
            }
            Schedule::Cosine { lr, lr_min, .. } => {
                check("--lr", lr, "finite and > 0", pos)?;
                check("--lr-after", lr_min, "finite and > 0", pos)?;
            }
            _ => {}
        }
        if let Some(s) = self.stop_after {
            check("--stop-after", s, "at least 1", |s| s >= 1)?;
        }
        if self.eval_every > 0 {
            check("--eval-rows", self.eval_rows, "at least 1", |r| r >= 1)?;
        }
        Ok(())
    }

    /// The settings a checkpoint records, for the data file of `len` bytes and CRC `crc`.
    fn settings(&self, data_len: u64, data_crc: u32) -> Settings {
        let schedule = match self.schedule {
            Schedule::Step {
                lr,
                decay_at,
                lr_after,
            } => ScheduleFields {
                kind: 0,
                lr,
                lr_after,
                decay_at,
            },
            Schedule::Cosine { lr, lr_min, .. } => ScheduleFields {
                kind: 1,
                lr,
                lr_after: lr_min,
                decay_at: 0,
            },
            _ => ScheduleFields {
                kind: u8::MAX,
                lr: 0.0,
                lr_after: 0.0,
                decay_at: 0,
            },
        };
        Settings {
            steps: self.steps,
            seed: self.seed,
            split_seed: self.split_seed,
            batch: self.batch as u32,
            init: self.init,
            schedule,
            split_mode: self.split_mode,
            arithmetic: charmlp::kernels::ARITHMETIC_VERSION,
            data_crc,
            data_len,
            kernel: Settings::kernel_field(self.kernels.path().name()),
        }
    }

    fn checkpoint_path(&self) -> Option<PathBuf> {
        self.out.as_ref().map(|d| d.join("checkpoint.bin"))
    }
}

/// The data, the shape and the buffers of a run.
pub struct Prepared {
    /// The dataset, in split order.
    pub corpus: Corpus,
    /// The model's shape.
    pub shape: Shape,
    /// The workspace (capacity: the batch, or [`EVAL_ROWS`] if larger).
    pub ws: WorkspaceBuf,
}

/// Validates the flags, loads the data and allocates the model's buffers.
///
/// # Errors
/// [`RunError::Flag`], [`RunError::Data`], [`RunError::TooFewItems`], [`RunError::Shape`].
pub fn prepare(cfg: &TrainConfig) -> Result<Prepared, RunError> {
    cfg.validate()?;
    let opts = LoadOptions {
        max_bytes: cfg.max_data_bytes,
        split_mode: cfg.split_mode,
        split_seed: cfg.split_seed,
    };
    let corpus = crate::load_corpus(&cfg.data, None, &opts).map_err(|err| RunError::Data {
        path: cfg.data.clone(),
        err,
    })?;
    if corpus.split_items().contains(&0) {
        return Err(RunError::TooFewItems {
            items: corpus.items(),
        });
    }
    let shape = Shape::new(corpus.vocab().len(), cfg.block, cfg.emb, cfg.hidden)?;
    let ws = WorkspaceBuf::new(cfg.kernels, shape, cfg.batch.max(EVAL_ROWS))?;
    Ok(Prepared { corpus, shape, ws })
}

/// The state that advances: parameters, steps done, loss history, the best parameters by dev
/// loss, and the metrics log.
pub struct State {
    /// The parameters.
    pub params: ParamsBuf,
    /// Steps applied.
    pub step: u64,
    /// log10 of each step's minibatch loss (if kept).
    pub history: Vec<f32>,
    /// The best parameters by the dev subsample's loss: (step, loss, weights file).
    pub best: Option<(u64, f32, Vec<u8>)>,
    /// `metrics.jsonl`, one entry per line.
    pub metrics: Vec<Metric>,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metric {
    /// Steps applied.
    pub step: u64,
    /// The learning rate of the last step.
    pub lr: f32,
    /// Mean minibatch loss since the previous line.
    pub train_loss: f32,
    /// Dev loss on the fixed subsample, at evaluation steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dev_loss: Option<f32>,
    /// Seconds of training so far (across resumes).
    pub seconds: f64,
}

/// Fresh parameters, or the checkpoint's with `--resume` (after checking that it belongs to
/// this run).
///
/// # Errors
/// [`RunError::Checkpoint`] for a missing or damaged checkpoint, [`RunError::ResumeShape`] and
/// [`RunError::ResumeMismatch`] for one written by another run, [`RunError::Flag`] for a
/// `--stop-after` before the checkpoint's step.
pub fn start_or_resume(cfg: &TrainConfig, run: &Prepared) -> Result<State, RunError> {
    if !cfg.resume {
        return Ok(State {
            params: ParamsBuf::init(run.shape, cfg.seed, cfg.init)?,
            step: 0,
            history: Vec::new(),
            best: None,
            metrics: Vec::new(),
        });
    }
    let path = cfg.checkpoint_path().ok_or_else(|| FlagError {
        flag: "--resume",
        value: "without --out".into(),
        expected: "used with --out DIR",
    })?;
    let bytes = read_capped(&path, u64::MAX >> 1)?;
    let ck = |err| RunError::Checkpoint {
        path: path.clone(),
        err,
    };
    let c = Checkpoint::parse(&bytes).map_err(ck)?;
    if c.shape() != run.shape {
        return Err(RunError::ResumeShape {
            path,
            checkpoint: c.shape(),
            now: run.shape,
        });
    }
    let now = cfg.settings(run.corpus.file_len(), run.corpus.file_crc());
    let mut diffs = [checkpoint::Difference::default(); 12];
    let n = c.settings.differences(&now, &mut diffs);
    if n > 0 {
        return Err(RunError::ResumeMismatch {
            path,
            differences: diffs[..n].to_vec(),
        });
    }
    if let Some(stop) = cfg.stop_after
        && stop < c.step
    {
        return Err(RunError::Flag(FlagError {
            flag: "--stop-after",
            value: stop.to_string(),
            expected: "at or after the checkpoint's step (it cannot go back)",
        }));
    }
    if c.settings.kernel != now.kernel && cfg.progress {
        // The arithmetic versions agree (a differing one is refused above), and every path of
        // one version gives the same bits: the run continues exactly.
        eprintln!(
            "note: the checkpoint was written on the {} kernel path and this run uses {}; both compute reference arithmetic v{}, so the result is bit-identical to an uninterrupted run",
            c.settings.kernel_name(),
            now.kernel_name(),
            now.arithmetic
        );
    }
    let mut params = ParamsBuf::zeros(run.shape)?;
    c.weights()
        .copy_params(&mut params.view_mut())
        .map_err(|e| ck(checkpoint::CheckpointError::Weights(e)))?;
    let history = match c.history() {
        Some(h) if cfg.keep_history => h.collect(),
        _ => Vec::new(),
    };
    if cfg.progress {
        eprintln!("resumed from {} at step {}", path.display(), c.step);
    }
    let best = match (c.best, c.best_weights()) {
        (Some((step, loss)), Some(w)) => Some((step, loss, w.bytes().to_vec())),
        _ => None,
    };
    Ok(State {
        params,
        step: c.step,
        history,
        best,
        metrics: read_metrics(cfg, c.step),
    })
}

/// The seed of the minibatch draws, derived from the run's seed.
fn batch_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_BA7C_4E55_0001
}

/// Writes `out/checkpoint.bin` for the state.
fn write_checkpoint(cfg: &TrainConfig, run: &Prepared, state: &State) -> Result<(), RunError> {
    let Some(path) = cfg.checkpoint_path() else {
        return Ok(());
    };
    let w = weights::to_bytes(&state.params.view(), run.corpus.vocab().view());
    let bytes = checkpoint::to_bytes(&Contents {
        step: state.step,
        settings: cfg.settings(run.corpus.file_len(), run.corpus.file_crc()),
        history: cfg.keep_history.then_some(&state.history[..]),
        weights: &w,
        best: state.best.as_ref().map(|(s, l, b)| (*s, *l, &b[..])),
    });
    write_atomic(&path, &bytes)?;
    write_logs(cfg, state)
}

/// `metrics.jsonl` and `best.bin` in `--out` (atomically; with a checkpoint and at the end).
fn write_logs(cfg: &TrainConfig, state: &State) -> Result<(), RunError> {
    let Some(dir) = &cfg.out else {
        return Ok(());
    };
    if !state.metrics.is_empty() {
        let mut text = String::new();
        for m in &state.metrics {
            text += &serde_json::to_string(m).unwrap_or_default();
            text.push('\n');
        }
        write_atomic(&dir.join("metrics.jsonl"), text.as_bytes())?;
    }
    if let Some((_, _, bytes)) = &state.best {
        write_atomic(&dir.join("best.bin"), bytes)?;
    }
    Ok(())
}

/// The lines of `--out/metrics.jsonl` up to `step` (a resumed run continues the log of the run
/// it resumes; lines past the checkpoint are the interrupted run's, and dropped).
fn read_metrics(cfg: &TrainConfig, step: u64) -> Vec<Metric> {
    let Some(dir) = &cfg.out else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(dir.join("metrics.jsonl")) else {
        return Vec::new();
    };
    text.lines()
        .map_while(|l| serde_json::from_str::<Metric>(l).ok())
        .take_while(|m| m.step <= step)
        .collect()
}

/// The fixed dev subsample of the periodic evaluations: `rows` pairs drawn once.
struct DevSample {
    ctx: Vec<Index>,
    targets: Vec<Index>,
}

impl DevSample {
    /// Seed of the subsample's draw (fixed: every evaluation sees the same pairs).
    const SEED: u64 = 0xDE7_5A3B_1E00_0001;

    fn new(run: &Prepared, rows: usize) -> Option<DevSample> {
        let dev = run.corpus.dev();
        if dev.is_empty() || rows == 0 {
            return None;
        }
        let mut ctx = vec![0; rows * run.shape.block()];
        let mut targets = vec![0; rows];
        dev.sample_batch(Self::SEED, 0, &mut ctx, &mut targets);
        Some(DevSample { ctx, targets })
    }
}

/// Runs SGD steps from `state.step` to `end`, with progress and periodic checkpoints; returns
/// the seconds spent.
///
/// # Errors
/// [`RunError::Train`] (a diverging loss names its step), [`RunError::Io`].
pub fn train_steps(
    cfg: &TrainConfig,
    run: &mut Prepared,
    state: &mut State,
    end: u64,
) -> Result<f64, RunError> {
    let b = run.shape.block();
    let n = cfg.batch;
    let mut ctx: Vec<Index> = vec![0; n * b];
    let mut tgt: Vec<Index> = vec![0; n];
    let seed = batch_seed(cfg.seed);
    let mut progress = Progress::new(cfg.progress, state.step, cfg.steps);
    let dev = if cfg.eval_every > 0 {
        DevSample::new(run, cfg.eval_rows)
    } else {
        None
    };
    let seconds_before = state.metrics.last().map_or(0.0, |m| m.seconds);
    let (mut loss_sum, mut loss_n) = (0.0f64, 0u32);
    let t0 = Instant::now();
    let train = run.corpus.train();
    while state.step < end {
        let step = state.step;
        train.sample_batch(seed, step, &mut ctx, &mut tgt);
        let lr = cfg.schedule.lr(step);
        run.ws.set_steps(step);
        let loss = run
            .ws
            .train_step(&mut state.params.view_mut(), &ctx, &tgt, lr)?;
        state.step += 1;
        if cfg.keep_history {
            state.history.push(loss.log10());
        }
        loss_sum += f64::from(loss);
        loss_n += 1;
        progress.step(state.step, loss, lr);
        let at = |every: u64| every > 0 && state.step.is_multiple_of(every);
        let eval_now = dev.is_some() && (at(cfg.eval_every) || state.step == cfg.steps);
        if eval_now || at(cfg.metrics_every) {
            let dev_loss = match (&dev, eval_now) {
                (Some(d), true) => {
                    let l = run
                        .ws
                        .view()
                        .loss(&state.params.view(), &d.ctx, &d.targets)?;
                    progress.dev_loss(l);
                    if state.best.as_ref().is_none_or(|b| l < b.1) {
                        let w = weights::to_bytes(&state.params.view(), run.corpus.vocab().view());
                        state.best = Some((state.step, l, w));
                    }
                    Some(l)
                }
                _ => None,
            };
            state.metrics.push(Metric {
                step: state.step,
                lr,
                train_loss: (loss_sum / f64::from(loss_n.max(1))) as f32,
                dev_loss,
                seconds: seconds_before + t0.elapsed().as_secs_f64(),
            });
            (loss_sum, loss_n) = (0.0, 0);
        }
        if cfg.checkpoint_every > 0
            && state.step.is_multiple_of(cfg.checkpoint_every)
            && state.step < end
        {
            write_checkpoint(cfg, run, state)?;
        }
    }
    progress.finish();
    Ok(t0.elapsed().as_secs_f64())
}

/// Trains per `cfg` and returns the report.
///
/// # Errors
/// Every failure as a [`RunError`]; a diverging loss is [`RunError::Train`].
pub fn run(cfg: &TrainConfig) -> Result<Report, RunError> {
    let _out = preflight(cfg, None)?;
    run_checked(cfg)
}

/// Checks everything that can be checked before the data is read and a step is trained: the
/// flags, the output locations (`--out` is created if needed, must be a writable directory, and
/// is locked for this run — released when the returned guard drops; `json`, if given, must be
/// writable), and that a fresh run would not replace an interrupted run's checkpoint (unless
/// `overwrite`).
///
/// # Errors
/// [`RunError::Flag`], [`RunError::Io`], [`RunError::Busy`], [`RunError::WouldOverwrite`].
pub fn preflight(cfg: &TrainConfig, json: Option<&Path>) -> Result<Option<OutDir>, RunError> {
    cfg.validate()?;
    if cfg.resume && cfg.overwrite {
        return Err(FlagError {
            flag: "--overwrite",
            value: "with --resume".into(),
            expected: "used without --resume (one continues the run, the other starts over)",
        }
        .into());
    }
    if let Some(p) = json {
        check_output_file(p)?;
    }
    let Some(dir) = &cfg.out else {
        return Ok(None);
    };
    let out = OutDir::lock(dir)?;
    let ck = dir.join("checkpoint.bin");
    if !cfg.resume && !cfg.overwrite && ck.exists() {
        let what = match read_capped(&ck, u64::MAX >> 1)
            .ok()
            .map(|b| Checkpoint::parse(&b).map(|c| (c.step, c.settings.steps)))
        {
            Some(Ok((step, steps))) if step < steps => Some(format!(
                "an interrupted run's checkpoint (step {step} of {steps})"
            )),
            Some(Ok(_)) => None,
            Some(Err(e)) => Some(format!("a checkpoint that cannot be read ({e})")),
            None => Some("a checkpoint that cannot be read".to_string()),
        };
        if let Some(what) = what {
            return Err(RunError::WouldOverwrite { path: ck, what });
        }
    }
    Ok(Some(out))
}

/// [`run`] after [`preflight`] (whose guard the caller holds).
///
/// # Errors
/// As [`run`].
pub fn run_checked(cfg: &TrainConfig) -> Result<Report, RunError> {
    let mut run = prepare(cfg)?;
    let mut state = start_or_resume(cfg, &run)?;
    let start = state.step;
    let end = cfg.stop_after.map_or(cfg.steps, |s| s.min(cfg.steps));
    let seconds = train_steps(cfg, &mut run, &mut state, end)?;
    write_checkpoint(cfg, &run, &state)?;
    finish(cfg, &mut run, state, seconds, start)
}

/// Evaluates the full splits, samples names and writes `weights.bin` (unless the run stopped
/// early), and builds the report.
///
/// # Errors
/// [`RunError::Train`], [`RunError::Sample`], [`RunError::Io`].
pub fn finish(
    cfg: &TrainConfig,
    run: &mut Prepared,
    state: State,
    seconds: f64,
    start: u64,
) -> Result<Report, RunError> {
    let stopped_early = state.step < cfg.steps;
    let done = state.step - start;
    let p = state.params.view();
    let (mut train_loss, mut dev_loss, mut test_loss) = (None, None, None);
    let (mut int8_dev_loss, mut int8_test_loss) = (None, None);
    let mut samples = Vec::new();
    if !stopped_early {
        let b = run.shape.block();
        let cap = run.ws.capacity();
        let mut ctx: Vec<Index> = vec![0; cap * b];
        let mut tgt: Vec<Index> = vec![0; cap];
        let mut ws = run.ws.view();
        let mut loss = |items| ws.items_loss(&p, items, &mut ctx, &mut tgt);
        train_loss = Some(loss(run.corpus.train())?);
        dev_loss = Some(loss(run.corpus.dev())?);
        test_loss = Some(loss(run.corpus.test())?);
        samples = sample_names(
            cfg.kernels,
            &p,
            run.corpus.vocab().view(),
            cfg.seed.wrapping_add(10),
            cfg.samples,
        )?;
        let file = weights::to_bytes(&p, run.corpus.vocab().view());
        let int8 = if cfg.int8 {
            let werr = |err| RunError::Weights {
                path: PathBuf::from("weights.int8.bin"),
                err,
            };
            let q = charmlp::int8::quantize(&p, run.corpus.vocab().view()).map_err(werr)?;
            let qv = charmlp::int8::QuantView::parse(&q).map_err(werr)?;
            let mut scratch = charmlp::int8::QuantVecs::new(qv.shape());
            let mut loss = |items| {
                charmlp::int8::items_loss(cfg.kernels, &qv, items, &mut scratch.view())
                    .map(|l| l as f32)
            };
            int8_dev_loss = Some(loss(run.corpus.dev())?);
            int8_test_loss = Some(loss(run.corpus.test())?);
            Some(q)
        } else {
            None
        };
        if let Some(dir) = &cfg.out {
            write_atomic(&dir.join("weights.bin"), &file)?;
            if let Some(q) = int8 {
                write_atomic(&dir.join("weights.int8.bin"), &q)?;
            }
        }
    }
    let s = run.shape;
    let tags = tag_names(&samples, &run.corpus);
    let count = |t: SampleTag| tags.iter().filter(|&&x| x == t).count();
    Ok(Report {
        sample_counts: SampleCounts {
            train: count(SampleTag::Train),
            dev: count(SampleTag::Dev),
            test: count(SampleTag::Test),
            new: count(SampleTag::New),
        },
        sample_tags: tags,
        best_step: state.best.as_ref().map(|b| b.0),
        best_dev_sample_loss: state.best.as_ref().map(|b| b.1),
        dev_curve: state
            .metrics
            .iter()
            .filter_map(|m| m.dev_loss.map(|d| (m.step, d)))
            .collect(),
        block: s.block(),
        emb: s.emb(),
        hidden: s.hidden(),
        vocab_size: s.vocab(),
        batch: cfg.batch,
        steps: state.step,
        init: cfg.init.name(),
        schedule: cfg.schedule.name(),
        seed: cfg.seed,
        params: s.param_count(),
        seconds,
        us_per_step: if done > 0 {
            seconds * 1e6 / done as f64
        } else {
            0.0
        },
        train_loss,
        dev_loss,
        test_loss,
        int8_dev_loss,
        int8_test_loss,
        kernel: cfg.kernels.path().name(),
        samples,
        stopped_early,
        history: state.history,
    })
}

/// Where a sampled name comes from, as makemore reports it: a training, dev or test item, or new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleTag {
    /// An item of the training split.
    Train,
    /// An item of the dev split (and not of train).
    Dev,
    /// An item of the test split (and of neither other).
    Test,
    /// In no split.
    New,
}

impl SampleTag {
    /// `train`, `dev`, `test`, `new`.
    pub const fn name(self) -> &'static str {
        match self {
            SampleTag::Train => "train",
            SampleTag::Dev => "dev",
            SampleTag::Test => "test",
            SampleTag::New => "new",
        }
    }
}

/// How many samples fall in each [`SampleTag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct SampleCounts {
    /// In the training split.
    pub train: usize,
    /// In the dev split.
    pub dev: usize,
    /// In the test split.
    pub test: usize,
    /// New.
    pub new: usize,
}

/// Tags each name with the first split (train, dev, test) that holds it as an item, or new.
pub fn tag_names(names: &[String], corpus: &charmlp::data::Corpus) -> Vec<SampleTag> {
    use std::collections::HashSet;
    if names.is_empty() {
        return Vec::new();
    }
    let set = |items| {
        corpus
            .strings(items)
            .into_iter()
            .collect::<HashSet<String>>()
    };
    let (train, dev, test) = (set(corpus.train()), set(corpus.dev()), set(corpus.test()));
    names
        .iter()
        .map(|n| {
            if train.contains(n) {
                SampleTag::Train
            } else if dev.contains(n) {
                SampleTag::Dev
            } else if test.contains(n) {
                SampleTag::Test
            } else {
                SampleTag::New
            }
        })
        .collect()
}

/// `count` names sampled at temperature 1 with seed `seed`.
///
/// # Errors
/// [`RunError::Sample`].
pub fn sample_names(
    kernels: Kernels,
    p: &charmlp::ParamsView<'_>,
    vocab: charmlp::VocabView<'_>,
    seed: u64,
    count: usize,
) -> Result<Vec<String>, RunError> {
    let mut s = Sampler::new(
        *p,
        vocab,
        kernels,
        seed,
        SampleConfig::default(),
        SampleVecs::new(p.shape()),
    )?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut name = String::new();
        s.sample_with(|c| name.push(c))?;
        out.push(name);
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InitArg {
    Randn,
    Scaled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ScheduleArg {
    /// --lr until --lr-decay-at, then --lr-after.
    Step,
    /// Cosine from --lr down to --lr-after over the run.
    Cosine,
}

/// How the items are shuffled before the 80/10/10 split (`--split`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Fisher–Yates with Xoshiro256++ seeded by --split-seed.
    Charmlp,
    /// Python's `random.seed(SEED); random.shuffle(words)`, bit for bit (the lecture's split).
    Python,
}

impl SplitArg {
    /// The library's split mode.
    pub const fn mode(self) -> SplitMode {
        match self {
            SplitArg::Charmlp => SplitMode::Charmlp,
            SplitArg::Python => SplitMode::Python,
        }
    }
}

/// Train a character-level MLP (Bengio 2003 / makemore part 2) with manual gradients, on any
/// model shape.
#[derive(Parser, Debug, Clone)]
#[command(name = "train", version = crate::VERSION, long_version = crate::long_version())]
pub struct TrainArgs {
    /// Training text, one item per line, UTF-8 (`builtin:names`: the 32 257 US given names built
    /// into the tool, the same as data/names.txt in the repository).
    #[arg(long, default_value = crate::BUILTIN_DATA)]
    data: PathBuf,
    /// Refuse data files larger than this many bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
    max_data_bytes: u64,
    /// SGD steps.
    #[arg(long, default_value_t = 200_000)]
    steps: u64,
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lr: f32,
    /// Step at which the rate drops to --lr-after (default: half of --steps).
    #[arg(long)]
    lr_decay_at: Option<u64>,
    /// Rate after the decay (or the final rate of the cosine schedule).
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    lr_after: f32,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Step)]
    schedule: ScheduleArg,
    /// Seed of the initialization and of the minibatches.
    #[arg(long, default_value_t = 2_147_483_647)]
    seed: u64,
    /// Seed of the shuffle before the 80/10/10 split.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// How the items are shuffled before the split.
    #[arg(long, value_enum, default_value_t = SplitArg::Charmlp)]
    split: SplitArg,
    /// Initialization: `randn` (the lecture) or `scaled` (Kaiming W1, small W2).
    #[arg(long, value_enum, default_value_t = InitArg::Randn)]
    init: InitArg,
    /// Context length (1..=32).
    #[arg(long, default_value_t = 3)]
    block: usize,
    /// Embedding width (1..=65536).
    #[arg(long, default_value_t = 10)]
    emb: usize,
    /// Hidden width (1..=65536).
    #[arg(long, default_value_t = 200)]
    hidden: usize,
    /// Output directory for weights.bin, checkpoint.bin and plots.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw loss.svg and embedding.svg into --out (the loss curve with the dev curve).
    #[arg(long)]
    plot: bool,
    /// The plots' format.
    #[arg(long, value_enum, default_value_t = crate::plots::PlotFormat::Svg)]
    plot_format: crate::plots::PlotFormat,
    /// Continue from --out/checkpoint.bin (same flags as the interrupted run).
    #[arg(long)]
    resume: bool,
    /// Start over even if --out holds an interrupted run's checkpoint (it is replaced).
    #[arg(long, conflicts_with = "resume")]
    overwrite: bool,
    /// Checkpoint every N steps (0: at the end only).
    #[arg(long, default_value_t = 10_000)]
    checkpoint_every: u64,
    /// Stop after N steps as if interrupted (the checkpoint lets --resume finish the run).
    #[arg(long)]
    stop_after: Option<u64>,
    /// Evaluate the dev loss on a fixed subsample every N steps (0: never); keeps the best
    /// parameters as --out/best.bin and logs to --out/metrics.jsonl.
    #[arg(long, default_value_t = 500)]
    eval_every: u64,
    /// Dev pairs in that subsample (makemore: 10 batches of 100).
    #[arg(long, default_value_t = 1000)]
    eval_rows: usize,
    /// Also log the mean minibatch loss to metrics.jsonl every N steps (0: evaluations only).
    #[arg(long, default_value_t = 100)]
    metrics_every: u64,
    /// Threads for large matmuls (those of ≥ 2²⁰ multiply-adds; the canonical model's are
    /// smaller and stay on one). Default: every core. The result does not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    threads: Option<u64>,
    /// Names to sample at the end.
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// Also write `weights.int8.bin`, the int8 quantization of the weights (as `charmlp convert
    /// --quantize int8`).
    #[arg(long)]
    int8: bool,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
    /// Evaluate these weights on --data instead of training: mean loss over every pair and over
    /// the --split-seed train/dev/test splits (with --json: written there).
    #[arg(long, value_name = "WEIGHTS")]
    eval: Option<PathBuf>,
}

impl TrainArgs {
    /// The run these flags describe.
    pub fn config(&self) -> TrainConfig {
        let decay_at = self.lr_decay_at.unwrap_or(self.steps / 2);
        TrainConfig {
            data: self.data.clone(),
            max_data_bytes: self.max_data_bytes,
            steps: self.steps,
            batch: self.batch,
            schedule: match self.schedule {
                ScheduleArg::Step => Schedule::Step {
                    lr: self.lr,
                    decay_at,
                    lr_after: self.lr_after,
                },
                ScheduleArg::Cosine => Schedule::Cosine {
                    lr: self.lr,
                    lr_min: self.lr_after,
                    steps: self.steps,
                },
            },
            seed: self.seed,
            split_seed: self.split_seed,
            split_mode: self.split.mode(),
            init: match self.init {
                InitArg::Randn => Init::Randn,
                InitArg::Scaled => Init::Scaled,
            },
            block: self.block,
            emb: self.emb,
            hidden: self.hidden,
            out: Some(self.out.clone()),
            checkpoint_every: self.checkpoint_every,
            resume: self.resume,
            overwrite: self.overwrite,
            stop_after: self.stop_after,
            samples: self.samples,
            int8: self.int8,
            progress: !self.quiet,
            keep_history: true,
            eval_every: self.eval_every,
            eval_rows: self.eval_rows,
            metrics_every: self.metrics_every,
            kernels: Kernels::best().with_threads(self.threads.map_or_else(
                || std::thread::available_parallelism().map_or(1, usize::from),
                |t| t as usize,
            )),
        }
    }
}

/// `train`: trains (or, with `--eval`, evaluates) and prints the report.
pub fn main(a: &TrainArgs) -> ExitCode {
    if let Some(w) = &a.eval {
        let opts = crate::eval::EvalArgs::for_train(
            w.clone(),
            a.data.clone(),
            a.split_seed,
            a.json.clone(),
        );
        return crate::eval::main(&opts);
    }
    let cfg = a.config();
    if !a.quiet {
        eprintln!(
            "training block={} emb={} hidden={} batch={} steps={} init={} on {} (kernels: {})",
            a.block,
            a.emb,
            a.hidden,
            a.batch,
            a.steps,
            cfg.init.name(),
            a.data.display(),
            cfg.kernels.path().name()
        );
    }
    let out = match preflight(&cfg, a.json.as_deref()) {
        Ok(out) => out,
        Err(e) => return crate::fail(&e),
    };
    let r = match run_checked(&cfg) {
        Ok(r) => r,
        Err(e) => return crate::fail(&e),
    };
    if r.stopped_early {
        eprintln!(
            "stopped after step {} (checkpoint in {}); continue with --resume",
            r.steps,
            a.out.display()
        );
        return ExitCode::SUCCESS;
    }
    print_report(&r, &a.out, a.json.as_deref() == Some(Path::new("-")));
    if a.plot {
        if let Err(e) = crate::plots::write(&r, &a.out, a.plot_format) {
            return crate::fail(&e);
        }
        eprintln!(
            "plots: {0}/loss.{1} {0}/embedding.{1}",
            a.out.display(),
            a.plot_format.ext()
        );
    }
    if let Some(p) = &a.json
        && let Err(e) = write_output(p, (r.to_json() + "\n").as_bytes())
    {
        return crate::fail(&e);
    }
    drop(out);
    ExitCode::SUCCESS
}

/// The `include_weights!` line for a firmware crate that bakes this run's weights file: the
/// type names the file's shape, so a file of another shape later is a compile error.
pub fn include_line(r: &Report) -> String {
    format!(
        "charmlp::include_weights!(pub MODEL: Model<{}, {}, {}, {}> = \"../weights.bin\");",
        r.vocab_size, r.block, r.emb, r.hidden
    )
}

/// The human-readable report, on stdout — or on stderr when stdout carries the JSON
/// (`--json -`).
fn print_report(r: &Report, out: &Path, to_stderr: bool) {
    let f = |x: Option<f32>| x.map_or_else(|| "n/a".to_string(), |x| format!("{x:.4}"));
    let mut text = format!(
        "V={} block={} emb={} hidden={} params={} steps={} kernel={}\n",
        r.vocab_size, r.block, r.emb, r.hidden, r.params, r.steps, r.kernel
    );
    text += &format!("time {:.2} s, {:.2} µs/step\n", r.seconds, r.us_per_step);
    text += &format!(
        "train {}  dev {}  test {}\n",
        f(r.train_loss),
        f(r.dev_loss),
        f(r.test_loss)
    );
    if let (Some(d), Some(t)) = (r.int8_dev_loss, r.int8_test_loss) {
        text += &format!("int8 (weights.int8.bin): dev {d:.4}  test {t:.4}\n");
    }
    text += &format!("weights: {}\n", out.join("weights.bin").display());
    text += &format!(
        "firmware (copy weights.bin next to your crate's src/): {}\n",
        include_line(r)
    );
    if r.int8_dev_loss.is_some() {
        text += &format!(
            "firmware, int8 (the same line, the same code): {}\n",
            include_line(r).replace("weights.bin", "weights.int8.bin")
        );
    }
    if let (Some(step), Some(l)) = (r.best_step, r.best_dev_sample_loss) {
        text += &format!(
            "best by dev loss: step {step} ({l:.4} on the subsample): {}\n",
            out.join("best.bin").display()
        );
    }
    let c = r.sample_counts;
    text += &format!(
        "samples ({} in train, {} in dev, {} in test, {} new):\n",
        c.train, c.dev, c.test, c.new
    );
    for (s, t) in r.samples.iter().zip(&r.sample_tags) {
        text += &format!("  {s:<20} {}\n", t.name());
    }
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}
