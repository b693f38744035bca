#!/usr/bin/env bash
# Installs PySNAC as a service on Raspberry Pi OS Bookworm (64- or 32-bit), from this
# checkout. Idempotent: run it again after `git pull` to update the code and the venv.
#
#   sudo scripts/install-pi.sh                # on the Pi
#   sudo scripts/install-pi.sh --no-hardware  # skip I2C, the sound card and starting the service
#
# Layout: code in /opt/pysnac/app, its virtual environment in /opt/pysnac/venv (runtime
# requirements only), config in /etc/pysnac/config.toml (written once, then yours),
# identity key, contacts and call history in /var/lib/pysnac, the unit
# /etc/systemd/system/pysnac.service, the command /usr/local/bin/pysnac (the service's
# config and state: `sudo -u pysnac pysnac devices`), and a polkit rule that lets the
# `pysnac` user power the Pi off and nothing else. Sound: ALSA straight on the USB card (docs/audio.md, "On the Pi").
set -euo pipefail

PREFIX=/opt/pysnac
APP=$PREFIX/app
VENV=$PREFIX/venv
CONF_DIR=/etc/pysnac
STATE_DIR=/var/lib/pysnac
SERVICE_USER=pysnac
UNIT=/etc/systemd/system/pysnac.service
POLKIT_RULE=/etc/polkit-1/rules.d/50-pysnac-poweroff.rules
COMMAND=/usr/local/bin/pysnac
# PyAudio builds against PortAudio (python3-dev, gcc); PyNaCl/cffi build where no wheel
# exists (32-bit ARM without piwheels); alsa-utils and i2c-tools give the checks in docs/pi.md.
APT_PACKAGES=(python3 python3-venv python3-dev gcc make libffi-dev portaudio19-dev libopus0
  alsa-utils i2c-tools polkitd ca-certificates)
# 32-bit Pi OS: PyPI has no 32-bit ARM wheels for numpy; pip takes piwheels' (Pi OS's
# /etc/pip.conf names piwheels.org), which link OpenBLAS.
if [ "$(dpkg --print-architecture 2>/dev/null)" = armhf ]; then APT_PACKAGES+=(libopenblas0); fi
SERVICE_GROUPS=(audio i2c gpio)
# The USB card as PortAudio names it (snd-usb-audio calls its PCM "USB Audio"); with
# PA_ALSA_PLUGHW=1 (set in the unit) PortAudio opens it through ALSA's plughw, which
# converts rate and channels for cards that only play stereo.
USB_DEVICE_NAME="USB Audio"

say() { echo "install-pi: $*"; }
die() {
  echo "install-pi: $*" >&2
  exit 1
}

hardware=1
for arg in "$@"; do
  case "$arg" in
    --no-hardware) hardware=0 ;;
    -h | --help)
      sed -n '2,14p' "$0"
      exit 0
      ;;
    *) die "unknown option $arg (try --help)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run me as root: sudo $0 $*"
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$SRC/main.py" ] && [ -f "$SRC/requirements.txt" ] || die "$SRC is not a PySNAC checkout"
if [ -r /etc/os-release ]; then
  . /etc/os-release
  [ "${VERSION_CODENAME:-}" = bookworm ] || say "warning: made for Bookworm, this is ${PRETTY_NAME:-unknown}"
fi
say "machine $(uname -m), $(python3 --version 2>/dev/null || echo 'no python3 yet')"

# --- system packages ------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages already installed"
fi

# --- hardware: I2C for the LCD plate, the USB sound card ---------------------------------
if [ "$hardware" -eq 1 ]; then
  command -v raspi-config >/dev/null || die "raspi-config not found: is this Raspberry Pi OS? (--no-hardware skips this)"
  if [ "$(raspi-config nonint get_i2c)" != 0 ]; then
    say "enabling I2C (raspi-config nonint do_i2c 0)"
    raspi-config nonint do_i2c 0
  else
    say "I2C already enabled"
  fi
  if grep -q "USB-Audio" /proc/asound/cards 2>/dev/null; then
    say "USB sound card: $(grep -m1 -B1 'USB-Audio' /proc/asound/cards | head -1 | sed 's/^ *//')"
  else
    say "warning: no USB sound card found in /proc/asound/cards; plug it in before calling"
  fi
else
  say "--no-hardware: SKIPPING enabling I2C, the sound card check and starting the service"
