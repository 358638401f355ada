//! The checkpoint file, format version 2: everything a run needs to continue bit-identically,
//! covered end to end by a CRC-32. Parsing is `no_std` and zero-copy; writing needs `std`.
//!
//! # Layout (all integers little-endian)
//!
//! | offset | size | field | constant |
//! |---|---|---|---|
//! | 0 | 8 | magic `CHMLPCK\0` | [`MAGIC`] |
//! | 8 | 2 | format version, `2` | [`VERSION`] |
//! | 10 | 2 | flags: bit 0 = loss history present, bit 1 = best-by-dev weights present | [`FLAGS`] |
//! | 12 | 4 | header length, [`HEADER_LEN`] | [`HEADER_LEN_FIELD`] |
//! | 16 | 8 | `step`: SGD steps applied | [`STEP`] |
//! | 24 | 8 | total steps of the run | [`STEPS`] |
//! | 32 | 8 | seed (initialization and minibatches) | [`SEED`] |
//! | 40 | 8 | split seed | [`SPLIT_SEED`] |
//! | 48 | 4 | batch size | [`BATCH`] |
//! | 52 | 1 | initialization: 0 = randn, 1 = scaled | [`INIT`] |
//! | 53 | 1 | schedule: 0 = step, 1 = cosine | [`SCHEDULE`] |
//! | 54 | 1 | split mode: 0 = charmlp (Xoshiro256++), 1 = python (`random.shuffle`) | [`SPLIT_MODE`] |
//! | 55 | 1 | reference arithmetic version of the kernels | [`ARITHMETIC`] |
//! | 56 | 4 | learning rate (f32) | [`LR`] |
//! | 60 | 4 | rate after the decay / final cosine rate (f32) | [`LR_AFTER`] |
//! | 64 | 8 | decay step (step schedule) | [`DECAY_AT`] |
//! | 72 | 4 | CRC-32 of the training data file | [`DATA_CRC`] |
//! | 76 | 4 | reserved, 0 | |
//! | 80 | 8 | length of the training data file (bytes) | [`DATA_LEN`] |
//! | 88 | 8 | kernel path that wrote it, ASCII, zero-padded (e.g. `avx512`) | [`KERNEL`] |
//! | 96 | 8 | step of the best-by-dev weights | [`BEST_STEP`] |
//! | 104 | 4 | dev loss of the best weights (f32) | [`BEST_LOSS`] |
//! | 108 | 4 | reserved, 0 | |
//! | 112 | 8 | loss-history entries `n` (f32 each) | [`HISTORY_LEN`] |
//! | 120 | 8 | bytes of the weights file `w` | [`WEIGHTS_LEN`] |
//! | 128 | 8 | bytes of the best-weights file `b` | [`BEST_LEN`] |
//! | 136 | 4·n | the loss history (log10 of each step's minibatch loss) | |
//! | … | w | the current weights, a complete weights file (with its own CRC) | |
//! | … | b | the best-by-dev weights, a complete weights file | |
//! | end−4 | 4 | CRC-32 of every byte before it | |
//!
//! [`Checkpoint::parse`] checks the magic and version, then the CRC (so that any damage is
//! reported as damage), then every length against the file, that the history has exactly `step`
//! entries when present, that `step ≤ steps`, the best step, and that both embedded weights files
//! parse and have the same shape and vocabulary.

use core::fmt;
use core::ops::Range;

use crate::params::Init;
use crate::shape::Shape;
use crate::weights::{WeightsError, WeightsView, crc32};

/// The first eight bytes of a checkpoint.
pub const MAGIC: [u8; 8] = *b"CHMLPCK\0";
/// The checkpoint format version this crate writes and reads.
pub const VERSION: u16 = 2;

