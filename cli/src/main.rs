//! `charmlp`: train, sample, score, evaluate, convert and sweep character-level MLP language
//! models.

use std::process::ExitCode;

use charmlp_cli::{convert, eval, finetune, sample, sweep, train};
use clap::{Parser, Subcommand};

/// Character-level MLP language models (Bengio 2003 / makemore part 2): train on any text,
/// sample names, evaluate, convert to and from safetensors, sweep settings.
#[derive(Parser, Debug)]
#[command(name = "charmlp", version = charmlp_cli::VERSION, long_version = charmlp_cli::long_version())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model (the lecture's recipe by default).
    Train(train::TrainArgs),
    /// Sample names from a weights file.
    Sample(sample::SampleArgs),
    /// Score names: their log-likelihood under a model.
    Score(sample::ScoreArgs),
    /// Evaluate a weights file on a dataset.
    Eval(eval::EvalArgs),
    /// Fine-tune a weights file on a short list (what the on-device fine-tuning does).
    Finetune(finetune::FineTuneArgs),
    /// Convert between .bin and .safetensors.
    Convert(convert::ConvertArgs),
    /// Reproduce the homework table, or search shapes under a budget.
    Sweep(sweep::SweepArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Train(a) => train::main(&a),
        Command::Sample(a) => sample::main(&a),
        Command::Score(a) => sample::score_main(&a),
        Command::Eval(a) => eval::main(&a),
        Command::Finetune(a) => finetune::main(&a),
        Command::Convert(a) => convert::main(&a),
        Command::Sweep(a) => sweep::main(&a),
    }
}
