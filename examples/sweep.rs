//! Reproduces the makemore part 2 homework tuning table (15 settings) side by side, in parallel,
//! and searches for a better model under a parameter and step budget.
//!
//! ```text
//! cargo run --release --example sweep --features std                 # the 15 rows
//! cargo run --release --example sweep --features std -- --seeds 3    # mean ± spread
//! cargo run --release --example sweep --features std -- --search     # budgeted search
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use charmlp::trainer::{self, Report, TrainConfig, json_f32, write_atomic};
use charmlp::{Init, Schedule};
use clap::Parser;

/// Reproduce the homework tuning table, or search under a budget.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Training text, one item per line.
    #[arg(long, default_value = "data/names.txt")]
    data: PathBuf,
    /// Initialization of every run (the table used randn).
    #[arg(long, default_value = "randn", value_parser = ["randn", "scaled"])]
    init: String,
    /// Repeat each row with this many seeds and report mean ± spread.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Base seed; row r, repetition s uses base + 1000·r + s.
    #[arg(long, default_value_t = 2_147_483_647)]
    seed: u64,
    /// Rows from a file instead of the table: one `block emb hidden steps batch [reported]` per
    /// line (hidden = neurons, emb = features), `#` comments.
    #[arg(long)]
    rows: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write the results as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the results as JSON `{"rows": [...]}`.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Plot test loss against parameter count to this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Search for the best model under --budget-params and --budget-steps (dev split chooses).
    #[arg(long)]
    search: bool,
    /// Parameter budget of the search (16 384 f32 = 64 KB of flash).
    #[arg(long, default_value_t = 16_384)]
    budget_params: usize,
    /// Step budget of the search.
    #[arg(long, default_value_t = 200_000)]
    budget_steps: u64,
    /// Scale every row's steps by this factor (quick looks; 1 = the table).
    #[arg(long, default_value_t = 1.0)]
    steps_scale: f64,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
}

/// One setting: (block, emb, hidden, steps, batch, reported test loss).
#[derive(Clone, Debug)]
struct Row {
    block: usize,
    emb: usize,
    hidden: usize,
    steps: u64,
    batch: usize,
    reported: Option<f32>,
    init: Init,
    schedule: Option<&'static str>,
}

/// The homework table (block, neurons, features, steps, batch, reported test loss).
const TABLE: [(usize, usize, usize, u64, usize, f32); 15] = [
    (4, 10, 30, 200_000, 16, 2.3414),
    (4, 10, 2, 20_000, 16, 2.5306),
    (4, 10, 4, 200_000, 2, 2.3566),
    (2, 10, 4, 200_000, 16, 2.3719),
    (3, 10, 4, 200_000, 16, 2.3340),
    (3, 100, 10, 200_000, 32, 2.1759),
    (3, 100, 20, 200_000, 8, 2.1759),
    (3, 500, 5, 200_000, 32, 2.1734),
    (3, 80, 4, 200_000, 32, 2.2322),
    (4, 300, 14, 400_000, 40, 2.1812),
    (3, 200, 6, 200_000, 32, 2.1625),
    (3, 20, 6, 200_000, 32, 2.2723),
    (3, 300, 6, 200_000, 32, 2.1847),
    (3, 220, 6, 200_000, 32, 2.1871),
    (3, 180, 6, 200_000, 32, 2.1850),
];

struct Outcome {
    row: Row,
    runs: Vec<Report>,
}

fn mean_spread(xs: &[f32]) -> (f32, f32) {
    let n = xs.len() as f32;
    let m = xs.iter().sum::<f32>() / n;
    let s = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, s)
}

fn parse_rows(path: &Path, init: Init) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || {
            format!(
                "{}:{}: expected `block emb hidden steps batch [reported]`",
                path.display(),
                i + 1
            )
        };
        if f.len() < 5 || f.len() > 6 {
            return Err(bad());
        }
        let u = |s: &str| s.parse::<u64>().map_err(|_| bad());
        rows.push(Row {
            block: u(f[0])? as usize,
            emb: u(f[1])? as usize,
            hidden: u(f[2])? as usize,
            steps: u(f[3])?,
            batch: u(f[4])? as usize,
            reported: match f.get(5) {
                Some(s) => Some(s.parse().map_err(|_| bad())?),
                None => None,
            },
            init,
            schedule: None,
        });
    }
    if rows.is_empty() {
        return Err(format!("{}: no rows", path.display()));
    }
    Ok(rows)
}

fn config(a: &Args, r: &Row, seed: u64, steps_scale: f64) -> TrainConfig {
    let steps = ((r.steps as f64 * steps_scale).round() as u64).max(1);
    let mut c = TrainConfig::canonical(a.data.clone());
    c.steps = steps;
    c.batch = r.batch;
    c.block = r.block;
    c.emb = r.emb;
    c.hidden = r.hidden;
    c.init = r.init;
    c.seed = seed;
    c.samples = 0;
    c.schedule = match r.schedule {
        Some("cosine") => Schedule::Cosine {
            lr: 0.1,
            lr_min: 0.005,
            steps,
        },
        _ => Schedule::Step {
            lr: 0.1,
            decay_at: steps / 2,
            lr_after: 0.01,
        },
    };
    c
}

