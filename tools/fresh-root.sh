#!/usr/bin/env bash
# Proves the two README commands on a brand-new machine: debootstraps a minbase Debian 12 root
# (nothing but apt), clones this repository's HEAD into it and runs one README command there as
# root, so every package the command needs must come from tools/install-deps.sh. A machine that
# came with build tools (CI's included) cannot show a missing one; this root can.
#
# Usage: sudo tools/fresh-root.sh [--bench] [--cache DIR] [--keep] [--dir DIR]
#   (default)     runs `bash tools/test.sh --quick` (the release build and its tests)
#   --bench       runs `bash tools/bench.sh --smoke` instead
#   --full        runs `bash tools/test.sh` (release, sanitizers, fuzz)
#   --cache DIR   debootstrap once into DIR (kept, never entered) and start each run from a copy:
#                 the root is as fresh, only the download is saved
#   --keep        keep the root afterwards (its path is printed) instead of deleting it
#   --dir DIR     where to make the root (default: a new folder under /var/tmp)
# Needs root (debootstrap, mount, chroot) and installs debootstrap on this machine if missing.
# The package mirror is this machine's own: read at run time from its apt sources, so the root
# sees the same archive (and the same network path to it) as apt does here.
# Only committed work is tested: the root gets a clone of HEAD, not the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

command_line="bash tools/test.sh --quick"
cache="" keep=0 dir=""
while (($#)); do
  case "$1" in
    --bench) command_line="bash tools/bench.sh --smoke" ;;
    --full) command_line="bash tools/test.sh" ;;
    --cache) cache="${2:?--cache needs a folder}"; shift ;;
    --keep) keep=1 ;;
    --dir) dir="${2:?--dir needs a folder}"; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/fresh-root.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "tools/fresh-root.sh: needs root (debootstrap, mount, chroot)" >&2; exit 1; }

suite=bookworm

# mirror_for SUITE: the first URI this machine's apt sources serve SUITE from (deb822 .sources
# files and one-line sources.list alike); empty when none does. Disabled stanzas are skipped.
mirror_for() {
  local want=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$want" '
      function flush() { if (deb && enabled && uri != "" && (" " suites " ") ~ (" " want " ")) { print uri; found = 1; exit } }
      /^[ \t]*$/ { flush(); deb = 0; enabled = 1; uri = ""; suites = ""; next }
      /^#/ { next }
      { key = tolower($1); sub(/:$/, "", key) }
      key == "types" { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
      key == "uris" { uri = $2 }
      key == "suites" { $1 = ""; suites = $0 }
      key == "enabled" { enabled = (tolower($2) != "no") }
      BEGIN { enabled = 1 }
      END { if (!found) flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # "deb [options] URI SUITE COMPONENTS..."
    sed -E 's/\[[^]]*\]//' "$f" | awk -v want="$want" '$1 == "deb" && $3 == want { print $2 }'
  done
}
mirror=$(mirror_for "$suite" | head -n1)
[ -n "$mirror" ] || { echo "tools/fresh-root.sh: no apt source on this machine serves '$suite'" >&2; exit 1; }
# The root gets the suites a Debian 12 install has (updates, security) where this machine has them.
sources="deb $mirror $suite main"
for extra in "$suite-updates" "$suite-security"; do
  uri=$(mirror_for "$extra" | head -n1)
  [ -z "$uri" ] || sources+=$'\n'"deb $uri $extra main"
done

if ! command -v debootstrap >/dev/null; then
  echo "alloy: installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

bootstrap() {  # bootstrap DIR
  echo "alloy: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$1" "$mirror" >"$1.debootstrap.log" 2>&1 ||
    { tail -n 20 "$1.debootstrap.log" >&2; exit 1; }
}

root=${dir:-$(mktemp -d /var/tmp/alloy-fresh-root.XXXXXX)}
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" || true; done
  if ((keep)); then echo "alloy: the root is kept at $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT

start=$(date +%s)
if [ -n "$cache" ]; then
  [ -x "$cache/bin/bash" ] || { mkdir -p "$cache"; bootstrap "$cache"; }
  echo "alloy: copying the pristine root from $cache"
  cp -a "$cache/." "$root/"
else
  bootstrap "$root"
fi
printf '%s\n' "$sources" >"$root/etc/apt/sources.list"
# Whatever this machine's apt needs to reach its archive (a proxy, a snapshot mirror's expired
# Release dates) is network configuration, not a package: the root gets the same settings.
apt-config dump | grep -E '^Acquire::(([a-z]+::)?Proxy|Check-Valid-Until|Check-Date) ' \
  >"$root/etc/apt/apt.conf.d/99fresh-root-host" || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# What a chroot needs: processes and the sanitizers read /proc, the tests use /dev/null and
# /dev/urandom, TSan and Python's multiprocessing want a real /dev/shm.
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounted+=("$root/sys")
mount --bind /dev "$root/dev" && mounted+=("$root/dev")
mount --bind /dev/pts "$root/dev/pts" && mounted+=("$root/dev/pts")
mount -t tmpfs tmpfs "$root/dev/shm" && mounted+=("$root/dev/shm")

rev=$(git rev-parse HEAD)
[ -z "$(git status --porcelain)" ] || echo "alloy: note: uncommitted changes are not in the root (it tests $rev)"
git clone --quiet --no-checkout "$repo" "$root/root/alloy"
git -C "$root/root/alloy" checkout --quiet --detach "$rev"

echo "alloy: running '$command_line' in $root (commit ${rev:0:12})"
run_start=$(date +%s)
status=0
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c "cd /root/alloy && $command_line" || status=$?
now=$(date +%s)
echo "alloy: '$command_line' in a fresh root: $([ $status -eq 0 ] && echo passed || echo "FAILED ($status)")" \
  "in $((now - run_start)) s ($((now - start)) s with the root's setup)"
exit $status
