//! Symbol ↔ index.
//!
//! Index 0 is always `.`, the start padding and end-of-item marker; the trainer puts the other
//! symbols in ascending Unicode scalar order (makemore's `sorted(set(text))`). Lookups go through
//! a [`VocabView`] (a validated `&[char]`); the storage is up to the owner: [`Vocab<V>`](Vocab)
//! (a fixed-capacity array, no heap) or `VocabBuf` (feature `std`, any size up to
//! [`crate::Shape::MAX_VOCAB`]).

use charmlp_kernels::Index;

use crate::error::VocabError;
use crate::shape::Shape;

/// The end-of-item marker, always index 0.
pub const TERMINATOR: char = '.';

/// A validated vocabulary: `.` first, no symbol twice, at most [`Shape::MAX_VOCAB`] symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VocabView<'a> {
    symbols: &'a [char],
    /// The symbols after `.` are strictly ascending: lookups use binary search.
    sorted: bool,
}

/// Checks a symbol list; returns whether the symbols after `.` are strictly ascending.
fn validate(symbols: &[char]) -> Result<bool, VocabError> {
    match symbols.first() {
        Some(&TERMINATOR) => {}
        _ => return Err(VocabError::MissingTerminator),
    }
    if symbols.len() > Shape::MAX_VOCAB {
        return Err(VocabError::TooManySymbols {
            needed: symbols.len(),
            capacity: Shape::MAX_VOCAB,
        });
    }
    let rest = &symbols[1..];
    if let Some(&c) = rest.iter().find(|&&c| c == TERMINATOR) {
        return Err(VocabError::Duplicate(c));
    }
    let sorted = rest.windows(2).all(|w| w[0] < w[1]);
    if !sorted {
        // Not sorted (a vocabulary given by hand): the quadratic check, once.
        for (i, &c) in rest.iter().enumerate() {
            if rest[i + 1..].contains(&c) {
                return Err(VocabError::Duplicate(c));
            }
        }
    }
    Ok(sorted)
}

impl<'a> VocabView<'a> {
    /// Validates `symbols` (in index order, `.` first).
    ///
    /// # Errors
    /// [`VocabError::MissingTerminator`], [`VocabError::Duplicate`],
    /// [`VocabError::TooManySymbols`].
    ///
    /// ```
    /// use charmlp::VocabView;
    /// let symbols = ['.', 'a', 'b'];
    /// let v = VocabView::new(&symbols)?;
    /// assert_eq!(v.encode('b')?, 2);
    /// assert_eq!(v.decode(1)?, 'a');
    /// assert!(VocabView::new(&['a', '.']).is_err());
    /// # Ok::<(), charmlp::VocabError>(())
    /// ```
    pub fn new(symbols: &'a [char]) -> Result<Self, VocabError> {
        let sorted = validate(symbols)?;
        Ok(VocabView { symbols, sorted })
    }

    /// A view of symbols known to be valid (decoded from a checked weights file).
    pub(crate) fn trusted(symbols: &'a [char]) -> Self {
        let sorted = symbols
            .get(1..)
            .is_some_and(|s| s.windows(2).all(|w| w[0] < w[1]));
        VocabView { symbols, sorted }
    }

    /// Symbols, the terminator included.
    pub const fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Never true: the terminator is always there.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// The symbols in index order.
    pub const fn symbols(&self) -> &'a [char] {
        self.symbols
    }

    /// The index of `c`.
    ///
    /// # Errors
    /// [`VocabError::Unknown`].
    pub fn encode(&self, c: char) -> Result<Index, VocabError> {
        let at = if c == TERMINATOR {
            Some(0)
        } else if self.sorted {
            self.symbols[1..].binary_search(&c).ok().map(|i| i + 1)
        } else {
            self.symbols.iter().position(|&s| s == c)
        };
        // Fewer than 65 537 symbols (checked when made), so the index fits.
        at.map(|i| i as Index).ok_or(VocabError::Unknown(c))
    }

    /// The symbol at `i`.
    ///
    /// # Errors
    /// [`VocabError::BadIndex`].
    pub fn decode(&self, i: Index) -> Result<char, VocabError> {
        self.symbols
            .get(usize::from(i))
            .copied()
            .ok_or(VocabError::BadIndex(usize::from(i)))
    }
}

/// A vocabulary of at most `V` symbols (the terminator included) in a fixed-size array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab<const V: usize> {
    symbols: [char; V],
    len: usize,
    sorted: bool,
}

impl<const V: usize> Vocab<V> {
    /// Builds a vocabulary from symbols in index order; the first must be `.`.
    ///
    /// # Errors
    /// [`VocabError::MissingTerminator`], [`VocabError::Duplicate`],
    /// [`VocabError::TooManySymbols`].
    pub fn from_symbols(symbols: impl IntoIterator<Item = char>) -> Result<Self, VocabError> {
        let mut out = Vocab {
            symbols: ['\0'; V],
            len: 0,
            sorted: true,
        };
        for c in symbols {
            if out.len == V {
                return Err(VocabError::TooManySymbols {
                    needed: out.len + 1,
                    capacity: V,
                });
            }
            out.symbols[out.len] = c;
            out.len += 1;
        }
        out.sorted = validate(&out.symbols[..out.len])?;
        Ok(out)
    }

