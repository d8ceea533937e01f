//! The command line (clap derive definitions only). `main.rs` turns these into a run.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ssh::HostKeyPolicy;

/// Prepare Debian 12 machines as Medulla relay servers over SSH, and prove they are ready.
///
/// relayctl reads an Ansible inventory (YAML, INI, a directory, vault) of relay hosts, connects to each over SSH (one connection
/// per host, nothing installed on the hosts), gathers facts, checks the relay sizing that the
/// Medulla documentation requires, and runs its roles (the medulla user, the pre-install
/// prerequisites), each task probed first so that --check is exact.
#[derive(Debug, Parser)]
#[command(
    name = "relayctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = "\
Exit codes (as ansible-playbook's, so pipelines can gate on them):
  0  every host succeeded
  1  an error outside any host (e.g. a report could not be written)
  2  one or more hosts failed (a failed check or task)
  3  one or more hosts were unreachable (connection, host key, authentication, become)
  4  the inventory, a role or another input is invalid; no host was contacted
  5  bad command-line options
  6  apply --check: changes are pending (no host failed or was unreachable)
 99  interrupted (Ctrl-C)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Converge relays: gather facts, check sizing, run the roles of each relay type (with
    /// --check: a dry run that changes nothing).
    ///
    /// Every host of the inventory that is not in the `medulla_servers` or `workstations` group is a
    /// relay and must define `relay_type` and `medulla_server_addresses`. Commands that need root run
    /// through sudo unless ansible_user is root.
    Apply(ApplyArgs),
    /// Check every relay's flows in both directions and gather what the dedicated-SaaS procedure
    /// asks the customer to confirm (step 5); changes nothing but a temporary listener on the
    /// relay's inbound ports for the duration of the check.
    ///
    /// From the Medulla server and a workstation of the inventory to the relay, from the relay to
    /// the server and the workstation. Without the Medulla server in the inventory (dedicated
    /// SaaS), its flows are listed as to be confirmed by Medulla.
    Flows(FlowsArgs),
    /// Gather and show the facts of every host (works on any Ansible inventory).
    Facts(FactsArgs),
    /// Show the inventory as relayctl reads it, as `ansible-inventory` shows it: --list (JSON),
    /// --graph or --host NAME. Contacts no host, and checks syntax, not connection policy.
    Inventory(InventoryArgs),
}

/// The inventory sources and the vault passwords that open them (every command that reads an
/// inventory takes these).
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The inventory: an Ansible YAML or INI file, a directory of them, or a comma-separated
    /// host list; group_vars/ and host_vars/ beside it are read. Several are merged in order,
    /// a later one winning (these first, then each -i).
    #[arg(value_name = "INVENTORY", required_unless_present = "inventory")]
    pub positional: Vec<PathBuf>,

    /// Another inventory, as Ansible's -i (repeatable; merged after the positional ones).
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<PathBuf>,

    /// A file holding the Ansible Vault password (an executable one is run, its output the
    /// password). Repeatable. Default: the file ANSIBLE_VAULT_PASSWORD_FILE names.
    #[arg(long, value_name = "FILE")]
    pub vault_password_file: Vec<PathBuf>,

    /// An Ansible vault id: LABEL@FILE, LABEL@prompt, FILE or prompt. Repeatable.
    #[arg(long, value_name = "ID")]
    pub vault_id: Vec<String>,

    /// Ask for the Ansible Vault password once.
    #[arg(
        short = 'J',
        long = "ask-vault-pass",
        visible_alias = "ask-vault-password"
    )]
    pub ask_vault_pass: bool,
}

impl SourceArgs {
    /// Every inventory source, in the order they are merged.
    pub fn sources(&self) -> Vec<PathBuf> {
        self.positional
            .iter()
            .chain(&self.inventory)
            .cloned()
            .collect()
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("shown").required(true).args(["list", "graph", "host"])))]
pub struct InventoryArgs {
    #[command(flatten)]
    pub sources: SourceArgs,

    /// Every group and host, as `ansible-inventory --list` prints them (JSON).
    #[arg(long)]
    pub list: bool,

    /// The groups as a tree, from GROUP (default all), as `ansible-inventory --graph`.
    #[arg(long, value_name = "GROUP", num_args = 0..=1, default_missing_value = "all")]
    pub graph: Option<String>,

