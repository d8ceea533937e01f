//! A broken role (tests/fixtures/bad_roles/) stops the run before any host is contacted, with an
//! error naming the role file, line, column and key. The inventory's only relay is an address
//! nobody answers at (TEST-NET-1): had relayctl tried to connect, it would have exited 3, not 4.

use crate::harness::{TempInventory, relayctl, stderr};

const UNREACHABLE_RELAY: &str = "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n    \
    ansible_ssh_common_args: -o ConnectTimeout=1\n  hosts:\n    \
    relay1: {ansible_host: 192.0.2.1, relay_type: classic}\n";

/// `apply --check` with the roles of `tests/fixtures/bad_roles/CASE`: (exit code, error lines).
fn apply_with_roles(case: &str, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let roles = format!("tests/fixtures/bad_roles/{case}");
    let mut args = vec![
        "apply",
        "--check",
        inventory.path_str(),
        "--roles-dir",
        &roles,
    ];
    args.extend(extra);
    let output = relayctl(&args, &[]);
    let err = stderr(&output);
    assert!(err.contains("no host was contacted"), "{err}");
    let lines = err
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .map(str::to_string)
        .collect();
    (output.status.code(), lines)
}

#[test]
fn a_yaml_error_in_a_task_file_names_its_line() {
    let (code, errors) = apply_with_roles("yaml_error", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(
        errors,
        [
            "tests/fixtures/bad_roles/yaml_error/bad/tasks/main.yaml:4:4: user: invalid YAML: \
          while parsing a block mapping, did not find expected key"
        ]
    );
}

#[test]
fn an_unknown_module_gets_a_suggestion() {
    let (code, errors) = apply_with_roles("unknown_module", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(
        errors,
        [
            "tests/fixtures/bad_roles/unknown_module/bad/tasks/main.yaml:2:3: tasks[0].usr: \
          unknown module or task keyword usr; did you mean user?"
        ]
    );
}

#[test]
fn a_misspelt_argument_gets_a_suggestion_and_the_list() {
    let (code, errors) = apply_with_roles("unknown_argument", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "tests/fixtures/bad_roles/unknown_argument/bad/tasks/main.yaml:4:5: \
             tasks[0].user.shel: user has no argument shel; did you mean shell?; its arguments: name, state,"
        ),
        "{errors:?}"
    );
}

#[test]
fn a_literal_value_of_the_wrong_type_is_refused() {
    let (code, errors) = apply_with_roles("wrong_value", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(
        errors,
        [
            "tests/fixtures/bad_roles/wrong_value/bad/tasks/main.yaml:5:11: tasks[0].copy.mode: \
          expected octal permissions as a quoted string such as \"0644\", found the number 644"
        ]
    );
}

#[test]
fn notifying_an_undefined_handler_is_refused() {
    let (code, errors) = apply_with_roles("undefined_handler", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(
        errors,
        [
            "tests/fixtures/bad_roles/undefined_handler/bad/tasks/main.yaml:1:3: tasks[0].notify: \
          no handler named \"restart nothing\" in role bad; did you mean restart something?"
        ]
    );
}

#[test]
fn template_syntax_errors_in_arguments_and_files_are_found_before_any_host() {
    let (code, errors) = apply_with_roles("template_syntax", &[]);
    assert_eq!(code, Some(4));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().any(|e| e.starts_with(
            "tests/fixtures/bad_roles/template_syntax/bad/templates/broken.j2:1:1: broken.j2: syntax error"
        )),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(
            "tests/fixtures/bad_roles/template_syntax/bad/tasks/main.yaml:4:14: tasks[0].copy.content: syntax error"
        )),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_role_in_relay_roles_names_the_inventory_line() {
    let inventory = TempInventory::new(
        "all:\n  vars:\n    medulla_server_addresses: [192.0.2.10]\n    \
         ansible_ssh_common_args: -o ConnectTimeout=1\n  hosts:\n    relay1:\n      \
         ansible_host: 192.0.2.1\n      relay_type: classic\n      relay_roles: [medulla_usr]\n",
    );
    let output = relayctl(&["apply", "--check", inventory.path_str()], &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!(
            "{}:9:7: relay1.relay_roles[0]: no role named medulla_usr; did you mean medulla_user?",
            inventory.path.display()
        )),
        "{err}"
    );
}

#[test]
fn a_bad_extra_variable_is_refused_like_an_inventory_one() {
    let inventory = TempInventory::new(UNREACHABLE_RELAY);
    let output = relayctl(
        &[
            "apply",
            "--check",
            inventory.path_str(),
            "-e",
            "relay_type=clasic",
        ],
        &[],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains("-e:1:12: relay_type: expected one of classic, dmz, found \"clasic\""),
        "{err}"
    );
}

#[test]
fn check_mode_and_a_changed_when_expression_are_refused_outside_a_command() {
    let (code, errors) = apply_with_roles("command_keywords", &[]);
    assert_eq!(code, Some(4));
    let file = "tests/fixtures/bad_roles/command_keywords/bad/tasks/main.yaml";
    assert_eq!(
        errors,
        [
            format!(
                "{file}:5:15: tasks[0].check_mode: check_mode: false would run this copy task for \
                 real in --check, which must change nothing; only a command that only looks may \
                 run there"
            ),
            format!(
                "{file}:11:17: tasks[1].changed_when: an expression here is evaluated over a \
                 command's result, and a file task has none: write true or false"
            ),
        ]
    );
}
