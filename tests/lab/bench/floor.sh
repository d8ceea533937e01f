#!/usr/bin/env bash
# The raw OpenSSH floor of the fleet benchmark (tests/lab/bench.sh): what a no-op apply cannot go
# below. For every host at once, one plain `ssh` (one connection, one command, no multiplexing)
# running one `sudo -n sh -c '…'` that reads everything a no-op apply of medulla_user and
# medulla_prereqs must look at, and prints it. No tool, no parsing, no decision.
#
#   tests/lab/bench/floor.sh [-o DIR] [--cold | --cold-all RULESETS] SSH_CONFIG HOST...
#
# --cold: instead of reading, each host's one `sudo -n sh -c '…'` does the whole work of a cold
# apply on a fresh relay, with no check before any step: the user with the benchmark's password
# hash (RELAYCTL_BENCH_PASSWORD_HASH), the sudoers drop-in through `visudo -cf`, the support key
# (RELAYCTL_BENCH_SUPPORT_KEY), the sudo check, the limits file, system.conf edited in place with
# a backup, `systemctl daemon-reexec`. What no tool doing that work can go below.
#
# --cold-all RULESETS: the same, and the firewall role's work as its guarantees require it,
# nothing checked first: the host's ruleset (RULESETS/HOST, the file relayctl wrote on that relay,
# sent on stdin) saved, a rollback timer armed (systemd-run), the table loaded, the boot unit and
# its nftables.service drop-in written and the unit enabled by its link; then a second connection
# per host, which disarms the timer: a change that could lock the controller out is confirmed
# over a new connection, as relayctl does it.
#
# SSH_CONFIG is the lab's tests/lab/.state/ssh_config. Its DMZ relays go through the bastion with
# ProxyJump; one connection to the bastion is made first (a ControlMaster) and every jump goes over
# it as a channel, as relayctl does: a connection per DMZ relay would cost a second key exchange
# each and, past 10 at once, meet the bastion sshd's MaxStartups (10:30:100), which drops
# connections at random. With -o, each host's output is kept in DIR/HOST. Fails if any host did
# not answer in full.
set -euo pipefail
shopt -s inherit_errexit

out_dir= cold=0 rulesets=
if [[ ${1:-} == -o ]]; then
  out_dir=$2
  shift 2
fi
if [[ ${1:-} == --cold ]]; then
  cold=1
  shift
