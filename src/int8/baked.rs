//! An int8 weights file baked into the program (`include_weights!` with an int8 file): the
//! int8 twin of [`crate::weights::Baked`], validated at compile time.

use charmlp_kernels::Kernels;

use super::file::QuantView;
use super::forward::{QuantArrays, QuantNames, QuantSampler};
use crate::error::Error;
use crate::sample::SampleConfig;
use crate::shape::Shape;
use crate::vocab::VocabView;
use crate::weights::baked::{cat, decode_symbols, parse_int8};

/// An int8 model baked into the program by [`crate::include_weights!`] (an int8 file, format
/// version 2): its view, checked at compile time (CRC, vocabulary, every quantization field),
/// and its vocabulary decoded. The shape parameters are as [`crate::weights::Baked`]'s.
#[derive(Debug)]
pub struct BakedInt8<
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
> {
    model: QuantView<'static>,
    symbols: [char; V],
    len: usize,
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    BakedInt8<V, B, E, IN, H>
{
    /// The model's shape.
    pub const SHAPE: Shape = crate::params::const_shape::<V, B, E, IN, H>();
    /// Classes.
    pub const V: usize = V;
    /// Context length.
    pub const B: usize = B;
    /// Embedding width.
    pub const E: usize = E;
    /// `B·E`.
    pub const IN: usize = IN;
    /// Hidden units.
    pub const H: usize = H;

    /// The length of the per-position layer-1 table, `B·V·H` int32 ([`BakedInt8::table`]).
    pub const TABLE_LEN: usize = B * V * H;

    /// Validates `bytes` (at compile time when called in a `static` initializer); `path` names
    /// the file in the messages.
    #[doc(hidden)]
    pub const fn new(bytes: &'static [u8], path: &str) -> Self {
        let model = parse_int8(bytes, path);
        let s = model.shape();
        if s.vocab() != V || s.block() != B || s.emb() != E || s.hidden() != H {
            panic!("unreachable: the type's shape comes from this file");
        }
        let (symbols, len) = decode_symbols(model.vocab_str().as_bytes());
        BakedInt8 {
            model,
            symbols,
            len,
        }
    }

    /// `include_weights!(…, table = …)` with an int8 file: a compile error (the baked table is
    /// an f32 option; an int8 model's layer 1 is integer sums, see [`super::compute_table`]).
    #[doc(hidden)]
    pub const fn with_table(self, _bytes: &'static [u8], path: &str) -> Self {
        let mut buf = [0u8; 256];
        panic!(
            "{}",
            cat(
                &[
                    path,
                    ": a baked table is for f32 weights files; this model is int8 (drop `table = …`)",
                ],
                &mut buf
            )
        );
    }

    /// The per-position layer-1 table ([`super::compute_table`]), computed by a `const fn`:
    /// initializing a `static` with it bakes the table into flash at compile time, and
    /// [`QuantNames::with_table`] samples the same names from it with `B·H` additions in place
    /// of layer 1's `B·E·H` multiply-adds (64.8 KB for the canonical model):
    ///
    /// ```ignore
    /// include_weights!(INT8: Int8Model<27, 3, 10, 200> = "weights.int8.bin");
    /// static TABLE: [i32; Int8Model::TABLE_LEN] = INT8.table();
    /// let names = INT8.sampler(kernels, seed, cfg, &mut scratch)?.with_table(&TABLE)?;
    /// ```
    ///
    /// Compile time: rustc evaluates the table's `B·V·H·E` multiply-adds at about 200 000 a
    /// second. The canonical model's 162 000 compile as they are; a bigger table can trip
    /// rustc's `long_running_const_eval` lint ("constant evaluation is taking a long time"),
    /// and `#[allow(long_running_const_eval)]` on the `static` lets it finish (a `B = 8, E = 24,
    /// H = 512` model's 2.65 million needed it and took 15 s).
    ///
    /// # Panics
    /// Unless `N` is [`BakedInt8::TABLE_LEN`] (a compile error in a `static` initializer).
    pub const fn table<const N: usize>(&self) -> [i32; N] {
        super::forward::table_array(&self.model)
    }

    /// The file's bytes.
    pub const fn bytes(&self) -> &'static [u8] {
        self.model.bytes()
    }

    /// The model.
    pub const fn model(&self) -> QuantView<'static> {
        self.model
    }

    /// The vocabulary.
    pub fn vocab(&'static self) -> VocabView<'static> {
        VocabView::trusted(&self.symbols[..self.len])
    }

    /// Scratch for [`BakedInt8::sampler`] (a `const fn`, for a `static` or the stack).
    pub const fn sample_arrays() -> QuantArrays<V, IN, H> {
        QuantArrays::new()
    }

    /// Names from this model with `kernels`, seed `seed` and `cfg`, in `scratch`: the same
    /// names as the host's `charmlp sample` on the file (integer arithmetic, every path).
    ///
    /// # Errors
    /// [`Error::Sample`] for a bad configuration.
    pub fn sampler<'a>(
        &'static self,
        kernels: Kernels,
        seed: u64,
        cfg: SampleConfig,
        scratch: &'a mut QuantArrays<V, IN, H>,
    ) -> Result<QuantNames<'a>, Error> {
        let sampler = QuantSampler::new(self.model, self.vocab(), kernels, seed, cfg)?;
        Ok(QuantNames::new(sampler, scratch.view())?)
    }
}
