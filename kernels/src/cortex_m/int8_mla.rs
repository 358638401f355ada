//! int8 matrix-vector product for Thumb-2 cores without the DSP extension (a Cortex-M33 built
//! without it; the `thumbv8m.main` targets do not promise DSP): `ldrsb` and `mla`, three rows
//! per pass so each `x[i]` is loaded once for the three — 7 instructions per 3 multiply-adds
//! plus the loop, against about 5 per multiply-add for the compiled reference. `mla` keeps the
//! low 32 bits, so the sums wrap like [`crate::scalar::matvec_i8`]'s and are its bits.

/// `acc[r] + Σ_{i<k} x[i]·w0[r·k + i]` for the three rows `r` = 0, 1, 2 (the last addressed as
/// `[w0, k, lsl #1]`), `k ≥ 1`.
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
    let (k, n) = (x.len(), out.len());
    if k == 0 {
        return;
    }
    if n < 3 {
        // Fewer than three rows in all: the reference.
        crate::scalar::matvec_i8(x, wt, out);
        return;
    }
    let mut j = 0;
    while j + 3 <= n {
        let a = dot3(x, &wt[j * k..], k, [out[j], out[j + 1], out[j + 2]]);
        // Stores by name: a loop here becomes a `memcpy` call.
        (out[j], out[j + 1], out[j + 2]) = (a[0], a[1], a[2]);
        j += 3;
    }
    // The last one or two rows: the triple ending at row n − 1, whose first rows (already
    // final) are recomputed from their bias-free copies and discarded.
    let b = n - 3;
    match n - j {
        1 => {
            let a = dot3(x, &wt[b * k..], k, [0, 0, out[b + 2]]);
            out[b + 2] = a[2];
        }
        2 => {
            let a = dot3(x, &wt[b * k..], k, [0, out[b + 1], out[b + 2]]);
            (out[b + 1], out[b + 2]) = (a[1], a[2]);
        }
        _ => {}
    }
}
