//! One SGD step — forward → loss → backward → update — over a workspace, and the learning-rate
//! schedule.
//!
//! The step is written once, against a [`WorkspaceMut`] (the buffers as slices, their lengths
//! checked when it is made). Two owners hand it out:
//!
//! * [`Workspace<V, B, E, IN, H, N>`](Workspace) — fixed-size arrays for batches of up to `N`
//!   rows, no heap (firmware);
//! * `WorkspaceBuf` (feature `std`) — one allocation for any shape and batch capacity chosen at
//!   run time.
//!
//! Both keep the count of steps applied, which names the step of a diverging loss.

use charmlp_kernels::{Index, KernelError, Kernels, Mat, MatMut};

use crate::backward::{BackwardBufs, backward, backward_sgd};
use crate::error::TrainError;
use crate::forward::{Activations, forward, rows_of};
use crate::params::{Params, ParamsView, ParamsViewMut, const_shape};
use crate::shape::{Shape, ShapeError};

/// The buffers of a training step for batches of up to `capacity` rows, borrowed.
#[derive(Debug)]
pub struct WorkspaceMut<'a> {
    kernels: Kernels,
    capacity: usize,
    emb: &'a mut [f32],
    h: &'a mut [f32],
    logits: &'a mut [f32],
    dlogits: &'a mut [f32],
    dpre: &'a mut [f32],
    demb: &'a mut [f32],
    shape: Shape,
    /// The gradients of [`WorkspaceMut::loss_and_grad`]; none in a lean workspace (the step
    /// applies each gradient as it is produced and needs no buffer for them).
    grads: Option<ParamsViewMut<'a>>,
}

/// The lengths of a workspace's activation buffers for `capacity` rows of `shape`:
/// `emb`, `h`, `logits`, `dlogits`, `dpre`, `demb` (in floats). With the gradients (one more
/// [`Shape::param_count`]) this is a workspace's whole size.
pub const fn workspace_lens(shape: Shape, capacity: usize) -> [usize; 6] {
    let (inp, h, v) = (shape.input(), shape.hidden(), shape.vocab());
    [
        capacity * inp,
        capacity * h,
        capacity * v,
        capacity * v,
        capacity * h,
        capacity * inp,
    ]
}

/// A workspace's buffers, in the order of [`workspace_lens`].
type Buffers<'a> = [&'a mut [f32]; 6];

impl<'a> WorkspaceMut<'a> {
    /// A workspace over caller-owned buffers for batches of up to `capacity` rows of
    /// `grads.shape()`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming the first buffer whose length is not
    /// [`workspace_lens`]`(shape, capacity)`.
    pub fn new(
        kernels: Kernels,
        capacity: usize,
        buffers: Buffers<'a>,
        grads: ParamsViewMut<'a>,
    ) -> Result<Self, ShapeError> {
        let shape = grads.shape();
        Self::from_buffers(kernels, capacity, shape, buffers, Some(grads))
    }

    /// A workspace without gradient buffers (see [`LeanWorkspace`]): it trains
    /// ([`WorkspaceMut::train_step`] applies each gradient as it is produced) but cannot
    /// return gradients ([`WorkspaceMut::loss_and_grad`] is [`TrainError::NoGradients`]).
    ///
    /// # Errors
    /// As [`WorkspaceMut::new`].
    pub fn new_lean(
        kernels: Kernels,
        capacity: usize,
        shape: Shape,
        buffers: Buffers<'a>,
    ) -> Result<Self, ShapeError> {
        Self::from_buffers(kernels, capacity, shape, buffers, None)
    }

