//! `y = a + x` elementwise (`a` may be `y`): eight elements per turn with one `vldm` per operand,
//! then one at a time.

/// `y[i] = a[i] + x[i]` for `i < n`.
///
/// # Safety
/// `a` and `x` point to `n` readable f32, `y` to `n` writable f32 (it may equal `a`, not
/// overlap it otherwise), all 4-byte aligned.
unsafe fn add_raw(a: *const f32, x: *const f32, y: *mut f32, n: usize) {
    // SAFETY: reads n elements from a and x and writes n to y, in order, each element's inputs
    // read before its output is written (so y = a is fine), as the caller guarantees; uses the
    // core registers it names and the FPU registers it declares clobbered; the FPU is enabled.
    unsafe {
        core::arch::asm!(
            "lsrs {cnt}, {n}, #3",
            "beq 3f",
            "2:",
            "vldmia {a}!, {{s0-s7}}",
            "vldmia {x}!, {{s8-s15}}",
            "vadd.f32 s0, s0, s8",
            "vadd.f32 s1, s1, s9",
            "vadd.f32 s2, s2, s10",
            "vadd.f32 s3, s3, s11",
            "vadd.f32 s4, s4, s12",
            "vadd.f32 s5, s5, s13",
            "vadd.f32 s6, s6, s14",
            "vadd.f32 s7, s7, s15",
            "vstmia {y}!, {{s0-s7}}",
            "subs {cnt}, {cnt}, #1",
            "bne 2b",
            "3:",
            "ands {cnt}, {n}, #7",
            "beq 5f",
            "4:",
            "vldmia {a}!, {{s0}}",
            "vldmia {x}!, {{s8}}",
            "vadd.f32 s0, s0, s8",
            "vstmia {y}!, {{s0}}",
            "subs {cnt}, {cnt}, #1",
            "bne 4b",
            "5:",
            a = inout(reg) a => _,
            x = inout(reg) x => _,
            y = inout(reg) y => _,
            n = in(reg) n,
            cnt = out(reg) _,
            out("s0") _, out("s1") _, out("s2") _, out("s3") _,
            out("s4") _, out("s5") _, out("s6") _, out("s7") _,
            out("s8") _, out("s9") _, out("s10") _, out("s11") _,
            out("s12") _, out("s13") _, out("s14") _, out("s15") _,
            options(nostack)
        );
    }
}

/// `y = a + x` (lengths: the shortest of the three).
pub(crate) fn add(a: &[f32], x: &[f32], y: &mut [f32]) {
    let n = a.len().min(x.len()).min(y.len());
    // SAFETY: each slice has at least n elements; y is a distinct &mut, so it overlaps neither.
    unsafe { add_raw(a.as_ptr(), x.as_ptr(), y.as_mut_ptr(), n) }
}

/// `y += x` (length: the shorter).
pub(crate) fn add_assign(y: &mut [f32], x: &[f32]) {
    let n = x.len().min(y.len());
    let p = y.as_mut_ptr();
    // SAFETY: both have at least n elements; a = y is the in-place case add_raw allows, and x
    // is a shared borrow, so it does not overlap y.
    unsafe { add_raw(p, x.as_ptr(), p, n) }
}
