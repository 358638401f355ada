//! The checkpoint format 2: the CRC over the whole file catches any damaged byte, and a file
//! whose CRC was recomputed after a field was changed (a writer's bug, or a file assembled by
//! hand) is still refused by the cross-checks — each field on its own.
#![cfg(feature = "std")]

use charmlp::checkpoint::{
    self, Checkpoint, CheckpointError, Contents, ScheduleFields, Settings, SplitMode,
};
use charmlp::weights::{crc32, to_bytes};
use charmlp::{Init, ParamsBuf, Shape, VocabBuf};

fn weights() -> Vec<u8> {
    let s = Shape::new(5, 2, 3, 4).unwrap();
    let p = ParamsBuf::init(s, 1, Init::Randn).unwrap();
    let v = VocabBuf::from_symbols(".abcd".chars()).unwrap();
    to_bytes(&p.view(), v.view())
}

fn settings() -> Settings {
    Settings {
        steps: 100,
        seed: 7,
        split_seed: 42,
        batch: 32,
        init: Init::Randn,
        schedule: ScheduleFields {
            kind: 0,
            lr: 0.1,
            lr_after: 0.01,
            decay_at: 50,
        },
        split_mode: SplitMode::Charmlp,
        arithmetic: 2,
        data_crc: 0xdead_beef,
        data_len: 1234,
        kernel: Settings::kernel_field("avx2"),
    }
}

/// A checkpoint at step 40 with a 40-entry history and best weights from step 30.
fn good() -> Vec<u8> {
    let w = weights();
    let hist: Vec<f32> = (0..40).map(|i| i as f32 * 0.01).collect();
    checkpoint::to_bytes(&Contents {
        step: 40,
        settings: settings(),
        history: Some(&hist),
        weights: &w,
        best: Some((30, 2.5, &w)),
    })
}

fn fix_crc(b: &mut [u8]) {
    let n = b.len();
    let c = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&c.to_le_bytes());
}

/// `good()` with `edit` applied and the CRC recomputed.
fn edited(edit: impl FnOnce(&mut Vec<u8>)) -> Result<(), CheckpointError> {
    let mut b = good();
    edit(&mut b);
    fix_crc(&mut b);
    Checkpoint::parse(&b).map(|_| ())
}

fn put_u64(b: &mut [u8], r: std::ops::Range<usize>, v: u64) {
    b[r].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn the_good_file_parses_with_every_field() {
    let b = good();
    let c = Checkpoint::parse(&b).unwrap();
    assert_eq!(c.step, 40);
    assert_eq!(c.settings, settings());
    assert_eq!(c.history().unwrap().count(), 40);
    assert_eq!(c.best.map(|b| b.0), Some(30));
}

#[test]
fn every_damaged_byte_is_a_crc_mismatch() {
    let b = good();
    for at in (0..b.len()).step_by(7).chain([b.len() - 1]) {
        let mut d = b.clone();
        d[at] ^= 0x20;
        let e = Checkpoint::parse(&d)
            .err()
            .unwrap_or_else(|| panic!("byte {at} accepted"));
        // The magic and version are read before the CRC (to say "not a checkpoint").
        let ok = matches!(
            e,
            CheckpointError::CrcMismatch { .. }
                | CheckpointError::BadMagic
                | CheckpointError::UnsupportedVersion(_)
        );
        assert!(ok, "byte {at}: {e:?}");
    }
}

#[test]
fn each_field_is_cross_checked_even_with_a_valid_crc() {
    use checkpoint::*;
    // The step against the history (one entry per step): the attack the issue describes.
    assert_eq!(
        edited(|b| put_u64(b, STEP, 39)),
        Err(CheckpointError::HistoryLength {
            step: 39,
            entries: 40
        })
    );
    // The step beyond the run's steps.
    assert!(matches!(
        edited(|b| put_u64(b, STEP, 101)),
        Err(CheckpointError::BadField { .. })
    ));
    // Every length against the file.
    assert!(matches!(
        edited(|b| put_u64(b, HISTORY_LEN, 41)),
        Err(CheckpointError::Truncated { .. })
    ));
    assert!(matches!(
        edited(|b| put_u64(b, HISTORY_LEN, 39)),
        Err(CheckpointError::TrailingBytes { .. })
    ));
    assert!(matches!(
        edited(|b| put_u64(b, WEIGHTS_LEN, u64::MAX)),
        Err(CheckpointError::Truncated { .. })
    ));
    assert!(matches!(
        edited(|b| put_u64(b, BEST_LEN, 8)),
        Err(CheckpointError::TrailingBytes { .. })
    ));
    // Flags, header length, reserved bytes, enums, batch, kernel name, best step.
    let bad_field = |f: &dyn Fn(&mut Vec<u8>)| {
        let r = edited(f);
        assert!(matches!(r, Err(CheckpointError::BadField { .. })), "{r:?}");
    };
    bad_field(&|b| b[FLAGS.start] |= 0x80);
    bad_field(&|b| b[HEADER_LEN_FIELD.start] = 200);
    bad_field(&|b| b[RESERVED[0].start] = 1);
    bad_field(&|b| b[RESERVED[1].start] = 1);
    bad_field(&|b| b[INIT] = 9);
    bad_field(&|b| b[SCHEDULE] = 9);
    bad_field(&|b| b[SPLIT_MODE] = 9);
    bad_field(&|b| b[BATCH].copy_from_slice(&0u32.to_le_bytes()));
    bad_field(&|b| b[KERNEL.start] = 0x07);
    bad_field(&|b| put_u64(b, BEST_STEP, 41));
    bad_field(&|b| b[BEST_LOSS].copy_from_slice(&f32::NAN.to_le_bytes()));
    // The history flag cleared while entries remain.
    bad_field(&|b| b[FLAGS.start] &= !(FLAG_HISTORY as u8));
    // The embedded weights are checked as a weights file.
    let w_at = HEADER_LEN + 4 * 40;
    assert!(matches!(
        edited(|b| b[w_at] ^= 1),
        Err(CheckpointError::Weights(_))
    ));
    // Other versions and magic.
    assert_eq!(
        edited(|b| b[VERSION_FIELD.start] = 1),
        Err(CheckpointError::UnsupportedVersion(1))
    );
    assert_eq!(
        edited(|b| b[MAGIC_FIELD.start] ^= 1),
        Err(CheckpointError::BadMagic)
    );
}
