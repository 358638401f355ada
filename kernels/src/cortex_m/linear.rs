//! `Y = X·W (+ b)` with the inputs summed in segments, one row of `X` at a time: the forward
//! layers of the sampler (`m = 1`) and of training.
//!
//! The output row is computed in blocks of `NB` adjacent columns (`NB` = 14 or 4, one assembly
//! routine each). A block keeps its `NB` sums in `s0…`, loads a row of `W` with one
//! `vldm` into `s14…` and multiply-adds it with the input in `s28…s31` (four rows of `W` per
//! loop turn, their four inputs loaded by one `vldm`): `NB + 2` instructions per row of `NB`
//! multiply-adds. Each block computes every segment from `b` (or nothing) on, so blocks may
//! overlap: when `NB` does not divide `n` the last block is aligned to the end of the row and
//! recomputes a few columns, with the same bits.
//!
//! Per column, the operations are the reference's ([`crate::scalar::matmul_nn`]): each segment's
//! chain `T = x₀·w₀`, then `T = fma(xᵢ, wᵢ, T)` in input order; `y = b + T₀` (or `T₀` without a
//! bias), then `y = y + Tₛ` per further segment.

use crate::scalar::Epilogue;

/// `concat!` of one `op sA, X, sW` line per `(A, W)` pair.
macro_rules! each {
    ($op:literal, $x:literal, [$($a:literal $w:literal),*]) => {
        concat!($($op, " s", $a, ", ", $x, ", s", $w, "\n"),*)
    };
}

/// `vadd.f32 sA, sW, sA` per pair: the combine `y = prev + T` (commutative, so the bits of the
/// reference's `prev + T`).
macro_rules! adds {
    ([$($a:literal $w:literal),*]) => {
        concat!($("vadd.f32 s", $a, ", s", $w, ", s", $a, "\n"),*)
    };
}

/// Defines `unsafe fn $name(job: &Job)` for blocks of `$nb` columns: sums in `$acc`, a row of
/// `W` in `$wr`, `(sum, weight)` register pairs in `$pairs`.
macro_rules! block {
    ($name:ident, $nb:literal, $acc:literal, $wr:literal, [$($pairs:tt)*]) => {
        /// One block of `NB` columns (see the module docs).
        ///
        /// # Safety
        /// `job.x` points to `segs·rows` readable f32; `job.w` to `segs·rows` rows of `NB`
        /// readable f32, `job.stride` bytes apart; `job.b` is null or points to `NB` readable
        /// f32; `job.out` to `NB` writable f32; `rows ≥ 1`, `segs ≥ 1`; all 4-byte aligned.
        #[inline(never)]
        unsafe fn $name(job: &Job) {
            // SAFETY: reads and writes only what the caller guarantees (above); uses the core
            // registers it names and the FPU registers it declares clobbered; the FPU is enabled.
            unsafe {
                core::arch::asm!(
                    "mov {prev}, {b}",
                    // Segment loop.
                    "2:",
                    // First row of the segment: T = x₀·w₀.
                    "vldmia {x}!, {{s28}}",
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vmul.f32", "s28", [$($pairs)*]),
                    "subs {cnt}, {rows}, #1",
                    "b 4f",
                    // Four rows per turn: T = fma(xᵢ, wᵢ, T).
                    "3:",
                    "vldmia {x}!, {{s28-s31}}",
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vfma.f32", "s28", [$($pairs)*]),
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vfma.f32", "s29", [$($pairs)*]),
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vfma.f32", "s30", [$($pairs)*]),
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vfma.f32", "s31", [$($pairs)*]),
                    "4:",
                    "subs {cnt}, {cnt}, #4",
                    "bge 3b",
                    // The last 0–3 rows, one per turn.
                    "adds {cnt}, {cnt}, #4",
                    "beq 6f",
                    "5:",
                    "vldmia {x}!, {{s28}}",
                    concat!("vldm {w}, {{", $wr, "}}"),
                    "add {w}, {w}, {stride}",
                    each!("vfma.f32", "s28", [$($pairs)*]),
                    "subs {cnt}, {cnt}, #1",
                    "bne 5b",
                    // y = prev + T (prev: b, then y), or y = T for the first segment without b.
                    "6:",
                    "cmp {prev}, #0",
                    "beq 7f",
                    concat!("vldm {prev}, {{", $wr, "}}"),
                    adds!([$($pairs)*]),
                    "7:",
                    concat!("vstm {out}, {{", $acc, "}}"),
                    "mov {prev}, {out}",
                    "subs {segs}, {segs}, #1",
                    "bne 2b",
                    x = inout(reg) job.x => _,
                    w = inout(reg) job.w => _,
                    stride = in(reg) job.stride,
                    rows = in(reg) job.rows,
                    segs = inout(reg) job.segs => _,
                    b = in(reg) job.b,
                    out = in(reg) job.out,
                    prev = out(reg) _,
                    cnt = out(reg) _,
                    out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                    out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                    out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                    out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                    out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                    out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                    out("s24") _, out("s25") _, out("s26") _, out("s27") _,
                    out("s28") _, out("s29") _, out("s30") _, out("s31") _,
                    options(nostack)
                );
            }
        }
    };
}

