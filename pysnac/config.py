"""The appliance's TOML config: schema, validation, the commented default, the default path.

`load_config(path)` parses the file into frozen dataclasses, checking every key and type
(unknown keys too: a typo must not be silently ignored); any problem raises `ConfigError`
naming the file and the key (exit status 2, one line, no traceback). Relative paths are
relative to the config's folder, except the identity key's, which is relative to the state
folder: `$PYSNAC_STATE_DIR`, else systemd's `$STATE_DIRECTORY`, else the config's folder.
The service keeps its config read-only in /etc/pysnac and writes its key, contacts and
call history to /var/lib/pysnac. `load_or_create(path)` writes `DEFAULT_CONFIG_TEXT`
first when the file does not exist yet. The phone's own settings (device name, volume)
are saved by `save_setting`, which edits the document with tomlkit so the user's comments,
quoting and layout survive, and never writes a file that would not load again. See
docs/appliance.md for the reference.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysnac.call.limits import PEER_LOST_MAX_S, PEER_LOST_MIN_S, PEER_LOST_S
from pysnac.contacts import BadPublicKey, Contact, decode_public_key
from pysnac.errors import ConfigError
from pysnac.history import atomic_write_text
from pysnac.limits import VOLUME_DEFAULT, VOLUME_MAX, VOLUME_MIN
from pysnac.media.codec import CodecParams
from pysnac.media.limits import BITRATE_MAX_BPS, BITRATE_MIN_BPS, FRAME_MS_CHOICES
from pysnac.phonebook import PhonebookError, check_name, parse_address

CONFIG_ENV = "PYSNAC_CONFIG"
STATE_DIR_ENV = "PYSNAC_STATE_DIR"
SYSTEMD_STATE_DIR_ENV = "STATE_DIRECTORY"  # set by systemd for StateDirectory=
DEFAULT_CONFIG_PATH = Path("~/.config/pysnac/config.toml")
AUDIO_DRIVERS = ("pyaudio", "wav", "silence")
LCD_DRIVERS = ("plate", "terminal", "headless", "stdio")
RENDEZVOUS_BACKENDS = ("lan", "static", "firebase")
PORT_MAX = 65535
DEFAULT_BITRATE_BPS = CodecParams().bitrate  # the codec's default, the one measured

DEFAULT_CONFIG_TEXT = f"""\
# PySNAC appliance config (TOML). Written on first run; edit it and restart.
# Relative paths are relative to this file's folder; key_file's is relative to the state
# folder ($PYSNAC_STATE_DIR, else systemd's $STATE_DIRECTORY, else this file's folder).

[device]
name = "pysnac"                # shown to peers and on the LCD; up to 15 characters
key_file = "identity.key"      # this device's private identity key (created, mode 0600)
# The menu's "Shut down" stops the phone, then runs this (argv, no shell); [] only stops it.
power_off_command = ["systemctl", "poweroff"]

[network]
bind = "0.0.0.0"               # address the UDP socket binds
udp_port = 47000               # calls arrive on this UDP port
peer_lost_s = 30               # a call rides out this many seconds without packets
# Across the internet, behind home routers (docs/rendezvous.md "Calls between two homes"):
# stun_server = "stun.example.net:3478"    # learns this phone's public address
# turn_server = "turn.example.net:3478"    # relays calls no direct path can carry
# turn_username = "alice-phone"
# turn_password_file = "turn-password"     # one line, mode 0600
# public_address = "203.0.113.7:47000"     # a port forward on your router, if you made one

[audio]
driver = "pyaudio"             # pyaudio | wav | silence
input_device = "default"       # a PyAudio device name or index (`main.py devices`)
output_device = "default"
input_wav = ""                 # wav driver: the microphone file
output_wav = ""                # wav driver: where the speaker is recorded
volume = {VOLUME_DEFAULT:<21} # speaker and ring, {VOLUME_MIN}..{VOLUME_MAX} (the phone saves it)

[codec]
bitrate = {DEFAULT_BITRATE_BPS:<20} # Opus bit/s
frame_ms = 20                  # 10, 20 or 40
fec = true                     # Opus in-band forward error correction
dtx = false                    # discontinuous transmission (silence sends almost nothing)

[lcd]
driver = "plate"               # plate (Adafruit RGB plate) | terminal | headless | stdio

[rendezvous]
backends = ["lan"]             # any of "lan", "static", "firebase", tried in order
firebase_config = ""           # path to your Firebase project's JSON (firebase backend)

