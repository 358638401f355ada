//! Instruction-count markers for the QEMU plugin in `qemu-plugin/insncount.c`, shared by the
//! firmware binaries (`mod insn;`).
//!
//! Each marker is a distinct function (the `black_box` arguments differ, so that no pass merges
//! them into one address); the plugin hooks them by symbol name.

/// Re-bases the plugin's counter: what ran since the last marker is not measured.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn insn_restart() {
    core::hint::black_box(0u32);
}

/// One unit of work done (a drawn symbol, a training step): the plugin prints the instructions
/// since the previous marker.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn insn_mark() {
    core::hint::black_box(1u32);
}
