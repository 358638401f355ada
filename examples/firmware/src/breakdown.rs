//! Feature `breakdown`: where the instructions of one forward pass go, and what some faster
//! formulations would cost. For the 27 contexts `[., ., c]` it runs, each between markers that
//! the QEMU plugin counts:
//!
//! * the stages of `forward_one` with the library's scalar kernels: `embed`, `layer1`
//!   (`x·W1 + b1`), `tanh`, `layer2` (`h·W2 + b2`), `softmax`;
//! * prototypes (firmware-only, not library code): the same matmuls register-blocked over
//!   8 or 16 output columns (`l1_blk8`, `l1_blk16`, `l2_blk8`, `l2_blk16`), layer 1 from a
//!   per-position table `T[p][v] = C[v]·W1[p·E..(p+1)·E]` (`l1_table`: three row adds; the
//!   table would be baked into flash at build time, here only the rows needed are computed,
//!   outside the counted region), and a rational tanh (`tanh_rat`).
//!
//! It prints whether each prototype is bit-identical to the library's result.

use core::hint::black_box;

use charmlp::{Kernels, ParamsRef};

use super::{B, Console, E, H, IN, V};

macro_rules! markers {
    ($($name:ident = $tag:literal),* $(,)?) => {$(
        #[unsafe(no_mangle)]
        #[inline(never)]
        pub extern "C" fn $name() {
            black_box($tag as u32);
        }
    )*};
}
markers!(
    insn_embed = 10,
    insn_layer1 = 11,
    insn_tanh = 12,
    insn_layer2 = 13,
    insn_softmax = 14,
    insn_l1_blk8 = 15,
    insn_l1_blk16 = 16,
    insn_l2_blk8 = 17,
    insn_l2_blk16 = 18,
    insn_l1_table = 19,
    insn_tanh_rat = 20,
);

/// `y[j..j+W] = b[j..j+W] + Σ_i x[i]·w[i][j..j+W]`, the `W` sums kept in registers. Each sum is
/// accumulated in the reference order (bias, then increasing `i`), so the result is
/// bit-identical to the scalar kernel.
#[inline(always)]
fn cols<const W: usize, const K: usize, const N: usize>(
    x: &[f32; K],
    w: &[[f32; N]; K],
    b: &[f32; N],
    y: &mut [f32; N],
    j: usize,
) {
    let mut acc = [0.0f32; W];
    acc.copy_from_slice(&b[j..j + W]);
    for (&xi, row) in x.iter().zip(w) {
        for (a, &wv) in acc.iter_mut().zip(&row[j..j + W]) {
            *a += xi * wv;
        }
    }
    y[j..j + W].copy_from_slice(&acc);
}

/// `y = x·w + b`, register-blocked over `W` output columns (then 4, 2, 1 for the rest).
#[inline(never)]
fn linear_blocked<const W: usize, const K: usize, const N: usize>(
    x: &[f32; K],
    w: &[[f32; N]; K],
    b: &[f32; N],
    y: &mut [f32; N],
) {
    let mut j = 0;
    while N - j >= W {
        cols::<W, K, N>(x, w, b, y, j);
        j += W;
    }
    if W > 8 && N - j >= 8 {
        cols::<8, K, N>(x, w, b, y, j);
        j += 8;
    }
    if N - j >= 4 {
        cols::<4, K, N>(x, w, b, y, j);
        j += 4;
    }
    if N - j >= 2 {
        cols::<2, K, N>(x, w, b, y, j);
        j += 2;
    }
    if N - j >= 1 {
        cols::<1, K, N>(x, w, b, y, j);
    }
}

/// Layer 1 from the per-position table rows: `y = ((b + t0) + t1) + t2`.
#[inline(never)]
fn layer1_table(b: &[f32; H], t: &[[f32; H]; B], y: &mut [f32; H]) {
    y.copy_from_slice(b);
    for row in t {
        for (yv, &tv) in y.iter_mut().zip(row) {
            *yv += tv;
        }
    }
}