    fn from_buffers(
        kernels: Kernels,
        capacity: usize,
        shape: Shape,
        buffers: Buffers<'a>,
        grads: Option<ParamsViewMut<'a>>,
    ) -> Result<Self, ShapeError> {
        const NAMES: [&str; 6] = ["emb", "h", "logits", "dlogits", "dpre", "demb"];
        let lens = workspace_lens(shape, capacity);
        for ((name, want), b) in NAMES.iter().zip(lens).zip(&buffers) {
            Shape::check_len(name, want, b.len())?;
        }
        let [emb, h, logits, dlogits, dpre, demb] = buffers;
        Ok(WorkspaceMut {
            kernels,
            capacity,
            emb,
            h,
            logits,
            dlogits,
            dpre,
            demb,
            shape,
            grads,
        })
    }

    /// The shape the buffers are for.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Rows per batch it holds.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// The kernels it runs.
    pub const fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The gradients of the last [`WorkspaceMut::loss_and_grad`] (`None` in a lean workspace).
    pub fn grads(&self) -> Option<ParamsView<'_>> {
        self.grads.as_ref().map(|g| g.as_view())
    }

    /// Checks that `ctx` holds `n ≤ capacity` whole contexts and `targets` `n` targets.
    fn batch_rows(&self, ctx: &[Index], targets: &[Index]) -> Result<usize, TrainError> {
        let n = rows_of(ctx, self.shape().block())?;
        if n > self.capacity {
            return Err(TrainError::BatchTooLarge {
                rows: n,
                capacity: self.capacity,
            });
        }
        if targets.len() != n {
            return Err(TrainError::Batch(KernelError::Shape {
                what: "targets (= contexts in the batch)",
                expected: n,
                found: targets.len(),
            }));
        }
        Ok(n)
    }

    /// Forward and backward for one batch without updating: returns the mean loss and leaves the
    /// gradients in [`WorkspaceMut::grads`]. `ctx` holds `B` indices per row.
    ///
    /// # Errors
    /// [`TrainError::BatchTooLarge`], [`TrainError::Batch`] (an empty batch, lengths that
    /// disagree, an index outside the vocabulary), [`TrainError::Shape`] if `p` has another
    /// shape.
    pub fn loss_and_grad(
        &mut self,
        p: &ParamsView<'_>,
        ctx: &[Index],
        targets: &[Index],
    ) -> Result<f32, TrainError> {
        if p.shape() != self.shape() {
            return Err(TrainError::Shape);
        }
        let loss = self.forward_loss(p, ctx, targets)?;
        let k = self.kernels;
        let Some(grads) = self.grads.as_mut() else {
            return Err(TrainError::NoGradients);
        };
        backward(
            k,
            p,
            ctx,
            BackwardBufs {
                emb: self.emb,
                h: self.h,
                dlogits: self.dlogits,
                dpre: &mut *self.dpre,
                demb: &mut *self.demb,
            },
            grads,
        )?;
        Ok(loss)
    }

    /// Forward pass and mean cross-entropy of a batch, leaving `dlogits` for the backward pass.
    fn forward_loss(
        &mut self,
        p: &ParamsView<'_>,
        ctx: &[Index],
        targets: &[Index],
    ) -> Result<f32, TrainError> {
        if p.shape() != self.shape() {
            return Err(TrainError::Shape);
        }
        let n = self.batch_rows(ctx, targets)?;
        let (k, s) = (self.kernels, self.shape());
        forward(
            k,
            p,
            ctx,
            Activations {
                emb: &mut *self.emb,
                h: &mut *self.h,
                logits: &mut *self.logits,
            },
        )?;
        let logits = Mat::prefix(self.logits, n, s.vocab())?;
        let dlogits = MatMut::prefix(&mut *self.dlogits, n, s.vocab())?;
        Ok(k.cross_entropy(logits, targets, Some(dlogits))?)
    }

    /// One SGD step on a batch: forward, mean cross-entropy, manual backward, `p −= lr·g`.
    /// Returns the batch loss (before the update). `step` only names the step in
    /// [`TrainError::NonFiniteLoss`].
    ///
    /// # Errors
    /// [`TrainError::NonFiniteLoss`] if the loss is NaN or infinite — the parameters are then
    /// left untouched — and the errors of [`WorkspaceMut::loss_and_grad`].
    pub fn train_step(
        &mut self,
        p: &mut ParamsViewMut<'_>,
        ctx: &[Index],
        targets: &[Index],
        lr: f32,
        step: u64,
    ) -> Result<f32, TrainError> {
        let loss = self.forward_loss(&p.as_view(), ctx, targets)?;
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss { step, loss });
        }
        // Each gradient applied as it is produced (the bits of the gradients, then `sgd`).
        backward_sgd(
            self.kernels,
            p,
            ctx,
            BackwardBufs {
                emb: self.emb,
                h: self.h,
                dlogits: self.dlogits,
                dpre: &mut *self.dpre,
                demb: &mut *self.demb,
            },
            lr,
        )?;
        Ok(loss)
    }

    /// Mean cross-entropy over any number of rows (no gradients), in chunks of the capacity.
    /// Chunk means are combined in f64, weighted by their row counts.
    ///
    /// # Errors
    /// [`TrainError::Batch`] for no rows, lengths that disagree, or an index outside the
    /// vocabulary.
    pub fn loss(
        &mut self,
        p: &ParamsView<'_>,
        ctx: &[Index],
        targets: &[Index],
    ) -> Result<f32, TrainError> {
        let b = self.shape().block();
        let n = rows_of(ctx, b)?;
        if n == 0 || n != targets.len() {
            return Err(TrainError::Batch(KernelError::Shape {
                what: "targets (= contexts)",
                expected: n,
                found: targets.len(),
            }));
        }
        let mut total = 0.0f64;
        for (c, t) in ctx
            .chunks(self.capacity * b)
            .zip(targets.chunks(self.capacity))
        {
            total += f64::from(self.chunk_loss(p, c, t)?) * t.len() as f64;
        }
        Ok((total / n as f64) as f32)
    }

    /// The mean loss of one chunk of at most `capacity` rows.
    fn chunk_loss(
        &mut self,
        p: &ParamsView<'_>,
        ctx: &[Index],
        targets: &[Index],
    ) -> Result<f32, TrainError> {
        if p.shape() != self.shape() {
            return Err(TrainError::Shape);
        }
        let n = self.batch_rows(ctx, targets)?;
        let k = self.kernels;
        forward(
            k,
            p,
            ctx,
            Activations {
                emb: &mut *self.emb,
                h: &mut *self.h,
                logits: &mut *self.logits,
            },
        )?;
        let logits = Mat::prefix(self.logits, n, self.shape().vocab())?;
        Ok(k.cross_entropy(logits, targets, None)?)
    }

    /// Mean cross-entropy over every pair of `items`, built chunk by chunk into `ctx` and
    /// `targets` (`capacity` rows; `ctx` holds `B` indices per row).
    ///
    /// # Errors
    /// As [`WorkspaceMut::loss`]; [`TrainError::Batch`] if `items` has no pairs.
    pub fn items_loss(
        &mut self,
        p: &ParamsView<'_>,
        items: crate::batch::Items<'_>,
        ctx: &mut [Index],
        targets: &mut [Index],
    ) -> Result<f32, TrainError> {
        if items.is_empty() {
            return Err(TrainError::Batch(KernelError::EmptyBatch));
        }
        let b = self.shape().block();
        let cap = targets.len().min(self.capacity).min(ctx.len() / b);
        let (ctx, targets) = (&mut ctx[..cap * b], &mut targets[..cap]);
        let mut total = 0.0f64;
        let mut at = 0;
        while at < items.pairs() {
            let n = items.fill(at, ctx, targets);
            if n == 0 {
                return Err(TrainError::Batch(KernelError::EmptyBatch));
            }
            let l = self.chunk_loss(p, &ctx[..n * b], &targets[..n])?;
            total += f64::from(l) * n as f64;
            at += n;
        }
        Ok((total / items.pairs() as f64) as f32)
    }
}

