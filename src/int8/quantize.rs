//! Post-training quantization of an f32 model to an int8 file (feature `std`).
//!
//! The scheme (symmetric, round half to even, weights in `−127..=127`):
//! * `C`: one scale for the whole table, `s_C = max|C|/127` (layer 1 sums rows of different
//!   symbols, so they share a scale);
//! * `W1`, `W2`: one scale per output unit (a column of the lecture's `W1[B·E][H]`, `W2[H][V]`),
//!   `s_j = max_i |W_ij|/127`; stored transposed;
//! * `b1_j = round(b1/(s_C·s1_j))`, `b2_k = round(b2/(s_h·s2_k))` with `s_h = 1/127`, the scale
//!   of the int8 tanh output;
//! * the requantizations to `1/64`: `m1_j = round(64·s_C·s1_j·2^S1)`, `m2_k = round(64·s_h·s2_k·2^S2)`
//!   with one shift per layer, the largest that keeps every multiplier below 2³¹.

use std::vec::Vec;

use super::file::Layout;
use crate::params::ParamsView;
use crate::vocab::VocabView;
use crate::weights::emit_header;
use crate::weights::format::{DTYPE_INT8, VERSION_INT8};
use crate::weights::{WeightsError, crc32};

/// Symmetric int8 of `x / scale`, round half to even.
fn q8(x: f32, scale: f64) -> i8 {
    (f64::from(x) / scale)
        .round_ties_even()
        .clamp(-127.0, 127.0) as i8
}

/// `max|x|/127`, or 1 for an all-zero tensor.
fn scale_of(it: impl Iterator<Item = f32>) -> f64 {
    let m = it.fold(0.0f64, |m, x| m.max(f64::from(x).abs()));
    if m > 0.0 { m / 127.0 } else { 1.0 }
}

/// The shift and multipliers for real factors `r` (all > 0): the largest `S ≤ 62` with every
/// `round(r·2^S) < 2³¹`; each multiplier at least 1.
fn multipliers(r: &[f64]) -> (u32, Vec<i32>) {
    let top = r.iter().fold(0.0f64, |a, &b| a.max(b));
    let mut s = 62u32;
    while s > 1 && (top * 2f64.powi(s as i32)).round() >= 2147483647.0 {
        s -= 1;
    }
    let m = r
        .iter()
        .map(|&x| (x * 2f64.powi(s as i32)).round().clamp(1.0, 2147483647.0) as i32)
        .collect();
    (s, m)
}

/// Quantizes a dense layer `w[k][n]` (row-major, as trained) with bias `b` whose input has the
/// scale `s_in`: writes `Wᵀ` (int8, one scale per output unit) at `at.0` and the int32 bias at
/// `at.1` of `out`; returns each unit's factor to `1/64` units, `64·s_in·s_j`.
#[allow(clippy::too_many_arguments)]
fn layer(
    out: &mut [u8],
    w: &[f32],
    k: usize,
    n: usize,
    b: &[f32],
    s_in: f64,
    at: (usize, usize),
    bias_name: &'static str,
) -> Result<Vec<f64>, WeightsError> {
    let mut r = Vec::with_capacity(n);
    for j in 0..n {
        let sj = scale_of((0..k).map(|i| w[i * n + j]));
        for i in 0..k {
            out[at.0 + j * k + i] = q8(w[i * n + j], sj) as u8;
        }
        let bq = (f64::from(b[j]) / (s_in * sj)).round_ties_even();
        if bq.abs() > (i32::MAX as f64 - 127.0 * 127.0 * k as f64) {
            return Err(WeightsError::Quantization {
                tensor: bias_name,
                index: j,
            });
        }
        out[at.1 + 4 * j..at.1 + 4 * j + 4].copy_from_slice(&(bq as i32).to_le_bytes());
        r.push(64.0 * s_in * sj);
    }
    Ok(r)
}

/// The int8 file of `p` with its vocabulary `vocab` (see the module docs for the scheme).
///
/// # Errors
/// [`WeightsError::Quantization`] if a bias does not fit int32 next to its sum, or a factor is
/// not finite and positive (an f32 file that read back is always finite).
pub fn quantize(p: &ParamsView<'_>, vocab: VocabView<'_>) -> Result<Vec<u8>, WeightsError> {
    let s = p.shape();
    let (v, h, inp) = (s.vocab(), s.hidden(), s.input());
    let mut out = Vec::new();
    let text_len = emit_header(VERSION_INT8, DTYPE_INT8, s, vocab, |b| {
        out.extend_from_slice(b)
    });
    let l = Layout::new(s, text_len);
    out.resize(l.len, 0);

    let c = p.c().as_slice();
    let w1 = p.w1().as_slice();
    let w2 = p.w2().as_slice();
    let (b1, b2) = (p.b1(), p.b2());
    let s_c = scale_of(c.iter().copied());
    for (o, &x) in out[l.c..l.w1t].iter_mut().zip(c) {
        *o = q8(x, s_c) as u8;
    }
    let s_h = 1.0 / 127.0;
    let bad = |tensor, index| WeightsError::Quantization { tensor, index };
    let r1 = layer(&mut out, w1, inp, h, b1, s_c, (l.w1t, l.b1), "b1")?;
    let r2 = layer(&mut out, w2, h, v, b2, s_h, (l.w2t, l.b2), "b2")?;
    for (name, r) in [("m1", &r1), ("m2", &r2)] {
        if let Some(i) = r.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(bad(name, i));
        }
    }
    let (s1, m1) = multipliers(&r1);
    let (s2, m2) = multipliers(&r2);
    out[l.shifts..l.shifts + 4].copy_from_slice(&s1.to_le_bytes());
    out[l.shifts + 4..l.shifts + 8].copy_from_slice(&s2.to_le_bytes());
    for (at, m) in [(l.m1, &m1), (l.m2, &m2)] {
        for (j, x) in m.iter().enumerate() {
            out[at + 4 * j..at + 4 * j + 4].copy_from_slice(&x.to_le_bytes());
        }
    }
    let crc = crc32(&out[..l.crc]);
    out[l.crc..].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}