/// Runs every (row, seed) job on `jobs` threads, printing progress; results in row order.
fn run_all(
    a: &Args,
    rows: &[Row],
    seeds: u64,
    jobs: usize,
    steps_scale: f64,
) -> Result<Vec<Outcome>, String> {
    let work: Vec<(usize, u64)> = (0..rows.len())
        .flat_map(|r| (0..seeds).map(move |s| (r, s)))
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Report, String>>>> =
        Mutex::new((0..work.len()).map(|_| None).collect());
    let t0 = Instant::now();
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(r, rep)) = work.get(i) else { break };
                    let row = &rows[r];
                    let cfg = config(a, row, a.seed + 1000 * r as u64 + rep, steps_scale);
                    let res = trainer::run(&cfg).map_err(|e| e.to_string());
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    if !a.quiet {
                        match &res {
                            Ok(rep_) => eprintln!(
                                "[{n}/{}] {:>6.1}s  block {} emb {} hidden {} batch {} steps {}: dev {:.4} test {:.4} ({:.1}s, {:.1} µs/step)",
                                work.len(),
                                t0.elapsed().as_secs_f64(),
                                row.block,
                                row.emb,
                                row.hidden,
                                row.batch,
                                cfg.steps,
                                rep_.dev_loss,
                                rep_.test_loss,
                                rep_.seconds,
                                rep_.us_per_step
                            ),
                            Err(e) => eprintln!("[{n}/{}] row {r}: error: {e}", work.len()),
                        }
                    }
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(res);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| "a worker panicked".to_string())?;
    let mut out: Vec<Outcome> = rows
        .iter()
        .map(|r| Outcome {
            row: r.clone(),
            runs: Vec::new(),
        })
        .collect();
    for ((r, _), res) in work.iter().zip(results) {
        out[*r].runs.push(res.ok_or("a job did not run")??);
    }
    Ok(out)
}

fn print_table(out: &[Outcome]) {
    println!(
        "| block | neurons | features | init | steps | batch | params | train | dev | test | reported | Δ test | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in out {
        let f = |g: fn(&Report) -> f32| mean_spread(&o.runs.iter().map(g).collect::<Vec<_>>());
        let (tr, _) = f(|r| r.train_loss);
        let (dv, _) = f(|r| r.dev_loss);
        let (te, ts) = f(|r| r.test_loss);
        let secs: f64 = o.runs.iter().map(|r| r.seconds).sum::<f64>() / o.runs.len() as f64;
        let test = if te.is_nan() {
            "–".to_string()
        } else if o.runs.len() > 1 {
            format!("{te:.4} ± {ts:.4}")
        } else {
            format!("{te:.4}")
        };
        let (rep, delta) = match o.row.reported {
            Some(r) => (format!("{r:.4}"), format!("{:+.4}", te - r)),
            None => ("–".into(), "–".into()),
        };
        let r0 = &o.runs[0];
        println!(
            "| {} | {} | {} | {}{} | {} | {} | {} | {:.4} | {:.4} | {} | {} | {} | {:.1} |",
            o.row.block,
            o.row.hidden,
            o.row.emb,
            o.row.init.name(),
            o.row.schedule.map(|s| format!(" {s}")).unwrap_or_default(),
            r0.steps,
            o.row.batch,
            r0.params,
            tr,
            dv,
            test,
            rep,
            delta,
            secs
        );
    }
}

/// One result as (column, value) pairs: numbers as text, `None` for a missing or withheld value.
fn fields(o: &Outcome, r: &Report) -> Vec<(&'static str, Option<String>)> {
    let f = |x: f32| x.is_finite().then(|| json_f32(x));
    vec![
        ("block", Some(r.block.to_string())),
        ("emb", Some(r.emb.to_string())),
        ("hidden", Some(r.hidden.to_string())),
        ("init", Some(format!("\"{}\"", r.init))),
        ("steps", Some(r.steps.to_string())),
        ("batch", Some(r.batch.to_string())),
        ("params", Some(r.params.to_string())),
        ("seed", Some(r.seed.to_string())),
        ("train_loss", f(r.train_loss)),
        ("dev_loss", f(r.dev_loss)),
        ("test_loss", f(r.test_loss)),
        ("reported_test_loss", o.row.reported.and_then(f)),
        ("seconds", Some(format!("{:.3}", r.seconds))),
        ("us_per_step", Some(format!("{:.3}", r.us_per_step))),
    ]
}

