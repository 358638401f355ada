//! Reading and validating a weights file (no_std, zero-copy when aligned).

use core::fmt;

use super::crc32;
use super::format::{self, HEADER_LEN, Header, VERSION, tensor_offset};
use crate::params::{Params, ParamsView, ParamsViewMut, TENSOR_NAMES, const_shape};
use crate::shape::{Dim, Shape, ShapeError};
use crate::vocab::{TERMINATOR, Vocab, VocabView};

/// Every way a weights file can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsError {
    /// Shorter than its header or than its header says it is.
    Truncated {
        /// Bytes the file should have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// Longer than its header says.
    TrailingBytes {
        /// Bytes the file should have.
        expected: usize,
        /// Bytes it has.
        found: usize,
    },
    /// Not a charmlp weights file.
    BadMagic,
    /// A format version this crate does not read.
    UnsupportedVersion(u16),
    /// A tensor element type this crate does not read.
    UnsupportedDtype(u8),
    /// The header's dimensions are not a model (one is out of range, or the model would not fit
    /// this target).
    Shape(ShapeError),
    /// The file's shape is not the one asked for (by a const-generic [`Weights`] type).
    ShapeMismatch {
        /// Which dimension.
        dim: Dim,
        /// The value asked for.
        expected: u32,
        /// The value in the file.
        found: u32,
    },
    /// The checksum does not match the contents.
    CrcMismatch {
        /// CRC stored in the file.
        stored: u32,
        /// CRC of the contents.
        computed: u32,
    },
    /// A weight is NaN or infinite.
    NonFinite {
        /// Which tensor: `"C"`, `"W1"`, `"b1"`, `"W2"`, `"b2"`.
        tensor: &'static str,
        /// Flat index in it.
        index: usize,
    },
    /// The vocabulary string is not UTF-8.
    VocabNotUtf8,
    /// The vocabulary string's length is impossible for the header's symbol count (more than
    /// four bytes per symbol).
    VocabLength {
        /// Bytes the header announces.
        bytes: u32,
        /// Symbols the header announces.
        symbols: u32,
    },
    /// The vocabulary has a different number of symbols than the header says, or more than `V`.
    VocabSize {
        /// Symbols the header announces (or `V`, the most it may have).
        expected: u32,
        /// Symbols found.
        found: u32,
    },
    /// The header announces more symbols than the model has classes (`V`).
    SymbolCount {
        /// Symbols the header announces.
        announced: u32,
        /// Classes (`V`).
        classes: u32,
    },
    /// A symbol appears twice.
    DuplicateSymbol(char),
    /// The vocabulary does not start with `.`.
    MissingTerminator,
    /// Zero-copy reading needs the file at a 4-byte-aligned address (see
    /// [`super::Aligned`]); use [`WeightsView::copy_params`] otherwise.
    Misaligned,
    /// A reserved header byte is not zero.
    Reserved,
    /// An int8 file's quantization parameter or weight is out of its range (a shift not in
    /// 1..=62, a multiplier not positive, a weight of −128, a sum that could overflow int32,
    /// nonzero padding).
    Quantization {
        /// Which tensor or field: `"shift1"`, `"m1"`, `"b1"`, `"C"`, `"W1"`, …
        tensor: &'static str,
        /// Flat index in it.
        index: usize,
    },
}

