//! Evaluation without training: the mean loss of a weights file over a dataset — over every
//! (context, target) pair, and over the train/dev/test splits the trainer would make with the
//! same split seed and mode.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use charmlp::batch::Items;
use charmlp::checkpoint::SplitMode;
use charmlp::data::{DEFAULT_MAX_BYTES, LoadOptions};
use charmlp::int8::{QuantVecs, QuantView};
use charmlp::{Index, Kernels, ParamsBuf, Shape, VocabBuf, WeightsView, WorkspaceBuf};
use clap::Parser;
use serde::Serialize;

use crate::error::RunError;
use crate::fsio::{check_output_file, read_capped, write_output};
use crate::train::EVAL_ROWS;

/// The largest weights file read.
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 34;

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// V (classes).
    pub vocab_size: usize,
    /// Symbols in the weights' vocabulary.
    pub symbols: usize,
    /// B.
    pub block: usize,
    /// E.
    pub emb: usize,
    /// H.
    pub hidden: usize,
    /// Parameter count.
    pub params: usize,
    /// The file's weights: `f32`, or `int8` (a quantized model, format version 2).
    pub dtype: &'static str,
    /// Items (non-empty lines) in the data file.
    pub items: usize,
    /// (context, target) pairs in the data file.
    pub pairs: usize,
    /// Seed of the item shuffle before the 80/10/10 split.
    pub split_seed: u64,
    /// Mean loss over every pair of the file.
    pub all_loss: f32,
    /// Mean loss over the training split (`None` if the split is empty).
    pub train_loss: Option<f32>,
    /// Mean loss over the dev split.
    pub dev_loss: Option<f32>,
    /// Mean loss over the test split.
    pub test_loss: Option<f32>,
    /// The kernel path that ran.
    pub kernel: &'static str,
}

