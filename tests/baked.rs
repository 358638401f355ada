//! `include_weights!`: the file's shape becomes a type at compile time, the static is validated
//! and aligned, and it samples the same names as the same file read at run time.

use charmlp::{Kernels, SampleConfig, Sampler, WeightsView, include_weights};

include_weights!(pub CANONICAL: Canonical = "../examples/template/weights.bin");
include_weights!(CHECKED: Checked<27, 3, 10, 200> = "../examples/template/weights.bin");
include_weights!(
    WITH_TABLE: WithTable<27, 3, 10, 200> = "../examples/template/weights.bin",
    table = "../examples/template/weights.table",
);

#[test]
fn the_type_carries_the_files_shape() {
    assert_eq!(
        (
            Canonical::V,
            Canonical::B,
            Canonical::E,
            Canonical::IN,
            Canonical::H
        ),
        (27, 3, 10, 30, 200)
    );
    assert_eq!(Checked::SHAPE, charmlp::Shape::CANONICAL);
    let bytes = include_bytes!("../examples/template/weights.bin");
    assert_eq!(CANONICAL.bytes(), &bytes[..]);
    assert_eq!(CANONICAL.bytes().as_ptr() as usize % 4, 0, "not aligned");
    assert!(CANONICAL.verify().is_ok());
    let w = WeightsView::parse(bytes).unwrap();
    assert_eq!(CANONICAL.crc(), w.crc());
    assert_eq!(
        CANONICAL.vocab().symbols().iter().collect::<String>(),
        w.vocab_str()
    );
    // Zero-copy: the parameters point into the static.
    let p = CANONICAL.params().unwrap();
    let r = CANONICAL.bytes().as_ptr_range();
    assert!(r.contains(&(p.c().as_slice().as_ptr() as *const u8)));
}

#[test]
fn baked_and_parsed_sample_the_same_names() {
    let bytes = include_bytes!("../examples/template/weights.bin").to_vec();
    let w = WeightsView::parse(&bytes).unwrap();
    let mut copy = charmlp::ParamsBuf::zeros(w.shape()).unwrap();
    w.copy_params(&mut copy.view_mut()).unwrap();
    let vocab = charmlp::VocabBuf::from_symbols(w.vocab_str().chars()).unwrap();
    for k in Kernels::all_supported() {
        let mut scratch = Canonical::sample_arrays();
        let mut a = CANONICAL
            .sampler(k, 7, SampleConfig::default(), &mut scratch)
            .unwrap();
        let mut scratch_t = WithTable::sample_arrays();
        let mut t = WITH_TABLE
            .sampler(k, 7, SampleConfig::default(), &mut scratch_t)
            .unwrap();
        let mut b = Sampler::new(
            copy.view(),
            vocab.view(),
            k,
            7,
            SampleConfig::default(),
            charmlp::SampleVecs::new(w.shape()),
        )
        .unwrap();
        for _ in 0..20 {
            let x: charmlp::heapless::String<64> = a.sample_string().unwrap();
            let mut y = String::new();
            b.sample_with(|c| y.push(c)).unwrap();
            assert_eq!(x.as_str(), y);
            let z: charmlp::heapless::String<64> = t.sample_string().unwrap();
            assert_eq!(z.as_str(), y, "with the baked table");
        }
    }
}

