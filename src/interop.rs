//! (feature `safetensors`) PyTorch interop: our weights file ↔ `.safetensors`.
//!
//! The exported file holds the lecture's tensors under the lecture's names, so
//! `safetensors.torch.load_file(path)` gives back exactly what the makemore part 2 notebook had:
//!
//! | tensor | shape | |
//! |---|---|---|
//! | `C` | `[V, E]` | embedding table |
//! | `W1` | `[B·E, H]` | first layer |
//! | `b1` | `[H]` | |
//! | `W2` | `[H, V]` | output layer |
//! | `b2` | `[V]` | |
//!
//! all `F32`, plus the string metadata (`__metadata__`):
//!
//! * `vocab`: the symbols in index order, concatenated, `.` first (e.g. `.abc…z`);
//! * `block_size`: the context length `B`, in decimal;
//! * `spare_classes`: only when the model has more classes than symbols (`V` > symbols), how
//!   many: `V` − symbols, in decimal. `V` is exported as stored, spare rows included.
//!
//! # Import
//!
//! [`import`] reads a file with exactly those five tensors (any other tensor is an error; other
//! metadata keys are ignored) and writes our weights file, for any shape within
//! [`crate::Shape::new`]'s limits.
//!
//! * **Vocabulary**: the `vocab` metadata; without it, the string the caller passes (the
//!   `convert` example's `--vocab`), by default [`LECTURE_VOCAB`] (`.` then `a`–`z`). Passing a
//!   string that disagrees with the file's metadata is an error. The vocabulary must have
//!   exactly `V` symbols, or `V − spare_classes` when the file says it has spare classes: a
//!   vocabulary one letter short would otherwise silently shift every index after it.
//! * **Block size**: the `block_size` metadata, which must satisfy `W1.rows = block_size · E`;
//!   without it, `W1.rows / C.cols`, which must divide exactly.
//! * **Element types**: `F32` is copied bit for bit. `F16` and `BF16` are widened to f32, which
//!   is exact. `F64` is rounded to the nearest f32, ties to even (Rust's `as f32`); a value
//!   beyond the f32 range becomes infinite and is then rejected as non-finite. Every other dtype
//!   (integers, `BOOL`, 8-bit and smaller floats, complex) is rejected with
//!   [`InteropError::UnsupportedDtype`]. Tensors may have different dtypes.
//! * Every weight must be finite.
//!
//! Each defect is its own [`InteropError`] variant; nothing panics on a bad file.
//!
//! Round trip: exporting a weights file and importing the result gives back the same bytes.

use std::fmt::{self, Write as _};
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};

use crate::error::VocabError;
use crate::params::ParamsBuf;
use crate::shape::Shape;
use crate::vocab::VocabBuf;
use crate::weights::{self, WeightsError, WeightsView};

/// The lecture's vocabulary: `.` then `a`–`z` (27 symbols).
pub const LECTURE_VOCAB: &str = ".abcdefghijklmnopqrstuvwxyz";

/// The tensor names, in our file's order.
pub const TENSORS: [&str; 5] = ["C", "W1", "b1", "W2", "b2"];

/// Metadata key of the vocabulary string.
pub const META_VOCAB: &str = "vocab";
/// Metadata key of the context length.
pub const META_BLOCK_SIZE: &str = "block_size";
/// Metadata key of the number of classes beyond the vocabulary.
pub const META_SPARE_CLASSES: &str = "spare_classes";

