//! `nftables`: one nftables table owned by relayctl, replaced as a whole, never locking the
//! controller out (DESIGN.md, rule 4).
//!
//! The table's ruleset is rendered from a template and kept in `/etc/nftables.d/TABLE.nft`, a
//! file that starts by creating and deleting the table, so that loading it replaces the table in
//! one transaction. A change goes:
//! 1. the new file is staged beside its target and checked with `nft -c -f`: a ruleset the
//!    kernel refuses changes nothing;
//! 2. the live table is snapshotted into a rollback file (checked too);
//! 3. a transient systemd timer is armed that restores the snapshot after `rollback_timeout`
//!    seconds: it lives on the host, so it fires even if the controller's connection dies;
//! 4. the staged file is loaded (`nft -f`, atomic);
//! 5. the engine opens a NEW SSH connection ([`crate::modules::Confirmation`]); over it the
//!    timer is disarmed, and only then the change is persisted: the file renamed into place,
//!    and relayctl's boot unit written and enabled (`boot.rs`). If no new connection can be
//!    opened, the snapshot is restored at once over the current connection, or by the timer.
//!
//! Disarming and firing race for one token file in /run: whoever removes it acts, so a
//! confirmation that comes too late fails instead of persisting a ruleset already rolled back.
//!
//! Other tables (docker's, fail2ban's, the customer's) are never touched: no `flush ruleset`,
//! and neither nftables.conf nor nftables.service is relayctl's. A second apply compares the
//! file with the rendering, and the live table with a digest of its listing recorded when it was
//! applied, so a table changed or lost behind relayctl's back is reloaded. `state: absent`
//! deletes the table, its file and its boot unit, and nothing else.

mod boot;

use self::boot::{Boot, BootFound};
use super::guard::{self, Guard, STATE_DIR};
use crate::modules::PRESENT_ABSENT;
use crate::modules::shell::{FileStat, quote};
use crate::modules::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, FileDiff, Findings, ModuleDef,
    ModuleKind, Plan, ProbeError, Provides, Rendered, Resource, Step,
};

/// The family of relayctl's table: one table for IPv4 and IPv6.
const FAMILY: &str = "inet";
const DEFAULT_TABLE: &str = "medulla_relay";
const RULESET_DIR: &str = "/etc/nftables.d";

pub static NFTABLES: ModuleDef = ModuleDef {
    name: "nftables",
    aliases: &[],
    args: &[
        ArgSpec::optional("template", ArgKind::Str),
        ArgSpec::optional("table", ArgKind::Word),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("rollback_timeout", ArgKind::Int),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

/// Where everything about one table lives on the host.
#[derive(Clone, Debug)]
struct TablePaths {
    table: String,
    ruleset: String,
    staged: String,
    rollback: String,
    applied_digest: String,
}

impl TablePaths {
    fn new(table: &str) -> Self {
        TablePaths {
            table: table.to_string(),
            ruleset: format!("{RULESET_DIR}/{table}.nft"),
            staged: format!("{RULESET_DIR}/.{table}.nft.relayctl-staged"),
            rollback: format!("{STATE_DIR}/{table}.rollback.nft"),
            applied_digest: format!("{STATE_DIR}/{table}.sha256"),
        }
    }

    fn qualified(&self) -> String {
        format!("{FAMILY} {}", self.table)
    }

    /// A snippet that sets `$1`-free variable `_live` to the SHA-256 of the live table's
    /// stateless listing, or to `absent`. The probe and the record after an apply use the same
    /// one, so the digests compare.
    fn live_digest(&self) -> String {
        format!(
            "if _l=$(nft -s list table {table} 2>/dev/null); then _h=$(printf '%s\\n' \"$_l\" | sha256sum); _live=${{_h%% *}}; else _live=absent; fi\n",
            table = self.qualified()
        )
    }
}

struct Nftables {
    paths: TablePaths,
    boot: Boot,
    /// `None`: state absent.
    ruleset: Option<Vec<u8>>,
    guard: Guard,
}

fn build(args: &Rendered, ctx: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    Ok(Box::new(nftables(args, ctx)?))
}

fn nftables(args: &Rendered, ctx: &BuildContext) -> Result<Nftables, ArgError> {
    let table = args
        .opt_word("table")?
        .unwrap_or_else(|| DEFAULT_TABLE.into());
    if !table
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ArgError::new(
            "table",
            format!("{table:?}: a table name is letters, digits, _ and -"),
        ));
    }
    let paths = TablePaths::new(&table);
    let present = args.present()?;
    let rollback_timeout = guard::rollback_timeout(args)?;
    let ruleset = if present {
        let Some(template) = args.opt_str("template")? else {
            return Err(ArgError::new(
                "template",
                "state present needs the template of the table's ruleset",
            ));
        };
        let rendered =
            (ctx.render_template)(&template).map_err(|e| ArgError::new("template", e))?;
        check_owns_only(&rendered, &paths).map_err(|e| ArgError::new("template", e))?;
        Some(ruleset_file(&rendered, &paths).into_bytes())
    } else {
        None
    };
    Ok(Nftables {
        guard: Guard::new(&paths.table, rollback_timeout),
        boot: Boot::new(&paths.table, &paths.ruleset),
        paths,
        ruleset,
    })
}

