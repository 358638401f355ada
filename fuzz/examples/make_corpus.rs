//! Regenerates the checked-in seed corpora under `fuzz/corpus/`:
//!
//! ```text
//! cd fuzz && cargo run --example make_corpus
//! ```
//!
//! `weights_reader/`: valid files of the small shape `<7, 3, 4, 12, 9>` (vocabulary strings of
//! every padding length, one-symbol and multi-byte vocabularies), one of the canonical shape,
//! and malformed ones (truncated, trailing bytes, bad magic/version/dtype/reserved byte, shape
//! mismatch, bad CRC, NaN and ∞ weights, duplicate symbol, missing terminator, bad UTF-8); the
//! edited ones carry a correct CRC so they reach the check they are meant for.
//!
//! `sampler/`: inputs in the layout documented in `fuzz_targets/sampler.rs`.
//!
//! `checkpoint_reader/`: a valid checkpoint (history and best weights), one without either,
//! and edited ones with a correct CRC (step against history, each length, flags, reserved,
//! enums), so that each reaches the check it is meant for.
//!
//! `data_loader/`: names, CRLF with a BOM, empty lines, multi-byte symbols, and the defects the
//! loader names (UTF-16 with and without BOM, NUL, control characters, `.` in an item, Latin-1).
//!
//! Deterministic: the same files on every run.

use std::fs;
use std::path::{Path, PathBuf};

use charmlp::weights::{self, HEADER_LEN, to_bytes};
use charmlp::{Init, Params, Vocab};

type Small = Params<7, 3, 4, 12, 9>;

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    weights_reader(&root.join("weights_reader"));
    sampler(&root.join("sampler"));
    checkpoint_reader(&root.join("checkpoint_reader"));
    data_loader(&root.join("data_loader"));
    int8(&root.join("int8"));
}

