//! int8 matrix-vector product with the DSP extension of ARMv7E-M / ARMv8-M Mainline: `sxtb16`
//! sign-extends bytes 0 and 2 (or, rotated, 1 and 3) of a word into two int16 halves, and
//! `smlad` adds both halfword products to an int32 accumulator — two exact multiply-adds per
//! instruction. The sums wrap like the reference's (`smlad` sets the Q flag on overflow, which
//! nothing reads), so the results are [`crate::scalar::matvec_i8`]'s bits. Rows go three at a
//! time (each word of `x` unpacked once for the three), through [`super::by_triples`].

/// What [`crate::Kernels::int8_kernel`] reports.
pub(crate) const NAME: &str = "cortex-m dsp smlad";

/// `acc[r] + Σ_{i<k} x[i]·w0[r·k + i]` for the three rows `r` = 0, 1, 2 (the last addressed as
/// `[w0, k, lsl #1]`, so no register is spent on it): 20 instructions per 12 multiply-adds (each
/// word of `x` loaded and sign-extended once for the three); then the `k mod 4` last columns
/// with `ldrsb` and `smlabb`, 7 instructions per column. Any `k`, 0 included.
#[inline(always)]
fn dot3(x: &[i8], w0: &[i8], k: usize, acc: [i32; 3]) -> [i32; 3] {
    debug_assert!(x.len() >= k && w0.len() >= 3 * k);
    let [mut a0, mut a1, mut a2] = acc;
    // SAFETY: reads `x[..k]` and the three rows `w0[..k]`, `w0[k..2k]` and `w0[2k..3k]` (the
    // words while 4 or more values are left, then bytes), all within the slices (asserted
    // above, ensured by the caller's slicing); `ldr` accepts unaligned addresses on these cores
    // (CCR.UNALIGN_TRP resets to 0 and no runtime sets it). Writes only the named registers;
    // changes the flags (`lsrs`, `ands`, `subs`, Q from `smlad`/`smlabb`), declared by
    // omitting `preserves_flags`. No stack, no other memory.
    unsafe {
        core::arch::asm!(
            "lsrs {n}, {k}, #2",
            "beq 3f",
            "2:",
            "ldr {a}, [{xp}], #4",
            "sxtb16 {xe}, {a}",
            "sxtb16 {xo}, {a}, ror #8",
            "ldr {a}, [{wp}, {k}, lsl #1]",
            "sxtb16 {c}, {a}",
            "smlad {a2}, {xe}, {c}, {a2}",
            "sxtb16 {c}, {a}, ror #8",
            "smlad {a2}, {xo}, {c}, {a2}",
            "ldr {a}, [{wp}, {k}]",
            "sxtb16 {c}, {a}",
            "smlad {a1}, {xe}, {c}, {a1}",
            "sxtb16 {c}, {a}, ror #8",
            "smlad {a1}, {xo}, {c}, {a1}",
            "ldr {a}, [{wp}], #4",
            "sxtb16 {c}, {a}",
            "smlad {a0}, {xe}, {c}, {a0}",
            "sxtb16 {c}, {a}, ror #8",
            "smlad {a0}, {xo}, {c}, {a0}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "3:",
            "ands {n}, {k}, #3",
            "beq 5f",
            "4:",
            "ldrsb {a}, [{xp}], #1",
            "ldrsb {c}, [{wp}, {k}, lsl #1]",
            "smlabb {a2}, {a}, {c}, {a2}",
            "ldrsb {c}, [{wp}, {k}]",
            "smlabb {a1}, {a}, {c}, {a1}",
            "ldrsb {c}, [{wp}], #1",
            "smlabb {a0}, {a}, {c}, {a0}",
            "subs {n}, {n}, #1",
            "bne 4b",
            "5:",
            xp = inout(reg) x.as_ptr() => _,
            wp = inout(reg) w0.as_ptr() => _,
            k = in(reg) k,
            n = out(reg) _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a = out(reg) _,
            c = out(reg) _,
            xe = out(reg) _,
            xo = out(reg) _,
            options(readonly, nostack)
        );
    }
    [a0, a1, a2]
}

/// `out[j] += Σᵢ x[i]·wt[j·k + i]` (see [`crate::scalar::matvec_i8`]); lengths checked by the
/// caller.
pub(crate) fn matvec_i8(x: &[i8], wt: &[i8], out: &mut [i32]) {
    super::by_triples(x, wt, out, dot3);
}
