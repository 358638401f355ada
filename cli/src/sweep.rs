//! The makemore part 2 homework tuning table (15 settings) side by side, in parallel, and a
//! search over a grid of model shapes under a parameter and step budget (dev chooses).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use charmlp::{Init, Schedule, Shape};
use clap::{Parser, ValueEnum};
use serde::Serialize;

use crate::error::{FlagError, RunError, check};
use crate::fsio::{check_output_file, write_output};
use crate::report::Report;
use crate::train::{self, TrainConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InitArg {
    Randn,
    Scaled,
}

/// Reproduce the homework tuning table, or search a grid of shapes under a budget.
#[derive(Parser, Debug, Clone)]
#[command(name = "sweep", version = crate::VERSION, long_version = crate::long_version())]
pub struct SweepArgs {
    /// Training text, one item per line (`builtin:names`: the 32 257 names built into the tool).
    #[arg(long, default_value = crate::BUILTIN_DATA)]
    data: PathBuf,
    /// Initialization of every run (the table used randn).
    #[arg(long, value_enum, default_value_t = InitArg::Randn)]
    init: InitArg,
    /// Repeat each row with this many seeds and report mean ± spread.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Base seed; row r, repetition s uses base + 1000·r + s (wrapping).
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
    /// Search the grid --grid-block × --grid-emb × --grid-hidden under --budget-params and
    /// --budget-steps (the dev split chooses; only the winner's test loss is reported).
    #[arg(long)]
    search: bool,
    /// Context lengths of the search grid.
    #[arg(long, value_delimiter = ',', default_value = "3,4,5,6,8")]
    grid_block: Vec<usize>,
    /// Embedding widths of the search grid.
    #[arg(long, value_delimiter = ',', default_value = "8,10,12")]
    grid_emb: Vec<usize>,
    /// Hidden widths of the search grid.
    #[arg(long, value_delimiter = ',', default_value = "100,150,200,250")]
    grid_hidden: Vec<usize>,
    /// Learning-rate schedules tried for each shape of the search (step, cosine).
    #[arg(long, value_delimiter = ',', default_value = "step")]
    grid_schedule: Vec<String>,
    /// Parameter budget of the search (16 384 f32 = 64 KB of flash); shapes using less than a
    /// quarter of it are skipped.
    #[arg(long, default_value_t = 16_384)]
    budget_params: usize,
    /// Step budget of the search.
    #[arg(long, default_value_t = 200_000)]
    budget_steps: u64,
    /// Scale every row's steps by this factor (quick looks; 1 = the table).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    steps_scale: f64,
    /// Also quantize each trained model to int8 (`charmlp convert --quantize int8`) and report
    /// its dev and test loss next to the f32 model's.
    #[arg(long)]
    int8: bool,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
}

/// One setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Context length.
    pub block: usize,
    /// Embedding width.
    pub emb: usize,
    /// Hidden width.
    pub hidden: usize,
    /// SGD steps.
    pub steps: u64,
    /// Minibatch size.
    pub batch: usize,
    /// The test loss the homework table reports, if any.
    pub reported: Option<f32>,
    /// Initialization.
    pub init: Init,
    /// `step` (lr 0.1 → 0.01 at half) or `cosine` (0.1 → 0.005).
    pub schedule: &'static str,
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

/// A row's runs, in seed order; a failed run is its error message.
struct Outcome {
    row: Row,
    runs: Vec<Result<Report, String>>,
}

impl Outcome {
    fn ok(&self) -> impl Iterator<Item = &Report> {
        self.runs.iter().filter_map(|r| r.as_ref().ok())
    }
}

fn mean_spread(xs: &[f32]) -> Option<(f32, f32)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f32;
    let m = xs.iter().sum::<f32>() / n;
    let s = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((m, s))
}