impl WeightsError {
    /// A fixed description, without numbers (no formatting code: for firmware).
    pub const fn as_str(&self) -> &'static str {
        match self {
            WeightsError::Truncated { .. } => "weights file truncated",
            WeightsError::TrailingBytes { .. } => "weights file has trailing bytes",
            WeightsError::BadMagic => "not a charmlp weights file (bad magic)",
            WeightsError::UnsupportedVersion(_) => "unsupported weights format version",
            WeightsError::UnsupportedDtype(_) => "unsupported weights dtype",
            WeightsError::Shape(e) => e.as_str(),
            WeightsError::ShapeMismatch { .. } => "the weights file has another shape",
            WeightsError::CrcMismatch { .. } => "weights file corrupt (CRC-32 mismatch)",
            WeightsError::NonFinite { .. } => "a weight is not finite",
            WeightsError::VocabNotUtf8 => "the vocabulary is not valid UTF-8",
            WeightsError::VocabLength { .. } => "the vocabulary length is impossible",
            WeightsError::VocabSize { .. } => "the vocabulary has the wrong number of symbols",
            WeightsError::SymbolCount { .. } => {
                "the header announces more symbols than the model has classes"
            }
            WeightsError::DuplicateSymbol(_) => "a symbol appears twice in the vocabulary",
            WeightsError::MissingTerminator => "the vocabulary must start with '.'",
            WeightsError::Misaligned => "weights bytes are not 4-byte aligned",
            WeightsError::Reserved => "reserved header byte is not zero",
            WeightsError::Quantization { .. } => "an int8 quantization parameter is out of range",
        }
    }
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WeightsError::Truncated { expected, found } => write!(
                f,
                "weights file truncated: {found} bytes, expected {expected}"
            ),
            WeightsError::TrailingBytes { expected, found } => write!(
                f,
                "weights file has trailing bytes: {found} bytes, expected {expected}"
            ),
            WeightsError::UnsupportedVersion(v) => write!(
                f,
                "unsupported weights format version {v} (this build reads {VERSION})"
            ),
            WeightsError::UnsupportedDtype(d) => {
                write!(
                    f,
                    "unsupported dtype code {d} (this build reads 1 = f32 in version 1 files, 2 = int8 in version 2)"
                )
            }
            WeightsError::Shape(e) => write!(f, "weights header: {e}"),
            WeightsError::ShapeMismatch {
                dim,
                expected,
                found,
            } => write!(
                f,
                "weights shape mismatch: {} is {found} in the file, the model expects {expected}",
                dim.letter()
            ),
            WeightsError::CrcMismatch { stored, computed } => write!(
                f,
                "weights file corrupt: CRC-32 {computed:#010x} does not match stored {stored:#010x}"
            ),
            WeightsError::NonFinite { tensor, index } => {
                write!(f, "weight {tensor}[{index}] is not finite")
            }
            WeightsError::VocabLength { bytes, symbols } => write!(
                f,
                "the vocabulary string is {bytes} bytes for {symbols} symbols (at most 4 bytes each)"
            ),
            WeightsError::VocabSize { expected, found } => {
                write!(f, "the vocabulary has {found} symbols, expected {expected}")
            }
            WeightsError::SymbolCount { announced, classes } => write!(
                f,
                "the header announces {announced} symbols, but the model has only V = {classes} classes"
            ),
            WeightsError::DuplicateSymbol(c) => {
                write!(f, "symbol {c:?} appears twice in the vocabulary")
            }
            WeightsError::Misaligned => {
                f.write_str("weights bytes are not 4-byte aligned; copy them or align the blob")
            }
            WeightsError::Quantization { tensor, index } => {
                write!(f, "int8 file: {tensor}[{index}] is out of its range")
            }
            _ => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            WeightsError::Shape(e) => Some(e),
            _ => None,
        }
    }
}

/// A validated weights file of any shape, borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct WeightsView<'a> {
    bytes: &'a [u8],
    header: Header,
    shape: Shape,
    vocab: &'a str,
}

