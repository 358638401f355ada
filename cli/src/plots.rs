//! Plots: the loss curve and the first two embedding dimensions (`train --plot`), and test loss
//! against parameters (`sweep --plot`). Rendered to memory, then written atomically.

use std::path::Path;

use charmlp::WeightsView;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::RunError;
use crate::fsio::write_atomic;
use crate::report::Report;

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
/// than 4000 steps) and `embedding.svg` (`C[:, 0]` vs `C[:, 1]`, each symbol at its point) in
/// `out`, from the report and `out/weights.bin`.
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`], [`RunError::Weights`].
pub fn write(r: &Report, out: &Path) -> Result<(), RunError> {
    loss(&r.history, &out.join("loss.svg"))?;
    let wpath = out.join("weights.bin");
    let bytes = std::fs::read(&wpath).map_err(|err| RunError::Io {
        path: wpath.clone(),
        err,
    })?;
    embedding(&bytes, &wpath, &out.join("embedding.svg"))
}

/// The loss curve of `history` (log10 per step).
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`].
pub fn loss(h: &[f32], path: &Path) -> Result<(), RunError> {
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
    let (lo, hi) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut c = ChartBuilder::on(&root)
            .caption(
                format!("log10 minibatch loss (mean of {bucket} steps per point)"),
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
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    write_atomic(path, svg.as_bytes())
}

/// The embedding plot of a weights file.
///
/// # Errors
/// [`RunError::Weights`], [`RunError::Plot`], [`RunError::Io`].
pub fn embedding(bytes: &[u8], wpath: &Path, path: &Path) -> Result<(), RunError> {
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (700, 700)).into_drawing_area();
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
                c.to_string(),
                (x, y),
                ("sans-serif", 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )
        }))
        .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    write_atomic(path, svg.as_bytes())
}

/// Test loss against parameter count, one labelled point per row.
///
/// # Errors
/// [`RunError::Plot`], [`RunError::Io`].
pub fn sweep(path: &Path, pts: &[(f64, f64, String)]) -> Result<(), RunError> {
    let err = plot_err(path);
    let ((x0, x1), (y0, y1)) = bounds(pts);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
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
    }
    write_atomic(path, svg.as_bytes())
}
