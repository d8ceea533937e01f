#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root): system packages, the lab, formatting
# and lint, unit tests and lab tests. Exits non-zero on any failure; tears the lab down at the end.
#
#   tests/run.sh            everything
#   KEEP_LAB=1 tests/run.sh leave the lab up afterwards (for debugging)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "tests/run.sh: cargo is missing; install a Rust toolchain >= 1.85 (rustup) first" >&2
  exit 1
fi

say "lab: packages, dockerd, image and hosts"
# lab.sh installs docker.io, debootstrap, xfsprogs and openssh-client with apt when they are missing.
# The lab tests are written for 3 relays: say so, or `up` keeps a lab as big as it finds it (a
# benchmark's 50 relays left behind on the machine made every root-fs relay fail sizing there).
tests/lab/lab.sh up 3

teardown() {
  if [[ -z ${KEEP_LAB:-} ]]; then
    say "lab: down"
    tests/lab/lab.sh down || true
  fi
}
trap teardown EXIT

say "ansible-core from PyPI (the Ansible parity and vault tests compare with it)"
# About 10 s the first time, well under a second once made (the virtualenv is kept while its pins
# are unchanged). Its bin/ goes first on PATH for the tests.
# shellcheck source=tests/lab/bench/venv.sh
source tests/lab/bench/venv.sh
SECONDS=0
ensure_ansible_venv
echo "ansible-core ready in ${SECONDS} s: $(command -v ansible-inventory)"

say "format and lint"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings

say "unit and lab tests"
cargo test --locked --no-fail-fast