/// A rational tanh (Eigen's `generic_fast_tanh_float` coefficients): odd degree-13 numerator
/// over a degree-6 denominator, clamped at ±7.905.
#[inline(never)]
fn tanh_rational(h: &mut [f32; H]) {
    for v in h.iter_mut() {
        let x = v.clamp(-7.905_311, 7.905_311);
        let x2 = x * x;
        let mut p = -2.760_768_5e-16f32;
        p = p * x2 + 2.000_188e-13;
        p = p * x2 + -8.604_672e-11;
        p = p * x2 + 5.122_297e-8;
        p = p * x2 + 1.485_722_4e-5;
        p = p * x2 + 6.372_619_3e-4;
        p = p * x2 + 4.893_524_6e-3;
        let mut q = 1.198_258_4e-6f32;
        q = q * x2 + 1.185_347_1e-4;
        q = q * x2 + 2.268_434_6e-3;
        q = q * x2 + 4.893_525e-3;
        *v = if x.abs() < 4e-4 { x } else { x * p / q };
    }
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Largest distance in units in the last place (for same-sign finite values).
fn max_ulps(a: &[f32], b: &[f32]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.to_bits() as i32).abs_diff(y.to_bits() as i32))
        .max()
        .unwrap_or(0)
}

/// Largest absolute difference, in units of 1e-9 (printed without float formatting).
fn max_abs_nano(a: &[f32], b: &[f32]) -> u32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y).abs() * 1e9) as u32)
        .max()
        .unwrap_or(0)
}

pub fn run(p: ParamsRef<'_, V, B, E, IN, H>, con: &mut Console) {
    let k = Kernels::scalar();
    let (mut blk_ok, mut table_nano, mut tanh_ulps) = (true, 0u32, 0u32);
    for c in 0..V as u8 {
        let ctx = black_box([[0, 0, c]]);
        let mut emb = [[0.0f32; IN]; 1];
        let (mut h, mut logits, mut probs) = ([[0.0f32; H]; 1], [[0.0f32; V]; 1], [0.0f32; V]);

        // The library's kernels, stage by stage (what `forward_one` + softmax run).
        super::insn_restart();
        let ok = k.embed_gather(p.c, &ctx, &mut emb).is_ok();
        insn_embed();
        k.linear(&emb, p.w1, p.b1, &mut h);
        insn_layer1();
        let pre = h[0];
        k.tanh(&mut h[0]);
        insn_tanh();
        k.linear(&h, p.w2, p.b2, &mut logits);
        insn_layer2();
        k.softmax(&logits[0], 1.0, &mut probs);
        insn_softmax();
        black_box((ok, &probs));

        // Register-blocked matmuls: must be bit-identical.
        let mut y1 = [0.0f32; H];
        let mut y2 = [0.0f32; V];
        super::insn_restart();
        linear_blocked::<8, IN, H>(&emb[0], p.w1, p.b1, &mut y1);
        insn_l1_blk8();
        blk_ok &= same_bits(&y1, &pre);
        linear_blocked::<16, IN, H>(&emb[0], p.w1, p.b1, &mut y1);
        insn_l1_blk16();
        blk_ok &= same_bits(&y1, &pre);
        linear_blocked::<8, H, V>(&h[0], p.w2, p.b2, &mut y2);
        insn_l2_blk8();
        blk_ok &= same_bits(&y2, &logits[0]);
        linear_blocked::<16, H, V>(&h[0], p.w2, p.b2, &mut y2);
        insn_l2_blk16();
        blk_ok &= same_bits(&y2, &logits[0]);

        // Layer 1 from table rows (computed here, uncounted; baked into flash in the proposal).
        let mut t = [[0.0f32; H]; B];
        for (pos, row) in t.iter_mut().enumerate() {
            let sym = usize::from(ctx[0][pos]);
            for (e, &cv) in p.c[sym].iter().enumerate() {
                for (tv, &wv) in row.iter_mut().zip(&p.w1[pos * E + e]) {
                    *tv += cv * wv;
                }
            }
        }
        super::insn_restart();
        layer1_table(p.b1, black_box(&t), &mut y1);
        insn_l1_table();
        table_nano = table_nano.max(max_abs_nano(&y1, &pre));

        // A rational tanh instead of the exp-based one.
        let mut r = pre;
        super::insn_restart();
        tanh_rational(&mut r);
        insn_tanh_rat();
        tanh_ulps = tanh_ulps.max(max_ulps(&r, &h[0]));
    }
    con.str("# breakdown: blocked matmuls bit-identical to the library's: ")
        .str(if blk_ok { "yes" } else { "NO" })
        .str("\n# breakdown: table layer 1, max |difference| from the library's pre-activation: ")
        .num(table_nano as usize)
        .str("e-9")
        .str("\n# breakdown: rational tanh, max ulps from the library's tanh: ")
        .num(tanh_ulps as usize)
        .str("\n");
}
