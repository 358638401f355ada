//! The kernels against their peers, side by side in one run.
//!
//! ```text
//! cargo bench --bench kernels
//! ```
//!
//! * Matmuls: the six of a training step (batch 32, context 3 × embedding 10 = 30 inputs, 200
//!   hidden units, 27 symbols) and the two of sampling one symbol. Each runs on every kernel path
//!   this CPU has, as a naive scalar triple loop (i-j-p, one dot product per output), and as
//!   `matrixmultiply::sgemm` (transposes passed as strides, bias and activation applied the same
//!   way as ours). Criterion's throughput is in FLOP (2·M·K·N per call), so "elem/s" reads as
//!   FLOP/s.
//! * tanh over a 32×200 hidden layer: ours per path, `libm::tanhf` and `f32::tanh`.
//! * Cross-entropy forward and gradient over 32×27 logits: ours per path and a naive version with
//!   `f32::exp`/`f32::ln`.
//!
//! Kernel paths can also be pinned with `CHARMLP_KERNEL`, but this bench runs all of them.

mod common;
use common::best_ns;

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use charmlp_kernels::Kernels;
use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};

const B: usize = 32;
const IN: usize = 30;
const H: usize = 200;
const V: usize = 27;

/// One cell of the summary table: (group, contender, best ns per call, work per call).
type Cell = (String, String, f64, f64);
static SUMMARY: Mutex<Vec<Cell>> = Mutex::new(Vec::new());

/// Benches `f` with criterion as `group/who`, then records its best-of-batches time for the
/// summary that `summary` prints at the end.
fn bench(
    g: &mut BenchmarkGroup<'_, WallTime>,
    group: &str,
    who: &str,
    work: f64,
    mut f: impl FnMut(),
) {
    g.bench_function(who, |b| b.iter(&mut f));
    let ns = best_ns(&mut f);
    SUMMARY
        .lock()
        .expect("summary lock")
        .push((group.to_string(), who.to_string(), ns, work));
}

/// Deterministic values in [-scale, scale).
fn fill(v: &mut [f32], seed: u64, scale: f32) {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for x in v {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *x = ((s >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * scale;
    }
}

fn boxed<const R: usize, const C: usize>(seed: u64, scale: f32) -> Box<[[f32; C]; R]> {
    let mut b = Box::new([[0.0f32; C]; R]);
    fill(b.as_flattened_mut(), seed, scale);
    b
}

/// One matmul operand: `(i, p)` is at `ptr[i·rs + p·cs]`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    fn rows(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            rs: cols,
            cs: 1,
        }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    fn t(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            rs: 1,
            cs: cols,
        }
    }
}

/// `c[m×n] (+)= a·b`, the textbook triple loop: one scalar dot product per output, in order.
fn naive_gemm(m: usize, k: usize, n: usize, a: Mat, b: Mat, accumulate: bool, c: &mut [f32]) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = if accumulate { c[i * n + j] } else { 0.0 };
            for p in 0..k {
                acc += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
            }
            c[i * n + j] = acc;
        }
    }
}

