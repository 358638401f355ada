//! Dense-layer matmuls in the three layouts forward and backward need, plus the bias gradient.
//!
//! All matrices are row-major. **Reference arithmetic v2** (every path gives these bits):
//!
//! * a *chain* over indices `p = p0, p0+1, …, p1−1` is `t = x[p0]·w[p0]` (one rounding), then
//!   `t = fma(x[p], w[p], t)` in increasing `p`;
//! * a forward layer whose `K` inputs are cut into segments of `seg` (the first layer: one
//!   segment per context position, `seg = E`; the output layer: one segment, `seg = H`) is
//!   `y = ((b + T₀) + T₁) + …` — each `Tₛ` the chain over its segment, the adds in segment
//!   order (without a bias: `(T₀ + T₁) + …`). A baked per-position table of `Tₛ` therefore gives
//!   bit-identical layers;
//! * `dW = Xᵀ·dY` is, per element, the chain over the rows; `dX = dY·Wᵀ` the chain over the
//!   columns of `dY`, then (fused tanh backward) `dX ·= fma(−h, h, 1)`;
//! * `db = ((0 + dY₀) + dY₁) + …`, the rows in order.

use super::fma::fma;
use super::tanh::tanh;

/// What happens to `X·W` before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// Store `X·W` as is.
    None,
    /// Store `X·W + b`.
    Bias,
    /// Store `tanh(X·W + b)`.
    BiasTanh,
}

/// Output columns per register block of [`matmul_nn`].
pub const COLS: usize = 8;

/// `Y[m×n] = epi(X[m×k] · W[k×n] (+ b[n]))`, the `k` inputs in segments of `seg` (see the module
/// docs; `seg` divides `k`, `seg = k` for one segment).
///
/// Output columns go in blocks of [`COLS`], whose sums stay in registers while a segment runs (on
/// a Cortex-M this keeps the loop at a load and a multiply-add per product); the order of every
/// sum is the reference order.
#[allow(clippy::too_many_arguments)]
pub fn matmul_nn(
    m: usize,
    k: usize,
    n: usize,
    seg: usize,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    epi: Epilogue,
    y: &mut [f32],
) {
    let seg = if seg == 0 || !k.is_multiple_of(seg) {
        k
    } else {
        seg
    };
    if n == 0 {
        return;
    }
    if k == 0 {
        // No products: one empty chain, `T = +0`.
        for yr in y.chunks_exact_mut(n).take(m) {
            for (jj, yv) in yr.iter_mut().enumerate() {
                let acc = if epi == Epilogue::None {
                    0.0
                } else {
                    b[jj] + 0.0
                };
                *yv = if epi == Epilogue::BiasTanh {
                    tanh(acc)
                } else {
                    acc
                };
            }
        }
        return;
    }
    let w = &w[..k * n];
    // On the Cortex-M FPU targets this reference is only the fallback behind the VFP kernels
    // (which take every shape but `n < 4`): there it is the per-column loop alone, the same
    // chains in the same order, in a quarter of the code.
    let blocked = !cfg!(charmlp_arm_fpu);
    for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)).take(m) {
        let mut j = 0;
        while blocked && j + COLS <= n {
            let mut out = [0.0f32; COLS];
            for (s, (xs, ws)) in xr
                .chunks_exact(seg)
                .zip(w.chunks_exact(seg * n))
                .enumerate()
            {
                let t = chain8(xs, ws, n, j);
                for (q, o) in out.iter_mut().enumerate() {
                    *o = if s == 0 {
                        if epi == Epilogue::None {
                            t[q]
                        } else {
                            b[j + q] + t[q]
                        }
                    } else {
                        *o + t[q]
                    };
                }
            }
            yr[j..j + COLS].copy_from_slice(&out);
            j += COLS;
        }
        for jj in j..n {
            let mut o = 0.0f32;
            for (s, (xs, ws)) in xr
                .chunks_exact(seg)
                .zip(w.chunks_exact(seg * n))
                .enumerate()
            {
                let mut rows = xs.iter().zip(ws.chunks_exact(n));
                let mut t = match rows.next() {
                    Some((&xv, wr)) => xv * wr[jj],
                    None => 0.0,
                };
                for (&xv, wr) in rows {
                    t = fma(xv, wr[jj], t);
                }
                o = if s == 0 {
                    if epi == Epilogue::None { t } else { b[jj] + t }
                } else {
                    o + t
                };
            }
            yr[jj] = o;
        }
        if epi == Epilogue::BiasTanh {
            for yv in yr.iter_mut() {
                *yv = tanh(*yv);
            }
        }
    }
}

/// The chains of columns `j..j + 8` over one segment: `xs` its inputs, `ws` its rows of `W` (row
/// stride `n`, `j + 8 ≤ n`).
#[inline(always)]
fn chain8(xs: &[f32], ws: &[f32], n: usize, j: usize) -> [f32; COLS] {
    let mut rows = xs.iter().zip(ws.chunks_exact(n));
    let Some((&x0, w0)) = rows.next() else {
        return [0.0; COLS];
    };
    let Some(w0) = w0[j..].first_chunk::<COLS>() else {
        return [0.0; COLS];
    };
    // Eight named sums rather than an array: at `opt-level = "s"` (firmware) the compiler keeps
    // named locals in registers but not an array it does not unroll.
    let (mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7) = (
        x0 * w0[0],
        x0 * w0[1],
        x0 * w0[2],
        x0 * w0[3],
        x0 * w0[4],
        x0 * w0[5],
        x0 * w0[6],
        x0 * w0[7],
    );
    for (&xv, wrow) in rows {
        let Some(wr) = wrow[j..].first_chunk::<COLS>() else {
            break;
        };
        a0 = fma(xv, wr[0], a0);
        a1 = fma(xv, wr[1], a1);
        a2 = fma(xv, wr[2], a2);
        a3 = fma(xv, wr[3], a3);
        a4 = fma(xv, wr[4], a4);
        a5 = fma(xv, wr[5], a5);
        a6 = fma(xv, wr[6], a6);
        a7 = fma(xv, wr[7], a7);
    }
    [a0, a1, a2, a3, a4, a5, a6, a7]
}

