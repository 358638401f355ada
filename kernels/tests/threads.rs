//! Large matmuls split over threads (`Kernels::with_threads`) give the single thread's bits on
//! every path and for any thread count: each output element is computed by one thread with the
//! same operations.

mod common;
use charmlp_kernels::{Kernels, Mat, MatMut, PAR_MIN_MACS};
use common::*;

fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn every_thread_count_gives_the_same_bits() {
    // 2·PAR_MIN_MACS multiply-adds per matmul, odd sizes.
    let (m, k, n, seg) = (37usize, 480usize, 131usize, 160usize);
    assert!(m * k * n >= PAR_MIN_MACS);
    let x = data(m * k, 1);
    let w = data(k * n, 2);
    let b = data(n, 3);
    let dy = data(m * n, 4);
    let h = data(m * k, 5);
    let wt = data(k * n, 6);
    for base in all_paths() {
        let run = |kern: Kernels| {
            let mut y = vec![0.0; m * n];
            kern.linear_tanh(
                Mat::new(&x, m, k).unwrap(),
                Mat::new(&w, k, n).unwrap(),
                &b,
                seg,
                MatMut::new(&mut y, m, n).unwrap(),
            )
            .unwrap();
            let mut dw = vec![0.0; k * n];
            kern.matmul_tn(
                Mat::new(&x, m, k).unwrap(),
                Mat::new(&dy, m, n).unwrap(),
                MatMut::new(&mut dw, k, n).unwrap(),
            )
            .unwrap();
            let mut dx = vec![0.0; m * k];
            kern.matmul_nt_tanh_backward(
                Mat::new(&dy, m, n).unwrap(),
                Mat::new(&wt, k, n).unwrap(),
                Mat::new(&h, m, k).unwrap(),
                MatMut::new(&mut dx, m, k).unwrap(),
            )
            .unwrap();
            (bits(&y), bits(&dw), bits(&dx))
        };
        let one = run(base);
        for t in [2, 3, 5, 64] {
            assert_eq!(
                run(base.with_threads(t)),
                one,
                "{} on {t} threads",
                base.path().name()
            );
        }
    }
    eprintln!(
        "paths under test: {:?}",
        all_paths()
            .iter()
            .map(|k| k.path().name())
            .collect::<Vec<_>>()
    );
}