/// The rendered ruleset must define relayctl's table and nothing else: other tables belong to
/// docker, fail2ban and the operator.
fn check_owns_only(rendered: &str, paths: &TablePaths) -> Result<(), String> {
    let own = format!("table {}", paths.qualified());
    let mut defines_own = false;
    for (number, line) in rendered.lines().enumerate() {
        let words: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        match words.as_slice() {
            ["flush", "ruleset", ..] => {
                return Err(format!(
                    "line {}: `flush ruleset` would delete every other table (docker's, fail2ban's)",
                    number + 1
                ));
            }
            ["table" | "delete" | "flush" | "add", ..]
                if !line.starts_with(char::is_whitespace) =>
            {
                if words.len() >= 3 && words[..3].join(" ") == own && words[0] == "table" {
                    defines_own = true;
                } else {
                    return Err(format!(
                        "line {}: {:?}: the template may only define `{own}`",
                        number + 1,
                        line.trim()
                    ));
                }
            }
            _ => {}
        }
    }
    if defines_own {
        Ok(())
    } else {
        Err(format!(
            "the rendered ruleset does not define `{own} {{ ... }}`"
        ))
    }
}

/// The file on the host: the rendering after a preamble that makes loading it replace the table
/// atomically (create it if absent, delete it, define it, in one transaction).
fn ruleset_file(rendered: &str, paths: &TablePaths) -> String {
    let table = paths.qualified();
    let mut text = format!(
        "#!/usr/sbin/nft -f\n\
         # Managed by relayctl: replaced as a whole on every apply (edit the inventory, not this file).\n\
         # The next two lines make loading this file replace the table in one transaction.\n\
         table {table}\n\
         delete table {table}\n\n"
    );
    text.push_str(rendered);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// What the probe found.
struct Found<'a> {
    live: &'a str,
    applied: &'a str,
    file: FileStat,
    file_content: Option<&'a [u8]>,
    boot: BootFound<'a>,
}