/// Evaluate a weights file on a dataset: the mean loss over every pair and over the
/// train/dev/test splits the trainer makes.
#[derive(Parser, Debug, Clone)]
#[command(name = "eval", version = crate::VERSION, long_version = crate::long_version())]
pub struct EvalArgs {
    /// The weights file.
    pub weights: PathBuf,
    /// The text, one item per line; every character must be in the weights' vocabulary
    /// (`builtin:names`: the names built into the tool).
    #[arg(long, default_value = crate::BUILTIN_DATA)]
    pub data: PathBuf,
    /// Seed of the shuffle before the 80/10/10 split (as in training).
    #[arg(long, default_value_t = 42)]
    pub split_seed: u64,
    /// Shuffle as Python's `random.shuffle` (the trainer's `--split python`).
    #[arg(long)]
    pub python_split: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl EvalArgs {
    /// The arguments of `train --eval`.
    pub fn for_train(
        weights: PathBuf,
        data: PathBuf,
        split_seed: u64,
        json: Option<PathBuf>,
    ) -> Self {
        EvalArgs {
            weights,
            data,
            split_seed,
            python_split: false,
            json,
        }
    }
}

/// Evaluates `a.weights` on `a.data`.
///
/// # Errors
/// [`RunError::Io`], [`RunError::Weights`], [`RunError::Data`] (a character outside the
/// weights' vocabulary names its line), [`RunError::Shape`], [`RunError::Train`].
pub fn evaluate(a: &EvalArgs) -> Result<EvalReport, RunError> {
    let bytes = read_capped(&a.weights, MAX_WEIGHTS_BYTES)?;
    let werr = |err| RunError::Weights {
        path: a.weights.clone(),
        err,
    };
    let kernels = Kernels::best();
    if charmlp::int8::is_int8(&bytes) {
        let q = QuantView::parse(&bytes).map_err(werr)?;
        let vocab = VocabBuf::from_symbols(q.vocab_str().chars())
            .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
        let mut scratch = QuantVecs::new(q.shape());
        return report(a, q.shape(), vocab.view(), "int8", kernels, |items| {
            Ok(charmlp::int8::items_loss(kernels, &q, items, &mut scratch.view())? as f32)
        });
    }
    let w = WeightsView::parse(&bytes).map_err(werr)?;
    let vocab = VocabBuf::from_symbols(w.vocab_str().chars())
        .map_err(|_| werr(charmlp::WeightsError::MissingTerminator))?;
    let mut p = ParamsBuf::zeros(w.shape())?;
    w.copy_params(&mut p.view_mut()).map_err(werr)?;
    let s = w.shape();
    let mut ws = WorkspaceBuf::new(kernels, s, EVAL_ROWS)?;
    let mut ctx: Vec<Index> = vec![0; EVAL_ROWS * s.block()];
    let mut tgt: Vec<Index> = vec![0; EVAL_ROWS];
    let view = p.view();
    let mut wv = ws.view();
    report(a, s, vocab.view(), "f32", kernels, |items| {
        Ok(wv.items_loss(&view, items, &mut ctx, &mut tgt)?)
    })
}

/// Loads `a.data` for `vocab` and measures `loss` on every pair and on each split.
fn report(
    a: &EvalArgs,
    s: Shape,
    vocab: charmlp::VocabView<'_>,
    dtype: &'static str,
    kernels: Kernels,
    mut loss: impl FnMut(Items<'_>) -> Result<f32, RunError>,
) -> Result<EvalReport, RunError> {
    let opts = LoadOptions {
        max_bytes: DEFAULT_MAX_BYTES,
        split_mode: if a.python_split {
            SplitMode::Python
        } else {
            SplitMode::Charmlp
        },
        split_seed: a.split_seed,
    };
    let corpus = crate::load_corpus(&a.data, Some(vocab), &opts).map_err(|err| RunError::Data {
        path: a.data.clone(),
        err,
    })?;
    let mut loss = |items: Items<'_>| -> Result<Option<f32>, RunError> {
        if items.is_empty() {
            return Ok(None);
        }
        loss(items).map(Some)
    };
    let all_loss = loss(corpus.all())?.unwrap_or(f32::NAN);
    let (train_loss, dev_loss, test_loss) = (
        loss(corpus.train())?,
        loss(corpus.dev())?,
        loss(corpus.test())?,
    );
    Ok(EvalReport {
        vocab_size: s.vocab(),
        symbols: vocab.len(),
        block: s.block(),
        emb: s.emb(),
        hidden: s.hidden(),
        params: s.param_count(),
        dtype,
        items: corpus.items(),
        pairs: corpus.all().pairs(),
        split_seed: a.split_seed,
        all_loss,
        train_loss,
        dev_loss,
        test_loss,
        kernel: kernels.path().name(),
    })
}

/// `eval`: prints the losses (and writes `--json`).
pub fn main(a: &EvalArgs) -> ExitCode {
    if let Some(p) = &a.json
        && let Err(e) = check_output_file(p)
    {
        return crate::fail(&e);
    }
    let r = match evaluate(a) {
        Ok(r) => r,
        Err(e) => return crate::fail(&e),
    };
    let f = |x: Option<f32>| x.map_or_else(|| "n/a".into(), |x| format!("{x:.4}"));
    let text = format!(
        "V={} block={} emb={} hidden={} {} on {} ({} items, {} pairs, split seed {})\nall {:.4}  train {}  dev {}  test {}\n",
        r.vocab_size,
        r.block,
        r.emb,
        r.hidden,
        r.dtype,
        a.data.display(),
        r.items,
        r.pairs,
        r.split_seed,
        r.all_loss,
        f(r.train_loss),
        f(r.dev_loss),
        f(r.test_loss)
    );
    // With `--json -` the JSON owns stdout and the summary goes to stderr.
    if a.json.as_deref() == Some(Path::new("-")) {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    if let Some(p) = &a.json {
        let json = serde_json::to_string(&r).unwrap_or_default() + "\n";
        if let Err(e) = write_output(p, json.as_bytes()) {
            return crate::fail(&e);
        }
    }
    ExitCode::SUCCESS
}