/// Field: magic.
pub const MAGIC_FIELD: Range<usize> = 0..8;
/// Field: version (u16).
pub const VERSION_FIELD: Range<usize> = 8..10;
/// Field: flags (u16).
pub const FLAGS: Range<usize> = 10..12;
/// Field: header length (u32).
pub const HEADER_LEN_FIELD: Range<usize> = 12..16;
/// Field: steps applied (u64).
pub const STEP: Range<usize> = 16..24;
/// Field: total steps (u64).
pub const STEPS: Range<usize> = 24..32;
/// Field: seed (u64).
pub const SEED: Range<usize> = 32..40;
/// Field: split seed (u64).
pub const SPLIT_SEED: Range<usize> = 40..48;
/// Field: batch (u32).
pub const BATCH: Range<usize> = 48..52;
/// Field: initialization code (u8).
pub const INIT: usize = 52;
/// Field: schedule code (u8).
pub const SCHEDULE: usize = 53;
/// Field: split mode code (u8).
pub const SPLIT_MODE: usize = 54;
/// Field: reference arithmetic version (u8).
pub const ARITHMETIC: usize = 55;
/// Field: learning rate (f32).
pub const LR: Range<usize> = 56..60;
/// Field: rate after the decay (f32).
pub const LR_AFTER: Range<usize> = 60..64;
/// Field: decay step (u64).
pub const DECAY_AT: Range<usize> = 64..72;
/// Field: CRC-32 of the data file (u32).
pub const DATA_CRC: Range<usize> = 72..76;
/// Field: length of the data file (u64).
pub const DATA_LEN: Range<usize> = 80..88;
/// Field: kernel path name (8 ASCII bytes, zero-padded).
pub const KERNEL: Range<usize> = 88..96;
/// Field: step of the best weights (u64).
pub const BEST_STEP: Range<usize> = 96..104;
/// Field: dev loss of the best weights (f32).
pub const BEST_LOSS: Range<usize> = 104..108;
/// Field: history entries (u64).
pub const HISTORY_LEN: Range<usize> = 112..120;
/// Field: bytes of the weights file (u64).
pub const WEIGHTS_LEN: Range<usize> = 120..128;
/// Field: bytes of the best weights file (u64).
pub const BEST_LEN: Range<usize> = 128..136;
/// Bytes before the loss history.
pub const HEADER_LEN: usize = 136;
/// Reserved byte ranges, zero.
pub const RESERVED: [Range<usize>; 2] = [76..80, 108..112];

/// Flag: the loss history is present.
pub const FLAG_HISTORY: u16 = 1;
/// Flag: best-by-dev weights are present.
pub const FLAG_BEST: u16 = 2;

/// How the items are shuffled before the 80/10/10 split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SplitMode {
    /// Fisher–Yates driven by `Xoshiro256PlusPlus` seeded with the split seed.
    Charmlp,
    /// CPython's `random.seed(split_seed); random.shuffle(items)`, bit for bit (the lecture's).
    Python,
}

impl SplitMode {
    /// `charmlp` or `python`.
    pub const fn name(self) -> &'static str {
        match self {
            SplitMode::Charmlp => "charmlp",
            SplitMode::Python => "python",
        }
    }

    /// The code stored in a checkpoint.
    pub const fn code(self) -> u8 {
        match self {
            SplitMode::Charmlp => 0,
            SplitMode::Python => 1,
        }
    }

    /// The mode of a stored code.
    pub const fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(SplitMode::Charmlp),
            1 => Some(SplitMode::Python),
            _ => None,
        }
    }
}

/// The learning-rate schedule as stored: `kind` 0 = step (`lr` until `decay_at`, then
/// `lr_after`), 1 = cosine (`lr` down to `lr_after` over the run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleFields {
    /// 0 = step, 1 = cosine.
    pub kind: u8,
    /// The initial rate.
    pub lr: f32,
    /// The rate after the decay, or the final cosine rate.
    pub lr_after: f32,
    /// The decay step (0 for cosine).
    pub decay_at: u64,
}

/// The settings a resumed run must share with the run that wrote the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Total steps of the run.
    pub steps: u64,
    /// Seed of the initialization and the minibatches.
    pub seed: u64,
    /// Seed of the split.
    pub split_seed: u64,
    /// Minibatch size.
    pub batch: u32,
    /// Initialization.
    pub init: Init,
    /// Learning-rate schedule.
    pub schedule: ScheduleFields,
    /// How the items were shuffled.
    pub split_mode: SplitMode,
    /// The kernels' reference arithmetic version.
    pub arithmetic: u8,
    /// CRC-32 of the data file.
    pub data_crc: u32,
    /// Length of the data file in bytes.
    pub data_len: u64,
    /// The kernel path's name (at most 8 ASCII bytes).
    pub kernel: [u8; 8],
}

