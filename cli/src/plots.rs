//! Plots: the loss curve and the first two embedding dimensions (`train --plot`), and test loss
//! against parameters (`sweep --plot`), as SVG or PNG. Rendered to memory, then written
//! atomically. Text is drawn with DejaVu Sans Mono (`assets/`, Bitstream Vera licence), built in
//! so that PNGs look the same on every machine.

use std::path::Path;
use std::sync::OnceLock;

use charmlp::WeightsView;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::RunError;
use crate::fsio::write_atomic;
use crate::report::Report;

/// The font every plot uses, registered with plotters once.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");

/// The image format of the plots (`--plot-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlotFormat {
    /// Scalable vector graphics (text stays text).
    #[default]
    Svg,
    /// A bitmap (RGB, lossless).
    Png,
}

impl PlotFormat {
    /// The file extension: `svg` or `png`.
    pub const fn ext(self) -> &'static str {
        match self {
            PlotFormat::Svg => "svg",
            PlotFormat::Png => "png",
        }
    }

    /// The format a path's extension names (`.png`: PNG; anything else: SVG).
    pub fn of(path: &Path) -> PlotFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("png") => PlotFormat::Png,
            _ => PlotFormat::Svg,
        }
    }
}

/// Registers [`FONT`] as plotters' `sans-serif` (once).
fn fonts(path: &Path) -> Result<(), RunError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the built-in font could not be loaded".to_string())
    })
    .clone()
    .map_err(|message| RunError::Plot {
        path: path.to_path_buf(),
        message,
    })
}

/// RGB pixels → PNG bytes.
fn encode_png(rgb: &[u8], (w, h): (u32, u32), path: &Path) -> Result<Vec<u8>, RunError> {
    let mut out = Vec::new();
    let err = |e: png::EncodingError| RunError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Plots are mostly flat colour: the best compression is ~10× smaller than the default.
    enc.set_compression(png::Compression::Best);
    enc.set_filter(png::FilterType::Paeth);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// Draws `$body` (which may use `?`) on `$root`, a drawing area of `$size` pixels in `$format`,
/// and writes the image to `$path` atomically.
macro_rules! render {
    ($path:expr, $format:expr, $size:expr, |$root:ident| $body:block) => {{
        let (path, size): (&Path, (u32, u32)) = ($path, $size);
        fonts(path)?;
        match $format {
            PlotFormat::Svg => {
                let mut svg = String::new();
                {
                    let $root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    $body
                }
                write_atomic(path, svg.as_bytes())
            }
            PlotFormat::Png => {
                let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
                {
                    let $root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                    $body
                }
                write_atomic(path, &encode_png(&rgb, size, path)?)
            }
        }
    }};
}

/// The smallest and largest `x` and `y` of labelled points.
fn bounds<L>(pts: &[(f64, f64, L)]) -> ((f64, f64), (f64, f64)) {
    pts.iter().fold(
        ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN)),
        |((x0, x1), (y0, y1)), p| ((x0.min(p.0), x1.max(p.0)), (y0.min(p.1), y1.max(p.1))),
    )
}

