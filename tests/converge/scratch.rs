//! The engine on one host, `scratch`, with the test-only roles of tests/fixtures/roles: a failed
//! validation, handlers, an undefined variable, check mode before a package exists, an
//! interrupted write, masked secrets in diffs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    OPERATOR_PASSWORD, TempInventory, docker_exec, host, host_entry, host_line, inventory_yaml,
    relayctl_report, repo,
};
use crate::lab::{exclusive, password_is, reset, snapshot, task};

/// An inventory with `scratch` as a classic relay running `roles` (its /var is on /: sizing
/// fails, which never stops the roles: only a wrong OS does).
fn scratch_inventory(roles: &[&str]) -> TempInventory {
    let scratch = host("scratch");
    let relay = host_line(
        scratch,
        &format!("relay_type: classic, relay_roles: [{}]", roles.join(", ")),
    );
    TempInventory::new(&inventory_yaml("", &[("relays", relay)]))
}

/// `relayctl apply` with the test roles, JSON: (exit code, scratch's entry, stdout + stderr).
fn apply(inventory: &TempInventory, args: &[&str]) -> (Option<i32>, Value, String) {
    apply_with_env(inventory, args, &[])
}

fn apply_with_env(
    inventory: &TempInventory,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, Value, String) {
    let mut all = vec![
        "apply",
        inventory.path_str(),
        "--roles-dir",
        "tests/fixtures/roles",
        // Test roles do not make a relay ready: no flow checks and verdict here.
        "--no-flows",
    ];
    all.extend(args);
    let (code, report, text) = relayctl_report(&all, env);
    (code, host_entry(&report, "scratch").clone(), text)
}

fn on_scratch(script: &str) -> String {
    docker_exec(&host("scratch").container, script)
}

#[test]
fn a_sudoers_file_that_fails_validation_leaves_the_host_as_it_was() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["sudoers_template"]);
    let fresh = snapshot(scratch);

    // On a fresh host: the broken file is refused, nothing is written, nothing is left behind.
    let (_, entry, text) = apply(&inventory, &["-e", "{sudoers_broken: true}"]);
    let rule = task(
        &entry,
        "a sudoers drop-in rendered from a template, validated before it replaces anything",
    );
    assert_eq!(rule["status"], "failed", "{text}");
    let message = rule["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("validation refused the new /etc/sudoers.d/relayctl-test"),
        "{message}"
    );
    assert_eq!(
        snapshot(scratch),
        fresh,
        "a failed validation changed the host"
    );

    // Over a valid rule: the old file stays, byte for byte, and sudo still works.
    let (_, entry, text) = apply(&inventory, &[]);
    assert_eq!(entry["counts"]["changed"], 1, "{text}");
    let valid = snapshot(scratch);
    let (_, entry, text) = apply(&inventory, &["-e", "{sudoers_broken: true}"]);
    assert_eq!(entry["counts"]["failed"], 1, "{text}");
    assert_eq!(
        snapshot(scratch),
        valid,
        "a failed validation changed the host"
    );
    assert_eq!(
        on_scratch("ls -A /etc/sudoers.d | grep -c relayctl || true"),
        "1",
        "a temporary file was left in /etc/sudoers.d"
    );
    assert_eq!(
        on_scratch("su admin -c 'sudo -n true' && echo works"),
        "works"
    );
}

