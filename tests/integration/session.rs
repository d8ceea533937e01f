//! The SSH session API against a real sshd: many channels over one connection, a command that
//! overruns its timeout is killed on the host, and hosts behind one bastion share one connection to it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use relayctl::ssh::{
    Become, Connector, Credentials, Endpoint, HostKeyPolicy, PassphraseSource, SshError, Target,
};

use crate::harness::{docker_exec, relay_with_var, state_dir};

fn target(command_timeout: Duration) -> (Target, Arc<Credentials>) {
    let relay = relay_with_var("xfs400");
    let key: PathBuf = state_dir().join("id_ed25519");
    let target = Target {
        endpoint: Endpoint {
            address: relay.ip.clone(),
            port: 22,
            user: "admin".into(),
        },
        key_file: Some(key.clone()),
        jump: None,
        known_hosts: state_dir().join("known_hosts"),
        host_key_policy: HostKeyPolicy::Strict,
        connect_timeout: Duration::from_secs(10),
        command_timeout,
        escalation: Become::Sudo,
    };
    let credentials =
        Credentials::load(&[key], false, &PassphraseSource::EnvOnly).expect("lab key loads");
    (target, Arc::new(credentials))
}

#[tokio::test]
async fn more_commands_than_sshd_allows_sessions_share_one_connection() {
    let (target, credentials) = target(Duration::from_secs(60));
    let session = Connector::new(credentials)
        .connect(&target)
        .await
        .expect("connects");
    // OpenSSH's MaxSessions is 10: 30 concurrent commands must queue, not fail. Each reports the
    // client side of its TCP connection: one connection means one source port for all.
    let runs = (0..30).map(|i| {
        let session = &session;
        async move {
            session
                .run_privileged(&format!("echo {i} \"$1\"; id -u"), b"")
                .await
        }
    });
    let outputs = futures::future::join_all(runs).await;
    let mut connections = std::collections::BTreeSet::new();
    for (i, output) in outputs.into_iter().enumerate() {
        let text = output
            .unwrap_or_else(|e| panic!("command {i}: {e}"))
            .stdout_text();
        let mut lines = text.lines();
        let mut first = lines.next().expect("echo line").split_whitespace();
        assert_eq!(first.next(), Some(i.to_string().as_str()));
        let (client_ip, client_port) = (
            first.next().expect("client ip"),
            first.next().expect("client port"),
        );
        connections.insert(format!("{client_ip}:{client_port}"));
        assert_eq!(lines.next(), Some("0"), "command {i} ran as root");
    }
    session.close().await;
    assert_eq!(connections.len(), 1, "{connections:?}");
}

#[tokio::test]
async fn stdin_reaches_the_command_and_exit_codes_come_back() {
    let (target, credentials) = target(Duration::from_secs(60));
    let session = Connector::new(credentials)
        .connect(&target)
        .await
        .expect("connects");
    let output = session
        .run("cat; echo oops >&2; exit 3", b"from the controller\n")
        .await
        .expect("runs");
    assert_eq!(output.exit_status, 3);
    assert_eq!(output.stdout_text(), "from the controller\n");
    assert_eq!(output.stderr_text(), "oops\n");
    session.close().await;
}

#[tokio::test]
async fn a_command_that_overruns_its_timeout_is_killed_on_the_host() {
    let relay = relay_with_var("xfs400");
    let (target, credentials) = target(Duration::from_secs(2));
    let session = Connector::new(credentials)
        .connect(&target)
        .await
        .expect("connects");
    let result = session.run("exec sleep 317", b"").await;
    assert!(
        matches!(result, Err(SshError::CommandTimeout { .. })),
        "{result:?}"
    );
    // The session is still usable after a timeout.
    assert_eq!(
        session
            .run("echo alive", b"")
            .await
            .expect("runs")
            .stdout_text(),
        "alive\n"
    );
    session.close().await;
    let mut left = String::from("?");
    for _ in 0..20 {
        left = docker_exec(&relay.container, "pgrep -f '[s]leep 317' || true");
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, "",
        "the timed-out command is still running on the host"
    );
}

#[tokio::test]
async fn hosts_behind_one_bastion_share_one_connection_to_it() {
    let bastion = crate::harness::host("bastion");
    // The bastion is entered as `operator`, which no other test uses there: its sshd processes are
    // this test's connections.
    let jump = Endpoint {
        address: bastion.ip.clone(),
        port: 22,
        user: "operator".into(),
    };
    let (template, credentials) = target(Duration::from_secs(60));
    let connector = Connector::new(credentials);
    let mut sessions = Vec::new();
    for kind in ["xfs400", "xfs200", "root"] {
        let relay = relay_with_var(kind);
        let target = Target {
            endpoint: Endpoint {
                address: relay.ip.clone(),
                port: 22,
                user: "admin".into(),
            },
            jump: Some(jump.clone()),
            ..template.clone()
        };
        sessions.push(
            connector
                .connect(&target)
                .await
                .expect("connects through the bastion"),
        );
    }
    for session in &sessions {
        let client = session
            .run("echo \"$1\"", b"")
            .await
            .expect("runs")
            .stdout_text();
        assert!(client.starts_with(&format!("{} ", bastion.ip)), "{client}");
    }
    let connections = docker_exec(&bastion.container, "pgrep -c -u operator sshd || true");
    for session in sessions {
        session.close().await;
    }
    assert_eq!(
        connections, "1",
        "connections from the controller to the bastion"
    );
}
