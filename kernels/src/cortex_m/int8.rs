//! int8 matrix-vector product with the DSP extension of ARMv7E-M / ARMv8-M Mainline: `sxtb16`
//! sign-extends bytes 0 and 2 (or, rotated, 1 and 3) of a word into two int16 halves, and
//! `smlad` adds both halfword products to an int32 accumulator — two exact multiply-adds per
//! instruction. The sums wrap like the reference's (`smlad` sets the Q flag on overflow, which
//! nothing reads), so the results are [`crate::scalar::matvec_i8`]'s bits. Rows go three at a
//! time (each word of `x` unpacked once for the three), the last one or two in a pair.

/// `(acc0 + Σ x·w0, acc1 + Σ x·w1)` over `groups` words: two rows at once, so each word of `x`
/// is loaded and sign-extended once for both (16 instructions per 8 multiply-adds, against 20).
/// `w1` is `w0 + k` bytes on (the next row; `k = 0` computes one row twice, for an odd last row).
#[inline(always)]
fn dot_groups2(x: &[i8], w0: &[i8], k: usize, groups: usize, acc: (i32, i32)) -> (i32, i32) {
    debug_assert!(x.len() >= 4 * groups && w0.len() >= k + 4 * groups);
    let (mut a0, mut a1) = acc;
    if groups == 0 {
        return acc;
    }
    // SAFETY: reads `groups` words from `x` and from each of the two rows `w0[..]` and
    // `w0[k..]`, all within the slices (checked by the caller's slicing, asserted above); `ldr`
    // accepts unaligned addresses on these cores (CCR.UNALIGN_TRP resets to 0 and no runtime
    // sets it). Writes only the named registers; changes the flags (`subs`, Q from `smlad`),
    // which is declared by omitting `preserves_flags`. No stack, no other memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {a}, [{xp}], #4",
            "sxtb16 {xe}, {a}",
            "sxtb16 {xo}, {a}, ror #8",
            "ldr {b}, [{wp}, {k}]",
            "ldr {a}, [{wp}], #4",
            "sxtb16 {c}, {a}",
            "smlad {a0}, {xe}, {c}, {a0}",
            "sxtb16 {c}, {a}, ror #8",
            "smlad {a0}, {xo}, {c}, {a0}",
            "sxtb16 {c}, {b}",
            "smlad {a1}, {xe}, {c}, {a1}",
            "sxtb16 {c}, {b}, ror #8",
            "smlad {a1}, {xo}, {c}, {a1}",
            "subs {n}, {n}, #1",
            "bne 2b",
            xp = inout(reg) x.as_ptr() => _,
            wp = inout(reg) w0.as_ptr() => _,
            k = in(reg) k,
            n = inout(reg) groups => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            xe = out(reg) _,
            xo = out(reg) _,
            options(readonly, nostack)
        );
    }
    (a0, a1)
}

/// `acc[r] + Σ_{i<k} x[i]·w0[r·k + i]` for the three rows `r` = 0, 1, 2 (the last addressed as
/// `[w0, k, lsl #1]`, so no register is spent on it): 20 instructions per 12 multiply-adds (each
/// word of `x` loaded and sign-extended once for the three), against 16 per 8 in pairs; then
/// the `k mod 4` last columns with `ldrsb` and `smlabb`, 7 instructions per column.
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

/// The tail `Σ_{i ≥ from} x[i]·w[i]` added to `acc` (wrapping).
#[inline(always)]
fn tail(x: &[i8], w: &[i8], from: usize, acc: i32) -> i32 {
    x[from..].iter().zip(&w[from..]).fold(acc, |a, (&p, &q)| {
        a.wrapping_add(i32::from(p) * i32::from(q))
    })
}

/// `out[j] += Σᵢ x[i]·wt[j·k + i]` (see [`crate::scalar::matvec_i8`]); lengths checked by the
/// caller.
pub(crate) fn matvec_i8(x: &[i8], wt: &[i8], out: &mut [i32]) {
    let k = x.len();
    let groups = k / 4;
    let full = groups * 4;
    // Three rows per pass, then pairs for the last one or two.
    let mut triples = out.chunks_exact_mut(3);
    let mut j = 0;
    for o in &mut triples {
        let a = dot3(x, &wt[j * k..(j + 3) * k], k, [o[0], o[1], o[2]]);
        o.copy_from_slice(&a);
        j += 3;
    }
    let mut pairs = triples.into_remainder().chunks_exact_mut(2);
    for o in &mut pairs {
        let rows = &wt[j * k..(j + 2) * k];
        let (a0, a1) = dot_groups2(x, rows, k, groups, (o[0], o[1]));
        o[0] = tail(x, &rows[..k], full, a0);
        o[1] = tail(x, &rows[k..], full, a1);
        j += 2;
    }
    if let [o] = pairs.into_remainder() {
        let row = &wt[j * k..(j + 1) * k];
        *o = tail(x, row, full, dot_groups2(x, row, 0, groups, (*o, 0)).0);
    }
}
