//! The int8 tanh's requantization and lookup for ARMv6-M (Cortex-M0/M0+/M1): Thumb-1 has no
//! 32×32→64-bit multiply, so the high word of `v·m` comes from four 16×16-bit products, and it
//! has only six low registers the compiler may hand out. The compiled reference spills and
//! reloads around that (59 instructions per value on a Cortex-M0); this loop keeps its
//! constants in high registers and its pointers moving with `ldm`, 44–45 instructions per value.
//! Integer arithmetic: the results are [`crate::scalar::requantize_lut_i8`]'s bits.
//!
//! The high word, with `v = vh·2¹⁶ + vl` and `m = mh·2¹⁶ + ml` (`vl`, `ml` in `[0, 2¹⁶)`, `vh`,
//! `mh` in `[−2¹⁵, 2¹⁵)`), `A = vh·ml`, `B = vl·mh`, `C = vl·ml`, `D = vh·mh` (each fits in 32
//! bits, `C` unsigned) and `≫` arithmetic (floor):
//!
//! ```text
//! ⌊v·m / 2³²⌋ = D + (A ≫ 16) + (B ≫ 16) + ((A mod 2¹⁶) + (B mod 2¹⁶) + (C ≫ 16)) ≫ 16
//! ```
//!
//! (the last sum is below 3·2¹⁶). Then `(hi + 2^(s−33)) ≫ (s − 32) = ((hi ≫ (s − 33)) + 1) ≫ 1`.

/// `out[j] = ±lut[min(|q_j|, lim)]` (the sign of `q_j`) with `q_j = (acc[j]·m_j + 2^(s−1)) ≫ s`
/// and `m_j` the little-endian int32 at `m[4j..]`, when `s ≥ 33`, `lim > 0` and `m` is 4-byte
/// aligned (a baked or heap-allocated file's field is): then it returns `true`. Otherwise it
/// writes nothing and returns `false`, and the caller runs the reference. Lengths are checked by
/// [`crate::Kernels::requantize_lut_i8`] (`m` has `4·n` bytes, `out` `n` values, `lut` at least
/// `lim + 4`).
pub(crate) fn requantize_lut_i8(
    acc: &[i32],
    m: &[u8],
    s: u32,
    lim: i32,
    lut: &[i8],
    out: &mut [i8],
) -> bool {
    let n = acc.len();
    if s < 33 || lim <= 0 || !(m.as_ptr() as usize).is_multiple_of(4) || n == 0 {
        return false;
    }
    debug_assert!(m.len() == 4 * n && out.len() == n && lut.len() > lim as usize);
    let params: [usize; 7] = [
        m.as_ptr() as usize,
        (s - 33) as usize,
        lim as usize,
        lut.as_ptr() as usize,
        out.as_mut_ptr() as usize,
        out.as_mut_ptr().wrapping_add(n) as usize,
        acc.as_ptr() as usize,
    ];
    // SAFETY: reads `params` (its seven words), `acc[..n]` (`ldm` from its start, 4 bytes a
    // step, `n` steps), the `n` aligned words of `m` (`m` is 4-byte aligned, checked above, and
    // holds `4·n` bytes, checked by the caller) and `lut[i]` for `i ≤ lim < lut.len()` (the
    // magnitude is clamped to `lim` before the load); writes `out[..n]` byte by byte: the last
    // store is at `out + n − 1`, where the loop ends (`n ≥ 1`, checked above). Nothing else in
    // memory, no stack. Writes only the named registers and the flags (declared by omitting
    // `preserves_flags`). `ldm`, `ldrb` and `strb` with these bases and offsets are Thumb-1
    // encodings (r0–r5 are low registers); the constants live in high registers, reached by
    // `mov` and `cmp`.
    unsafe {
        core::arch::asm!(
            // Thumb-1 code may take high registers only as clobbers: the constants and two
            // pointers come in through `params` and move there.
            "ldr r1, [r0, #0]",
            "mov r8, r1",
            "ldr r1, [r0, #4]",
            "mov r10, r1",
            "ldr r1, [r0, #8]",
            "mov r11, r1",
            "ldr r1, [r0, #12]",
            "mov r12, r1",
            "ldr r1, [r0, #16]",
            "mov lr, r1",
            "ldr r1, [r0, #20]",
            "mov r9, r1",
            "ldr r5, [r0, #24]",
            "2:",
            "ldm r5!, {{r0}}",
            "mov r2, r8",
            "ldm r2!, {{r1}}",
            "mov r8, r2",
            // v = vh·2¹⁶ + vl, m = mh·2¹⁶ + ml.
            "uxth r2, r0",
            "asrs r0, r0, #16",
            "uxth r3, r1",
            "asrs r1, r1, #16",
            // C = vl·ml, A = vh·ml, B = vl·mh, D = vh·mh.
            "movs r4, r2",
            "muls r4, r3, r4",
            "muls r3, r0, r3",
            "muls r2, r1, r2",
            "muls r0, r1, r0",
            // The carry ((A mod 2¹⁶) + (B mod 2¹⁶) + (C ≫ 16)) ≫ 16.
            "lsrs r4, r4, #16",
            "uxth r1, r3",
            "adds r4, r4, r1",
            "uxth r1, r2",
            "adds r4, r4, r1",
            "lsrs r4, r4, #16",
            // hi = D + (A ≫ 16) + (B ≫ 16) + carry.
            "asrs r3, r3, #16",
            "asrs r2, r2, #16",
            "adds r0, r0, r3",
            "adds r0, r0, r2",
            "adds r0, r0, r4",
            // q = ((hi ≫ (s − 33)) + 1) ≫ 1.
            "mov r1, r10",
            "asrs r0, r0, r1",
            "adds r0, r0, #1",
            "asrs r0, r0, #1",
            // sign, |q| = (q ^ sign) − sign, min(|q|, lim).
            "asrs r1, r0, #31",
            "eors r0, r0, r1",
            "subs r0, r0, r1",
            "mov r2, r11",
            "cmp r0, r2",
            "bls 3f",
            "movs r0, r2",
            "3:",
            // ±lut[|q|], stored; the loop ends after the last output byte.
            "mov r2, r12",
            "ldrb r0, [r2, r0]",
            "eors r0, r0, r1",
            "subs r0, r0, r1",
            "mov r3, lr",
            "strb r0, [r3]",
            "adds r3, r3, #1",
            "mov lr, r3",
            "cmp r3, r9",
            "bne 2b",
            inout("r0") params.as_ptr() => _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
            options(nostack)
        );
    }
    true
}
