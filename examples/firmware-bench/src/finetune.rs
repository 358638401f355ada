//! On-device fine-tuning: a Cortex-M copies the pretrained weights from flash into RAM, trains on
//! a list baked into flash (the names of `data/names.txt` that start with `z`), and samples —
//! with `charmlp::finetune::fine_tune`, the code `charmlp finetune` runs on the host, so the
//! report is byte-identical to the host's (CI compares them).
//!
//! Every buffer is a `static` (cortex-m-rt's `#[entry]` turns `static mut` into `&'static mut`):
//! the parameters (`Params`, 47.6 KB for the canonical model), a `LeanWorkspace` of batch 8 — the
//! activations only, 16.4 KB: the step applies each gradient as it is produced — the batch and
//! the sampler's scratch. No heap. After the report it times `STEPS_TIMED` more steps between
//! instruction-counter markers, and prints the stack high-water mark.
//!
//! Feature `small` (the Cortex-M0, 16 KiB of RAM): a homework-size model (`small.bin`: B=3,
//! E=4, H=10, 535 parameters), the first 100 names of the list, 40 steps and 20 samples.
//! Feature `batch1`: minibatches of one row (the canonical model's smallest RAM).

#![no_std]
#![no_main]

use charmlp::batch::Items;
use charmlp::finetune::{FineTune, fine_tune};
use charmlp::sample::SampleArrays;
use charmlp::{Index, Kernels, LeanWorkspace, Params, include_weights};
use semihosting::io::Write as _;

#[cfg(not(feature = "small"))]
include_weights!(MODEL: Model<27, 3, 10, 200> = "../../template/weights.bin");
#[cfg(feature = "small")]
include_weights!(MODEL: Model<27, 3, 4, 10> = "../finetune/small.bin");

/// The list, one name per line.
#[cfg(not(feature = "small"))]
const LIST: &str = include_str!("../finetune/z-names.txt");
/// The first 100 names of the list (the M0 trains on what its RAM and time allow).
#[cfg(feature = "small")]
const LIST: &str = first_lines(include_str!("../finetune/z-names.txt"), 100);

/// The settings of the README's scenario (the host runs them with `charmlp finetune`).
#[cfg(not(feature = "small"))]
const CFG: (u64, f32, usize) = (400, 0.01, 200);
#[cfg(feature = "small")]
const CFG: (u64, f32, usize) = (40, 0.1, 20);

/// The minibatch (feature `batch1`: one row, the smallest RAM).
#[cfg(not(feature = "batch1"))]
const BATCH: usize = 8;
#[cfg(feature = "batch1")]
const BATCH: usize = 1;
/// Steps timed after the report, for the instructions per step.
const STEPS_TIMED: u64 = 4;

type P = Params<{ Model::V }, { Model::B }, { Model::E }, { Model::IN }, { Model::H }>;
type W =
    LeanWorkspace<{ Model::V }, { Model::B }, { Model::E }, { Model::IN }, { Model::H }, BATCH>;

/// The first `n` lines of `s` (a `const fn`, so the subset is what lands in flash).
#[allow(dead_code)]
const fn first_lines(s: &str, n: usize) -> &str {
    let b = s.as_bytes();
    let (mut i, mut lines) = (0, 0);
    while i < b.len() && lines < n {
        if b[i] == b'\n' {
            lines += 1;
        }
        i += 1;
    }
    match core::str::from_utf8(b.split_at(i).0) {
        Ok(t) => t,
        Err(_) => s,
    }
}

/// The list encoded as symbol indices for the alphabet `.a…z` (`a` = 1, each name followed by
/// `0`), at compile time, into flash; checked against the model's vocabulary at startup.
const ITEMS_LEN: usize = encoded_len(LIST.as_bytes());
static ITEMS: [u8; ITEMS_LEN] = encode(LIST.as_bytes());

