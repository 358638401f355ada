//! One canonical training step (B=3, E=10, H=200, V=27, batch 32), its forward pass, and
//! sampling one character, on every kernel path this CPU runs.
//!
//! `cargo bench --bench step`

use charmlp::forward::{Activations, forward_batch, forward_one};
use charmlp::{Init, Kernels, Params, SampleConfig, Sampler, Vocab, Workspace, sample_batch};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

type P = Params<27, 3, 10, 30, 200>;

fn data() -> (Vec<[u8; 3]>, Vec<u8>) {
    let x = (0..10_000u32)
        .map(|i| {
            [
                (i % 27) as u8,
                ((i * 7 + 3) % 27) as u8,
                ((i * 13 + 5) % 27) as u8,
            ]
        })
        .collect();
    let y = (0..10_000u32).map(|i| ((i * 11 + 1) % 27) as u8).collect();
    (x, y)
}

fn step(c: &mut Criterion) {
    let (x, y) = data();
    let mut g = c.benchmark_group("train_step_canonical_b32");
    for k in Kernels::all_supported() {
        let mut p: Box<P> = Box::new(P::init(1, Init::Randn));
        let mut ws: Box<Workspace<27, 3, 10, 30, 200, 32>> = Box::new(Workspace::new(k));
        let (mut bx, mut by) = ([[0u8; 3]; 32], [0u8; 32]);
        let mut s = 0u64;
        g.bench_function(k.path().name(), |b| {
            b.iter(|| {
                sample_batch(7, s, &x, &y, &mut bx, &mut by);
                s += 1;
                black_box(ws.train_step(&mut p, &bx, &by, 0.01).unwrap())
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("forward_canonical_b32");
    for k in Kernels::all_supported() {
        let p: Box<P> = Box::new(P::init(1, Init::Randn));
        let mut act: Box<Activations<27, 30, 200, 32>> = Box::default();
        g.bench_function(k.path().name(), |b| {
            b.iter(|| forward_batch(k, p.view(), black_box(&x[..32]), &mut act).unwrap())
        });
    }
    g.finish();
}

fn sample(c: &mut Criterion) {
    let mut g = c.benchmark_group("sample_canonical_per_char");
    let p: Box<P> = Box::new(P::init(1, Init::Scaled));
    let vocab: Vocab<27> = Vocab::from_symbols(".abcdefghijklmnopqrstuvwxyz".chars()).unwrap();
    for k in Kernels::all_supported() {
        let mut logits = [0.0f32; 27];
        g.bench_function(format!("forward_one/{}", k.path().name()), |b| {
            b.iter(|| forward_one(k, p.view(), black_box(&[1, 2, 3]), &mut logits).unwrap())
        });
        let mut s = Sampler::new(p.view(), &vocab, k, 1, SampleConfig::default()).unwrap();
        g.bench_function(format!("next_index/{}", k.path().name()), |b| {
            b.iter(|| s.next_index(black_box(&[1, 2, 3])).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30);
    targets = step, sample
}
criterion_main!(benches);
