//! One canonical training step (B=3, E=10, H=200, V=27, batch 32) and one sampled character,
//! through the const-generic owners (`Params`, `Workspace`, `SampleArrays`: what firmware uses)
//! and through the run-time owners (`ParamsBuf`, `WorkspaceBuf`, `SampleVecs`: what the tools
//! use), side by side on every kernel path this CPU runs.
//!
//! Also this core's FMA peak on each SIMD path (12 independent vector FMA chains), and each
//! time as a fraction of it: the canonical step is 2.19 MFLOP of matmul
//! (6·32·(30·200 + 200·27) flops: forward, and the two gradients of each layer).
//!
//! `cargo bench --features std --bench step`

use std::hint::black_box;
use std::time::Duration;

use charmlp::batch::Items;
use charmlp::sample::{SampleArrays, SampleVecs};
use charmlp::{
    Index, Init, Kernels, Params, ParamsBuf, SampleConfig, Sampler, Vocab, VocabBuf, Workspace,
    WorkspaceBuf,
};
use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::best_ns_for;

/// Rows of the summary table: (what, path, best ns through the const owners, best ns through
/// the run-time owners).
static SUMMARY: std::sync::Mutex<Vec<(&str, String, f64, f64)>> = std::sync::Mutex::new(Vec::new());

/// Best-of-batches times of `fc` (const owners) and `fr` (run-time owners), interleaved in
/// rounds so that a slow spell of the machine hits both alike.
fn compare(what: &'static str, path: &str, mut fc: impl FnMut(), mut fr: impl FnMut()) {
    let (mut c, mut r) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        c = c.min(best_ns_for(Duration::from_millis(200), &mut fc));
        r = r.min(best_ns_for(Duration::from_millis(200), &mut fr));
    }
    SUMMARY.lock().unwrap().push((what, path.to_string(), c, r));
}

type P = Params<27, 3, 10, 30, 200>;

/// A fixed pseudo-corpus over the 26 letters: 2 000 items of 2 to 9 symbols.
fn corpus() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..2000u32 {
        for j in 0..(i % 8 + 2) {
            out.push(((i * 7 + j * 13) % 26 + 1) as u8);
        }
        out.push(0);
    }
    out
}

fn step(c: &mut Criterion) {
    let text = corpus();
    let items = Items::U8(&text);
    let mut g = c.benchmark_group("train_step_canonical_b32");
    for k in Kernels::all_supported() {
        let mut p: Box<P> = Box::new(P::init(1, Init::Randn));
        let mut ws: Box<Workspace<27, 3, 10, 30, 200, 32>> = Box::new(Workspace::new(k));
        let (mut bx, mut by) = ([[0 as Index; 3]; 32], [0 as Index; 32]);
        let mut s = 0u64;
        let mut fixed = move || {
            items.sample_batch(7, s, bx.as_flattened_mut(), &mut by);
            s += 1;
            black_box(ws.train_step(&mut p, &bx, &by, 0.01).unwrap());
        };
        let mut pb = ParamsBuf::init(P::SHAPE, 1, Init::Randn).unwrap();
        let mut wb = WorkspaceBuf::new(k, P::SHAPE, 32).unwrap();
        let (mut cx, mut cy) = (vec![0 as Index; 3 * 32], vec![0 as Index; 32]);
        let mut t = 0u64;
        let mut runtime = move || {
            items.sample_batch(7, t, &mut cx, &mut cy);
            t += 1;
            black_box(wb.train_step(&mut pb.view_mut(), &cx, &cy, 0.01).unwrap());
        };
        g.bench_function(format!("const/{}", k.path().name()), |b| b.iter(&mut fixed));
        g.bench_function(format!("runtime/{}", k.path().name()), |b| {
            b.iter(&mut runtime)
        });
        compare("training step", k.path().name(), fixed, runtime);
    }
    g.finish();
}