fn parse_rows(path: &Path, init: Init) -> Result<Vec<Row>, RunError> {
    let text = std::fs::read_to_string(path).map_err(|err| RunError::Io {
        path: path.to_path_buf(),
        err,
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || {
            RunError::Flag(FlagError {
                flag: "--rows",
                value: format!("{}:{}: {line:?}", path.display(), i + 1),
                expected: "lines of `block emb hidden steps batch [reported]`",
            })
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
            schedule: "step",
        });
    }
    if rows.is_empty() {
        return Err(bad_rows(path));
    }
    Ok(rows)
}

fn bad_rows(path: &Path) -> RunError {
    RunError::Flag(FlagError {
        flag: "--rows",
        value: path.display().to_string(),
        expected: "a file with at least one row",
    })
}

/// The training run of row `r` with seed `seed`.
fn config(a: &SweepArgs, r: &Row, seed: u64) -> TrainConfig {
    let steps = ((r.steps as f64 * a.steps_scale).round() as u64).max(1);
    let mut c = TrainConfig::canonical(a.data.clone());
    c.steps = steps;
    c.batch = r.batch;
    c.block = r.block;
    c.emb = r.emb;
    c.hidden = r.hidden;
    c.init = r.init;
    c.seed = seed;
    c.samples = 0;
    c.int8 = a.int8;
    c.schedule = if r.schedule == "cosine" {
        Schedule::Cosine {
            lr: 0.1,
            lr_min: 0.005,
            steps,
        }
    } else {
        Schedule::Step {
            lr: 0.1,
            decay_at: steps / 2,
            lr_after: 0.01,
        }
    };
    c
}

/// The seed of row `r`, repetition `s`.
fn seed_of(base: u64, r: usize, s: u64) -> u64 {
    base.wrapping_add(1000u64.wrapping_mul(r as u64))
        .wrapping_add(s)
}

/// Checks the flags and every row before anything trains.
fn validate(a: &SweepArgs, rows: &[Row]) -> Result<(), RunError> {
    check("--seeds", a.seeds, "at least 1", |s| s >= 1)?;
    check("--steps-scale", a.steps_scale, "finite and > 0", |s| {
        s.is_finite() && s > 0.0
    })?;
    if let Some(j) = a.jobs {
        check("--jobs", j, "at least 1", |j| j >= 1)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let c = config(a, r, seed_of(a.seed, i, 0));
        check("row steps", r.steps, "at least 1", |s| s >= 1)?;
        c.validate()?;
    }
    Ok(())
}

/// Runs every (row, seed) job on a `rayon` pool of `jobs` threads, printing progress; results in
/// row order.
fn run_all(a: &SweepArgs, rows: &[Row], jobs: usize) -> Vec<Outcome> {
    use rayon::prelude::*;
    let work: Vec<(usize, u64)> = (0..rows.len())
        .flat_map(|r| (0..a.seeds).map(move |s| (r, s)))
        .collect();
    let t0 = Instant::now();
    let done = AtomicUsize::new(0);
    let job = |&(r, rep): &(usize, u64)| {
        let row = &rows[r];
        let cfg = config(a, row, seed_of(a.seed, r, rep));
        let res = train::run(&cfg).map_err(|e| e.to_string());
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if !a.quiet {
            match &res {
                Ok(rp) => eprintln!(
                    "[{n}/{}] {:>6.1}s  block {} emb {} hidden {} batch {} steps {}: dev {:.4} ({:.1}s, {:.1} µs/step)",
                    work.len(),
                    t0.elapsed().as_secs_f64(),
                    row.block,
                    row.emb,
                    row.hidden,
                    row.batch,
                    cfg.steps,
                    rp.dev_loss.unwrap_or(f32::NAN),
                    rp.seconds,
                    rp.us_per_step
                ),
                Err(e) => eprintln!("[{n}/{}] row {}: error: {e}", work.len(), r + 1),
            }
        }
        res
    };
    let results: Vec<Result<Report, String>> =
        match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
            Ok(pool) => pool.install(|| work.par_iter().map(job).collect()),
            // No threads to be had: run the jobs here, one after another.
            Err(_) => work.iter().map(job).collect(),
        };
    let mut out: Vec<Outcome> = rows
        .iter()
        .map(|r| Outcome {
            row: r.clone(),
            runs: Vec::new(),
        })
        .collect();
    for ((r, _), res) in work.iter().zip(results) {
        out[*r].runs.push(res);
    }
    out
}

