//! The plots: SVG that stays well-formed whatever the vocabulary holds, and PNG.

use std::path::PathBuf;

use charmlp::weights::to_bytes;
use charmlp::{Init, ParamsBuf, Shape, VocabBuf};
use charmlp_cli::plots::{PlotFormat, embedding, loss};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("charmlp-plots-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every `<` opens a tag (a name, `/`, `?` or `!` follows it); no control character but
/// whitespace appears.
fn assert_well_formed(svg: &str) {
    let b: Vec<char> = svg.chars().collect();
    for (i, &c) in b.iter().enumerate() {
        if c == '<' {
            let n = b.get(i + 1).copied().unwrap_or(' ');
            assert!(
                n.is_ascii_alphabetic() || matches!(n, '/' | '?' | '!'),
                "a bare '<' at {i}: {:?}",
                b[i.saturating_sub(20)..(i + 20).min(b.len())]
                    .iter()
                    .collect::<String>()
            );
        }
        assert!(
            !c.is_control() || c.is_whitespace(),
            "control character U+{:04X}",
            c as u32
        );
    }
}

#[test]
fn the_embedding_plot_escapes_every_symbol() {
    let d = temp_dir("escape");
    let symbols = ['.', '<', '&', '"', '>', 'a', '\u{1}'];
    let s = Shape::new(symbols.len(), 2, 2, 4).unwrap();
    let p = ParamsBuf::init(s, 3, Init::Randn).unwrap();
    let v = VocabBuf::from_symbols(symbols).unwrap();
    let bytes = to_bytes(&p.view(), v.view());
    let path = d.join("embedding.svg");
    embedding(&bytes, &d.join("w.bin"), &path, PlotFormat::Svg).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert_well_formed(&svg);
    for want in ["&lt;", "&amp;", "&gt;", "U+0001"] {
        assert!(svg.contains(want), "{want} missing");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn plots_are_written_as_png_too() {
    let d = temp_dir("png");
    let s = Shape::new(4, 2, 2, 4).unwrap();
    let p = ParamsBuf::init(s, 3, Init::Randn).unwrap();
    let v = VocabBuf::from_symbols(".abc".chars()).unwrap();
    let bytes = to_bytes(&p.view(), v.view());
    let history: Vec<f32> = (0..500).map(|i| 1.0 - i as f32 / 1000.0).collect();
    let dev = [(100u64, 5.0f32), (200, 4.0), (500, 3.5)];
    for f in [PlotFormat::Svg, PlotFormat::Png] {
        let lp = d.join(format!("loss.{}", f.ext()));
        loss(&history, &dev, &lp, f).unwrap();
        let ep = d.join(format!("embedding.{}", f.ext()));
        embedding(&bytes, &d.join("w.bin"), &ep, f).unwrap();
        for p in [lp, ep] {
            let b = std::fs::read(&p).unwrap();
            match f {
                PlotFormat::Png => assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display()),
                PlotFormat::Svg => assert_well_formed(std::str::from_utf8(&b).unwrap()),
            }
        }
    }
    let svg = std::fs::read_to_string(d.join("loss.svg")).unwrap();
    assert!(
        svg.contains("dev (fixed subsample)"),
        "no dev curve in the legend"
    );
    let _ = std::fs::remove_dir_all(&d);
}
