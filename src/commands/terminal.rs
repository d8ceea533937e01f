//! The terminal's side of [`crate::progress`]: what the operator sees on stderr while hosts are
//! worked on. One indicatif line per host in flight (only on a terminal, so CI logs stay clean),
//! and with `-v` / `-vv` a log line per step.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{OutputFormat, RunArgs};
use crate::progress::{HostProgress, HostReporter, Progress};

/// Owns stderr during a run: progress bars and verbose log lines never garble each other.
pub struct TerminalProgress {
    bars: Option<MultiProgress>,
    verbosity: u8,
}

/// The progress line and log of one host.
struct HostLine {
    name: String,
    bar: Option<ProgressBar>,
    bars: Option<MultiProgress>,
    verbosity: u8,
}

impl TerminalProgress {
    /// Bars only for human output, and only when stderr is a terminal; log lines as `-v` says.
    pub fn for_run(run: &RunArgs) -> Self {
        let visible = run.format == OutputFormat::Human && std::io::stderr().is_terminal();
        TerminalProgress {
            bars: visible
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))),
            verbosity: run.verbose,
        }
    }
}

impl Progress for TerminalProgress {
    fn host(&self, name: &str) -> HostProgress {
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
        HostProgress::new(HostLine {
            name: name.to_string(),
            bar,
            bars: self.bars.clone(),
            verbosity: self.verbosity,
        })
    }
}

impl HostReporter for HostLine {
    /// Shown on the host's bar, and logged with `-v`.
    fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
        if self.verbosity >= 1 {
            self.log(message);
        }
    }

    /// Logged with `-vv`.
    fn detail(&self, message: &str) {
        if self.verbosity >= 2 {
            self.log(message);
        }
    }

    /// The host's line becomes a bar.
    fn start_tasks(&self, total: usize) {
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

    fn task_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl HostLine {
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