/// Every way a conversion can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InteropError {
    /// The 8-byte header length is missing, too large, or points past the end of the file.
    BadHeaderLength(String),
    /// The JSON header is not valid UTF-8 or JSON, or not a safetensors header (an unknown
    /// dtype name, a non-string metadata value, …).
    BadHeader(String),
    /// The data offsets are out of range, overlap, leave holes, or disagree with shape × dtype.
    BadOffsets(String),
    /// One of the five tensors is not in the file.
    MissingTensor(&'static str),
    /// A tensor that is not one of the five.
    UnexpectedTensor(String),
    /// A tensor has the wrong shape.
    WrongShape {
        /// The tensor.
        tensor: &'static str,
        /// What it should be, e.g. `[200, 27]` or `2-D [V, E]`.
        expected: String,
        /// What the file has.
        found: Vec<usize>,
    },
    /// A tensor's element type is not one this import converts.
    UnsupportedDtype {
        /// The tensor.
        tensor: &'static str,
        /// Its dtype, as safetensors names it.
        dtype: String,
    },
    /// The vocabulary does not have the number of symbols the tensors need.
    VocabSize {
        /// Symbols needed: `V`, less the file's `spare_classes`.
        expected: usize,
        /// Symbols in the vocabulary.
        found: usize,
        /// `V`, the rows of `C`.
        classes: usize,
    },
    /// The vocabulary string is not a vocabulary (no leading `.`, a duplicate symbol, …).
    Vocab(VocabError),
    /// The vocabulary passed in disagrees with the one in the file's metadata.
    VocabConflict {
        /// The file's `vocab` metadata.
        file: String,
        /// The one passed in.
        given: String,
    },
    /// A metadata value that does not parse.
    BadMetadata {
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// The block size cannot be determined or disagrees with the shapes.
    BlockSize {
        /// Rows of `W1` (`B·E`).
        w1_rows: usize,
        /// Columns of `C` (`E`).
        emb: usize,
        /// The `block_size` metadata, if any.
        metadata: Option<usize>,
    },
    /// A weight is NaN or infinite (after conversion to f32).
    NonFinite {
        /// The tensor.
        tensor: &'static str,
        /// Flat index in it.
        index: usize,
    },
    /// The tensors' dimensions are not a model (one is out of range).
    Shape(crate::ShapeError),
    /// The weights file (export's input, or import's output on the final check) is invalid.
    Weights(WeightsError),
    /// An internal consistency check failed (a bug, reported rather than written out).
    Internal(String),
}

impl fmt::Display for InteropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InteropError::BadHeaderLength(m) => write!(f, "safetensors: bad header length ({m})"),
            InteropError::BadHeader(m) => write!(f, "safetensors: bad JSON header ({m})"),
            InteropError::BadOffsets(m) => write!(f, "safetensors: bad data offsets ({m})"),
            InteropError::MissingTensor(t) => write!(f, "tensor {t:?} is missing"),
            InteropError::UnexpectedTensor(t) => write!(
                f,
                "unexpected tensor {t:?} (the file must hold exactly C, W1, b1, W2, b2)"
            ),
            InteropError::WrongShape {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {tensor:?} has shape {found:?}, expected {expected}"
            ),
            InteropError::UnsupportedDtype { tensor, dtype } => write!(
                f,
                "tensor {tensor:?} has dtype {dtype}; supported: F32, F64, F16, BF16"
            ),
            InteropError::VocabSize {
                expected,
                found,
                classes,
            } => write!(
                f,
                "the vocabulary has {found} symbols but the tensors need {expected} ({classes} classes)"
            ),
            InteropError::Vocab(e) => write!(f, "vocabulary: {e}"),
            InteropError::VocabConflict { file, given } => write!(
                f,
                "the file's vocabulary {file:?} differs from the one given, {given:?}"
            ),
            InteropError::BadMetadata { key, value } => {
                write!(f, "metadata {key:?} has an invalid value {value:?}")
            }
            InteropError::BlockSize {
                w1_rows,
                emb,
                metadata: Some(b),
            } => write!(
                f,
                "metadata block_size {b} disagrees with the shapes: W1 has {w1_rows} rows, C has {emb} columns"
            ),
            InteropError::BlockSize {
                w1_rows,
                emb,
                metadata: None,
            } => write!(
                f,
                "cannot infer the block size: W1 has {w1_rows} rows, not a multiple of C's {emb} columns"
            ),
            InteropError::NonFinite { tensor, index } => {
                write!(f, "weight {tensor}[{index}] is not finite")
            }
            InteropError::Shape(e) => write!(f, "shape: {e}"),
            InteropError::Weights(e) => write!(f, "weights: {e}"),
            InteropError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for InteropError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InteropError::Vocab(e) => Some(e),
            InteropError::Weights(e) => Some(e),
            InteropError::Shape(e) => Some(e),
            _ => None,
        }
    }
}

