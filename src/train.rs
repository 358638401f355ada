//! One SGD step — forward → loss → backward → update — over a fixed-size workspace, the
//! learning-rate schedule, and deterministic minibatch sampling.

use charmlp_kernels::Kernels;
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::SplitMix64;

use crate::backward::{BackwardScratch, backward};
use crate::error::TrainError;
use crate::forward::{Activations, forward_batch};
use crate::params::{Params, ParamsRef};

/// Everything a training step needs besides the parameters, for batches of up to `N` rows.
///
/// This is large (the gradients are a second copy of the parameters); on a host keep it on the
/// heap or on a thread with a big stack.
#[derive(Debug, Clone)]
pub struct Workspace<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
    const N: usize,
> {
    kernels: Kernels,
    steps: u64,
    act: Activations<V, IN, H, N>,
    dlogits: [[f32; V]; N],
    scratch: BackwardScratch<IN, H, N>,
    grads: Params<V, B, E, IN, H>,
}

impl<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
    const N: usize,
> Workspace<V, B, E, IN, H, N>
{
    /// A workspace that runs `kernels`.
    pub fn new(kernels: Kernels) -> Self {
        let () = Params::<V, B, E, IN, H>::SHAPE_OK;
        Workspace {
            kernels,
            steps: 0,
            act: Activations::new(),
            dlogits: [[0.0; V]; N],
            scratch: BackwardScratch::new(),
            grads: Params::zeros(),
        }
    }

    /// Steps applied so far (restored from a checkpoint with [`Workspace::set_steps`]).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Sets the step counter, e.g. when resuming.
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// The kernels this workspace runs.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The gradients of the last step.
    pub fn grads(&self) -> &Params<V, B, E, IN, H> {
        &self.grads
    }

    /// Forward and backward for one batch without updating: returns the mean loss and leaves the
    /// gradients in [`Workspace::grads`].
    ///
    /// # Errors
    /// [`TrainError::BatchTooLarge`], [`TrainError::Batch`] (empty batch, rows that disagree, an
    /// index outside the vocabulary).
    pub fn loss_and_grad(
        &mut self,
        p: &Params<V, B, E, IN, H>,
        ctx: &[[u8; B]],
        targets: &[u8],
    ) -> Result<f32, TrainError> {
        let n = ctx.len();
        if n > N {
            return Err(TrainError::BatchTooLarge {
                rows: n,
                capacity: N,
            });
        }
        let k = self.kernels;
        forward_batch(k, p.view(), ctx, &mut self.act)?;
        let loss =
            k.cross_entropy_rows(&self.act.logits[..n], targets, Some(&mut self.dlogits[..n]))?;
        backward(
            k,
            p.view(),
            ctx,
            &self.act,
            &self.dlogits[..n],
            &mut self.scratch,
            &mut self.grads,
        )?;
        Ok(loss)
    }

    /// One SGD step on a batch: forward, mean cross-entropy, manual backward, `p −= lr·g`.
    /// Returns the batch loss (before the update).
    ///
    /// # Errors
    /// [`TrainError::NonFiniteLoss`] if the loss is NaN or infinite — the parameters are then
    /// left untouched — and the errors of [`Workspace::loss_and_grad`].
    pub fn train_step(
        &mut self,
        p: &mut Params<V, B, E, IN, H>,
        ctx: &[[u8; B]],
        targets: &[u8],
        lr: f32,
    ) -> Result<f32, TrainError> {
        let loss = self.loss_and_grad(p, ctx, targets)?;
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                step: self.steps,
                loss,
            });
        }
        let k = self.kernels;
        for (pt, gt) in p.tensors_mut().into_iter().zip(self.grads.tensors()) {
            k.sgd(pt, gt, lr);
        }
        self.steps += 1;
        Ok(loss)
    }

    /// Mean cross-entropy over any number of rows, in chunks of `N` (no gradients). Chunk means
    /// are combined in f64, weighted by their row counts.
    ///
    /// # Errors
    /// [`TrainError::Batch`] for no rows, rows that disagree, or an index outside the vocabulary.
    pub fn loss(
        &mut self,
        p: ParamsRef<'_, V, B, E, IN, H>,
        ctx: &[[u8; B]],
        targets: &[u8],
    ) -> Result<f32, TrainError> {
        if ctx.is_empty() || ctx.len() != targets.len() {
            return Err(TrainError::Batch(
                charmlp_kernels::KernelError::RowMismatch {
                    expected: ctx.len(),
                    found: targets.len(),
                },
            ));
        }
        let k = self.kernels;
        let mut total = 0.0f64;
        for (c, t) in ctx.chunks(N).zip(targets.chunks(N)) {
            forward_batch(k, p, c, &mut self.act)?;
            let l = k.cross_entropy_rows(&self.act.logits[..c.len()], t, None)?;
            total += f64::from(l) * c.len() as f64;
        }
        Ok((total / ctx.len() as f64) as f32)
    }
}

/// The learning rate as a function of the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// `lr` before `decay_at`, `lr_after` from it on (the lecture: 0.1, then 0.01 from half).
    Step {
        /// Initial rate.
        lr: f32,
        /// First step at the lower rate.
        decay_at: u64,
        /// Rate from `decay_at` on.
        lr_after: f32,
    },
    /// Cosine from `lr` down to `lr_min` over `steps`.
    Cosine {
        /// Initial rate.
        lr: f32,
        /// Final rate.
        lr_min: f32,
        /// Length of the run.
        steps: u64,
    },
}

impl Schedule {
    /// The rate at `step`.
    pub fn lr(&self, step: u64) -> f32 {
        match *self {
            Schedule::Step {
                lr,
                decay_at,
                lr_after,
            } => {
                if step < decay_at {
                    lr
                } else {
                    lr_after
                }
            }
            Schedule::Cosine { lr, lr_min, steps } => {
                let t = if steps == 0 {
                    1.0
                } else {
                    (step.min(steps) as f64) / steps as f64
                };
                let c = 0.5 * (1.0 + libm::cos(core::f64::consts::PI * t));
                (f64::from(lr_min) + (f64::from(lr) - f64::from(lr_min)) * c) as f32
            }
        }
    }
}

/// Fills `out_ctx`/`out_targets` with rows drawn uniformly with replacement from `(xs, ys)`.
///
/// The draw depends only on `(seed, step)`, not on earlier draws, so a run resumed at step `k`
/// sees exactly the batches the uninterrupted run saw. Indices come from `SplitMix64` seeded
/// with `seed ⊕ step·φ`, mapped to `[0, len)` by a 64×64→128-bit multiply (bias < len/2⁶⁴).
/// Nothing is drawn when `xs` is empty or the slices disagree in length.
pub fn sample_batch<const B: usize>(
    seed: u64,
    step: u64,
    xs: &[[u8; B]],
    ys: &[u8],
    out_ctx: &mut [[u8; B]],
    out_targets: &mut [u8],
) {
    let len = xs.len().min(ys.len()) as u64;
    if len == 0 {
        return;
    }
    let mut rng = SplitMix64::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for (c, t) in out_ctx.iter_mut().zip(out_targets.iter_mut()) {
        let i = ((u128::from(rng.next_u64()) * u128::from(len)) >> 64) as usize;
        *c = xs[i];
        *t = ys[i];
    }
}