# One table per pinned contact; `main.py whoami` on the other phone prints its key.
# [[contacts]]
# name = "bob"
# public_key = "base64 Ed25519 public key, 44 characters"
# address = "192.168.1.20:47000"   # optional: without it the rendezvous finds the phone
"""


DEFAULT_POWER_OFF_COMMAND = ("systemctl", "poweroff")


@dataclass(frozen=True)
class DeviceConfig:
    name: str
    key_file: Path
    power_off_command: tuple[str, ...] = DEFAULT_POWER_OFF_COMMAND  # () = just stop


@dataclass(frozen=True)
class NetworkConfig:
    bind: str
    udp_port: int
    stun_server: tuple[str, int] | None = None
    turn_server: tuple[str, int] | None = None
    turn_username: str = ""
    turn_password_file: Path | None = None
    public_address: tuple[str, int] | None = None
    peer_lost_s: float = PEER_LOST_S


@dataclass(frozen=True)
class AudioConfig:
    driver: str
    input_device: str | int
    output_device: str | int
    input_wav: Path | None
    output_wav: Path | None
    volume: int = VOLUME_DEFAULT


@dataclass(frozen=True)
class CodecConfig:
    bitrate: int
    frame_ms: int
    fec: bool
    dtx: bool


@dataclass(frozen=True)
class LcdConfig:
    driver: str


@dataclass(frozen=True)
class RendezvousConfig:
    backends: tuple[str, ...]
    firebase_config: Path | None


@dataclass(frozen=True)
class Config:
    path: Path
    device: DeviceConfig
    network: NetworkConfig
    audio: AudioConfig
    codec: CodecConfig
    lcd: LcdConfig
    rendezvous: RendezvousConfig
    contacts: list[Contact]
    state_dir: Path | None = None  # None: the config's folder

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def state_folder(self) -> Path:
        """Where the phone writes: identity key (if relative), contacts, call history."""
        return self.state_dir or self.folder


def default_config_path() -> Path:
    """`$PYSNAC_CONFIG`, else ~/.config/pysnac/config.toml."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH).expanduser()


def state_dir_from_env(environ: dict[str, str] | None = None) -> Path | None:
    """`$PYSNAC_STATE_DIR`, else the first of systemd's `$STATE_DIRECTORY`, else None."""
    env = os.environ if environ is None else environ
    text = env.get(STATE_DIR_ENV) or env.get(SYSTEMD_STATE_DIR_ENV, "").split(":")[0]
    return Path(text).expanduser().absolute() if text else None


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
}


