//! Feature `breakdown`: where the instructions of one forward pass go. For the `V` contexts
//! `[., ., c]` it runs the stages of the sampler's forward pass with the library's scalar
//! kernels — `embed`, `layer1` (`tanh(x·W1 + b1)`), `layer2` (`h·W2 + b2`), `softmax` — each
//! between markers that the QEMU plugin counts.

use core::hint::black_box;

use charmlp::kernels::{Mat, MatMut};
use charmlp::{Kernels, ParamsView};

use super::{Console, H, IN, V};

macro_rules! markers {
    ($($name:ident = $tag:literal),* $(,)?) => {$(
        #[unsafe(no_mangle)]
        #[inline(never)]
        pub extern "C" fn $name() {
            black_box($tag as u32);
        }
    )*};
}
markers!(
    insn_embed = 10,
    insn_layer1 = 11,
    insn_layer2 = 13,
    insn_softmax = 14,
);

pub fn run(p: &ParamsView<'_>, con: &mut Console) {
    let k = Kernels::scalar();
    let mut ok = true;
    for c in 0..V as u16 {
        let ctx = black_box([0, 0, c]);
        let (mut emb, mut h, mut logits, mut probs) = ([0.0f32; IN], [0.0f32; H], [0.0f32; V], [0.0f32; V]);
        super::insn_restart();
        ok &= k.embed_gather(p.c(), &ctx, MatMut::row_vector(&mut emb)).is_ok();
        insn_embed();
        ok &= k
            .linear_tanh(Mat::row_vector(&emb), p.w1(), p.b1(), MatMut::row_vector(&mut h))
            .is_ok();
        insn_layer1();
        ok &= k
            .linear(Mat::row_vector(&h), p.w2(), p.b2(), MatMut::row_vector(&mut logits))
            .is_ok();
        insn_layer2();
        ok &= k.softmax(&logits, 1.0, &mut probs).is_ok();
        insn_softmax();
        black_box(&probs);
    }
    con.str("# breakdown: ")
        .str(if ok { "all stages ran" } else { "a stage FAILED" })
        .str("\n");
}