/// The table goes to stdout — or to stderr when `--csv -` or `--json -` put data there.
static TABLE_TO_STDERR: AtomicBool = AtomicBool::new(false);

macro_rules! say {
    ($($t:tt)*) => {
        if TABLE_TO_STDERR.load(Ordering::Relaxed) {
            eprintln!($($t)*);
        } else {
            println!($($t)*);
        }
    };
}

fn print_table(out: &[Outcome]) {
    say!(
        "| block | neurons | features | init | steps | batch | params | train | dev | test | reported | Δ test | seconds |"
    );
    say!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in out {
        let runs: Vec<&Report> = o.ok().collect();
        let Some(r0) = runs.first() else {
            say!(
                "| {} | {} | {} | {} | – | {} | – | failed | | | | | |",
                o.row.block,
                o.row.hidden,
                o.row.emb,
                o.row.init.name(),
                o.row.batch
            );
            continue;
        };
        let f = |g: fn(&Report) -> Option<f32>| {
            mean_spread(&runs.iter().filter_map(|r| g(r)).collect::<Vec<_>>())
        };
        let cell = |x: Option<(f32, f32)>| x.map_or("–".to_string(), |(m, _)| format!("{m:.4}"));
        let te = f(|r| r.test_loss);
        let test = match te {
            None => "–".to_string(),
            Some((m, s)) if runs.len() > 1 => format!("{m:.4} ± {s:.4}"),
            Some((m, _)) => format!("{m:.4}"),
        };
        let (rep, delta) = match (o.row.reported, te) {
            (Some(r), Some((m, _))) => (format!("{r:.4}"), format!("{:+.4}", m - r)),
            (Some(r), None) => (format!("{r:.4}"), "–".into()),
            _ => ("–".into(), "–".into()),
        };
        let secs = runs.iter().map(|r| r.seconds).sum::<f64>() / runs.len() as f64;
        say!(
            "| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            o.row.block,
            o.row.hidden,
            o.row.emb,
            o.row.init.name(),
            if o.row.schedule == "step" {
                String::new()
            } else {
                format!(" {}", o.row.schedule)
            },
            r0.steps,
            o.row.batch,
            r0.params,
            cell(f(|r| r.train_loss)),
            cell(f(|r| r.dev_loss)),
            test,
            rep,
            delta,
            secs
        );
    }
}

/// With `--int8`: each row's f32 and int8 dev and test loss (means over the seeds).
fn print_int8_table(out: &[Outcome]) {
    say!("\nint8 (post-training quantization of each trained model, `convert --quantize int8`):\n");
    say!(
        "| block | neurons | features | params | f32 dev | int8 dev | Δ dev | f32 test | int8 test | Δ test |"
    );
    say!("|---|---|---|---|---|---|---|---|---|---|");
    for o in out {
        let runs: Vec<&Report> = o.ok().collect();
        let Some(r0) = runs.first() else { continue };
        let mean = |g: fn(&Report) -> Option<f32>| {
            mean_spread(&runs.iter().filter_map(|r| g(r)).collect::<Vec<_>>()).map(|(m, _)| m)
        };
        let cell = |x: Option<f32>| x.map_or("–".to_string(), |m| format!("{m:.4}"));
        let delta = |a: Option<f32>, b: Option<f32>| match (a, b) {
            (Some(a), Some(b)) => format!("{:+.4}", b - a),
            _ => "–".to_string(),
        };
        let (fd, qd) = (mean(|r| r.dev_loss), mean(|r| r.int8_dev_loss));
        let (ft, qt) = (mean(|r| r.test_loss), mean(|r| r.int8_test_loss));
        say!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            o.row.block,
            o.row.hidden,
            o.row.emb,
            r0.params,
            cell(fd),
            cell(qd),
            delta(fd, qd),
            cell(ft),
            cell(qt),
            delta(ft, qt)
        );
    }
}

