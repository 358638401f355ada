//! (std) A text file → items → vocabulary → the 80/10/10 split, stored once as symbol indices.
//!
//! [`Corpus::load`] reads at most a given number of bytes, checks the text line by line, builds
//! the vocabulary (`.` then the sorted distinct characters) or encodes with a given one, shuffles
//! the items and lays them out in split order as the [`Items`] of [`crate::batch`]: one symbol
//! index per character plus a terminator per item (one byte each for up to 256 symbols). The
//! (context, target) pairs are built on the fly from there, so memory stays near the size of the
//! text: the file's bytes, 4 bytes per item and the symbols at the peak, the symbols alone after.
//!
//! What the text must be: UTF-8 (a leading BOM is dropped), one item per line (`\n` or `\r\n`),
//! no control characters and no `.` (the terminator) inside an item. Empty lines are skipped
//! and counted. Each defect is a [`DataError`] naming its 1-based line.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{fmt, format};

use charmlp_kernels::Index;
use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::batch::Items;
use crate::checkpoint::SplitMode;
use crate::pyrandom::PyRandom;
use crate::shape::Shape;
use crate::vocab::{TERMINATOR, VocabBuf, VocabView};
use crate::weights::crc32;

/// The default cap on a data file's size: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// The largest cap: item offsets are stored as `u32`.
pub const MAX_BYTES: u64 = u32::MAX as u64;

/// Why a dataset could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read.
    Io {
        /// The path.
        path: String,
        /// What the OS said.
        kind: io::ErrorKind,
        /// The OS message.
        message: String,
    },
    /// The file is larger than the cap.
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The text is UTF-16 (with or without a byte-order mark), not UTF-8.
    Utf16,
    /// A line is not valid UTF-8.
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// A control character (NUL, tab, …) inside an item.
    ControlChar {
        /// 1-based line number.
        line: usize,
        /// The character.
        ch: char,
    },
    /// `.` is the end-of-item marker and cannot appear inside an item.
    Terminator {
        /// 1-based line number.
        line: usize,
    },
    /// A character outside a given vocabulary.
    Unknown {
        /// 1-based line number.
        line: usize,
        /// The character.
        ch: char,
    },
    /// More distinct symbols than a vocabulary can hold.
    TooManySymbols {
        /// Symbols needed, `.` included.
        needed: usize,
        /// The most there can be.
        max: usize,
    },
    /// No items: the file is empty or has only blank lines.
    Empty,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, message, .. } => write!(f, "cannot read {path}: {message}"),
            DataError::TooLarge { limit } => write!(
                f,
                "the data file is larger than {limit} bytes (raise the limit with --max-data-bytes)"
            ),
            DataError::Utf16 => f.write_str(
                "the data file is UTF-16, not UTF-8 (convert it, e.g. with `iconv -f UTF-16 -t UTF-8`)",
            ),
            DataError::NotUtf8 { line } => write!(f, "line {line} is not valid UTF-8"),
            DataError::ControlChar { line, ch } => write!(
                f,
                "line {line} contains the control character U+{:04X}; items must be plain text",
                u32::from(*ch)
            ),
            DataError::Terminator { line } => write!(
                f,
                "line {line} contains '.', which is reserved as the end-of-item marker"
            ),
            DataError::Unknown { line, ch } => write!(
                f,
                "line {line} contains {ch:?}, which is not in the model's vocabulary"
            ),
            DataError::TooManySymbols { needed, max } => write!(
                f,
                "the text has {needed} distinct symbols (with the '.' terminator); at most {max} are supported"
            ),
            DataError::Empty => {
                f.write_str("the dataset has no items (empty file or only blank lines)")
            }
        }
    }
}

impl std::error::Error for DataError {}

/// How to load a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Refuse files larger than this many bytes.
    pub max_bytes: u64,
    /// How to shuffle the items before the split.
    pub split_mode: SplitMode,
    /// The shuffle's seed.
    pub split_seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            split_mode: SplitMode::Charmlp,
            split_seed: 42,
        }
    }
}

