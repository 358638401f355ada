//! Progress lines on stderr while a run trains.

use std::time::Instant;

/// Prints a progress line at most every two seconds.
#[derive(Debug)]
pub struct Progress {
    on: bool,
    start_step: u64,
    steps: u64,
    t0: Instant,
    last: Instant,
    ema: Option<f32>,
}

impl Progress {
    /// Progress of a run of `steps` steps that starts at `start_step`; silent unless `on`.
    pub fn new(on: bool, start_step: u64, steps: u64) -> Self {
        let now = Instant::now();
        Progress {
            on,
            start_step,
            steps,
            t0: now,
            last: now,
            ema: None,
        }
    }

    /// Records step `done` (1-based) with its loss and rate; prints if due.
    pub fn step(&mut self, done: u64, loss: f32, lr: f32) {
        self.ema = Some(self.ema.map_or(loss, |e| 0.99 * e + 0.01 * loss));
        if !self.on || self.last.elapsed().as_secs_f64() < 2.0 {
            return;
        }
        self.last = Instant::now();
        let rate = (done - self.start_step) as f64 / self.t0.elapsed().as_secs_f64();
        let eta = self.steps.saturating_sub(done) as f64 / rate;
        eprintln!(
            "step {done:>8}/{} loss {loss:.4} (avg {:.4}) lr {lr} {rate:.0} steps/s ETA {eta:.1}s",
            self.steps,
            self.ema.unwrap_or(loss),
        );
    }
}
