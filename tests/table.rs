//! The per-position layer-1 table: computing layer 1 from it gives the same bits as computing
//! it (every kernel path, several shapes), sampling with it draws the same names, and its file
//! round-trips and refuses every damage.
#![cfg(feature = "std")]

use charmlp::forward::{Activations, forward, forward_table};
use charmlp::table::{TableView, compute_table, table_len};
use charmlp::weights::table::{TABLE_HEADER_LEN, TableError, TableFile, table_to_bytes};
use charmlp::weights::{crc32, to_bytes};
use charmlp::{
    Index, Init, Kernels, ParamsBuf, SampleConfig, SampleError, SampleVecs, Sampler, Shape,
    VocabBuf,
};

/// Shapes: the canonical one, odd sizes, the narrowest, a long context, a big vocabulary.
fn shapes() -> Vec<Shape> {
    [
        (27, 3, 10, 200),
        (7, 7, 7, 77),
        (2, 1, 1, 1),
        (5, 16, 3, 19),
        (300, 2, 5, 33),
    ]
    .into_iter()
    .map(|(v, b, e, h)| Shape::new(v, b, e, h).unwrap())
    .collect()
}

fn params(s: Shape, seed: u64) -> ParamsBuf {
    let mut p = ParamsBuf::init(s, seed, Init::Randn).unwrap();
    for t in p.view_mut().tensors_mut() {
        t.iter_mut().for_each(|x| *x *= 0.5);
    }
    p
}

fn table_of(k: Kernels, p: &ParamsBuf) -> Vec<f32> {
    let mut t = vec![f32::NAN; table_len(&p.shape())];
    compute_table(k, &p.view(), &mut t).unwrap();
    t
}

/// A deterministic context of `b` indices below `v`.
fn context(b: usize, v: usize, seed: u64) -> Vec<Index> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..b)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % v as u64) as Index
        })
        .collect()
}

#[test]
fn layer1_from_the_table_is_bit_identical_on_every_path() {
    for s in shapes() {
        let p = params(s, 3);
        let reference = table_of(Kernels::scalar(), &p);
        for k in Kernels::all_supported() {
            let t = table_of(k, &p);
            let same = t
                .iter()
                .zip(&reference)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{:?}: the table differs on path {}", s, k.path());
            let view = TableView::new(s, &t).unwrap();
            for case in 0..20 {
                let ctx = context(s.block(), s.vocab(), case);
                let mut emb = vec![0.0; s.input()];
                let (mut h1, mut l1) = (vec![0.0; s.hidden()], vec![0.0; s.vocab()]);
                forward(
                    k,
                    &p.view(),
                    &ctx,
                    Activations {
                        emb: &mut emb,
                        h: &mut h1,
                        logits: &mut l1,
                    },
                )
                .unwrap();
                let (mut h2, mut l2) = (vec![f32::NAN; s.hidden()], vec![f32::NAN; s.vocab()]);
                forward_table(k, &p.view(), &view, &ctx, &mut h2, &mut l2).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&h1), bits(&h2), "{s:?} {} ctx {ctx:?}: h", k.path());
                assert_eq!(
                    bits(&l1),
                    bits(&l2),
                    "{s:?} {} ctx {ctx:?}: logits",
                    k.path()
                );
            }
        }
    }
}

#[test]
fn sampling_with_the_table_draws_the_same_names() {
    let s = Shape::new(27, 3, 10, 200).unwrap();
    let p = params(s, 11);
    let vocab = VocabBuf::from_symbols(".abcdefghijklmnopqrstuvwxyz".chars()).unwrap();
    let t = table_of(Kernels::best(), &p);
    let view = TableView::new(s, &t).unwrap();
    for k in Kernels::all_supported() {
        let names = |table: Option<TableView<'_>>| -> Vec<String> {
            let mut smp = Sampler::new(
                p.view(),
                vocab.view(),
                k,
                42,
                SampleConfig::default(),
                SampleVecs::new(s),
            )
            .unwrap();
            if let Some(t) = table {
                smp = smp.with_table(t).unwrap();
            }
            (0..50)
                .map(|_| {
                    let mut n = String::new();
                    smp.sample_with(|c| n.push(c)).unwrap();
                    n
                })
                .collect()
        };
        assert_eq!(names(None), names(Some(view)), "path {}", k.path());
    }
}

