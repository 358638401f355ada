//! The dataset layer: text bytes → items (`Corpus`), items → vocabulary (`Vocab`), items →
//! (context, target) pairs (`Pairs`), and the shuffled 80/10/10 item split (`Splits`).
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};

use charmlp::data::{Corpus, DataError, Pairs, Splits};
use charmlp::{Vocab, VocabError};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn names_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/names.txt")
}

// ---------------------------------------------------------------------------------------------
// Corpus

#[test]
fn crlf_lines_lose_their_carriage_return() {
    let c = Corpus::parse(b"anna\r\nbob\r\ncy\r\n").unwrap();
    assert_eq!(c.items, strings(&["anna", "bob", "cy"]));
    assert_eq!(c.empty_lines, 0);
    assert!(c.items.iter().all(|s| !s.contains('\r')));
}

#[test]
fn mixed_line_endings() {
    let c = Corpus::parse(b"a\nb\r\nc\n").unwrap();
    assert_eq!(c.items, strings(&["a", "b", "c"]));
}

#[test]
fn leading_bom_is_dropped() {
    let c = Corpus::parse(b"\xEF\xBB\xBFemma\nolivia\n").unwrap();
    assert_eq!(c.items, strings(&["emma", "olivia"]));
    // The first item must not start with U+FEFF.
    assert!(!c.items[0].starts_with('\u{feff}'));
    assert_eq!(c.items[0].len(), 4);
}

#[test]
fn only_a_leading_bom_is_special() {
    // A BOM that is not at the very start is ordinary text (U+FEFF), kept in its item.
    let c = Corpus::parse(b"a\n\xEF\xBB\xBFb\n").unwrap();
    assert_eq!(c.items, vec!["a".to_string(), "\u{feff}b".to_string()]);
}

#[test]
fn empty_lines_are_skipped_and_counted() {
    let c = Corpus::parse(b"\nanna\n\n\r\nbob\r\n\r\n\ncy\n").unwrap();
    assert_eq!(c.items, strings(&["anna", "bob", "cy"]));
    // Line 1 "", line 3 "", line 4 "\r", line 6 "\r", line 7 "".
    assert_eq!(c.empty_lines, 5);
}

#[test]
fn missing_final_newline_keeps_the_last_item() {
    let c = Corpus::parse(b"anna\nbob").unwrap();
    assert_eq!(c.items, strings(&["anna", "bob"]));
    assert_eq!(c.empty_lines, 0);
    let c = Corpus::parse(b"anna\r\nbob\r").unwrap();
    assert_eq!(c.items, strings(&["anna", "bob"]));
    let c = Corpus::parse(b"solo").unwrap();
    assert_eq!(c.items, strings(&["solo"]));
}

#[test]
fn final_newline_is_not_an_empty_line() {
    // "a\n" has one line; "a\n\n" has two, the second empty.
    assert_eq!(Corpus::parse(b"a\n").unwrap().empty_lines, 0);
    assert_eq!(Corpus::parse(b"a\n\n").unwrap().empty_lines, 1);
    assert_eq!(Corpus::parse(b"a\n\r\n").unwrap().empty_lines, 1);
}

#[test]
fn non_utf8_names_its_one_based_line() {
    assert_eq!(
        Corpus::parse(b"\xff\nabc\n"),
        Err(DataError::NotUtf8 { line: 1 })
    );
    assert_eq!(
        Corpus::parse(b"abc\nde\xff\nfg\n"),
        Err(DataError::NotUtf8 { line: 2 })
    );
    // Empty lines and a BOM do not shift the count; a truncated multi-byte sequence is caught.
    assert_eq!(
        Corpus::parse(b"\xEF\xBB\xBFa\r\n\r\n\nb\xc3\nc\n"),
        Err(DataError::NotUtf8 { line: 4 })
    );
    // On a last line without a newline.
    assert_eq!(
        Corpus::parse(b"a\nb\nc\xe2\x82"),
        Err(DataError::NotUtf8 { line: 3 })
    );
    // An encoded surrogate (CESU-style) is not UTF-8.
    assert_eq!(
        Corpus::parse(b"ok\n\xed\xa0\x80\n"),
        Err(DataError::NotUtf8 { line: 2 })
    );
    let msg = DataError::NotUtf8 { line: 7 }.to_string();
    assert!(msg.contains('7'), "{msg}");
}

