//! The guard every firewall change runs under (DESIGN rule 4): before the change, the host arms a
//! transient systemd timer that undoes it after a timeout; a NEW SSH connection then disarms it
//! (the engine's [`crate::modules::Confirmation`]). The timer lives on the host, so it fires even
//! if the controller's connection dies; a ruleset that lets the running connection live while
//! refusing new ones is undone too.
//!
//! Disarming and firing race for one token file in /run: whoever removes it acts, so a
//! confirmation that comes too late fails instead of persisting a change already undone. /run
//! is a tmpfs: a reboot disarms, and what was persisted before the change is what boots.

use std::time::Duration;

use crate::modules::shell::quote;
use crate::modules::{ArgError, Confirmation, Rendered, Step};

/// Where the tokens live.
const TOKEN_DIR: &str = "/run/relayctl";
/// Where the firewall modules keep their rollback snapshots and records.
pub(super) const STATE_DIR: &str = "/var/lib/relayctl/firewall";
const DEFAULT_ROLLBACK_TIMEOUT: i64 = 60;
/// Extra time for a revert over a connection the new rules stalled: TCP retransmissions back
/// off to several seconds once the host's timer has restored the previous rules.
const REVERT_GRACE: Duration = Duration::from_secs(30);

/// The `rollback_timeout` argument every firewall module takes: seconds, 15 to 3600 (a new SSH
/// connection through a bastion takes seconds; a wrong firewall should not stay for long).
pub(super) fn rollback_timeout(args: &Rendered) -> Result<u32, ArgError> {
    let seconds = args
        .opt_int("rollback_timeout")?
        .unwrap_or(DEFAULT_ROLLBACK_TIMEOUT);
    u32::try_from(seconds)
        .ok()
        .filter(|t| (15..=3600).contains(t))
        .ok_or_else(|| {
            ArgError::new(
                "rollback_timeout",
                format!("{seconds}: between 15 and 3600 seconds"),
            )
        })
}

/// The guard of one firewall object (a table, a set of ufw rules, a firewalld policy).
#[derive(Clone, Debug)]
pub(super) struct Guard {
    /// The token the timer and the confirmation race for.
    pub token: String,
    /// The transient unit's name (`NAME.timer`, `NAME.service`).
    unit: String,
    /// Seconds until the host undoes the change by itself.
    pub timeout: u32,
}

impl Guard {
    /// The guard of `object` (letters, digits, `_` and `-`: a table's or a policy's name).
    pub fn new(object: &str, timeout: u32) -> Self {
        Guard {
            token: format!("{TOKEN_DIR}/firewall-{object}.armed"),
            unit: format!("relayctl-firewall-rollback-{object}"),
            timeout,
        }
    }

    /// A probe line: `KEY=yes` while a guard is armed (a run is confirming a change, or died
    /// before it could).
    pub fn probe(&self, key: &str) -> String {
        format!(
            "if [ -e {token} ]; then f {key} yes; else f {key} no; fi\n",
            token = quote(&self.token)
        )
    }

    /// Refuses to arm over an armed guard.
    pub fn refuse_if_armed(&self) -> String {
        format!(
            "mkdir -p {dir} || exit 1\n\
             if [ -e {token} ]; then echo 'a firewall rollback is already armed on the host' >&2; exit 1; fi\n",
            dir = quote(TOKEN_DIR),
            token = quote(&self.token)
        )
    }

    /// Arms the timer that runs `undo` (then `cleanup`, whatever `undo` did) unless disarmed
    /// first. On failure, runs `cleanup` and exits: nothing was changed yet.
    pub fn arm(&self, undo: &str, cleanup: &str) -> String {
        let fire = format!(
            "rm {token} && {{ {undo}; }}; {cleanup}",
            token = quote(&self.token)
        );
        // A unit of an earlier run that failed keeps its name until reset: reset, and try again,
        // only then (each systemctl call is work for PID 1, shared by every relay's container).
        let run = format!(
            "systemd-run --quiet --unit={unit} --on-active={timeout}s --timer-property=AccuracySec=1s /bin/sh -c {fire}",
            unit = self.unit,
            timeout = self.timeout,
            fire = quote(&fire),
        );
        format!(
            ": >{token} || exit 1\n\
             if ! {run} 2>/dev/null && ! {{ systemctl reset-failed {unit}.timer {unit}.service >/dev/null 2>&1; {run} >&2; }}; then\n\
             \x20 rm -f {token}; {cleanup}; echo 'cannot arm the rollback timer (systemd-run); nothing was changed' >&2; exit 1\n\
             fi\n",
            token = quote(&self.token),
            unit = self.unit,
        )
    }

    /// Gives up the armed guard after the change itself failed (the change undid itself, or
    /// never happened).
    pub fn stand_down(&self) -> String {
        format!(
            "rm -f {token}; systemctl stop {unit}.timer >/dev/null 2>&1",
            token = quote(&self.token),
            unit = self.unit
        )
    }

    /// Over the new connection: disarms, or fails if the host already undid the change. A
    /// stopped timer whose service never ran leaves nothing for systemd to keep.
    pub fn disarm(&self) -> String {
        format!(
            "if ! rm {token} 2>/dev/null; then echo 'the host had already restored the previous firewall: its rollback timer fired before this confirmation' >&2; exit 1; fi\n\
             systemctl stop {unit}.timer >/dev/null 2>&1\n",
            token = quote(&self.token),
            unit = self.unit,
        )
    }

    /// What the engine does after a guarded change: `confirm` over a new connection (which
    /// starts with [`Guard::disarm`]), else `undo` over the current one ([`Guard::revert`]), else
    /// it says that the host restores `what` by itself.
    pub fn confirmation(&self, confirm: Step, undo: &str, what: &str) -> Confirmation {
        Confirmation {
            step: Box::new(confirm),
            revert: self.revert(undo),
            revert_within: Duration::from_secs(self.timeout.into()) + REVERT_GRACE,
            fallback: format!(
                "the host restores {what} by itself {} s after the change",
                self.timeout
            ),
        }
    }

    /// Over the current connection, when no new one could be opened: runs `undo` now, unless
    /// the host's timer already has. Prints `reverted=now` or `reverted=by_host`.
    pub fn revert(&self, undo: &str) -> String {
        format!(
            "if rm {token} 2>/dev/null; then\n\
             \x20 systemctl stop {unit}.timer >/dev/null 2>&1\n\
             \x20 {undo} || exit 1\n\
             \x20 f reverted now\n\
             else f reverted by_host; fi\n",
            token = quote(&self.token),
            unit = self.unit,
        )
    }
}
