//! Progress on stderr while hosts are worked on: one indicatif line per host in flight. Hidden when
//! stderr is not a terminal (CI logs stay clean) or NO_COLOR/--format json asks for quiet output.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Owns the progress bars of a run.
pub struct Progress {
    bars: Option<MultiProgress>,
}

/// The progress line of one host; a no-op when progress is hidden.
pub struct HostProgress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Shows progress only when stderr is a terminal and `enabled`.
    pub fn new(enabled: bool) -> Self {
        let visible = enabled && std::io::stderr().is_terminal();
        Progress {
            bars: visible
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))),
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
        HostProgress { bar }
    }
}

impl HostProgress {
    pub fn step(&self, message: &'static str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
