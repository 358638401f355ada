//! Trains the MLP. With no arguments: the lecture's canonical run on `data/names.txt`.
//!
//! ```text
//! cargo run --release --example train --features std -- --help
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use charmlp::trainer::{self, Report, TrainConfig, write_atomic};
use charmlp::{Init, Schedule};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum InitArg {
    Randn,
    Scaled,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScheduleArg {
    /// --lr until --lr-decay-at, then --lr-after.
    Step,
    /// Cosine from --lr down to --lr-after over the run.
    Cosine,
}

/// Train a character-level MLP (Bengio 2003 / makemore part 2) with manual gradients.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Training text, one item per line.
    #[arg(long, default_value = "data/names.txt")]
    data: PathBuf,
    /// SGD steps.
    #[arg(long, default_value_t = 200_000)]
    steps: u64,
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f32,
    /// Step at which the rate drops to --lr-after (default: half of --steps).
    #[arg(long)]
    lr_decay_at: Option<u64>,
    /// Rate after the decay (or the final rate of the cosine schedule).
    #[arg(long, default_value_t = 0.01)]
    lr_after: f32,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Step)]
    schedule: ScheduleArg,
    /// Seed of the initialization and of the minibatches.
    #[arg(long, default_value_t = 2_147_483_647)]
    seed: u64,
    /// Seed of the shuffle before the 80/10/10 split.
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    /// Initialization: `randn` (the lecture) or `scaled` (Kaiming W1, small W2).
    #[arg(long, value_enum, default_value_t = InitArg::Randn)]
    init: InitArg,
    /// Context length (see --list-models).
    #[arg(long, default_value_t = 3)]
    block: usize,
    /// Embedding width.
    #[arg(long, default_value_t = 10)]
    emb: usize,
    /// Hidden width.
    #[arg(long, default_value_t = 200)]
    hidden: usize,
    /// Output directory for weights.bin, checkpoint.bin and plots.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw loss.svg and embedding.svg into --out.
    #[arg(long)]
    plot: bool,
    /// Continue from --out/checkpoint.bin (same flags as the interrupted run).
    #[arg(long)]
    resume: bool,
    /// Checkpoint every N steps (0: at the end only).
    #[arg(long, default_value_t = 10_000)]
    checkpoint_every: u64,
    /// Stop after N steps as if interrupted (the checkpoint lets --resume finish the run).
    #[arg(long)]
    stop_after: Option<u64>,
    /// Names to sample at the end.
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
    /// List the compiled (V, B, E, H) instantiations and exit.
    #[arg(long)]
    list_models: bool,
    /// Evaluate these weights on --data instead of training: mean loss over every pair and over
    /// the --split-seed train/dev/test splits (with --json: written there).
    #[arg(long, value_name = "WEIGHTS")]
    eval: Option<PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    if a.list_models {
        for (v, b, e, h) in trainer::available_models() {
            println!("V={v:<4} block={b:<2} emb={e:<3} hidden={h}");
        }
        return ExitCode::SUCCESS;
    }
    if let Some(w) = &a.eval {
        return eval(w, &a);
    }
    let decay_at = a.lr_decay_at.unwrap_or(a.steps / 2);
    let cfg = TrainConfig {
        data: a.data.clone(),
        steps: a.steps,
        batch: a.batch,
        schedule: match a.schedule {
            ScheduleArg::Step => Schedule::Step {
                lr: a.lr,
                decay_at,
                lr_after: a.lr_after,
            },
            ScheduleArg::Cosine => Schedule::Cosine {
                lr: a.lr,
                lr_min: a.lr_after,
                steps: a.steps,
            },
        },
        seed: a.seed,
        split_seed: a.split_seed,
        init: match a.init {
            InitArg::Randn => Init::Randn,
            InitArg::Scaled => Init::Scaled,
        },
        block: a.block,
        emb: a.emb,
        hidden: a.hidden,
        out: Some(a.out.clone()),
        checkpoint_every: a.checkpoint_every,
        resume: a.resume,
        stop_after: a.stop_after,
        samples: a.samples,
        progress: !a.quiet,
        keep_history: true,
    };
    eprintln!(
        "training block={} emb={} hidden={} batch={} steps={} init={} on {}",
        a.block,
        a.emb,
        a.hidden,
        a.batch,
        a.steps,
        cfg.init.name(),
        a.data.display()
    );
    let r = match trainer::run(&cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if r.stopped_early {
        eprintln!(
            "stopped after step {} (checkpoint in {}); continue with --resume",
            r.steps,
            a.out.display()
        );
        return ExitCode::SUCCESS;
    }
    print_report(&r, &a.out);
    if a.plot {
        if let Err(e) = plots::write(&r, &a.out) {
            eprintln!("error: plot: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("plots: {0}/loss.svg {0}/embedding.svg", a.out.display());
    }
    if let Some(p) = &a.json
        && let Err(e) = write_atomic(p, (r.to_json() + "\n").as_bytes())
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn eval(weights: &std::path::Path, a: &Args) -> ExitCode {
    let r = match charmlp::eval::evaluate(weights, &a.data, a.split_seed) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let f = |x: Option<f32>| x.map_or_else(|| "n/a".into(), |x| format!("{x:.4}"));
    println!(
        "V={} block={} emb={} hidden={} on {} ({} items, {} pairs, split seed {})",
        r.vocab_size,
        r.block,
        r.emb,
        r.hidden,
        a.data.display(),
        r.items,
        r.pairs,
        r.split_seed
    );
    println!(
        "all {:.4}  train {}  dev {}  test {}",
        r.all_loss,
        f(r.train_loss),
        f(r.dev_loss),
        f(r.test_loss)
    );
    if let Some(p) = &a.json
        && let Err(e) = write_atomic(p, (r.to_json() + "\n").as_bytes())
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn print_report(r: &Report, out: &std::path::Path) {
    println!(
        "V={} block={} emb={} hidden={} params={} steps={} kernel={}",
        r.vocab_size, r.block, r.emb, r.hidden, r.params, r.steps, r.kernel
    );
    println!("time {:.2} s, {:.2} µs/step", r.seconds, r.us_per_step);
    println!(
        "train {:.4}  dev {:.4}  test {:.4}",
        r.train_loss, r.dev_loss, r.test_loss
    );
    println!("weights: {}", out.join("weights.bin").display());
    println!("samples:");
    for s in &r.samples {
        println!("  {s}");
    }
}

mod plots {
    use std::path::Path;

    use charmlp::trainer::{Report, write_atomic};
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    type Res = Result<(), Box<dyn std::error::Error>>;

    /// loss.svg: log10 of the minibatch loss per step (averaged over buckets when there are
    /// more than 4000 steps); embedding.svg: C[:, 0] vs C[:, 1] with each symbol at its point.
    pub fn write(r: &Report, out: &Path) -> Res {
        loss(r, &out.join("loss.svg"))?;
        embedding(
            &std::fs::read(out.join("weights.bin"))?,
            &out.join("embedding.svg"),
        )
    }

    fn loss(r: &Report, path: &Path) -> Res {
        let h = &r.history;
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
        // Rendered to memory, then written atomically like every file the tools write.
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (900, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(
                format!("log10 minibatch loss (mean of {bucket} steps per point)"),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..(h.len().max(1) as f64), (lo - 0.02)..(hi + 0.02))?;
        c.configure_mesh()
            .x_desc("step")
            .y_desc("log10 loss")
            .draw()?;
        c.draw_series(LineSeries::new(pts, &BLUE))?;
        root.present()?;
        drop(c);
        drop(root);
        write_atomic(path, svg.as_bytes())?;
        Ok(())
    }

    fn embedding(bytes: &[u8], path: &Path) -> Res {
        let hdr = charmlp::weights::read_header(bytes)?;
        let (v, e) = (hdr.v as usize, hdr.e as usize);
        let off = charmlp::weights::tensor_offset(hdr.vocab_len as usize);
        let text =
            std::str::from_utf8(&bytes[charmlp::weights::HEADER_LEN..][..hdr.vocab_len as usize])?;
        let f = |i: usize| {
            f32::from_le_bytes(
                bytes[off + 4 * i..off + 4 * i + 4]
                    .try_into()
                    .unwrap_or([0; 4]),
            )
        };
        let pts: Vec<(f64, f64, char)> = text
            .chars()
            .enumerate()
            .take(v)
            .map(|(i, ch)| (f64::from(f(i * e)), f64::from(f(i * e + 1.min(e - 1))), ch))
            .collect();
        let (x0, x1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (y0, y1) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        // Rendered to memory, then written atomically like every file the tools write.
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (700, 700)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption("embedding C[:, 0] vs C[:, 1]", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d((x0 - 0.3)..(x1 + 0.3), (y0 - 0.3)..(y1 + 0.3))?;
        c.configure_mesh().draw()?;
        c.draw_series(
            pts.iter()
                .map(|&(x, y, _)| Circle::new((x, y), 12, BLUE.mix(0.3).filled())),
        )?;
        c.draw_series(pts.iter().map(|&(x, y, ch)| {
            Text::new(
                ch.to_string(),
                (x, y),
                ("sans-serif", 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )
        }))?;
        root.present()?;
        drop(c);
        drop(root);
        write_atomic(path, svg.as_bytes())?;
        Ok(())
    }
}
