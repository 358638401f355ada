//! Stack high-water mark by painting, shared by the firmware binaries (`mod stack;`).

unsafe extern "C" {
    /// The initial stack pointer, the top of the stack (cortex-m-rt's and riscv-rt's
    /// linker scripts both define it).
    static _stack_start: u32;
}

/// Bytes painted below the top of the stack (more than the whole run needs; the smallest
/// board, the M0's, has 16 KiB of RAM).
const DEPTH: usize = 8 * 1024;
const PAINT: u32 = 0x5AFE_C0DE;
/// Bytes below the current frame left unpainted (this function's own spills).
const MARGIN: usize = 256;

fn top() -> usize {
    &raw const _stack_start as usize
}

/// Fills the stack from [`DEPTH`] bytes below its top up to just below the current frame
/// with a pattern. Call first thing in `main`.
#[inline(never)]
pub fn paint() {
    let marker = 0u32;
    let here = core::hint::black_box(&marker) as *const u32 as usize & !3;
    let mut p = (top() - DEPTH) as *mut u32;
    while (p as usize) < here - MARGIN {
        // SAFETY: the words from DEPTH below the stack's top up to MARGIN below this frame
        // lie below every live frame, inside the stack region (DEPTH is below the smallest
        // board's free RAM, and .data/.bss are tiny), and nothing else is placed there.
        unsafe {
            p.write_volatile(PAINT);
            p = p.add(1);
        }
    }
}

/// Bytes of stack used so far: from its top down to the lowest overwritten word.
pub fn high_water() -> usize {
    let mut p = (top() - DEPTH) as *const u32;
    // SAFETY: reads the painted words, from the bottom up to the first one that is not the
    // paint (at the latest the live frames, below the top).
    unsafe {
        while (p as usize) < top() && p.read_volatile() == PAINT {
            p = p.add(1);
        }
    }
    top() - p as usize
}