    /// One host's variables, as `ansible-inventory --host` prints them (JSON).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// With --list: each group's own variables in the group, and only each host's own in
    /// _meta.hostvars (as `ansible-inventory --export`).
    #[arg(long)]
    pub export: bool,

    /// With --graph: each host's variables too.
    #[arg(long)]
    pub vars: bool,

    /// -v lists the Ansible variables the inventory sets that relayctl does not use.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Dry run: report what would change and change nothing on any host. Exits 6 when changes
    /// are pending (and no host failed), 0 when every host is as its roles want it.
    #[arg(short = 'C', long)]
    pub check: bool,

    /// Show the unified diff of every file a task changes (or would change); secrets are masked.
    #[arg(short = 'D', long)]
    pub diff: bool,

    /// Only tasks with one of these tags (a role's name is a tag of its tasks); comma-separated
    /// or repeated. Tasks tagged `always` run anyway.
    #[arg(short = 't', long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Skip tasks with one of these tags.
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub skip_tags: Vec<String>,

    /// Run the handlers already notified even when a later task of the host fails.
    #[arg(long)]
    pub force_handlers: bool,

    /// Leave out the flow checks and the confirmations that follow every apply (for a partial
    /// run: some roles only, some tags). A relay that is not READY otherwise fails the run.
    #[arg(long, conflicts_with = "report")]
    pub no_flows: bool,

    /// Write the confirmations report under DIR after the flow checks: per relay DIR/NAME.md
    /// (to paste into the ticket to SIVEO) and DIR/NAME.json, and DIR/summary.{md,json}.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Write the confirmations report under DIR (as `apply --report`).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

/// Options shared by every command that connects to hosts.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sources: SourceArgs,

    /// Only these hosts: an Ansible host pattern (`relay01`, `dmz_relays`, `relays:!relay02`,
    /// `relay0*`, `relays:&site_lyon`).
    #[arg(short = 'l', long, value_name = "PATTERN")]
    pub limit: Option<String>,

    /// How many hosts to work on at once. Default: all of them, up to 256. Never more than the
    /// open-file limit allows (a socket per host; relayctl raises its soft limit to the hard one).
    #[arg(short = 'f', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub forks: Option<u32>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// More detail on stderr: -v logs each host's steps with timings, -vv also SSH and command details.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// What to do with a host whose key is not in known_hosts; a changed key is always refused.
    /// Default: the inventory's `-o StrictHostKeyChecking=` in ansible_ssh_common_args, else strict.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub host_key_policy: Option<HostKeyPolicy>,

    /// known_hosts file to verify host keys against (default: the inventory's
    /// `-o UserKnownHostsFile=` in ansible_ssh_common_args, else ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,

    /// Seconds to wait for a host to answer SSH (connect, key exchange, authentication).
    /// Default: the inventory's ConnectTimeout / ansible_ssh_timeout, else 10.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: Option<u64>,

    /// Seconds a single remote command may run before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub command_timeout: u64,

    /// Ask for the sudo password once (it is sent over stdin, never in argv or logs). Without it,
    /// RELAYCTL_BECOME_PASSWORD is used if set, else sudo must not ask for a password.
    #[arg(short = 'K', long)]
    pub ask_become_pass: bool,

    /// Set a variable over every host's (highest precedence): `name=value` (a string), or a YAML
    /// map `'{name: [a, b]}'`. Repeatable.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,

    /// A directory of roles in Ansible's layout: a role there replaces the embedded role of the
    /// same name, and its relay_roles.yaml, if any, the embedded list.
    #[arg(long, value_name = "DIR")]
    pub roles_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable lines for an operator.
    Human,
    /// One JSON document (schema in the README).
    Json,
    /// JUnit XML for CI test reports: a testsuite per host, a testcase per sizing check, task,
    /// flow and verdict (the exit code still says the outcome).
    Junit,
}

/// `--host-key-policy` takes the ssh layer's own policy, under the names OpenSSH gives it.
impl ValueEnum for HostKeyPolicy {
    fn value_variants<'a>() -> &'a [Self] {
        &[HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            HostKeyPolicy::Strict => {
                PossibleValue::new("strict").help("Refuse hosts that are not in known_hosts")
            }
            HostKeyPolicy::AcceptNew => PossibleValue::new("accept-new")
                .help("Record the key of hosts that are not in known_hosts yet"),
        })
    }
}
