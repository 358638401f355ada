//! Weights baked into firmware: [`crate::include_weights!`] reads a weights file at compile time,
//! validates it there (header, length, CRC, vocabulary, finite weights — the same checks as
//! [`super::WeightsView::parse`], run by the same `const fn`) and names its shape in a type, so a
//! firmware crate never writes the shape numbers by hand and a bad file is a compile error that
//! says what is wrong.

use crate::error::Error;
use crate::params::{ParamsView, const_shape};
use crate::sample::{SampleArrays, SampleConfig, Sampler};
use crate::shape::Shape;
use crate::vocab::VocabView;
use charmlp_kernels::Kernels;

use super::format::HEADER_LEN;
use super::read::{Checked, WeightsError, WeightsView, check, decode_char};
use super::table::{TableError, TableFile, check_table};
use crate::table::TableView;

/// A weights file in flash, validated at compile time, of the shape `(V, B, E, IN, H)`.
///
/// Made by [`crate::include_weights!`]; everything it hands out borrows the `'static` bytes.
///
/// ```
/// // (The path is relative to this file; in your crate, next to your `src/`.)
/// charmlp::include_weights!(pub MODEL: Model = "../../examples/template/weights.bin");
///
/// # fn main() -> Result<(), charmlp::Error> {
/// assert_eq!((Model::V, Model::B, Model::E, Model::H), (27, 3, 10, 200));
/// let mut scratch = Model::sample_arrays();
/// let mut s = MODEL.sampler(charmlp::Kernels::best(), 42, Default::default(), &mut scratch)?;
/// let name: charmlp::heapless::String<64> = s.sample_string()?;
/// assert!(name.chars().all(|c| c.is_ascii_lowercase()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Baked<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize> {
    bytes: &'static [u8],
    checked: Checked,
    symbols: [char; V],
    len: usize,
    table: Option<TableFile<'static>>,
}

/// Writes `parts` into `buf` and returns the text (a `const fn` message builder).
pub(crate) const fn cat<'b>(parts: &[&str], buf: &'b mut [u8; 256]) -> &'b str {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        let b = parts[i].as_bytes();
        let mut j = 0;
        while j < b.len() && n < buf.len() {
            buf[n] = b[j];
            n += 1;
            j += 1;
        }
        i += 1;
    }
    // Truncation may split a character: keep the longest valid prefix.
    let (mut text, _) = buf.split_at(n);
    loop {
        match core::str::from_utf8(text) {
            Ok(s) => return s,
            Err(e) => text = text.split_at(e.valid_up_to()).0,
        }
    }
}

/// `v` in decimal, in `buf`.
const fn decimal(v: usize, buf: &mut [u8; 20]) -> &str {
    let (mut v, mut n) = (v, buf.len());
    loop {
        n -= 1;
        buf[n] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    match core::str::from_utf8(buf.split_at(n).1) {
        Ok(s) => s,
        Err(_) => "?",
    }
}

/// The symbols of a checked vocabulary string (at most `V`), and how many.
pub(crate) const fn decode_symbols<const V: usize>(text: &[u8]) -> ([char; V], usize) {
    let mut symbols = ['\0'; V];
    let (mut i, mut n) = (0, 0);
    while i < text.len() {
        let (c, w) = decode_char(text, i);
        symbols[n] = c;
        n += 1;
        i += w;
    }
    (symbols, n)
}

/// The int8 file `bytes`, or a compile-time panic naming `path` and the defect.
pub(crate) const fn parse_int8<'a>(bytes: &'a [u8], path: &str) -> crate::int8::QuantView<'a> {
    match crate::int8::QuantView::parse(bytes) {
        Ok(m) => m,
        Err(e) => {
            let mut buf = [0u8; 256];
            panic!(
                "{}",
                cat(
                    &[path, ": invalid int8 weights file: ", e.as_str()],
                    &mut buf
                )
            );
        }
    }
}

/// Validates the weights file `bytes` (named `path` in messages) at compile time and returns its
/// `[V, B, E, IN, H]`; with `expect = Some([V, B, E, H])`, also that it has that shape. Panics —
/// a compile error in a `const` — with a message naming the file and the defect.
#[doc(hidden)]
pub const fn baked_dims(bytes: &[u8], path: &str, expect: Option<[usize; 4]>) -> [usize; 6] {
    let int8 = crate::int8::is_int8(bytes);
    let s = if int8 {
        parse_int8(bytes, path).shape()
    } else {
        match check(bytes) {
            Ok(c) => c.shape,
            Err(e) => {
                let mut buf = [0u8; 256];
                panic!(
                    "{}",
                    cat(&[path, ": invalid weights file: ", e.as_str()], &mut buf)
                );
            }
        }
    };
    let got = [s.vocab(), s.block(), s.emb(), s.hidden()];
    if let Some(want) = expect {
        let names = ["V (symbols)", "B (block)", "E (emb)", "H (hidden)"];
        let mut i = 0;
        while i < 4 {
            if got[i] != want[i] {
                let (mut a, mut b, mut m) = ([0u8; 20], [0u8; 20], [0u8; 256]);
                panic!(
                    "{}",
                    cat(
                        &[
                            path,
                            ": ",
                            names[i],
                            " is ",
                            decimal(got[i], &mut a),
                            " in the file, the type expects ",
                            decimal(want[i], &mut b),
                        ],
                        &mut m
                    )
                );
            }
            i += 1;
        }
    }
    let dtype = if int8 { 2 } else { 1 };
    [s.vocab(), s.block(), s.emb(), s.input(), s.hidden(), dtype]
}

