//! The dataset layer: text bytes → checked items → vocabulary → items in split order
//! (`Corpus`), and the vocabulary types (`Vocab`, `VocabView`).
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};

use charmlp::batch::Items;
use charmlp::checkpoint::SplitMode;
use charmlp::data::{Corpus, DataError, LoadOptions};
use charmlp::{Index, Shape, Vocab, VocabBuf, VocabError, VocabView};

fn names_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/names.txt")
}

fn load(bytes: &[u8]) -> Result<Corpus, DataError> {
    Corpus::from_bytes(bytes, None, &LoadOptions::default())
}

/// Every item of the corpus, sorted (the split order is a shuffle).
fn items(c: &Corpus) -> Vec<String> {
    let mut v = c.strings(c.all());
    v.sort();
    v
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Lines

#[test]
fn crlf_lines_lose_their_carriage_return() {
    let c = load(b"anna\r\nbob\r\ncy\r\n").unwrap();
    assert_eq!(items(&c), sorted(&["anna", "bob", "cy"]));
    assert_eq!(c.empty_lines(), 0);
    assert_eq!(c.vocab().symbols(), &['.', 'a', 'b', 'c', 'n', 'o', 'y']);
}

#[test]
fn mixed_line_endings() {
    let c = load(b"a\nb\r\nc\n").unwrap();
    assert_eq!(items(&c), sorted(&["a", "b", "c"]));
}

#[test]
fn leading_bom_is_dropped() {
    let c = load(b"\xEF\xBB\xBFemma\nolivia\n").unwrap();
    assert_eq!(items(&c), sorted(&["emma", "olivia"]));
    assert!(!c.vocab().symbols().contains(&'\u{feff}'));
}

#[test]
fn only_a_leading_bom_is_special() {
    // A BOM that is not at the very start is ordinary text (U+FEFF), kept in its item.
    let c = load(b"a\n\xEF\xBB\xBFb\n").unwrap();
    assert_eq!(items(&c), sorted(&["a", "\u{feff}b"]));
}

#[test]
fn empty_lines_are_skipped_and_counted() {
    let c = load(b"\nanna\n\n\r\nbob\r\n\r\n\ncy\n").unwrap();
    assert_eq!(items(&c), sorted(&["anna", "bob", "cy"]));
    // Line 1 "", line 3 "", line 4 "\r", line 6 "\r", line 7 "".
    assert_eq!(c.empty_lines(), 5);
}

#[test]
fn missing_final_newline_keeps_the_last_item() {
    let c = load(b"anna\nbob").unwrap();
    assert_eq!(items(&c), sorted(&["anna", "bob"]));
    let c = load(b"anna\r\nbob\r").unwrap();
    assert_eq!(items(&c), sorted(&["anna", "bob"]));
    let c = load(b"solo").unwrap();
    assert_eq!(items(&c), sorted(&["solo"]));
}

#[test]
fn final_newline_is_not_an_empty_line() {
    assert_eq!(load(b"a\n").unwrap().empty_lines(), 0);
    assert_eq!(load(b"a\n\n").unwrap().empty_lines(), 1);
    assert_eq!(load(b"a\n\r\n").unwrap().empty_lines(), 1);
}

#[test]
fn non_utf8_names_its_one_based_line() {
    assert_eq!(load(b"\xff\nabc\n"), Err(DataError::NotUtf8 { line: 1 }));
    assert_eq!(
        load(b"abc\nde\xff\nfg\n"),
        Err(DataError::NotUtf8 { line: 2 })
    );
    // Empty lines and a BOM do not shift the count; a truncated multi-byte sequence is caught.
    assert_eq!(
        load(b"\xEF\xBB\xBFa\r\n\r\n\nb\xc3\nc\n"),
        Err(DataError::NotUtf8 { line: 4 })
    );
    // On a last line without a newline.
    assert_eq!(
        load(b"a\nb\nc\xe2\x82"),
        Err(DataError::NotUtf8 { line: 3 })
    );
    // An encoded surrogate (CESU-style) is not UTF-8.
    assert_eq!(
        load(b"ok\n\xed\xa0\x80\n"),
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
        assert_eq!(load(bytes), Err(DataError::Empty), "{bytes:?}");
    }
}

#[test]
fn utf16_is_detected_with_or_without_a_bom() {
    let utf16 = |s: &str, le: bool| -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    };
    for le in [true, false] {
        let body = utf16("emma\nolivia\nava\n", le);
        let bom = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        assert_eq!(load(&[bom, body.clone()].concat()), Err(DataError::Utf16));
        assert_eq!(load(&body), Err(DataError::Utf16), "no BOM, le {le}");
    }
    let msg = DataError::Utf16.to_string();
    assert!(msg.contains("UTF-16"), "{msg}");
}