/// The activation buffers of a training step for `N` rows, owned: the storage shared by
/// [`Workspace`] and [`LeanWorkspace`].
#[derive(Debug, Clone)]
struct StepBuffers<const V: usize, const IN: usize, const H: usize, const N: usize> {
    emb: [[f32; IN]; N],
    h: [[f32; H]; N],
    logits: [[f32; V]; N],
    dlogits: [[f32; V]; N],
    dpre: [[f32; H]; N],
    demb: [[f32; IN]; N],
}

impl<const V: usize, const IN: usize, const H: usize, const N: usize> StepBuffers<V, IN, H, N> {
    const fn new() -> Self {
        StepBuffers {
            emb: [[0.0; IN]; N],
            h: [[0.0; H]; N],
            logits: [[0.0; V]; N],
            dlogits: [[0.0; V]; N],
            dpre: [[0.0; H]; N],
            demb: [[0.0; IN]; N],
        }
    }

    fn view<'a>(
        &'a mut self,
        kernels: Kernels,
        shape: Shape,
        grads: Option<ParamsViewMut<'a>>,
    ) -> WorkspaceMut<'a> {
        WorkspaceMut {
            kernels,
            capacity: N,
            emb: self.emb.as_flattened_mut(),
            h: self.h.as_flattened_mut(),
            logits: self.logits.as_flattened_mut(),
            dlogits: self.dlogits.as_flattened_mut(),
            dpre: self.dpre.as_flattened_mut(),
            demb: self.demb.as_flattened_mut(),
            shape,
            grads,
        }
    }
}