const fn encoded_len(b: &[u8]) -> usize {
    let (mut i, mut n, mut line) = (0, 0, 0);
    while i < b.len() {
        if b[i] == b'\n' {
            if line > 0 {
                n += 1;
            }
            line = 0;
        } else if b[i] != b'\r' {
            n += 1;
            line += 1;
        }
        i += 1;
    }
    if line > 0 { n + 1 } else { n }
}

const fn encode(b: &[u8]) -> [u8; ITEMS_LEN] {
    let mut out = [0u8; ITEMS_LEN];
    let (mut i, mut n, mut line) = (0, 0, 0);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            if line > 0 {
                out[n] = 0;
                n += 1;
            }
            line = 0;
        } else if c != b'\r' {
            assert!(
                c >= b'a' && c <= b'z',
                "the list must be lowercase a-z names"
            );
            out[n] = c - b'a' + 1;
            n += 1;
            line += 1;
        }
        i += 1;
    }
    if line > 0 {
        out[n] = 0;
    }
    out
}

mod insn;
use insn::{insn_mark, insn_restart};

/// A panic prints its location and exits QEMU with status 1.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let (Ok(mut e), Some(l)) = (semihosting::io::stderr(), info.location()) {
        let _ = e.write_all(b"panicked at ");
        let _ = e.write_all(l.file().as_bytes());
        let _ = e.write_all(b"\n");
    }
    semihosting::process::exit(1)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(_: &cortex_m_rt::ExceptionFrame) -> ! {
    semihosting::eprintln!("HardFault");
    semihosting::process::exit(1)
}

mod stack;

#[cortex_m_rt::entry]
fn main() -> ! {
    static mut PARAMS: P = P::zeros();
    static mut WS: W = W::new(Kernels::for_target());
    static mut SCRATCH: SampleArrays<{ Model::V }, { Model::IN }, { Model::H }> =
        SampleArrays::new();
    static mut CTX: [Index; BATCH * Model::B] = [0; BATCH * Model::B];
    static mut TARGETS: [Index; BATCH] = [0; BATCH];
    stack::paint();
    let status = match run(PARAMS, WS, SCRATCH, CTX, TARGETS) {
        Ok(()) => 0,
        Err(e) => {
            semihosting::eprintln!("error: {}", e.as_str());
            1
        }
    };
    semihosting::process::exit(status)
}

fn run(
    params: &mut P,
    ws: &mut W,
    scratch: &mut SampleArrays<{ Model::V }, { Model::IN }, { Model::H }>,
    ctx: &mut [Index],
    targets: &mut [Index],
) -> Result<(), charmlp::Error> {
    // The pretrained weights, from flash into RAM.
    params.view_mut().copy_from(&MODEL.params()?)?;
    let vocab = MODEL.vocab();
    // The list was encoded for `.a…z`: check that this is the model's vocabulary.
    for (i, c) in ('a'..='z').enumerate() {
        if vocab.encode(c).ok() != Some(i as Index + 1) {
            return Err(charmlp::Error::Vocab(charmlp::VocabError::Unknown(c)));
        }
    }
    let items = Items::U8(&ITEMS);
    let (steps, lr, samples) = CFG;
    let mut cfg = FineTune::new(steps, lr, 1, 'z');
    cfg.samples = samples;
    fine_tune(
        &mut ws.view(),
        &mut params.view_mut(),
        vocab,
        items,
        &cfg,
        ctx,
        targets,
        scratch,
        |args| semihosting::print!("{args}"),
    )?;
    // Instructions per training step: a few more steps between markers.
    for step in 0..STEPS_TIMED {
        items.sample_batch(99, step, ctx, targets);
        insn_restart();
        ws.view()
            .train_step(&mut params.view_mut(), ctx, targets, lr, step)?;
        insn_mark();
    }
    semihosting::println!(
        "# RAM: params {} B, workspace {} B, stack high-water mark {} B",
        core::mem::size_of::<P>(),
        core::mem::size_of::<W>(),
        stack::high_water()
    );
    Ok(())
}