/// What one block routine computes (pointers into the caller's slices; see [`block14`]).
struct Job {
    x: *const f32,
    w: *const f32,
    /// Bytes from one row of `W` to the next (`4n`).
    stride: usize,
    /// Inputs per segment.
    rows: usize,
    segs: usize,
    /// The bias, or null.
    b: *const f32,
    out: *mut f32,
}

block!(block14, 14, "s0-s13", "s14-s27", ["0" "14", "1" "15", "2" "16", "3" "17", "4" "18", "5" "19", "6" "20", "7" "21", "8" "22", "9" "23", "10" "24", "11" "25", "12" "26", "13" "27"]);
block!(block4, 4, "s0-s3", "s14-s17", ["0" "14", "1" "15", "2" "16", "3" "17"]);

/// The next block for `left` remaining columns of a row of `n ≥ 4`: 14 wide while 14 fit; then
/// the cheaper cover of the rest — one 14-wide block overlapping the previous one (≈ 16
/// instructions per row of `W`) for 12 or more columns, else 4-wide blocks (6 per row), the last
/// one overlapping if 4 does not divide the rest. Two widths keep the code small (≈ 750 bytes).
fn next_block(left: usize, n: usize) -> (usize, unsafe fn(&Job)) {
    match left {
        14.. => (14, block14),
        12.. if n >= 14 => (14, block14),
        _ => (4, block4),
    }
}

/// `y[m×n] = epi(x[m×k]·w[k×n] (+ b))`, the `k` inputs in segments of `seg`; `false` (nothing
/// written) for the shapes left to the scalar path (`k = 0`, `n < 4`). Shapes checked by the
/// caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn nn(
    m: usize,
    k: usize,
    n: usize,
    seg: usize,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    epi: Epilogue,
    y: &mut [f32],
) -> bool {
    if n < 4 || k == 0 || seg == 0 || !k.is_multiple_of(seg) || x.len() < m * k || w.len() < k * n {
        return false;
    }
    if y.len() < m * n || b.is_some_and(|b| b.len() < n) {
        return false;
    }
    for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)).take(m) {
        let mut at = 0;
        while at < n {
            let (nb, run) = next_block(n - at, n);
            // A block wider than what is left ends at n, overlapping its predecessor.
            let at_ = at.min(n - nb);
            let job = Job {
                x: xr.as_ptr(),
                w: w[at_..].as_ptr(),
                stride: 4 * n,
                rows: seg,
                segs: k / seg,
                b: b.map_or(core::ptr::null(), |b| b[at_..].as_ptr()),
                out: yr[at_..].as_mut_ptr(),
            };
            // SAFETY: x has k = segs·rows elements from xr; w has k rows of n from column
            // `at_`, and at_ + nb ≤ n; b (if any) and out have n ≥ at_ + nb elements; slices of
            // f32 are 4-byte aligned; rows = seg ≥ 1 and segs ≥ 1 (k ≥ 1).
            unsafe { run(&job) };
            at += nb;
        }
        if epi == Epilogue::BiasTanh {
            super::tanh(yr);
        }
    }
    true
}
