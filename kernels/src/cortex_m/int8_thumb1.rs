//! int8 matrix-vector product for ARMv6-M (Cortex-M0/M0+/M1: Thumb-1, no DSP, no FPU): two rows
//! per pass, so each `x[i]` is loaded once for both, with the accumulators in high registers.
//! Four instructions per multiply-add plus a loop branch per four (`ldrsb` with a register
//! offset, `muls`, `add`) against about eight for the compiled reference, which runs out of the
//! eight low registers. `muls` keeps the low 32 bits and `add` wraps, so the results are
//! [`crate::scalar::matvec_i8`]'s bits.

/// What [`crate::Kernels::int8_kernel`] reports.
pub(crate) const NAME: &str = "cortex-m thumb-1";

/// `(acc0 + Σ_{i<len} x[i]·w0[i], acc1 + Σ_{i<len} x[i]·w1[i])` for an even `len ≥ 2`.
#[inline(always)]
fn dot2(x: &[i8], w0: &[i8], w1: &[i8], len: usize, acc: (i32, i32)) -> (i32, i32) {
    debug_assert!(len >= 2 && len.is_multiple_of(2));
    debug_assert!(x.len() >= len && w0.len() >= len && w1.len() >= len);
    let (mut a0, mut a1) = acc;
    // The loop runs a negative index up to 0 against pointers one past the `len` values, so the
    // index is the register offset of `ldrsb` and its `adds` sets the flags `bne` reads.
    let neg = (len as isize).wrapping_neg();
    // SAFETY: reads `x[i]`, `w0[i]` and `w1[i]` for `i < len` (pointers one past `len` plus an
    // index from −len to −1), within the slices (asserted above, ensured by the caller's
    // slicing). Byte loads need no alignment. Writes only the named registers and the flags
    // (declared by omitting `preserves_flags`); no stack, no other memory. r0–r5 are low
    // registers (`ldrsb` and `muls` take only those); the accumulators come in and go out in
    // r4/r5 and live in r8 and r10 in the loop (declared clobbered: Thumb-1 code takes high
    // registers only so), which `add` (the high-register form) and `mov` reach.
    unsafe {
        core::arch::asm!(
            "mov r8, r4",
            "mov r10, r5",
            "2:",
            "ldrsb r4, [r0, r3]",
            "ldrsb r5, [r1, r3]",
            "muls r5, r4, r5",
            "add r8, r5",
            "ldrsb r5, [r2, r3]",
            "muls r5, r4, r5",
            "add r10, r5",
            "adds r3, #1",
            "ldrsb r4, [r0, r3]",
            "ldrsb r5, [r1, r3]",
            "muls r5, r4, r5",
            "add r8, r5",
            "ldrsb r5, [r2, r3]",
            "muls r5, r4, r5",
            "add r10, r5",
            "adds r3, #1",
            "bne 2b",
            "mov r4, r8",
            "mov r5, r10",
            in("r0") x.as_ptr().wrapping_add(len),
            in("r1") w0.as_ptr().wrapping_add(len),
            in("r2") w1.as_ptr().wrapping_add(len),
            inout("r3") neg => _,
            inout("r4") a0,
            inout("r5") a1,
            out("r8") _,
            out("r10") _,
            options(readonly, nostack)
        );
    }
    (a0, a1)
}

/// `Σ_{i ≥ from} x[i]·w[i]` added to `acc` (wrapping): the odd last column.
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
    let even = k & !1;
    let mut pairs = out.chunks_exact_mut(2);
    let mut j = 0;
    for o in &mut pairs {
        let (w0, w1) = wt[j * k..(j + 2) * k].split_at(k);
        let (mut a0, mut a1) = (o[0], o[1]);
        if even > 0 {
            (a0, a1) = dot2(x, w0, w1, even, (a0, a1));
        }
        o[0] = tail(x, w0, even, a0);
        o[1] = tail(x, w1, even, a1);
        j += 2;
    }
    if let [o] = pairs.into_remainder() {
        // The odd last row, paired with itself.
        let w = &wt[j * k..(j + 1) * k];
        let mut a = *o;
        if even > 0 {
            a = dot2(x, w, w, even, (a, 0)).0;
        }
        *o = tail(x, w, even, a);
    }
}