#[test]
fn handlers_run_once_only_when_notified_and_when_forced_after_a_failure() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["handlers_check"]);
    let runs = || on_scratch("cat /root/handler-runs 2>/dev/null | wc -l");
    let handler_ran = |entry: &Value| {
        entry["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["handler"] == true && t["status"] == "changed")
            .filter(|t| t["task"] == "count a run")
            .count()
    };
    let left = || on_scratch("ls /root/left-by-a-failure 2>/dev/null || true");

    // Two tasks change and notify the same handler: it runs once, after them.
    let (_, entry, text) = apply(&inventory, &[]);
    assert_eq!(entry["counts"]["changed"], 3, "{text}");
    assert_eq!(handler_ran(&entry), 1, "{text}");
    assert_eq!(runs(), "1");

    // Nothing changes: nothing notifies, the handler does not run.
    let (_, entry, text) = apply(&inventory, &[]);
    assert_eq!(entry["counts"]["changed"], 0, "{text}");
    assert_eq!(handler_ran(&entry), 0, "{text}");
    assert_eq!(runs(), "1");

    // --check: the handler would run; it does not.
    let (_, entry, text) = apply(&inventory, &["--check", "-e", "handler_content=two"]);
    assert_eq!(handler_ran(&entry), 1, "{text}");
    assert_eq!(runs(), "1");

    // A later task fails: the notified handler does not run...
    let (code, entry, text) = apply(
        &inventory,
        &["-e", "{handler_content: three, handler_fail: true}"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(entry["counts"]["failed"], 1, "{text}");
    assert_eq!(handler_ran(&entry), 0, "{text}");
    assert_eq!(runs(), "1");
    assert_eq!(
        left(),
        "/root/left-by-a-failure",
        "the failing task changed the host"
    );

    // ...unless forced. (The file the failure left is gone before this run, so that only the
    // failure of this run leaves it.)
    on_scratch("rm /root/left-by-a-failure");
    let (_, entry, text) = apply(
        &inventory,
        &[
            "--force-handlers",
            "-e",
            "{handler_content: four, handler_fail: true}",
        ],
    );
    assert_eq!(entry["counts"]["failed"], 1, "{text}");
    assert_eq!(handler_ran(&entry), 1, "{text}");
    assert_eq!(runs(), "2");
    // The handlers are planned from the host as the failure left it, not as it was probed
    // before: the file it left is seen, and cleared.
    assert_eq!(left(), "", "{text}");
}

#[test]
fn an_undefined_variable_fails_the_host_before_anything_changes_and_is_named() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["undefined_var"]);
    let fresh = snapshot(scratch);
    let (code, entry, text) = apply(&inventory, &[]);
    assert_eq!(code, Some(2), "{text}");
    let tasks = entry["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "only the failing task is reported: {text}");
    assert_eq!(tasks[0]["role"], "undefined_var");
    assert_eq!(tasks[0]["task"], "a task with a misspelt variable");
    assert_eq!(tasks[0]["status"], "failed");
    let message = tasks[0]["message"].as_str().expect("message");
    assert!(
        message.ends_with("argument dest: undefined variable undefined_var_nme"),
        "{message}"
    );
    assert!(
        message.contains("tests/fixtures/roles/undefined_var/tasks/main.yaml:6:3"),
        "{message}"
    );
    assert_eq!(snapshot(scratch), fresh, "the first task ran anyway");
}

#[test]
fn check_mode_on_a_service_whose_package_is_not_installed_says_so_instead_of_failing() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["cron_service"]);
    let fresh = snapshot(scratch);

    let (_, check, text) = apply(&inventory, &["--check"]);
    assert_eq!(
        task(&check, "cron installed")["status"],
        "changed",
        "{text}"
    );
    // Not a false failure: the package may create the unit (and, on Debian, start it), so what
    // the task would do is known only once the package is there.
    let service = task(&check, "cron enabled and running");
    assert_eq!(service["status"], "pending", "{text}");
    assert_eq!(
        service["message"],
        "the unit cron.service does not exist yet: \"cron installed\" may create it; \
         known once that change is made"
    );
    assert_eq!(snapshot(scratch), fresh, "--check changed the host");

    let (_, applied, text) = apply(&inventory, &[]);
    assert_eq!(
        task(&applied, "cron installed")["status"],
        "changed",
        "{text}"
    );
    assert_ne!(
        task(&applied, "cron enabled and running")["status"],
        "failed",
        "{text}"
    );
    assert_eq!(
        on_scratch("systemctl is-active cron; systemctl is-enabled cron"),
        "active\nenabled"
    );
    let (_, again, text) = apply(&inventory, &[]);
    assert_eq!(again["counts"]["changed"], 0, "{text}");
}

