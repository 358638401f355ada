//! The training run (`trainer::run`): it learns the names, its report is complete, an
//! interrupted run resumed from its checkpoint ends bit-identical to an uninterrupted one, files
//! are written atomically, and bad inputs are errors rather than panics.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};

use charmlp::data::{Corpus, DataError, Splits};
use charmlp::trainer::{MAX_BATCH, RunError, TrainConfig, run};
use charmlp::{Init, Kernels, Schedule, VocabError, Weights, Workspace};

fn names_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/names.txt")
}

/// A fresh, empty directory under the system temp dir, unique to this test and process.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("charmlp-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The canonical model with a short schedule.
fn short(steps: u64, decay_at: u64, out: Option<PathBuf>) -> TrainConfig {
    let mut c = TrainConfig::canonical(names_path());
    c.steps = steps;
    c.schedule = Schedule::Step {
        lr: 0.1,
        decay_at,
        lr_after: 0.01,
    };
    c.out = out;
    c
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn assert_no_temp_files(dir: &Path) {
    let f = files_in(dir);
    assert!(
        f.iter().all(|n| !n.contains(".tmp")),
        "leftover temporary files in {}: {f:?}",
        dir.display()
    );
}

/// The raw text after `"key":` in a flat JSON object, up to the next `,` or `}` at depth 0.
fn json_value<'a>(json: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let at = json
        .find(&pat)
        .unwrap_or_else(|| panic!("no {pat} in {json}"))
        + pat.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

/// The checkpoint's (step, history) as `trainer.rs` lays it out: 12-byte magic, fingerprint,
/// step, history length (u64 LE each), then the history as f32 LE.
fn checkpoint_step_and_history(b: &[u8]) -> (u64, Vec<f32>) {
    assert_eq!(&b[..12], b"CHARMLPCKPT1");
    let u = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (step, n) = (u(20), u(28) as usize);
    let h = b[36..36 + 4 * n]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (step, h)
}

// Expected losses come from an independent NumPy float32 reimplementation of the same recipe
// (makemore part 2: B=3, E=10, H=200, batch 32, 3000 steps, lr 0.1 then 0.01 from step 2000,
// its own RNG for init and batches), run over several seeds:
// * scaled init (part 3's fix): dev 2.294 … 2.306 over 6 seeds;
// * randn init (the lecture's): dev 2.58 … 2.93 over 8 seeds — after only 3000 steps the
//   saturated-tanh start makes the result seed-dependent, so its bound is looser.

#[test]
fn three_thousand_steps_learn_and_report_everything() {
    let dir = temp_dir("learn");
    let mut cfg = short(3000, 2000, Some(dir.clone()));
    cfg.init = Init::Scaled;
    cfg.samples = 10;
    let r = run(&cfg).unwrap();
    eprintln!(
        "scaled: train {} dev {} test {} ({} µs/step, {})",
        r.train_loss, r.dev_loss, r.test_loss, r.us_per_step, r.kernel
    );
    assert!(r.dev_loss < 2.4, "dev loss {} after 3000 steps", r.dev_loss);
    for l in [r.train_loss, r.dev_loss, r.test_loss] {
        assert!(l.is_finite() && l > 1.0, "{l}");
    }
    // Far below the uniform guess ln 27 ≈ 3.30.
    assert!(r.train_loss < 27f32.ln() - 0.5);
    assert_eq!(
        (r.block, r.emb, r.hidden, r.vocab_size, r.batch, r.steps),
        (3, 10, 200, 27, 32, 3000)
    );
    assert_eq!(r.params, 27 * 10 + 30 * 200 + 200 + 200 * 27 + 27);
    assert_eq!(r.params, 11_897);
    assert_eq!(r.init, "scaled");
    assert_eq!(r.seed, cfg.seed);
    assert!(!r.stopped_early);
    assert!(r.seconds > 0.0 && r.us_per_step > 0.0);
    assert_eq!(r.samples.len(), 10);
    for s in &r.samples {
        assert!(s.chars().all(|c| c.is_ascii_lowercase()), "{s:?}");
    }

    let json = r.to_json();
    assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
    for key in [
        "block",
        "emb",
        "hidden",
        "batch",
        "steps",
        "init",
        "seed",
        "params",
        "vocab_size",
        "seconds",
        "us_per_step",
        "train_loss",
        "dev_loss",
        "test_loss",
    ] {
        assert_eq!(
            json.matches(&format!("\"{key}\":")).count(),
            1,
            "{key} in {json}"
        );
    }
    for (key, want) in [
        ("train_loss", r.train_loss),
        ("dev_loss", r.dev_loss),
        ("test_loss", r.test_loss),
    ] {
        let x: f32 = json_value(&json, key)
            .parse()
            .unwrap_or_else(|e| panic!("{key}: {e} in {json}"));
        assert!(x.is_finite());
        assert_eq!(x.to_bits(), want.to_bits(), "{key}");
    }
    for key in ["seconds", "us_per_step"] {
        let x: f64 = json_value(&json, key).parse().unwrap();
        assert!(x.is_finite() && x >= 0.0, "{key}");
    }
    let ints = [
        ("block", 3u64),
        ("emb", 10),
        ("hidden", 200),
        ("batch", 32),
        ("steps", 3000),
        ("params", 11_897),
        ("vocab_size", 27),
        ("seed", cfg.seed),
    ];
    for (key, want) in ints {
        assert_eq!(
            json_value(&json, key).parse::<u64>().unwrap(),
            want,
            "{key}"
        );
    }
    assert_eq!(json_value(&json, "init"), "\"scaled\"");

    // The weights file is the trained model: reloaded, it gives the reported dev loss exactly.
    let files = files_in(&dir);
    assert!(files.contains(&"weights.bin".to_string()), "{files:?}");
    assert!(files.contains(&"checkpoint.bin".to_string()), "{files:?}");
    assert_no_temp_files(&dir);
    let bytes = std::fs::read(dir.join("weights.bin")).unwrap();
    let dev = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let w = Weights::<27, 3, 10, 30, 200>::parse(&bytes).unwrap();
            let want: Vec<char> = std::iter::once('.').chain('a'..='z').collect();
            assert_eq!(w.vocab().symbols(), &want[..]);
            let mut p = Box::new(charmlp::Canonical::zeros());
            w.copy_into(&mut p);
            let corpus = Corpus::read(&names_path()).unwrap();
            let s: Splits<3> = Splits::new(&corpus.items, w.vocab(), 42).unwrap();
            let mut ws: Box<Workspace<27, 3, 10, 30, 200, MAX_BATCH>> =
                Box::new(Workspace::new(Kernels::best()));
            ws.loss(p.view(), &s.dev.x, &s.dev.y).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        dev.to_bits(),
        r.dev_loss.to_bits(),
        "{dev} vs {}",
        r.dev_loss
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn canonical_randn_init_learns_in_three_thousand_steps() {
    let mut cfg = short(3000, 2000, None);
    cfg.samples = 0;
    let r = run(&cfg).unwrap();
    eprintln!(
        "randn: train {} dev {} test {} ({})",
        r.train_loss, r.dev_loss, r.test_loss, r.kernel
    );
    assert_eq!(r.init, "randn");
    // From ≈ 25 at the first step (randn init) to below 3 (reference: 2.58 … 2.93).
    assert!(r.dev_loss < 3.0, "dev loss {} after 3000 steps", r.dev_loss);
    assert!((r.dev_loss - r.train_loss).abs() < 0.15, "{r:?}");
}

#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    let dir_a = temp_dir("resume-a");
    let dir_b = temp_dir("resume-b");
    // The decay at 900 falls after the interruption, so the schedule must resume too.
    let base = |dir: &Path| {
        let mut c = short(1200, 900, Some(dir.to_path_buf()));
        c.checkpoint_every = 500;
        c.keep_history = true;
        c.samples = 5;
        c
    };
    let a = run(&base(&dir_a)).unwrap();
    assert!(!a.stopped_early);
    assert_eq!(a.history.len(), 1200);

    let mut b1 = base(&dir_b);
    b1.stop_after = Some(700);
    let r1 = run(&b1).unwrap();
    assert!(r1.stopped_early);
    assert_eq!(r1.steps, 700);
    assert!(r1.dev_loss.is_nan(), "an interrupted run is not evaluated");
    assert!(
        !dir_b.join("weights.bin").exists(),
        "an interrupted run must not write weights.bin"
    );
    assert_no_temp_files(&dir_b);
    let ck = std::fs::read(dir_b.join("checkpoint.bin")).unwrap();
    let (step, hist) = checkpoint_step_and_history(&ck);
    assert_eq!(step, 700);
    assert_eq!(hist.len(), 700);
    let bits = |h: &[f32]| h.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&hist), bits(&a.history[..700]));

    let mut b2 = base(&dir_b);
    b2.resume = true;
    let r2 = run(&b2).unwrap();
    assert!(!r2.stopped_early);
    assert_eq!(r2.steps, 1200);
    // The history continues where the checkpoint left it.
    assert_eq!(r2.history.len(), 1200);
    assert_eq!(bits(&r2.history), bits(&a.history));

    let wa = std::fs::read(dir_a.join("weights.bin")).unwrap();
    let wb = std::fs::read(dir_b.join("weights.bin")).unwrap();
    assert!(
        wa == wb,
        "resumed weights differ from the uninterrupted run's"
    );
    assert_eq!(r2.dev_loss.to_bits(), a.dev_loss.to_bits());
    assert_eq!(r2.samples, a.samples);
    let ca = std::fs::read(dir_a.join("checkpoint.bin")).unwrap();
    let cb = std::fs::read(dir_b.join("checkpoint.bin")).unwrap();
    assert!(ca == cb, "final checkpoints differ");
    let (step, hist) = checkpoint_step_and_history(&cb);
    assert_eq!(step, 1200);
    assert_eq!(bits(&hist), bits(&a.history));
    // The checkpoint ends with the same weights file.
    assert_eq!(&cb[cb.len() - wb.len()..], &wb[..]);

    // A run that is not resumed from the same checkpoint differs: interruption and resumption
    // are what made B equal to A, not a fixed seed alone.
    let mut c = base(&dir_b);
    c.seed += 1;
    c.out = None;
    let rc = run(&c).unwrap();
    assert_ne!(rc.dev_loss.to_bits(), a.dev_loss.to_bits());

    for d in [&dir_a, &dir_b] {
        assert_no_temp_files(d);
        assert_eq!(
            files_in(d),
            vec!["checkpoint.bin".to_string(), "weights.bin".to_string()]
        );
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn resume_with_other_settings_is_a_checkpoint_error() {
    let dir = temp_dir("resume-other");
    let mut c = short(400, 200, Some(dir.clone()));
    c.stop_after = Some(100);
    c.samples = 0;
    let r = run(&c).unwrap();
    assert!(r.stopped_early);
    assert!(dir.join("checkpoint.bin").exists());
    let ck = std::fs::read(dir.join("checkpoint.bin")).unwrap();

    let mut changes: Vec<(&str, TrainConfig)> = Vec::new();
    let mut d = c.clone();
    d.seed += 1;
    changes.push(("seed", d));
    let mut d = c.clone();
    d.steps = 500;
    changes.push(("steps", d));
    let mut d = c.clone();
    d.batch = 16;
    changes.push(("batch", d));
    let mut d = c.clone();
    d.split_seed = 43;
    changes.push(("split_seed", d));
    let mut d = c.clone();
    d.schedule = Schedule::Step {
        lr: 0.2,
        decay_at: 200,
        lr_after: 0.01,
    };
    changes.push(("schedule", d));
    let mut d = c.clone();
    d.init = Init::Scaled;
    changes.push(("init", d));
    for (what, mut d) in changes {
        d.resume = true;
        d.stop_after = None;
        match run(&d) {
            Err(RunError::Checkpoint(m)) => assert!(!m.is_empty()),
            other => panic!("{what}: expected RunError::Checkpoint, got {other:?}"),
        }
        // The refused resume left the checkpoint alone.
        assert!(
            std::fs::read(dir.join("checkpoint.bin")).unwrap() == ck,
            "{what}"
        );
    }

    // The same settings resume fine.
    let mut same = c.clone();
    same.resume = true;
    same.stop_after = None;
    let r = run(&same).unwrap();
    assert_eq!(r.steps, 400);
    assert!(r.dev_loss.is_finite());
    assert_no_temp_files(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_or_missing_checkpoints_are_errors() {
    let dir = temp_dir("resume-damaged");
    let mut c = short(200, 100, Some(dir.clone()));
    c.samples = 0;
    c.resume = true;
    // No checkpoint at all.
    assert!(matches!(run(&c), Err(RunError::Io { .. })));
    // Resume without an output directory.
    let mut d = c.clone();
    d.out = None;
    assert!(matches!(run(&d), Err(RunError::Config(_))));

    let mut w = c.clone();
    w.resume = false;
    w.stop_after = Some(50);
    run(&w).unwrap();
    let good = std::fs::read(dir.join("checkpoint.bin")).unwrap();

    // Not a checkpoint.
    std::fs::write(dir.join("checkpoint.bin"), b"hello").unwrap();
    assert!(matches!(run(&c), Err(RunError::Checkpoint(_))));
    let mut bad = good.clone();
    bad[0] ^= 1;
    std::fs::write(dir.join("checkpoint.bin"), &bad).unwrap();
    assert!(matches!(run(&c), Err(RunError::Checkpoint(_))));
    // A history length that runs past the end of the file.
    let mut bad = good.clone();
    bad[28..36].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(dir.join("checkpoint.bin"), &bad).unwrap();
    assert!(matches!(run(&c), Err(RunError::Checkpoint(_))));
    // A flipped weight byte: the weights' CRC catches it.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 100] ^= 0x10;
    std::fs::write(dir.join("checkpoint.bin"), &bad).unwrap();
    assert!(matches!(
        run(&c),
        Err(RunError::Weights(charmlp::WeightsError::CrcMismatch { .. }))
    ));
    // Truncated.
    std::fs::write(dir.join("checkpoint.bin"), &good[..good.len() - 1]).unwrap();
    assert!(matches!(
        run(&c),
        Err(RunError::Weights(charmlp::WeightsError::Truncated { .. }))
    ));
    // Intact again: resumes.
    std::fs::write(dir.join("checkpoint.bin"), &good).unwrap();
    assert_eq!(run(&c).unwrap().steps, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn too_many_symbols_names_count_and_capacity() {
    let dir = temp_dir("many-symbols");
    // 200 distinct non-ASCII letters (U+0100…U+01C7), 10 per line; with '.' that is 201.
    let chars: Vec<char> = (0x0100u32..0x0100 + 200)
        .map(|u| char::from_u32(u).unwrap())
        .collect();
    let text: String = chars
        .chunks(10)
        .map(|c| c.iter().collect::<String>() + "\n")
        .collect();
    let data = dir.join("wide.txt");
    std::fs::write(&data, text).unwrap();
    let mut c = TrainConfig::canonical(data);
    c.steps = 10;
    let cap = charmlp::trainer::available_models()
        .iter()
        .map(|m| m.0)
        .max()
        .unwrap();
    assert!(cap < 201, "a model with {cap} classes would fit this data");
    let e = run(&c).unwrap_err();
    match &e {
        RunError::Vocab(VocabError::TooManySymbols { needed, capacity }) => {
            assert_eq!((*needed, *capacity), (201, cap));
        }
        other => panic!("expected TooManySymbols, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("201") && msg.contains(&cap.to_string()),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn terminator_in_the_data_is_an_error() {
    let dir = temp_dir("dot");
    let data = dir.join("dot.txt");
    std::fs::write(&data, "anna\nj.r.\nbob\n").unwrap();
    let mut c = TrainConfig::canonical(data);
    c.steps = 10;
    assert!(matches!(
        run(&c),
        Err(RunError::Vocab(VocabError::ReservedSymbol('.')))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_dataset_is_an_error_not_a_panic() {
    let dir = temp_dir("empty");
    for (name, bytes) in [
        ("empty.txt", &b""[..]),
        ("blank.txt", b"\n\r\n\n"),
        ("bom.txt", b"\xEF\xBB\xBF"),
    ] {
        let data = dir.join(name);
        std::fs::write(&data, bytes).unwrap();
        let mut c = TrainConfig::canonical(data);
        c.steps = 10;
        c.out = Some(dir.join("out"));
        match run(&c) {
            Err(RunError::Data(DataError::Empty)) => {}
            other => panic!("{name}: expected Data(Empty), got {other:?}"),
        }
    }
    // Too few items for three non-empty splits.
    let data = dir.join("two.txt");
    std::fs::write(&data, "ab\ncd\n").unwrap();
    let mut c = TrainConfig::canonical(data);
    c.steps = 10;
    assert!(matches!(run(&c), Err(RunError::Config(_))));
    // Not UTF-8, and a missing file.
    let data = dir.join("latin1.txt");
    std::fs::write(&data, b"ab\ncaf\xe9\n").unwrap();
    let mut c = TrainConfig::canonical(data);
    c.steps = 10;
    assert!(matches!(
        run(&c),
        Err(RunError::Data(DataError::NotUtf8 { line: 2 }))
    ));
    let mut c = TrainConfig::canonical(dir.join("absent.txt"));
    c.steps = 10;
    assert!(matches!(run(&c), Err(RunError::Io { .. })));
    // Nothing was written for the failed runs.
    assert!(!dir.join("out").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn batch_out_of_range_is_a_config_error() {
    for batch in [0, MAX_BATCH + 1, 100_000] {
        let mut c = short(10, 5, None);
        c.batch = batch;
        match run(&c) {
            Err(RunError::Config(m)) => {
                assert!(m.contains(&batch.to_string()), "{m}")
            }
            other => panic!("batch {batch}: expected Config, got {other:?}"),
        }
    }
    let mut c = short(0, 0, None);
    c.steps = 0;
    assert!(matches!(run(&c), Err(RunError::Config(_))));
    // The bounds themselves are fine.
    for batch in [1, MAX_BATCH] {
        let mut c = short(5, 3, None);
        c.batch = batch;
        c.samples = 0;
        let r = run(&c).unwrap();
        assert_eq!((r.batch, r.steps), (batch, 5));
        assert!(r.dev_loss.is_finite());
    }
}

#[test]
fn unknown_shape_is_no_model() {
    let mut c = short(10, 5, None);
    c.hidden = 7;
    match run(&c) {
        Err(RunError::NoModel {
            block,
            emb,
            hidden,
            symbols,
            ..
        }) => assert_eq!((block, emb, hidden, symbols), (3, 10, 7, 27)),
        other => panic!("expected NoModel, got {other:?}"),
    }
}

#[test]
fn runs_are_reproducible() {
    let mut c = short(300, 150, None);
    c.samples = 5;
    c.keep_history = true;
    let a = run(&c).unwrap();
    let b = run(&c).unwrap();
    assert_eq!(a.dev_loss.to_bits(), b.dev_loss.to_bits());
    assert_eq!(a.samples, b.samples);
    assert_eq!(a.history.len(), 300);
    assert!(
        a.history
            .iter()
            .zip(&b.history)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    // keep_history off keeps nothing.
    c.keep_history = false;
    assert!(run(&c).unwrap().history.is_empty());
}