#[test]
fn control_characters_name_their_line() {
    assert_eq!(
        load(b"anna\nb\x00b\n"),
        Err(DataError::ControlChar { line: 2, ch: '\0' })
    );
    assert_eq!(
        load(b"a\tb\n"),
        Err(DataError::ControlChar { line: 1, ch: '\t' })
    );
    // A carriage return inside a line (not before its newline).
    assert_eq!(
        load(b"ok\nx\ry\n"),
        Err(DataError::ControlChar { line: 2, ch: '\r' })
    );
    let msg = DataError::ControlChar { line: 9, ch: '\0' }.to_string();
    assert!(msg.contains("line 9") && msg.contains("U+0000"), "{msg}");
}

#[test]
fn terminator_inside_an_item_names_its_line() {
    assert_eq!(
        load(b"anna\nj.r.\n"),
        Err(DataError::Terminator { line: 2 })
    );
    assert!(
        DataError::Terminator { line: 2 }
            .to_string()
            .contains("line 2")
    );
    assert_eq!(
        Vocab::<27>::from_text("anna\nj.r.\n"),
        Err(VocabError::ReservedSymbol('.'))
    );
}

#[test]
fn missing_file_and_directory_are_io_errors() {
    let p = std::env::temp_dir().join(format!(
        "charmlp-it-data-missing-{}/none.txt",
        std::process::id()
    ));
    match Corpus::load(&p, None, &LoadOptions::default()) {
        Err(DataError::Io { path, kind, .. }) => {
            assert_eq!(kind, std::io::ErrorKind::NotFound);
            assert!(path.contains("none.txt"), "{path}");
        }
        other => panic!("expected DataError::Io, got {other:?}"),
    }
    let dir = std::env::temp_dir();
    assert!(matches!(
        Corpus::load(&dir, None, &LoadOptions::default()),
        Err(DataError::Io { .. })
    ));
}