impl From<WeightsError> for InteropError {
    fn from(e: WeightsError) -> Self {
        InteropError::Weights(e)
    }
}

impl From<VocabError> for InteropError {
    fn from(e: VocabError) -> Self {
        InteropError::Vocab(e)
    }
}

fn from_safetensors(e: SafeTensorError) -> InteropError {
    use SafeTensorError as S;
    let m = e.to_string();
    match e {
        S::HeaderTooSmall | S::HeaderTooLarge | S::InvalidHeaderLength => {
            InteropError::BadHeaderLength(m)
        }
        S::InvalidHeader(_) | S::InvalidHeaderDeserialization(_) | S::JsonError(_) => {
            InteropError::BadHeader(m)
        }
        _ => InteropError::BadOffsets(m),
    }
}

/// What [`import`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Our weights file.
    pub weights: Vec<u8>,
    /// The model's shape.
    pub shape: Shape,
    /// The vocabulary, concatenated.
    pub vocab: String,
    /// Whether the vocabulary came from the file's metadata (else from the caller).
    pub vocab_from_metadata: bool,
    /// Whether the block size came from the file's metadata (else inferred from the shapes).
    pub block_from_metadata: bool,
    /// Tensors that were not F32 and were converted, with their dtype, in C, W1, b1, W2, b2
    /// order.
    pub converted: Vec<(&'static str, String)>,
}