impl<'a> WeightsView<'a> {
    /// Validates `bytes`: header, shape, exact length, CRC, vocabulary, and that every weight
    /// is finite. Nothing is copied.
    ///
    /// ```
    /// # fn main() -> Result<(), charmlp::Error> {
    /// # let file = std::fs::read("examples/template/weights.bin").unwrap();
    /// use charmlp::WeightsView;
    /// let w = WeightsView::parse(&file)?; // any shape: header, CRC, vocabulary, finite weights
    /// assert_eq!(w.shape(), charmlp::Shape::new(27, 3, 10, 200)?);
    /// assert_eq!(w.vocab_str(), ".abcdefghijklmnopqrstuvwxyz");
    /// let mut damaged = file.clone();
    /// damaged[100] ^= 1;
    /// assert!(matches!(
    ///     WeightsView::parse(&damaged),
    ///     Err(charmlp::WeightsError::CrcMismatch { .. })
    /// ));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// Each defect is its own [`WeightsError`] variant.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        let c = check(bytes)?;
        let (_, rest) = bytes.split_at(HEADER_LEN);
        let (text, _) = rest.split_at(c.header.vocab_len as usize);
        // Checked to be UTF-8 by `check`.
        let vocab = core::str::from_utf8(text).map_err(|_| WeightsError::VocabNotUtf8)?;
        Ok(WeightsView {
            bytes,
            header: c.header,
            shape: c.shape,
            vocab,
        })
    }

    /// A view of bytes that [`check`] accepted (as at compile time, for baked weights).
    pub(crate) fn from_checked(bytes: &'a [u8], c: Checked) -> Self {
        let text = bytes
            .split_at(HEADER_LEN)
            .1
            .split_at(c.header.vocab_len as usize)
            .0;
        WeightsView {
            bytes,
            header: c.header,
            shape: c.shape,
            vocab: core::str::from_utf8(text).unwrap_or(""),
        }
    }

    /// The model's shape.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// The header fields.
    pub const fn header(&self) -> Header {
        self.header
    }

    /// The vocabulary, concatenated (`.` first), as stored.
    pub const fn vocab_str(&self) -> &'a str {
        self.vocab
    }

    /// Symbols in the vocabulary (`V` for files written by this version).
    pub const fn symbols(&self) -> usize {
        self.header.symbols as usize
    }

    /// The whole file.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The file's CRC-32 (its last four bytes).
    pub fn crc(&self) -> u32 {
        let n = self.bytes.len();
        u32::from_le_bytes([
            self.bytes[n - 4],
            self.bytes[n - 3],
            self.bytes[n - 2],
            self.bytes[n - 1],
        ])
    }

    /// The tensor bytes (file order, little-endian f32).
    fn tensor_bytes(&self) -> &'a [u8] {
        let start = tensor_offset(self.header.vocab_len as usize);
        &self.bytes[start..self.bytes.len() - format::CRC_LEN]
    }

    /// The parameters as views into the file's bytes (no copy).
    ///
    /// # Errors
    /// [`WeightsError::Misaligned`] if the bytes are not 4-byte aligned (on a big-endian target,
    /// always: the file is little-endian).
    pub fn params(&self) -> Result<ParamsView<'a>, WeightsError> {
        if cfg!(target_endian = "big") {
            return Err(WeightsError::Misaligned);
        }
        let floats: &'a [f32] =
            bytemuck::try_cast_slice(self.tensor_bytes()).map_err(|_| WeightsError::Misaligned)?;
        ParamsView::from_flat(self.shape, floats).map_err(WeightsError::Shape)
    }

    /// Copies the parameters into `out` (works at any alignment and endianness).
    ///
    /// # Errors
    /// [`WeightsError::Shape`] if `out` has another shape; nothing is copied then.
    pub fn copy_params(&self, out: &mut ParamsViewMut<'_>) -> Result<(), WeightsError> {
        if out.shape() != self.shape {
            return Err(WeightsError::Shape(ShapeError::Length {
                what: "parameters",
                expected: self.shape.param_count(),
                found: out.shape().param_count(),
            }));
        }
        let mut bytes = self.tensor_bytes().chunks_exact(4);
        for t in out.tensors_mut() {
            for (x, c) in t.iter_mut().zip(&mut bytes) {
                *x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        Ok(())
    }

    /// Decodes the vocabulary into `out` (at least [`WeightsView::symbols`] long) and returns
    /// the validated view of its first symbols.
    ///
    /// # Errors
    /// [`WeightsError::VocabSize`] if `out` is too short.
    pub fn vocab_into<'b>(&self, out: &'b mut [char]) -> Result<VocabView<'b>, WeightsError> {
        let n = self.symbols();
        if out.len() < n {
            return Err(WeightsError::VocabSize {
                expected: out.len() as u32,
                found: n as u32,
            });
        }
        for (o, c) in out.iter_mut().zip(self.vocab.chars()) {
            *o = c;
        }
        VocabView::new(&out[..n]).map_err(|_| WeightsError::MissingTerminator)
    }
}

