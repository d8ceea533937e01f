//! The shell side of the flow checks, and the parsers of what it prints.
//!
//! - The **listener** (FLUX's `listen_ports_debian.sh -r` step): on the relay, as root, one perl
//!   process (perl-base is part of every Debian, so nothing is installed) listens on every inbound
//!   port nothing listens on yet, accepts and closes connections, and exits when its stdin closes:
//!   when relayctl releases it, and also when relayctl dies, since the SSH channel then closes.
//!   An alarm bounds its life if even that fails. A port something already listens on is
//!   reported `busy` and used as is.
//! - The **connect test**, on the host that initiates the flows: one perl process (perl-base
//!   again) starts a non-blocking TCP connection to every target at once and waits for them
//!   together, each line `ID MS RESULT [DETAIL]`. One process per host and check, where a shell's
//!   `/dev/tcp` under `timeout` costs five per port: at 50 relays the Medulla server alone had
//!   to spawn thousands.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{FlowOutcome, Listener};
use crate::sh;

/// The line the listener prints once every socket is open.
pub const LISTENER_READY: &str = "ready";

/// The listener for `ports`, living at most `lifetime`.
pub fn listener(ports: &[u16], lifetime: Duration) -> String {
    // No single quote in the perl program: it travels inside sh -c '...'.
    let program = r#"
use IO::Socket::INET; use IO::Select;
$SIG{ALRM} = sub { exit 0 }; alarm(shift @ARGV);
$| = 1;
my $select = IO::Select->new(\*STDIN);
for my $port (@ARGV) {
  my $socket = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $port, Proto => "tcp", Listen => 64, ReuseAddr => 1);
  if ($socket) { $select->add($socket); print "listening $port\n" }
  elsif ($!{EADDRINUSE}) { print "busy $port\n" }
  else { print "failed $port $!\n" }
}
print "ready\n";
while (1) {
  for my $handle ($select->can_read) {
    if (fileno($handle) == fileno(STDIN)) { exit 0 unless sysread(STDIN, my $buffer, 4096) }
    else { my $client = $handle->accept; close $client if $client }
  }
}
"#;
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    format!(
        "exec perl -e {} {} {}\n",
        sh::quote(program),
        lifetime.as_secs().max(1),
        ports.join(" ")
    )
}

/// What the listener said about each port, or why it could not listen.
pub fn parse_listener(output: &str) -> BTreeMap<u16, Result<Listener, String>> {
    let mut ports = BTreeMap::new();
    for line in output.lines() {
        let mut words = line.splitn(3, ' ');
        let (Some(word), Some(port)) = (words.next(), words.next().and_then(|p| p.parse().ok()))
        else {
            continue;
        };
        let state = match word {
            "listening" => Ok(Listener::Temporary),
            "busy" => Ok(Listener::Existing),
            "failed" => Err(words.next().unwrap_or("cannot listen").to_string()),
            _ => continue,
        };
        ports.insert(port, state);
    }
    ports
}

/// One connection to make: its id in the output, the address and the port.
pub struct Target<'a> {
    pub id: usize,
    pub address: &'a str,
    pub port: u16,
}

/// The connect test: every target at once, each within `timeout`.
pub fn connect_test(targets: &[Target], timeout: Duration) -> String {
    // No single quote in the perl program: it travels inside sh -c '...'. perl-base has no
    // Time::HiRes: the clock is the time each select(2) waited (Linux gives back the time left).
    let program = r#"
use IO::Socket::IP; use Socket qw(SOL_SOCKET SO_ERROR); use Errno qw(ECONNREFUSED);
$| = 1;
my $timeout = shift @ARGV;
my (%pending, $clock);
$clock = 0;
while (@ARGV) {
  my ($id, $host, $port) = splice(@ARGV, 0, 3);
  my $socket = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => "tcp", Blocking => 0);
  if ($socket) { $pending{fileno $socket} = [$id, $socket]; next }
  my $why = $!{ECONNREFUSED} ? "refused" : "error " . ($@ || $!);
  $why =~ s/\s+/ /g;
  print "$id 0 $why\n";
}
while (%pending && $clock < $timeout) {
  my $ready = "";
  vec($ready, $_, 1) = 1 for keys %pending;
  my $wait = $timeout - $clock;
  my ($found, $left) = select(undef, $ready, undef, $wait);
  $clock += $wait - $left;
  for my $fd (keys %pending) {
    next unless vec($ready, $fd, 1);
    my ($id, $socket) = @{delete $pending{$fd}};
    my $error = unpack("i", getsockopt($socket, SOL_SOCKET, SO_ERROR));
    my $ms = int($clock * 1000);
    if ($error == 0) { print "$id $ms open\n" }
    elsif ($error == ECONNREFUSED) { print "$id $ms refused\n" }
    else { local $! = $error; print "$id $ms error $!\n" }
    close $socket;
  }
}
print "$_->[0] ", int($timeout * 1000), " filtered\n" for values %pending;
"#;
    let mut script = format!(
        "exec perl -e {} {}",
        sh::quote(program),
        timeout.as_secs().max(1)
    );
    for target in targets {
        script.push_str(&format!(
            " {} {} {}",
            target.id,
            sh::quote(target.address),
            target.port
        ));
    }
    script.push('\n');
    script
}

