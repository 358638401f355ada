//! Exhaustive tanh accuracy: every finite f32 through every path this CPU runs, against the
//! f64 `tanh` of `std` (its error, about 1 f64 ulp, is 2⁻²⁹ of an f32 ulp and does not show).
//!
//! ```text
//! cargo run --release -p charmlp-kernels --example tanh_ulp
//! ```
//!
//! Reports, per path, the maximum error in ulps of the correctly rounded result (the same
//! measure as `kernels/tests/common::ulps`), the argument where it occurs, the maximum per
//! branch of the algorithm, and how many results are more than 1 ulp (and more than ½ ulp, i.e.
//! not correctly rounded) away. It also checks oddness bit for bit: each negative argument is
//! evaluated by the kernel and must give exactly the negated result of its positive twin.
//!
//! Two threads share the work; with AVX2 a path takes well under a minute.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use charmlp_kernels::{Kernels, scalar};

/// Bit patterns per work item (the positive half is split into 2¹⁵ blocks).
const BLOCK: u32 = 1 << 16;
/// Positive finite patterns are 0 ..= 0x7f7f_ffff.
const POS_END: u32 = 0x7f80_0000;

/// The ulp of the f32 binade of `r` (subnormal spacing below 2⁻¹²⁶): identical to
/// `tests/common::ulp_at`, computed from the f64 exponent bits instead of `log2`.
fn ulp_at(r: f64) -> f64 {
    let a = r.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    2f64.powi(e - 23)
}

/// Error of `y` against the exact `r` in ulps (as `tests/common::ulps`).
fn ulps(y: f32, r: f64) -> f64 {
    if y as f64 == r {
        return 0.0;
    }
    (y as f64 - r).abs() / ulp_at(r)
}

/// Which range an |x| falls in (the formula has no branches; the ranges show where the error is).
#[derive(Clone, Copy)]
enum Branch {
    Small = 0,
    Mid = 1,
    Saturated = 2,
}

const BRANCH_NAMES: [&str; 3] = ["|x| < 0.25", "0.25 ≤ |x| < C = 9.0109", "clamped |x| ≥ C"];

fn branch(a: f32) -> Branch {
    if a < 0.25 {
        Branch::Small
    } else if a < scalar::TANH_C {
        Branch::Mid
    } else {
        Branch::Saturated
    }
}

#[derive(Clone, Copy, Default)]
struct Stats {
    max_ulp: f64,
    max_arg: f32,
    max_got: f32,
    branch_max: [(f64, f32); 3],
    over_1: u64,
    over_half: u64,
    checked: u64,
    odd_violations: u64,
    first_odd_violation: Option<f32>,
    /// Results whose bits differ from the scalar reference's (NaN payloads aside).
    differ: u64,
}

impl Stats {
    fn record(&mut self, x: f32, got: f32, r: f64) {
        let e = ulps(got, r);
        self.checked += 1;
        if e > 1.0 {
            self.over_1 += 1;
        }
        if e > 0.5 {
            self.over_half += 1;
        }
        if e > self.max_ulp {
            self.max_ulp = e;
            self.max_arg = x;
            self.max_got = got;
        }
        let b = &mut self.branch_max[branch(x.abs()) as usize];
        if e > b.0 {
            *b = (e, x);
        }
    }

    fn merge(&mut self, o: &Stats) {
        if o.max_ulp > self.max_ulp {
            self.max_ulp = o.max_ulp;
            self.max_arg = o.max_arg;
            self.max_got = o.max_got;
        }
        for (a, b) in self.branch_max.iter_mut().zip(o.branch_max) {
            if b.0 > a.0 {
                *a = b;
            }
        }
        self.over_1 += o.over_1;
        self.over_half += o.over_half;
        self.checked += o.checked;
        self.odd_violations += o.odd_violations;
        self.differ += o.differ;
        self.first_odd_violation = self.first_odd_violation.or(o.first_odd_violation);
    }
}

