//! What the benches share: a load-robust timer.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// The fastest of many short batches, in ns per call. On a shared machine, criterion's mean
/// includes time slices lost to other processes; a short batch that ran undisturbed does not.
pub fn best_ns(mut f: impl FnMut()) -> f64 {
    best_ns_for(Duration::from_millis(300), &mut f)
}

/// [`best_ns`] over batches of about 0.2 ms for `total`.
pub fn best_ns_for(total: Duration, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    let once = t.elapsed().as_nanos().max(1) as f64;
    let reps = ((200_000.0 / once) as usize).clamp(1, 10_000);
    let start = Instant::now();
    let mut best = f64::MAX;
    while start.elapsed() < total {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / reps as f64);
    }
    best
}