/// A plotting failure as a [`RunError::Plot`].
fn plot_err(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> RunError + '_ {
    move |e| RunError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// `loss.svg` (log10 of the minibatch loss per step, averaged over buckets when there are more
/// than 4000 steps, and the dev curve) and `embedding.svg` (`C[:, 0]` vs `C[:, 1]`, each symbol
/// at its point) in `out` (`.png` with [`PlotFormat::Png`]), from the report and
/// `out/weights.bin`.
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`], [`RunError::Weights`].
pub fn write(r: &Report, out: &Path, format: PlotFormat) -> Result<(), RunError> {
    let ext = format.ext();
    loss(
        &r.history,
        &r.dev_curve,
        &out.join(format!("loss.{ext}")),
        format,
    )?;
    let wpath = out.join("weights.bin");
    let bytes = std::fs::read(&wpath).map_err(|err| RunError::Io {
        path: wpath.clone(),
        err,
    })?;
    embedding(
        &bytes,
        &wpath,
        &out.join(format!("embedding.{ext}")),
        format,
    )
}

/// The loss curve of `history` (log10 per step), and the dev subsample's loss at each evaluation
/// (`dev`: step, loss) in red.
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`].
pub fn loss(
    h: &[f32],
    dev: &[(u64, f32)],
    path: &Path,
    format: PlotFormat,
) -> Result<(), RunError> {
    let err = plot_err(path);
    let bucket = h.len().div_ceil(4000).max(1);
    let pts: Vec<(f64, f64)> = h
        .chunks(bucket)
        .enumerate()
        .map(|(i, c)| {
            (
                (i * bucket) as f64,
                c.iter().map(|&x| f64::from(x)).sum::<f64>() / c.len() as f64,
            )
        })
        .collect();
    let dev: Vec<(f64, f64)> = dev
        .iter()
        .map(|&(s, l)| (s as f64, f64::from(l).log10()))
        .collect();
    let (lo, hi) = pts
        .iter()
        .chain(&dev)
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    render!(path, format, (900, 500), |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut c = ChartBuilder::on(&root)
            .caption(
                format!("log10 loss (train: mean of {bucket} steps per point)"),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..(h.len().max(1) as f64), (lo - 0.02)..(hi + 0.02))
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .x_desc("step")
            .y_desc("log10 loss")
            .draw()
            .map_err(|e| err(&e))?;
        c.draw_series(LineSeries::new(pts, &BLUE))
            .map_err(|e| err(&e))?
            .label("train (minibatch)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
        if !dev.is_empty() {
            c.draw_series(LineSeries::new(dev, RED.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label("dev (fixed subsample)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    })
}

/// A symbol as a plot label: itself (the SVG backend escapes `<`, `&` and quotes), or `U+XXXX`
/// for a control character, which XML cannot hold even escaped.
pub fn symbol_label(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", u32::from(c))
    } else {
        c.to_string()
    }
}

/// The embedding plot of a weights file.
///
/// # Errors
/// [`RunError::Weights`], [`RunError::Plot`], [`RunError::Io`].
pub fn embedding(
    bytes: &[u8],
    wpath: &Path,
    path: &Path,
    format: PlotFormat,
) -> Result<(), RunError> {
    let err = plot_err(path);
    let w = WeightsView::parse(bytes).map_err(|e| RunError::Weights {
        path: wpath.to_path_buf(),
        err: e,
    })?;
    let mut p = charmlp::ParamsBuf::zeros(w.shape())?;
    w.copy_params(&mut p.view_mut())
        .map_err(|e| RunError::Weights {
            path: wpath.to_path_buf(),
            err: e,
        })?;
    let view = p.view();
    let c = view.c();
    let e = c.cols();
    let pts: Vec<(f64, f64, char)> = w
        .vocab_str()
        .chars()
        .enumerate()
        .map(|(i, ch)| {
            let row = c.row(i);
            (f64::from(row[0]), f64::from(row[1.min(e - 1)]), ch)
        })
        .collect();
    let ((x0, x1), (y0, y1)) = bounds(&pts);
    render!(path, format, (700, 700), |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut ch = ChartBuilder::on(&root)
            .caption("embedding C[:, 0] vs C[:, 1]", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d((x0 - 0.3)..(x1 + 0.3), (y0 - 0.3)..(y1 + 0.3))
            .map_err(|e| err(&e))?;
        ch.configure_mesh().draw().map_err(|e| err(&e))?;
        ch.draw_series(
            pts.iter()
                .map(|&(x, y, _)| Circle::new((x, y), 12, BLUE.mix(0.3).filled())),
        )
        .map_err(|e| err(&e))?;
        ch.draw_series(pts.iter().map(|&(x, y, c)| {
            Text::new(
                symbol_label(c),
                (x, y),
                ("sans-serif", 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )
        }))
        .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    })
}

/// Test loss against parameter count, one labelled point per row (PNG for a `.png` path, else
/// SVG).
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`].
pub fn sweep(path: &Path, pts: &[(f64, f64, String)]) -> Result<(), RunError> {
    let err = plot_err(path);
    let ((x0, x1), (y0, y1)) = bounds(pts);
    render!(path, PlotFormat::of(path), (900, 600), |root| {
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut c = ChartBuilder::on(&root)
            .caption(
                "test loss vs parameters (label: block/neurons/features)",
                ("sans-serif", 18),
            )
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(
                (x0 * 0.8).log10()..(x1 * 1.2).log10(),
                (y0 - 0.02)..(y1 + 0.02),
            )
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .x_desc("log10 parameters")
            .y_desc("test loss")
            .draw()
            .map_err(|e| err(&e))?;
        c.draw_series(
            pts.iter()
                .map(|(x, y, _)| Circle::new((x.log10(), *y), 4, BLUE.filled())),
        )
        .map_err(|e| err(&e))?;
        c.draw_series(
            pts.iter()
                .map(|(x, y, l)| Text::new(l.clone(), (x.log10(), *y), ("sans-serif", 11))),
        )
        .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    })
}
