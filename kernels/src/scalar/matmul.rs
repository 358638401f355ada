//! Dense-layer matmuls in the three layouts forward and backward need, plus the bias gradient.
//!
//! All matrices are row-major. Every output element is accumulated in the same order:
//! the bias (or zero) first, then the products in increasing reduction index.

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

/// `Y[m×n] = epilogue(X[m×k] · W[k×n] (+ b[n]))`.
///
/// Output columns go in blocks of [`COLS`], whose sums stay in registers while the reduction
/// runs (on a Cortex-M4F this is what keeps the loop at a load, a multiply and an add per
/// product). The order of every sum is still the reference order.
#[allow(clippy::too_many_arguments)]
pub fn matmul_nn(
    m: usize,
    k: usize,
    n: usize,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    epi: Epilogue,
    y: &mut [f32],
) {
    if k == 0 || n == 0 {
        // No products: every output is its bias (or zero), through the epilogue.
        for yr in y.chunks_exact_mut(n.max(1)).take(m) {
            for (jj, yv) in yr.iter_mut().enumerate() {
                let acc = if epi == Epilogue::None { 0.0 } else { b[jj] };
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
    for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)).take(m) {
        let mut j = 0;
        while j + COLS <= n {
            // Eight named sums rather than an array: at `opt-level = "s"` (firmware) the
            // compiler keeps named locals in registers but not an array it does not unroll.
            let (mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7) =
                if epi == Epilogue::None {
                    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                } else {
                    let b = &b[j..j + COLS];
                    (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7])
                };
            // Rows of `W` as exact chunks: the block `j..j + 8` of each is in bounds because
            // `j + 8 ≤ n`, which the compiler sees once per block, not once per row.
            for (&xv, wrow) in xr.iter().zip(w.chunks_exact(n)) {
                let wr: &[f32; COLS] = match wrow[j..].first_chunk() {
                    Some(c) => c,
                    None => break,
                };
                a0 += xv * wr[0];
                a1 += xv * wr[1];
                a2 += xv * wr[2];
                a3 += xv * wr[3];
                a4 += xv * wr[4];
                a5 += xv * wr[5];
                a6 += xv * wr[6];
                a7 += xv * wr[7];
            }
            yr[j..j + COLS].copy_from_slice(&[a0, a1, a2, a3, a4, a5, a6, a7]);
            j += COLS;
        }
        for jj in j..n {
            let mut acc = if epi == Epilogue::None { 0.0 } else { b[jj] };
            for (&xv, wrow) in xr.iter().zip(w.chunks_exact(n)) {
                acc += xv * wrow[jj];
            }
            yr[jj] = acc;
        }
        if epi == Epilogue::BiasTanh {
            for yv in yr.iter_mut() {
                *yv = tanh(*yv);
            }
        }
    }
}

/// Output columns per register block of [`matmul_nn`].
pub const COLS: usize = 8;

/// `dW[k×n] = Xᵀ · dY` for `X[m×k]`, `dY[m×n]` (the weight gradient), overwriting `dW`.
pub fn matmul_tn(m: usize, k: usize, n: usize, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    dw[..k * n].fill(0.0);
    for (xr, dyr) in x.chunks_exact(k).zip(dy.chunks_exact(n)).take(m) {
        for (&xv, dwr) in xr.iter().zip(dw.chunks_exact_mut(n)) {
            for (d, &g) in dwr.iter_mut().zip(dyr) {
                *d += xv * g;
            }
        }
    }
}

/// `dX[m×k] = dY[m×n] · Wᵀ` for `W[k×n]` (the input gradient), overwriting `dX`; if `h` is given
/// (`h[m×k]`, the layer's tanh output) each element is then multiplied by `1 − h²`.
pub fn matmul_nt(
    m: usize,
    n: usize,
    k: usize,
    dy: &[f32],
    w: &[f32],
    h: Option<&[f32]>,
    dx: &mut [f32],
) {
    for (i, (dyr, dxr)) in dy
        .chunks_exact(n)
        .zip(dx.chunks_exact_mut(k))
        .take(m)
        .enumerate()
    {
        for (j, (d, wr)) in dxr.iter_mut().zip(w.chunks_exact(n)).enumerate() {
            let mut acc = 0.0f32;
            for (&g, &wv) in dyr.iter().zip(wr) {
                acc += g * wv;
            }
            *d = match h {
                Some(h) => {
                    let hv = h[i * k + j];
                    acc * (1.0 - hv * hv)
                }
                None => acc,
            };
        }
    }
}

/// `db[n] = Σ_rows dY[m×n]` (the bias gradient), overwriting `db`.
pub fn bias_grad(m: usize, n: usize, dy: &[f32], db: &mut [f32]) {
    db[..n].fill(0.0);
    for r in dy.chunks_exact(n).take(m) {
        for (d, &g) in db.iter_mut().zip(r) {
            *d += g;
        }
    }
}
