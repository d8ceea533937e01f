//! The relayctl binary: parse the command line, run the command, map the outcome to an exit code.

use clap::Parser;

use relayctl::cli::{Cli, Command, OutputFormat};
use relayctl::error::{Error, exit_code};
use relayctl::host_outcome::HostStatus;
use relayctl::report::{self, RunReport};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() {
                exit_code::BAD_OPTIONS
            } else {
                exit_code::SUCCESS
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("relayctl: cannot start the async runtime: {e}");
            std::process::exit(exit_code::ERROR);
        }
    };
    let code = runtime.block_on(async {
        tokio::select! {
            code = run(&cli) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("relayctl: interrupted");
                exit_code::INTERRUPTED
            }
        }
    });
    std::process::exit(code);
}

async fn run(cli: &Cli) -> i32 {
    let (result, format) = match &cli.command {
        Command::Apply(args) => (relayctl::commands::apply::run(args).await, args.run.format),
        Command::Flows(args) => (relayctl::commands::flows::run(args).await, args.run.format),
        Command::Facts(args) => (relayctl::commands::facts::run(args).await, args.run.format),
        Command::Inventory(args) => {
            return match relayctl::commands::inventory::run(args) {
                Ok(text) => {
                    // A reader that stops early (`| head`) is no failure of the listing.
                    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
                    exit_code::SUCCESS
                }
                Err(error) => {
                    print_error(&error);
                    error.exit_code()
                }
            };
        }
    };
    match result {
        Ok(report) => {
            print_report(&report, format);
            match &report.written {
                Some(written) if written.error.is_some() => {
                    eprintln!(
                        "relayctl: the confirmations report could not be written under {}: {}",
                        written.dir.display(),
                        written.error.as_deref().unwrap_or_default()
                    );
                    outcome_code(&report).max(exit_code::ERROR)
                }
                Some(written) => {
                    eprintln!(
                        "relayctl: confirmations report: {} files under {}",
                        written.files.len(),
                        written.dir.display()
                    );
                    outcome_code(&report)
                }
                None => outcome_code(&report),
            }
        }
        Err(error) => {
            print_error(&error);
            error.exit_code()
        }
    }
}

fn print_report(report: &RunReport, format: OutputFormat) {
    let text = match format {
        OutputFormat::Human => report::human::render(report),
        OutputFormat::Json => report::json::render(report),
        OutputFormat::Junit => report::junit::render(report),
    };
    println!("{}", text.trim_end());
}

fn print_error(error: &Error) {
    match error {
        Error::Input(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            eprintln!("relayctl: invalid input; no host was contacted");
        }
        other => eprintln!("relayctl: {other}"),
    }
}

/// Unreachable hosts outrank failed ones (nothing at all could be done there), which outrank
/// changes pending in `--check`.
fn outcome_code(report: &RunReport) -> i32 {
    let any = |status| report.hosts.iter().any(|h| h.status == status);
    if any(HostStatus::Unreachable) {
        exit_code::HOST_UNREACHABLE
    } else if any(HostStatus::Failed) {
        exit_code::HOST_FAILED
    } else if report.changes_pending() {
        exit_code::CHANGES_PENDING
    } else {
        exit_code::SUCCESS
    }
}