#[test]
fn files_over_the_cap_are_refused_before_reading_all_of_them() {
    let opts = LoadOptions {
        max_bytes: 1000,
        ..LoadOptions::default()
    };
    // A regular file: refused by its size.
    let p = std::env::temp_dir().join(format!("charmlp-it-data-big-{}.txt", std::process::id()));
    std::fs::write(&p, "abc\n".repeat(300)).unwrap();
    assert_eq!(
        Corpus::load(&p, None, &opts),
        Err(DataError::TooLarge { limit: 1000 })
    );
    let _ = std::fs::remove_file(&p);
    // An endless stream: /dev/zero is refused at its first NUL byte, not read forever.
    if Path::new("/dev/zero").exists() {
        let r = Corpus::load(Path::new("/dev/zero"), None, &LoadOptions::default());
        assert!(
            matches!(r, Err(DataError::Utf16 | DataError::ControlChar { .. })),
            "{r:?}"
        );
    }
    if Path::new("/dev/urandom").exists() {
        // Random bytes: refused at the cap or as not text, never read without bound.
        let r = Corpus::load(Path::new("/dev/urandom"), None, &opts);
        assert!(r.is_err(), "{r:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

#[test]
fn vocabulary_is_terminator_then_sorted_by_scalar_value() {
    // Code points: B 0x42, Z 0x5A, a 0x61, z 0x7A, é 0xE9, ж 0x436, ё 0x451.
    let text = "zé\nжa\nBё\nZaé\n";
    let want = ['.', 'B', 'Z', 'a', 'z', 'é', 'ж', 'ё'];
    let c = load(text.as_bytes()).unwrap();
    assert_eq!(c.vocab().symbols(), &want);
    let w = Vocab::<16>::from_text(text).unwrap();
    assert_eq!(w.symbols(), &want);
    let v = c.vocab();
    for (i, &s) in want.iter().enumerate() {
        assert_eq!(v.encode(s), Ok(i as Index));
        assert_eq!(v.decode(i as Index), Ok(s));
    }
    assert_eq!(v.encode('q'), Err(VocabError::Unknown('q')));
    assert_eq!(v.decode(8), Err(VocabError::BadIndex(8)));
}

#[test]
fn vocabulary_is_exactly_the_datas_symbols() {
    // A 33-letter alphabet (Russian) gives 34 classes, not a padded capacity.
    let ru = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя";
    assert_eq!(ru.chars().count(), 33);
    let text: String = ru.chars().map(|c| format!("{c}{c}\n")).collect();
    let c = load(text.as_bytes()).unwrap();
    assert_eq!(c.vocab().len(), 34);
    assert_eq!(Shape::new(c.vocab().len(), 3, 10, 200).unwrap().vocab(), 34);
}

#[test]
fn thousands_of_symbols_are_stored_two_bytes_each() {
    // 3 000 distinct CJK characters, three per line.
    let chars: Vec<char> = (0x4E00u32..0x4E00 + 3000)
        .map(|u| char::from_u32(u).unwrap())
        .collect();
    let text: String = chars
        .chunks(3)
        .map(|c| c.iter().collect::<String>() + "\n")
        .collect();
    let c = load(text.as_bytes()).unwrap();
    assert_eq!(c.vocab().len(), 3001);
    assert!(matches!(c.all(), Items::U16(_)));
    assert_eq!(c.all().pairs(), 3000 + 1000);
    assert_eq!(items(&c).len(), 1000);
    // 65 535 symbols plus '.' is the most there can be.
    assert_eq!(Shape::MAX_VOCAB, 65_536);
}

#[test]
fn encoding_with_a_given_vocabulary_names_unknown_characters() {
    let v = VocabBuf::from_symbols(['.', 'a', 'b', 'c']).unwrap();
    let opts = LoadOptions::default();
    let c = Corpus::from_bytes(b"abc\ncab\n", Some(v.view()), &opts).unwrap();
    assert_eq!(c.vocab(), &v);
    assert_eq!(
        Corpus::from_bytes(b"abc\nabd\n", Some(v.view()), &opts),
        Err(DataError::Unknown { line: 2, ch: 'd' })
    );
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
    // Unsorted vocabularies (given by hand) work, with lookups by scan.
    let v = VocabView::new(&['.', 'x', 'b', 'é']).unwrap();
    assert_eq!(v.encode('b'), Ok(2));
    assert_eq!(v.encode('é'), Ok(3));
    assert_eq!(
        VocabView::new(&['.', 'x', 'b', 'x']),
        Err(VocabError::Duplicate('x'))
    );
    assert_eq!(
        VocabView::new(&['.', 'x', '.']),
        Err(VocabError::Duplicate('.'))
    );
}

#[test]
fn too_many_symbols_for_a_fixed_capacity() {
    assert_eq!(
        Vocab::<8>::from_text("abcde\nfghij\nabc\n"),
        Err(VocabError::TooManySymbols {
            needed: 11,
            capacity: 8
        })
    );
    assert_eq!(
        Vocab::<11>::from_text("abcde\nfghij\nabc\n").unwrap().len(),
        11
    );
}

// ---------------------------------------------------------------------------------------------
// Splits

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
        let list = distinct_items(n);
        let c = load(list.join("\n").as_bytes()).unwrap();
        assert_eq!(c.split_items(), [tr, dv, te], "n = {n}");
        let count = |it: Items<'_>| c.strings(it).len();
        assert_eq!(
            (count(c.train()), count(c.dev()), count(c.test())),
            (tr, dv, te)
        );
        // Every item in exactly one split.
        let mut all: Vec<String> = [c.train(), c.dev(), c.test()]
            .into_iter()
            .flat_map(|it| c.strings(it))
            .collect();
        all.sort();
        let mut want = list.clone();
        want.sort();
        assert_eq!(all, want, "n = {n}");
        assert_eq!(
            c.train().pairs() + c.dev().pairs() + c.test().pairs(),
            c.all().pairs()
        );
    }
}

#[test]
fn splits_are_deterministic_per_seed_and_shuffled() {
    let list = distinct_items(200);
    let text = list.join("\n");
    let with = |seed| {
        Corpus::from_bytes(
            text.as_bytes(),
            None,
            &LoadOptions {
                split_seed: seed,
                ..LoadOptions::default()
            },
        )
        .unwrap()
    };
    let (a, b, c) = (with(7), with(7), with(8));
    assert_eq!(a, b);
    assert_ne!(a.strings(a.train()), c.strings(c.train()));
    // It is a shuffle: not the input order.
    assert_ne!(a.strings(a.train()), list[..160].to_vec());
}

#[test]
fn splits_keep_duplicate_items() {
    let list = ["ab", "ab", "ab", "ba", "ba", "a", "b", "aa", "bb", "ab"];
    let c = load(list.join("\n").as_bytes()).unwrap();
    assert_eq!(items(&c), sorted(&list));
}

#[test]
fn python_split_is_the_lectures_random_shuffle() {
    // tests/fixtures/pyrandom: 5 000 words shuffled by CPython 3.11's
    // `random.seed(42); random.shuffle(words)` (make_fixture.py).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyrandom");
    let words = std::fs::read(dir.join("words.txt")).unwrap();
    let expected_text = std::fs::read_to_string(dir.join("words_expected.txt")).unwrap();
    let c = Corpus::from_bytes(
        &words,
        None,
        &LoadOptions {
            split_mode: SplitMode::Python,
            split_seed: 42,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let order: Vec<String> = c.strings(c.all());
    let field = |key: &str| -> Vec<&str> {
        let line = expected_text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} line in the fixture"));
        line.split_whitespace().skip(1).collect()
    };
    assert_eq!(order.len(), field("len")[0].parse::<usize>().unwrap());
    assert_eq!(&order[..20], &field("head")[..]);
    assert_eq!(&order[order.len() - 20..], &field("tail")[..]);
    // FNV-1a 64 over every word followed by a newline, as make_fixture.py computes it.
    let fnv = order.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, w| {
        w.bytes().chain(std::iter::once(b'\n')).fold(h, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    });
    assert_eq!(format!("{fnv:016x}"), field("hash_all")[0]);
    assert_eq!(c.split_items(), [4000, 500, 500]);
}

// ---------------------------------------------------------------------------------------------
// The shipped dataset

#[test]
fn shipped_names_have_their_documented_shape() {
    let c = Corpus::load(&names_path(), None, &LoadOptions::default()).unwrap();
    assert_eq!(c.items(), 32_257);
    assert_eq!(c.empty_lines(), 0);
    assert_eq!(c.vocab().len(), 27);
    let want: Vec<char> = std::iter::once('.').chain('a'..='z').collect();
    assert_eq!(c.vocab().symbols(), &want[..]);
    // ⌊0.8·32257⌋ = 25805, ⌊0.9·32257⌋ = 29031.
    assert_eq!(c.split_items(), [25_805, 3_226, 3_226]);
    let all = items(&c);
    for n in ["emma", "olivia", "ava", "liam", "noah"] {
        assert!(all.binary_search(&n.to_string()).is_ok(), "{n}");
    }
    // Pairs: one per character plus one terminator per item.
    let text = std::fs::read_to_string(names_path()).unwrap();
    let chars: usize = text.lines().map(|s| s.chars().count()).sum();
    assert_eq!(c.all().pairs(), chars + 32_257);
    assert!(matches!(c.all(), Items::U8(_)));
}