/// How many job stdin files of the privileged shell hold data: a transfer is under way.
const RECEIVING: &str = "find /run -maxdepth 1 -name 'relayctl-job.*.in' -size +0 | wc -l";

#[test]
fn an_interrupted_write_leaves_no_half_written_file() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["big_file"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_relayctl"))
        .args([
            "apply",
            inventory.path_str(),
            "--roles-dir",
            "tests/fixtures/roles",
            "--no-flows",
            "-v",
        ])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("relayctl starts");
    // Wait until the 64 MiB transfer is under way (the privileged shell is receiving the job's
    // stdin into its job file; the transfer takes over a second), then interrupt.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut before = Vec::new();
    let started = lines.by_ref().map_while(Result::ok).any(|line| {
        let found = line.contains("big_file : a large file, long to transfer");
        before.push(line);
        found
    });
    assert!(
        started,
        "relayctl never reached the write:\n{}",
        before.join("\n")
    );
    let writing = (0..100).any(|_| {
        let found = on_scratch(RECEIVING) != "0";
        if !found {
            std::thread::sleep(Duration::from_millis(20));
        }
        found
    });
    assert!(
        writing,
        "the write was not seen under way: nothing was interrupted"
    );
    let pid = child.id().to_string();
    let kill = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.wait().expect("relayctl ends");
    assert_eq!(status.code(), Some(99), "interrupted");

    // The host finishes on its own what it had: give it a moment, then look.
    let leftovers =
        "{ ls -A /root | grep '^\\.relayctl\\.'; ls /run | grep '^relayctl-job'; } | wc -l";
    for _ in 0..50 {
        if on_scratch(leftovers) == "0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        on_scratch(leftovers),
        "0",
        "a temporary or job file was left behind"
    );
    // Interrupted before its rename, the target was never created: no file rather than half a one.
    let size = on_scratch("stat -c %s /root/big-file 2>/dev/null || echo absent");
    assert_eq!(
        size, "absent",
        "/root/big-file exists after the interrupted write"
    );
}

#[test]
fn diffs_show_the_change_with_secrets_masked() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["diff_note"]);
    // The become password as the operator user's sudo needs it; a note that happens to hold it.
    let secret = OPERATOR_PASSWORD;
    let (_, entry, text) = apply_with_env(
        &inventory,
        &[
            "--check",
            "--diff",
            "-e",
            "ansible_user=operator",
            "-e",
            &format!("note=the secret is {secret}"),
        ],
        &[("RELAYCTL_BECOME_PASSWORD", secret)],
    );
    let note = task(&entry, "a note rendered from a variable");
    assert_eq!(note["status"], "changed", "{text}");
    let diff = note["diff"].as_str().expect("a diff");
    assert!(diff.contains("+note: the secret is ********"), "{diff}");
    assert!(
        !text.contains(secret),
        "the become password was printed: {text}"
    );

    // Applied through `sudo -S`: sudo takes the password line from stdin and the file content
    // that follows reaches the write intact.
    let (_, entry, text) = apply_with_env(
        &inventory,
        &[
            "-e",
            "ansible_user=operator",
            "-e",
            &format!("note=the secret is {secret}"),
        ],
        &[("RELAYCTL_BECOME_PASSWORD", secret)],
    );
    assert_eq!(entry["counts"]["changed"], 1, "{text}");
    assert!(
        !text.contains(secret),
        "the become password was printed: {text}"
    );
    assert_eq!(
        on_scratch("cat /root/diff-note"),
        format!("note: the secret is {secret}")
    );
}