/// One thread's share: blocks of positive patterns taken from `next` until exhausted; each
/// positive pattern and its negative twin go through every path.
fn worker(paths: &[Kernels], next: &AtomicU32) -> Vec<Stats> {
    let mut stats = vec![Stats::default(); paths.len()];
    let mut pos = vec![0.0f32; BLOCK as usize];
    let mut reference = vec![0.0f64; BLOCK as usize];
    let mut y = vec![0.0f32; BLOCK as usize];
    let mut yn = vec![0.0f32; BLOCK as usize];
    let mut ys = vec![0.0f32; BLOCK as usize];
    loop {
        let start = next.fetch_add(BLOCK, Ordering::Relaxed);
        if start >= POS_END {
            break;
        }
        let end = start.saturating_add(BLOCK).min(POS_END);
        let n = (end - start) as usize;
        for (i, (p, r)) in pos[..n].iter_mut().zip(&mut reference[..n]).enumerate() {
            *p = f32::from_bits(start + i as u32);
            *r = (*p as f64).tanh();
        }
        for (y, &p) in ys[..n].iter_mut().zip(&pos[..n]) {
            *y = scalar::tanh(p);
        }
        for (k, st) in paths.iter().zip(stats.iter_mut()) {
            y[..n].copy_from_slice(&pos[..n]);
            k.tanh(&mut y[..n]);
            for (yn, &p) in yn[..n].iter_mut().zip(&pos[..n]) {
                *yn = -p;
            }
            k.tanh(&mut yn[..n]);
            for i in 0..n {
                let (x, got, gotn, r) = (pos[i], y[i], yn[i], reference[i]);
                st.record(x, got, r);
                st.record(-x, gotn, -r);
                if got.to_bits() != ys[i].to_bits() && !(got.is_nan() && ys[i].is_nan()) {
                    st.differ += 1;
                }
                if gotn.to_bits() != (-got).to_bits() {
                    st.odd_violations += 1;
                    st.first_odd_violation.get_or_insert(x);
                }
            }
        }
    }
    stats
}

fn main() {
    let paths: Vec<Kernels> = Kernels::all_supported().collect();
    let names: Vec<&str> = paths.iter().map(|k| k.path().name()).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(2));
    eprintln!(
        "exhaustive tanh over all {} finite f32, paths {names:?}, {threads} threads",
        2 * u64::from(POS_END)
    );
    let t0 = Instant::now();
    let next = AtomicU32::new(0);
    let per_thread: Vec<Vec<Stats>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| worker(&paths, &next)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("worker thread panicked"))
            .collect()
    });
    let mut total = vec![Stats::default(); paths.len()];
    for t in &per_thread {
        for (a, b) in total.iter_mut().zip(t) {
            a.merge(b);
        }
    }
    eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
    println!(
        "| path | max error (ulp) | at x | results > 1 ulp | not correctly rounded (> ½ ulp) | checked | bits ≠ scalar |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, st) in names.iter().zip(&total) {
        println!(
            "| {name} | {:.3} | {:e} ({:#010x}) → {:e} | {} | {} ({:.3}%) | {} | {} |",
            st.max_ulp,
            st.max_arg,
            st.max_arg.to_bits(),
            st.max_got,
            st.over_1,
            st.over_half,
            100.0 * st.over_half as f64 / st.checked as f64,
            st.checked,
            st.differ
        );
    }
    for (name, st) in names.iter().zip(&total) {
        for (bn, (e, x)) in BRANCH_NAMES.iter().zip(st.branch_max) {
            println!(
                "{name:>7} {bn:<26} max {e:.3} ulp at x = {x:e} ({:#010x})",
                x.to_bits()
            );
        }
        match st.first_odd_violation {
            None => println!("{name:>7} odd: tanh(-x) == -tanh(x) bit for bit for every finite x"),
            Some(x) => println!(
                "{name:>7} odd: {} violations, first at x = {x:e}",
                st.odd_violations
            ),
        }
    }
}