/// Symbol indices in split order (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Store {
    U8(Vec<u8>),
    U16(Vec<Index>),
}

impl Store {
    fn items(&self, r: core::ops::Range<usize>) -> Items<'_> {
        match self {
            Store::U8(s) => Items::U8(&s[r]),
            Store::U16(s) => Items::U16(&s[r]),
        }
    }

    fn len(&self) -> usize {
        match self {
            Store::U8(s) => s.len(),
            Store::U16(s) => s.len(),
        }
    }
}

/// A loaded dataset: its vocabulary and its items in split order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    vocab: VocabBuf,
    store: Store,
    /// Pair positions of train, dev, test.
    splits: [core::ops::Range<usize>; 3],
    split_items: [usize; 3],
    empty_lines: usize,
    file_len: u64,
    file_crc: u32,
}

impl Corpus {
    /// Reads and loads a file (see [`Corpus::from_bytes`]); at most `opts.max_bytes` are read.
    ///
    /// # Errors
    /// [`DataError::Io`], [`DataError::TooLarge`], and those of [`Corpus::from_bytes`].
    pub fn load(
        path: &Path,
        vocab: Option<VocabView<'_>>,
        opts: &LoadOptions,
    ) -> Result<Corpus, DataError> {
        let bytes = read_capped(path, opts.max_bytes.min(MAX_BYTES))?;
        Corpus::from_bytes(&bytes, vocab, opts)
    }

    /// Loads text bytes: checks every line, builds the vocabulary from the text (or encodes with
    /// `vocab`), shuffles the items per `opts` and cuts them at `⌊0.8n⌋` and `⌊0.9n⌋`, as
    /// makemore does.
    ///
    /// ```
    /// use charmlp::data::{Corpus, DataError, LoadOptions};
    /// let text = "\u{feff}anna\r\nbob\n\ncarl\ndora\neve\nfred\ngus\nhal\nivy\njo\n";
    /// let c = Corpus::from_bytes(text.as_bytes(), None, &LoadOptions::default())?;
    /// assert_eq!(c.vocab().view().symbols()[0], '.'); // the end marker is symbol 0
    /// assert_eq!(c.items(), 10);
    /// assert_eq!(c.split_items(), [8, 1, 1]); // ⌊0.8n⌋, ⌊0.9n⌋
    /// assert_eq!(c.empty_lines(), 1);
    /// let bad = Corpus::from_bytes(b"anna\nbo.b\n", None, &LoadOptions::default());
    /// assert!(matches!(bad, Err(DataError::Terminator { line: 2, .. })));
    /// # Ok::<(), DataError>(())
    /// ```
    ///
    /// # Errors
    /// Each defect of the text is a [`DataError`] naming its line; [`DataError::Empty`] for no
    /// items; [`DataError::TooLarge`] for more than [`MAX_BYTES`].
    pub fn from_bytes(
        bytes: &[u8],
        vocab: Option<VocabView<'_>>,
        opts: &LoadOptions,
    ) -> Result<Corpus, DataError> {
        if bytes.len() as u64 > MAX_BYTES {
            return Err(DataError::TooLarge { limit: MAX_BYTES });
        }
        let file_crc = crc32(bytes);
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let base = bytes.len() - text.len();
        if looks_utf16(text) {
            return Err(DataError::Utf16);
        }
        // Pass 1: check every line, find the items and the symbols.
        let mut starts: Vec<u32> = Vec::new();
        let mut set = BTreeSet::new();
        let mut empty_lines = 0;
        let mut chars = 0usize;
        for (i, line) in lines(text) {
            let s = check_line(line, i + 1)?;
            if s.is_empty() {
                empty_lines += 1;
                continue;
            }
            for c in s.chars() {
                chars += 1;
                match vocab {
                    Some(v) => {
                        v.encode(c)
                            .map_err(|_| DataError::Unknown { line: i + 1, ch: c })?;
                    }
                    None => {
                        set.insert(c);
                    }
                }
            }
            let at = line.as_ptr() as usize - text.as_ptr() as usize + base;
            starts.push(at as u32);
        }
        if starts.is_empty() {
            return Err(DataError::Empty);
        }
        let vocab = match vocab {
            Some(v) => VocabBuf::from_view(v),
            None => {
                if set.len() + 1 > Shape::MAX_VOCAB {
                    return Err(DataError::TooManySymbols {
                        needed: set.len() + 1,
                        max: Shape::MAX_VOCAB,
                    });
                }
                // No '.' in the set (checked per line), so this cannot fail.
                VocabBuf::from_set(&set).map_err(|_| DataError::Terminator { line: 0 })?
            }
        };
        // Shuffle the items (their start offsets) and lay them out in that order.
        shuffle_items(&mut starts, opts);
        let n = starts.len();
        let cuts = [n * 8 / 10, n * 9 / 10];
        let total = chars + n;
        let v = vocab.view();
        let mut positions = [0usize; 2];
        let store = if vocab.len() <= 256 {
            let mut out = Vec::with_capacity(total);
            encode_items(bytes, &starts, cuts, &mut positions, |c| {
                // The index fits a byte (≤ 256 symbols) and exists (checked in pass 1).
                out.push(v.encode(c).unwrap_or(0) as u8);
            });
            Store::U8(out)
        } else {
            let mut out = Vec::with_capacity(total);
            encode_items(bytes, &starts, cuts, &mut positions, |c| {
                out.push(v.encode(c).unwrap_or(0));
            });
            Store::U16(out)
        };
        let end = store.len();
        Ok(Corpus {
            vocab,
            store,
            splits: [
                0..positions[0],
                positions[0]..positions[1],
                positions[1]..end,
            ],
            split_items: [cuts[0], cuts[1] - cuts[0], n - cuts[1]],
            empty_lines,
            file_len: bytes.len() as u64,
            file_crc,
        })
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &VocabBuf {
        &self.vocab
    }

    /// The training split.
    pub fn train(&self) -> Items<'_> {
        self.store.items(self.splits[0].clone())
    }

