#!/usr/bin/env bash
# relayctl test lab: Debian 12 containers booting systemd on a private docker network, reached over
# real SSH, so lab tests exercise relayctl against hosts rather than mocks. See tests/lab/README.md.
#
#   tests/lab/lab.sh up [N]        N relays (default: as many as are up, else 3), plus the fixed hosts
#   tests/lab/lab.sh reset HOST... recreate hosts as new, keeping their SSH host keys
#   tests/lab/lab.sh down [--purge]
#   tests/lab/lab.sh status
#   tests/lab/lab.sh image         build (or reuse) the lab image only
set -euo pipefail
# Command substitutions must fail like everything else (bash ignores -e inside them by default).
shopt -s inherit_errexit

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
STATE_DIR=$LAB_DIR/.state
INVENTORY=$REPO_DIR/inventories/lab.yaml
# Several labs may run side by side, one per working copy (its .state): RELAYCTL_LAB_NAME names
# one, with its own containers, network, subnet (RELAYCTL_LAB_SUBNET) and volumes; they share the
# image. The default lab is `lab`.
LAB_NAME=${RELAYCTL_LAB_NAME:-lab}
if [[ ! $LAB_NAME =~ ^[a-z][a-z0-9]{0,15}$ ]]; then
  echo "lab: RELAYCTL_LAB_NAME must be a short lower-case name such as lab2 (got '$LAB_NAME')" >&2
  exit 2
fi
if [[ $LAB_NAME != lab && -z ${RELAYCTL_LAB_SUBNET:-} ]]; then
  echo "lab: a lab other than the default needs a subnet of its own: set RELAYCTL_LAB_SUBNET" >&2
  exit 2
fi
# The value of the containers' and network's relayctl.lab label: 1 for the default lab.
LAB_ID=1
[[ $LAB_NAME == lab ]] || LAB_ID=$LAB_NAME
# Build scratch space and the relays' /var volumes live outside the repo: they are large, and root-owned.
WORK_DIR=/var/lib/relayctl-$LAB_NAME
VOL_DIR=$WORK_DIR/volumes
MNT_DIR=$WORK_DIR/mnt
DOCKERD_LOG=/var/log/relayctl-lab-dockerd.log

LABEL=relayctl.lab=$LAB_ID
IMAGE_LABEL=relayctl.lab.image=1
NETWORK=relayctl-$LAB_NAME
PREFIX=relayctl-$LAB_NAME-
IMAGE_REPO=relayctl-lab/debian12
DOMAIN=lab.test
BOOT_TIMEOUT=${RELAYCTL_LAB_BOOT_TIMEOUT:-120} # seconds, for the whole wait
DEADLINE=0
BOOTED=0 # hosts this run created or started
SUBNET=${RELAYCTL_LAB_SUBNET:-172.28.77.0/24}

# The fixed IPs (.10 … .13, .101 …) are last-octet offsets, so only a /24 makes sense.
if [[ ! $SUBNET =~ ^([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})\.0/24$ ]]; then
  echo "lab: RELAYCTL_LAB_SUBNET must be a /24 such as 172.28.77.0/24 (got '$SUBNET')" >&2
  exit 2
fi
NET_PREFIX=${BASH_REMATCH[1]}
BASTION_IP=$NET_PREFIX.12

say() { printf 'lab: %s\n' "$*"; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$*" >&2
  exit 1
}

# shellcheck source-path=SCRIPTDIR source=clock.sh
source "$LAB_DIR/clock.sh"

# ---------------------------------------------------------------------------------------------------
# Host preparation

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, loop mounts and docker need it)"
}