/// `int8/`: a settings byte, then int8 files: quantizations of small models (several
/// vocabularies) and of the canonical one, and edited ones with a correct CRC (each
/// quantization parameter out of range).
fn int8(dir: &Path) {
    use charmlp::int8::{Layout, quantize};
    let mut files = Vec::new();
    for (i, syms) in [".abcdef", ".a", ".éb€"].iter().enumerate() {
        let p = Small::init(11 + i as u64, Init::Scaled);
        let v = Vocab::<7>::from_symbols(syms.chars()).unwrap();
        files.push((format!("small-{i}"), quantize(&p.view(), v.view()).unwrap()));
    }
    let p = Params::<27, 3, 10, 30, 200>::init(5, Init::Scaled);
    let v = Vocab::<27>::from_symbols(".abcdefghijklmnopqrstuvwxyz".chars()).unwrap();
    files.push(("canonical".into(), quantize(&p.view(), v.view()).unwrap()));
    let base = files[0].1.clone();
    let shape = charmlp::int8::QuantView::parse(&base).unwrap().shape();
    let l = Layout::new(shape, 7);
    for (name, at, bytes) in [
        ("shift0", l.shifts, 0u32.to_le_bytes().to_vec()),
        ("m1-zero", l.m1, 0u32.to_le_bytes().to_vec()),
        ("b2-huge", l.b2, i32::MAX.to_le_bytes().to_vec()),
        ("w1-min", l.w1t + 3, vec![0x80]),
        ("pad", l.pad, vec![1]),
    ] {
        let mut b = base.clone();
        b[at..at + bytes.len()].copy_from_slice(&bytes);
        files.push((name.into(), fix_crc(b)));
    }
    for (knob, (name, f)) in files.into_iter().enumerate() {
        let mut b = vec![(knob as u8).wrapping_mul(37)];
        b.extend_from_slice(&f);
        write(dir, &format!("{name}.bin"), &b);
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
    println!("{:>6} B  {}", bytes.len(), dir.join(name).display());
}

/// Recomputes the trailing CRC-32 after an edit.
fn fix_crc(mut b: Vec<u8>) -> Vec<u8> {
    let n = b.len() - 4;
    let crc = weights::crc32(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn small(seed: u64, symbols: &str) -> Vec<u8> {
    let p = Small::init(seed, Init::Scaled);
    let v = Vocab::<7>::from_symbols(symbols.chars()).unwrap();
    let b = to_bytes(&p.view(), v.view());
    assert!(charmlp::Weights::<7, 3, 4, 12, 9>::parse(&b).is_ok());
    b
}

fn weights_reader(dir: &Path) {
    // Vocabulary strings of 1, 3, 7 and 10 bytes: padding of 3, 1, 1 and 2 bytes.
    let base = small(1, ".abcdef");
    write(dir, "small_abcdef.bin", &base);
    write(dir, "small_dot_only.bin", &small(2, "."));
    let ab = small(3, ".ab");
    write(dir, "small_ab.bin", &ab);
    write(dir, "small_multibyte.bin", &small(4, ".é€😀"));

    let canon = charmlp::Canonical::init(5, Init::Scaled);
    let letters = Vocab::<27>::from_text("abcdefghijklmnopqrstuvwxyz").unwrap();
    write(
        dir,
        "canonical.bin",
        &to_bytes(&canon.view(), letters.view()),
    );

    let t = weights::tensor_offset(3); // first tensor of `ab`
    // Each malformed file is rejected for the reason its name gives.
    let edit = |name: &str, f: &dyn Fn(&mut Vec<u8>), crc: bool| {
        let mut b = ab.clone();
        f(&mut b);
        let b = if crc { fix_crc(b) } else { b };
        let err = charmlp::Weights::<7, 3, 4, 12, 9>::parse(&b).unwrap_err();
        println!("        {err:?}");
        write(dir, name, &b);
    };
    edit("bad_truncated.bin", &|b| b.truncate(b.len() - 10), false);
    edit("bad_header_only.bin", &|b| b.truncate(HEADER_LEN), false);
    edit("bad_trailing.bin", &|b| b.extend_from_slice(&[0; 4]), true);
    edit("bad_magic.bin", &|b| b[0] = b'X', true);
    edit("bad_version.bin", &|b| b[8] = 2, true);
    edit("bad_dtype.bin", &|b| b[10] = 2, true);
    edit("bad_reserved.bin", &|b| b[11] = 1, true);
    edit("bad_shape_h.bin", &|b| b[24] = 10, true);
    edit("bad_symbols.bin", &|b| b[28] = 2, true);
    edit("bad_crc.bin", &|b| b[t] ^= 1, false);
    edit(
        "bad_nan.bin",
        &|b| {
            let at = t + 4 * 100;
            b[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        },
        true,
    );
    edit(
        "bad_inf.bin",
        &|b| {
            let n = b.len() - 8;
            b[n..n + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
        },
        true,
    );
    edit("bad_duplicate.bin", &|b| b[HEADER_LEN + 2] = b'a', true);
    edit(
        "bad_no_terminator.bin",
        &|b| b.swap(HEADER_LEN, HEADER_LEN + 1),
        true,
    );
    edit("bad_utf8.bin", &|b| b[HEADER_LEN + 2] = 0xFF, true);
}

/// One sampler input: seed, temperature, top-k byte, max_len byte, vocabulary byte, mode byte,
/// then the weights (raw f32, or i16 / 4096 when bounded).
fn sampler_input(
    seed: u64,
    temperature: f32,
    top_k: u8,
    max_len: u8,
    vocab: u8,
    raw: bool,
    p: &Small,
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&seed.to_le_bytes());
    b.extend_from_slice(&temperature.to_le_bytes());
    b.extend_from_slice(&[top_k, max_len, vocab, u8::from(raw)]);
    for t in p.view().tensors() {
        for &x in t {
            if raw {
                b.extend_from_slice(&x.to_le_bytes());
            } else {
                let q = (x * 4096.0).round().clamp(-32768.0, 32767.0) as i16;
                b.extend_from_slice(&q.to_le_bytes());
            }
        }
    }
    b
}

fn sampler(dir: &Path) {
    const NONE: u8 = 0xFF;
    let p = Small::init(7, Init::Scaled);
    let mut sharp = Small::init(8, Init::Randn); // larger logits: peaked distributions
    sharp
        .w2
        .as_flattened_mut()
        .iter_mut()
        .for_each(|w| *w *= 2.0);
    let mut nan = p.clone();
    nan.w2[3][2] = f32::NAN;
    let mut inf = p.clone();
    inf.b1[0] = f32::INFINITY;
    let mut huge = p.clone();
    huge.w2
        .as_flattened_mut()
        .iter_mut()
        .for_each(|w| *w = 3.0e38);

    let inputs: [(&str, Vec<u8>); 11] = [
        (
            "ascii_bounded",
            sampler_input(1, 1.0, NONE, 20, 6, false, &p),
        ),
        ("ascii_raw", sampler_input(2, 1.0, NONE, 20, 6, true, &p)),
        (
            "wide_topk3_t05",
            sampler_input(3, 0.5, 3, 40, 8 | 6, false, &sharp),
        ),
        (
            "wide_raw_t2",
            sampler_input(4, 2.0, NONE, 64, 8 | 6, true, &sharp),
        ),
        (
            "few_symbols_topk1",
            sampler_input(5, 1.0, 1, 10, 2, false, &p),
        ),
        ("dot_only", sampler_input(6, 1.0, NONE, 10, 0, false, &p)),
        ("raw_nan", sampler_input(7, 1.0, NONE, 20, 6, true, &nan)),
        ("raw_inf", sampler_input(8, 1.0, NONE, 20, 6, true, &inf)),
        ("raw_huge", sampler_input(9, 1.0, NONE, 20, 6, true, &huge)),
        ("temp_zero", sampler_input(10, 0.0, NONE, 20, 6, false, &p)),
        ("topk_zero", sampler_input(11, 1.0, 0, 20, 6, false, &p)),
    ];
    for (name, bytes) in inputs {
        write(dir, name, &bytes);
    }
    write(
        dir,
        "header_only",
        &sampler_input(12, 1e-30, NONE, 64, 8 | 6, false, &p)[..16],
    );
}

fn checkpoint_reader(dir: &Path) {
    use charmlp::checkpoint::{self, Contents, ScheduleFields, Settings, SplitMode};
    let w = small(6, ".abcdef");
    let settings = Settings {
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
        data_crc: 0x1234_5678,
        data_len: 999,
        kernel: Settings::kernel_field("avx2"),
    };
    let hist: Vec<f32> = (0..40).map(|i| 1.0 - i as f32 * 0.01).collect();
    let full = checkpoint::to_bytes(&Contents {
        step: 40,
        settings,
        history: Some(&hist),
        weights: &w,
        best: Some((30, 2.5, &w)),
    });
    assert!(checkpoint::Checkpoint::parse(&full).is_ok());
    write(dir, "full.ckpt", &full);
    let bare = checkpoint::to_bytes(&Contents {
        step: 100,
        settings,
        history: None,
        weights: &w,
        best: None,
    });
    write(dir, "bare.ckpt", &bare);
    let edit = |name: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = full.clone();
        f(&mut b);
        let b = fix_crc(b);
        let err = checkpoint::Checkpoint::parse(&b).unwrap_err();
        println!("        {err:?}");
        write(dir, name, &b);
    };
    edit("bad_step.ckpt", &|b| b[checkpoint::STEP.start] = 39);
    edit("bad_history_len.ckpt", &|b| {
        b[checkpoint::HISTORY_LEN.start] = 41
    });
    edit("bad_weights_len.ckpt", &|b| {
        b[checkpoint::WEIGHTS_LEN.start + 7] = 0xff
    });
    edit("bad_flags.ckpt", &|b| b[checkpoint::FLAGS.start] = 0x80);
    edit("bad_reserved.ckpt", &|b| {
        b[checkpoint::RESERVED[0].start] = 1
    });
    edit("bad_init.ckpt", &|b| b[checkpoint::INIT] = 9);
    edit("bad_best_step.ckpt", &|b| {
        b[checkpoint::BEST_STEP.start] = 41
    });
    write(dir, "bad_crc.ckpt", &{
        let mut b = full.clone();
        b[200] ^= 1;
        b
    });
}

fn data_loader(dir: &Path) {
    let names = include_str!("../../data/names.txt");
    let first: String = names.lines().take(60).map(|l| format!("{l}\n")).collect();
    write(dir, "names.txt", first.as_bytes());
    let crlf: String = names.lines().take(20).map(|l| format!("{l}\r\n")).collect();
    write(
        dir,
        "bom_crlf.txt",
        &[&b"\xef\xbb\xbf"[..], crlf.as_bytes()].concat(),
    );
    write(
        dir,
        "empty_lines.txt",
        b"anna\n\n\nbob\n\ncarl\ndora\neve\nfred\ngus\nhal\nivy\njo\n",
    );
    write(
        dir,
        "multibyte.txt",
        "ἀλέξανδρος\nζωή\n明\n😀x\nabc\nδ\nε\nζ\nη\nθ\nι\n".as_bytes(),
    );
    let utf16: Vec<u8> = "anna\nbob\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    write(dir, "utf16_no_bom.txt", &utf16);
    write(dir, "utf16_bom.txt", &[&[0xff, 0xfe][..], &utf16].concat());
    write(dir, "nul.txt", b"anna\nb\0b\ncarl\n");
    write(dir, "tab.txt", b"anna\nb\tb\ncarl\n");
    write(dir, "dot.txt", b"anna\nbo.b\ncarl\n");
    write(dir, "latin1.txt", b"anna\ncaf\xe9\n");
}