#[test]
fn the_baked_table_is_the_files_table() {
    assert!(CANONICAL.table().is_none());
    let t = WITH_TABLE.table().unwrap().unwrap();
    let file = include_bytes!("../examples/template/weights.table");
    let f = charmlp::weights::TableFile::parse(file).unwrap();
    assert_eq!(f.header().weights_crc, WITH_TABLE.crc());
    let mut copy = vec![0.0; t.data().len()];
    f.copy_to(&mut copy).unwrap();
    assert!(
        copy.iter()
            .zip(t.data())
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert_eq!(t.data().as_ptr() as usize % 4, 0, "not aligned");
}

// An int8 file in the same macro: the header's dtype picks `BakedInt8`.
include_weights!(INT8: Int8Model<27, 3, 10, 200> = "../examples/firmware-bench/int8/weights.int8.bin");

#[test]
fn an_int8_file_bakes_and_samples_the_hosts_int8_names() {
    use charmlp::int8::{QuantSampler, QuantVecs, QuantView};
    assert_eq!((Int8Model::V, Int8Model::IN, Int8Model::H), (27, 30, 200));
    let bytes = include_bytes!("../examples/firmware-bench/int8/weights.int8.bin");
    assert_eq!(INT8.bytes(), &bytes[..]);
    let m = QuantView::parse(bytes).unwrap();
    assert_eq!(
        INT8.vocab().symbols().iter().collect::<String>(),
        m.vocab_str()
    );
    let vocab = charmlp::VocabBuf::from_symbols(m.vocab_str().chars()).unwrap();
    for k in Kernels::all_supported() {
        let mut scratch = Int8Model::sample_arrays();
        let mut a = INT8
            .sampler(k, 7, SampleConfig::default(), &mut scratch)
            .unwrap();
        let b = QuantSampler::new(m, vocab.view(), k, 7, SampleConfig::default()).unwrap();
        let mut s = QuantVecs::new(m.shape());
        // Name 3 onward, as `seek_name` promises.
        a.seek_name(3);
        for i in 3..23 {
            let x: charmlp::heapless::String<64> = a.sample_string().unwrap();
            let mut y = String::new();
            b.name(i, &mut s.view(), |c| y.push(c)).unwrap();
            assert_eq!(x.as_str(), y, "name {i} on {}", k.path());
        }
        // A name longer than the string's capacity is an error, not a cut.
        let mut scratch = Int8Model::sample_arrays();
        let mut a = INT8
            .sampler(k, 7, SampleConfig::default(), &mut scratch)
            .unwrap();
        let tiny: Result<charmlp::heapless::String<1>, _> = (0..50)
            .map(|_| a.sample_string::<1>())
            .find(|r| r.is_err())
            .unwrap();
        assert!(matches!(tiny, Err(charmlp::SampleError::BufferFull)));
    }
}

// The int8 table baked at compile time by a `const fn`.
static INT8_TABLE: [i32; Int8Model::TABLE_LEN] = INT8.table();

#[test]
fn the_compile_time_int8_table_is_the_runtime_one_and_samples_the_same_names() {
    use charmlp::int8::{QuantView, compute_table, table_len};
    let m = QuantView::parse(INT8.bytes()).unwrap();
    assert_eq!(Int8Model::TABLE_LEN, table_len(m.shape()));
    let mut t = vec![0; table_len(m.shape())];
    compute_table(&m, &mut t).unwrap();
    assert_eq!(&INT8_TABLE[..], &t[..]);
    // A table of another length is refused, not read past.
    let mut scratch = Int8Model::sample_arrays();
    let short = INT8
        .sampler(Kernels::scalar(), 7, SampleConfig::default(), &mut scratch)
        .unwrap()
        .with_table(&INT8_TABLE[1..]);
    assert!(matches!(short, Err(charmlp::SampleError::TableShape)));
    for k in Kernels::all_supported() {
        let (mut s1, mut s2) = (Int8Model::sample_arrays(), Int8Model::sample_arrays());
        let cfg = SampleConfig::default();
        let mut plain = INT8.sampler(k, 11, cfg, &mut s1).unwrap();
        let mut fast = INT8
            .sampler(k, 11, cfg, &mut s2)
            .unwrap()
            .with_table(&INT8_TABLE)
            .unwrap();
        for i in 0..50 {
            let x: charmlp::heapless::String<64> = plain.sample_string().unwrap();
            let y: charmlp::heapless::String<64> = fast.sample_string().unwrap();
            assert_eq!(x, y, "name {i} on {}", k.path());
        }
    }
}

#[test]
#[should_panic(expected = "an int8 table holds B·V·H values")]
fn an_int8_table_of_another_length_is_refused() {
    // In a `static` initializer this panic is a compile error; at run time, a panic.
    let _ = INT8.table::<16>();
}
