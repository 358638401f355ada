//! charmlp's measurement firmware: samples names from the canonical model baked into flash, on a
//! Cortex-M (M4F, M0, M33) or RISC-V (rv32imac) core under QEMU, and reports what it cost.
//!
//! It prints the names one per line on semihosting stdout, then `# `-prefixed diagnostics (stack
//! high-water mark, counts), and exits QEMU with status 0. A panic or a trap prints a message on
//! stderr and exits with status 1. The names are byte-identical to the host's
//! `charmlp sample --weights examples/template/weights.bin --count 20 --seed 42 --kernel scalar`.
//!
//! Unlike `examples/template` (what a user copies), nothing here uses `core::fmt`, so the
//! footprint is the library's: output is raw semihosting writes and a small integer printer.
//!
//! The `insn_*` functions are markers for the QEMU instruction-counting plugin in `qemu-plugin/`.

#![no_std]
#![no_main]

use charmlp::{Kernels, SampleConfig, include_weights};
use semihosting::io::{self, Write};

// ---- The model and the sampling parameters (the host's `--count 20 --seed 42` defaults) -------

#[cfg(not(feature = "table"))]
include_weights!(MODEL: Model<27, 3, 10, 200> = "../../template/weights.bin");
// Feature `table`: layer 1 from the baked per-position table (64.8 KB more flash).
#[cfg(feature = "table")]
include_weights!(
    MODEL: Model<27, 3, 10, 200> = "../../template/weights.bin",
    table = "../../template/weights.table",
);

// Feature `int8`: the int8 quantization of the same model (`charmlp convert --quantize int8`),
// sampled by the integer sampler; its names are the host's for that file. The same macro: the
// file's header makes `Int8Model` a `charmlp::int8::BakedInt8`, checked at compile time.
#[cfg(feature = "int8")]
include_weights!(INT8: Int8Model<27, 3, 10, 200> = "../int8/weights.int8.bin");
// Features `int8` and `table`: the int8 model's per-position layer-1 table, int32 sums computed
// at compile time from the int8 file (64.8 KB of flash; no table file).
#[cfg(all(feature = "int8", feature = "table"))]
static INT8_TABLE: [i32; Int8Model::TABLE_LEN] = INT8.table();

/// Names to sample.
const COUNT: usize = 20;
/// Seed of the sampler's `Xoshiro128PlusPlus`.
const SEED: u64 = 42;

/// The kernels under test: the reference with feature `scalar`, else the best for the target.
fn kernels() -> Kernels {
    if cfg!(feature = "scalar") {
        Kernels::scalar()
    } else {
        Kernels::best()
    }
}

// ---- Instruction-count markers (see qemu-plugin/insncount.c) ----------------------------------

mod insn;
use insn::{insn_mark, insn_restart};

// ---- Output without core::fmt ------------------------------------------------------------

/// A semihosting stream; write errors are ignored (there is nowhere else to report them).
struct Console<W>(Option<W>);

fn stderr() -> Console<io::Stderr> {
    Console(io::stderr().ok())
}

impl<W: Write> Console<W> {
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        if let Some(s) = self.0.as_mut() {
            let _ = s.write_all(b);
        }
        self
    }

    fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// `n` in decimal.
    fn num(&mut self, mut n: usize) -> &mut Self {
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        loop {
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.bytes(&buf[at..])
    }

    /// `n` as `0x` and 8 hex digits.
    fn hex(&mut self, n: u32) -> &mut Self {
        let mut buf = *b"0x00000000";
        for (i, d) in buf[2..].iter_mut().enumerate() {
            *d = b"0123456789abcdef"[(n >> (28 - 4 * i) & 0xf) as usize];
        }
        self.bytes(&buf)
    }
}

// ---- Faults and panics: exit QEMU with status 1 instead of hanging ----------------------------

#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    stderr().str("HardFault at pc ").hex(ef.pc()).str("\n");
    semihosting::process::exit(1)
}

/// Any trap riscv-rt has no handler for (an illegal instruction, a bus error).
#[cfg(target_arch = "riscv32")]
#[unsafe(export_name = "ExceptionHandler")]
fn trap(frame: &riscv_rt::TrapFrame) -> ! {
    stderr().str("trap, ra ").hex(frame.ra as u32).str("\n");
    semihosting::process::exit(1)
}

/// A panic exits QEMU with status 1 (its location is printed; its message would need fmt).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut err = stderr();
    err.str("panicked");
    if let Some(l) = info.location() {
        err.str(" at ")
            .str(l.file())
            .str(":")
            .num(l.line() as usize)
            .str(":")
            .num(l.column() as usize);
    }
    err.str("\n");
    semihosting::process::exit(1)
}

