//! The const-generic owners (fixed-size arrays, for firmware) and the run-time owners (`Vec`s,
//! for the tools) are two kinds of storage over one implementation: for the same shape, seed and
//! batches they give bit-identical training steps, losses and sampled names, on every path.
#![cfg(feature = "std")]

use charmlp::batch::Items;
use charmlp::sample::{SampleArrays, SampleVecs};
use charmlp::{
    Index, Init, Kernels, Params, ParamsBuf, SampleConfig, Sampler, Vocab, VocabBuf, Workspace,
    WorkspaceBuf,
};
use proptest::prelude::*;

/// Items over symbols 1..v: `n` items of 1 to 7 symbols from a small generator.
fn items(v: usize, n: usize, seed: u64) -> Vec<u8> {
    let mut r = seed | 1;
    let mut next = || {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        r
    };
    let mut out = Vec::new();
    for _ in 0..n {
        for _ in 0..(next() % 7 + 1) {
            out.push((next() % (v as u64 - 1) + 1) as u8);
        }
        out.push(0);
    }
    out
}

/// Trains `steps` steps with the const owners and with the run-time owners of the same shape;
/// asserts every step's loss and the final weights agree to the bit, then that both samplers
/// draw the same names.
macro_rules! same {
    ($name:ident, $v:literal, $b:literal, $e:literal, $h:literal, $n:literal) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(6))]
            #[test]
            fn $name(seed in any::<u64>(), init_scaled in any::<bool>(), lr in 0.01f32..0.5) {
                const IN: usize = $b * $e;
                type P = Params<$v, $b, $e, IN, $h>;
                let init = if init_scaled { Init::Scaled } else { Init::Randn };
                let text = items($v, 50, seed);
                let items = Items::U8(&text);
                for k in Kernels::all_supported() {
                    let mut fixed: Box<P> = Box::new(P::init(seed, init));
                    let mut ws: Box<Workspace<$v, $b, $e, IN, $h, $n>> = Box::new(Workspace::new(k));
                    let mut dynp = ParamsBuf::init(P::SHAPE, seed, init).unwrap();
                    let mut dws = WorkspaceBuf::new(k, P::SHAPE, $n).unwrap();
                    let (mut ctx, mut y) = ([[0 as Index; $b]; $n], [0 as Index; $n]);
                    for step in 0..20 {
                        items.sample_batch(seed, step, ctx.as_flattened_mut(), &mut y);
                        let a = ws.train_step(&mut fixed, &ctx, &y, lr).unwrap();
                        let b = dws.train_step(&mut dynp.view_mut(), ctx.as_flattened(), &y, lr).unwrap();
                        prop_assert_eq!(a.to_bits(), b.to_bits(), "{} step {}", k.path(), step);
                    }
                    let bits = |it: &mut dyn Iterator<Item = f32>| it.map(f32::to_bits).collect::<Vec<_>>();
                    prop_assert_eq!(bits(&mut fixed.view().iter()), bits(&mut dynp.view().iter()));

                    // Sampling: the array-backed and the Vec-backed sampler, same seed.
                    let symbols: Vec<char> = std::iter::once('.')
                        .chain((1..$v).map(|i| char::from_u32(0x61 + i as u32).unwrap()))
                        .collect();
                    let fv: Vocab<$v> = Vocab::from_symbols(symbols.iter().copied()).unwrap();
                    let dv = VocabBuf::from_symbols(symbols.iter().copied()).unwrap();
                    let cfg = SampleConfig { temperature: 1.3, top_k: Some(5), max_len: 20 };
                    let mut fs = Sampler::new(fixed.view(), fv.view(), k, seed, cfg, SampleArrays::<$v, IN, $h>::new()).unwrap();
                    let mut ds = Sampler::new(dynp.view(), dv.view(), k, seed, cfg, SampleVecs::new(P::SHAPE)).unwrap();
                    for _ in 0..10 {
                        let (mut a, mut b) = (String::new(), String::new());
                        fs.sample_with(|c| a.push(c)).unwrap();
                        ds.sample_with(|c| b.push(c)).unwrap();
                        prop_assert_eq!(a, b);
                    }
                }
            }
        }
    };
}

same!(canonical_shape, 27, 3, 10, 200, 32);
same!(small_odd_shape, 7, 2, 3, 9, 5);
same!(one_unit, 5, 1, 1, 1, 3);
same!(long_context, 11, 8, 4, 33, 7);