/// Everything a training step needs besides the parameters, for batches of up to `N` rows of
/// the shape `(V, B, E, IN, H)`: fixed-size arrays, no heap.
///
/// This is large (the gradients are a second copy of the parameters): in firmware put it in a
/// `static`; on a host prefer `WorkspaceBuf`.
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
    bufs: StepBuffers<V, IN, H, N>,
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
    /// The shape (checked at compile time).
    pub const SHAPE: Shape = const_shape::<V, B, E, IN, H>();

    /// A zeroed workspace that runs `kernels` (a `const fn`: it can initialize a `static`).
    ///
    /// A training loop without a heap (here on the host, for the doctest):
    ///
    /// ```
    /// use charmlp::{Index, Init, Kernels, Params, Workspace};
    /// // V = 4 symbols, B = 2, E = 3, IN = 6, H = 8; batches of up to 4 rows.
    /// let mut p = Params::<4, 2, 3, 6, 8>::init(1, Init::Scaled);
    /// let mut ws = Box::new(Workspace::<4, 2, 3, 6, 8, 4>::new(Kernels::best()));
    /// let ctx: [[Index; 2]; 4] = [[0, 0], [0, 1], [1, 2], [2, 3]];
    /// let targets: [Index; 4] = [1, 2, 3, 0];
    /// let first = ws.train_step(&mut p, &ctx, &targets, 0.5)?;
    /// let mut last = first;
    /// for _ in 0..200 {
    ///     last = ws.train_step(&mut p, &ctx, &targets, 0.5)?;
    /// }
    /// assert!(last < first / 4.0, "{first} → {last}");
    /// # Ok::<(), charmlp::TrainError>(())
    /// ```
    pub const fn new(kernels: Kernels) -> Self {
        let _ = Self::SHAPE;
        Workspace {
            kernels,
            steps: 0,
            bufs: StepBuffers::new(),
            grads: Params::zeros(),
        }
    }

    /// The borrowed buffers, which run the step.
    pub fn view(&mut self) -> WorkspaceMut<'_> {
        self.bufs
            .view(self.kernels, Self::SHAPE, Some(self.grads.view_mut()))
    }

    /// The gradients of the last step.
    pub fn grads(&self) -> &Params<V, B, E, IN, H> {
        &self.grads
    }

    /// See [`WorkspaceMut::loss_and_grad`].
    ///
    /// # Errors
    /// As [`WorkspaceMut::loss_and_grad`].
    pub fn loss_and_grad(
        &mut self,
        p: &Params<V, B, E, IN, H>,
        ctx: &[[Index; B]],
        targets: &[Index],
    ) -> Result<f32, TrainError> {
        self.view()
            .loss_and_grad(&p.view(), ctx.as_flattened(), targets)
    }
}