#[test]
fn empty_inputs_are_empty_errors() {
    for bytes in [
        &b""[..],
        b"\xEF\xBB\xBF",
        b"\n",
        b"\n\n\n",
        b"\r\n",
        b"\r\n\r\n\n",
        b"\r",
    ] {
        assert_eq!(Corpus::parse(bytes), Err(DataError::Empty), "{bytes:?}");
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let p = std::env::temp_dir().join(format!(
        "charmlp-it-data-missing-{}/none.txt",
        std::process::id()
    ));
    match Corpus::read(&p) {
        Err(DataError::Io { path, kind }) => {
            assert_eq!(kind, std::io::ErrorKind::NotFound);
            assert!(path.contains("none.txt"), "{path}");
        }
        other => panic!("expected DataError::Io, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

#[test]
fn terminator_inside_an_item_is_reserved() {
    let c = Corpus::parse(b"anna\nj.r.\n").unwrap();
    assert_eq!(c.symbol_count(), Err(VocabError::ReservedSymbol('.')));
    assert_eq!(c.vocab::<27>(), Err(VocabError::ReservedSymbol('.')));
    assert_eq!(
        Vocab::<27>::from_text("anna\nj.r.\n"),
        Err(VocabError::ReservedSymbol('.'))
    );
}

#[test]
fn too_many_symbols_names_needed_and_capacity() {
    // 10 distinct letters + '.' = 11 symbols into 8 classes.
    let c = Corpus::parse(b"abcde\nfghij\nabc\n").unwrap();
    assert_eq!(c.symbol_count(), Ok(11));
    let e = c.vocab::<8>().unwrap_err();
    assert_eq!(
        e,
        VocabError::TooManySymbols {
            needed: 11,
            capacity: 8
        }
    );
    let msg = e.to_string();
    assert!(msg.contains("11") && msg.contains('8'), "{msg}");
    assert_eq!(
        Vocab::<8>::from_text("abcde\nfghij\nabc\n"),
        Err(VocabError::TooManySymbols {
            needed: 11,
            capacity: 8
        })
    );
    // Exactly full fits; one fewer class does not.
    assert_eq!(c.vocab::<11>().unwrap().len(), 11);
    assert_eq!(
        c.vocab::<10>(),
        Err(VocabError::TooManySymbols {
            needed: 11,
            capacity: 10
        })
    );
    // Through DataError too.
    let d: DataError = e.into();
    let msg = d.to_string();
    assert!(msg.contains("11") && msg.contains('8'), "{msg}");
}

#[test]
fn too_many_non_ascii_symbols() {
    // 300 distinct Cyrillic/Greek/… code points, none of them '.'.
    let text: String = (0x0400u32..0x0400 + 300)
        .map(|u| char::from_u32(u).unwrap())
        .collect::<Vec<_>>()
        .chunks(7)
        .map(|c| c.iter().collect::<String>() + "\n")
        .collect();
    let c = Corpus::parse(text.as_bytes()).unwrap();
    assert_eq!(c.symbol_count(), Ok(301));
    assert_eq!(
        c.vocab::<256>(),
        Err(VocabError::TooManySymbols {
            needed: 301,
            capacity: 256
        })
    );
    assert_eq!(
        Vocab::<256>::from_text(&text),
        Err(VocabError::TooManySymbols {
            needed: 301,
            capacity: 256
        })
    );
}

#[test]
fn vocabulary_is_terminator_then_sorted_by_scalar_value() {
    // Code points: B 0x42, Z 0x5A, a 0x61, z 0x7A, é 0xE9, ж 0x436, ё 0x451.
    let text = "zé\nжa\nBё\nZaé\n";
    let want = ['.', 'B', 'Z', 'a', 'z', 'é', 'ж', 'ё'];
    let c = Corpus::parse(text.as_bytes()).unwrap();
    let v: Vocab<16> = c.vocab().unwrap();
    assert_eq!(v.symbols(), &want);
    assert_eq!(v.len(), 8);
    let w = Vocab::<16>::from_text(text).unwrap();
    assert_eq!(w.symbols(), &want);
    // Same ordering computed a different way: by u32 value.
    let mut by_u32: Vec<char> = text.chars().filter(|&c| c != '\n').collect();
    by_u32.sort_by_key(|&c| c as u32);
    by_u32.dedup();
    assert_eq!(&v.symbols()[1..], &by_u32[..]);
    for (i, &s) in want.iter().enumerate() {
        assert_eq!(v.encode(s), Ok(i as u8));
        assert_eq!(v.decode(i as u8), Ok(s));
    }
    assert_eq!(v.encode('q'), Err(VocabError::Unknown('q')));
    assert_eq!(v.decode(8), Err(VocabError::BadIndex(8)));
    assert_eq!(v.decode(15), Err(VocabError::BadIndex(15)));
}

#[test]
fn from_symbols_checks() {
    assert_eq!(
        Vocab::<4>::from_symbols(['a', '.']),
        Err(VocabError::MissingTerminator)
    );
    assert_eq!(
        Vocab::<4>::from_symbols([]),
        Err(VocabError::MissingTerminator)
    );
    assert_eq!(
        Vocab::<4>::from_symbols(['.', 'a', 'a']),
        Err(VocabError::Duplicate('a'))
    );
    assert_eq!(
        Vocab::<4>::from_symbols(['.', 'a', 'b', 'c', 'd']),
        Err(VocabError::TooManySymbols {
            needed: 5,
            capacity: 4
        })
    );
    let v = Vocab::<4>::from_symbols(['.', 'x']).unwrap();
    assert_eq!(v.symbols(), &['.', 'x']);
}

// ---------------------------------------------------------------------------------------------
// Pairs

#[test]
fn emma_gives_makemores_five_pairs() {
    let items = strings(&["emma"]);
    let v: Vocab<27> = Vocab::from_text("emma").unwrap();
    // '.'=0, then sorted: a=1, e=2, m=3.
    assert_eq!(v.symbols(), &['.', 'a', 'e', 'm']);
    let p: Pairs<3> = Pairs::build(&items, &v).unwrap();
    // makemore: ... → e, ..e → m, .em → m, emm → a, mma → .
    assert_eq!(
        p.x,
        vec![[0, 0, 0], [0, 0, 2], [0, 2, 3], [2, 3, 3], [3, 3, 1]]
    );
    assert_eq!(p.y, vec![2, 3, 3, 1, 0]);
    assert_eq!(p.len(), 5);
    assert!(!p.is_empty());
}

#[test]
fn pairs_with_the_full_alphabet_and_two_items() {
    let c = Corpus::parse(b"abcdefghijklmnopqrstuvwxyz\nab\n").unwrap();
    let v: Vocab<27> = c.vocab().unwrap();
    let p: Pairs<2> = Pairs::build(&c.items, &v).unwrap();
    // 27 pairs for the first item (26 letters + terminator), 3 for "ab".
    assert_eq!(p.len(), 30);
    // a=1 … z=26; contexts restart with '.' padding at each item.
    assert_eq!(p.x[0], [0, 0]);
    assert_eq!(p.y[0], 1);
    assert_eq!(p.x[26], [25, 26]);
    assert_eq!(p.y[26], 0);
    assert_eq!(p.x[27..], [[0, 0], [0, 1], [1, 2]]);
    assert_eq!(p.y[27..], [1, 2, 0]);
}

#[test]
fn pairs_reject_unknown_characters() {
    let v: Vocab<27> = Vocab::from_text("abc").unwrap();
    assert_eq!(
        Pairs::<3>::build(&strings(&["abd"]), &v),
        Err(VocabError::Unknown('d'))
    );
}

// ---------------------------------------------------------------------------------------------
// Splits

/// Decodes a split back into its items: each item ends at a target of 0.
fn items_of<const B: usize, const V: usize>(p: &Pairs<B>, v: &Vocab<V>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for &y in &p.y {
        if y == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(v.decode(y).unwrap());
        }
    }
    assert!(cur.is_empty(), "a split ends mid-item");
    out
}

fn distinct_items(n: usize) -> Vec<String> {
    // Distinct items over a–j: the base-10 digits of i spelled as letters.
    (0..n)
        .map(|i| {
            format!("{i}")
                .bytes()
                .map(|d| (b'a' + (d - b'0')) as char)
                .collect()
        })
        .collect()
}

#[test]
fn splits_cut_at_80_and_90_percent_of_items() {
    // (n, ⌊0.8n⌋, ⌊0.9n⌋ − ⌊0.8n⌋, n − ⌊0.9n⌋), worked out by hand.
    for (n, tr, dv, te) in [
        (10usize, 8usize, 1usize, 1usize),
        (37, 29, 4, 4),    // 29.6, 33.3
        (99, 79, 10, 10),  // 79.2, 89.1
        (101, 80, 10, 11), // 80.8, 90.9
    ] {
        let items = distinct_items(n);
        let v: Vocab<11> = Vocab::from_text(&items.join("\n")).unwrap();
        let s: Splits<3> = Splits::new(&items, &v, 42).unwrap();
        let count = |p: &Pairs<3>| p.y.iter().filter(|&&y| y == 0).count();
        assert_eq!(
            (count(&s.train), count(&s.dev), count(&s.test)),
            (tr, dv, te),
            "n = {n}"
        );
        // Every item in exactly one split.
        let mut all: Vec<String> = [&s.train, &s.dev, &s.test]
            .iter()
            .flat_map(|p| items_of(p, &v))
            .collect();
        assert_eq!(all.len(), n);
        all.sort();
        let mut want = items.clone();
        want.sort();
        assert_eq!(all, want, "n = {n}");
    }
}

#[test]
fn splits_are_deterministic_per_seed() {
    let items = distinct_items(200);
    let v: Vocab<11> = Vocab::from_text(&items.join("\n")).unwrap();
    let a: Splits<3> = Splits::new(&items, &v, 7).unwrap();
    let b: Splits<3> = Splits::new(&items, &v, 7).unwrap();
    let c: Splits<3> = Splits::new(&items, &v, 8).unwrap();
    assert_eq!(a, b);
    assert_ne!(items_of(&a.train, &v), items_of(&c.train, &v));
    // It is a shuffle: not the input order.
    assert_ne!(items_of(&a.train, &v), items[..160].to_vec());
}

#[test]
fn splits_keep_duplicate_items() {
    let items = strings(&["ab", "ab", "ab", "ba", "ba", "a", "b", "aa", "bb", "ab"]);
    let v: Vocab<3> = Vocab::from_text("ab").unwrap();
    let s: Splits<2> = Splits::new(&items, &v, 1).unwrap();
    let mut all: Vec<String> = [&s.train, &s.dev, &s.test]
        .iter()
        .flat_map(|p| items_of(p, &v))
        .collect();
    all.sort();
    let mut want = items.clone();
    want.sort();
    assert_eq!(all, want);
}

// ---------------------------------------------------------------------------------------------
// The shipped dataset

#[test]
fn shipped_names_have_their_documented_shape() {
    let c = Corpus::read(&names_path()).unwrap();
    assert_eq!(c.items.len(), 32_257);
    assert_eq!(c.empty_lines, 0);
    assert_eq!(c.symbol_count(), Ok(27));
    assert_eq!(&c.items[..3], &strings(&["emma", "olivia", "ava"])[..]);
    // data/README.md: the male block starts at line 18 149 with liam, noah.
    assert_eq!(&c.items[18_148..18_150], &strings(&["liam", "noah"])[..]);
    let v: Vocab<27> = c.vocab().unwrap();
    let want: Vec<char> = std::iter::once('.').chain('a'..='z').collect();
    assert_eq!(v.symbols(), &want[..]);
    let s: Splits<3> = Splits::new(&c.items, &v, 42).unwrap();
    let count = |p: &Pairs<3>| p.y.iter().filter(|&&y| y == 0).count();
    // ⌊0.8·32257⌋ = 25805, ⌊0.9·32257⌋ = 29031.
    assert_eq!(count(&s.train), 25_805);
    assert_eq!(count(&s.dev), 3_226);
    assert_eq!(count(&s.test), 3_226);
    // Pairs: one per character plus one terminator per item.
    let chars: usize = c.items.iter().map(|s| s.chars().count()).sum();
    assert_eq!(s.train.len() + s.dev.len() + s.test.len(), chars + 32_257);
}