impl Settings {
    /// The kernel path's name.
    pub fn kernel_name(&self) -> &str {
        let n = self.kernel.iter().position(|&b| b == 0).unwrap_or(8);
        core::str::from_utf8(&self.kernel[..n]).unwrap_or("?")
    }

    /// Packs a kernel path name (truncated to 8 bytes).
    pub fn kernel_field(name: &str) -> [u8; 8] {
        let mut k = [0u8; 8];
        for (d, s) in k.iter_mut().zip(name.bytes()) {
            *d = s;
        }
        k
    }

    /// Every setting that differs from `other`, as `(name, this value, other value)` written
    /// into `out` (returns how many); the kernel path is not compared (see
    /// [`Settings::kernel_name`]).
    pub fn differences(&self, other: &Settings, out: &mut [Difference; 12]) -> usize {
        let mut n = 0;
        let mut push = |name: &'static str, a: Value, b: Value| {
            if a != b && n < out.len() {
                out[n] = Difference {
                    name,
                    checkpoint: a,
                    now: b,
                };
                n += 1;
            }
        };
        push("steps", Value::U(self.steps), Value::U(other.steps));
        push("seed", Value::U(self.seed), Value::U(other.seed));
        push(
            "split seed",
            Value::U(self.split_seed),
            Value::U(other.split_seed),
        );
        push(
            "batch",
            Value::U(u64::from(self.batch)),
            Value::U(u64::from(other.batch)),
        );
        push(
            "init",
            Value::S(self.init.name()),
            Value::S(other.init.name()),
        );
        push(
            "schedule",
            Value::S(schedule_name(self.schedule.kind)),
            Value::S(schedule_name(other.schedule.kind)),
        );
        push(
            "lr",
            Value::F(self.schedule.lr),
            Value::F(other.schedule.lr),
        );
        push(
            "lr after",
            Value::F(self.schedule.lr_after),
            Value::F(other.schedule.lr_after),
        );
        push(
            "lr decay step",
            Value::U(self.schedule.decay_at),
            Value::U(other.schedule.decay_at),
        );
        push(
            "split mode",
            Value::S(self.split_mode.name()),
            Value::S(other.split_mode.name()),
        );
        push(
            "arithmetic version",
            Value::U(u64::from(self.arithmetic)),
            Value::U(u64::from(other.arithmetic)),
        );
        push(
            "data file (length, CRC-32)",
            Value::Data(self.data_len, self.data_crc),
            Value::Data(other.data_len, other.data_crc),
        );
        n
    }
}

const fn schedule_name(kind: u8) -> &'static str {
    match kind {
        0 => "step",
        1 => "cosine",
        _ => "?",
    }
}

/// A setting's value, for [`Difference`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An integer.
    U(u64),
    /// A float (compared bit for bit).
    F(f32),
    /// A name.
    S(&'static str),
    /// A data file's length and CRC-32.
    Data(u64, u32),
}

impl Default for Value {
    fn default() -> Self {
        Value::U(0)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::U(v) => write!(f, "{v}"),
            Value::F(v) => write!(f, "{v}"),
            Value::S(s) => f.write_str(s),
            Value::Data(len, crc) => write!(f, "{len} bytes, CRC-32 {crc:#010x}"),
        }
    }
}

/// One setting that differs between a checkpoint and the run resuming it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Difference {
    /// The setting.
    pub name: &'static str,
    /// Its value in the checkpoint.
    pub checkpoint: Value,
    /// Its value now.
    pub now: Value,
}

