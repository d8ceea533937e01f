#!/usr/bin/env bash
# Makes (once, then reuses while the pins are unchanged) the virtualenv with ansible-core that the
# Ansible parity and vault tests run: /var/lib/relayctl-lab/ansible-venv, or RELAYCTL_ANSIBLE_VENV.
# tests/run.sh runs it; run it by hand before `cargo test --test integration ansible`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/venv.sh"
ensure_ansible_venv
version=$(ansible-inventory --version)
echo "${version%%$'\n'*} in $ANSIBLE_VENV"
