//! The training step: every tensor moves, runs are reproducible, the scaled init starts at
//! ln V, and a diverging loss is an error that leaves the parameters alone; minibatches depend
//! on (seed, step) only and are real pairs of the items.

use charmlp::batch::Items;
use charmlp::{Index, Init, Kernels, Params, Schedule, TrainError, Workspace};

const V: usize = 27;
type P = Params<V, 3, 10, 30, 200>;
type Ws = Workspace<V, 3, 10, 30, 200, 32>;

/// A fixed pseudo-corpus: 100 items of 1 to 9 symbols covering every symbol, each followed by
/// the terminator.
fn items() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..100u32 {
        for j in 0..(i % 9 + 1) {
            out.push(((i * 7 + j * 13) % 26 + 1) as u8);
        }
        out.push(0);
    }
    out
}

/// Every (context, target) pair of `items()`, in order.
fn pairs() -> (Vec<[Index; 3]>, Vec<Index>) {
    let it = items();
    let items = Items::U8(&it);
    let mut x = vec![[0; 3]; items.pairs()];
    let mut y = vec![0; items.pairs()];
    let n = items.fill(0, x.as_flattened_mut(), &mut y);
    assert_eq!(n, items.pairs());
    (x, y)
}

/// A minibatch of 32 drawn with `(seed, step)`.
fn sample_batch(seed: u64, step: u64, x: &mut [[Index; 3]; 32], y: &mut [Index; 32]) {
    let it = items();
    Items::U8(&it).sample_batch(seed, step, x.as_flattened_mut(), y);
}

#[test]
fn every_tensor_changes_after_one_step() {
    for k in Kernels::all_supported() {
        for init in [Init::Randn, Init::Scaled] {
            let mut p: Box<P> = Box::new(P::init(1, init));
            let before = p.clone();
            let mut ws: Box<Ws> = Box::new(Workspace::new(k));
            let (mut bx, mut by) = ([[0; 3]; 32], [0; 32]);
            sample_batch(5, 0, &mut bx, &mut by);
            ws.train_step(&mut p, &bx, &by, 0.1).unwrap();
            let names = ["C", "W1", "b1", "W2", "b2"];
            for ((a, b), name) in p
                .view()
                .tensors()
                .iter()
                .zip(before.view().tensors())
                .zip(names)
            {
                assert!(
                    a.iter().zip(b).any(|(u, v)| u != v),
                    "{} {:?}: {name} did not change",
                    k.path(),
                    init
                );
            }
            assert_eq!(ws.steps(), 1);
        }
    }
}

fn run(k: Kernels, seed: u64, steps: u64) -> Box<P> {
    let mut p: Box<P> = Box::new(P::init(seed, Init::Randn));
    let mut ws: Box<Ws> = Box::new(Workspace::new(k));
    let sched = Schedule::Step {
        lr: 0.1,
        decay_at: steps / 2,
        lr_after: 0.01,
    };
    let (mut bx, mut by) = ([[0; 3]; 32], [0; 32]);
    for s in 0..steps {
        sample_batch(seed, s, &mut bx, &mut by);
        ws.train_step(&mut p, &bx, &by, sched.lr(s)).unwrap();
    }
    p
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    for k in Kernels::all_supported() {
        let a = run(k, 42, 300);
        let b = run(k, 42, 300);
        let c = run(k, 43, 300);
        let bits = |p: &P| p.view().iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{}", k.path());
        assert_ne!(
            bits(&a),
            bits(&c),
            "{}: a different seed must give different weights",
            k.path()
        );
    }
}

/// Reference arithmetic v2: a training run gives the same bits on every kernel path, so a run
/// resumed on another machine (AVX2 instead of AVX-512, or the scalar path) continues it exactly.
#[test]
fn every_kernel_path_trains_the_same_bits() {
    let bits = |p: &P| p.view().iter().map(f32::to_bits).collect::<Vec<_>>();
    let reference = bits(&run(Kernels::scalar(), 7, 300));
    for k in Kernels::all_supported() {
        assert_eq!(
            bits(&run(k, 7, 300)),
            reference,
            "{} differs from scalar",
            k.path()
        );
    }
}

#[test]
fn scaled_init_starts_near_ln_v() {
    let (x, y) = pairs();
    for k in Kernels::all_supported() {
        let p: Box<P> = Box::new(P::init(2_147_483_647, Init::Scaled));
        let mut ws: Box<Ws> = Box::new(Workspace::new(k));
        let loss = ws.loss(&p.view(), &x, &y).unwrap();
        let ln_v = (V as f32).ln();
        eprintln!("{}: initial loss {loss} (ln 27 = {ln_v})", k.path());
        // W2·0.01 and b2 = 0 make the logits O(0.1), so the loss is within a few hundredths of ln V.
        assert!(
            (loss - ln_v).abs() < 0.05,
            "initial loss {loss} is not ≈ ln 27"
        );
        // randn init starts far above it (the lecture's ~27 at batch level).
        let q: Box<P> = Box::new(P::init(2_147_483_647, Init::Randn));
        assert!(ws.loss(&q.view(), &x, &y).unwrap() > 5.0);
    }
}