/// Why a checkpoint cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Shorter than its header or than its lengths say.
    Truncated {
        /// Bytes it should have.
        expected: u64,
        /// Bytes it has.
        found: usize,
    },
    /// Longer than its lengths say.
    TrailingBytes {
        /// Bytes it should have.
        expected: u64,
        /// Bytes it has.
        found: usize,
    },
    /// Not a charmlp checkpoint.
    BadMagic,
    /// A version this crate does not read (version 1 had no checksum over the header).
    UnsupportedVersion(u16),
    /// The CRC-32 over the file does not match: the file is damaged.
    CrcMismatch {
        /// Stored.
        stored: u32,
        /// Computed.
        computed: u32,
    },
    /// A field holds an impossible value.
    BadField {
        /// Which field.
        field: &'static str,
    },
    /// The history does not have one entry per step.
    HistoryLength {
        /// Steps applied.
        step: u64,
        /// History entries.
        entries: u64,
    },
    /// An embedded weights file is invalid.
    Weights(WeightsError),
}

impl CheckpointError {
    /// A fixed description, without numbers.
    pub const fn as_str(&self) -> &'static str {
        match self {
            CheckpointError::Truncated { .. } => "checkpoint truncated",
            CheckpointError::TrailingBytes { .. } => "checkpoint has trailing bytes",
            CheckpointError::BadMagic => "not a charmlp checkpoint",
            CheckpointError::UnsupportedVersion(_) => "unsupported checkpoint version",
            CheckpointError::CrcMismatch { .. } => "checkpoint damaged (CRC-32 mismatch)",
            CheckpointError::BadField { .. } => "checkpoint field out of range",
            CheckpointError::HistoryLength { .. } => {
                "the checkpoint's loss history does not match its step"
            }
            CheckpointError::Weights(e) => e.as_str(),
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CheckpointError::Truncated { expected, found } => {
                write!(
                    f,
                    "checkpoint truncated: {found} bytes, expected {expected}"
                )
            }
            CheckpointError::TrailingBytes { expected, found } => write!(
                f,
                "checkpoint has trailing bytes: {found} bytes, expected {expected}"
            ),
            CheckpointError::UnsupportedVersion(v) => write!(
                f,
                "unsupported checkpoint version {v} (this build reads {VERSION}; older checkpoints cannot be resumed)"
            ),
            CheckpointError::CrcMismatch { stored, computed } => write!(
                f,
                "checkpoint damaged: CRC-32 {computed:#010x} does not match stored {stored:#010x}"
            ),
            CheckpointError::BadField { field } => {
                write!(f, "checkpoint field {field} holds an impossible value")
            }
            CheckpointError::HistoryLength { step, entries } => write!(
                f,
                "checkpoint at step {step} has {entries} loss-history entries (expected {step})"
            ),
            CheckpointError::Weights(e) => write!(f, "checkpoint weights: {e}"),
            _ => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CheckpointError::Weights(e) => Some(e),
            _ => None,
        }
    }
}

fn u64_at(b: &[u8], r: Range<usize>) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[r]);
    u64::from_le_bytes(w)
}

fn u32_at(b: &[u8], r: Range<usize>) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[r]);
    u32::from_le_bytes(w)
}

fn f32_at(b: &[u8], r: Range<usize>) -> f32 {
    f32::from_bits(u32_at(b, r))
}

/// A parsed, validated checkpoint borrowing its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// Steps applied.
    pub step: u64,
    /// The run's settings.
    pub settings: Settings,
    /// The best-by-dev weights' step and dev loss, if present.
    pub best: Option<(u64, f32)>,
    history: Option<&'a [u8]>,
    weights: WeightsView<'a>,
    best_weights: Option<WeightsView<'a>>,
}

