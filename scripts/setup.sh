#!/usr/bin/env bash
# Installs everything PySNAC needs on a fresh Debian machine: the system packages
# (PortAudio headers for PyAudio, libopus, Graphviz, PulseAudio for the audio tests)
# and the virtual environment in .venv. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2: network namespaces for the LAN rendezvous tests; tmux: `demo --interactive`;
# nftables and coturn: the NAT rig (demo/netns.py) of `demo --network` and its tests;
# systemd: `systemd-analyze verify` of deploy/pysnac.service (works without systemd running).
APT_PACKAGES=(gcc portaudio19-dev libopus0 graphviz pulseaudio pulseaudio-utils libasound2-plugins sox
  iproute2 tmux nftables coturn systemd)
PYTHON=${PYTHON:-python3}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The coturn package enables a system-wide TURN server; the rig starts its own inside its
# namespaces, so the system one stays off (on machines without systemd there is none).
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled coturn >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: PySNAC needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
}

stamp=.venv/.setup-stamp
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ]; then
  echo "setup: creating the virtual environment in .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c 'import nacl, opuslib, pyaudio, transitions, pesq, zeroconf, textual' \
    || { echo "setup: the virtual environment is incomplete" >&2; exit 1; }
  touch "$stamp"
fi
