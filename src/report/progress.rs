//! What the operator sees on stderr while hosts are worked on: one indicatif line per host in flight
//! (only on a terminal, so CI logs stay clean), and with `-v` / `-vv` a log line per step.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Owns stderr during a run: progress bars and verbose log lines never garble each other.
pub struct Progress {
    bars: Option<MultiProgress>,
    verbosity: u8,
}

/// The progress line and log of one host; cheap to clone into a host's task.
#[derive(Clone)]
pub struct HostProgress {
    name: String,
    bar: Option<ProgressBar>,
    bars: Option<MultiProgress>,
    verbosity: u8,
}

impl Progress {
    /// Bars are shown only when stderr is a terminal and `bars_wanted` (human output).
    pub fn new(bars_wanted: bool, verbosity: u8) -> Self {
        let visible = bars_wanted && std::io::stderr().is_terminal();
        Progress {
            bars: visible
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))),
            verbosity,
        }
    }

    pub fn host(&self, name: &str) -> HostProgress {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<24} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        HostProgress {
            name: name.to_string(),
            bar,
            bars: self.bars.clone(),
            verbosity: self.verbosity,
        }
    }
}

impl HostProgress {
    /// A step of the host's work: shown on its bar, and logged with `-v`.
    pub fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
        if self.verbosity >= 1 {
            self.log(message);
        }
    }

    /// A detail (SSH steps, timings of each command): logged with `-vv`.
    pub fn detail(&self, message: &str) {
        if self.verbosity >= 2 {
            self.log(message);
        }
    }

    /// From now on the host has `total` tasks to run: its line becomes a bar.
    pub fn start_tasks(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:<24} [{bar:20}] {pos}/{len} {msg} {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_length(total as u64);
            bar.set_position(0);
        }
    }

    /// One more task done.
    pub fn task_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn log(&self, message: &str) {
        let line = format!("{}: {message}", self.name);
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}