/// The dtype of a baked file (`1` f32, `2` int8), for [`BakedFor`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Dtype<const D: usize>;

/// The baked type of a file of dtype `D` ([`Dtype`]): [`Baked`] for f32 files,
/// [`crate::int8::BakedInt8`] for int8 files, so one `include_weights!` line takes either.
#[doc(hidden)]
pub trait BakedFor<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
{
    /// The type.
    type Baked;
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    BakedFor<V, B, E, IN, H> for Dtype<1>
{
    type Baked = Baked<V, B, E, IN, H>;
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    BakedFor<V, B, E, IN, H> for Dtype<2>
{
    type Baked = crate::int8::BakedInt8<V, B, E, IN, H>;
}

impl<const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Baked<V, B, E, IN, H>
{
    /// The shape.
    pub const SHAPE: Shape = const_shape::<V, B, E, IN, H>();
    /// `V`: symbols.
    pub const V: usize = V;
    /// `B`: context length.
    pub const B: usize = B;
    /// `E`: embedding width.
    pub const E: usize = E;
    /// `IN = B·E`.
    pub const IN: usize = IN;
    /// `H`: hidden width.
    pub const H: usize = H;

    /// Validates `bytes` (4-byte aligned: [`crate::include_weights!`] places them in an
    /// [`super::Aligned`]) and decodes the vocabulary. Meant for a `static` initializer, where
    /// it runs at compile time and a defect is a compile error naming `path`.
    #[doc(hidden)]
    pub const fn new(bytes: &'static [u8], path: &str) -> Self {
        let dims = baked_dims(bytes, path, Some([V, B, E, H]));
        let _ = dims;
        let checked = match check(bytes) {
            Ok(c) => c,
            Err(_) => panic!("unreachable: checked above"),
        };
        let text = bytes
            .split_at(HEADER_LEN)
            .1
            .split_at(checked.header.vocab_len as usize)
            .0;
        let (symbols, len) = decode_symbols(text);
        Baked {
            bytes,
            checked,
            symbols,
            len,
            table: None,
        }
    }

    /// Adds the per-position table file `bytes` (4-byte aligned) of these weights, validated
    /// like [`super::table::check_table`] and checked to belong to them. Meant for a `static`
    /// initializer, where a defect is a compile error naming `path`.
    #[doc(hidden)]
    pub const fn with_table(self, bytes: &'static [u8], path: &str) -> Self {
        let header = match check_table(bytes) {
            Ok(h) => h,
            Err(e) => {
                let mut buf = [0u8; 256];
                panic!(
                    "{}",
                    cat(&[path, ": invalid table file: ", e.as_str()], &mut buf)
                );
            }
        };
        let s = header.shape;
        let w = self.checked.shape;
        let same_shape = s.vocab() == w.vocab()
            && s.block() == w.block()
            && s.emb() == w.emb()
            && s.hidden() == w.hidden();
        if !same_shape || header.weights_crc != self.crc() {
            let mut buf = [0u8; 256];
            panic!(
                "{}",
                cat(
                    &[
                        path,
                        ": the table was computed from another weights file (recompute it: \
                         charmlp convert weights.bin weights.table)",
                    ],
                    &mut buf
                )
            );
        }
        Baked {
            table: Some(TableFile::from_checked(bytes, header)),
            ..self
        }
    }

    /// The per-position table, if one was baked in (`table = "…"`).
    ///
    /// # Errors
    /// [`TableError::Misaligned`] only if the bytes were not placed by
    /// [`crate::include_weights!`] (or on a big-endian target).
    pub fn table(&self) -> Option<Result<TableView<'static>, TableError>> {
        self.table.map(|t| t.view())
    }

    /// The whole file.
    pub const fn bytes(&self) -> &'static [u8] {
        self.bytes
    }

    /// The file's CRC-32 (its last four bytes).
    pub const fn crc(&self) -> u32 {
        let n = self.bytes.len();
        u32::from_le_bytes([
            self.bytes[n - 4],
            self.bytes[n - 3],
            self.bytes[n - 2],
            self.bytes[n - 1],
        ])
    }

