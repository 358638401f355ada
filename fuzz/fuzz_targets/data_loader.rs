//! Arbitrary bytes → `Corpus::from_bytes` (the trainer's data loader), in both split modes.
//!
//! The loader must never panic. When it accepts a text, the dataset is what training relies
//! on: `.` is symbol 0 and appears in no item, the vocabulary has distinct symbols, the three
//! splits hold every item, every (context, target) pair of every split has indices below `V`,
//! and the items decode back to non-empty strings without `.` or control characters.

#![no_main]

use charmlp::Index;
use charmlp::checkpoint::SplitMode;
use charmlp::data::{Corpus, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for split_mode in [SplitMode::Charmlp, SplitMode::Python] {
        let opts = LoadOptions {
            split_mode,
            ..LoadOptions::default()
        };
        match Corpus::from_bytes(data, None, &opts) {
            Ok(c) => check(&c),
            Err(e) => {
                let _ = format!("{e}");
            }
        }
    }
});

fn check(c: &Corpus) {
    let v = c.vocab().view();
    let syms = v.symbols();
    assert_eq!(syms.first(), Some(&'.'));
    for (i, s) in syms.iter().enumerate() {
        assert!(!syms[..i].contains(s), "duplicate symbol {s:?}");
    }
    assert!(c.items() >= 1);
    assert_eq!(c.split_items().iter().sum::<usize>(), c.items());
    let b = 3;
    let mut ctx = vec![0 as Index; b];
    for items in [c.train(), c.dev(), c.test(), c.all()] {
        for pos in 0..items.pairs().min(10_000) {
            let t = items.pair(pos, &mut ctx);
            assert!(usize::from(t) < syms.len(), "target out of range");
            assert!(
                ctx.iter().all(|&x| usize::from(x) < syms.len()),
                "context out of range"
            );
        }
    }
    for s in c.strings(c.all()) {
        assert!(!s.is_empty(), "an empty item");
        assert!(!s.contains('.'), "'.' inside an item");
        assert!(
            !s.chars().any(char::is_control),
            "a control character in {s:?}"
        );
    }
}
