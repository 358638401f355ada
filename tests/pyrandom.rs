//! Compare `PyRandom` against fixtures produced by real CPython
//! (`python3 make_fixture.py`).

use charmlp::pyrandom::PyRandom;

const RANDOM_TXT: &str = include_str!("fixtures/pyrandom/random.txt");
const WORDS_TXT: &str = include_str!("fixtures/pyrandom/words.txt");
const WORDS_EXPECTED_TXT: &str = include_str!("fixtures/pyrandom/words_expected.txt");

fn fnv1a64(data: &[u8], mut h: u64) -> u64 {
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn hash_ints(xs: &[u64]) -> u64 {
    xs.iter()
        .fold(FNV_OFFSET, |h, x| fnv1a64(&x.to_le_bytes(), h))
}

fn hash_words(ws: &[&str]) -> u64 {
    ws.iter()
        .fold(FNV_OFFSET, |h, w| fnv1a64(b"\n", fnv1a64(w.as_bytes(), h)))
}

fn seeded(seed: i128) -> PyRandom {
    if seed < 0 {
        PyRandom::from_seed_i64(i64::try_from(seed).unwrap())
    } else {
        PyRandom::from_seed_u64(u64::try_from(seed).unwrap())
    }
}

fn nums(fields: &[&str]) -> Vec<u64> {
    fields.iter().map(|s| s.parse().unwrap()).collect()
}

fn fbits(x: f64) -> String {
    format!("{:016x}", x.to_bits())
}

/// Shuffle `0..n` and return the result as u64s.
fn shuffled(rng: &mut PyRandom, n: usize) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n as u64).collect();
    rng.shuffle(&mut v);
    v
}

#[test]
fn random_txt_matches_cpython() {
    let mut seed: Option<i128> = None;
    let mut checked = 0usize;
    for (lineno, line) in RANDOM_TXT.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let ctx = || {
            format!(
                "line {}: seed {:?}: {}",
                lineno + 1,
                seed,
                &f[..f.len().min(3)].join(" ")
            )
        };
        if f[0] == "seed" {
            seed = Some(f[1].parse().unwrap());
            continue;
        }
        let s = seed.expect("record before seed");
        let mut r = seeded(s);
        match f[0] {
            "getrandbits" => {
                let k: u32 = f[1].parse().unwrap();
                let want = nums(&f[2..]);
                let got: Vec<u64> = want.iter().map(|_| r.getrandbits(k)).collect();
                assert_eq!(got, want, "{}", ctx());
                if k == 32 {
                    let mut r2 = seeded(s);
                    let got2: Vec<u64> = want.iter().map(|_| u64::from(r2.next_u32())).collect();
                    assert_eq!(got2, want, "next_u32 {}", ctx());
                }
            }
            "state" => {
                let (mt, index) = r.state();
                let words: Vec<u64> = mt.iter().map(|&w| u64::from(w)).collect();
                assert_eq!(
                    hash_ints(&words),
                    u64::from_str_radix(f[1], 16).unwrap(),
                    "{}",
                    ctx()
                );
                assert_eq!(index.to_string(), f[2], "{}", ctx());
                assert_eq!(mt[0].to_string(), f[3], "{}", ctx());
            }
            "random" => {
                let got: Vec<String> = f[1..].iter().map(|_| fbits(r.random())).collect();
                assert_eq!(got, f[1..], "{}", ctx());
            }
            "randrange" => {
                let n: u64 = f[1].parse().unwrap();
                let want = nums(&f[2..]);
                let got: Vec<u64> = want.iter().map(|_| r.randrange(n).unwrap()).collect();
                assert_eq!(got, want, "{}", ctx());
                let mut r2 = seeded(s);
                let got2: Vec<u64> = want.iter().map(|_| r2.randbelow(n)).collect();
                assert_eq!(got2, want, "randbelow {}", ctx());
            }
            "u32at" => {
                let at: usize = f[1].parse().unwrap();
                let want = nums(&f[2..]);
                for _ in 0..at {
                    r.next_u32();
                }
                let got: Vec<u64> = want.iter().map(|_| u64::from(r.next_u32())).collect();
                assert_eq!(got, want, "{}", ctx());
            }
            "u64misaligned" => {
                let at: usize = f[1].parse().unwrap();
                let want = nums(&f[2..]);
                r.getrandbits(32);
                for _ in 0..at {
                    r.getrandbits(64);
                }
                let got: Vec<u64> = want.iter().map(|_| r.getrandbits(64)).collect();
                assert_eq!(got, want, "{}", ctx());
            }
            "mixed" => {
                let mut got: Vec<String> = Vec::new();
                for _ in 0..(f.len() - 1) / 6 {
                    got.push(r.getrandbits(32).to_string());
                    got.push(r.getrandbits(64).to_string());
                    got.push(r.getrandbits(40).to_string());
                    got.push(fbits(r.random()));
                    got.push(r.randrange(1000).unwrap().to_string());
                    got.push(r.randrange((1 << 33) + 7).unwrap().to_string());
                }
                assert_eq!(got, f[1..], "{}", ctx());
            }
            "shuffle" => {
                // shuffle N HASH head H... tail T...
                let n: usize = f[1].parse().unwrap();
                let want_hash = u64::from_str_radix(f[2], 16).unwrap();
                assert_eq!(f[3], "head");
                let tail_pos = f.iter().position(|&x| x == "tail").unwrap();
                let parse_part = |p: &[&str]| if p == ["-"] { Vec::new() } else { nums(p) };
                let head = parse_part(&f[4..tail_pos]);
                let tail = parse_part(&f[tail_pos + 1..]);
                let v = shuffled(&mut r, n);
                assert_eq!(v[..head.len()], head[..], "head {}", ctx());
                assert_eq!(v[v.len() - tail.len()..], tail[..], "tail {}", ctx());
                assert_eq!(hash_ints(&v), want_hash, "hash {}", ctx());
                // It must be a permutation.
                let mut sorted = v.clone();
                sorted.sort_unstable();
                assert!(sorted.iter().copied().eq(0..n as u64), "{}", ctx());
            }
            "after_shuffle1000" => {
                let want = nums(&f[1..]);
                shuffled(&mut r, 1000);
                let got: Vec<u64> = want.iter().map(|_| r.getrandbits(32)).collect();
                assert_eq!(got, want, "{}", ctx());
            }
            other => panic!("unknown record {other:?} at line {}", lineno + 1),
        }
        checked += 1;
    }
    // 9 seeds x (1 state + 8 getrandbits + 1 random + 17 randrange + 2 u32at
    //            + 1 u64 + 1 mixed + 7 shuffle + 1 after) = 9 x 39
    assert_eq!(checked, 9 * 39, "fixture shape changed; update this count");
}