fn write_outputs(a: &Args, out: &[Outcome]) -> Result<(), String> {
    let rows: Vec<_> = out
        .iter()
        .flat_map(|o| o.runs.iter().map(move |r| fields(o, r)))
        .collect();
    if let Some(p) = &a.csv {
        let mut s = String::new();
        if let Some(first) = rows.first() {
            s += &first.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",");
            s.push('\n');
        }
        for row in &rows {
            let vals: Vec<String> = row
                .iter()
                .map(|(_, v)| v.clone().unwrap_or_default().replace('"', ""))
                .collect();
            s += &vals.join(",");
            s.push('\n');
        }
        write_atomic(p, s.as_bytes()).map_err(|e| e.to_string())?;
    }
    if let Some(p) = &a.json {
        let objs: Vec<String> = rows
            .iter()
            .map(|row| {
                let kv: Vec<String> = row
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{}", v.as_deref().unwrap_or("null")))
                    .collect();
                format!("{{{}}}", kv.join(","))
            })
            .collect();
        let s = format!("{{\"rows\":[{}]}}\n", objs.join(","));
        write_atomic(p, s.as_bytes()).map_err(|e| e.to_string())?;
    }
    if let Some(p) = &a.plot {
        plot(p, out).map_err(|e| format!("plot: {e}"))?;
    }
    Ok(())
}

fn plot(path: &Path, out: &[Outcome]) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let pts: Vec<(f64, f64, String)> = out
        .iter()
        .map(|o| {
            let te =
                o.runs.iter().map(|r| f64::from(r.test_loss)).sum::<f64>() / o.runs.len() as f64;
            (
                o.runs[0].params as f64,
                te,
                format!("{}/{}/{}", o.row.block, o.row.hidden, o.row.emb),
            )
        })
        .collect();
    let (x0, x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    // Rendered to memory, then written atomically like every file the tools write.
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
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
        )?;
    c.configure_mesh()
        .x_desc("log10 parameters")
        .y_desc("test loss")
        .draw()?;
    c.draw_series(
        pts.iter()
            .map(|(x, y, _)| Circle::new((x.log10(), *y), 4, BLUE.filled())),
    )?;
    c.draw_series(
        pts.iter()
            .map(|(x, y, l)| Text::new(l.clone(), (x.log10(), *y), ("sans-serif", 11))),
    )?;
    root.present()?;
    drop(c);
    drop(root);
    write_atomic(path, svg.as_bytes())?;
    Ok(())
}

/// Candidates of the search: compiled shapes using between a quarter and all of the parameter
/// budget, each with the scaled init and two learning-rate schedules (step drop at half, and
/// cosine from 0.1 to 0.005).
fn search_rows(a: &Args) -> Vec<Row> {
    let mut rows = Vec::new();
    for (v, b, e, h) in trainer::available_models() {
        if v != 27 {
            continue;
        }
        let params = v * e + b * e * h + h + h * v + v;
        // Within the budget, and not so small that it cannot compete (under a quarter of it).
        if params > a.budget_params || params * 4 < a.budget_params {
            continue;
        }
        for sched in ["step", "cosine"] {
            rows.push(Row {
                block: b,
                emb: e,
                hidden: h,
                steps: a.budget_steps,
                batch: 32,
                reported: None,
                init: Init::Scaled,
                schedule: Some(sched),
            });
        }
    }
    // The most promising first (largest models), so the slow ones overlap.
    rows.sort_by_key(|r| std::cmp::Reverse(r.block * r.emb * r.hidden + r.hidden * 27));
    rows
}

fn main() -> ExitCode {
    let a = Args::parse();
    let init = if a.init == "scaled" {
        Init::Scaled
    } else {
        Init::Randn
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let t0 = Instant::now();
    let rows = if a.search {
        search_rows(&a)
    } else if let Some(p) = &a.rows {
        match parse_rows(p, init) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        TABLE
            .iter()
            .map(|&(block, hidden, emb, steps, batch, rep)| Row {
                block,
                emb,
                hidden,
                steps,
                batch,
                reported: Some(rep),
                init,
                schedule: None,
            })
            .collect()
    };
    eprintln!("{} rows × {} seeds on {jobs} threads", rows.len(), a.seeds);
    let out = match run_all(&a, &rows, a.seeds, jobs, a.steps_scale) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = out;
    if a.search {
        // Choose on dev only; the test loss is reported once, for the winner: every other
        // candidate's test loss is withheld from the table and the files.
        let dev =
            |o: &Outcome| o.runs.iter().map(|r| r.dev_loss).sum::<f32>() / o.runs.len() as f32;
        let best = (0..out.len()).min_by(|&x, &y| dev(&out[x]).total_cmp(&dev(&out[y])));
        for (i, o) in out.iter_mut().enumerate() {
            if Some(i) != best {
                o.runs.iter_mut().for_each(|r| r.test_loss = f32::NAN);
            }
        }
        print_table(&out);
        if let Some(o) = best.map(|i| &out[i]) {
            let (row, r) = (&o.row, &o.runs[0]);
            println!(
                "\nwinner (by dev loss): block {} emb {} hidden {} init {} schedule {} params {}: dev {:.4}, test {:.4}",
                row.block,
                row.emb,
                row.hidden,
                row.init.name(),
                row.schedule.unwrap_or("step"),
                r.params,
                r.dev_loss,
                r.test_loss
            );
        }
    } else {
        print_table(&out);
    }
    if let Err(e) = write_outputs(&a, &out) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("wall time {:.1} s", t0.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}