/// `c[m×n] = a·b + beta·c` with `matrixmultiply`.
fn mm_gemm(m: usize, k: usize, n: usize, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    assert!(
        a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs
            && b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs
            && c.len() >= m * n
    );
    // SAFETY: the assertion above keeps every element the strides name inside the slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// Copies `bias` into every row of `c`.
fn bias_rows(c: &mut [f32], bias: &[f32]) {
    for r in c.chunks_exact_mut(bias.len()) {
        r.copy_from_slice(bias);
    }
}

/// What a peer applies after the product, to match our fused epilogues.
#[derive(Clone, Copy)]
enum Epi<'a> {
    None,
    Bias(&'a [f32]),
    BiasTanh(&'a [f32]),
    /// `c *= 1 − h²`.
    TanhBackward(&'a [f32]),
}

fn peer((m, k, n): (usize, usize, usize), a: Mat, b: Mat, epi: Epi, c: &mut [f32], use_mm: bool) {
    let bias = match epi {
        Epi::Bias(b) | Epi::BiasTanh(b) => Some(b),
        _ => None,
    };
    if let Some(bias) = bias {
        bias_rows(c, bias);
    }
    if use_mm {
        mm_gemm(m, k, n, a, b, if bias.is_some() { 1.0 } else { 0.0 }, c);
    } else {
        naive_gemm(m, k, n, a, b, bias.is_some(), c);
    }
    match epi {
        Epi::BiasTanh(_) => c.iter_mut().for_each(|v| *v = v.tanh()),
        Epi::TanhBackward(h) => c.iter_mut().zip(h).for_each(|(v, &h)| *v *= 1.0 - h * h),
        Epi::None | Epi::Bias(_) => {}
    }
}

/// The training step's and sampling's tensors.
struct Data {
    x: Box<[[f32; IN]; B]>,
    w1: Box<[[f32; H]; IN]>,
    b1: Box<[f32; H]>,
    h: Box<[[f32; H]; B]>,
    w2: Box<[[f32; V]; H]>,
    b2: Box<[f32; V]>,
    dlogits: Box<[[f32; V]; B]>,
    dh: Box<[[f32; H]; B]>,
    targets: [u16; B],
}

impl Data {
    fn new() -> Data {
        let mut h = boxed::<B, H>(4, 3.0);
        h.as_flattened_mut().iter_mut().for_each(|v| *v = v.tanh());
        Data {
            x: boxed(1, 1.0),
            w1: boxed(2, 0.3),
            b1: Box::new(boxed::<1, H>(3, 0.1)[0]),
            h,
            w2: boxed(5, 0.1),
            b2: Box::new(boxed::<1, V>(6, 0.1)[0]),
            dlogits: boxed(7, 0.03),
            dh: boxed(8, 0.01),
            targets: core::array::from_fn(|i| (i * 7 % V) as u16),
        }
    }
}

/// Benches our kernel on every path plus the naive loop and `matrixmultiply` for one shape.
/// `ours(k, c)` runs our kernel into `c`; `a`, `b`, `epi` describe the same product for the peers.
#[allow(clippy::too_many_arguments)]
fn matmul_group(
    c: &mut Criterion,
    name: &str,
    (m, k, n): (usize, usize, usize),
    a: Mat,
    b: Mat,
    epi: Epi,
    ours: &dyn Fn(Kernels, &mut [f32]),
) {
    // Check that all four compute the same thing before timing them.
    let mut want = vec![0.0f32; m * n];
    peer((m, k, n), a, b, epi, &mut want, false);
    let mut got = vec![0.0f32; m * n];
    for kern in Kernels::all_supported() {
        ours(kern, &mut got);
        check_close(name, kern.path().name(), &got, &want);
    }
    peer((m, k, n), a, b, epi, &mut got, true);
    check_close(name, "matrixmultiply", &got, &want);

    let group = format!("{name} {m}x{k}x{n}");
    let flops = (2 * m * k * n) as f64;
    let mut g = c.benchmark_group(&group);
    g.throughput(Throughput::Elements(flops as u64));
    let mut out = vec![0.0f32; m * n];
    for kern in Kernels::all_supported() {
        bench(
            &mut g,
            &group,
            &format!("ours-{}", kern.path().name()),
            flops,
            || ours(black_box(kern), black_box(&mut out)),
        );
    }
    bench(&mut g, &group, "naive", flops, || {
        peer(
            (m, k, n),
            black_box(a),
            black_box(b),
            epi,
            black_box(&mut out),
            false,
        )
    });
    bench(&mut g, &group, "matrixmultiply", flops, || {
        peer(
            (m, k, n),
            black_box(a),
            black_box(b),
            epi,
            black_box(&mut out),
            true,
        )
    });
    g.finish();
}

fn check_close(shape: &str, who: &str, got: &[f32], want: &[f32]) {
    let scale = want.iter().fold(0.0f32, |a, &b| a.max(b.abs())).max(1e-6);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * scale,
            "{shape}: {who} [{i}] = {g} but naive = {w}"
        );
    }
}

fn matmuls(c: &mut Criterion) {
    let d = Data::new();
    let x = Mat::rows(d.x.as_flattened(), IN);
    let w1 = Mat::rows(d.w1.as_flattened(), H);
    let h = Mat::rows(d.h.as_flattened(), H);
    let w2 = Mat::rows(d.w2.as_flattened(), V);
    let dl = Mat::rows(d.dlogits.as_flattened(), V);
    let dh = Mat::rows(d.dh.as_flattened(), H);
    let (b1, b2) = (&d.b1[..], &d.b2[..]);
    let hf = d.h.as_flattened();

    // Forward, layer 1: tanh(x·W1 + b1), fused; and the bare product.
    matmul_group(
        c,
        "fwd1 tanh(xW1+b1)",
        (B, IN, H),
        x,
        w1,
        Epi::BiasTanh(b1),
        &|k, y| {
            k.fixed().linear_tanh(
                &d.x,
                &d.w1,
                &d.b1,
                y.as_chunks_mut::<H>().0.try_into().unwrap(),
            )
        },
    );
    matmul_group(c, "fwd1 xW1", (B, IN, H), x, w1, Epi::None, &|k, y| {
        k.fixed()
            .matmul(&d.x, &d.w1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    // Forward, layer 2: h·W2 + b2.
    matmul_group(
        c,
        "fwd2 hW2+b2",
        (B, H, V),
        h,
        w2,
        Epi::Bias(b2),
        &|k, y| {
            k.fixed().linear(
                &d.h,
                &d.w2,
                &d.b2,
                y.as_chunks_mut::<V>().0.try_into().unwrap(),
            )
        },
    );
    // Backward: dW2 = hᵀ·dlogits, dh = (dlogits·W2ᵀ) ⊙ (1 − h²), dW1 = xᵀ·dH, demb = dH·W1ᵀ.
    matmul_group(
        c,
        "dW2 hT·dlogits",
        (H, B, V),
        Mat::t(d.h.as_flattened(), H),
        dl,
        Epi::None,
        &|k, y| {
            k.fixed().matmul_tn(
                &d.h,
                &d.dlogits,
                y.as_chunks_mut::<V>().0.try_into().unwrap(),
            )
        },
    );
    matmul_group(
        c,
        "dh dlogits·W2T⊙(1-h²)",
        (B, V, H),
        dl,
        Mat::t(d.w2.as_flattened(), V),
        Epi::TanhBackward(hf),
        &|k, y| {
            k.fixed().matmul_nt_tanh_backward(
                &d.dlogits,
                &d.w2,
                &d.h,
                y.as_chunks_mut::<H>().0.try_into().unwrap(),
            )
        },
    );
    matmul_group(
        c,
        "dW1 xT·dH",
        (IN, B, H),
        Mat::t(d.x.as_flattened(), IN),
        dh,
        Epi::None,
        &|k, y| {
            k.fixed()
                .matmul_tn(&d.x, &d.dh, y.as_chunks_mut::<H>().0.try_into().unwrap())
        },
    );
    matmul_group(
        c,
        "demb dH·W1T",
        (B, H, IN),
        dh,
        Mat::t(d.w1.as_flattened(), H),
        Epi::None,
        &|k, y| {
            k.fixed()
                .matmul_nt(&d.dh, &d.w1, y.as_chunks_mut::<IN>().0.try_into().unwrap())
        },
    );

    // Sampling one symbol: a single row through both layers.
    let x1: &[[f32; IN]; 1] = d.x[..1].try_into().unwrap();
    let h1: &[[f32; H]; 1] = d.h[..1].try_into().unwrap();
    let x1m = Mat::rows(x1.as_flattened(), IN);
    let h1m = Mat::rows(h1.as_flattened(), H);
    matmul_group(
        c,
        "sample1 tanh(xW1+b1)",
        (1, IN, H),
        x1m,
        w1,
        Epi::BiasTanh(b1),
        &|k, y| {
            k.fixed().linear_tanh(
                x1,
                &d.w1,
                &d.b1,
                y.as_chunks_mut::<H>().0.try_into().unwrap(),
            )
        },
    );
    matmul_group(c, "sample1 xW1", (1, IN, H), x1m, w1, Epi::None, &|k, y| {
        k.fixed()
            .matmul(x1, &d.w1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(
        c,
        "sample2 hW2+b2",
        (1, H, V),
        h1m,
        w2,
        Epi::Bias(b2),
        &|k, y| {
            k.fixed().linear(
                h1,
                &d.w2,
                &d.b2,
                y.as_chunks_mut::<V>().0.try_into().unwrap(),
            )
        },
    );
}

fn tanh(c: &mut Criterion) {
    let mut src = vec![0.0f32; B * H];
    // Pre-activations as the hidden layer sees them: both branches and some saturation.
    fill(&mut src, 11, 4.0);
    let mut buf = src.clone();
    let group = format!("tanh {B}x{H}");
    let n = (B * H) as f64;
    let mut g = c.benchmark_group(&group);
    g.throughput(Throughput::Elements(n as u64));
    // Each call first restores the input (a 25 KB copy, the same for every contender).
    for k in Kernels::all_supported() {
        bench(
            &mut g,
            &group,
            &format!("ours-{}", k.path().name()),
            n,
            || {
                buf.copy_from_slice(&src);
                k.tanh(black_box(&mut buf));
            },
        );
    }
    bench(&mut g, &group, "libm::tanhf", n, || {
        buf.copy_from_slice(&src);
        black_box(&mut buf)
            .iter_mut()
            .for_each(|v| *v = libm::tanhf(*v));
    });
    bench(&mut g, &group, "std f32::tanh", n, || {
        buf.copy_from_slice(&src);
        black_box(&mut buf).iter_mut().for_each(|v| *v = v.tanh());
    });
    g.finish();
}

/// Mean cross-entropy and its gradient, written the obvious way.
fn naive_cross_entropy(
    logits: &[[f32; V]; B],
    targets: &[u16; B],
    dlogits: &mut [[f32; V]; B],
) -> f32 {
    let mut total = 0.0f32;
    for ((row, &t), g) in logits.iter().zip(targets).zip(dlogits.iter_mut()) {
        let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
        total += sum.ln() - (row[usize::from(t)] - max);
        for (j, (g, &x)) in g.iter_mut().zip(row).enumerate() {
            *g = ((x - max).exp() / sum - if j == usize::from(t) { 1.0 } else { 0.0 }) / B as f32;
        }
    }
    total / B as f32
}

fn cross_entropy(c: &mut Criterion) {
    let logits = boxed::<B, V>(12, 4.0);
    let d = Data::new();
    let mut grad = Box::new([[0.0f32; V]; B]);
    let group = format!("cross-entropy+grad {B}x{V}");
    let n = (B * V) as f64;
    let mut g = c.benchmark_group(&group);
    g.throughput(Throughput::Elements(n as u64));
    for k in Kernels::all_supported() {
        bench(
            &mut g,
            &group,
            &format!("ours-{}", k.path().name()),
            n,
            || {
                _ = black_box(k.fixed().cross_entropy(
                    black_box(&logits),
                    black_box(&d.targets),
                    Some(black_box(&mut grad)),
                ));
            },
        );
    }
    bench(&mut g, &group, "naive f32::exp/ln", n, || {
        black_box(naive_cross_entropy(
            black_box(&logits),
            black_box(&d.targets),
            black_box(&mut grad),
        ));
    });
    g.finish();
}

/// Prints every recorded contender's best-of-batches time as markdown tables: matmuls in ns and
/// GFLOP/s, the elementwise groups in ns and ns per element.
fn summary(_: &mut Criterion) {
    let cells = SUMMARY.lock().expect("summary lock").clone();
    let mut groups: Vec<&str> = Vec::new();
    let mut whos: Vec<&str> = Vec::new();
    for (g, w, _, _) in &cells {
        if !groups.contains(&g.as_str()) {
            groups.push(g);
        }
        if !whos.contains(&w.as_str()) {
            whos.push(w);
        }
    }
    let cell = |g: &str, w: &str| {
        cells
            .iter()
            .find(|c| c.0 == g && c.1 == w)
            .map(|c| (c.2, c.3))
    };
    println!(
        "\nBest of 0.2 ms batches over 0.3 s (ns per call; GFLOP/s for matmuls, ns/element otherwise):\n"
    );
    for matmul in [true, false] {
        let elementwise = |g: &str| g.starts_with("tanh ") || g.starts_with("cross-entropy");
        let gs: Vec<&str> = groups
            .iter()
            .copied()
            .filter(|g| elementwise(g) != matmul)
            .collect();
        let ws: Vec<&str> = whos
            .iter()
            .copied()
            .filter(|w| gs.iter().any(|g| cell(g, w).is_some()))
            .collect();
        if gs.is_empty() {
            continue;
        }
        println!(
            "| {} | {} |",
            if matmul { "matmul (M×K×N)" } else { "kernel" },
            ws.join(" | ")
        );
        println!("|---|{}", "---|".repeat(ws.len()));
        for g in gs {
            let row: Vec<String> = ws
                .iter()
                .map(|w| match cell(g, w) {
                    Some((ns, work)) if matmul => format!("{ns:.0} ns, {:.1} GFLOP/s", work / ns),
                    Some((ns, work)) => format!("{ns:.0} ns, {:.2} ns/elem", ns / work),
                    None => "–".to_string(),
                })
                .collect();
            println!("| {g} | {} |", row.join(" | "));
        }
        println!();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = matmuls, tanh, cross_entropy, summary
}
criterion_main!(benches);