class _Table:
    """One TOML table being read: typed getters that name the key in every error."""

    def __init__(self, path: Path, name: str, data: Any, known: set[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, name, "must be a table")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(path, f"{name}.{unknown[0]}", "unknown key")
        self.path, self.name, self.data = path, name, data

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = self.data.get(key, default)
        if isinstance(value, bool) and kind in (int, (str, int), (int, float)):
            self.fail(key, "must not be true/false")
        if not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            self.fail(key, "must be " + " or ".join(_TYPE_NAMES[k] for k in kinds))
        return value

    def choice(self, key: str, choices: tuple, default: Any) -> Any:
        value = self.get(key, type(default), default)
        if value not in choices:
            self.fail(key, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value

    def path_or_none(self, key: str) -> Path | None:
        text = self.get(key, str, "")
        return (self.path.parent / Path(text).expanduser()).resolve() if text else None

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(self.path, f"{self.name}.{key}", problem)


def _device(path: Path, data: Any, state_folder: Path) -> DeviceConfig:
    table = _Table(path, "device", data, {"name", "key_file", "power_off_command"})
    name = table.get("name", str, "pysnac")
    try:
        name = check_name(name)
    except PhonebookError as exc:
        table.fail("name", str(exc))
    key_text = table.get("key_file", str, "") or "identity.key"
    key_file = (state_folder / Path(key_text).expanduser()).resolve()
    command = table.get("power_off_command", list, list(DEFAULT_POWER_OFF_COMMAND))
    if not all(isinstance(arg, str) and arg for arg in command):
        table.fail("power_off_command", "must be an array of non-empty strings (argv)")
    return DeviceConfig(name=name, key_file=key_file, power_off_command=tuple(command))


def _network(path: Path, data: Any) -> NetworkConfig:
    keys = {"bind", "udp_port", "peer_lost_s", *NETWORK_ICE_KEYS}
    table = _Table(path, "network", data, keys)
    port = table.get("udp_port", int, 47000)
    if not 0 <= port <= PORT_MAX:
        table.fail("udp_port", f"{port} is not a UDP port (0..{PORT_MAX})")
    peer_lost_s = float(table.get("peer_lost_s", (int, float), PEER_LOST_S))
    if not PEER_LOST_MIN_S <= peer_lost_s <= PEER_LOST_MAX_S:
        table.fail("peer_lost_s", f"must be {PEER_LOST_MIN_S:g} to {PEER_LOST_MAX_S:g} seconds")
    addresses: dict[str, tuple[str, int] | None] = {}
    for key in ("stun_server", "turn_server", "public_address"):
        text = table.get(key, str, "")
        try:
            addresses[key] = parse_address(text) if text else None
        except ValueError as exc:
            table.fail(key, str(exc))
    username = table.get("turn_username", str, "")
    password_file = table.path_or_none("turn_password_file")
    if addresses["turn_server"] is not None and not (username and password_file):
        table.fail("turn_server", "a TURN server needs turn_username and turn_password_file")
    return NetworkConfig(
        bind=table.get("bind", str, "0.0.0.0"),
        udp_port=port,
        turn_username=username,
        turn_password_file=password_file,
        peer_lost_s=peer_lost_s,
        **addresses,
    )


NETWORK_ICE_KEYS = (
    "stun_server",
    "turn_server",
    "turn_username",
    "turn_password_file",
    "public_address",
)


def read_turn_password(config: Config) -> str:
    """The TURN password from its file, which must be private (mode 0600)."""
    path = config.network.turn_password_file
    if path is None:
        raise ConfigError(config.path, "network.turn_password_file", "not set")
    try:
        if path.stat().st_mode & 0o077:
            raise ConfigError(
                config.path,
                "network.turn_password_file",
                f"{path} is readable by others: chmod 600",
            )
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            config.path, "network.turn_password_file", f"cannot read {path}: {exc.strerror}"
        ) from exc
    if not password:
        raise ConfigError(config.path, "network.turn_password_file", f"{path} is empty")
    return password


def _audio(path: Path, data: Any) -> AudioConfig:
    keys = {"driver", "input_device", "output_device", "input_wav", "output_wav", "volume"}
    table = _Table(path, "audio", data, keys)
    devices = {}
    for key in ("input_device", "output_device"):
        value = table.get(key, (str, int), "default")
        if isinstance(value, int) and value < 0:
            table.fail(key, "a device index is 0 or more")
        devices[key] = value
    volume = table.get("volume", int, VOLUME_DEFAULT)
    if not VOLUME_MIN <= volume <= VOLUME_MAX:
        table.fail("volume", f"{volume} is outside {VOLUME_MIN}..{VOLUME_MAX}")
    audio = AudioConfig(
        volume=volume,
        driver=table.choice("driver", AUDIO_DRIVERS, "pyaudio"),
        input_wav=table.path_or_none("input_wav"),
        output_wav=table.path_or_none("output_wav"),
        **devices,
    )
    if audio.driver == "wav" and audio.input_wav is None:
        table.fail("input_wav", "the wav driver needs a microphone file")
    return audio


def _codec(path: Path, data: Any) -> CodecConfig:
    table = _Table(path, "codec", data, {"bitrate", "frame_ms", "fec", "dtx"})
    bitrate = table.get("bitrate", int, DEFAULT_BITRATE_BPS)
    if not BITRATE_MIN_BPS <= bitrate <= BITRATE_MAX_BPS:
        table.fail(
            "bitrate", f"{bitrate} is outside the codec's {BITRATE_MIN_BPS}..{BITRATE_MAX_BPS}"
        )
    return CodecConfig(
        bitrate=bitrate,
        frame_ms=table.choice("frame_ms", FRAME_MS_CHOICES, 20),
        fec=table.get("fec", bool, True),
        dtx=table.get("dtx", bool, False),
    )


def _rendezvous(path: Path, data: Any) -> RendezvousConfig:
    table = _Table(path, "rendezvous", data, {"backends", "firebase_config"})
    backends = table.get("backends", list, ["lan"])
    for backend in backends:
        if backend not in RENDEZVOUS_BACKENDS:
            table.fail("backends", f"{backend!r} is not one of {', '.join(RENDEZVOUS_BACKENDS)}")
    if len(set(backends)) != len(backends):
        table.fail("backends", "lists a backend twice")
    firebase = table.path_or_none("firebase_config")
    if "firebase" in backends and firebase is None:
        table.fail("firebase_config", "the firebase backend needs your project's JSON file")
    return RendezvousConfig(backends=tuple(backends), firebase_config=firebase)


def _contacts(path: Path, data: Any) -> list[Contact]:
    if not isinstance(data, list):
        raise ConfigError(path, "contacts", "must be an array of tables ([[contacts]])")
    contacts: list[Contact] = []
    names: dict[str, str] = {}
    keys: dict[bytes, str] = {}
    for index, item in enumerate(data):
        table = _Table(path, f"contacts[{index}]", item, {"name", "public_key", "address"})
        name = table.get("name", str, "")
        try:
            name = check_name(name)
        except PhonebookError as exc:
            table.fail("name", str(exc))
        try:
            key = decode_public_key(table.get("public_key", str, ""))
        except BadPublicKey as exc:
            table.fail("public_key", str(exc))
        address_text = table.get("address", str, "")
        try:
            address = parse_address(address_text) if address_text else None
        except ValueError as exc:
            table.fail("address", str(exc))
        if name in names:  # dictionaries, not a scan: 20,000 contacts load in well under 1 s
            table.fail("name", f"{name!r} is used by another contact")
        if key in keys:
            table.fail("public_key", f"the same key as {keys[key]!r}")
        names[name], keys[key] = name, name
        contacts.append(Contact(name=name, public_key=key, address=address))
    return contacts


TOP_LEVEL_KEYS = {"device", "network", "audio", "codec", "lcd", "rendezvous", "contacts"}


def parse_config(path: Path, text: str, state_dir: Path | None = None) -> Config:
    """Parse and validate config text read from `path` (used for relative paths, errors);
    `state_dir` (None: the config's folder) is where the phone writes."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(path, unknown[0], "unknown key")
    lcd = _Table(path, "lcd", data.get("lcd", {}), {"driver"})
    return Config(
        path=path,
        device=_device(path, data.get("device", {}), state_dir or path.parent),
        network=_network(path, data.get("network", {})),
        audio=_audio(path, data.get("audio", {})),
        codec=_codec(path, data.get("codec", {})),
        lcd=LcdConfig(driver=lcd.choice("driver", LCD_DRIVERS, "plate")),
        rendezvous=_rendezvous(path, data.get("rendezvous", {})),
        contacts=_contacts(path, data.get("contacts", [])),
        state_dir=state_dir,
    )


def load_config(path: Path, state_dir: Path | None = None) -> Config:
    """Read and validate `path`; ConfigError (naming file and key) on any problem.
    `state_dir` defaults to `state_dir_from_env()`."""
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(path, None, "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from exc
    return parse_config(path, text, state_dir or state_dir_from_env())


def write_default_config(path: Path) -> None:
    """Create `path` with the commented default config (its folder too)."""
    atomic_write_text(Path(path).expanduser(), DEFAULT_CONFIG_TEXT)


def load_or_create(path: Path) -> tuple[Config, bool]:
    """Load `path`, first writing the default config if it does not exist; (config, created)."""
    path = Path(path).expanduser().absolute()
    created = not path.exists()
    if created:
        try:
            write_default_config(path)
        except OSError as exc:
            raise ConfigError(path, None, f"cannot create the default config: {exc}") from exc
    return load_config(path), created


def save_setting(path: Path, table: str, key: str, value: str | int) -> None:
    """Set `[table] key = value` in the config file, keeping everything else as written.

    The edit goes through tomlkit (any quoting, comments and order survive); the result is
    validated as a whole before it replaces the file atomically, with the file's own
    permission bits. ConfigError (naming file and key) when the file cannot be read,
    parsed, validated or written: the caller shows it, nothing is half-written."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = Path(path)
    where = f"{table}.{key}"
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o777
    except OSError as exc:
        raise ConfigError(path, where, f"cannot read the config: {exc.strerror}") from exc
    try:
        document = tomlkit.parse(text)
        section = document.get(table)
        if section is None:
            document[table] = section = tomlkit.table()
        elif not isinstance(section, dict):
            raise ConfigError(path, table, "must be a table")
        section[key] = value
        new_text = tomlkit.dumps(document)
    except TOMLKitError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from exc
    parse_config(path, new_text)  # never write a config that would not load
    try:
        atomic_write_text(path, new_text, mode=mode)
    except OSError as exc:
        raise ConfigError(path, where, f"cannot save: {exc.strerror or exc}") from exc


def save_device_name(path: Path, name: str) -> None:
    """Rename this device in the config (`[device] name`); PhonebookError if the name is
    not one (blank, too long, edge spaces), ConfigError if the file cannot take it."""
    save_setting(path, "device", "name", check_name(name))


def save_volume(path: Path, level: int) -> None:
    """Keep the speaker volume across restarts (`[audio] volume`)."""
    save_setting(path, "audio", "volume", int(level))
