//! Arbitrary bytes → the int8 reader (`QuantView::parse`), and every accepted file → the integer
//! sampler, on the scalar reference and the best path.
//!
//! The reader must never panic. When it accepts a file, what it promises is checked: the length
//! is the layout's, the shifts are in 1..=62, no weight is −128. Sampling such a file must not
//! panic either (the sums cannot wrap: the reader bounds the biases), names are at most
//! `max_len` characters, every path draws the same names, and the loss of a pair is finite.
//! Inputs are tried twice, the second time with a correct CRC in their last four bytes.
//! The first byte of the input (before the file) selects the sampling settings.

#![no_main]

use charmlp::int8::{
    Layout, QuantSampler, QuantVecs, QuantView, compute_table, logits, logits_with, nll, table_len,
};
use charmlp::{Kernels, SampleConfig, VocabBuf, weights};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knob, file)) = data.split_first() else {
        return;
    };
    check(knob, file);
    if file.len() >= 4 {
        let mut fixed = file.to_vec();
        let n = fixed.len() - 4;
        let crc = weights::crc32(&fixed[..n]);
        fixed[n..].copy_from_slice(&crc.to_le_bytes());
        check(knob, &fixed);
    }
});

fn check(knob: u8, bytes: &[u8]) {
    let Ok(q) = QuantView::parse(bytes) else {
        return;
    };
    let s = q.shape();
    assert_eq!(Layout::new(s, q.vocab_str().len()).len, bytes.len());
    let (s1, s2) = q.shifts();
    assert!((1..=62).contains(&s1) && (1..=62).contains(&s2));
    assert!(!q.w1t().contains(&i8::MIN) && !q.w2t().contains(&i8::MIN));
    // Keep big shapes cheap: the reader is what is fuzzed there.
    if s.param_count() > 200_000 {
        return;
    }
    let Ok(vocab) = VocabBuf::from_symbols(q.vocab_str().chars()) else {
        return;
    };
    let cfg = SampleConfig {
        temperature: [1.0, 0.5, 3.0, 1e-3][usize::from(knob & 3)],
        top_k: [None, Some(1), Some(3), Some(1000)][usize::from((knob >> 2) & 3)],
        max_len: usize::from(knob >> 4) + 1,
    };
    let mut scratch = QuantVecs::new(s);
    let mut all = Vec::new();
    for k in [Kernels::scalar(), Kernels::best()] {
        let smp = QuantSampler::new(q, vocab.view(), k, u64::from(knob), cfg).unwrap();
        let mut names = Vec::new();
        for i in 0..3 {
            let mut name = String::new();
            let n = smp.name(i, &mut scratch.view(), |c| name.push(c)).unwrap();
            assert!(n <= cfg.max_len && name.chars().count() == n);
            names.push(name);
        }
        all.push(names);
    }
    assert_eq!(all[0], all[1], "the paths draw different names");
    let ctx: Vec<u16> = (0..s.block())
        .map(|i| (usize::from(knob).wrapping_mul(i + 1) % s.vocab()) as u16)
        .collect();
    logits(Kernels::best(), &q, &ctx, &mut scratch.view()).unwrap();
    let z = scratch.view().z.to_vec();
    assert!(nll(&z, 0).is_finite());
    // Layer 1 from the per-position table: the same integers.
    let mut table = vec![0i32; table_len(s)];
    compute_table(&q, &mut table).unwrap();
    logits_with(
        Kernels::scalar(),
        &q,
        Some(&table),
        &ctx,
        &mut scratch.view(),
    )
    .unwrap();
    assert_eq!(scratch.view().z, &z[..], "the table gives other logits");
}