/// A workspace for a shape and batch capacity chosen at run time: one allocation.
#[cfg(feature = "std")]
#[derive(Debug, Clone)]
pub struct WorkspaceBuf {
    kernels: Kernels,
    steps: u64,
    shape: Shape,
    capacity: usize,
    data: std::vec::Vec<f32>,
}

#[cfg(feature = "std")]
impl WorkspaceBuf {
    /// A zeroed workspace for batches of up to `capacity` rows of `shape`.
    ///
    /// ```
    /// use charmlp::{Index, Init, Kernels, ParamsBuf, Shape, WorkspaceBuf};
    /// let shape = Shape::new(5, 3, 4, 16)?;
    /// let mut p = ParamsBuf::init(shape, 7, Init::Scaled)?;
    /// let mut ws = WorkspaceBuf::new(Kernels::best(), shape, 32)?;
    /// let ctx: Vec<Index> = vec![0, 0, 1, 0, 1, 2]; // two rows of B = 3
    /// let targets: Vec<Index> = vec![2, 3];
    /// let loss = ws.train_step(&mut p.view_mut(), &ctx, &targets, 0.1).unwrap();
    /// assert!(loss.is_finite());
    /// # Ok::<(), charmlp::ShapeError>(())
    /// ```
    ///
    /// # Errors
    /// [`ShapeError::TooLarge`] if the size overflows, [`ShapeError::OutOfMemory`] if it cannot
    /// be allocated.
    pub fn new(kernels: Kernels, shape: Shape, capacity: usize) -> Result<Self, ShapeError> {
        let per_row = workspace_lens(shape, 1).iter().sum::<usize>();
        let len = per_row
            .checked_mul(capacity)
            .and_then(|n| n.checked_add(shape.param_count()))
            .ok_or(ShapeError::TooLarge)?;
        Ok(WorkspaceBuf {
            kernels,
            steps: 0,
            shape,
            capacity,
            data: crate::alloc_zeroed(len)?,
        })
    }

    /// The borrowed buffers, which run the step.
    pub fn view(&mut self) -> WorkspaceMut<'_> {
        let lens = workspace_lens(self.shape, self.capacity);
        let mut rest: &mut [f32] = &mut self.data;
        let mut take = |n: usize| {
            let (a, b) = core::mem::take(&mut rest).split_at_mut(n);
            rest = b;
            a
        };
        let [emb, h, logits, dlogits, dpre, demb] = lens.map(&mut take);
        let grads = take(self.shape.param_count());
        WorkspaceMut {
            kernels: self.kernels,
            capacity: self.capacity,
            emb,
            h,
            logits,
            dlogits,
            dpre,
            demb,
            shape: self.shape,
            grads: Some(
                ParamsViewMut::from_flat(self.shape, grads)
                    .unwrap_or_else(|_| unreachable!("sized by the shape")),
            ),
        }
    }

    /// The shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// Rows per batch it holds.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Steps applied so far.
    pub const fn steps(&self) -> u64 {
        self.steps
    }

    /// Sets the step counter, e.g. when resuming.
    pub fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// The kernels it runs.
    pub const fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// One SGD step (see [`WorkspaceMut::train_step`]); counts it.
    ///
    /// # Errors
    /// As [`WorkspaceMut::train_step`].
    pub fn train_step(
        &mut self,
        p: &mut ParamsViewMut<'_>,
        ctx: &[Index],
        targets: &[Index],
        lr: f32,
    ) -> Result<f32, TrainError> {
        let step = self.steps;
        let loss = self.view().train_step(p, ctx, targets, lr, step)?;
        self.steps += 1;
        Ok(loss)
    }
}