fi

# --- the service user --------------------------------------------------------------------
for group in "${SERVICE_GROUPS[@]}"; do
  getent group "$group" >/dev/null || {
    say "creating missing group $group"
    groupadd --system "$group"
  }
done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  say "creating system user $SERVICE_USER"
  useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "PySNAC phone" "$SERVICE_USER"
fi
usermod --append --groups "$(
  IFS=,
  echo "${SERVICE_GROUPS[*]}"
)" "$SERVICE_USER"

# --- code and virtual environment --------------------------------------------------------
say "copying the code to $APP"
install -d -m 0755 "$PREFIX"
rm -rf "$APP.new"
install -d -m 0755 "$APP.new"
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./out --exclude=./results \
  --exclude='__pycache__' --exclude=./.pytest_cache --exclude=./.ruff_cache -cf - . |
  tar -C "$APP.new" --no-same-owner -xf -
rm -rf "$APP.old"
[ ! -d "$APP" ] || mv "$APP" "$APP.old"
mv "$APP.new" "$APP"
rm -rf "$APP.old"

[ -x "$VENV/bin/python" ] || {
  say "creating the virtual environment $VENV"
  python3 -m venv "$VENV"
}
stamp=$VENV/.requirements.sha256
wanted=$(sha256sum "$APP/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  say "installing the runtime requirements (PyAudio and others build here: minutes on a Pi)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$APP/requirements.txt"
  echo "$wanted" >"$stamp"
else
  say "runtime requirements already installed"
fi
"$VENV/bin/python" -c 'import nacl, opuslib, pyaudio, transitions, zeroconf' ||
  die "the virtual environment is incomplete"
# The service runs with PYTHONDONTWRITEBYTECODE: compile once here, start-up is faster.
"$VENV/bin/python" -m compileall -q "$APP" >/dev/null || true

# --- config (once) and state --------------------------------------------------------------
install -d -m 0755 "$CONF_DIR"
if [ ! -e "$CONF_DIR/config.toml" ]; then
  say "writing the default config $CONF_DIR/config.toml (edit it, then: systemctl restart pysnac)"
  "$VENV/bin/python" - "$CONF_DIR/config.toml" "$USB_DEVICE_NAME" <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, "/opt/pysnac/app")
from pysnac.config import DEFAULT_CONFIG_TEXT, parse_config

path, device = Path(sys.argv[1]), sys.argv[2]
text = DEFAULT_CONFIG_TEXT
for key in ("input_device", "output_device"):
    line = f'{key} = "default"'
    assert line in text, f"the default config has no {line!r}"
    text = text.replace(line, f'{key} = "{device}"'.ljust(len(line)), 1)
parse_config(path, text)  # never write a config that would not load
path.write_text(text, encoding="utf-8")
PY
else
  say "keeping the existing config $CONF_DIR/config.toml"
fi
chown root:"$SERVICE_USER" "$CONF_DIR/config.toml"
chmod 0640 "$CONF_DIR/config.toml"
install -d -m 0700 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR"

# `sudo -u pysnac pysnac devices|whoami|contacts ...`: the service's config and state.
cat >"$COMMAND" <<EOF
#!/bin/sh
# The PySNAC command with the service's config and state (run it as pysnac: sudo -u pysnac).
export PYSNAC_CONFIG=$CONF_DIR/config.toml PYSNAC_STATE_DIR=$STATE_DIR
export PYTHONDONTWRITEBYTECODE=1 PA_ALSA_PLUGHW=1
exec $VENV/bin/python $APP/main.py "\$@"
EOF
chmod 0755 "$COMMAND"

# --- the unit and the power-off rule -------------------------------------------------------
install -m 0644 "$APP/deploy/pysnac.service" "$UNIT"
install -d -m 0755 "$(dirname "$POLKIT_RULE")"
install -m 0644 "$APP/deploy/50-pysnac-poweroff.rules" "$POLKIT_RULE"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$UNIT" || die "systemd-analyze verify $UNIT failed"
fi
if command -v systemctl >/dev/null; then
  systemctl enable pysnac.service 2>&1 | sed 's/^/install-pi: /'
  if [ "$hardware" -eq 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl restart pysnac.service
    say "started: check it with systemctl status pysnac and journalctl -u pysnac"
  fi
else
  say "warning: no systemctl here: the unit is installed but not enabled"
fi
say "done"