impl<'a> Checkpoint<'a> {
    /// Validates and parses `bytes` (see the module docs for every check).
    ///
    /// # Errors
    /// Each defect is its own [`CheckpointError`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CheckpointError> {
        let found = bytes.len();
        if found < HEADER_LEN + 4 {
            return Err(CheckpointError::Truncated {
                expected: (HEADER_LEN + 4) as u64,
                found,
            });
        }
        if bytes[MAGIC_FIELD] != MAGIC {
            return Err(CheckpointError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(CheckpointError::UnsupportedVersion(version));
        }
        // The CRC first: any damage anywhere is reported as such, before a damaged length
        // field could be taken at its word.
        let stored = u32_at(bytes, found - 4..found);
        let computed = crc32(&bytes[..found - 4]);
        if stored != computed {
            return Err(CheckpointError::CrcMismatch { stored, computed });
        }
        let (n, w, b) = (
            u64_at(bytes, HISTORY_LEN),
            u64_at(bytes, WEIGHTS_LEN),
            u64_at(bytes, BEST_LEN),
        );
        // The total length, in u128 so that no field can overflow it.
        let total = HEADER_LEN as u128 + 4 * u128::from(n) + u128::from(w) + u128::from(b) + 4;
        if total > found as u128 {
            return Err(CheckpointError::Truncated {
                expected: u64::try_from(total).unwrap_or(u64::MAX),
                found,
            });
        }
        if total < found as u128 {
            return Err(CheckpointError::TrailingBytes {
                expected: total as u64,
                found,
            });
        }
        // Every field below is covered by the CRC; these checks catch a writer's bugs and
        // files assembled by hand.
        let bad = |field| Err(CheckpointError::BadField { field });
        let flags = u16::from_le_bytes([bytes[10], bytes[11]]);
        if flags & !(FLAG_HISTORY | FLAG_BEST) != 0 {
            return bad("flags");
        }
        if u32_at(bytes, HEADER_LEN_FIELD) as usize != HEADER_LEN {
            return bad("header length");
        }
        if RESERVED
            .iter()
            .any(|r| bytes[r.clone()].iter().any(|&x| x != 0))
        {
            return bad("reserved");
        }
        let step = u64_at(bytes, STEP);
        let steps = u64_at(bytes, STEPS);
        if step > steps {
            return bad("step (beyond the run's steps)");
        }
        let init = match bytes[INIT] {
            0 => Init::Randn,
            1 => Init::Scaled,
            _ => return bad("init"),
        };
        let kind = bytes[SCHEDULE];
        if kind > 1 {
            return bad("schedule");
        }
        let Some(split_mode) = SplitMode::from_code(bytes[SPLIT_MODE]) else {
            return bad("split mode");
        };
        let batch = u32_at(bytes, BATCH);
        if batch == 0 {
            return bad("batch");
        }
        let mut kernel = [0u8; 8];
        kernel.copy_from_slice(&bytes[KERNEL]);
        if !kernel.iter().all(|c| c.is_ascii_graphic() || *c == 0) {
            return bad("kernel");
        }
        let has_history = flags & FLAG_HISTORY != 0;
        if !has_history && n != 0 {
            return bad("history length (no history flagged)");
        }
        if has_history && n != step {
            return Err(CheckpointError::HistoryLength { step, entries: n });
        }
        let has_best = flags & FLAG_BEST != 0;
        if has_best != (b != 0) {
            return bad("best weights length");
        }
        let best_step = u64_at(bytes, BEST_STEP);
        let best_loss = f32_at(bytes, BEST_LOSS);
        if has_best && (best_step > step || !best_loss.is_finite()) {
            return bad("best step or loss");
        }
        if !has_best && (best_step != 0 || best_loss.to_bits() != 0) {
            return bad("best step or loss (no best weights flagged)");
        }
        let h_end = HEADER_LEN + 4 * n as usize;
        let w_end = h_end + w as usize;
        let weights = WeightsView::parse(&bytes[h_end..w_end]).map_err(CheckpointError::Weights)?;
        let best_weights = if has_best {
            let bw = WeightsView::parse(&bytes[w_end..w_end + b as usize])
                .map_err(CheckpointError::Weights)?;
            if bw.shape() != weights.shape() || bw.vocab_str() != weights.vocab_str() {
                return bad("best weights (another shape or vocabulary)");
            }
            Some(bw)
        } else {
            None
        };
        Ok(Checkpoint {
            step,
            settings: Settings {
                steps,
                seed: u64_at(bytes, SEED),
                split_seed: u64_at(bytes, SPLIT_SEED),
                batch,
                init,
                schedule: ScheduleFields {
                    kind,
                    lr: f32_at(bytes, LR),
                    lr_after: f32_at(bytes, LR_AFTER),
                    decay_at: u64_at(bytes, DECAY_AT),
                },
                split_mode,
                arithmetic: bytes[ARITHMETIC],
                data_crc: u32_at(bytes, DATA_CRC),
                data_len: u64_at(bytes, DATA_LEN),
                kernel,
            },
            best: has_best.then_some((best_step, best_loss)),
            history: has_history.then_some(&bytes[HEADER_LEN..h_end]),
            weights,
            best_weights,
        })
    }