fn expected_field<'a>(name: &str) -> Vec<&'a str> {
    WORDS_EXPECTED_TXT
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .unwrap_or_else(|| panic!("missing {name} in words_expected.txt"))[1..]
        .to_vec()
}

fn expected_hex(name: &str) -> u64 {
    u64::from_str_radix(expected_field(name)[0], 16).unwrap()
}

fn expected_usize(name: &str) -> usize {
    expected_field(name)[0].parse().unwrap()
}

/// The lecture, end to end:
/// `words = open('names.txt').read().splitlines(); random.seed(42);
/// random.shuffle(words); n1 = int(0.8*len(words)); n2 = int(0.9*len(words))`.
#[test]
fn lecture_split_end_to_end() {
    let mut words: Vec<&str> = WORDS_TXT.lines().collect();
    assert_eq!(words.len(), 5000);
    assert_eq!(words.len(), expected_usize("len"));

    let mut rng = PyRandom::from_seed_u64(42);
    rng.shuffle(&mut words);

    // Python's int() truncates toward zero, like `as usize` on a positive f64.
    let n1 = (0.8 * words.len() as f64) as usize;
    let n2 = (0.9 * words.len() as f64) as usize;
    assert_eq!(n1, expected_usize("n1"));
    assert_eq!(n2, expected_usize("n2"));

    assert_eq!(words[..20], expected_field("head")[..]);
    assert_eq!(words[words.len() - 20..], expected_field("tail")[..]);
    assert_eq!(hash_words(&words), expected_hex("hash_all"));
    assert_eq!(hash_words(&words[..n1]), expected_hex("hash_train"));
    assert_eq!(hash_words(&words[n1..n2]), expected_hex("hash_dev"));
    assert_eq!(hash_words(&words[n2..]), expected_hex("hash_test"));
}

#[test]
fn hash_helpers_match_python_definition() {
    // Python: fnv1a64(b"") == 0xcbf29ce484222325, fnv1a64(b"a") == 0xaf63dc4c8601ec8c
    assert_eq!(fnv1a64(b"", FNV_OFFSET), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a", FNV_OFFSET), 0xaf63_dc4c_8601_ec8c);
}

/// Optional: `PYRANDOM_NAMES=/path/to/names.txt cargo test` compares the full
/// shuffled order of that file against `python3` run live (skipped if unset).
#[test]
fn names_file_from_env_against_live_python() {
    let Ok(path) = std::env::var("PYRANDOM_NAMES") else {
        eprintln!("PYRANDOM_NAMES not set; skipping");
        return;
    };
    let script = "import random,sys\n\
                  words = open(sys.argv[1], encoding='utf-8').read().splitlines()\n\
                  random.seed(42)\n\
                  random.shuffle(words)\n\
                  sys.stdout.write(''.join(w + '\\n' for w in words))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &path])
        .output()
        .expect("running python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = String::from_utf8(out.stdout).unwrap();
    let want: Vec<&str> = want.lines().collect();

    let text = std::fs::read_to_string(&path).unwrap();
    // Python's str.splitlines() also splits on \r, \x0b, \x0c, \x1c-\x1e,
    // \x85, \u2028, \u2029; Rust's lines() only on \n and \r\n. Fine for a
    // plain one-name-per-line file, which is what this test is for.
    let mut words: Vec<&str> = text.lines().collect();
    PyRandom::from_seed_u64(42).shuffle(&mut words);
    assert_eq!(words.len(), want.len());
    assert!(words == want, "order differs from CPython");
    eprintln!("{path}: {} words, identical order", words.len());
}
