//! Symbol ↔ index, with a fixed capacity `V` (the model's number of classes).
//!
//! Index 0 is always `.`, the start padding and end-of-item marker; the other symbols follow in
//! ascending Unicode scalar order (makemore's `sorted(set(text))`). A vocabulary may hold fewer
//! symbols than `V`: the spare classes are never targets, and the sampler never draws them.

use crate::error::VocabError;

/// The end-of-item marker, always index 0.
pub const TERMINATOR: char = '.';

/// A vocabulary of at most `V` symbols (the terminator included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab<const V: usize> {
    symbols: [char; V],
    len: usize,
}

impl<const V: usize> Vocab<V> {
    /// Builds a vocabulary from symbols in index order; the first must be `.`.
    ///
    /// # Errors
    /// [`VocabError::MissingTerminator`], [`VocabError::Duplicate`],
    /// [`VocabError::TooManySymbols`].
    pub fn from_symbols(symbols: impl IntoIterator<Item = char>) -> Result<Self, VocabError> {
        const {
            assert!(
                V >= 2 && V <= 256,
                "a vocabulary has 2..=256 classes (indices are u8)"
            )
        };
        let mut out = Vocab {
            symbols: ['\0'; V],
            len: 0,
        };
        for c in symbols {
            if out.len == 0 && c != TERMINATOR {
                return Err(VocabError::MissingTerminator);
            }
            if out.symbols[..out.len].contains(&c) {
                return Err(VocabError::Duplicate(c));
            }
            if out.len == V {
                return Err(VocabError::TooManySymbols {
                    needed: out.len + 1,
                    capacity: V,
                });
            }
            out.symbols[out.len] = c;
            out.len += 1;
        }
        if out.len == 0 {
            return Err(VocabError::MissingTerminator);
        }
        Ok(out)
    }

    /// `.` followed by the distinct characters of `text` (other than line breaks), sorted.
    ///
    /// # Errors
    /// [`VocabError::ReservedSymbol`] if the text contains `.`, [`VocabError::TooManySymbols`]
    /// if it has more than `V − 1` distinct characters.
    pub fn from_text(text: &str) -> Result<Self, VocabError> {
        // Distinct symbols, kept sorted; more than 511 can never fit a u8-indexed vocabulary.
        let mut seen: heapless::Vec<char, 512> = heapless::Vec::new();
        for c in text.chars().filter(|&c| c != '\n' && c != '\r') {
            if c == TERMINATOR {
                return Err(VocabError::ReservedSymbol(c));
            }
            if let Err(pos) = seen.binary_search(&c)
                && seen.insert(pos, c).is_err()
            {
                return Err(VocabError::TooManySymbols {
                    needed: seen.len() + 2,
                    capacity: V,
                });
            }
        }
        if seen.len() + 1 > V {
            return Err(VocabError::TooManySymbols {
                needed: seen.len() + 1,
                capacity: V,
            });
        }
        Self::from_symbols(core::iter::once(TERMINATOR).chain(seen.iter().copied()))
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

    /// The index of `c`.
    ///
    /// # Errors
    /// [`VocabError::Unknown`].
    pub fn encode(&self, c: char) -> Result<u8, VocabError> {
        self.symbols()
            .iter()
            .position(|&s| s == c)
            .map(|i| i as u8)
            .ok_or(VocabError::Unknown(c))
    }

    /// The symbol at `i`.
    ///
    /// # Errors
    /// [`VocabError::BadIndex`].
    pub fn decode(&self, i: u8) -> Result<char, VocabError> {
        self.symbols()
            .get(usize::from(i))
            .copied()
            .ok_or(VocabError::BadIndex(usize::from(i)))
    }
}