// ---- Stack high-water mark by painting ----------------------------------------------------------

mod stack;

// ---- Sampling --------------------------------------------------------------------------------

/// One name's bytes; a line is written when it fills (names are far shorter).
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl Line {
    fn push(&mut self, c: char) {
        let n = c.encode_utf8(&mut self.buf[self.len..]).len();
        self.len += n;
    }

    fn nearly_full(&self) -> bool {
        self.len + 4 > self.buf.len()
    }

    fn write(&mut self, out: &mut io::Stdout) -> Result<(), &'static str> {
        let bytes = &self.buf[..self.len];
        self.len = 0;
        out.write_all(bytes)
            .map_err(|_| "semihosting stdout write failed")
    }
}

/// The baked weights file sampled.
fn weights_bytes() -> &'static [u8] {
    #[cfg(feature = "int8")]
    return INT8.bytes();
    #[cfg(not(feature = "int8"))]
    MODEL.bytes()
}

fn run() -> Result<(), &'static str> {
    let mut out = io::stdout().map_err(|_| "semihosting stdout unavailable")?;
    let cfg = SampleConfig::default();
    #[cfg(not(feature = "int8"))]
    let mut scratch = Model::sample_arrays();
    #[cfg(not(feature = "int8"))]
    let mut sampler = MODEL
        .sampler(kernels(), SEED, cfg, &mut scratch)
        .map_err(|e| e.as_str())?;
    #[cfg(feature = "int8")]
    let mut scratch = Int8Model::sample_arrays();
    #[cfg(feature = "int8")]
    let sampler = INT8
        .sampler(kernels(), SEED, cfg, &mut scratch)
        .map_err(|e| e.as_str())?;
    #[cfg(all(feature = "int8", feature = "table"))]
    let sampler = sampler.with_table(&INT8_TABLE).map_err(|e| e.as_str())?;
    #[cfg(feature = "int8")]
    let mut sampler = sampler;

    let mut line = Line {
        buf: [0; 128],
        len: 0,
    };
    let (mut chars, mut symbols) = (0usize, 0usize);
    for _ in 0..COUNT {
        insn_restart();
        let mut flush_failed = false;
        let n = sampler
            .sample_with(|c| {
                insn_mark();
                line.push(c);
                if line.nearly_full() {
                    flush_failed |= line.write(&mut out).is_err();
                    insn_restart();
                }
            })
            .map_err(|e| e.as_str())?;
        if n < cfg.max_len {
            // The draw of the terminator.
            insn_mark();
            symbols += 1;
        }
        chars += n;
        symbols += n;
        line.push('\n');
        if flush_failed {
            return Err("semihosting stdout write failed");
        }
        line.write(&mut out)?;
    }

    let mut con = Console(Some(out));
    #[cfg(feature = "breakdown")]
    breakdown::run(&mut con)?;

    con.str("# kernels: ").str(kernels().path().name());
    #[cfg(feature = "int8")]
    con.str(" (int8 matvec: ")
        .str(kernels().int8_kernel())
        .str(")");
    con.str("\n# sampled ")
        .num(COUNT)
        .str(" names: ")
        .num(chars)
        .str(" characters, ")
        .num(symbols)
        .str(" symbols drawn (characters + terminators)\n# weights: ")
        .num(weights_bytes().len())
        .str(" bytes at ")
        .hex(weights_bytes().as_ptr() as usize as u32)
        .str("\n# stack high-water mark: ")
        .num(stack::high_water())
        .str(" bytes\n");
    Ok(())
}

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    stack::paint();
    let status = match run() {
        Ok(()) => 0,
        Err(e) => {
            stderr().str("error: ").str(e).str("\n");
            1
        }
    };
    if cfg!(feature = "fault") {
        // CI: a trap must exit QEMU non-zero.
        // SAFETY: executes a permanently undefined instruction, on purpose: the trap handler
        // above reports it and exits.
        unsafe {
            #[cfg(target_arch = "arm")]
            core::arch::asm!("udf #0");
            #[cfg(target_arch = "riscv32")]
            core::arch::asm!("unimp");
        }
    }
    if cfg!(feature = "panic") {
        // CI: a panic must exit QEMU non-zero.
        panic!("deliberate panic (feature `panic`)");
    }
    semihosting::process::exit(status)
}

#[cfg(feature = "breakdown")]
mod breakdown;