    /// The validated file.
    pub fn weights(&self) -> WeightsView<'static> {
        WeightsView::from_checked(self.bytes, self.checked)
    }

    /// The vocabulary (decoded at compile time).
    pub fn vocab(&'static self) -> VocabView<'static> {
        VocabView::trusted(&self.symbols[..self.len])
    }

    /// The parameters, zero-copy from flash.
    ///
    /// # Errors
    /// [`WeightsError::Misaligned`] only if the bytes were not placed by
    /// [`crate::include_weights!`] (or on a big-endian target).
    pub fn params(&self) -> Result<ParamsView<'static>, WeightsError> {
        self.weights().params()
    }

    /// Runs the file's checks again at run time (the CRC over flash, say, after a field update).
    ///
    /// # Errors
    /// The defect found, as [`super::WeightsView::parse`] reports it.
    pub fn verify(&self) -> Result<(), WeightsError> {
        check(self.bytes).map(|_| ())
    }

    /// Zeroed sampler scratch of this shape (1.1 KB for the canonical model).
    pub const fn sample_arrays() -> SampleArrays<V, IN, H> {
        SampleArrays::new()
    }

    /// A sampler over these weights with `scratch` as its buffers.
    ///
    /// # Errors
    /// [`Error::Sample`] for a bad temperature or top-k, [`Error::Weights`] as
    /// [`Baked::params`], [`Error::Table`] as [`Baked::table`]. With a baked table, layer 1
    /// comes from it (the same names).
    pub fn sampler<'a>(
        &'static self,
        kernels: Kernels,
        seed: u64,
        cfg: SampleConfig,
        scratch: &'a mut SampleArrays<V, IN, H>,
    ) -> Result<Sampler<'a, &'a mut SampleArrays<V, IN, H>>, Error> {
        let sampler = Sampler::new(self.params()?, self.vocab(), kernels, seed, cfg, scratch)?;
        Ok(match self.table() {
            Some(t) => sampler.with_table(t?)?,
            None => sampler,
        })
    }
}

/// Includes a weights file as a validated, 4-byte-aligned `static` in flash and names its type.
///
/// ```
/// charmlp::include_weights!(pub MODEL: Model = "../../examples/template/weights.bin");
/// // or, to require a shape (a file of another shape is a compile error naming the dimension):
/// charmlp::include_weights!(pub CHECKED: Checked<27, 3, 10, 200> = "../../examples/template/weights.bin");
/// // with its per-position layer-1 table (`charmlp convert weights.bin weights.table`):
/// charmlp::include_weights!(
///     pub FAST: Fast<27, 3, 10, 200> = "../../examples/template/weights.bin",
///     table = "../../examples/template/weights.table",
/// );
/// # fn main() {
/// assert!(FAST.table().is_some() && MODEL.table().is_none());
/// assert_eq!(CHECKED.crc(), MODEL.crc());
/// # }
/// ```
///
/// expands to `pub type Model = charmlp::weights::Baked<V, B, E, IN, H>` with the file's own
/// shape (read from its header at compile time) and `pub static MODEL: Model`. The path is
/// relative to the file that invokes the macro, as for `include_bytes!`. Everything
/// [`super::WeightsView::parse`] checks is checked at compile time; a defect is a compile error
/// such as `weights.bin: invalid weights file: weights file corrupt (CRC-32 mismatch)` or
/// `weights.bin: H (hidden) is 100 in the file, the type expects 200`. A table is checked the
/// same way, and must have been computed from this weights file (its CRC is recorded in it);
/// [`Baked::sampler`] then computes layer 1 from it, with the same bits.
#[macro_export]
macro_rules! include_weights {
    ($(#[$m:meta])* $vis:vis $name:ident : $ty:ident = $path:expr $(, table = $table:expr)? $(,)?) => {
        $crate::include_weights!(@impl [$(#[$m])*] $vis $name $ty $path,
            ::core::option::Option::None, [$($table)?]);
    };
    ($(#[$m:meta])* $vis:vis $name:ident : $ty:ident < $v:tt, $b:tt, $e:tt, $h:tt > = $path:expr
        $(, table = $table:expr)? $(,)?) => {
        $crate::include_weights!(@impl [$(#[$m])*] $vis $name $ty $path,
            ::core::option::Option::Some([$v, $b, $e, $h]), [$($table)?]);
    };
    (@impl [$($attr:tt)*] $vis:vis $name:ident $ty:ident $path:expr, $expect:expr, [$($table:expr)?]) => {
        /// The shape of the weights file baked in by `include_weights!`.
        $vis type $ty = <$crate::weights::Dtype<
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[5] },
        > as $crate::weights::BakedFor<
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[0] },
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[1] },
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[2] },
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[3] },
            { $crate::weights::baked_dims(include_bytes!($path), $path, $expect)[4] },
        >>::Baked;
        $($attr)*
        $vis static $name: $ty = {
            static ALIGNED: &$crate::weights::Aligned<[u8]> =
                &$crate::weights::Aligned { _align: [], bytes: *include_bytes!($path) };
            let baked = <$ty>::new(&ALIGNED.bytes, $path);
            $(
                static TABLE: &$crate::weights::Aligned<[u8]> =
                    &$crate::weights::Aligned { _align: [], bytes: *include_bytes!($table) };
                let baked = baked.with_table(&TABLE.bytes, $table);
            )?
            baked
        };
    };
}