    /// The model's shape.
    pub fn shape(&self) -> Shape {
        self.weights.shape()
    }

    /// The current weights.
    pub const fn weights(&self) -> &WeightsView<'a> {
        &self.weights
    }

    /// The best-by-dev weights, if kept.
    pub const fn best_weights(&self) -> Option<&WeightsView<'a>> {
        self.best_weights.as_ref()
    }

    /// The loss history (one entry per step), if kept.
    pub fn history(&self) -> Option<impl Iterator<Item = f32> + 'a> {
        self.history.map(|h| {
            h.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        })
    }
}

/// What [`to_bytes`] writes.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct Contents<'a> {
    /// Steps applied.
    pub step: u64,
    /// The run's settings.
    pub settings: Settings,
    /// The loss history (one entry per step), if kept.
    pub history: Option<&'a [f32]>,
    /// The current weights file.
    pub weights: &'a [u8],
    /// The best-by-dev weights file with its step and dev loss, if kept.
    pub best: Option<(u64, f32, &'a [u8])>,
}

/// Serializes a checkpoint (see the module docs for the layout).
#[cfg(feature = "std")]
pub fn to_bytes(c: &Contents<'_>) -> std::vec::Vec<u8> {
    let s = &c.settings;
    let hist = c.history.unwrap_or(&[]);
    let best = c.best.map_or(&[][..], |b| b.2);
    let mut out = std::vec![0u8; HEADER_LEN];
    out[MAGIC_FIELD].copy_from_slice(&MAGIC);
    out[VERSION_FIELD].copy_from_slice(&VERSION.to_le_bytes());
    let flags = if c.history.is_some() { FLAG_HISTORY } else { 0 }
        | if c.best.is_some() { FLAG_BEST } else { 0 };
    out[FLAGS].copy_from_slice(&flags.to_le_bytes());
    out[HEADER_LEN_FIELD].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    out[STEP].copy_from_slice(&c.step.to_le_bytes());
    out[STEPS].copy_from_slice(&s.steps.to_le_bytes());
    out[SEED].copy_from_slice(&s.seed.to_le_bytes());
    out[SPLIT_SEED].copy_from_slice(&s.split_seed.to_le_bytes());
    out[BATCH].copy_from_slice(&s.batch.to_le_bytes());
    out[INIT] = match s.init {
        Init::Randn => 0,
        Init::Scaled => 1,
    };
    out[SCHEDULE] = s.schedule.kind;
    out[SPLIT_MODE] = s.split_mode.code();
    out[ARITHMETIC] = s.arithmetic;
    out[LR].copy_from_slice(&s.schedule.lr.to_le_bytes());
    out[LR_AFTER].copy_from_slice(&s.schedule.lr_after.to_le_bytes());
    out[DECAY_AT].copy_from_slice(&s.schedule.decay_at.to_le_bytes());
    out[DATA_CRC].copy_from_slice(&s.data_crc.to_le_bytes());
    out[DATA_LEN].copy_from_slice(&s.data_len.to_le_bytes());
    out[KERNEL].copy_from_slice(&s.kernel);
    if let Some((step, loss, _)) = c.best {
        out[BEST_STEP].copy_from_slice(&step.to_le_bytes());
        out[BEST_LOSS].copy_from_slice(&loss.to_le_bytes());
    }
    out[HISTORY_LEN].copy_from_slice(&(hist.len() as u64).to_le_bytes());
    out[WEIGHTS_LEN].copy_from_slice(&(c.weights.len() as u64).to_le_bytes());
    out[BEST_LEN].copy_from_slice(&(best.len() as u64).to_le_bytes());
    out.reserve(4 * hist.len() + c.weights.len() + best.len() + 4);
    for h in hist {
        out.extend_from_slice(&h.to_le_bytes());
    }
    out.extend_from_slice(c.weights);
    out.extend_from_slice(best);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