#[test]
fn a_read_only_check_runs_with_the_probes_and_sees_earlier_changes() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["readonly_check"]);
    let check = "the markers are there";
    // How often the check ran since the last call (it counts its runs in /run).
    let runs = || {
        on_scratch(
            "wc -l </run/relayctl-readonly-runs 2>/dev/null; rm -f /run/relayctl-readonly-runs",
        )
        .parse::<u32>()
        .unwrap_or(0)
    };
    // Fresh: the check runs with the first probes, is left out of the re-probe after the first
    // marker (the second still stands between), and runs again after the second: twice, and it
    // sees both markers.
    let (_, entry, text) = apply(&inventory, &["-vv"]);
    assert_eq!(task(&entry, "a marker file")["status"], "changed", "{text}");
    assert_eq!(
        task(&entry, "a second marker file")["status"],
        "changed",
        "{text}"
    );
    assert_eq!(task(&entry, check)["status"], "ok", "{text}");
    assert_eq!(runs(), 2, "{text}");
    // No-op: one round trip for all, the check included, and one sudo for the whole run (the
    // facts and the probes go through the same privileged shell).
    let sudo_runs = || {
        on_scratch("journalctl -q --no-pager _COMM=sudo | grep -c 'admin : .*COMMAND=' || true")
            .parse::<u32>()
            .expect("a count")
    };
    let before = sudo_runs();
    let (_, entry, text) = apply(&inventory, &["-vv"]);
    // The journal may take a moment to have it.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sudo_runs() - before, 1, "{text}");
    assert_eq!(task(&entry, check)["status"], "ok", "{text}");
    assert_eq!(runs(), 1, "{text}");
    assert!(text.contains("probed 4 tasks in one round trip"), "{text}");
    assert!(!text.contains("applied and re-probed"), "{text}");
    // Only the first marker gone: after its change the second task stands between, and turns
    // out unchanged, so the check runs on its own, re-probing nothing after it.
    on_scratch("rm /root/relayctl-readonly-marker");
    let (_, entry, text) = apply(&inventory, &["-vv"]);
    assert_eq!(task(&entry, "a marker file")["status"], "changed", "{text}");
    assert_eq!(
        task(&entry, "a second marker file")["status"],
        "ok",
        "{text}"
    );
    assert_eq!(task(&entry, check)["status"], "ok", "{text}");
    assert_eq!(runs(), 2, "{text}");
    assert!(
        text.contains("applied and re-probed 0 later tasks"),
        "{text}"
    );
    // In --check without the marker, the check fails after a would-be change: pending.
    on_scratch("rm /root/relayctl-readonly-marker");
    let (_, entry, text) = apply(&inventory, &["--check"]);
    assert_eq!(task(&entry, "a marker file")["status"], "changed", "{text}");
    assert_eq!(task(&entry, check)["status"], "pending", "{text}");
}