/// One result row of the CSV and JSON outputs.
#[derive(Debug, Serialize)]
struct OutRow {
    block: usize,
    emb: usize,
    hidden: usize,
    init: &'static str,
    schedule: &'static str,
    steps: u64,
    batch: usize,
    params: usize,
    seed: u64,
    train_loss: Option<f32>,
    dev_loss: Option<f32>,
    test_loss: Option<f32>,
    int8_dev_loss: Option<f32>,
    int8_test_loss: Option<f32>,
    reported_test_loss: Option<f32>,
    seconds: f64,
    us_per_step: f64,
}

fn write_outputs(a: &SweepArgs, out: &[Outcome]) -> Result<(), RunError> {
    let rows: Vec<OutRow> = out
        .iter()
        .flat_map(|o| {
            o.ok().map(move |r| OutRow {
                block: r.block,
                emb: r.emb,
                hidden: r.hidden,
                init: r.init,
                schedule: o.row.schedule,
                steps: r.steps,
                batch: r.batch,
                params: r.params,
                seed: r.seed,
                train_loss: r.train_loss,
                dev_loss: r.dev_loss,
                test_loss: r.test_loss,
                int8_dev_loss: r.int8_dev_loss,
                int8_test_loss: r.int8_test_loss,
                reported_test_loss: o.row.reported,
                seconds: r.seconds,
                us_per_step: r.us_per_step,
            })
        })
        .collect();
    if let Some(p) = &a.csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let csv_err = |e: csv::Error| RunError::Io {
            path: p.clone(),
            err: std::io::Error::other(e),
        };
        for r in &rows {
            w.serialize(r).map_err(csv_err)?;
        }
        let bytes = w.into_inner().map_err(|e| csv_err(e.into_error().into()))?;
        write_output(p, &bytes)?;
    }
    if let Some(p) = &a.json {
        #[derive(Serialize)]
        struct Doc<'a> {
            rows: &'a [OutRow],
        }
        let s = serde_json::to_string(&Doc { rows: &rows }).unwrap_or_default() + "\n";
        write_output(p, s.as_bytes())?;
    }
    if let Some(p) = &a.plot {
        let pts: Vec<(f64, f64, String)> = out
            .iter()
            .filter_map(|o| {
                let t: Vec<f32> = o.ok().filter_map(|r| r.test_loss).collect();
                let (m, _) = mean_spread(&t)?;
                let r0 = o.ok().next()?;
                Some((
                    r0.params as f64,
                    f64::from(m),
                    format!("{}/{}/{}", o.row.block, o.row.hidden, o.row.emb),
                ))
            })
            .collect();
        if !pts.is_empty() {
            crate::plots::sweep(p, &pts)?;
        }
    }
    Ok(())
}

/// The search's candidates: every grid shape using between a quarter and all of the parameter
/// budget (for the data's vocabulary size), with the `scaled` init and each schedule.
fn search_rows(a: &SweepArgs, vocab: usize) -> Result<Vec<Row>, RunError> {
    let mut rows = Vec::new();
    for sched in &a.grid_schedule {
        let schedule = match sched.as_str() {
            "step" => "step",
            "cosine" => "cosine",
            _ => {
                return Err(FlagError {
                    flag: "--grid-schedule",
                    value: sched.clone(),
                    expected: "a list of step, cosine",
                }
                .into());
            }
        };
        for &block in &a.grid_block {
            for &emb in &a.grid_emb {
                for &hidden in &a.grid_hidden {
                    let Ok(s) = Shape::new(vocab, block, emb, hidden) else {
                        continue;
                    };
                    let params = s.param_count();
                    if params > a.budget_params || params * 4 < a.budget_params {
                        continue;
                    }
                    rows.push(Row {
                        block,
                        emb,
                        hidden,
                        steps: a.budget_steps,
                        batch: 32,
                        reported: None,
                        init: Init::Scaled,
                        schedule,
                    });
                }
            }
        }
    }
    // The largest first, so the slow ones overlap.
    rows.sort_by_key(|r| {
        std::cmp::Reverse(
            Shape::new(vocab, r.block, r.emb, r.hidden).map_or(0, |s| s.param_count()),
        )
    });
    Ok(rows)
}

