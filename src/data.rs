//! (std) Text → items → vocabulary → contexts/targets → shuffled train/dev/test splits.

use std::string::{String, ToString};
use std::vec::Vec;
use std::{fmt, fs, io, path::Path};

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::VocabError;
use crate::vocab::Vocab;

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
    },
    /// A line is not valid UTF-8.
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// No items: the file is empty or has only blank lines.
    Empty,
    /// The text does not fit the vocabulary (too many symbols, or a reserved one).
    Vocab(VocabError),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, kind } => write!(f, "cannot read {path}: {kind}"),
            DataError::NotUtf8 { line } => write!(f, "line {line} is not valid UTF-8"),
            DataError::Empty => {
                f.write_str("the dataset has no items (empty file or only blank lines)")
            }
            DataError::Vocab(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DataError {}

impl From<VocabError> for DataError {
    fn from(e: VocabError) -> Self {
        DataError::Vocab(e)
    }
}

/// The items of a text file, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    /// Non-empty lines, without line terminators, in file order.
    pub items: Vec<String>,
    /// Empty lines skipped.
    pub empty_lines: usize,
}

impl Corpus {
    /// Parses text bytes: a leading UTF-8 BOM is dropped, lines end at `\n` with an optional
    /// `\r` before it, empty lines are skipped and counted.
    ///
    /// # Errors
    /// [`DataError::NotUtf8`] naming the first bad line, [`DataError::Empty`].
    pub fn parse(bytes: &[u8]) -> Result<Corpus, DataError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut items = Vec::new();
        let mut empty_lines = 0;
        let mut lines = bytes.split(|&b| b == b'\n').enumerate().peekable();
        while let Some((i, line)) = lines.next() {
            // The piece after a final newline is not a line.
            if line.is_empty() && lines.peek().is_none() {
                break;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let text = std::str::from_utf8(line).map_err(|_| DataError::NotUtf8 { line: i + 1 })?;
            if text.is_empty() {
                empty_lines += 1;
            } else {
                items.push(String::from(text));
            }
        }
        if items.is_empty() {
            return Err(DataError::Empty);
        }
        Ok(Corpus { items, empty_lines })
    }

    /// Reads and parses a file.
    ///
    /// # Errors
    /// [`DataError::Io`] and those of [`Corpus::parse`].
    pub fn read(path: &Path) -> Result<Corpus, DataError> {
        let bytes = fs::read(path).map_err(|e| DataError::Io {
            path: path.display().to_string(),
            kind: e.kind(),
        })?;
        Corpus::parse(&bytes)
    }

    /// The number of distinct symbols, the `.` terminator included (the smallest `V` that fits).
    ///
    /// # Errors
    /// [`VocabError::ReservedSymbol`] if an item contains `.`.
    pub fn symbol_count(&self) -> Result<usize, VocabError> {
        Ok(self.symbols()?.len() + 1)
    }

    /// `.` then the sorted distinct characters.
    ///
    /// # Errors
    /// [`VocabError::TooManySymbols`] naming the count and the capacity `V`,
    /// [`VocabError::ReservedSymbol`].
    pub fn vocab<const V: usize>(&self) -> Result<Vocab<V>, VocabError> {
        let set = self.symbols()?;
        if set.len() + 1 > V {
            return Err(VocabError::TooManySymbols {
                needed: set.len() + 1,
                capacity: V,
            });
        }
        Vocab::from_symbols(std::iter::once(crate::vocab::TERMINATOR).chain(set))
    }

    /// The distinct characters of the items, sorted; `.` among them is an error.
    fn symbols(&self) -> Result<std::collections::BTreeSet<char>, VocabError> {
        let mut set = std::collections::BTreeSet::new();
        for c in self.items.iter().flat_map(|s| s.chars()) {
            if c == crate::vocab::TERMINATOR {
                return Err(VocabError::ReservedSymbol(c));
            }
            set.insert(c);
        }
        Ok(set)
    }
}

/// Contexts and targets of one split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<const B: usize> {
    /// The `B` previous symbol indices, `.`-padded at the start of each item.
    pub x: Vec<[u8; B]>,
    /// The next symbol index (`0` = end of item).
    pub y: Vec<u8>,
}

impl<const B: usize> Pairs<B> {
    /// Every (context, next) pair of `items`, makemore's `build_dataset`.
    ///
    /// # Errors
    /// [`VocabError::Unknown`] for a character outside `vocab`.
    pub fn build<const V: usize>(items: &[String], vocab: &Vocab<V>) -> Result<Self, VocabError> {
        let mut p = Pairs {
            x: Vec::new(),
            y: Vec::new(),
        };
        for w in items {
            let mut ctx = [0u8; B];
            for c in w.chars().map(Some).chain(std::iter::once(None)) {
                let ix = match c {
                    Some(c) => vocab.encode(c)?,
                    None => 0,
                };
                p.x.push(ctx);
                p.y.push(ix);
                if B > 0 {
                    ctx.copy_within(1.., 0);
                    ctx[B - 1] = ix;
                }
            }
        }
        Ok(p)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// The lecture's splits: items shuffled with a seed, then 80% / 10% / 10% by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits<const B: usize> {
    /// Training pairs.
    pub train: Pairs<B>,
    /// Development (validation) pairs.
    pub dev: Pairs<B>,
    /// Test pairs.
    pub test: Pairs<B>,
}

impl<const B: usize> Splits<B> {
    /// Shuffles a copy of the items (Fisher–Yates, `Xoshiro256PlusPlus` from `seed`) and cuts
    /// at `⌊0.8n⌋` and `⌊0.9n⌋`, as makemore does.
    ///
    /// # Errors
    /// [`VocabError::Unknown`] for a character outside `vocab`.
    pub fn new<const V: usize>(
        items: &[String],
        vocab: &Vocab<V>,
        seed: u64,
    ) -> Result<Self, VocabError> {
        let mut items = items.to_vec();
        shuffle(&mut items, seed);
        let n = items.len();
        let (n1, n2) = (n * 8 / 10, n * 9 / 10);
        Ok(Splits {
            train: Pairs::build(&items[..n1], vocab)?,
            dev: Pairs::build(&items[n1..n2], vocab)?,
            test: Pairs::build(&items[n2..], vocab)?,
        })
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
