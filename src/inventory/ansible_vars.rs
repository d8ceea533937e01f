//! Ansible's own variable names: what an inventory written for Ansible may set besides the ones
//! relayctl reads. An inventory shared with Ansible carries them (`ansible_ssh_pipelining`,
//! `ansible_network_os` for a switch, `ansible_winrm_transport` for a Windows host): relayctl
//! accepts them, uses none of them, and lists them with `-v`; a name in Ansible's namespace
//! that is none of these is a typo, refused with a suggestion.
//!
//! Source: the `vars:` of every option documented by ansible-core 2.19.14's connection, become,
//! shell and lookup plugins and of its configuration (`lib/ansible/config/base.yml`), the play
//! context's names, and the connection variables of the collections most inventories meet
//! (ansible.netcommon, ansible.windows, community.docker, kubernetes.core,
//! community.general). Whole families whose plugins pass every variable of their prefix
//! through (`ansible_winrm_*`, `ansible_psrp_*`, ...) are accepted by prefix.

/// Ansible variables by name.
pub(crate) const NAMES: &[&str] = &[
    // Connection (ssh, paramiko, local) and the play context.
    "ansible_connection",
    "ansible_control_path",
    "ansible_control_path_dir",
    "ansible_host_key_checking",
    "ansible_pipelining",
    "ansible_private_key",
    "ansible_private_key_passphrase",
    "ansible_scp_executable",
    "ansible_scp_extra_args",
    "ansible_sftp_batch_mode",
    "ansible_sftp_executable",
    "ansible_sftp_extra_args",
    "ansible_ssh_executable",
    "ansible_ssh_host_key_checking",
    "ansible_ssh_password_mechanism",
    "ansible_ssh_pipelining",
    "ansible_ssh_pkcs11_provider",
    "ansible_ssh_private_key",
    "ansible_ssh_private_key_passphrase",
    "ansible_ssh_retries",
    "ansible_ssh_transfer_method",
    "ansible_ssh_use_tty",
    "ansible_ssh_verbosity",
    "ansible_sshpass_prompt",
    "ansible_timeout",
    "ansible_local_become_strip_preamble",
    "ansible_local_become_success_timeout",
    // Become.
    "ansible_become",
    "ansible_become_exe",
    "ansible_become_flags",
    "ansible_become_method",
    "ansible_become_user",
    "ansible_su_exe",
    "ansible_su_flags",
    "ansible_su_prompt_l10n",
    "ansible_su_user",
    "ansible_sudo",
    "ansible_sudo_chdir",
    "ansible_sudo_exe",
    "ansible_sudo_flags",
    "ansible_sudo_user",
    "ansible_runas_flags",
    "ansible_runas_user",
    // Shells, interpreters, modules.
    "ansible_shell_type",
    "ansible_shell_executable",
    "ansible_python_interpreter",
    "ansible_interpreter_python_fallback",
    "ansible_python_module_rlimit_nofile",
    "ansible_module_compression",
    "ansible_facts_modules",
    "ansible_async_dir",
    "ansible_remote_tmp",
    "ansible_keep_remote_files",
    "ansible_no_target_syslog",
    "ansible_target_log_info",
    "ansible_deprecation_warnings",
    "ansible_win_async_startup_timeout",
    "ansible_aix_tmpdir",
    "ansible_common_remote_group",
    // Network devices (ansible.netcommon).
    "ansible_network_os",
    "ansible_command_timeout",
    "ansible_connect_timeout",
    "ansible_persistent_command_timeout",
    "ansible_persistent_connect_timeout",
    "ansible_persistent_log_messages",
    "ansible_buffer_read_timeout",
    "ansible_terminal_stdout_re",
    "ansible_terminal_stderr_re",
    "ansible_terminal_initial_prompt",
    "ansible_terminal_initial_answer",
    "ansible_terminal_inital_prompt_checkall",
    "ansible_terminal_initial_prompt_newline",
    // Lookups and the like that inventories sometimes carry.
    "ansible_lookup_url_agent",
    "ansible_lookup_url_timeout",
];

/// Families whose plugins read every variable of their prefix.
pub(crate) const PREFIXES: &[&str] = &[
    "ansible_winrm_",
    "ansible_psrp_",
    "ansible_paramiko_",
    "ansible_httpapi_",
    "ansible_netconf_",
    "ansible_network_",
    "ansible_docker_",
    "ansible_podman_",
    "ansible_buildah_",
    "ansible_kubectl_",
    "ansible_lxd_",
    "ansible_libvirt_",
    "ansible_aws_ssm_",
    "ansible_vmware_",
    "ansible_lookup_url_",
    "ansible_jail_",
    "ansible_chroot_",
    "ansible_zone_",
];

/// Whether `name` is one of Ansible's variables (by name or by family).
pub(crate) fn is_ansible(name: &str) -> bool {
    NAMES.contains(&name)
        || PREFIXES
            .iter()
            .any(|p| name.starts_with(p) && name.len() > p.len())
}
