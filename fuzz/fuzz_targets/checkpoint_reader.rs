//! Arbitrary bytes → `Checkpoint::parse`.
//!
//! The reader must never panic. When it accepts a file, what `--resume` relies on holds: the
//! step is within the run's steps, the history (if kept) has exactly one finite-or-not entry per
//! step, the embedded weights parse and have a valid shape, the best weights (if kept) have the
//! same shape, and the settings' kernel name is printable.
//!
//! Random mutations almost always break the CRC-32 over the file, so every input is also tried
//! with its last four bytes replaced by the CRC of the rest: that reaches the field checks.

#![no_main]

use charmlp::checkpoint::Checkpoint;
use charmlp::weights;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let mut fixed = data.to_vec();
        let n = fixed.len() - 4;
        let crc = weights::crc32(&fixed[..n]);
        fixed[n..].copy_from_slice(&crc.to_le_bytes());
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let c = match Checkpoint::parse(bytes) {
        Ok(c) => c,
        Err(e) => {
            let _ = format!("{e}");
            let _ = e.as_str();
            return;
        }
    };
    assert!(c.step <= c.settings.steps, "step beyond the run's steps");
    if let Some(h) = c.history() {
        assert_eq!(
            h.count() as u64,
            c.step,
            "history length differs from the step"
        );
    }
    let s = c.shape();
    assert_eq!(
        charmlp::Shape::new(s.vocab(), s.block(), s.emb(), s.hidden()),
        Ok(s)
    );
    let mut owned = charmlp::ParamsBuf::zeros(s).expect("a small model");
    c.weights()
        .copy_params(&mut owned.view_mut())
        .expect("accepted weights copy");
    assert!(owned.view().all_finite());
    let name = c.settings.kernel_name();
    assert!(name.chars().all(|ch| ch.is_ascii_graphic() || ch == '?'));
    let _ = format!("{:?}", c.settings);
}
