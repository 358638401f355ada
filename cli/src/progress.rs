//! The trainer's progress bar on stderr (`indicatif`): steps, rate, ETA, the minibatch loss and
//! its running average, the learning rate and the last dev loss. Hidden when stderr is not a
//! terminal (logs and pipes stay clean) and with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps between updates of the bar's message (formatting costs more than a step's bookkeeping).
const MESSAGE_EVERY: u64 = 64;

/// The progress of one run.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    ema: Option<f32>,
    dev: Option<f32>,
}

impl Progress {
    /// Progress of a run of `steps` steps that starts at `start_step`; hidden unless `on`.
    pub fn new(on: bool, start_step: u64, steps: u64) -> Self {
        let target = if on {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(steps), target);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos:>7}/{len} {per_sec:>12} ETA {eta:>4} {msg}")
        {
            bar.set_style(style);
        }
        bar.set_position(start_step);
        bar.reset_eta();
        Progress {
            bar,
            ema: None,
            dev: None,
        }
    }

    /// Records step `done` (1-based) with its loss and rate.
    pub fn step(&mut self, done: u64, loss: f32, lr: f32) {
        self.ema = Some(self.ema.map_or(loss, |e| 0.99 * e + 0.01 * loss));
        self.bar.set_position(done);
        if done.is_multiple_of(MESSAGE_EVERY) {
            let dev = self.dev.map_or(String::new(), |d| format!(" dev {d:.4}"));
            self.bar.set_message(format!(
                "loss {loss:.4} (avg {:.4}) lr {lr}{dev}",
                self.ema.unwrap_or(loss)
            ));
        }
    }

    /// Records a dev-loss evaluation (shown with the next message).
    pub fn dev_loss(&mut self, dev: f32) {
        self.dev = Some(dev);
    }

    /// Removes the bar (before the report is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