/// A connect test's line per id: the outcome, the time, a detail for errors.
pub fn parse_connect(output: &str) -> BTreeMap<usize, (FlowOutcome, u64, Option<String>)> {
    let mut results = BTreeMap::new();
    for line in output.lines() {
        let mut words = line.splitn(4, ' ');
        let (Some(id), Some(ms), Some(result)) = (
            words.next().and_then(|w| w.parse().ok()),
            words.next().and_then(|w| w.parse().ok()),
            words.next(),
        ) else {
            continue;
        };
        let (outcome, detail) = match result {
            "open" => (FlowOutcome::Open, None),
            "refused" => (FlowOutcome::Refused, None),
            "filtered" => (
                FlowOutcome::Filtered,
                Some("no answer within the timeout".into()),
            ),
            _ => (
                FlowOutcome::Error,
                Some(words.next().unwrap_or("connect failed").trim().to_string()),
            ),
        };
        results.insert(id, (outcome, ms, detail));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> String {
        let output = std::process::Command::new("sh")
            .args(["-c", script])
            .output()
            .expect("sh runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    #[test]
    fn the_connect_test_tells_open_from_refused() {
        let open = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let open_port = open.local_addr().expect("addr").port();
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let script = connect_test(
            &[
                Target {
                    id: 0,
                    address: "127.0.0.1",
                    port: open_port,
                },
                Target {
                    id: 1,
                    address: "127.0.0.1",
                    port: closed_port,
                },
            ],
            Duration::from_secs(1),
        );
        let results = parse_connect(&sh(&script));
        assert_eq!(results[&0].0, FlowOutcome::Open, "{results:?}");
        assert_eq!(results[&1].0, FlowOutcome::Refused, "{results:?}");
    }

    #[test]
    fn a_name_that_does_not_resolve_is_an_error_with_the_reason() {
        let script = connect_test(
            &[Target {
                id: 5,
                address: "no-such-host.invalid",
                port: 22,
            }],
            Duration::from_secs(1),
        );
        let results = parse_connect(&sh(&script));
        let (outcome, _, detail) = &results[&5];
        assert_eq!(*outcome, FlowOutcome::Error, "{results:?}");
        assert!(
            detail.as_deref().is_some_and(|d| !d.is_empty()),
            "{results:?}"
        );
    }

    /// A dropped SYN needs a firewall: the lab tests make one; here, the lines it gives.
    #[test]
    fn timeouts_and_other_errors_are_read_with_their_detail() {
        let results = parse_connect("3 3001 filtered\n4 12 error No route to host\n");
        assert_eq!(results[&3].0, FlowOutcome::Filtered);
        assert_eq!(results[&3].1, 3001);
        assert_eq!(
            results[&4],
            (FlowOutcome::Error, 12, Some("No route to host".into()))
        );
    }

    #[test]
    fn listener_lines_are_read_port_by_port() {
        let ports = parse_listener("listening 5269\nbusy 22\nfailed 80 Permission denied\nready\n");
        assert_eq!(ports[&5269], Ok(Listener::Temporary));
        assert_eq!(ports[&22], Ok(Listener::Existing));
        assert_eq!(ports[&80], Err("Permission denied".into()));
    }

    #[test]
    fn the_listener_listens_reports_busy_ports_and_ends_with_its_stdin() {
        let busy = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
        let busy_port = busy.local_addr().expect("addr").port();
        let free_port = {
            let l = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                &listener(&[free_port, busy_port], Duration::from_secs(30)),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh runs");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut text = String::new();
        loop {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut stdout, &mut line).expect("read") == 0 {
                break;
            }
            text.push_str(&line);
            if line.trim() == LISTENER_READY {
                break;
            }
        }
        let ports = parse_listener(&text);
        assert_eq!(ports[&free_port], Ok(Listener::Temporary), "{text}");
        assert_eq!(ports[&busy_port], Ok(Listener::Existing), "{text}");
        assert!(std::net::TcpStream::connect(("127.0.0.1", free_port)).is_ok());
        drop(child.stdin.take());
        let status = child.wait().expect("exits");
        assert!(status.success());
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", free_port)).is_err(),
            "the port is closed once the listener's stdin closed"
        );
    }
}
