//! What a training run reports: printed, and written as JSON with `--json`.

use serde::Serialize;

/// What a training run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// B.
    pub block: usize,
    /// E.
    pub emb: usize,
    /// H.
    pub hidden: usize,
    /// V: symbols, `.` included.
    pub vocab_size: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Steps trained in total.
    pub steps: u64,
    /// Initialization name.
    pub init: &'static str,
    /// Learning-rate schedule name.
    pub schedule: &'static str,
    /// Seed.
    pub seed: u64,
    /// Parameter count.
    pub params: usize,
    /// Wall-clock seconds of the training loop in this process.
    pub seconds: f64,
    /// Microseconds per step in this process.
    pub us_per_step: f64,
    /// Mean loss on the full training split (`None` if the run stopped early).
    pub train_loss: Option<f32>,
    /// Mean loss on the full dev split.
    pub dev_loss: Option<f32>,
    /// Mean loss on the full test split.
    pub test_loss: Option<f32>,
    /// With `--int8`: the int8 quantization's mean loss on the full dev split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub int8_dev_loss: Option<f32>,
    /// With `--int8`: the same on the test split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub int8_test_loss: Option<f32>,
    /// The kernel path that ran.
    pub kernel: &'static str,
    /// Sampled names.
    pub samples: Vec<String>,
    /// Where each sampled name comes from (train, dev, test, new).
    pub sample_tags: Vec<crate::train::SampleTag>,
    /// How many samples come from each split, and how many are new.
    pub sample_counts: crate::train::SampleCounts,
    /// The step of the best parameters by the dev subsample's loss (`best.bin`).
    pub best_step: Option<u64>,
    /// That loss (on the subsample of `--eval-rows` pairs, not the full dev split).
    pub best_dev_sample_loss: Option<f32>,
    /// (step, dev subsample loss) of every evaluation (not in the JSON: see `metrics.jsonl`).
    #[serde(skip)]
    pub dev_curve: Vec<(u64, f32)>,
    /// Whether the run stopped early (`--stop-after`).
    pub stopped_early: bool,
    /// log10 of each step's minibatch loss (if kept; not in the JSON).
    #[serde(skip)]
    pub history: Vec<f32>,
}

impl Report {
    /// One JSON object with every field but the history.
    pub fn to_json(&self) -> String {
        // Serializing plain fields into a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
