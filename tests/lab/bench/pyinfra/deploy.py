"""The benchmark's pyinfra peer: what relayctl's roles medulla_user and medulla_prereqs do on a relay
when no support private key is given (roles/medulla_user, roles/medulla_prereqs), with pyinfra's
own operations.

Run by tests/lab/bench.sh as
    pyinfra INVENTORY.py deploy.py --sudo --parallel N -y [--dry]
with RELAYCTL_BENCH_PASSWORD_HASH (a crypt(3) hash of the benchmark's medulla password, made once
by bench.sh) and RELAYCTL_BENCH_SUPPORT_KEY (the support public key file) in the environment.

Where pyinfra cannot do what relayctl does, the nearest it offers (said in RESULTS.md too):
- files.put has no `validate`: the sudoers drop-in is checked with `visudo -cf` right after it is
  written, and removed again if refused, instead of being checked before it replaces anything;
- files.line knows no INI sections: the regex matches the commented default anywhere in
  system.conf (Debian's has one section, [Manager], so the result is the same);
- server.user passes the password hash on the command line (useradd/usermod -p), not over stdin.
"""

import os
from io import StringIO

from pyinfra import host, state
from pyinfra.api import FactBase, OperationError, operation
from pyinfra.operations import files, server
from pyinfra.operations.util import any_changed

USER = "medulla"
HOME = "/home/medulla"
SUDOERS = "/etc/sudoers.d/medulla"
LIMITS = "/etc/security/limits.d/10-coredump-debian.conf"
SYSTEM_CONF = "/etc/systemd/system.conf"
# roles/medulla_prereqs/defaults/main.yaml
COREDUMP_LIMITS = "* hard core infinity\nroot hard core infinity\n* soft core 0\nroot soft core 0\n"
LIMIT = "31541"

PASSWORD_HASH = os.environ["RELAYCTL_BENCH_PASSWORD_HASH"]
with open(os.environ["RELAYCTL_BENCH_SUPPORT_KEY"], encoding="utf-8") as f:
    SUPPORT_KEY = f.read().strip()


class MedullaSudo(FactBase):
    """Whether medulla can run `sudo -n true` (roles/medulla_user's last task)."""

    def command(self):
        return f"runuser -u {USER} -- sudo -n true >/dev/null 2>&1 && echo ok || echo refused"

    def process(self, output):
        return list(output) == ["ok"]


@operation(is_idempotent=True)
def sudo_check():
    """A check, not a change: it yields no command, so pyinfra never counts it as changed (a
    server.shell always is). Checked only while executing: in a dry run on a fresh relay the user
    does not exist yet (relayctl says "pending" there)."""
    if state.is_executing and not host.get_fact(MedullaSudo):
        raise OperationError(f"{USER} cannot run sudo -n true")
    yield from ()


server.user(
    name="user medulla, with the benchmark's password",
    user=USER,
    home=HOME,
    shell="/bin/bash",
    create_home=True,
    password=PASSWORD_HASH,
)

sudoers = files.put(
    name="passwordless sudo for medulla",
    src=StringIO(f"{USER} ALL=(ALL) NOPASSWD: ALL\n"),
    dest=SUDOERS,
    user="root",
    group="root",
    mode="440",
)

server.shell(
    name="visudo -cf the new sudoers drop-in (removed again if refused)",
    commands=[f"visudo -cf {SUDOERS} || {{ rm -f {SUDOERS}; exit 1; }}"],
    _if=sudoers.did_change,
)

server.user_authorized_keys(
    name="the support key in medulla's authorized_keys",
    user=USER,
    group=USER,
    public_keys=[SUPPORT_KEY],
    authorized_key_directory=f"{HOME}/.ssh",
)

sudo_check(name="medulla runs sudo -n true")

files.put(
    name="core-dump limits, exactly the four lines",
    src=StringIO(COREDUMP_LIMITS),
    dest=LIMITS,
    user="root",
    group="root",
    mode="644",
)

nproc = files.line(
    name="DefaultLimitNPROC in systemd's system.conf",
    path=SYSTEM_CONF,
    line=r"^#?\s*DefaultLimitNPROC\s*=.*$",
    replace=f"DefaultLimitNPROC={LIMIT}",
    extended_regex=True,
    backup=True,
)

sigpending = files.line(
    name="DefaultLimitSIGPENDING in systemd's system.conf",
    path=SYSTEM_CONF,
    line=r"^#?\s*DefaultLimitSIGPENDING\s*=.*$",
    replace=f"DefaultLimitSIGPENDING={LIMIT}",
    extended_regex=True,
    backup=True,
)

# The handler: only when one of the two lines changed.
server.shell(
    name="re-execute systemd",
    commands=["systemctl daemon-reexec"],
    _if=any_changed(nproc, sigpending),
)