/// A training workspace without gradient buffers, for batches of up to `N` rows of the shape
/// `(V, B, E, IN, H)`: fixed-size arrays, no heap, and a `const fn` constructor, so that firmware
/// puts it in a `static` (never on the stack). Its [`LeanWorkspace::train_step`] applies each
/// gradient as it is produced ([`crate::backward::backward_sgd`]) — the bits of
/// [`Workspace::train_step`] — so it needs only the activations:
/// `N·(2·IN + 2·H + 2·V)` floats (16.4 KB for the canonical model at `N = 8`, 2.1 KB at
/// `N = 1`), against that plus a copy of the parameters for a [`Workspace`].
#[derive(Debug, Clone)]
pub struct LeanWorkspace<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
    const N: usize,
> {
    kernels: Kernels,
    steps: u64,
    bufs: StepBuffers<V, IN, H, N>,
}

impl<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
    const N: usize,
> LeanWorkspace<V, B, E, IN, H, N>
{
    /// The shape (checked at compile time).
    pub const SHAPE: Shape = const_shape::<V, B, E, IN, H>();

    /// A zeroed workspace that runs `kernels` (a `const fn`: it can initialize a `static`).
    pub const fn new(kernels: Kernels) -> Self {
        let _ = Self::SHAPE;
        LeanWorkspace {
            kernels,
            steps: 0,
            bufs: StepBuffers::new(),
        }
    }

    /// The borrowed buffers, which run the step.
    pub fn view(&mut self) -> WorkspaceMut<'_> {
        self.bufs.view(self.kernels, Self::SHAPE, None)
    }
}

/// The methods [`Workspace`] and [`LeanWorkspace`] share: the step counter, the kernels, the
/// loss and the counted SGD step, each over the type's `view()`.
macro_rules! owned_workspace_methods {
    ($ty:ident) => {
        impl<
            const V: usize,
            const B: usize,
            const E: usize,
            const IN: usize,
            const H: usize,
            const N: usize,
        > $ty<V, B, E, IN, H, N>
        {
            /// Steps applied so far.
            pub const fn steps(&self) -> u64 {
                self.steps
            }

            /// Sets the step counter, e.g. when resuming.
            pub fn set_steps(&mut self, steps: u64) {
                self.steps = steps;
            }

            /// The kernels it runs.
            pub const fn kernels(&self) -> Kernels {
                self.kernels
            }

            /// The mean loss of a batch (no update); see [`WorkspaceMut::loss`].
            ///
            /// # Errors
            /// As [`WorkspaceMut::loss`].
            pub fn loss(
                &mut self,
                p: &ParamsView<'_>,
                ctx: &[[Index; B]],
                targets: &[Index],
            ) -> Result<f32, TrainError> {
                self.view().loss(p, ctx.as_flattened(), targets)
            }

            /// One SGD step (see [`WorkspaceMut::train_step`]); counts it.
            ///
            /// # Errors
            /// As [`WorkspaceMut::train_step`].
            pub fn train_step(
                &mut self,
                p: &mut Params<V, B, E, IN, H>,
                ctx: &[[Index; B]],
                targets: &[Index],
                lr: f32,
            ) -> Result<f32, TrainError> {
                let step = self.steps;
                let loss = self.view().train_step(
                    &mut p.view_mut(),
                    ctx.as_flattened(),
                    targets,
                    lr,
                    step,
                )?;
                self.steps += 1;
                Ok(loss)
            }
        }
    };
}

owned_workspace_methods!(Workspace);
owned_workspace_methods!(LeanWorkspace);

/// The learning rate as a function of the step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
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

    /// `step` or `cosine`.
    pub const fn name(&self) -> &'static str {
        match self {
            Schedule::Step { .. } => "step",
            Schedule::Cosine { .. } => "cosine",
        }
    }
}
