//! (std) Evaluation without training: the mean loss of a weights file over a dataset — over
//! every (context, target) pair, and over the train/dev/test splits the trainer would make
//! with the same split seed.

use std::boxed::Box;
use std::fmt::Write as _;
use std::format;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;
use std::{fs, io};

use crate::data::{Corpus, Pairs, Splits};
use crate::params::Params;
use crate::train::Workspace;
use crate::trainer::{MAX_BATCH, RunError, json_f32};
use crate::weights::{self, Weights};
use crate::{Kernels, Vocab};

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq)]
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
    /// Mean loss over the dev split (`None` if the split is empty).
    pub dev_loss: Option<f32>,
    /// Mean loss over the test split (`None` if the split is empty).
    pub test_loss: Option<f32>,
    /// The kernel path that ran.
    pub kernel: &'static str,
}

impl EvalReport {
    /// One JSON object with every field; an empty split's loss is `null`.
    pub fn to_json(&self) -> String {
        let opt = |x: Option<f32>| x.map_or_else(|| String::from("null"), json_f32);
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"vocab_size\":{},\"symbols\":{},\"block\":{},\"emb\":{},\"hidden\":{},\"params\":{},\"items\":{},\"pairs\":{},\"split_seed\":{},\"all_loss\":{},\"train_loss\":{},\"dev_loss\":{},\"test_loss\":{},\"kernel\":\"{}\"}}",
            self.vocab_size,
            self.symbols,
            self.block,
            self.emb,
            self.hidden,
            self.params,
            self.items,
            self.pairs,
            self.split_seed,
            json_f32(self.all_loss),
            opt(self.train_loss),
            opt(self.dev_loss),
            opt(self.test_loss),
            self.kernel
        );
        s
    }
}

/// Evaluates the weights file `weights` on the text file `data` (one item per line).
///
/// The model's shape comes from the weights header and must be a compiled instantiation
/// ([`crate::for_each_model!`]); the vocabulary comes from the weights file, and every
/// character of the data must be in it. The splits are the trainer's: items shuffled with
/// `split_seed`, then 80/10/10. Losses are computed with [`Workspace::loss`] in chunks of
/// [`MAX_BATCH`] rows, as the trainer's report does. Runs on a thread with a large stack.
///
/// # Errors
/// [`RunError::Io`] for an unreadable file, [`RunError::Weights`] for an invalid weights file,
/// [`RunError::NoModel`] for a shape that is not compiled in, [`RunError::Data`] for a bad
/// data file, [`RunError::Vocab`] for a character outside the weights' vocabulary
/// ([`crate::VocabError::Unknown`]) or a `.` inside an item
/// ([`crate::VocabError::ReservedSymbol`]).
pub fn evaluate(weights: &Path, data: &Path, split_seed: u64) -> Result<EvalReport, RunError> {
    let (weights, data) = (weights.to_path_buf(), data.to_path_buf());
    std::thread::Builder::new()
        .name("charmlp-eval".into())
        .stack_size(64 << 20)
        .spawn(move || evaluate_here(&weights, &data, split_seed))
        .map_err(|err| RunError::Io {
            path: PathBuf::from("<thread>"),
            err,
        })?
        .join()
        .unwrap_or_else(|_| Err(RunError::Config("the evaluation thread panicked".into())))
}

fn read(path: &Path) -> Result<Vec<u8>, RunError> {
    fs::read(path).map_err(|err: io::Error| RunError::Io {
        path: path.to_path_buf(),
        err,
    })
}

fn evaluate_here(weights: &Path, data: &Path, split_seed: u64) -> Result<EvalReport, RunError> {
    let wbytes = read(weights)?;
    let h = weights::read_header(&wbytes).map_err(RunError::Weights)?;
    let corpus = Corpus::parse(&read(data)?)?;
    // A '.' inside an item would silently encode as the terminator.
    corpus.symbol_count()?;
    let (v, b, e, hd) = (h.v as usize, h.b as usize, h.e as usize, h.h as usize);
    macro_rules! dispatch {
        ($(($mv:literal, $mb:literal, $me:literal, $mh:literal)),* $(,)?) => {
            match (v, b, e, hd) {
                $(($mv, $mb, $me, $mh) => eval_model::<$mv, $mb, $me, { $mb * $me }, $mh>(&wbytes, &corpus, split_seed),)*
                _ => Err(RunError::NoModel {
                    block: b,
                    emb: e,
                    hidden: hd,
                    symbols: h.symbols as usize,
                    available: crate::trainer::available_models()
                        .iter()
                        .map(|m| format!("{m:?}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                }),
            }
        };
    }
    crate::for_each_model!(dispatch)
}

fn eval_model<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>(
    bytes: &[u8],
    corpus: &Corpus,
    split_seed: u64,
) -> Result<EvalReport, RunError> {
    let w = Weights::<V, B, E, IN, H>::parse(bytes).map_err(RunError::Weights)?;
    let vocab: Vocab<V> = *w.vocab();
    let mut params: Box<Params<V, B, E, IN, H>> = Box::default();
    w.copy_into(&mut params);
    let all: Pairs<B> = Pairs::build(&corpus.items, &vocab)?;
    let splits: Splits<B> = Splits::new(&corpus.items, &vocab, split_seed)?;
    let kernels = Kernels::best();
    let mut ws: Box<Workspace<V, B, E, IN, H, MAX_BATCH>> = Box::new(Workspace::new(kernels));
    let p = params.view();
    let all_loss = ws.loss(p, &all.x, &all.y)?;
    let mut split = |s: &Pairs<B>| -> Result<Option<f32>, RunError> {
        if s.is_empty() {
            Ok(None)
        } else {
            Ok(Some(ws.loss(p, &s.x, &s.y)?))
        }
    };
    let (train_loss, dev_loss, test_loss) = (
        split(&splits.train)?,
        split(&splits.dev)?,
        split(&splits.test)?,
    );
    Ok(EvalReport {
        vocab_size: V,
        symbols: vocab.len(),
        block: B,
        emb: E,
        hidden: H,
        params: Params::<V, B, E, IN, H>::COUNT,
        items: corpus.items.len(),
        pairs: all.len(),
        split_seed,
        all_loss,
        train_loss,
        dev_loss,
        test_loss,
        kernel: kernels.path().name(),
    })
}
