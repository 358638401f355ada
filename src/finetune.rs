//! Fine-tuning a trained model on a short list, on a device or on the host, with the same code
//! and so the same bits: the loss over the list and a sample before, SGD steps on minibatches
//! drawn from the list, the loss and a sample after, and the CRC of the weights file the
//! result would be.
//!
//! No heap: the caller lends the workspace (a [`crate::LeanWorkspace`] in firmware, whose step
//! applies each gradient as it is produced), the batch buffers and the sampler's scratch. Every
//! line of the report goes through `out` as `core::fmt::Arguments`, so a device prints over
//! semihosting what the host prints on stdout, byte for byte.

use core::fmt;

use charmlp_kernels::{Index, Kernels};

use crate::batch::Items;
use crate::error::Error;
use crate::params::ParamsViewMut;
use crate::sample::{SampleConfig, SampleStorage, Sampler};
use crate::train::WorkspaceMut;
use crate::vocab::VocabView;

/// What a fine-tuning run does.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct FineTune {
    /// SGD steps.
    pub steps: u64,
    /// Learning rate (constant).
    pub lr: f32,
    /// Seed of the minibatch draws (`Items::sample_batch(seed, step, …)`).
    pub seed: u64,
    /// Print the minibatch loss every this many steps (0: never).
    pub report_every: u64,
    /// Names sampled before and after.
    pub samples: usize,
    /// Seed of those samples (the same names before and after, up to what training changed).
    pub sample_seed: u64,
    /// The names counted are those that start with this character (the list's, typically).
    pub starts_with: char,
}

impl FineTune {
    /// The scenario of the README: 200 samples, reports every 25 steps.
    pub const fn new(steps: u64, lr: f32, seed: u64, starts_with: char) -> Self {
        FineTune {
            steps,
            lr,
            seed,
            report_every: 25,
            samples: 200,
            sample_seed: 7,
            starts_with,
        }
    }
}

/// What a fine-tuning run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Outcome {
    /// Mean loss over every pair of the list, before.
    pub loss_before: f32,
    /// The same after.
    pub loss_after: f32,
    /// Samples (of [`FineTune::samples`]) that start with [`FineTune::starts_with`], before.
    pub share_before: usize,
    /// The same after.
    pub share_after: usize,
    /// The CRC-32 of the weights file of the result ([`crate::weights::file_crc`]).
    pub crc: u32,
}

/// Samples `n` names with `seed` and calls `each` with every one (as `&str`, at most 64 bytes
/// kept per name); returns how many start with `first`.
#[allow(clippy::too_many_arguments)]
fn sample_names<S: SampleStorage>(
    p: &ParamsViewMut<'_>,
    vocab: VocabView<'_>,
    kernels: Kernels,
    seed: u64,
    n: usize,
    first: char,
    scratch: S,
    mut each: impl FnMut(&str),
) -> Result<usize, Error> {
    let mut s = Sampler::new(
        p.as_view(),
        vocab,
        kernels,
        seed,
        SampleConfig::default(),
        scratch,
    )?;
    let mut count = 0;
    for _ in 0..n {
        let mut name: heapless::String<64> = heapless::String::new();
        s.sample_with(|c| {
            let _ = name.push(c);
        })?;
        if name.starts_with(first) {
            count += 1;
        }
        each(&name);
    }
    Ok(count)
}

/// Fine-tunes `p` on `items` per `cfg` with `ws` (batches of its capacity), printing the report
/// through `out`: the list's loss and the share of samples starting with
/// [`FineTune::starts_with`] before and after, the minibatch loss every
/// [`FineTune::report_every`] steps, the CRC of the resulting weights file, and the samples
/// after. `ctx` and `targets` hold a batch (`B` indices per row of the capacity, and one target
/// per row); `scratch` is the sampler's.
///
/// # Errors
/// A diverging step ([`crate::TrainError::NonFiniteLoss`]), buffers of the wrong sizes, or an
/// empty list.
#[allow(clippy::too_many_arguments)]
pub fn fine_tune<S: SampleStorage>(
    ws: &mut WorkspaceMut<'_>,
    p: &mut ParamsViewMut<'_>,
    vocab: VocabView<'_>,
    items: Items<'_>,
    cfg: &FineTune,
    ctx: &mut [Index],
    targets: &mut [Index],
    scratch: &mut S,
    mut out: impl FnMut(fmt::Arguments<'_>),
) -> Result<Outcome, Error> {
    let k = ws.kernels();
    let b = p.shape().block();
    let rows = ws.capacity().min(targets.len()).min(ctx.len() / b.max(1));
    let (ctx, targets) = (&mut ctx[..rows * b], &mut targets[..rows]);
    let first = cfg.starts_with;
    out(format_args!(
        "fine-tuning on {} pairs: batch {rows}, lr {}, {} steps, seed {}\n",
        items.pairs(),
        cfg.lr,
        cfg.steps,
        cfg.seed
    ));
    let loss_before = ws.items_loss(&p.as_view(), items, ctx, targets)?;
    let share_before = sample_names(
        p,
        vocab,
        k,
        cfg.sample_seed,
        cfg.samples,
        first,
        &mut *scratch,
        |_| {},
    )?;
    out(format_args!(
        "before: loss over the list {loss_before:.4}; {share_before} of {} samples start with {first:?}\n",
        cfg.samples
    ));
    for step in 0..cfg.steps {
        items.sample_batch(cfg.seed, step, ctx, targets);
        let loss = ws.train_step(p, ctx, targets, cfg.lr, step)?;
        if cfg.report_every > 0 && (step + 1).is_multiple_of(cfg.report_every) {
            out(format_args!("step {}: batch loss {loss:.4}\n", step + 1));
        }
    }
    let loss_after = ws.items_loss(&p.as_view(), items, ctx, targets)?;
    let crc = crate::weights::file_crc(&p.as_view(), vocab);
    out(format_args!("samples after:\n"));
    let share_after = sample_names(
        p,
        vocab,
        k,
        cfg.sample_seed,
        cfg.samples,
        first,
        &mut *scratch,
        |n| out(format_args!("  {n}\n")),
    )?;
    out(format_args!(
        "after: loss over the list {loss_after:.4}; {share_after} of {} samples start with {first:?}\n",
        cfg.samples
    ));
    out(format_args!("weights file CRC-32: {crc:08x}\n"));
    Ok(Outcome {
        loss_before,
        loss_after,
        share_before,
        share_after,
        crc,
    })
}