#[test]
fn a_table_of_another_shape_is_refused() {
    let s = Shape::new(27, 3, 10, 200).unwrap();
    let other = Shape::new(27, 3, 12, 200).unwrap(); // same table length, another E
    let p = params(s, 1);
    let t = vec![0.0; table_len(&other)];
    let vocab = VocabBuf::from_symbols(".abcdefghijklmnopqrstuvwxyz".chars()).unwrap();
    let smp = Sampler::new(
        p.view(),
        vocab.view(),
        Kernels::best(),
        1,
        SampleConfig::default(),
        SampleVecs::new(s),
    )
    .unwrap();
    let err = smp
        .with_table(TableView::new(other, &t).unwrap())
        .err()
        .unwrap();
    assert_eq!(err, SampleError::TableShape);
    assert!(TableView::new(s, &t[1..]).is_err());
}

fn table_file(s: Shape) -> (Vec<u8>, u32, Vec<f32>) {
    let p = params(s, 5);
    let vocab = VocabBuf::from_symbols(
        std::iter::once('.').chain(('a'..='z').chain('A'..='Z').take(s.vocab() - 1)),
    )
    .unwrap();
    let weights = to_bytes(&p.view(), vocab.view());
    let crc = crc32(&weights[..weights.len() - 4]);
    let t = table_of(Kernels::scalar(), &p);
    (table_to_bytes(&TableView::new(s, &t).unwrap(), crc), crc, t)
}

#[test]
fn the_file_round_trips_and_belongs_to_its_weights() {
    let s = Shape::new(27, 3, 10, 20).unwrap();
    let (bytes, crc, t) = table_file(s);
    let f = TableFile::parse(&bytes).unwrap();
    assert_eq!(f.header().shape, s);
    assert_eq!(f.header().weights_crc, crc);
    f.check_pair(&s, crc).unwrap();
    assert_eq!(
        f.check_pair(&s, crc ^ 1),
        Err(TableError::OtherWeights {
            table: crc,
            weights: crc ^ 1
        })
    );
    assert!(
        f.check_pair(&Shape::new(27, 3, 11, 20).unwrap(), crc)
            .is_err()
    );
    let mut copy = vec![0.0; t.len()];
    f.copy_to(&mut copy).unwrap();
    assert!(copy.iter().zip(&t).all(|(a, b)| a.to_bits() == b.to_bits()));
    // Zero-copy needs alignment: a Vec<u8> may or may not be; an aligned copy always works.
    let aligned: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let aligned_bytes: &[u8] = bytemuck::cast_slice(&aligned);
    let view = TableFile::parse(aligned_bytes).unwrap().view().unwrap();
    assert!(
        view.data()
            .iter()
            .zip(&t)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

/// Rewrites the trailing CRC so that only the intended defect remains.
fn fix_crc(b: &mut [u8]) {
    let n = b.len();
    let crc = crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn every_damage_is_refused() {
    let s = Shape::new(5, 2, 3, 4).unwrap();
    let (good, _, _) = table_file(s);
    let n = good.len();

    let mut b = good.clone();
    b[TABLE_HEADER_LEN + 5] ^= 0x10;
    assert_eq!(TableFile::parse(&b).err(), Some(TableError::CrcMismatch));

    assert!(matches!(
        TableFile::parse(&good[..n - 1]),
        Err(TableError::Length { .. })
    ));
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        TableFile::parse(&longer),
        Err(TableError::Length { .. })
    ));
    assert!(matches!(
        TableFile::parse(&good[..10]),
        Err(TableError::Length { .. })
    ));

    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(TableFile::parse(&b).err(), Some(TableError::BadMagic));

    let mut b = good.clone();
    b[8] = 9;
    fix_crc(&mut b);
    assert_eq!(
        TableFile::parse(&b).err(),
        Some(TableError::UnsupportedVersion(9))
    );

    let mut b = good.clone();
    b[12] = 1;
    fix_crc(&mut b);
    assert_eq!(
        TableFile::parse(&b).err(),
        Some(TableError::Arithmetic { file: 1, this: 2 })
    );

    let mut b = good.clone();
    b[36] = 1;
    fix_crc(&mut b);
    assert_eq!(TableFile::parse(&b).err(), Some(TableError::Reserved));

    let mut b = good.clone();
    b[28..32].copy_from_slice(&0u32.to_le_bytes()); // H = 0
    fix_crc(&mut b);
    assert!(matches!(TableFile::parse(&b), Err(TableError::Shape(_))));

    let mut b = good.clone();
    b[TABLE_HEADER_LEN + 4 * 3..TABLE_HEADER_LEN + 4 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(
        TableFile::parse(&b).err(),
        Some(TableError::NonFinite { index: 3 })
    );

    // Every error has a description without formatting code, and a message.
    for e in [
        TableError::BadMagic,
        TableError::CrcMismatch,
        TableError::Misaligned,
        TableError::OtherWeights {
            table: 1,
            weights: 2,
        },
    ] {
        assert!(!e.as_str().is_empty());
        assert!(!e.to_string().is_empty());
    }
}