    /// The development (validation) split.
    pub fn dev(&self) -> Items<'_> {
        self.store.items(self.splits[1].clone())
    }

    /// The test split.
    pub fn test(&self) -> Items<'_> {
        self.store.items(self.splits[2].clone())
    }

    /// Every item (in split order).
    pub fn all(&self) -> Items<'_> {
        self.store.items(0..self.store.len())
    }

    /// Items in train, dev, test.
    pub fn split_items(&self) -> [usize; 3] {
        self.split_items
    }

    /// Items in the file.
    pub fn items(&self) -> usize {
        self.split_items.iter().sum()
    }

    /// Empty lines skipped.
    pub fn empty_lines(&self) -> usize {
        self.empty_lines
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The CRC-32 of the file's bytes.
    pub fn file_crc(&self) -> u32 {
        self.file_crc
    }

    /// The items of a split as strings (for tests and for tagging samples).
    pub fn strings(&self, items: Items<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        for i in 0..items.pairs() {
            let mut none = [0; 0];
            let s = items.pair(i, &mut none);
            if s == 0 {
                out.push(core::mem::take(&mut cur));
            } else {
                cur.push(self.vocab.decode(s).unwrap_or('?'));
            }
        }
        out
    }
}

/// Reads `path`, refusing more than `max` bytes: a regular file is checked by its size before
/// reading; anything else (a pipe, `/dev/zero`) is read in chunks and refused at the cap, or at
/// the first NUL byte, whichever comes first.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, DataError> {
    let io = |e: io::Error| DataError::Io {
        path: path.display().to_string(),
        kind: e.kind(),
        message: e.to_string(),
    };
    let mut f = File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(DataError::Io {
            path: path.display().to_string(),
            kind: io::ErrorKind::InvalidInput,
            message: "is a directory".into(),
        });
    }
    if meta.is_file() && meta.len() > max {
        return Err(DataError::TooLarge { limit: max });
    }
    let mut out = Vec::new();
    let mut chunk = std::vec![0u8; 1 << 16];
    loop {
        let n = match f.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if (out.len() + n) as u64 > max {
            return Err(DataError::TooLarge { limit: max });
        }
        out.extend_from_slice(&chunk[..n]);
        // A NUL byte means binary or UTF-16: stop reading (the checks below name it).
        if chunk[..n].contains(&0) {
            break;
        }
    }
    Ok(out)
}