    /// `.` followed by the distinct characters of `text` (other than line breaks), sorted.
    ///
    /// # Errors
    /// [`VocabError::ReservedSymbol`] if the text contains `.`, [`VocabError::TooManySymbols`]
    /// if it has more than `V − 1` distinct characters.
    pub fn from_text(text: &str) -> Result<Self, VocabError> {
        let mut out = Vocab {
            symbols: ['\0'; V],
            len: 0,
            sorted: true,
        };
        if V == 0 {
            return Err(VocabError::TooManySymbols {
                needed: 1,
                capacity: 0,
            });
        }
        out.symbols[0] = TERMINATOR;
        out.len = 1;
        let mut distinct = 0usize;
        for c in text.chars().filter(|&c| c != '\n' && c != '\r') {
            if c == TERMINATOR {
                return Err(VocabError::ReservedSymbol(c));
            }
            let set = &out.symbols[1..out.len];
            if let Err(pos) = set.binary_search(&c) {
                distinct += 1;
                if out.len == V {
                    continue; // keep counting, to report how many are needed
                }
                out.symbols.copy_within(1 + pos..out.len, 2 + pos);
                out.symbols[1 + pos] = c;
                out.len += 1;
            }
        }
        if distinct + 1 > V {
            return Err(VocabError::TooManySymbols {
                needed: distinct + 1,
                capacity: V,
            });
        }
        Ok(out)
    }

    /// The validated view.
    pub fn view(&self) -> VocabView<'_> {
        VocabView {
            symbols: &self.symbols[..self.len],
            sorted: self.sorted,
        }
    }

    /// Symbols in use, the terminator included.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Never true: the terminator is always there.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// The symbols in index order.
    pub fn symbols(&self) -> &[char] {
        &self.symbols[..self.len]
    }

    /// The index of `c` (see [`VocabView::encode`]).
    ///
    /// # Errors
    /// [`VocabError::Unknown`].
    pub fn encode(&self, c: char) -> Result<Index, VocabError> {
        self.view().encode(c)
    }

    /// The symbol at `i` (see [`VocabView::decode`]).
    ///
    /// # Errors
    /// [`VocabError::BadIndex`].
    pub fn decode(&self, i: Index) -> Result<char, VocabError> {
        self.view().decode(i)
    }
}

/// A vocabulary of any size (feature `std`).
#[cfg(feature = "std")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabBuf {
    symbols: std::vec::Vec<char>,
    sorted: bool,
}

#[cfg(feature = "std")]
impl VocabBuf {
    /// Builds a vocabulary from symbols in index order; the first must be `.`.
    ///
    /// # Errors
    /// As [`VocabView::new`].
    pub fn from_symbols(symbols: impl IntoIterator<Item = char>) -> Result<Self, VocabError> {
        let symbols: std::vec::Vec<char> = symbols.into_iter().collect();
        let sorted = validate(&symbols)?;
        Ok(VocabBuf { symbols, sorted })
    }

    /// `.` followed by the given distinct symbols in ascending order.
    ///
    /// # Errors
    /// [`VocabError::ReservedSymbol`] if `.` is among them, [`VocabError::TooManySymbols`].
    pub fn from_set(set: &std::collections::BTreeSet<char>) -> Result<Self, VocabError> {
        if set.contains(&TERMINATOR) {
            return Err(VocabError::ReservedSymbol(TERMINATOR));
        }
        Self::from_symbols(core::iter::once(TERMINATOR).chain(set.iter().copied()))
    }

    /// A copy of a view.
    pub fn from_view(v: VocabView<'_>) -> Self {
        VocabBuf {
            symbols: v.symbols.to_vec(),
            sorted: v.sorted,
        }
    }

    /// The validated view.
    pub fn view(&self) -> VocabView<'_> {
        VocabView {
            symbols: &self.symbols,
            sorted: self.sorted,
        }
    }

    /// Symbols, the terminator included.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Never true: the terminator is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The symbols in index order.
    pub fn symbols(&self) -> &[char] {
        &self.symbols
    }

    /// The symbols concatenated, as the weights file stores them.
    pub fn to_text(&self) -> std::string::String {
        self.symbols.iter().collect()
    }

    /// The index of `c` (see [`VocabView::encode`]).
    ///
    /// # Errors
    /// [`VocabError::Unknown`].
    pub fn encode(&self, c: char) -> Result<Index, VocabError> {
        self.view().encode(c)
    }

    /// The symbol at `i` (see [`VocabView::decode`]).
    ///
    /// # Errors
    /// [`VocabError::BadIndex`].
    pub fn decode(&self, i: Index) -> Result<char, VocabError> {
        self.view().decode(i)
    }
}
