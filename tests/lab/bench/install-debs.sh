#!/bin/sh
# Run inside a lab relay by tests/lab/bench.sh (docker exec), from the directory holding the .deb
# files it copied there: installs them all with dpkg, then removes the directory. The lab has no
# apt lists, and dpkg -i alone cannot order Pre-Depends (python3 needs python3-minimal configured
# before it is unpacked, which needs python3.11-minimal configured): so passes, each installing
# what is not installed yet, until nothing is left (three for python3).
set -eu
dir=$(dirname "$0")
cd "$dir"
for pass in 1 2 3 4 5; do
  todo=
  for deb in *.deb; do
    pkg=$(dpkg-deb -f "$deb" Package)
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] || todo="$todo $deb"
  done
  [ -n "$todo" ] || break
  # shellcheck disable=SC2086 # a list of file names without spaces
  dpkg -i $todo >>dpkg.log 2>&1 || true
done
if [ -n "$todo" ]; then
  tail -n 10 dpkg.log >&2
  echo "still not installed after $pass passes:$todo" >&2
  exit 1
fi
cd /
rm -rf "$dir"