fn sample(c: &mut Criterion) {
    let mut g = c.benchmark_group("sample_char_canonical");
    let p: Box<P> = Box::new(P::init(1, Init::Scaled));
    let pb = ParamsBuf::init(P::SHAPE, 1, Init::Scaled).unwrap();
    let symbols = ".abcdefghijklmnopqrstuvwxyz";
    let vocab: Vocab<27> = Vocab::from_symbols(symbols.chars()).unwrap();
    let vb = VocabBuf::from_symbols(symbols.chars()).unwrap();
    let ctx: [Index; 3] = [1, 2, 3];
    for k in Kernels::all_supported() {
        let mut s = Sampler::new(
            p.view(),
            vocab.view(),
            k,
            1,
            SampleConfig::default(),
            SampleArrays::<27, 30, 200>::new(),
        )
        .unwrap();
        let mut fixed = move || {
            black_box(s.next_index(black_box(&ctx)).unwrap());
        };
        let mut s = Sampler::new(
            pb.view(),
            vb.view(),
            k,
            1,
            SampleConfig::default(),
            SampleVecs::new(P::SHAPE),
        )
        .unwrap();
        let mut runtime = move || {
            black_box(s.next_index(black_box(&ctx)).unwrap());
        };
        g.bench_function(format!("const/{}", k.path().name()), |b| b.iter(&mut fixed));
        g.bench_function(format!("runtime/{}", k.path().name()), |b| {
            b.iter(&mut runtime)
        });
        compare("one sampled character", k.path().name(), fixed, runtime);
    }
    g.finish();
}

/// Many names in lockstep (`sample_many`, 32 names per forward pass, with the per-position
/// table): time per sampled symbol, one thread; without and with the memo of contexts already
/// seen (2 048 names per call, as the CLI's smallest task).
fn sample_batched(c: &mut Criterion) {
    use charmlp::sample::sample_many;
    use charmlp::table::{TableView, compute_table, table_len};
    let mut g = c.benchmark_group("sample_char_batched_canonical");
    let pb = ParamsBuf::init(P::SHAPE, 1, Init::Scaled).unwrap();
    let vb = VocabBuf::from_symbols(".abcdefghijklmnopqrstuvwxyz".chars()).unwrap();
    let mut t = vec![0.0; table_len(&P::SHAPE)];
    compute_table(Kernels::best(), &pb.view(), &mut t).unwrap();
    let table = TableView::new(P::SHAPE, &t).unwrap();
    for k in Kernels::all_supported().filter(|k| k.path() != charmlp::Path::Scalar) {
        for (memo, names, what) in [
            (
                false,
                256,
                "one sampled character, 32 names in flight, table",
            ),
            (true, 2048, "the same with the memo of contexts"),
        ] {
            let run = || {
                sample_many(
                    pb.view(),
                    vb.view(),
                    k,
                    Some(table),
                    1,
                    SampleConfig::default(),
                    "",
                    0,
                    names,
                    32,
                    memo,
                )
                .unwrap()
            };
            // Symbols drawn per call: the characters and one end marker per name.
            let symbols: usize = run().iter().map(|n| n.chars().count() + 1).sum();
            let id = format!(
                "runtime/{}{}",
                k.path().name(),
                if memo { "/memo" } else { "" }
            );
            g.bench_function(id, |b| b.iter(|| black_box(run())));
            let ns = best_ns_for(Duration::from_millis(600), || {
                black_box(run());
            });
            SUMMARY.lock().unwrap().push((
                what,
                k.path().name().to_string(),
                ns / symbols as f64,
                ns / symbols as f64,
            ));
        }
    }
    g.finish();
}

/// Prints the const-vs-run-time table, with the FMA peak and each time as a fraction of it.
fn summary(_: &mut Criterion) {
    let peaks: Vec<(String, f64)> = Kernels::all_supported()
        .filter_map(|k| {
            charmlp_kernels::peak::fma_gflops(k, Duration::from_millis(500))
                .map(|g| (k.path().name().to_string(), g))
        })
        .collect();
    println!(
        "\nThis core's f32 FMA peak (12 independent vector FMA chains, best of 10 ms blocks):"
    );
    for (p, g) in &peaks {
        println!("  {p}: {g:.1} GFLOP/s");
    }
    println!("\nBest of 0.2 ms batches, 5 interleaved rounds of 0.2 s each (µs):\n");
    println!(
        "| what | path | const-generic owners | run-time owners | run-time / const | step at % of peak |"
    );
    println!("|---|---|---|---|---|---|");
    for (what, path, c, r) in SUMMARY.lock().unwrap().iter() {
        let peak = peaks.iter().find(|(p, _)| p == path).map(|x| x.1);
        let frac = match (peak, *what == "training step") {
            (Some(g), true) => format!("{:.1} %", 2.19e6 / (c.min(*r) * 1e-9) / (g * 1e9) * 100.0),
            _ => "–".to_string(),
        };
        println!(
            "| {what} | {path} | {:.3} | {:.3} | {:.3} | {frac} |",
            c / 1e3,
            r / 1e3,
            r / c
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30);
    targets = step, sample, sample_batched, summary
}
criterion_main!(benches);
