//! The training step applies each gradient as it is produced (no gradient buffers): its result
//! is, to the bit, the gradients of `loss_and_grad` followed by `sgd` on every tensor — on every
//! kernel path, for random shapes, batches with repeated contexts, and through a lean workspace
//! that has no gradient buffers at all.
#![cfg(feature = "std")]

use charmlp::train::{LeanWorkspace, workspace_lens};
use charmlp::{Index, Init, Kernels, ParamsBuf, Shape, WorkspaceBuf, WorkspaceMut};

fn bits(p: &ParamsBuf) -> Vec<u32> {
    p.view().iter().map(f32::to_bits).collect()
}

fn batch(s: Shape, n: usize, seed: u64) -> (Vec<Index>, Vec<Index>) {
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Few distinct symbols, so that rows of C repeat within the batch.
    let v = s.vocab().min(4) as u64;
    let ctx = (0..n * s.block()).map(|_| (next() % v) as Index).collect();
    let tgt = (0..n)
        .map(|_| (next() % s.vocab() as u64) as Index)
        .collect();
    (ctx, tgt)
}

#[test]
fn the_fused_step_is_gradients_then_sgd() {
    for (v, b, e, h, n) in [
        (27, 3, 10, 200, 32),
        (7, 2, 3, 5, 9),
        (2, 1, 1, 1, 1),
        (40, 5, 4, 33, 17),
        // 400 context positions: past the 256 whose repeats a bitset tracks.
        (30, 4, 3, 8, 100),
    ] {
        let s = Shape::new(v, b, e, h).unwrap();
        for k in Kernels::all_supported() {
            for seed in 1..4u64 {
                let p0 = ParamsBuf::init(s, seed, Init::Randn).unwrap();
                let (ctx, tgt) = batch(s, n, seed);
                let lr = 0.05;
                // The reference: gradients, then sgd on each tensor.
                let mut want = p0.clone();
                let mut ws = WorkspaceBuf::new(k, s, n).unwrap();
                let mut view = ws.view();
                let l1 = view.loss_and_grad(&want.view(), &ctx, &tgt).unwrap();
                let g = view.grads().unwrap();
                let mut wv = want.view_mut();
                for (pt, gt) in wv.tensors_mut().into_iter().zip(g.tensors()) {
                    k.sgd(pt, gt, lr).unwrap();
                }
                // The fused step.
                let mut got = p0.clone();
                let l2 = ws.train_step(&mut got.view_mut(), &ctx, &tgt, lr).unwrap();
                assert_eq!(l1.to_bits(), l2.to_bits());
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{} {v}/{b}/{e}/{h} seed {seed}",
                    k.path()
                );
                // A lean workspace (no gradient buffers) over caller buffers: the same.
                let lens = workspace_lens(s, n);
                let mut bufs: Vec<Vec<f32>> = lens.iter().map(|&l| vec![0.0; l]).collect();
                let [a, bb, c, d, e2, f] = &mut bufs[..] else {
                    unreachable!()
                };
                let mut lean =
                    WorkspaceMut::new_lean(k, n, s, [a, bb, c, d, e2, f].map(|v| &mut v[..]))
                        .unwrap();
                let mut got2 = p0.clone();
                lean.train_step(&mut got2.view_mut(), &ctx, &tgt, lr, 0)
                    .unwrap();
                assert_eq!(bits(&got2), bits(&want));
                assert!(lean.loss_and_grad(&p0.view(), &ctx, &tgt).is_err());
            }
        }
    }
}

#[test]
fn the_const_lean_workspace_trains_like_the_full_one() {
    type P = charmlp::Params<27, 3, 10, 30, 200>;
    let mut full: Box<charmlp::Workspace<27, 3, 10, 30, 200, 8>> =
        Box::new(charmlp::Workspace::new(Kernels::best()));
    let mut lean: Box<LeanWorkspace<27, 3, 10, 30, 200, 8>> =
        Box::new(LeanWorkspace::new(Kernels::best()));
    let mut a: Box<P> = Box::new(P::init(3, Init::Scaled));
    let mut b = a.clone();
    for step in 0..20u64 {
        let (ctx, tgt) = batch(P::SHAPE, 8, step + 1);
        let ctx: Vec<[Index; 3]> = ctx.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        let la = full.train_step(&mut a, &ctx, &tgt, 0.1).unwrap();
        let lb = lean.train_step(&mut b, &ctx, &tgt, 0.1).unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
    }
    assert!(
        a.view()
            .iter()
            .zip(b.view().iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    // What it saves: the gradient buffers (one more copy of the parameters).
    let (lean_b, full_b) = (
        size_of::<LeanWorkspace<27, 3, 10, 30, 200, 8>>(),
        size_of::<charmlp::Workspace<27, 3, 10, 30, 200, 8>>(),
    );
    assert!(
        lean_b + P::COUNT * 4 <= full_b + 8,
        "lean {lean_b} B, full {full_b} B"
    );
    assert!(
        lean_b <= 8 * (2 * 30 + 2 * 200 + 2 * 27) * 4 + 16,
        "lean {lean_b} B"
    );
}
