# shellcheck shell=bash
# Sourced by tests/lab/bench.sh: the virtualenv holding the benchmark's peers (ansible-core and
# pyinfra from PyPI, pinned in requirements.txt beside this file). Made once, reused while the pins
# are unchanged; outside the repo (root-owned, 100+ MB) next to the lab's other scratch.

BENCH_VENV=${RELAYCTL_BENCH_VENV:-/var/lib/relayctl-lab/bench-venv}
BENCH_REQUIREMENTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements.txt

# Creates or refreshes the virtualenv, then puts its bin/ first on PATH.
ensure_bench_venv() {
  local stamp=$BENCH_VENV/.requirements.sha256 want
  want=$(sha256sum "$BENCH_REQUIREMENTS" | cut -d' ' -f1)
  if [[ ! -x $BENCH_VENV/bin/python || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
      echo "bench: installing python3-venv (the virtualenv needs it)" >&2
      apt-get update >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2
    fi
    echo "bench: making the virtualenv $BENCH_VENV (ansible-core, pyinfra from PyPI)" >&2
    # Started over rather than upgraded in place: pip leaves packages that were dropped from the pins.
    rm -rf "$BENCH_VENV"
    python3 -m venv "$BENCH_VENV"
    # --no-cache-dir: pip would otherwise keep its download cache in ~/.cache, outside the lab's files.
    "$BENCH_VENV/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
      -r "$BENCH_REQUIREMENTS" >&2
    "$BENCH_VENV/bin/pip" check >&2
    printf '%s\n' "$want" >"$stamp"
  fi
  PATH=$BENCH_VENV/bin:$PATH
  export PATH
}