ensure_deps() {
  local cmd missing=()
  for cmd in docker dockerd debootstrap mkfs.xfs ssh-keygen ssh ssh-keyscan losetup flock; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  if ((${#missing[@]})); then
    say "installing missing tools (${missing[*]})"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io debootstrap xfsprogs openssh-client
  fi
}

ensure_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  say "starting dockerd (log: $DOCKERD_LOG)"
  # fd 9 is our lock: dockerd outlives us and must not hold it. nohup + disown keep it running after we exit.
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 9>&- &
  disown
  local deadline=$((SECONDS + 60))
  until docker info >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
    sleep 1
  done
}

# Each systemd container takes inotify instances; about 25 containers exhaust the default 128.
ensure_sysctls() {
  local key want cur
  for key in fs.inotify.max_user_instances=4096 fs.inotify.max_user_watches=1048576; do
    want=${key#*=}
    cur=$(sysctl -n "${key%%=*}")
    if ((cur < want)); then
      sysctl -qw "$key"
    fi
  done
}

# The lab must use the machine's own Debian mirror (operators' CI has its own): take the bookworm
# URI from apt's sources, deb822 first, then the one-line format. RELAYCTL_LAB_MIRROR overrides.
debian_mirror() {
  if [[ -n ${RELAYCTL_LAB_MIRROR:-} ]]; then
    echo "$RELAYCTL_LAB_MIRROR"
    return
  fi
  local uri=
  shopt -s nullglob
  local sources=(/etc/apt/sources.list.d/*.sources)
  local lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  if ((${#sources[@]})); then
    uri=$(awk '
      function flush() { if (!found && deb && suite && uri != "") { print uri; found = 1 } deb = suite = 0; uri = "" }
      FNR == 1 { flush() }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
      END { flush() }' "${sources[@]}")
  fi
  if [[ -z $uri ]]; then
    local f
    for f in "${lists[@]}"; do
      [[ -r $f ]] || continue
      uri=$(sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
      [[ -n $uri ]] && break
    done
  fi
  [[ -n $uri ]] || die "no 'deb … bookworm' source in /etc/apt/sources.list*; set RELAYCTL_LAB_MIRROR"
  echo "$uri"
}

# ---------------------------------------------------------------------------------------------------
# Image. The tag is a hash of the two functions below (declare -f prints their code without
# comments), so editing the recipe rebuilds the image and anything else reuses the cached one.

IMAGE_PACKAGES=openssh-server,sudo,nftables,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates
# ufw and firewalld ship installed but off, as on many customers' images: tests turn them on per
# host. They are written in python, so the hosts have python3; relayctl never runs it (a test of
# tests/integration/architecture.rs keeps python out of every script relayctl sends). Installed
# with apt in the finished system: polkitd, which firewalld needs, does not configure inside
# debootstrap.
FIREWALL_PACKAGES="ufw firewalld iptables"

build_rootfs() {
  local root=$1 mirror=$2
  # ca-certificates: an operator's mirror may be https, and apt inside the relays must reach it too.
  debootstrap --variant=minbase --include="$IMAGE_PACKAGES" bookworm "$root" "$mirror"

  mount -t proc proc "$root/proc"
  # shellcheck disable=SC2086 # a list of package names
  if ! chroot "$root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends $FIREWALL_PACKAGES >/dev/null"; then
    umount "$root/proc"
    die "apt-get could not install $FIREWALL_PACKAGES in the image"
  fi
  umount "$root/proc"
  # Installed, not running: firewalld's package enables its service (ufw's stays ENABLED=no).
  chroot "$root" systemctl disable firewalld.service

  # Host keys baked into an image would be shared by every container: generate them at first boot.
  rm -f "$root"/etc/ssh/ssh_host_*
  cat >"$root/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this host's own SSH host keys
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=ssh.service
UNIT
  chroot "$root" systemctl enable ssh-hostkeys.service ssh.service
  chroot "$root" systemctl set-default multi-user.target
  # Units that only make sense on real hardware or a console, or that would fire at random
  # during tests; masked so boot is short and `is-system-running` says running, not degraded.
  chroot "$root" systemctl mask \
    getty.target getty@.service serial-getty@.service console-getty.service container-getty@.service \
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service \
    systemd-firstboot.service systemd-remount-fs.service systemd-modules-load.service \
    kmod-static-nodes.service systemd-journald-audit.socket systemd-binfmt.service \
    proc-sys-fs-binfmt_misc.automount sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-kernel-config.mount sys-fs-fuse-connections.mount dev-hugepages.mount \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer
  # A volatile journal: no disk churn on the relays' /var, nothing left to clean.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$root/etc/systemd/journald.conf.d/lab.conf"

  # Each container must get its own machine id at boot.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"

  chroot "$root" passwd -l root
  # admin: key login only ('*' is no password at all, unlike '!' which some sshd setups treat as locked).
  chroot "$root" useradd --create-home --shell /bin/bash admin
  chroot "$root" usermod -p '*' admin
  printf 'admin ALL=(ALL) NOPASSWD:ALL\n' >"$root/etc/sudoers.d/admin"
  # operator: sudo asks for a password, for the become-password (sudo -S) tests. Debian already has
  # an 'operator' group (base-passwd), so reuse it as the primary group. A passphrase of words that
  # appear nowhere else, so that a test can look for each of them in every output.
  chroot "$root" useradd --create-home --shell /bin/bash --gid operator operator
  echo 'operator:quokka zeppelin marmalade' | chroot "$root" chpasswd
  printf 'operator ALL=(ALL) ALL\n' >"$root/etc/sudoers.d/operator"
  chmod 0440 "$root/etc/sudoers.d/admin" "$root/etc/sudoers.d/operator"
  chroot "$root" visudo -cq

  # Smaller image and /var seeds (apt-get update works inside the hosts as on a fresh install).
  # Translations, man pages and docs are ~60 MB nobody reads in a lab; licences stay.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/locale/* "$root"/usr/share/man/* "$root"/usr/share/info/*
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
}

import_rootfs() {
  local root=$1 image=$2
  # container=docker tells systemd it runs in a container (it skips hardware units on its own).
  # (STOPSIGNAL would belong here, but docker 20.10's import refuses it: see --stop-signal below.)
  tar --numeric-owner -C "$root" -c . |
    docker import \
      --change 'CMD ["/sbin/init"]' \
      --change 'ENV container=docker' \
      --change "LABEL $IMAGE_LABEL" \
      - "$image" >/dev/null
}

image_tag() {
  { declare -f build_rootfs import_rootfs; echo "$IMAGE_PACKAGES $FIREWALL_PACKAGES"; } | sha256sum | cut -c1-12
}

IMAGE=$IMAGE_REPO:$(image_tag)

BUILD_DIR=
cleanup_build() {
  [[ -n $BUILD_DIR && -d $BUILD_DIR ]] || return 0
  # debootstrap mounts /proc and /sys in the target; a failed run can leave them mounted, and
  # rm must never walk into them.
  local m
  while read -r m; do
    umount -l "$m" || true
  done < <(findmnt -rn -o TARGET | grep -F "$BUILD_DIR/" | sort -r)
  rm -rf --one-file-system "$BUILD_DIR"
  BUILD_DIR=
}

ensure_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "image $IMAGE (cached)"
    return
  fi
  local mirror start
  mirror=$(debian_mirror)
  start=$(now_ms)
  say "building $IMAGE from $mirror (debootstrap, a few minutes)"
  mkdir -p "$WORK_DIR"
  BUILD_DIR=$(mktemp -d "$WORK_DIR/build.XXXXXX")
  trap cleanup_build EXIT
  # In the background, not behind `||`: bash ignores -e inside a function tested with `||`.
  build_rootfs "$BUILD_DIR/rootfs" "$mirror" >"$BUILD_DIR/build.log" 2>&1 &
  if ! wait $!; then
    tail -n 30 "$BUILD_DIR/build.log" >&2
    die "image build failed (log above)"
  fi
  import_rootfs "$BUILD_DIR/rootfs" "$IMAGE"
  cleanup_build
  say "image $IMAGE built in $(elapsed "$start") s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1e6 }'))"
  prune_old_images
}

# Older recipes' images are dead weight once replaced; one still used by a container stays until
# `up` has recreated that container.
prune_old_images() {
  local old
  for old in $(docker images --filter "label=$IMAGE_LABEL" --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO"); do
    [[ $old == "$IMAGE" ]] || docker rmi "$old" >/dev/null 2>&1 || true
  done
}

# ---------------------------------------------------------------------------------------------------
# Keys: generated once and kept, so a rebuilt lab accepts the same keys.

ensure_keys() {
  mkdir -p "$STATE_DIR"
  chmod 0700 "$STATE_DIR"
  local spec name type bits pass
  for spec in id_ed25519:ed25519:: id_ecdsa:ecdsa:: id_rsa:rsa:3072: \
    id_ed25519_encrypted:ed25519::lab-key-passphrase id_wrong:ed25519:: medulla_support:ed25519::; do
    IFS=: read -r name type bits pass <<<"$spec"
    [[ -f $STATE_DIR/$name ]] && continue
    ssh-keygen -q -t "$type" ${bits:+-b "$bits"} -N "$pass" -C "relayctl-lab-$name" -f "$STATE_DIR/$name"
  done
}

# What every lab host accepts for admin and operator (id_wrong and medulla_support deliberately not).
authorized_keys() {
  cat "$STATE_DIR"/{id_ed25519,id_ecdsa,id_rsa,id_ed25519_encrypted}.pub
}

install_keys() {
  local ctr=$1
  # Rewrite only on a difference, so `up` on a running lab leaves the hosts untouched. The keys are
  # held in a variable, not a file in /tmp: this runs while the host boots, and systemd-tmpfiles
  # empties /tmp at boot (a reset once failed with "install: cannot stat '/tmp/tmp.…'").
  authorized_keys | docker exec -i "$ctr" sh -euc '
    keys=$(cat)
    for u in admin operator; do
      d=/home/$u/.ssh f=/home/$u/.ssh/authorized_keys g=$(id -gn "$u")
      if [ "$(cat "$f" 2>/dev/null)" != "$keys" ]; then
        install -d -m 0700 -o "$u" -g "$g" "$d"
        printf "%s\n" "$keys" >"$f.new"
        chown "$u:$g" "$f.new"
        chmod 0600 "$f.new"
        mv "$f.new" "$f"
      fi
    done'
}

# ---------------------------------------------------------------------------------------------------
# Hosts

# One line per host of a lab with $1 relays: short ip role relay_type var_kind.
lab_hosts() {
  local n=$1 i type var
  printf '%s\n' \
    "medulla-server $NET_PREFIX.10 server - -" \
    "workstation $NET_PREFIX.11 workstation - -" \
    "bastion $BASTION_IP bastion - -" \
    "scratch $NET_PREFIX.13 scratch - -"
  for ((i = 1; i <= n; i++)); do
    case $i in
      1) type=classic var=xfs400 ;;
      2) type=dmz var=xfs200 ;;
      3) type=classic var=root ;;
      *)
        if ((i % 2 == 0)); then type=classic; else type=dmz; fi
        var=root
        ;;
    esac
    printf 'relay%02d %s.%d relay %s %s\n' "$i" "$NET_PREFIX" $((100 + i)) "$type" "$var"
  done
}

# Highest relay number among the lab's containers (0 if none).
current_relays() {
  docker ps -a --filter "label=$LABEL" --filter label=relayctl.lab.role=relay \
    --format '{{.Label "relayctl.lab.host"}}' |
    sed -n 's/^relay0*\([0-9][0-9]*\)$/\1/p' | sort -n | tail -n 1 | grep . || echo 0
}

lab_containers() {
  docker ps -a --filter "label=$LABEL" --format '{{.Names}}' | sort
}

ensure_network() {
  if docker network inspect "$NETWORK" >/dev/null 2>&1; then
    local labels subnet
    labels=$(docker network inspect -f '{{index .Labels "relayctl.lab"}}' "$NETWORK")
    [[ $labels == "$LAB_ID" ]] || die "a docker network '$NETWORK' exists that the lab did not create; remove or rename it"
    subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NETWORK")
    [[ $subnet == "$SUBNET" ]] || die "network $NETWORK has subnet $subnet, not $SUBNET; run '$0 down' first"
    return
  fi
  say "creating network $NETWORK ($SUBNET)"
  docker network create --driver bridge --label "$LABEL" \
    --subnet "$SUBNET" --gateway "$NET_PREFIX.1" "$NETWORK" >/dev/null
}

# --- /var volumes: a sparse file holding a real XFS filesystem, loop-mounted on the docker host and
# bind-mounted onto the relay's /var, so sizing sees "400 GB XFS /var" for ~200 MB of disk.

volume_img() { echo "$VOL_DIR/$1-var.img"; }
volume_mnt() { echo "$MNT_DIR/$1-var"; }

remove_volume() {
  local short=$1 img mnt dev
  img=$(volume_img "$short")
  mnt=$(volume_mnt "$short")
  if mountpoint -q "$mnt"; then
    umount "$mnt" || die "cannot unmount $mnt (busy?)"
  fi
  if [[ -f $img ]]; then
    # mount -o loop auto-detaches on umount; this catches devices left by an interrupted run.
    for dev in $(losetup -j "$img" | cut -d: -f1); do
      losetup -d "$dev" || true
    done
    rm -f "$img"
  fi
  [[ -d $mnt ]] && rmdir "$mnt"
  return 0
}

# A new, seeded volume for a container about to be created (a new host gets a fresh /var).
create_volume() {
  local short=$1 kind=$2 size img mnt
  case $kind in
    xfs400) size=400G ;;
    xfs200) size=200G ;;
    *) die "unknown volume kind $kind" ;;
  esac
  img=$(volume_img "$short")
  mnt=$(volume_mnt "$short")
  remove_volume "$short"
  mkdir -p "$VOL_DIR" "$mnt"
  truncate -s "$size" "$img"
  mkfs.xfs -q -L "$short-var" "$img"
  mount -o loop "$img" "$mnt"
  # Seed with the image's /var so the host boots as it would on its root filesystem; tar keeps
  # owners and modes, which `docker cp` to the host would not.
  docker run --rm --label "$LABEL" --network none --entrypoint /bin/tar "$IMAGE" -C /var -cf - . |
    tar -C "$mnt" --numeric-owner -xpf -
}

# Remount an existing volume (after a reboot of the docker host, say) before its container starts.
mount_volume() {
  local short=$1 img mnt
  img=$(volume_img "$short")
  mnt=$(volume_mnt "$short")
  mountpoint -q "$mnt" && return 0
  mkdir -p "$mnt"
  mount -o loop "$img" "$mnt" || die "cannot mount $img on $mnt"
}

# The relay's /etc/fstab names its /var volume, as the Debian installer's does on a real relay,
# so that relayctl's check that /var comes back after a reboot finds it. By the device's name,
# the loop device docker bind-mounts (what the container's mountinfo shows): the container's
# /dev has no /dev/disk/by-* link for a LABEL= or UUID= line to be resolved through. systemd in
# the container finds /var already mounted from it at boot and leaves it as it is.
write_var_fstab() {
  local short=$1 device file
  device=$(findmnt -n -o SOURCE "$(volume_mnt "$short")") || die "the /var volume of $short is not mounted"
  file=$(mktemp)
  printf '%s\n' "# lab.sh: the relay's /var, an XFS volume (a loop device docker bind-mounts)" \
    "$device /var xfs defaults 0 2" >"$file"
  chmod 0644 "$file"
  docker cp "$file" "$PREFIX$short:/etc/fstab"
  rm -f "$file"
}

# create_container SHORT IP ROLE VAR [SSH_DIR_TAR]: a new container from the image; with a tar of an
# earlier container's /etc/ssh it keeps that host's SSH host keys (the first boot only generates
# missing ones).
create_container() {
  local short=$1 ip=$2 role=$3 var=$4 host_keys=${5:-}
  local -a var_mount=()
  if [[ $var == xfs* ]]; then
    create_volume "$short" "$var"
    var_mount=(-v "$(volume_mnt "$short"):/var")
  fi
  # What boots systemd under docker 20.10, cgroup v1 (hybrid) and the cgroupfs driver, as measured:
  # - --privileged: runc fails, "unable to apply caps: operation not permitted";
  # - --cgroupns=host + /sys/fs/cgroup bind-mounted rw: systemd reads its cgroup (/docker/<id>)
  #   from /proc/1/cgroup and creates init.scope, system.slice … below it, in the v1 name=systemd
  #   tree and the cgroup2 "unified" one. Without the rw mount: "Failed to allocate manager object";
  #   with --cgroupns=private: "Failed to create /init.scope control group". runc removes the
  #   whole subtree with the container: nothing is left behind in the host's cgroups;
  # - SYS_ADMIN for systemd's own mounts (without it: "Failed to mount tmpfs at /run"), NET_ADMIN
  #   for nft; seccomp=unconfined is not strictly needed with 20.10's profile (it allows mount
  #   once SYS_ADMIN is granted) but kept so a stricter profile cannot break the boot;
  # - tmpfs /run and /run/lock: systemd wants them empty and writable at boot.
  # --stop-signal: systemd re-executes itself on SIGTERM; SIGRTMIN+3 makes it shut down, so
  # `docker stop` takes ~0.3 s instead of a 10 s wait then a kill.
  docker create --name "$PREFIX$short" \
    --label "$LABEL" --label "relayctl.lab.host=$short" --label "relayctl.lab.role=$role" \
    --cap-add NET_ADMIN --cap-add SYS_ADMIN --cgroupns=host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    --security-opt seccomp=unconfined --stop-signal SIGRTMIN+3 \
    --network "$NETWORK" --ip "$ip" --hostname "$short" --domainname "$DOMAIN" \
    "${var_mount[@]}" "$IMAGE" /sbin/init >/dev/null
  if [[ -n $host_keys ]]; then
    docker cp - "$PREFIX$short:/etc" <"$host_keys"
  fi
  if [[ $var == xfs* ]]; then write_var_fstab "$short"; fi
  docker start "$PREFIX$short" >/dev/null
}

remove_container() {
  local ctr=$1 short
  short=$(docker inspect -f '{{index .Config.Labels "relayctl.lab.host"}}' "$ctr")
  docker rm -f "$ctr" >/dev/null
  remove_volume "$short"
}

# The ports relays open to the Medulla server (relay -> server rows of src/medulla/port_matrix.rs:
# S000 and PROC 4.2 for classic relays, S000 for DMZ relays; 22 is sshd's already).
MEDULLA_SERVER_PORTS="4369 $(seq -s ' ' 4370 4380) 5269 7080 8443 9999 22000 22067"

# The medulla-server container listens on those ports as the real server would (a small listener
# per port: connections are accepted and closed), so that relay -> server flow checks succeed and
# fail for real. A systemd unit: it is back after a restart.
start_medulla_server_ports() {
  local ctr=${PREFIX}medulla-server
  docker exec -i "$ctr" sh -c 'cat >/usr/local/sbin/medulla-ports && chmod 0755 /usr/local/sbin/medulla-ports' <<'PERL'
#!/usr/bin/perl
# Lab only: stands in for the Medulla server's services on their ports.
use strict; use warnings; use IO::Socket::INET; use IO::Select;
my $select = IO::Select->new;
for my $port (@ARGV) {
  my $socket = IO::Socket::INET->new(LocalPort => $port, Proto => "tcp", Listen => 64, ReuseAddr => 1)
    or die "cannot listen on $port: $!\n";
  $select->add($socket);
}
while (1) { for my $listening ($select->can_read) { my $client = $listening->accept; close $client if $client } }
PERL
  docker exec -i "$ctr" sh -c 'cat >/etc/systemd/system/medulla-ports.service && systemctl daemon-reload && systemctl enable --now --quiet medulla-ports.service' <<UNIT
[Unit]
Description=relayctl lab: listeners on the Medulla server's ports
[Service]
ExecStart=/usr/local/sbin/medulla-ports $MEDULLA_SERVER_PORTS
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
}

# Create, start or recreate one host so that it runs the current image.
ensure_host() {
  local short=$1 ip=$2 role=$3 var=$4 ctr=$PREFIX$1 state image owner
  if state=$(docker inspect -f '{{.State.Status}}' "$ctr" 2>/dev/null); then
    owner=$(docker inspect -f '{{index .Config.Labels "relayctl.lab"}}' "$ctr")
    [[ $owner == "$LAB_ID" ]] || die "container $ctr exists but the lab did not create it; remove or rename it"
    image=$(docker inspect -f '{{.Config.Image}}' "$ctr")
    if [[ $image != "$IMAGE" ]]; then
      say "$short: image recipe changed, recreating"
      remove_container "$ctr"
      state=
    fi
  else
    state=
  fi
  case $state in
    # A lab made before relays had an fstab line gets one (the loop device may also have changed
    # since the volume was mounted again).
    running) if [[ $var == xfs* ]]; then write_var_fstab "$short"; fi ;;
    '')
      BOOTED=$((BOOTED + 1))
      say "$short: creating ($ip)"
      create_container "$short" "$ip" "$role" "$var"
      ;;
    *)
      BOOTED=$((BOOTED + 1))
      say "$short: starting ($state)"
      if [[ $var == xfs* && ! -f $(volume_img "$short") ]]; then
        # The volume file is gone: the host's /var would be empty. Start over with a fresh host.
        remove_container "$ctr"
        create_container "$short" "$ip" "$role" "$var"
      else
        if [[ $var == xfs* ]]; then
          mount_volume "$short"
          write_var_fstab "$short"
        fi
        docker start "$ctr" >/dev/null
      fi
      ;;
  esac
  install_keys "$ctr"
}

# Wait (bounded by $DEADLINE) until systemd has finished booting and sshd is up on every host of
# the hosts file $1.
wait_booted() {
  local short ip _ ctr out
  local -a pending=() still
  local -A ips=() last=()
  while read -r short ip _ <&3; do
    pending+=("$PREFIX$short")
    ips[$PREFIX$short]=$ip
  done 3<"$1"
  while ((${#pending[@]})); do
    still=()
    for ctr in "${pending[@]}"; do
      # Port 22 first, from here: a `docker exec` costs a runc start, and polling every booting
      # container with it slowed a 20-relay boot down on 2 cores. sshd comes up late in the boot.
      # shellcheck disable=SC2016 # $1 is expanded by the inner bash
      if ! timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/22"' _ "${ips[$ctr]}" 2>/dev/null; then
        last[$ctr]="(port 22 closed)"
        still+=("$ctr")
        continue
      fi
      # shellcheck disable=SC2016 # expanded by the container's shell
      out=$(timeout 10 docker exec "$ctr" sh -c \
        'echo "$(systemctl is-system-running 2>/dev/null) $(systemctl is-active ssh 2>/dev/null)"' 2>/dev/null) || out="(no exec)"
      last[$ctr]=$out
      case $out in
        "running active" | "degraded active") ;;
        *) still+=("$ctr") ;;
      esac
    done
    pending=("${still[@]}")
    ((${#pending[@]})) || break
    if ((SECONDS >= DEADLINE)); then
      for ctr in "${pending[@]}"; do
        printf 'lab:   %s: %s\n' "$ctr" "${last[$ctr]}" >&2
      done
      die "timed out after $BOOT_TIMEOUT s waiting for systemd and sshd on ${#pending[@]} host(s)"
    fi
    sleep 1
  done
  for ctr in "${!ips[@]}"; do
    if [[ ${last[$ctr]} == degraded* ]]; then
      warn "$ctr is degraded, failed units: $(docker exec "$ctr" systemctl --failed --plain --no-legend | awk '{ print $1 }' | xargs)"
    fi
  done
}

# ---------------------------------------------------------------------------------------------------
# State files

# Replace $1 with stdin in one rename, so readers never see a half-written file.
write_atomically() {
  local target=$1 tmp
  tmp=$(mktemp "$target.XXXXXX")
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$target"
}

write_known_hosts() {
  local hosts=$1 short ip _ keys all=
  while read -r short ip _ <&3; do
    keys=$(docker exec "$PREFIX$short" cat /etc/ssh/ssh_host_ed25519_key.pub \
      /etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_rsa_key.pub) ||
      die "cannot read the SSH host keys of $PREFIX$short"
    all+=$(awk -v ip="$ip" '{ print ip, $1, $2 }' <<<"$keys")$'\n'
  done 3<"$hosts"
  printf '%s' "$all" | write_atomically "$STATE_DIR/known_hosts"
}

# The options every lab login uses: only the lab's key and known_hosts, none of the user's config.
lab_ssh() {
  ssh -F none -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 \
    -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null \
    -o UserKnownHostsFile="$STATE_DIR/known_hosts" -i "$STATE_DIR/id_ed25519" "$@" </dev/null
}

# A real SSH login to every host, the way the tests log in (bounded by $DEADLINE).
wait_ssh() {
  local short ip _
  while read -r short ip _ <&3; do
    until lab_ssh "admin@$ip" true 2>/dev/null; do
      ((SECONDS < DEADLINE)) ||
        die "SSH login as admin@$ip ($short) still fails: $(lab_ssh "admin@$ip" true 2>&1 | tail -n 1)"
      sleep 1
    done
  done 3<"$1"
}

write_hosts_tsv() {
  local short ip role type var
  {
    printf 'name\tcontainer\tip\trole\trelay_type\tvar_kind\n'
    while read -r short ip role type var <&3; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$short" "$PREFIX$short" "$ip" "$role" "$type" "$var"
    done 3<"$1"
  } | write_atomically "$STATE_DIR/hosts.tsv"
}

# For people and for OpenSSH-based checks: `ssh -F tests/lab/.state/ssh_config relay02` goes
# through the bastion like the inventory says.
write_ssh_config() {
  local short ip role type _
  {
    echo "# Generated by tests/lab/lab.sh up: do not edit. Usage: ssh -F $STATE_DIR/ssh_config relay01"
    while read -r short ip role type _ <&3; do
      printf 'Host %s %s\n  HostName %s\n' "$short" "$ip" "$ip"
      if [[ $type == dmz ]]; then printf '  ProxyJump bastion\n'; fi
    done 3<"$1"
    printf 'Host *\n  User admin\n  IdentityFile %s\n  IdentitiesOnly yes\n  BatchMode yes\n' "$STATE_DIR/id_ed25519"
    printf '  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n' "$STATE_DIR/known_hosts"
  } | write_atomically "$STATE_DIR/ssh_config"
}

# "hosts:" and its entries for one inventory group, in flow style; "hosts: {}" when empty.
inventory_group_hosts() {
  local hosts=$1 want_role=$2 want_type=$3 indent=$4 short ip role type _ lines=
  while read -r short ip role type _ <&3; do
    [[ $role == "$want_role" ]] || continue
    [[ $want_type == - || $type == "$want_type" ]] || continue
    lines+="$indent  $short: { ansible_host: $ip, lab_container: $PREFIX$short }"$'\n'
  done 3<"$hosts"
  if [[ -n $lines ]]; then
    printf '%shosts:\n%s' "$indent" "$lines"
  else
    printf '%shosts: {}\n' "$indent"
  fi
}

write_inventory() {
  local hosts=$1 kh="-o UserKnownHostsFile=$STATE_DIR/known_hosts"
  mkdir -p "$(dirname "$INVENTORY")"
  {
    cat <<YAML
# Generated by tests/lab/lab.sh up from the running lab: do not edit (it is rewritten on every up).
all:
  vars:
    ansible_user: admin
    ansible_ssh_private_key_file: $STATE_DIR/id_ed25519
    ansible_ssh_common_args: "$kh"
    medulla_offer: dedicated_saas
    medulla_server_addresses: [$NET_PREFIX.10]
    itsm_entity: "Lab entity"
    sizing_profile: lab
    workstation_subnets: [$SUBNET]
    medulla_support_public_key: $STATE_DIR/medulla_support.pub
    # The lab has the support key's private half: the medulla_user role proves the login with it.
    medulla_support_private_key: $STATE_DIR/medulla_support
  children:
    relays:
      children:
        classic_relays:
          vars:
            relay_type: classic
YAML
    inventory_group_hosts "$hosts" relay classic '          '
    cat <<YAML
        dmz_relays:
          vars:
            relay_type: dmz
            # A DMZ relay of a dedicated-SaaS platform needs a 400 GB /var (seed 004 PROC step 1):
            # the lab's has 200 GB, what ARCH asks of an on-premise DMZ relay.
            medulla_offer: on_premise
            # DMZ relays are reached through the bastion, as in a real DMZ
            ansible_ssh_common_args: "$kh -o ProxyJump=admin@$BASTION_IP"
YAML
    inventory_group_hosts "$hosts" relay dmz '          '
    printf '    medulla_servers:\n'
    inventory_group_hosts "$hosts" server - '      '
    printf '    workstations:\n'
    inventory_group_hosts "$hosts" workstation - '      '
  } | write_atomically "$INVENTORY"
}


# ---------------------------------------------------------------------------------------------------
# Subcommands

lock() {
  mkdir -p "$WORK_DIR"
  exec 9>"$WORK_DIR/lock"
  # Two `up`s at once would race on names, IPs and loop devices; the image build can take minutes.
  flock -w 900 9 || die "another lab.sh up/down has held $WORK_DIR/lock for 15 minutes"
}

cmd_image() {
  need_root
  lock
  ensure_deps
  ensure_dockerd
  ensure_image
}

cmd_up() {
  local n=${1:-}
  need_root
  if [[ -n $n ]]; then
    # 10#: "08" is a relay count, not a bad octal number.
    if [[ ! $n =~ ^[0-9]{1,3}$ ]] || ((10#$n < 1 || 10#$n > 100)); then
      die "up: N must be a number of relays from 1 to 100 (got '$n')"
    fi
    n=$((10#$n))
  fi
  local start boot hosts short ip role type var ctr i
  start=$(now_ms)
  lock
  ensure_deps
  ensure_dockerd
  ensure_sysctls
  ensure_image
  ensure_keys
  ensure_network

  # Without N, keep the lab as big as it is, so `up` on a running lab never removes relays.
  if [[ -z $n ]]; then
    n=$(current_relays)
    ((n > 0)) || n=3
  fi
  for ctr in $(docker ps -a --filter "label=$LABEL" --filter label=relayctl.lab.role=relay --format '{{.Names}}'); do
    i=${ctr#"${PREFIX}relay"}
    if ((10#$i > n)); then
      say "${ctr#"$PREFIX"}: removing (lab shrinks to $n relays)"
      remove_container "$ctr"
    fi
  done

  hosts=$(mktemp)
  # shellcheck disable=SC2064 # expand now: $hosts is local
  trap "rm -f '$hosts'; cleanup_build" EXIT
  lab_hosts "$n" >"$hosts"

  boot=$(now_ms)
  # One at a time: on 2 cores, parallel `docker run`s made no difference to the time to ready
  # (booting is CPU-bound), only to how readable the errors are.
  while read -r short ip role type var <&3; do
    ensure_host "$short" "$ip" "$role" "$var"
  done 3<"$hosts"
  say "containers in place after $(elapsed "$boot") s; waiting for systemd and sshd (at most $BOOT_TIMEOUT s)"
  DEADLINE=$((SECONDS + BOOT_TIMEOUT))
  wait_booted "$hosts"
  write_known_hosts "$hosts"
  wait_ssh "$hosts"
  start_medulla_server_ports
  local boot_s
  boot_s=$(elapsed "$boot")

  prune_old_images
  write_hosts_tsv "$hosts"
  write_ssh_config "$hosts"
  write_inventory "$hosts"
  say "wrote $STATE_DIR/{known_hosts,hosts.tsv,ssh_config} and $INVENTORY"
  local what="already up, checked in ${boot_s} s"
  ((BOOTED == 0)) || what="$BOOTED host(s) booted and ready in ${boot_s} s"
  say "lab up: $n relays + medulla-server, workstation, bastion, scratch; $what (whole run $(elapsed "$start") s)"
}

# Recreate hosts as new from the image (a fresh /var volume too), keeping their SSH host keys so
# that known_hosts stays valid for everything else using the lab. Tests that change hosts start
# from here.
cmd_reset() {
  (($# > 0)) || die "reset: name the hosts to recreate (e.g. relay01 scratch)"
  need_root
  lock
  ensure_dockerd
  local n start short line ip role type var keys_dir hosts
  n=$(current_relays)
  ((n > 0)) && [[ -f $STATE_DIR/hosts.tsv ]] || die "reset: the lab is not up (run '$0 up')"
  start=$(now_ms)
  keys_dir=$(mktemp -d)
  hosts=$keys_dir/hosts
  # shellcheck disable=SC2064 # expand now: $keys_dir is local
  trap "rm -rf '$keys_dir'" EXIT
  for short in "$@"; do
    line=$(lab_hosts "$n" | awk -v host="$short" '$1 == host')
    [[ -n $line ]] || die "reset: no lab host '$short'"
    read -r _ ip role type var <<<"$line"
    # docker cp reads a stopped container too (a test may have stopped scratch). The host keys
    # only: an sshd_config drop-in a test wrote must not outlive the reset.
    mkdir "$keys_dir/$short"
    docker cp "$PREFIX$short:/etc/ssh" - | tar -C "$keys_dir/$short" -xf - ||
      die "reset: cannot save the SSH host keys of $short"
    (cd "$keys_dir/$short" && tar --numeric-owner -cf "$keys_dir/$short.tar" ssh/ssh_host_*) ||
      die "reset: $short has no SSH host keys to keep"
    say "$short: recreating (host keys kept)"
    remove_container "$PREFIX$short"
    create_container "$short" "$ip" "$role" "$var" "$keys_dir/$short.tar"
    install_keys "$PREFIX$short"
    printf '%s\n' "$line" >>"$hosts"
  done
  DEADLINE=$((SECONDS + BOOT_TIMEOUT))
  wait_booted "$hosts"
  wait_ssh "$hosts"
  say "reset $*: ready in $(elapsed "$start") s"
}

cmd_down() {
  local purge=0
  case ${1:-} in
    '') ;;
    --purge) purge=1 ;;
    *) die "down: unknown option '$1' (only --purge)" ;;
  esac
  need_root
  lock
  if ! command -v docker >/dev/null; then
    : # nothing of the lab can exist without docker
  elif docker info >/dev/null 2>&1; then
    local ctrs
    mapfile -t ctrs < <(lab_containers)
    if ((${#ctrs[@]})); then
      say "removing ${#ctrs[@]} container(s)"
      docker rm -f "${ctrs[@]}" >/dev/null
    fi
    if docker network inspect "$NETWORK" >/dev/null 2>&1; then
      if [[ $(docker network inspect -f '{{index .Labels "relayctl.lab"}}' "$NETWORK") == "$LAB_ID" ]]; then
        say "removing network $NETWORK"
        docker network rm "$NETWORK" >/dev/null
      else
        warn "network $NETWORK was not created by the lab; left alone"
      fi
    fi
    if ((purge)); then
      local images
      mapfile -t images < <(docker images --filter "label=$IMAGE_LABEL" --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO")
      if ((${#images[@]})); then
        say "removing image(s) ${images[*]}"
        docker rmi "${images[@]}" >/dev/null
      fi
    fi
  else
    warn "docker is not answering: containers and network (if any) left alone"
  fi
  local img short
  shopt -s nullglob
  for img in "$VOL_DIR"/*-var.img; do
    short=$(basename "$img" -var.img)
    say "removing /var volume of $short"
    remove_volume "$short"
  done
  shopt -u nullglob
  rmdir "$VOL_DIR" "$MNT_DIR" 2>/dev/null || true
  # The generated files describe a lab that no longer exists; the keys stay (generated once).
  rm -f "$STATE_DIR/known_hosts" "$STATE_DIR/hosts.tsv" "$STATE_DIR/ssh_config" "$INVENTORY"
  say "lab down"
}

cmd_status() {
  docker info >/dev/null 2>&1 || die "docker is not answering"
  local ctr ip state sshok
  local -a ctrs
  mapfile -t ctrs < <(lab_containers)
  if ((${#ctrs[@]} == 0)); then
    say "no lab containers"
    return
  fi
  printf '%-30s %-15s %-8s %s\n' NAME IP STATE SSH
  for ctr in "${ctrs[@]}"; do
    IFS=' ' read -r state ip < <(docker inspect -f \
      "{{.State.Status}} {{with index .NetworkSettings.Networks \"$NETWORK\"}}{{.IPAMConfig.IPv4Address}}{{end}}" "$ctr")
    sshok=not
    if [[ $state == running && -n $ip && -f $STATE_DIR/known_hosts ]] &&
      lab_ssh "admin@$ip" true 2>/dev/null; then
      sshok=ok
    fi
    printf '%-30s %-15s %-8s %s\n' "$ctr" "${ip:--}" "$state" "$sshok"
  done
}

usage() {
  cat <<'TEXT'
usage: tests/lab/lab.sh up [N]         start or converge the lab to N relays (default: as many as now, else 3)
       tests/lab/lab.sh down [--purge] remove the lab (--purge: the cached image too)
       tests/lab/lab.sh reset HOST...  recreate these hosts as new (host keys kept)
       tests/lab/lab.sh status         one line per lab container: name, ip, state, ssh
       tests/lab/lab.sh image          build the lab image only (cached by recipe hash)
TEXT
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) (($# <= 1)) || die "up takes at most one argument (N)"; cmd_up "$@" ;;
    down) (($# <= 1)) || die "down takes at most --purge"; cmd_down "$@" ;;
    status) cmd_status ;;
    reset) cmd_reset "$@" ;;
    image) cmd_image ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
