//! charmlp on a Cortex-M: samples names from the canonical model (V=27, B=3, E=10, H=200),
//! whose weights file is baked into flash and read in place.
//!
//! It prints the names one per line on semihosting stdout, then `# `-prefixed diagnostics
//! (stack high-water mark, counts), and exits QEMU with status 0. A bad weights file, a panic or
//! a HardFault prints a message on stderr and exits with status 1.
//!
//! With the scalar kernels the names are bit-identical to `cargo run --release --example sample
//! --features std -- --weights examples/firmware/weights.bin --count 20 --seed 42
//! --temperature 1 --kernel scalar`.
//!
//! Nothing here uses `core::fmt`: output is raw semihosting writes and a small integer printer,
//! and the panic handler prints the panic's location only. `core::fmt` (through `hprintln!`,
//! `panic-semihosting`, or `Display` of the errors) would add about 7 KB of code.
//!
//! The `insn_*` functions are markers for the QEMU instruction-counting plugin in `qemu-plugin/`.

#![no_std]
#![no_main]

use charmlp::sample::SampleArrays;
use charmlp::weights::format::{self, Header};
use charmlp::weights::{Aligned, Weights};
use charmlp::{Kernels, SampleConfig, SampleError, Sampler, Shape, WeightsError};
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hio};

// ---- The model ---------------------------------------------------------------------------------

const V: usize = 27;
const B: usize = 3;
const E: usize = 10;
const IN: usize = B * E;
const H: usize = 200;
type Model = Weights<'static, V, B, E, IN, H>;

// ---- Sampling parameters: the host sampler's `--seed 42 --temperature 1` and its defaults ------

/// Names to sample.
const COUNT: usize = 20;
/// Seed of the sampler's `Xoshiro128PlusPlus`.
const SEED: u64 = 42;
/// Softmax temperature.
const TEMPERATURE: f32 = 1.0;
/// No top-k truncation.
const TOP_K: Option<usize> = None;

/// The weights file, 4-byte aligned in `.rodata` (flash), so it is read without a copy.
static WEIGHTS: &Aligned<[u8]> = &Aligned {
    _align: [],
    bytes: *include_bytes!("../weights.bin"),
};

// A weights file of another shape (or not a weights file) fails the build, not the board.
// `Model::parse` still checks everything (CRC, vocabulary, finiteness) at startup.
const _: () = {
    let h = match Header::parse(&WEIGHTS.bytes) {
        Ok(h) => h,
        Err(_) => panic!("weights.bin: not a charmlp weights file of a supported version"),
    };
    assert!(h.vocab as usize == V, "weights.bin: V differs from the firmware's model");
    assert!(h.block as usize == B, "weights.bin: B differs from the firmware's model");
    assert!(h.emb as usize == E, "weights.bin: E differs from the firmware's model");
    assert!(h.hidden as usize == H, "weights.bin: H differs from the firmware's model");
    let shape = match Shape::new(V, B, E, H) {
        Ok(s) => s,
        Err(_) => panic!("the firmware's model is not a valid shape"),
    };
    assert!(
        WEIGHTS.bytes.len() == shape.file_len(h.vocab_len as usize),
        "weights.bin: length does not match its header"
    );
    let _ = format::HEADER_LEN;
};

// ---- Instruction-count markers (see qemu-plugin/insncount.c) ----------------------------------
//
// Each marker is a distinct function (the `black_box` arguments differ, so that no pass merges
// them into one address); the plugin hooks them by symbol address.

/// Re-bases the plugin's counter: what ran since the last marker is not measured.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn insn_restart() {
    core::hint::black_box(0u32);
}

/// One symbol drawn (a forward pass, softmax and draw): the plugin prints the instructions since
/// the previous marker.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn insn_mark() {
    core::hint::black_box(1u32);
}

// ---- Output without core::fmt ------------------------------------------------------------

/// A semihosting stream; write errors are ignored (there is nowhere else to report them).
struct Console(Option<hio::HostStream>);

impl Console {
    fn stderr() -> Console {
        Console(hio::hstderr().ok())
    }

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

// ---- Faults and errors ------------------------------------------------------------------------

/// A HardFault (e.g. `udf`, a bus error) exits QEMU with status 1 instead of hanging.
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    Console::stderr()
        .str("HardFault at pc ")
        .hex(ef.pc())
        .str("\n");
    exit(debug::EXIT_FAILURE)
}

/// A panic exits QEMU with status 1 (its message is not printed: that needs `core::fmt`).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut err = Console::stderr();
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
    exit(debug::EXIT_FAILURE)
}

fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Only reached without a semihosting host.
    loop {
        cortex_m::asm::wfi();
    }
}

enum Error {
    Weights(WeightsError),
    Sample(SampleError),
    Semihosting,
}