#[test]
fn group_file_command_and_assert_converge_and_tags_select_tasks() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["modules_tour"]);
    let names = |entry: &Value| -> Vec<String> {
        entry["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| {
                format!(
                    "{} {}",
                    t["status"].as_str().unwrap_or_default(),
                    t["task"].as_str().unwrap_or_default()
                )
            })
            .collect()
    };

    // Only the tagged tasks; the user's group comes from the task before it.
    let (_, check, text) = apply(&inventory, &["--check", "--tags", "accounts"]);
    assert_eq!(
        names(&check),
        [
            "changed group relayctl-test",
            "changed user tourist in that group"
        ],
        "{text}"
    );

    let (_, applied, text) = apply(&inventory, &[]);
    assert_eq!(
        names(&applied),
        [
            "changed group relayctl-test",
            "changed user tourist in that group",
            "changed a directory",
            "changed an empty file",
            "changed a command that runs once",
            "ok a command whose output decides",
            "ok the host is Debian 12 (its facts)",
            "ok an assertion that fails when asked to",
        ],
        "{text}"
    );
    assert_eq!(
        on_scratch(
            "getent group relayctl-test | cut -d: -f1,3; id -Gn tourist; \
             stat -c '%U:%G %a' /srv/relayctl-tour /srv/relayctl-tour/touched"
        ),
        "relayctl-test:4242\ntourist relayctl-test\ntourist:relayctl-test 750\nroot:root 600"
    );
    let facts = task(&applied, "the host is Debian 12 (its facts)");
    assert!(
        facts["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Debian 12."),
        "{facts:#}"
    );
    let (_, again, text) = apply(&inventory, &[]);
    assert_eq!(again["counts"]["changed"], 0, "{text}");

    let (code, failing, text) = apply(
        &inventory,
        &["--skip-tags", "files,accounts", "-e", "{tour_fail: true}"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(
        names(&failing),
        [
            "ok a command whose output decides",
            "ok the host is Debian 12 (its facts)",
            "failed an assertion that fails when asked to",
        ],
        "{text}"
    );
    assert_eq!(
        task(&failing, "an assertion that fails when asked to")["message"],
        "asked to fail on scratch"
    );
}

#[test]
fn the_medulla_password_is_set_only_when_missing_or_changed() {
    let _lab = exclusive();
    let scratch = host("scratch");
    reset(&[scratch]);
    let inventory = scratch_inventory(&["medulla_user"]);
    let user_task = "user medulla, its password kept on the controller (PROC steps 2 and 5)";
    let env = |password: &'static str| [("RELAYCTL_MEDULLA_PASSWORD", password)];

    // From the operator's environment: set, never written to a file on the controller.
    let (_, first, text) = apply_with_env(&inventory, &[], &env("first-Secret-1"));
    assert_eq!(task(&first, user_task)["status"], "changed", "{text}");
    assert!(
        task(&first, user_task)["changes"][1]
            .as_str()
            .unwrap_or_default()
            .ends_with("(from $RELAYCTL_MEDULLA_PASSWORD)"),
        "{text}"
    );
    assert!(password_is(scratch, "medulla", "first-Secret-1"));
    assert!(!text.contains("first-Secret-1"), "{text}");
    let secrets = inventory
        .path
        .parent()
        .expect("dir")
        .join("secrets/scratch");
    assert!(!secrets.join("medulla_password").exists());
    // sudo works for medulla (no support key in this inventory: checked from root).
    let check = task(
        &first,
        "medulla runs sudo -n true (no support private key to log in with)",
    );
    assert_eq!(check["status"], "ok", "{text}");

    // The same password: nothing to do.
    let (_, same, text) = apply_with_env(&inventory, &[], &env("first-Secret-1"));
    assert_eq!(task(&same, user_task)["status"], "ok", "{text}");

    // Another password: set again.
    let (_, other, text) = apply_with_env(&inventory, &[], &env("second-Secret-2"));
    assert_eq!(task(&other, user_task)["status"], "changed", "{text}");
    assert!(password_is(scratch, "medulla", "second-Secret-2"));

    // Someone changed it on the relay: relayctl's password is set back.
    on_scratch("echo 'medulla:changed-by-hand' | chpasswd");
    let (_, reset_back, text) = apply_with_env(&inventory, &[], &env("second-Secret-2"));
    assert_eq!(task(&reset_back, user_task)["status"], "changed", "{text}");
    assert!(password_is(scratch, "medulla", "second-Secret-2"));

    // No environment variable: generated into the file, which the next run reuses.
    let (_, generated, text) = apply(&inventory, &[]);
    assert_eq!(task(&generated, user_task)["status"], "changed", "{text}");
    let password = std::fs::read_to_string(secrets.join("medulla_password")).expect("written");
    assert!(password_is(scratch, "medulla", password.trim()));
    let (_, again, text) = apply(&inventory, &[]);
    assert_eq!(task(&again, user_task)["status"], "ok", "{text}");
}
