//! What converge tests need besides the shared harness: exclusive use of the lab, fresh hosts,
//! and a snapshot of everything a run could change on a host.

use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::harness::{LabHost, docker_exec, repo, stderr};

/// One converge test at a time: they reset and change the same hosts.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LAB: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the next test starts from fresh hosts anyway.
    LAB.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Recreates these lab hosts as new (their SSH host keys kept).
pub fn reset(hosts: &[&LabHost]) {
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    let output = std::process::Command::new(repo().join("tests/lab/lab.sh"))
        .arg("reset")
        .args(&names)
        .output()
        .expect("lab.sh runs");
    assert!(
        output.status.success(),
        "lab.sh reset {names:?}: {}",
        stderr(&output)
    );
}

/// Hosts a test turns into customers' machines (a firewall of their own, sshd elsewhere, other
/// accounts): fresh when it starts, and recreated again when it ends, passed or failed, so that a
/// test that does not reset them (most use the lab's relays as they are) never finds them so.
pub struct Customised(Vec<&'static LabHost>);

/// Recreates `hosts` now and again when the returned guard is dropped. Declared after
/// [`exclusive`]'s guard, it is dropped first: the hosts are back before the next test starts.
pub fn customised(hosts: &[&'static LabHost]) -> Customised {
    reset(hosts);
    Customised(hosts.to_vec())
}

impl Drop for Customised {
    fn drop(&mut self) {
        let names: Vec<&str> = self.0.iter().map(|h| h.name.as_str()).collect();
        let ok = std::process::Command::new(repo().join("tests/lab/lab.sh"))
            .arg("reset")
            .args(&names)
            .output()
            .is_ok_and(|output| output.status.success());
        // A panic here, during a failed test's unwinding, would abort the whole run.
        if !ok {
            eprintln!(
                "lab.sh reset {names:?} failed: the next test finds them as this one left them"
            );
        }
    }
}

/// Everything of a host that a run of relayctl could change: accounts, sudo rules, the files the
/// roles manage, homes, /root (the test roles write there), enabled units, the nft ruleset and the
/// limits systemd applies. Left out: modification times (`--check` may read, not write), the nft
/// counters (the facts probe resolves the FQDN: a DNS packet), and the marker sudo itself leaves
/// in a user's home at its first use, which any sudo by the login user makes.
pub fn snapshot(host: &LabHost) -> String {
    docker_exec(
        &host.container,
        r#"
        cd /
        sha256sum etc/passwd etc/group etc/shadow etc/gshadow etc/systemd/system.conf
        sha256sum etc/nftables.conf
        for d in etc/sudoers.d etc/security/limits.d etc/systemd etc/ufw etc/firewalld home root; do
          find "$d" -xdev ! -name .sudo_as_admin_successful -printf '%p %u %g %m %s %y\n' | sort
          find "$d" -xdev -type f ! -name .sudo_as_admin_successful -size -2M -exec sha256sum {} + |
            sort -k 2
        done
        systemctl list-unit-files --state=enabled --no-legend --no-pager
        nft -s list ruleset 2>/dev/null
        systemctl show -p DefaultLimitNPROC -p DefaultLimitSIGPENDING
        "#,
    )
}

/// Restarts a lab host as a reboot would (`docker restart`), and waits until systemd has
/// finished booting it.
pub fn reboot(host: &LabHost) {
    crate::harness::docker(&["restart", &host.container]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let state = std::process::Command::new("docker")
            .args([
                "exec",
                &host.container,
                "systemctl",
                "is-system-running",
                "--wait",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if state == "running" || state == "degraded" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} did not boot again: {state}",
            host.name
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Whether `password` is the password whose yescrypt hash the host's /etc/shadow holds for `user`.
pub fn password_is(host: &LabHost, user: &str, password: &str) -> bool {
    use yescrypt::PasswordVerifier;
    let hash = docker_exec(
        &host.container,
        &format!("getent shadow {user} | cut -d: -f2"),
    );
    let Ok(hash) = yescrypt::PasswordHash::new(hash.as_str()) else {
        return false;
    };
    yescrypt::Yescrypt::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

/// The tasks of a host's JSON entry with a given status: `role : task` names.
pub fn tasks_with(host: &Value, status: &str) -> Vec<String> {
    host["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter(|t| t["status"] == status)
                .map(|t| {
                    format!(
                        "{} : {}",
                        t["role"].as_str().unwrap_or_default(),
                        t["task"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The JSON entry of one task of a host, by name.
pub fn task<'a>(host: &'a Value, name: &str) -> &'a Value {
    host["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["task"] == name))
        .unwrap_or_else(|| panic!("no task {name:?} in {host:#}"))
}

/// Listeners on the relay's TCP `ports` (perl is part of every Debian), until the host is reset.
pub fn listen(relay: &LabHost, ports: &[u16]) {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    docker_exec(
        &relay.container,
        &format!(
            r#"for p in {list}; do
              setsid perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 64, ReuseAddr => 1) or die "$!"; while ($c = $s->accept) {{ close $c }}' "$p" </dev/null >/dev/null 2>&1 &
            done
            for i in $(seq 50); do
              n=0; for p in {list}; do ss -Hltn "sport = :$p" | grep -q . && n=$((n + 1)); done
              [ "$n" = {count} ] && exit 0; sleep 0.1
            done
            echo "listeners did not start" >&2; exit 1"#,
            list = list.join(" "),
            count = ports.len(),
        ),
    );
}

/// Which of `ports` on `target` accept a TCP connection from `from` (2 s each, all at once).
pub fn open_ports(from: &LabHost, target: &LabHost, ports: &[u16]) -> Vec<u16> {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let out = docker_exec(
        &from.container,
        &format!(
            r#"for p in {list}; do
              (timeout 2 bash -c "</dev/tcp/{ip}/$p" 2>/dev/null && echo "$p") &
            done; wait"#,
            list = list.join(" "),
            ip = target.ip,
        ),
    );
    let mut open: Vec<u16> = out.lines().filter_map(|l| l.trim().parse().ok()).collect();
    open.sort_unstable();
    open
}