elif [[ ${1:-} == --cold-all ]]; then
  cold=1 rulesets=${2:?--cold-all needs the directory of the relays\' rulesets}
  shift 2
fi
(($# >= 2)) || {
  echo "usage: $0 [-o DIR] [--cold | --cold-all RULESETS] SSH_CONFIG HOST..." >&2
  exit 2
}
config=$1
shift

# What the no-op apply's probes read: the account (passwd, shadow, group), the four files the roles
# write with their owner, mode and size, their contents (system.conf is edited in place: all of it),
# and the sudo check the medulla_user role ends with. No single quote inside: it travels in one.
# The last line proves the host ran all of it.
files='/home/medulla /home/medulla/.ssh /home/medulla/.ssh/authorized_keys /etc/sudoers.d/medulla /etc/security/limits.d/10-coredump-debian.conf /etc/systemd/system.conf'
probe="getent passwd medulla; getent shadow medulla; getent group medulla;
stat -c \"%n %U:%G %a %s %Y\" $files;
cat /etc/sudoers.d/medulla /home/medulla/.ssh/authorized_keys /etc/security/limits.d/10-coredump-debian.conf /etc/systemd/system.conf;
runuser -u medulla -- sudo -n true && echo sudo ok;
echo floor-probe-done"

if ((cold)); then
  hash=${RELAYCTL_BENCH_PASSWORD_HASH:?--cold needs RELAYCTL_BENCH_PASSWORD_HASH}
  key=$(<"${RELAYCTL_BENCH_SUPPORT_KEY:?--cold needs RELAYCTL_BENCH_SUPPORT_KEY}")
  # Inside double quotes on the host: the hash's $ must stay literal.
  hash=${hash//\$/\\\$}
  conf=/etc/systemd/system.conf
  firewall=
  if [[ -n $rulesets ]]; then
    # What relayctl's nftables module writes (src/modules/firewall/nftables/boot.rs), in short.
    t=/etc/nftables.d/medulla_relay.nft u=relayctl-firewall-medulla_relay.service
    firewall="mkdir -p /etc/nftables.d /etc/systemd/system/nftables.service.d /etc/systemd/system/sysinit.target.wants
cat >$t
systemd-run --quiet --unit=floor-rollback --on-active=120 nft delete table inet medulla_relay
nft -f $t
printf \"[Unit]\\nDefaultDependencies=no\\nBefore=network-pre.target\\nAfter=nftables.service\\n[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/usr/sbin/nft -f $t\\n[Install]\\nWantedBy=sysinit.target\\n\" >/etc/systemd/system/$u
printf \"[Service]\\nExecStartPost=-/usr/sbin/nft -f $t\\nExecReload=-/usr/sbin/nft -f $t\\n\" >/etc/systemd/system/nftables.service.d/relayctl-medulla_relay.conf
ln -sf /etc/systemd/system/$u /etc/systemd/system/sysinit.target.wants/$u
"
  fi
  probe="set -e
${firewall}useradd -m -d /home/medulla -s /bin/bash medulla
printf \"medulla:%s\\n\" \"$hash\" | chpasswd -e
t=/etc/sudoers.d/.floor; printf \"medulla ALL=(ALL) NOPASSWD: ALL\\n\" >\$t; chmod 0440 \$t; visudo -cf \$t >/dev/null; mv \$t /etc/sudoers.d/medulla
install -d -m 0700 -o medulla -g medulla /home/medulla/.ssh
printf \"%s\\n\" \"$key\" >/home/medulla/.ssh/authorized_keys; chown medulla:medulla /home/medulla/.ssh/authorized_keys; chmod 0600 /home/medulla/.ssh/authorized_keys
runuser -u medulla -- sudo -n true
printf \"* hard core infinity\\nroot hard core infinity\\n* soft core 0\\nroot soft core 0\\n\" >/etc/security/limits.d/10-coredump-debian.conf
cp -p $conf $conf.floor~
sed -i -e \"s/^#DefaultLimitNPROC=.*/DefaultLimitNPROC=31541/\" -e \"s/^#DefaultLimitSIGPENDING=.*/DefaultLimitSIGPENDING=31541/\" $conf
systemctl daemon-reexec
echo floor-probe-done"
fi

tmp=$(mktemp -d)
# shellcheck disable=SC2064 # expand now: $tmp is local to this run
trap "rm -rf '$tmp'" EXIT

# Which hosts jump, and through what: from the lab's config, whose format lab.sh writes
# ("Host NAMES", then "  ProxyJump JUMP" for the DMZ relays).
declare -A jump=()
while read -r host via; do
  jump[$host]=$via
done < <(awk '$1 == "Host" { hosts = $0; sub(/^Host /, "", hosts) }
  $1 == "ProxyJump" { n = split(hosts, h, " "); for (i = 1; i <= n; i++) print h[i], $2 }' "$config")

# The same config, plus a ControlPath for each jump host (ssh passes -F on to the jump command, so
# the jumps find the master's socket) and relayctl's key exchange, curve25519: OpenSSH 9's default,
# the post-quantum hybrid sntrup761x25519, costs over 100 ms of CPU per connection on the lab
# machine. Set before the Include: the first value ssh reads wins.
declare -A masters=()
for host in "$@"; do
  [[ -n ${jump[$host]:-} ]] && masters[${jump[$host]}]=1
done
{
  printf 'KexAlgorithms curve25519-sha256\n'
  printf 'Include %s\n' "$(realpath "$config")"
  for via in "${!masters[@]}"; do
    # %h, not %C: a socket path has at most 107 bytes, and ssh adds 17 while making it.
    printf 'Host %s\n  ControlPath %s/jump-%%h\n' "$via" "$tmp"
  done
} >"$tmp/ssh_config"
config=$tmp/ssh_config
# shellcheck disable=SC2064 # expand now: $tmp is local to this run
trap "for via in ${!masters[*]}; do ssh -F '$config' -O exit \"\$via\" >/dev/null 2>&1; done; rm -rf '$tmp'" EXIT

pids=()
start() {
  if [[ -n $rulesets ]]; then
    {
      ssh -F "$config" -o ConnectTimeout=10 "$1" "sudo -n sh -c '$probe'" <"$rulesets/$1" &&
        ssh -F "$config" -o ConnectTimeout=10 "$1" "sudo -n systemctl stop floor-rollback.timer"
    } >"$tmp/$1" 2>"$tmp/$1.err" &
  else
    ssh -F "$config" -o ConnectTimeout=10 "$1" "sudo -n sh -c '$probe'" \
      </dev/null >"$tmp/$1" 2>"$tmp/$1.err" &
  fi
  pids[$2]=$!
}
# Hosts reached directly first, so their connections run while the masters are being made.
i=0
for host in "$@"; do
  [[ -n ${jump[$host]:-} ]] || start "$host" "$i"
  i=$((i + 1))
done
for via in "${!masters[@]}"; do
  ssh -F "$config" -o ConnectTimeout=10 -o ControlMaster=yes -o ControlPersist=yes -N -f "$via" ||
    { echo "floor: cannot connect to the jump host $via" >&2; exit 1; }
done
i=0
for host in "$@"; do
  [[ -z ${jump[$host]:-} ]] || start "$host" "$i"
  i=$((i + 1))
done
failed=0
i=0
for host in "$@"; do
  if ! wait "${pids[$i]}"; then
    echo "floor: $host: ssh failed: $(tail -n 1 "$tmp/$host.err")" >&2
    failed=1
  elif [[ $(tail -n 1 "$tmp/$host") != floor-probe-done ]]; then
    echo "floor: $host: the probe did not finish" >&2
    failed=1
  fi
  i=$((i + 1))
done
if [[ -n $out_dir ]]; then
  mkdir -p "$out_dir"
  for host in "$@"; do cp "$tmp/$host" "$out_dir/$host"; done
fi
((failed == 0)) || exit 1
echo "floor: $# hosts answered"
