//! This core's f32 FMA peak on a path, measured (feature `std`): the yardstick the benches print
//! every kernel's speed against ("fraction of peak").
//!
//! The loop runs 12 independent vector FMA chains (more than latency × ports on current x86 and
//! Arm cores), so it is bound by FMA throughput alone; the best of several timed blocks is kept,
//! which is robust to other load on the machine.

use std::time::{Duration, Instant};

use crate::Kernels;

/// GFLOP/s (an FMA is 2 flops per lane) of one core on `k`'s path with its widest vectors,
/// measured for about `total`; `None` for the scalar path (it has no vector FMA to measure).
pub fn fma_gflops(k: Kernels, total: Duration) -> Option<f64> {
    crate::simd_peak(k, 1)?;
    // Calibrate a block to ~10 ms.
    let mut iters = 1usize << 16;
    loop {
        let t = Instant::now();
        crate::simd_peak(k, iters)?;
        let dt = t.elapsed();
        if dt > Duration::from_millis(10) || iters > 1 << 30 {
            break;
        }
        iters *= 2;
    }
    let (mut best, start) = (f64::MAX, Instant::now());
    let mut lanes = 0;
    while start.elapsed() < total || best == f64::MAX {
        let t = Instant::now();
        let (l, v) = crate::simd_peak(k, iters)?;
        std::hint::black_box(v);
        lanes = l;
        best = best.min(t.elapsed().as_secs_f64());
    }
    let flops = iters as f64 * crate::FMA_CHAINS as f64 * lanes as f64 * 2.0;
    Some(flops / best / 1e9)
}
