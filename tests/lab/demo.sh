#!/usr/bin/env bash
# The main job on the built-in lab: boot the lab, build relayctl, and run it against the lab's relays
# as an operator would before a change window.
#
#   tests/lab/demo.sh [RELAYCTL ARGS...]    default: apply --check inventories/lab.yaml
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

tests/lab/lab.sh up
cargo build --release --locked
if (($# == 0)); then
  set -- apply --check inventories/lab.yaml
fi
echo "+ relayctl $*"
exec target/release/relayctl "$@"
