//! int8 matrix-vector product for Thumb-2 cores without the DSP extension (the `thumbv8m.main`
//! targets do not promise it; a build for a core that has it, `-C target-cpu=cortex-m33`, gets
//! the DSP kernel instead, see `build.rs`): `ldrsb` and `mla`, three rows
//! per pass so each `x[i]` is loaded once for the three — 7 instructions per 3 multiply-adds
//! plus the loop, against about 5 per multiply-add for the compiled reference. `mla` keeps the
//! low 32 bits, so the sums wrap like [`crate::scalar::matvec_i8`]'s and are its bits. Rows go
//! through [`super::by_triples`].

/// What [`crate::Kernels::int8_kernel`] reports.
pub(crate) const NAME: &str = "cortex-m mla";

/// `acc[r] + Σ_{i<k} x[i]·w0[r·k + i]` for the three rows `r` = 0, 1, 2 (the last addressed as
/// `[w0, k, lsl #1]`), `k ≥ 1` ([`super::by_triples`] never passes 0).
#[inline(always)]
fn dot3(x: &[i8], w0: &[i8], k: usize, acc: [i32; 3]) -> [i32; 3] {
    debug_assert!(k >= 1 && x.len() >= k && w0.len() >= 3 * k);
    let [mut a0, mut a1, mut a2] = acc;
    // SAFETY: reads `x[..k]` and the three rows `w0[..k]`, `w0[k..2k]`, `w0[2k..3k]` byte by
    // byte (the pointers advance by one per column, `k` columns), within the slices (asserted
    // above, ensured by the caller's slicing). Writes only the named registers and the flags
    // (`subs`, declared by omitting `preserves_flags`); no stack, no other memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldrsb {a}, [{xp}], #1",
            "ldrsb {c}, [{wp}, {k}, lsl #1]",
            "mla {a2}, {a}, {c}, {a2}",
            "ldrsb {c}, [{wp}, {k}]",
            "mla {a1}, {a}, {c}, {a1}",
            "ldrsb {c}, [{wp}], #1",
            "mla {a0}, {a}, {c}, {a0}",
            "subs {n}, {n}, #1",
            "bne 2b",
            xp = inout(reg) x.as_ptr() => _,
            wp = inout(reg) w0.as_ptr() => _,
            k = in(reg) k,
            n = inout(reg) k => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a = out(reg) _,
            c = out(reg) _,
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
