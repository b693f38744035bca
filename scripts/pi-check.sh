#!/usr/bin/env bash
# `make pi-check`: the Pi install, checked on this machine. Builds a Debian Bookworm arm64
# root with debootstrap, runs it through qemu-user-static (binfmt_misc), runs
# scripts/install-pi.sh inside it with the hardware steps skipped, checks the installed
# unit with systemd-analyze, then runs `main.py demo` there as the pysnac user. Prints how
# long each step took. Slow (many minutes: everything ARM is emulated); not part of
# `make test`. Needs root.
#
#   scripts/pi-check.sh [--keep]     # --keep: leave the root in $PI_CHECK_ROOT for a look
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${PI_CHECK_ARCH:-arm64}
ROOT=${PI_CHECK_ROOT:-/var/tmp/pysnac-pi-check.$$}
MIRROR=${PI_CHECK_MIRROR:-http://deb.debian.org/debian}
# What Raspberry Pi OS Lite has and Debian's minbase lacks: systemd (for systemctl enable
# and systemd-analyze), sudo-less apt over https, and a Python.
INCLUDE=systemd,systemd-sysv,dbus,ca-certificates,python3,procps
keep=0
[ "${1:-}" != --keep ] || keep=1

say() { echo "pi-check: $*"; }
[ "$(id -u)" -eq 0 ] || {
  echo "pi-check: needs root (debootstrap, chroot, mounts)" >&2
  exit 1
}

need=()
for pkg in debootstrap qemu-user-static binfmt-support; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
update-binfmts --enable qemu-arm >/dev/null 2>&1 || true

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  if grep -q " $ROOT/" /proc/mounts; then # never delete through a bind mount of /dev or /sys
    say "something is still mounted under $ROOT: left it in place"
  elif [ "$keep" -eq 0 ]; then
    rm -rf --one-file-system "$ROOT"
  else
    say "kept the root in $ROOT"
  fi
}
trap cleanup EXIT

declare -a step_names=() step_secs=()
timed() { # timed NAME COMMAND...: run it, remember how long it took
  local name=$1 start=$SECONDS
  shift
  say "--- $name"
  "$@"
  step_names+=("$name")
  step_secs+=($((SECONDS - start)))
}
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

total_start=$SECONDS
quietly() { "$@" >/dev/null; }
timed "debootstrap $ARCH bookworm" \
  quietly debootstrap --arch="$ARCH" --variant=minbase --include="$INCLUDE" bookworm "$ROOT" "$MIRROR"
say "inside: $(chroot "$ROOT" uname -m), $(chroot "$ROOT" python3 --version)"

# pip inside needs this machine's certificates, pip config and resolver.
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
[ ! -f /etc/pip.conf ] || cp /etc/pip.conf "$ROOT/etc/pip.conf"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
for fs in proc sys dev dev/pts; do
  mkdir -p "$ROOT/$fs"
  mount --bind "/$fs" "$ROOT/$fs"
  mounted+=("$ROOT/$fs")
done

# The checkout as committed plus what is changed in the work tree, without venv and git.
mkdir -p "$ROOT/root/pysnac"
tar --exclude=./.git --exclude=./.venv --exclude=./out --exclude=./results --exclude='__pycache__' \
  -cf - . | tar -C "$ROOT/root/pysnac" -xf -

timed "install-pi.sh --no-hardware" in_root bash /root/pysnac/scripts/install-pi.sh --no-hardware
timed "install-pi.sh again (idempotent)" in_root bash /root/pysnac/scripts/install-pi.sh --no-hardware
timed "systemd-analyze verify" in_root systemd-analyze verify /etc/systemd/system/pysnac.service
in_root systemctl is-enabled pysnac.service | sed 's/^/pi-check: pysnac.service is /'
# The phone's venv holds the runtime requirements only.
in_root /opt/pysnac/venv/bin/python -c '
import importlib.util, sys
extras = [m for m in ("scipy", "pesq", "pytest", "matplotlib", "graphviz") if importlib.util.find_spec(m)]
sys.exit(f"pi-check: not runtime requirements, yet installed: {extras}" if extras else 0)'
say "the venv holds the runtime requirements only"
# Cold start-ups as the service makes them (its config and state folder; the first one
# creates the identity key there), then the installed command finds that key.
timed "start-up to the Idle screen" in_root runuser -u pysnac -- env PYSNAC_STATE_DIR=/var/lib/pysnac \
  /opt/pysnac/venv/bin/python /opt/pysnac/app/bench/bench_startup.py --config /etc/pysnac/config.toml
in_root runuser -u pysnac -- /usr/local/bin/pysnac whoami | sed 's/^/pi-check: pysnac whoami: /'
# The demo scores with PESQ, a demo extra: it goes beside the phone's venv, not into it.
pesq_pin=$(grep -E '^pesq==' requirements-dev.txt)
timed "demo extra ($pesq_pin) beside the venv" in_root /opt/pysnac/venv/bin/pip install -q \
  --disable-pip-version-check --no-deps --target /opt/pysnac-check-extras "$pesq_pin"
timed "main.py demo" in_root runuser -u pysnac -- env HOME=/tmp PYTHONPATH=/opt/pysnac-check-extras \
  /opt/pysnac/venv/bin/python /opt/pysnac/app/main.py demo --out /tmp/pysnac-demo

say "=== timings ($ARCH under qemu-user-static)"
for i in "${!step_names[@]}"; do printf 'pi-check: %-34s %5d s\n' "${step_names[$i]}" "${step_secs[$i]}"; done
printf 'pi-check: %-34s %5d s\n' total $((SECONDS - total_start))
