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

use std::hint::black_box;
use std::time::Duration;

use charmlp_kernels::Kernels;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const B: usize = 32;
const IN: usize = 30;
const H: usize = 200;
const V: usize = 27;

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
        Mat { data, rs: cols, cs: 1 }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    fn t(data: &'a [f32], cols: usize) -> Self {
        Mat { data, rs: 1, cs: cols }
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
    assert!(a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs && b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs && c.len() >= m * n);
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

fn peer(m: usize, k: usize, n: usize, a: Mat, b: Mat, epi: Epi, c: &mut [f32], use_mm: bool) {
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
    targets: [u8; B],
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
            targets: core::array::from_fn(|i| (i * 7 % V) as u8),
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
    peer(m, k, n, a, b, epi, &mut want, false);
    let mut got = vec![0.0f32; m * n];
    for kern in Kernels::all_supported() {
        ours(kern, &mut got);
        check_close(name, kern.path().name(), &got, &want);
    }
    peer(m, k, n, a, b, epi, &mut got, true);
    check_close(name, "matrixmultiply", &got, &want);

    let mut g = c.benchmark_group(format!("{name} {m}x{k}x{n}"));
    g.throughput(Throughput::Elements((2 * m * k * n) as u64));
    let mut out = vec![0.0f32; m * n];
    for kern in Kernels::all_supported() {
        g.bench_function(format!("ours-{}", kern.path().name()), |bch| {
            bch.iter(|| {
                ours(black_box(kern), black_box(&mut out));
            })
        });
    }
    g.bench_function("naive", |bch| bch.iter(|| peer(m, k, n, black_box(a), black_box(b), epi, black_box(&mut out), false)));
    g.bench_function("matrixmultiply", |bch| bch.iter(|| peer(m, k, n, black_box(a), black_box(b), epi, black_box(&mut out), true)));
    g.finish();
}

fn check_close(shape: &str, who: &str, got: &[f32], want: &[f32]) {
    let scale = want.iter().fold(0.0f32, |a, &b| a.max(b.abs())).max(1e-6);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-4 * scale, "{shape}: {who} [{i}] = {g} but naive = {w}");
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
    matmul_group(c, "fwd1 tanh(xW1+b1)", (B, IN, H), x, w1, Epi::BiasTanh(b1), &|k, y| {
        k.linear_tanh(&d.x, &d.w1, &d.b1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(c, "fwd1 xW1", (B, IN, H), x, w1, Epi::None, &|k, y| {
        k.matmul(&d.x, &d.w1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    // Forward, layer 2: h·W2 + b2.
    matmul_group(c, "fwd2 hW2+b2", (B, H, V), h, w2, Epi::Bias(b2), &|k, y| {
        k.linear(&d.h, &d.w2, &d.b2, y.as_chunks_mut::<V>().0.try_into().unwrap())
    });
    // Backward: dW2 = hᵀ·dlogits, dh = (dlogits·W2ᵀ) ⊙ (1 − h²), dW1 = xᵀ·dH, demb = dH·W1ᵀ.
    matmul_group(c, "dW2 hT·dlogits", (H, B, V), Mat::t(d.h.as_flattened(), H), dl, Epi::None, &|k, y| {
        k.matmul_tn(&d.h, &d.dlogits, y.as_chunks_mut::<V>().0.try_into().unwrap())
    });
    matmul_group(c, "dh dlogits·W2T⊙(1-h²)", (B, V, H), dl, Mat::t(d.w2.as_flattened(), V), Epi::TanhBackward(hf), &|k, y| {
        k.matmul_nt_tanh_backward(&d.dlogits, &d.w2, &d.h, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(c, "dW1 xT·dH", (IN, B, H), Mat::t(d.x.as_flattened(), IN), dh, Epi::None, &|k, y| {
        k.matmul_tn(&d.x, &d.dh, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(c, "demb dH·W1T", (B, H, IN), dh, Mat::t(d.w1.as_flattened(), H), Epi::None, &|k, y| {
        k.matmul_nt(&d.dh, &d.w1, y.as_chunks_mut::<IN>().0.try_into().unwrap())
    });

    // Sampling one symbol: a single row through both layers.
    let x1: &[[f32; IN]; 1] = d.x[..1].try_into().unwrap();
    let h1: &[[f32; H]; 1] = d.h[..1].try_into().unwrap();
    let x1m = Mat::rows(x1.as_flattened(), IN);
    let h1m = Mat::rows(h1.as_flattened(), H);
    matmul_group(c, "sample1 tanh(xW1+b1)", (1, IN, H), x1m, w1, Epi::BiasTanh(b1), &|k, y| {
        k.linear_tanh(x1, &d.w1, &d.b1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(c, "sample1 xW1", (1, IN, H), x1m, w1, Epi::None, &|k, y| {
        k.matmul(x1, &d.w1, y.as_chunks_mut::<H>().0.try_into().unwrap())
    });
    matmul_group(c, "sample2 hW2+b2", (1, H, V), h1m, w2, Epi::Bias(b2), &|k, y| {
        k.linear(h1, &d.w2, &d.b2, y.as_chunks_mut::<V>().0.try_into().unwrap())
    });
}

fn tanh(c: &mut Criterion) {
    let mut src = vec![0.0f32; B * H];
    // Pre-activations as the hidden layer sees them: both branches and some saturation.
    fill(&mut src, 11, 4.0);
    let mut buf = src.clone();
    let mut g = c.benchmark_group(format!("tanh {B}x{H}"));
    g.throughput(Throughput::Elements((B * H) as u64));
    for k in Kernels::all_supported() {
        g.bench_function(format!("ours-{}", k.path().name()), |bch| {
            bch.iter(|| {
                buf.copy_from_slice(&src);
                k.tanh(black_box(&mut buf));
            })
        });
    }
    g.bench_function("libm::tanhf", |bch| {
        bch.iter(|| {
            buf.copy_from_slice(&src);
            black_box(&mut buf).iter_mut().for_each(|v| *v = libm::tanhf(*v));
        })
    });
    g.bench_function("std f32::tanh", |bch| {
        bch.iter(|| {
            buf.copy_from_slice(&src);
            black_box(&mut buf).iter_mut().for_each(|v| *v = v.tanh());
        })
    });
    g.finish();
}

/// Mean cross-entropy and its gradient, written the obvious way.
fn naive_cross_entropy(logits: &[[f32; V]; B], targets: &[u8; B], dlogits: &mut [[f32; V]; B]) -> f32 {
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
    let mut g = c.benchmark_group(format!("cross-entropy+grad {B}x{V}"));
    g.throughput(Throughput::Elements((B * V) as u64));
    for k in Kernels::all_supported() {
        g.bench_function(format!("ours-{}", k.path().name()), |bch| {
            bch.iter(|| k.cross_entropy(black_box(&logits), black_box(&d.targets), Some(black_box(&mut grad))))
        });
    }
    g.bench_function("naive f32::exp/ln", |bch| {
        bch.iter(|| naive_cross_entropy(black_box(&logits), black_box(&d.targets), black_box(&mut grad)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = matmuls, tanh, cross_entropy
}
criterion_main!(benches);