/// Appends `v` as a JSON string literal.
fn json_str(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// Converts our weights file to `.safetensors` bytes (see the module docs for the layout).
///
/// # Errors
/// [`InteropError::Weights`] if `weights` is not a valid weights file.
pub fn export(weights: &[u8]) -> Result<Vec<u8>, InteropError> {
    let w = WeightsView::parse(weights)?;
    let mut p = ParamsBuf::zeros(w.shape()).map_err(InteropError::Shape)?;
    w.copy_params(&mut p.view_mut())?;
    let s = w.shape();
    let (v, b, e, inp, h) = (s.vocab(), s.block(), s.emb(), s.input(), s.hidden());
    let vocab = w.vocab_str();
    let shapes: [[usize; 2]; 5] = [[v, e], [inp, h], [h, 0], [h, v], [v, 0]];
    let spare = v - w.symbols();

    // The header is written here rather than by `safetensors::serialize`, whose metadata map
    // has no fixed order: the same weights must always give the same bytes. Keys: metadata
    // sorted by name, then the tensors in our file's order, data in that order too.
    let mut json = String::from("{\"__metadata__\":{\"block_size\":");
    json_str(&mut json, &b.to_string());
    if spare > 0 {
        json.push_str(",\"spare_classes\":");
        json_str(&mut json, &spare.to_string());
    }
    json.push_str(",\"vocab\":");
    json_str(&mut json, vocab);
    json.push('}');
    let view = p.view();
    let mut at = 0;
    for ((name, shape), t) in TENSORS.iter().zip(shapes).zip(view.tensors()) {
        let dims = if shape[1] == 0 {
            format!("[{}]", shape[0])
        } else {
            format!("[{},{}]", shape[0], shape[1])
        };
        let end = at + 4 * t.len();
        let _ = write!(
            json,
            ",\"{name}\":{{\"dtype\":\"F32\",\"shape\":{dims},\"data_offsets\":[{at},{end}]}}"
        );
        at = end;
    }
    json.push('}');
    // Pad with spaces to a multiple of 8, as the reference writer does, so the data is aligned.
    let header_len = json.len().next_multiple_of(8);
    let mut out = Vec::with_capacity(8 + header_len + at);
    out.extend_from_slice(&(header_len as u64).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    out.resize(8 + header_len, b' ');
    for x in view.iter() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    // The final check: Hugging Face's reader accepts it.
    SafeTensors::deserialize(&out)
        .map_err(|e| InteropError::Internal(format!("the exported file does not parse: {e}")))?;
    Ok(out)
}

/// One of the five tensors of a file being imported.
struct Tensor<'a> {
    name: &'static str,
    view: TensorView<'a>,
}

fn dtype_name(d: Dtype) -> String {
    format!("{d:?}")
}

/// Converts `.safetensors` bytes to our weights file.
///
/// `vocab` supplies the vocabulary when the file has no `vocab` metadata (`None`: the
/// lecture's, [`LECTURE_VOCAB`]); if the file has one, `vocab` must be `None` or equal to it.
///
/// # Errors
/// Each defect is its own [`InteropError`] variant (see the module docs).
pub fn import(bytes: &[u8], vocab: Option<&str>) -> Result<Imported, InteropError> {
    let st = SafeTensors::deserialize(bytes).map_err(from_safetensors)?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(from_safetensors)?;
    let strings = meta.metadata();
    let get = |k: &str| strings.as_ref().and_then(|m| m.get(k)).map(String::as_str);

    // Exactly the five tensors; an unexpected one is reported first in offset order.
    if let Some(extra) = meta
        .offset_keys()
        .into_iter()
        .find(|n| !TENSORS.contains(&n.as_str()))
    {
        return Err(InteropError::UnexpectedTensor(extra));
    }
    let tensor = |name: &'static str| -> Result<Tensor<'_>, InteropError> {
        let view = st
            .tensor(name)
            .map_err(|_| InteropError::MissingTensor(name))?;
        if !matches!(
            view.dtype(),
            Dtype::F32 | Dtype::F64 | Dtype::F16 | Dtype::BF16
        ) {
            return Err(InteropError::UnsupportedDtype {
                tensor: name,
                dtype: dtype_name(view.dtype()),
            });
        }
        Ok(Tensor { name, view })
    };
    let (c, w1, b1, w2, b2) = (
        tensor("C")?,
        tensor("W1")?,
        tensor("b1")?,
        tensor("W2")?,
        tensor("b2")?,
    );

    // Shapes: C and W1 give V, E, IN, H; the others must follow.
    let two_d = |t: &Tensor<'_>, what: &str| -> Result<(usize, usize), InteropError> {
        match *t.view.shape() {
            [r, c] => Ok((r, c)),
            _ => Err(InteropError::WrongShape {
                tensor: t.name,
                expected: format!("2-D {what}"),
                found: t.view.shape().to_vec(),
            }),
        }
    };
    let (v, e) = two_d(&c, "[V, E]")?;
    let (inp, h) = two_d(&w1, "[B·E, H]")?;
    for (t, want) in [
        (&b1, std::vec![h]),
        (&w2, std::vec![h, v]),
        (&b2, std::vec![v]),
    ] {
        if t.view.shape() != want.as_slice() {
            return Err(InteropError::WrongShape {
                tensor: t.name,
                expected: format!("{want:?}"),
                found: t.view.shape().to_vec(),
            });
        }
    }

    // Block size.
    let block_meta = match get(META_BLOCK_SIZE) {
        Some(s) => Some(parse_usize(META_BLOCK_SIZE, s)?),
        None => None,
    };
    let bad_block = InteropError::BlockSize {
        w1_rows: inp,
        emb: e,
        metadata: block_meta,
    };
    let b = match block_meta {
        Some(b) if b.checked_mul(e) == Some(inp) => b,
        Some(_) => return Err(bad_block),
        None if e > 0 && inp % e == 0 => inp / e,
        None => return Err(bad_block),
    };

    // Vocabulary.
    let (vocab, vocab_from_metadata) = match (get(META_VOCAB), vocab) {
        (Some(file), Some(given)) if file != given => {
            return Err(InteropError::VocabConflict {
                file: file.to_string(),
                given: given.to_string(),
            });
        }
        (Some(file), _) => (file.to_string(), true),
        (None, given) => (given.unwrap_or(LECTURE_VOCAB).to_string(), false),
    };
    let spare = match get(META_SPARE_CLASSES) {
        Some(s) => parse_usize(META_SPARE_CLASSES, s)?,
        None => 0,
    };
    let symbols = vocab.chars().count();
    let expected = v.checked_sub(spare).ok_or(InteropError::BadMetadata {
        key: META_SPARE_CLASSES,
        value: spare.to_string(),
    })?;
    if symbols != expected {
        return Err(InteropError::VocabSize {
            expected,
            found: symbols,
            classes: v,
        });
    }
    // Checks the symbols (leading '.', no duplicates).
    let vocab_buf = VocabBuf::from_symbols(vocab.chars())?;
    let shape = Shape::new(v, b, e, h).map_err(InteropError::Shape)?;

    // Values.
    let mut converted = Vec::new();
    let mut values: [Vec<f32>; 5] = Default::default();
    for (t, out) in [&c, &w1, &b1, &w2, &b2].into_iter().zip(values.iter_mut()) {
        if t.view.dtype() != Dtype::F32 {
            converted.push((t.name, dtype_name(t.view.dtype())));
        }
        *out = to_f32(t)?;
        if let Some(index) = out.iter().position(|x| !x.is_finite()) {
            return Err(InteropError::NonFinite {
                tensor: t.name,
                index,
            });
        }
    }

    let mut p = ParamsBuf::zeros(shape).map_err(InteropError::Shape)?;
    for (dst, src) in p.view_mut().tensors_mut().into_iter().zip(&values) {
        if dst.len() != src.len() {
            return Err(InteropError::Internal(format!(
                "a tensor of {} values for {} slots",
                src.len(),
                dst.len()
            )));
        }
        dst.copy_from_slice(src);
    }
    let weights = weights::to_bytes(&p.view(), vocab_buf.view());
    // The final check: the file we wrote reads back.
    WeightsView::parse(&weights)?;
    Ok(Imported {
        weights,
        shape,
        vocab,
        vocab_from_metadata,
        block_from_metadata: block_meta.is_some(),
        converted,
    })
}