#[test]
fn non_finite_loss_is_an_error_and_nothing_changes() {
    let (x, y) = pairs();
    for k in Kernels::all_supported() {
        let mut p: Box<P> = Box::new(P::init(1, Init::Randn));
        let mut ws: Box<Ws> = Box::new(Workspace::new(k));
        ws.train_step(&mut p, &x[..32], &y[..32], 0.1).unwrap();
        p.b2[3] = f32::INFINITY;
        let before = p.clone();
        let err = ws.train_step(&mut p, &x[..32], &y[..32], 0.1).unwrap_err();
        match err {
            TrainError::NonFiniteLoss { step, loss } => {
                assert_eq!(step, 1);
                assert!(!loss.is_finite());
            }
            e => panic!("{}: unexpected {e:?}", k.path()),
        }
        assert!(err.to_string().contains("step 1"), "{err}");
        assert!(
            p.view()
                .iter()
                .zip(before.view().iter())
                .all(|(u, v)| u.to_bits() == v.to_bits())
        );
        assert_eq!(ws.steps(), 1);
    }
}

#[test]
fn a_huge_learning_rate_diverges_into_an_error_not_garbage() {
    let mut p: Box<P> = Box::new(P::init(1, Init::Randn));
    let mut ws: Box<Ws> = Box::new(Workspace::new(Kernels::best()));
    let (mut bx, mut by) = ([[0; 3]; 32], [0; 32]);
    let mut failed = None;
    for s in 0..2000 {
        sample_batch(1, s, &mut bx, &mut by);
        // Overflows the weights to ±inf after a step or two; the next loss is NaN or inf.
        if let Err(e) = ws.train_step(&mut p, &bx, &by, f32::MAX) {
            failed = Some(e);
            break;
        }
    }
    match failed {
        Some(TrainError::NonFiniteLoss { step, .. }) => assert_eq!(step, ws.steps()),
        other => panic!("lr = f32::MAX must end in NonFiniteLoss, got {other:?}"),
    }
}

#[test]
fn bad_batches_are_errors() {
    let (x, y) = pairs();
    let mut p: Box<P> = Box::new(P::init(1, Init::Randn));
    let mut ws: Box<Workspace<V, 3, 10, 30, 200, 4>> = Box::new(Workspace::new(Kernels::best()));
    assert!(matches!(
        ws.train_step(&mut p, &x[..5], &y[..5], 0.1),
        Err(TrainError::BatchTooLarge {
            rows: 5,
            capacity: 4
        })
    ));
    assert!(matches!(
        ws.train_step(&mut p, &x[..0], &y[..0], 0.1),
        Err(TrainError::Batch(_))
    ));
    assert!(matches!(
        ws.train_step(&mut p, &x[..3], &y[..2], 0.1),
        Err(TrainError::Batch(_))
    ));
    let bad = [[0, 1, 27]];
    assert!(matches!(
        ws.train_step(&mut p, &bad, &[1], 0.1),
        Err(TrainError::Batch(_))
    ));
    assert!(matches!(
        ws.train_step(&mut p, &x[..1], &[27], 0.1),
        Err(TrainError::Batch(_))
    ));
}

#[test]
fn batches_depend_only_on_seed_and_step() {
    let (x, y) = pairs();
    let (mut a, mut ay, mut b, mut by) = ([[0; 3]; 32], [0; 32], [[0; 3]; 32], [0; 32]);
    sample_batch(9, 1234, &mut a, &mut ay);
    sample_batch(9, 1233, &mut b, &mut by);
    sample_batch(9, 1234, &mut b, &mut by);
    assert_eq!((a, ay), (b, by));
    sample_batch(9, 1235, &mut b, &mut by);
    assert_ne!(a, b);
    // Every row is a real (context, target) pair.
    for (c, t) in a.iter().zip(ay) {
        assert!(x.iter().zip(&y).any(|(xc, &yt)| xc == c && yt == t));
    }
}

/// makemore's `build_dataset` for "emma": `...→e`, `..e→m`, `.em→m`, `emm→a`, `mma→.`; items
/// do not leak into each other's contexts.
#[test]
fn pairs_are_makemores() {
    // "emma" then "ab" with e=5, m=13, a=1, b=2.
    let it = [5u8, 13, 13, 1, 0, 1, 2, 0];
    let items = Items::U8(&it);
    assert_eq!(items.pairs(), 8);
    let (mut ctx, mut y) = ([0 as Index; 8 * 3], [0 as Index; 8]);
    assert_eq!(items.fill(0, &mut ctx, &mut y), 8);
    assert_eq!(
        ctx,
        [
            0, 0, 0, 0, 0, 5, 0, 5, 13, 5, 13, 13, 13, 13, 1, 0, 0, 0, 0, 0, 1, 0, 1, 2
        ]
    );
    assert_eq!(y, [5, 13, 13, 1, 0, 1, 2, 0]);
    // The same through the two-byte store.
    let wide: Vec<Index> = it.iter().map(|&s| Index::from(s)).collect();
    let (mut ctx2, mut y2) = ([0 as Index; 8 * 3], [0 as Index; 8]);
    Items::U16(&wide).fill(0, &mut ctx2, &mut y2);
    assert_eq!((ctx, y), (ctx2, y2));
    // Filling from the middle, and past the end.
    let (mut c1, mut y1) = ([0 as Index; 3 * 3], [0 as Index; 3]);
    assert_eq!(items.fill(6, &mut c1, &mut y1), 2);
    assert_eq!(&y1[..2], &[2, 0]);
    assert_eq!(items.fill(8, &mut c1, &mut y1), 0);
}