impl Nftables {
    fn read<'a>(&self, found: &'a Findings) -> Result<Found<'a>, ProbeError> {
        if found.require("nft.bin")? != "yes" {
            return Err(ProbeError::Missing(
                Resource::Path("/usr/sbin/nft".into()),
                "nftables is not installed (no nft command)".into(),
            ));
        }
        if found.require("nft.armed")? == "yes" {
            return Err(ProbeError::Failed(format!(
                "a firewall rollback is armed on the host ({}): a run is confirming a change, or died before it could; the host restores the previous table within {} s at most, then try again",
                self.guard.token, self.guard.timeout
            )));
        }
        Ok(Found {
            live: found.require("nft.live")?,
            applied: found.require("nft.applied")?,
            file: FileStat::from_findings(found, "nft.file")?,
            file_content: found.content("nft.file"),
            boot: self.boot.read(found)?,
        })
    }

    fn plan_present(&self, ruleset: &[u8], found: &Found) -> Result<Plan, ProbeError> {
        let paths = &self.paths;
        let table = paths.qualified();
        let file_current = found.file_content == Some(ruleset);
        let table_current = found.live != "absent" && found.live == found.applied;
        let mut persist = self.boot.plan_present(&found.boot)?;
        if file_current && table_current {
            return Ok(persist);
        }
        let mut changes = vec![match (found.live, file_current) {
            ("absent", _) => format!("load table {table}"),
            (_, false) => format!("replace table {table} with the new ruleset"),
            (_, true) => format!(
                "reload table {table}: the live table is not the one relayctl applied (changed or lost since)"
            ),
        }];
        changes.push(format!(
            "restore the previous table unless a new SSH connection confirms within {} s",
            self.guard.timeout
        ));
        if !file_current {
            changes.push(format!("write {}", paths.ruleset));
        }
        changes.append(&mut persist.changes);
        let confirm_step = Step {
            script: self.confirm_script(),
            ..Step::default()
        };
        let confirm_step = match persist.step.take() {
            Some(persist_step) => {
                let mut step = confirm_step;
                step.script.push_str(&persist_step.script);
                step.stdin = persist_step.stdin;
                step.long_running |= persist_step.long_running;
                step
            }
            None => confirm_step,
        };
        let mut confirm_step = confirm_step;
        confirm_step.script.push_str(&self.record_script());
        Ok(Plan {
            changes,
            diff: Some(FileDiff {
                path: paths.ruleset.clone(),
                before: match (&found.file, found.file_content) {
                    (FileStat::Absent, _) => None,
                    (_, Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
                    (_, None) => Some("(not readable as text)\n".into()),
                },
                after: Some(String::from_utf8_lossy(ruleset).into_owned()),
            }),
            step: Some(Step {
                script: self.load_script(ruleset.len()),
                stdin: ruleset.to_vec(),
                confirm: Some(self.guard.confirmation(
                    confirm_step,
                    &self.undo_script(),
                    "the previous table",
                )),
                ..Step::default()
            }),
            provides: vec![Provides::Resource(Resource::Path(paths.ruleset.clone()))],
        })
    }

    fn plan_absent(&self, found: &Found) -> Result<Plan, ProbeError> {
        let paths = &self.paths;
        let mut plan = Plan::unchanged();
        if found.live != "absent" {
            plan = plan.and(Plan {
                changes: vec![format!("delete table {}", paths.qualified())],
                step: Some(Step {
                    script: format!(
                        "if nft list table {table} >/dev/null 2>&1; then nft delete table {table} || exit 1; fi\n",
                        table = paths.qualified()
                    ),
                    ..Step::default()
                }),
                ..Plan::default()
            });
        }
        if found.file != FileStat::Absent || found.applied != "none" {
            plan = plan.and(Plan {
                changes: vec![format!("remove {}", paths.ruleset)],
                step: Some(Step {
                    script: format!(
                        "rm -f -- {} {} {} {} || exit 1\n",
                        quote(&paths.ruleset),
                        quote(&paths.staged),
                        quote(&paths.rollback),
                        quote(&paths.applied_digest)
                    ),
                    ..Step::default()
                }),
                ..Plan::default()
            });
        }
        plan = plan.and(self.boot.plan_absent(&found.boot)?);
        Ok(plan)
    }

    /// Stage, check, snapshot, arm, load (over the current connection). The staged ruleset is
    /// whole: the privileged shell starts a step only once all its stdin has arrived.
    fn load_script(&self, size: usize) -> String {
        let p = &self.paths;
        let table = p.qualified();
        // nft 1.0.6 lists a ct helper's protocol as a number it cannot read back.
        let fix_listing = r#"sed -e 's/^\(\s*type "[^"]*" protocol \)17$/\1udp/' -e 's/^\(\s*type "[^"]*" protocol \)6$/\1tcp/'"#;
        let staged = quote(&p.staged);
        let rollback = quote(&p.rollback);
        format!(
            "s={staged}\n\
             mkdir -p {ruleset_dir} && mkdir -p -m 0700 {state_dir} || exit 1\n\
             {refuse}\
             head -c {size} >\"$s\" || {{ rm -f \"$s\"; exit 1; }}\n\
             if ! nft -c -f \"$s\" >&2; then rm -f \"$s\"; echo 'nft -c refused the new ruleset; nothing was changed' >&2; exit 3; fi\n\
             {{ printf 'table {table}\\ndelete table {table}\\n'; nft -s list table {table} 2>/dev/null | {fix_listing}; }} >{rollback} || {{ rm -f \"$s\"; exit 1; }}\n\
             if ! nft -c -f {rollback} >&2; then rm -f \"$s\"; echo 'the current table cannot be snapshotted for a rollback; nothing was changed' >&2; exit 1; fi\n\
             {arm}\
             if ! nft -f \"$s\" >&2; then\n\
             \x20 {stand_down}; rm -f \"$s\"\n\
             \x20 echo 'nft -f failed; the previous table is in place' >&2; exit 1\n\
             fi\n",
            ruleset_dir = quote(RULESET_DIR),
            state_dir = quote(STATE_DIR),
            refuse = self.guard.refuse_if_armed(),
            arm = self
                .guard
                .arm(&format!("nft -f {rollback}"), &format!("rm -f {staged}")),
            stand_down = self.guard.stand_down(),
        )
    }

    /// Over the new connection: disarm (or learn that the host already rolled back), then put the
    /// staged file in place, keeping a backup of the one it replaces.
    fn confirm_script(&self) -> String {
        let p = &self.paths;
        format!(
            "{disarm}\
             d={ruleset}\n\
             if [ -e \"$d\" ] && ! cmp -s {staged} \"$d\"; then b=\"$d.$(date -u +%Y%m%dT%H%M%S.%NZ).relayctl~\"; cp -p -- \"$d\" \"$b\" || exit 1; f backup \"$b\"; fi\n\
             mv -f -- {staged} \"$d\" || exit 1\n",
            disarm = self.guard.disarm(),
            ruleset = quote(&p.ruleset),
            staged = quote(&p.staged),
        )
    }

    /// Records the digest of the live table as applied, for the next run's comparison.
    fn record_script(&self) -> String {
        let p = &self.paths;
        format!(
            "{live}[ \"$_live\" != absent ] || {{ echo 'the table vanished after it was loaded' >&2; exit 1; }}\n\
             printf '%s\\n' \"$_live\" >{digest}.tmp && mv -f {digest}.tmp {digest} || exit 1\n",
            live = p.live_digest(),
            digest = quote(&p.applied_digest),
        )
    }

    /// Over the current connection, when no new one could be opened: restore now, unless the
    /// host's timer already has.
    fn undo_script(&self) -> String {
        let p = &self.paths;
        format!(
            "nft -f {} >&2 && rm -f {}",
            quote(&p.rollback),
            quote(&p.staged)
        )
    }
}

impl Action for Nftables {
    fn probe(&self) -> Option<String> {
        let p = &self.paths;
        Some(format!(
            "if command -v nft >/dev/null 2>&1; then f nft.bin yes; else f nft.bin no; fi\n\
             {live}f nft.live \"$_live\"\n\
             if [ -r {digest} ]; then read -r _a <{digest}; f nft.applied \"$_a\"; else f nft.applied none; fi\n\
             fstat nft.file {ruleset}\n\
             {boot}\
             {armed}",
            live = p.live_digest(),
            digest = quote(&p.applied_digest),
            ruleset = quote(&p.ruleset),
            boot = self.boot.probe(),
            armed = self.guard.probe("nft.armed"),
        ))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        match &self.ruleset {
            Some(ruleset) => {
                let found = self.read(found)?;
                self.plan_present(ruleset, &found)
            }
            None => match self.read(found) {
                // Nothing to remove where nftables is not even installed.
                Err(ProbeError::Missing(..)) => Ok(Plan::unchanged()),
                Err(e) => Err(e),
                Ok(found) => self.plan_absent(&found),
            },
        }
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        crate::modules::content::applied_write(output)
    }
}

#[cfg(test)]
mod tests;