/// `sweep`: trains the rows and prints the table (and writes `--csv`, `--json`, `--plot`).
pub fn main(a: &SweepArgs) -> ExitCode {
    match sweep(a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => crate::fail(&e),
    }
}

/// Runs the sweep; `Ok(false)` if some rows failed (the others are still reported and written).
///
/// # Errors
/// Flags or rows out of range, an unreadable data or rows file — before anything trains.
pub fn sweep(a: &SweepArgs) -> Result<bool, RunError> {
    let init = match a.init {
        InitArg::Randn => Init::Randn,
        InitArg::Scaled => Init::Scaled,
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let t0 = Instant::now();
    let rows = if a.search {
        // The vocabulary size decides the parameter count: load the data once to know it.
        let corpus = crate::load_corpus(&a.data, None, &Default::default()).map_err(|err| {
            RunError::Data {
                path: a.data.clone(),
                err,
            }
        })?;
        search_rows(a, corpus.vocab().len())?
    } else if let Some(p) = &a.rows {
        parse_rows(p, init)?
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
                schedule: "step",
            })
            .collect()
    };
    if rows.is_empty() {
        return Err(FlagError {
            flag: "--budget-params",
            value: a.budget_params.to_string(),
            expected: "a budget that some shape of the grid fits (between a quarter and all of it)",
        }
        .into());
    }
    validate(a, &rows)?;
    for p in [&a.csv, &a.json, &a.plot].into_iter().flatten() {
        check_output_file(p)?;
    }
    let dash = Some(Path::new("-"));
    TABLE_TO_STDERR.store(
        a.csv.as_deref() == dash || a.json.as_deref() == dash,
        Ordering::Relaxed,
    );
    if !a.quiet {
        eprintln!("{} rows × {} seeds on {jobs} threads", rows.len(), a.seeds);
    }
    let mut out = run_all(a, &rows, jobs);
    let failed: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, o)| o.runs.iter().any(Result::is_err))
        .map(|(i, _)| i + 1)
        .collect();
    if a.search {
        // Choose on dev only; the test loss is reported once, for the winner: every other
        // candidate's test loss is withheld from the table and the files.
        let dev = |o: &Outcome| mean_spread(&o.ok().filter_map(|r| r.dev_loss).collect::<Vec<_>>());
        let best = (0..out.len())
            .filter(|&i| dev(&out[i]).is_some())
            .min_by(|&x, &y| {
                let (dx, dy) = (
                    dev(&out[x]).map_or(f32::MAX, |d| d.0),
                    dev(&out[y]).map_or(f32::MAX, |d| d.0),
                );
                dx.total_cmp(&dy)
            });
        for (i, o) in out.iter_mut().enumerate() {
            if Some(i) != best {
                for r in o.runs.iter_mut().flatten() {
                    r.test_loss = None;
                }
            }
        }
        print_table(&out);
        if let Some(o) = best.map(|i| &out[i])
            && let Some(r) = o.ok().next()
        {
            let row = &o.row;
            say!(
                "\nwinner (by dev loss): block {} emb {} hidden {} init {} schedule {} params {}: dev {:.4}, test {:.4}",
                row.block,
                row.emb,
                row.hidden,
                row.init.name(),
                row.schedule,
                r.params,
                r.dev_loss.unwrap_or(f32::NAN),
                r.test_loss.unwrap_or(f32::NAN)
            );
        }
    } else {
        print_table(&out);
    }
    if a.int8 {
        print_int8_table(&out);
    }
    write_outputs(a, &out)?;
    if !failed.is_empty() {
        eprintln!(
            "error: rows {} failed (see above); the others are reported",
            failed
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    eprintln!("wall time {:.1} s", t0.elapsed().as_secs_f64());
    Ok(failed.is_empty())
}
