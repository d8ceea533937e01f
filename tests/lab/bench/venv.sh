# shellcheck shell=bash
# Sourced by tests/lab/bench.sh and tests/lab/ansible-venv.sh: the virtualenvs holding Ansible
# from PyPI, every version pinned in a requirements file beside this one. Each is made once and
# reused while its pins are unchanged; outside the repo (root-owned) next to the lab's other
# scratch.
#
# - the benchmark's peers, ansible-core and pyinfra (requirements.txt): ensure_bench_venv;
# - ansible-core alone, for the tests that compare relayctl's reading of an inventory with
#   ansible-inventory's and encrypt with ansible-vault (ansible-requirements.txt):
#   ensure_ansible_venv.

BENCH_VENV=${RELAYCTL_BENCH_VENV:-/var/lib/relayctl-lab/bench-venv}
BENCH_REQUIREMENTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt
ANSIBLE_VENV=${RELAYCTL_ANSIBLE_VENV:-/var/lib/relayctl-lab/ansible-venv}
ANSIBLE_REQUIREMENTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ansible-requirements.txt

# ensure_venv DIR REQUIREMENTS WHAT: creates or refreshes the virtualenv DIR from REQUIREMENTS,
# then puts its bin/ first on PATH.
ensure_venv() {
  local venv=$1 requirements=$2 what=$3
  local stamp=$venv/.requirements.sha256 want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ ! -x $venv/bin/python || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
      echo "venv: installing python3-venv (the virtualenv needs it)" >&2
      apt-get update >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2
    fi
    echo "venv: making the virtualenv $venv ($what from PyPI)" >&2
    # Started over rather than upgraded in place: pip leaves packages that were dropped from the pins.
    rm -rf "$venv"
    python3 -m venv "$venv"
    # --no-cache-dir: pip would otherwise keep its download cache in ~/.cache, outside the lab's files.
    "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check -r "$requirements" >&2
    "$venv/bin/pip" check >&2
    printf '%s\n' "$want" >"$stamp"
  fi
  PATH=$venv/bin:$PATH
  export PATH
}

ensure_bench_venv() {
  ensure_venv "$BENCH_VENV" "$BENCH_REQUIREMENTS" "ansible-core, pyinfra"
}

ensure_ansible_venv() {
  ensure_venv "$ANSIBLE_VENV" "$ANSIBLE_REQUIREMENTS" "ansible-core"
}