/// What [`check`] found in a valid file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) header: Header,
    pub(crate) shape: Shape,
}

/// `b[at..at + len]` in a `const fn` (the caller checked the bounds).
const fn sub(b: &[u8], at: usize, len: usize) -> &[u8] {
    b.split_at(at).1.split_at(len).0
}

/// Validates a weights file: header, shape, exact length, CRC, vocabulary, and that every weight
/// is finite — in that order, each defect its own error. A `const fn`, so that
/// [`crate::include_weights!`] runs exactly this at compile time; [`WeightsView::parse`] runs it
/// at run time.
pub(crate) const fn check(bytes: &[u8]) -> Result<Checked, WeightsError> {
    let header = match Header::parse(bytes) {
        Ok(h) => h,
        Err(e) => return Err(e),
    };
    let shape = match header.shape() {
        Ok(s) => s,
        Err(e) => return Err(e),
    };
    let vocab_len = header.vocab_len as usize;
    // A vocabulary string is at most 4 bytes per symbol, and has at most V symbols.
    if header.symbols > header.vocab {
        return Err(WeightsError::SymbolCount {
            announced: header.symbols,
            classes: header.vocab,
        });
    }
    if vocab_len > 4 * shape.vocab() {
        return Err(WeightsError::VocabLength {
            bytes: header.vocab_len,
            symbols: header.symbols,
        });
    }
    let expected = shape.file_len(vocab_len);
    if bytes.len() < expected {
        return Err(WeightsError::Truncated {
            expected,
            found: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(WeightsError::TrailingBytes {
            expected,
            found: bytes.len(),
        });
    }
    let crc_at = expected - format::CRC_LEN;
    let stored = u32::from_le_bytes([
        bytes[crc_at],
        bytes[crc_at + 1],
        bytes[crc_at + 2],
        bytes[crc_at + 3],
    ]);
    let computed = crc32(sub(bytes, 0, crc_at));
    if stored != computed {
        return Err(WeightsError::CrcMismatch { stored, computed });
    }
    let text = sub(bytes, HEADER_LEN, vocab_len);
    if core::str::from_utf8(text).is_err() {
        return Err(WeightsError::VocabNotUtf8);
    }
    if let Err(e) = check_vocab(text, header.symbols) {
        return Err(e);
    }
    // Every weight finite: an exponent field of all ones is ∞ or NaN.
    let lens = shape.tensor_lens();
    let mut at = tensor_offset(vocab_len);
    let mut t = 0;
    while t < lens.len() {
        let mut i = 0;
        while i < lens[t] {
            let p = at + 4 * i;
            let bits = u32::from_le_bytes([bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]]);
            if (bits >> 23) & 0xff == 0xff {
                return Err(WeightsError::NonFinite {
                    tensor: TENSOR_NAMES[t],
                    index: i,
                });
            }
            i += 1;
        }
        at += 4 * lens[t];
        t += 1;
    }
    Ok(Checked { header, shape })
}

/// The character starting at `b[i]` of valid UTF-8, and its length in bytes.
pub(crate) const fn decode_char(b: &[u8], i: usize) -> (char, usize) {
    let x = b[i] as u32;
    let (mut c, n) = if x < 0x80 {
        (x, 1)
    } else if x < 0xE0 {
        (x & 0x1F, 2)
    } else if x < 0xF0 {
        (x & 0x0F, 3)
    } else {
        (x & 0x07, 4)
    };
    let mut k = 1;
    while k < n {
        c = (c << 6) | (b[i + k] as u32 & 0x3F);
        k += 1;
    }
    match char::from_u32(c) {
        Some(ch) => (ch, n),
        None => ('\u{FFFD}', n),
    }
}

/// Checks the vocabulary string (valid UTF-8): `symbols` symbols, `.` first, no duplicates.
/// Linear when the symbols after `.` ascend (as the trainer writes them), quadratic otherwise.
pub(crate) const fn check_vocab(text: &[u8], symbols: u32) -> Result<(), WeightsError> {
    let (mut i, mut count, mut prev, mut sorted) = (0, 0usize, TERMINATOR, true);
    while i < text.len() {
        let (c, n) = decode_char(text, i);
        if count == 0 && c != TERMINATOR {
            return Err(WeightsError::MissingTerminator);
        }
        if count > 0 && c == TERMINATOR {
            return Err(WeightsError::DuplicateSymbol(c));
        }
        if count >= 2 && (prev as u32) >= (c as u32) {
            sorted = false;
        }
        prev = c;
        count += 1;
        i += n;
    }
    if count != symbols as usize || count == 0 {
        return Err(WeightsError::VocabSize {
            expected: symbols,
            found: count as u32,
        });
    }
    if !sorted {
        let mut i = 0;
        while i < text.len() {
            let (c, n) = decode_char(text, i);
            let mut j = i + n;
            while j < text.len() {
                let (d, m) = decode_char(text, j);
                if c == d {
                    return Err(WeightsError::DuplicateSymbol(c));
                }
                j += m;
            }
            i += n;
        }
    }
    Ok(())
}

/// A validated weights file of the shape `(V, B, E, IN, H)`, borrowing its bytes: the view
/// plus the vocabulary in a fixed-size array (no heap).
#[derive(Debug, Clone, Copy)]
pub struct Weights<
    'a,
    const V: usize,
    const B: usize,
    const E: usize,
    const IN: usize,
    const H: usize,
> {
    view: WeightsView<'a>,
    vocab: Vocab<V>,
}

impl<'a, const V: usize, const B: usize, const E: usize, const IN: usize, const H: usize>
    Weights<'a, V, B, E, IN, H>
{
    /// The shape (checked at compile time).
    pub const SHAPE: Shape = const_shape::<V, B, E, IN, H>();

    /// Validates `bytes` (see [`WeightsView::parse`]) and that the file's shape is
    /// `(V, B, E, H)`. Nothing is copied.
    ///
    /// # Errors
    /// Each defect is its own [`WeightsError`] variant; another shape is
    /// [`WeightsError::ShapeMismatch`] naming the first dimension that differs.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        let s = Self::SHAPE;
        // The header first, so a file of another shape is named as such.
        let h = Header::parse(bytes)?;
        for (dim, want, got) in [
            (Dim::Vocab, s.vocab(), h.vocab),
            (Dim::Block, s.block(), h.block),
            (Dim::Emb, s.emb(), h.emb),
            (Dim::Hidden, s.hidden(), h.hidden),
        ] {
            if want as u64 != u64::from(got) {
                return Err(WeightsError::ShapeMismatch {
                    dim,
                    expected: want as u32,
                    found: got,
                });
            }
        }
        let view = WeightsView::parse(bytes)?;
        let vocab = Vocab::from_symbols(view.vocab_str().chars())
            .map_err(|_| WeightsError::MissingTerminator)?;
        Ok(Weights { view, vocab })
    }

    /// The shape-independent view.
    pub const fn view(&self) -> &WeightsView<'a> {
        &self.view
    }

    /// The vocabulary stored in the file.
    pub fn vocab(&self) -> VocabView<'_> {
        self.vocab.view()
    }

    /// The parameters as views into the file's bytes (no copy).
    ///
    /// # Errors
    /// [`WeightsError::Misaligned`], see [`WeightsView::params`].
    pub fn params(&self) -> Result<ParamsView<'a>, WeightsError> {
        self.view.params()
    }

    /// Copies the parameters out (works at any alignment and endianness).
    pub fn copy_into(&self, out: &mut Params<V, B, E, IN, H>) {
        // Same shape by type: cannot fail.
        let _ = self.view.copy_params(&mut out.view_mut());
    }
}
