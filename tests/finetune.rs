//! Fine-tuning (`charmlp::finetune`), the pieces a device needs for it without a heap —
//! `encode_lines`, `file_crc` — and the lean workspace it runs on.
#![cfg(feature = "std")]

use charmlp::batch::{Items, encode_lines};
use charmlp::finetune::{FineTune, fine_tune};
use charmlp::sample::{SampleArrays, SampleVecs};
use charmlp::weights::{file_crc, to_bytes};
use charmlp::{
    Index, Init, Kernels, LeanWorkspace, Params, ParamsBuf, Shape, VocabBuf, VocabError,
    WeightsView, WorkspaceBuf,
};

#[test]
fn file_crc_is_the_written_files_crc() {
    for (syms, (b, e, h)) in [
        (".abcdefghijklmnopqrstuvwxyz", (3, 10, 200)),
        (".é€😀", (2, 3, 5)),
        (".a", (1, 1, 1)),
        (".ab", (4, 2, 7)),
    ] {
        let v = VocabBuf::from_symbols(syms.chars()).unwrap();
        let s = Shape::new(v.len(), b, e, h).unwrap();
        let p = ParamsBuf::init(s, 3, Init::Randn).unwrap();
        let file = to_bytes(&p.view(), v.view());
        let stored = u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap());
        assert_eq!(file_crc(&p.view(), v.view()), stored, "{syms}");
        WeightsView::parse(&file).unwrap();
    }
}

#[test]
fn lines_encode_as_items_in_file_order() {
    let v = VocabBuf::from_symbols(".abz".chars()).unwrap();
    let mut out = [9u8; 16];
    let n = encode_lines("za\r\n\nb\nab", v.view(), &mut out).unwrap();
    assert_eq!(&out[..n], &[3, 1, 0, 2, 0, 1, 2, 0]);
    assert_eq!(
        encode_lines("zq\n", v.view(), &mut out),
        Err(VocabError::Unknown('q'))
    );
    assert_eq!(
        encode_lines("z.a\n", v.view(), &mut out),
        Err(VocabError::Unknown('.'))
    );
    assert!(matches!(
        encode_lines("zzzz\nzzzz\n", v.view(), &mut out[..5]),
        Err(VocabError::TooManySymbols { .. })
    ));
}

/// The scenario at a small scale: the list's loss falls, the samples move toward it, the
/// report has its lines, and the CRC is the one of the file the result would be — the same
/// with the lean const-generic workspace (firmware) as with the run-time one (host).
#[test]
fn fine_tuning_moves_the_model_toward_the_list() {
    type P = Params<5, 2, 3, 6, 16>;
    let v = VocabBuf::from_symbols(".abcd".chars()).unwrap();
    let list = "dab\ndcc\ndabba\ndd\ndca\ndbc\n";
    let mut buf = [0u8; 64];
    let n = encode_lines(list, v.view(), &mut buf).unwrap();
    let items = Items::U8(&buf[..n]);
    let mut cfg = FineTune::new(150, 0.2, 1, 'd');
    cfg.samples = 100;
    cfg.report_every = 50;
    // Host: the run-time owners.
    let mut p = ParamsBuf::init(P::SHAPE, 5, Init::Scaled).unwrap();
    let mut ws = WorkspaceBuf::new(Kernels::best(), P::SHAPE, 8).unwrap();
    let (mut ctx, mut tgt) = (vec![0 as Index; 16], vec![0 as Index; 8]);
    let mut scratch = SampleVecs::new(P::SHAPE);
    let mut report = String::new();
    let o = fine_tune(
        &mut ws.view(),
        &mut p.view_mut(),
        v.view(),
        items,
        &cfg,
        &mut ctx,
        &mut tgt,
        &mut scratch,
        |a| report += &a.to_string(),
    )
    .unwrap();
    assert!(o.loss_after < o.loss_before - 0.3, "{o:?}");
    assert!(o.share_after > o.share_before + 30, "{o:?}");
    let file = to_bytes(&p.view(), v.view());
    assert_eq!(
        o.crc,
        u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap())
    );
    assert_eq!(report.lines().filter(|l| l.starts_with("step ")).count(), 3);
    assert!(report.contains(&format!("weights file CRC-32: {:08x}", o.crc)));
    // Device: the const-generic lean workspace and arrays; the same report.
    let mut q: Box<P> = Box::new(P::zeros());
    q.view_mut()
        .copy_from(&ParamsBuf::init(P::SHAPE, 5, Init::Scaled).unwrap().view())
        .unwrap();
    let mut lean: Box<LeanWorkspace<5, 2, 3, 6, 16, 8>> =
        Box::new(LeanWorkspace::new(Kernels::best()));
    let mut sa = SampleArrays::<5, 6, 16>::new();
    let mut report2 = String::new();
    let o2 = fine_tune(
        &mut lean.view(),
        &mut q.view_mut(),
        v.view(),
        items,
        &cfg,
        &mut ctx,
        &mut tgt,
        &mut sa,
        |a| report2 += &a.to_string(),
    )
    .unwrap();
    assert_eq!(o2, o);
    assert_eq!(report2, report);
}