fn parse_usize(key: &'static str, s: &str) -> Result<usize, InteropError> {
    // Plain decimal digits only: no sign, no spaces.
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(InteropError::BadMetadata {
            key,
            value: s.to_string(),
        });
    }
    s.parse().map_err(|_| InteropError::BadMetadata {
        key,
        value: s.to_string(),
    })
}

fn to_f32(t: &Tensor<'_>) -> Result<Vec<f32>, InteropError> {
    let d = t.view.data();
    Ok(match t.view.dtype() {
        Dtype::F32 => d
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        // `as` rounds to nearest, ties to even; out of range becomes ±∞ (rejected later).
        Dtype::F64 => d
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        Dtype::F16 => d
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::BF16 => d
            .chunks_exact(2)
            .map(|c| bf16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        other => {
            return Err(InteropError::UnsupportedDtype {
                tensor: t.name,
                dtype: dtype_name(other),
            });
        }
    })
}

/// IEEE 754 binary16 → f32, exactly (every half is an f32): `half::f16::to_f32`.
pub fn f16_to_f32(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// bfloat16 → f32, exactly (bfloat16 is the top half of an f32): `half::bf16::to_f32`.
pub fn bf16_to_f32(b: u16) -> f32 {
    half::bf16::from_bits(b).to_f32()
}
