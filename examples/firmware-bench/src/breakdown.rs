//! Feature `breakdown`: where the instructions of one forward pass go. For the `V` contexts
//! `[., ., c]` it runs the stages of the sampler's forward pass with the firmware's kernels —
//! `embed`, `layer1` (`tanh(x·W1 + b1)`), `layer2` (`h·W2 + b2`), `softmax` (unnormalized, as
//! the sampler draws) — each between markers that the QEMU plugin counts.

use core::hint::black_box;

use charmlp::kernels::{Mat, MatMut};
use semihosting::io::Write;

use super::{Console, MODEL, Model};

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

const V: usize = Model::V;
const IN: usize = Model::IN;
const H: usize = Model::H;

pub fn run<W: Write>(con: &mut Console<W>) -> Result<(), &'static str> {
    let k = super::kernels();
    let p = MODEL.params().map_err(|e| e.as_str())?;
    let err = |e: charmlp::kernels::KernelError| e.as_str();
    for c in 0..V as u16 {
        let ctx = black_box([0, 0, c]);
        let (mut emb, mut h) = ([0.0f32; IN], [0.0f32; H]);
        let (mut logits, mut weights) = ([0.0f32; V], [0.0f32; V]);
        super::insn::insn_restart();
        k.embed_gather(p.c(), &ctx, MatMut::row_vector(&mut emb))
            .map_err(err)?;
        insn_embed();
        k.linear_tanh(
            Mat::row_vector(&emb),
            p.w1(),
            p.b1(),
            Model::E,
            MatMut::row_vector(&mut h),
        )
        .map_err(err)?;
        insn_layer1();
        k.linear(
            Mat::row_vector(&h),
            p.w2(),
            p.b2(),
            MatMut::row_vector(&mut logits),
        )
        .map_err(err)?;
        insn_layer2();
        let sum = k
            .softmax_unnormalized(&logits, 1.0, &mut weights)
            .map_err(err)?;
        insn_softmax();
        black_box((&weights, sum));
    }
    con.str("# breakdown: all stages ran\n");
    Ok(())
}