impl Error {
    fn report(&self) {
        let mut err = Console::stderr();
        err.str("error: ");
        match self {
            Error::Weights(e) => {
                err.str("weights.bin: ").str(e.as_str());
                if let WeightsError::ShapeMismatch {
                    dim,
                    expected,
                    found,
                } = *e
                {
                    err.str(": ")
                        .str(dim.letter())
                        .str(" is ")
                        .num(found as usize)
                        .str(" in the file, the firmware's model has ")
                        .num(expected as usize);
                }
            }
            Error::Sample(e) => {
                err.str(e.as_str());
            }
            Error::Semihosting => {
                err.str("semihosting stdout unavailable");
            }
        }
        err.str("\n");
    }
}

// ---- Stack high-water mark by painting ----------------------------------------------------------

mod stack {
    unsafe extern "C" {
        /// Lowest address the stack may grow down to (cortex-m-rt's `link.x`).
        static mut _stack_end: u32;
        /// The initial stack pointer (top of RAM).
        static _stack_start: u32;
    }

    const PAINT: u32 = 0x5AFE_C0DE;
    /// Words below the current stack pointer left unpainted (this function's own spills).
    const MARGIN: usize = 64;

    /// Fills the unused stack with a pattern. Call first thing in `main`.
    #[inline(never)]
    pub fn paint() {
        let sp = cortex_m::register::msp::read() as usize;
        let mut p = &raw mut _stack_end;
        // SAFETY: every word from `_stack_end` up to MARGIN bytes below the live stack pointer
        // is unused stack: no frame lives there yet, and nothing else is placed there.
        unsafe {
            while (p as usize) < sp - MARGIN {
                p.write_volatile(PAINT);
                p = p.add(1);
            }
        }
    }

    /// Bytes of stack used so far: from the top of RAM down to the lowest overwritten word.
    pub fn high_water() -> usize {
        let top = &raw const _stack_start as usize;
        let mut p = &raw const _stack_end;
        // SAFETY: reads words of the stack region, from its bottom up to the first one that is
        // not the paint (at the latest the live frames, below `top`).
        unsafe {
            while (p as usize) < top && p.read_volatile() == PAINT {
                p = p.add(1);
            }
        }
        top - p as usize
    }
}

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

    fn write(&mut self, out: &mut hio::HostStream) -> Result<(), Error> {
        let bytes = &self.buf[..self.len];
        self.len = 0;
        out.write_all(bytes).map_err(|()| Error::Semihosting)
    }
}

fn run() -> Result<(), Error> {
    let mut out = hio::hstdout().map_err(|()| Error::Semihosting)?;
    let w = Model::parse(&WEIGHTS.bytes).map_err(Error::Weights)?;
    let params = w.params().map_err(Error::Weights)?;
    let cfg = SampleConfig {
        temperature: TEMPERATURE,
        top_k: TOP_K,
        ..SampleConfig::default()
    };
    let mut scratch = SampleArrays::<V, IN, H>::new();
    let mut sampler = Sampler::new(
        params,
        w.vocab(),
        Kernels::scalar(),
        SEED,
        cfg,
        &mut scratch,
    )
    .map_err(Error::Sample)?;

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
            .map_err(Error::Sample)?;
        if n < cfg.max_len {
            // The draw of the terminator.
            insn_mark();
            symbols += 1;
        }
        chars += n;
        symbols += n;
        line.push('\n');
        if flush_failed {
            return Err(Error::Semihosting);
        }
        line.write(&mut out)?;
    }

    let mut con = Console(Some(out));
    #[cfg(feature = "breakdown")]
    breakdown::run(&params, &mut con);

    con.str("# sampled ")
        .num(COUNT)
        .str(" names: ")
        .num(chars)
        .str(" characters, ")
        .num(symbols)
        .str(" symbols drawn (characters + terminators)\n");
    con.str("# weights: ")
        .num(WEIGHTS.bytes.len())
        .str(" bytes in flash at ")
        .hex(WEIGHTS.bytes.as_ptr() as u32)
        .str("\n");
    con.str("# stack high-water mark: ")
        .num(stack::high_water())
        .str(" bytes\n");
    Ok(())
}

#[entry]
fn main() -> ! {
    stack::paint();
    let status = match run() {
        Ok(()) => debug::EXIT_SUCCESS,
        Err(e) => {
            e.report();
            debug::EXIT_FAILURE
        }
    };
    if cfg!(feature = "fault") {
        // CI: a HardFault must exit QEMU non-zero.
        cortex_m::asm::udf();
    }
    if cfg!(feature = "panic") {
        // CI: a panic must exit QEMU non-zero.
        panic!("deliberate panic (feature `panic`)");
    }
    exit(status)
}

#[cfg(feature = "breakdown")]
mod breakdown;
