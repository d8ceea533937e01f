#!/usr/bin/env bash
# How many hosts one controller can drive at once: `relayctl facts` against M inventory hosts at
# once (--forks M), spread over the lab's classic relays (each relay appears under several names,
# each name its own SSH connection and key exchange), so the controller's side can be measured
# past the number of containers the machine can boot. Prints, for each M: wall time, the
# controller's CPU (user + system), its peak RSS and its peak number of open file descriptors,
# then the cost per host from one M to the next (the marginal cost of a connection).
#
#   tests/lab/bench/scale.sh [M ...]       default "25 50 100 200"; the lab must be up
#
# The connect timeout is 120 s: on this machine the relays' sshd share the controller's 2 cores, and
# 400 key exchanges at once take longer than the default 10 s to be answered; it is the
# controller's side being measured here. Environment: RELAYCTL (default target/release/relayctl,
# never built here). Each relay's sshd
# lets 10 connections at once be unauthenticated (MaxStartups 10:30:100): at most 8 names per
# relay are used, so the lab needs M / 8 classic relays (the even ones: `lab.sh up 2*M/8`).
set -euo pipefail
shopt -s inherit_errexit

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/../../.." && pwd)
STATE_DIR=$REPO_DIR/tests/lab/.state
RELAYCTL=${RELAYCTL:-$REPO_DIR/target/release/relayctl}
PER_RELAY_MAX=8

die() {
  printf 'scale: error: %s\n' "$*" >&2
  exit 1
}

[[ -x $RELAYCTL ]] || die "no relayctl binary at $RELAYCTL (cargo build --release first)"
[[ -f $STATE_DIR/hosts.tsv ]] || die "the lab is not up (tests/lab/lab.sh up N)"
counts=("$@")
((${#counts[@]})) || counts=(25 50 100 200)

# The classic relays: reached directly, not through the bastion (a connection of its own each).
mapfile -t ips < <(awk -F'\t' '$4 == "relay" && $5 == "classic" { print $3 }' "$STATE_DIR/hosts.tsv")
((${#ips[@]})) || die "no classic relay in the lab"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# inventory M: M names over the classic relays, round robin.
inventory() {
  local m=$1 i
  printf 'all:\n  vars:\n    ansible_user: admin\n'
  printf '    ansible_ssh_private_key_file: %s\n' "$STATE_DIR/id_ed25519"
  printf '    ansible_ssh_common_args: "-o UserKnownHostsFile=%s"\n' "$STATE_DIR/known_hosts"
  printf '  children:\n    scale:\n      hosts:\n'
  for ((i = 0; i < m; i++)); do
    printf '        host%04d: { ansible_host: %s }\n' "$i" "${ips[i % ${#ips[@]}]}"
  done
}

# run M: prints "M wall_s cpu_s rss_kib fds".
run() {
  local m=$1 inv=$tmp/inventory-$1.yaml tpid rpid peak=0 fds
  inventory "$m" >"$inv"
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
    "$RELAYCTL" facts "$inv" --forks "$m" --connect-timeout 120 --format json >"$tmp/out" 2>"$tmp/err" &
  tpid=$!
  # Sample the controller's open descriptors with shell globs only: no process spawned per sample.
  while kill -0 "$tpid" 2>/dev/null; do
    if [[ -z ${rpid:-} ]]; then
      rpid=$(pgrep -P "$tpid" -x relayctl || true)
    else
      fds=(/proc/"$rpid"/fd/*)
      ((${#fds[@]} > peak)) && peak=${#fds[@]}
    fi
    sleep 0.01
  done
  local rc=0
  wait "$tpid" || rc=$?
  local ok
  ok=$(jq '[.hosts[] | select(.status == "ok")] | length' "$tmp/out" 2>/dev/null || echo 0)
  if ((ok != m)); then
    jq -r '.hosts[] | select(.status != "ok") | "\(.name): \(.error.kind): \(.error.message)"' \
      "$tmp/out" 2>/dev/null | sort | uniq -c -f1 | head -n 5 >&2 || tail -n 3 "$tmp/err" >&2
    die "$ok of $m hosts answered (exit code $rc)"
  fi
  local wall user sys rss
  read -r wall user sys rss <"$tmp/time"
  echo "$m $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $rss $peak"
}

echo "relayctl facts, M hosts at once over ${#ips[@]} classic relays ($(nproc) cores shared with the lab)"
echo
printf '| hosts | wall | controller CPU | peak RSS | peak open fds |\n| --- | --- | --- | --- | --- |\n'
rows=()
for m in "${counts[@]}"; do
  ((m <= PER_RELAY_MAX * ${#ips[@]})) ||
    die "$m hosts need at least $(((m + PER_RELAY_MAX - 1) / PER_RELAY_MAX)) classic relays; the lab has ${#ips[@]}"
  read -r m wall cpu rss fds < <(run "$m")
  printf '| %d | %s s | %s s | %d MB | %d |\n' "$m" "$wall" "$cpu" $((rss / 1024)) "$fds"
  rows+=("$m $cpu $rss $fds")
done
echo
echo "Per added host (from each M to the next):"
echo
for ((i = 1; i < ${#rows[@]}; i++)); do
  read -r m0 cpu0 rss0 fds0 <<<"${rows[i - 1]}"
  read -r m1 cpu1 rss1 fds1 <<<"${rows[i]}"
  awk -v m0="$m0" -v m1="$m1" -v c0="$cpu0" -v c1="$cpu1" -v r0="$rss0" -v r1="$rss1" \
    -v f0="$fds0" -v f1="$fds1" 'BEGIN {
      d = m1 - m0
      printf "- %d -> %d hosts: %.1f ms of controller CPU, %.0f KiB of RSS, %.2f descriptors per host\n",
        m0, m1, (c1 - c0) * 1000 / d, (r1 - r0) / d, (f1 - f0) / d
    }'
done