/// `dW[k×n] = Xᵀ · dY` for `X[m×k]`, `dY[m×n]` (the weight gradient), overwriting `dW`: each
/// element the chain over the `m` rows (`0` for `m = 0`).
pub fn matmul_tn(m: usize, k: usize, n: usize, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    dw[..k * n].fill(0.0);
    if n == 0 || k == 0 {
        return;
    }
    for (r, (xr, dyr)) in x
        .chunks_exact(k)
        .zip(dy.chunks_exact(n))
        .take(m)
        .enumerate()
    {
        for (&xv, dwr) in xr.iter().zip(dw.chunks_exact_mut(n)) {
            for (d, &g) in dwr.iter_mut().zip(dyr) {
                *d = if r == 0 { xv * g } else { fma(xv, g, *d) };
            }
        }
    }
}

/// Columns per stack block of [`matmul_tn_sgd`] and [`bias_grad_sgd`].
const SGD_COLS: usize = 64;

/// `W[k×n] ← W − lr·(Xᵀ·dY)`, each element `fma(−lr, g, w)` with `g` the chain of
/// [`matmul_tn`]: the SGD update applied as the weight gradient is produced, with the bits of
/// `matmul_tn` then [`super::sgd`], and no gradient buffer.
pub fn matmul_tn_sgd(m: usize, k: usize, n: usize, x: &[f32], dy: &[f32], w: &mut [f32], lr: f32) {
    // With no rows every gradient is 0 and `fma(−lr, 0, w) = w`.
    if m == 0 || n == 0 {
        return;
    }
    for (i, wr) in w.chunks_exact_mut(n).take(k).enumerate() {
        for (jb, wb) in wr.chunks_mut(SGD_COLS).enumerate() {
            let j0 = jb * SGD_COLS;
            let mut acc = [0.0f32; SGD_COLS];
            for r in 0..m {
                let xv = x[r * k + i];
                let dyr = &dy[r * n + j0..r * n + j0 + wb.len()];
                for (a, &g) in acc.iter_mut().zip(dyr) {
                    *a = if r == 0 { xv * g } else { fma(xv, g, *a) };
                }
            }
            for (wv, &g) in wb.iter_mut().zip(&acc) {
                *wv = fma(-lr, g, *wv);
            }
        }
    }
}

/// `b[n] ← b − lr·Σ_rows dY`, each element `fma(−lr, g, b)` with `g = ((0 + dY₀) + dY₁) + …`
/// ([`bias_grad`]'s sum), no gradient buffer.
pub fn bias_grad_sgd(m: usize, n: usize, dy: &[f32], b: &mut [f32], lr: f32) {
    for (jb, bb) in b[..n].chunks_mut(SGD_COLS).enumerate() {
        let j0 = jb * SGD_COLS;
        let mut acc = [0.0f32; SGD_COLS];
        for r in dy.chunks_exact(n).take(m) {
            for (a, &g) in acc.iter_mut().zip(&r[j0..j0 + bb.len()]) {
                *a += g;
            }
        }
        for (bv, &g) in bb.iter_mut().zip(&acc) {
            *bv = fma(-lr, g, *bv);
        }
    }
}

/// `dX[m×k] = dY[m×n] · Wᵀ` for `W[k×n]` (the input gradient), overwriting `dX`: each element the
/// chain over the `n` columns; if `h` is given (`h[m×k]`, the layer's tanh output) it is then
/// multiplied by `fma(−h, h, 1) = 1 − h²`.
pub fn matmul_nt(
    m: usize,
    n: usize,
    k: usize,
    dy: &[f32],
    w: &[f32],
    h: Option<&[f32]>,
    dx: &mut [f32],
) {
    if k == 0 {
        return;
    }
    for (i, (dyr, dxr)) in dy
        .chunks_exact(n.max(1))
        .zip(dx.chunks_exact_mut(k))
        .take(m)
        .enumerate()
    {
        for (j, (d, wr)) in dxr.iter_mut().zip(w.chunks_exact(n.max(1))).enumerate() {
            let mut terms = dyr.iter().zip(wr).take(n);
            let mut acc = match terms.next() {
                Some((&g, &wv)) => g * wv,
                None => 0.0,
            };
            for (&g, &wv) in terms {
                acc = fma(g, wv, acc);
            }
            *d = match h {
                Some(h) => {
                    let hv = h[i * k + j];
                    acc * fma(-hv, hv, 1.0)
                }
                None => acc,
            };
        }
    }
}

/// `db[n] = Σ_rows dY[m×n]` (the bias gradient), overwriting `db`: `((0 + dY₀) + dY₁) + …`.
pub fn bias_grad(m: usize, n: usize, dy: &[f32], db: &mut [f32]) {
    db[..n].fill(0.0);
    if n == 0 {
        return;
    }
    for r in dy.chunks_exact(n).take(m) {
        for (d, &g) in db.iter_mut().zip(r) {
            *d += g;
        }
    }
}