/// UTF-16 by its byte-order mark, or by NUL bytes in every other position of the first line.
fn looks_utf16(text: &[u8]) -> bool {
    if text.starts_with(b"\xFF\xFE") || text.starts_with(b"\xFE\xFF") {
        return true;
    }
    let head = &text[..text.len().min(256)];
    if head.len() < 4 {
        return false;
    }
    let nul_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|(i, b)| i % 2 == parity && **b == 0)
            .count()
    };
    let half = head.len() / 2;
    nul_at(0) * 4 >= half * 3 || nul_at(1) * 4 >= half * 3
}

/// The lines of `text` with their 0-based numbers: split at `\n`, a trailing `\r` removed; the
/// piece after a final newline is not a line.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut it = text.split(|&b| b == b'\n').enumerate().peekable();
    core::iter::from_fn(move || {
        let (i, line) = it.next()?;
        if line.is_empty() && it.peek().is_none() {
            return None;
        }
        Some((i, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

/// Checks one line (1-based number `line`) and returns it as text.
fn check_line(line: &[u8], n: usize) -> Result<&str, DataError> {
    let s = std::str::from_utf8(line).map_err(|_| DataError::NotUtf8 { line: n })?;
    for c in s.chars() {
        if c == TERMINATOR {
            return Err(DataError::Terminator { line: n });
        }
        if c.is_control() {
            return Err(DataError::ControlChar { line: n, ch: c });
        }
    }
    Ok(s)
}

/// Shuffles item start offsets as `opts` says (the same permutation as shuffling the items).
fn shuffle_items(starts: &mut [u32], opts: &LoadOptions) {
    match opts.split_mode {
        SplitMode::Python => PyRandom::from_seed_u64(opts.split_seed).shuffle(starts),
        _ => shuffle(starts, opts.split_seed),
    }
}

/// Fisher–Yates shuffle driven by `Xoshiro256PlusPlus::seed_from_u64(seed)`.
pub fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for i in (1..v.len()).rev() {
        let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
        v.swap(i, j);
    }
}

/// Feeds the characters of each item (starting at `starts`, in that order) to `push`, `0` after
/// each item; records in `positions` where items `cuts[0]` and `cuts[1]` start.
fn encode_items(
    bytes: &[u8],
    starts: &[u32],
    cuts: [usize; 2],
    positions: &mut [usize; 2],
    mut push: impl FnMut(char),
) {
    let mut at = 0usize;
    let mut terminators = 0usize;
    for (k, &s) in starts.iter().enumerate() {
        for (c, cut) in cuts.iter().enumerate() {
            if k == *cut {
                positions[c] = at;
            }
        }
        let rest = &bytes[s as usize..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        // Checked in pass 1.
        let text = std::str::from_utf8(line).unwrap_or("");
        for c in text.chars() {
            push(c);
            at += 1;
        }
        push_terminator(&mut push);
        terminators += 1;
        at += 1;
    }
    for (c, cut) in cuts.iter().enumerate() {
        if *cut >= starts.len() {
            positions[c] = at;
        }
    }
    debug_assert_eq!(terminators, starts.len());
}

/// The terminator through the same `push` as the symbols: `.` encodes to 0.
fn push_terminator(push: &mut impl FnMut(char)) {
    push(TERMINATOR);
}

/// A readable label for the byte size `n`.
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{n} bytes")
    }
}
