"""The TOML config: the schema parses into frozen dataclasses, every bad key is named with
its file, the first run writes a commented default, and the CLI turns errors into one
line with exit status 2."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pysnac.call.limits import PEER_LOST_S
from pysnac.config import (
    DEFAULT_CONFIG_TEXT,
    default_config_path,
    load_config,
    load_or_create,
    parse_config,
    save_device_name,
    save_volume,
)
from pysnac.errors import ConfigError
from pysnac.phonebook import PhonebookError
from tests.conftest import REPO

BOB_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
FULL = f"""
[device]
name = "alice"
key_file = "keys/alice.key"
[network]
bind = "127.0.0.1"
udp_port = 47000
[audio]
driver = "wav"
input_device = 3
output_device = "pulse"
input_wav = "in.wav"
output_wav = "/tmp/out.wav"
[codec]
bitrate = 16000
frame_ms = 40
fec = false
dtx = true
[lcd]
driver = "terminal"
[rendezvous]
backends = ["static", "firebase"]
firebase_config = "fb.json"
[[contacts]]
name = "bob"
public_key = "{BOB_KEY}"
address = "127.0.0.1:47001"
[[contacts]]
name = "carol"
public_key = "{"B" * 43}="
"""


def test_full_config_parses(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = parse_config(path, FULL)
    assert config.path == path and config.folder == tmp_path
    assert config.device.name == "alice"
    assert config.device.key_file == (tmp_path / "keys/alice.key").resolve()
    assert (config.network.bind, config.network.udp_port) == ("127.0.0.1", 47000)
    assert config.audio.input_device == 3 and config.audio.output_device == "pulse"
    assert config.audio.input_wav == (tmp_path / "in.wav").resolve()
    assert config.audio.output_wav == Path("/tmp/out.wav")
    assert config.codec == type(config.codec)(bitrate=16000, frame_ms=40, fec=False, dtx=True)
    assert config.lcd.driver == "terminal"
    assert config.rendezvous.backends == ("static", "firebase")
    assert config.rendezvous.firebase_config == (tmp_path / "fb.json").resolve()
    assert [c.name for c in config.contacts] == ["bob", "carol"]
    assert config.contacts[0].public_key == bytes(range(32))
    assert config.contacts[0].address == ("127.0.0.1", 47001)
    assert config.contacts[1].address is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.device.name = "x"  # type: ignore[misc]


def test_default_config_text_is_the_documented_default(tmp_path: Path) -> None:
    config = parse_config(tmp_path / "c.toml", DEFAULT_CONFIG_TEXT)
    assert config.device.name == "pysnac"
    assert config.network.udp_port == 47000
    assert config.network.peer_lost_s == PEER_LOST_S
    assert config.audio.driver == "pyaudio"
    assert config.codec.bitrate == 32000 and config.codec.frame_ms == 20
    assert config.codec.fec and not config.codec.dtx
    assert config.lcd.driver == "plate"
    assert config.rendezvous.backends == ("lan",)
    assert config.contacts == []
    assert config.device.power_off_command == ("systemctl", "poweroff")
    assert DEFAULT_CONFIG_TEXT.count("#") > 10  # commented


def test_power_off_command_is_argv_and_may_be_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    assert parse_config(path, "").device.power_off_command == ("systemctl", "poweroff")
    only_stop = parse_config(path, "[device]\npower_off_command = []")
    assert only_stop.device.power_off_command == ()
    custom = parse_config(path, "[device]\npower_off_command = ['sudo', 'halt', '-p']")
    assert custom.device.power_off_command == ("sudo", "halt", "-p")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[device]\nname = 5", "device.name", "must be a string"),
        ('[device]\nname = ""', "device.name", "empty"),
        ('[device]\nname = "sixteen chars..."', "device.name", "longer than 15"),
        ("[device]\nnmae = 'x'", "device.nmae", "unknown key"),
        ("[device]\npower_off_command = 'poweroff'", "device.power_off_command", "an array"),
        ("[device]\npower_off_command = ['halt', 1]", "device.power_off_command", "argv"),
        ("[device]\npower_off_command = ['']", "device.power_off_command", "non-empty"),
        ("[network]\nudp_port = 70000", "network.udp_port", "not a UDP port"),
        ("[network]\nudp_port = true", "network.udp_port", "true/false"),
        ("[network]\nudp_port = '47000'", "network.udp_port", "must be an integer"),
        ("[network]\npeer_lost_s = 1", "network.peer_lost_s", "must be 3 to 600 seconds"),
        ("[network]\npeer_lost_s = 601.5", "network.peer_lost_s", "must be 3 to 600 seconds"),
        ("[network]\npeer_lost_s = true", "network.peer_lost_s", "true/false"),
        ("[network]\npeer_lost_s = '30'", "network.peer_lost_s", "must be an integer or a number"),
        ("[audio]\ndriver = 'alsa'", "audio.driver", "not one of"),
        ("[audio]\ndriver = 'wav'", "audio.input_wav", "needs a microphone"),
        ("[audio]\ninput_device = -1", "audio.input_device", "0 or more"),
        ("[codec]\nbitrate = 100", "codec.bitrate", "outside the codec"),
        ("[codec]\nframe_ms = 25", "codec.frame_ms", "not one of"),
        ("[codec]\nframe_ms = 60", "codec.frame_ms", "not one of"),  # the codec refuses it
        ("[codec]\nbitrate = 256000", "codec.bitrate", "outside the codec"),
        ("[codec]\nfec = 1", "codec.fec", "true or false"),
        ("[lcd]\ndriver = 'oled'", "lcd.driver", "not one of"),
        ("[rendezvous]\nbackends = ['lan', 'dns']", "rendezvous.backends", "not one of"),
        ("[rendezvous]\nbackends = ['lan', 'lan']", "rendezvous.backends", "twice"),
        ("[rendezvous]\nbackends = ['firebase']", "rendezvous.firebase_config", "needs"),
        ("lcd = 'plate'", "lcd", "must be a table"),
        ("[extra]\na = 1", "extra", "unknown key"),
        ("[[contacts]]\nname = 'bob'\npublic_key = 'abc'", "contacts[0].public_key", "base64"),
        (
            f"[[contacts]]\nname = 'bob'\npublic_key = '{BOB_KEY}'\naddress = 'x'",
            "contacts[0].address",
            "host:port",
        ),
        (
            f"[[contacts]]\nname = 'b'\npublic_key = '{BOB_KEY}'\n"
            f"[[contacts]]\nname = 'c'\npublic_key = '{BOB_KEY}'",
            "contacts[1].public_key",
            "same key",
        ),
        ("contacts = 3", "contacts", "array of tables"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        parse_config(path, text)
    assert caught.value.key == key
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.exit_status == 2


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[device\nname=")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_first_run_writes_the_default(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    config, created = load_or_create(path)
    assert created and path.read_text() == DEFAULT_CONFIG_TEXT
    again, created_again = load_or_create(path)
    assert not created_again and again == config


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYSNAC_CONFIG", "/x/y.toml")
    assert default_config_path() == Path("/x/y.toml")
    monkeypatch.delenv("PYSNAC_CONFIG")
    assert default_config_path() == Path("~/.config/pysnac/config.toml").expanduser()


def test_save_device_name_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(DEFAULT_CONFIG_TEXT)
    save_device_name(path, 'new "one"')
    text = path.read_text()
    assert load_config(path).device.name == 'new "one"'
    assert text.count("#") == DEFAULT_CONFIG_TEXT.count("#")
    with pytest.raises(Exception, match="longer than 15"):
        save_device_name(path, "x" * 16)
    assert load_config(path).device.name == 'new "one"'


def test_save_keeps_single_quotes_inline_tables_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "# mine\n[device]\nname = 'old'  # single quotes are valid TOML\n"
        "[audio] # after\ndriver = 'silence'\n"
    )
    path.chmod(0o640)
    save_device_name(path, "Grandma Rosa")
    save_volume(path, 3)
    config = load_config(path)
    assert (config.device.name, config.audio.volume) == ("Grandma Rosa", 3)
    text = path.read_text()
    assert "# mine" in text and "# single quotes are valid TOML" in text and "# after" in text
    assert text.count("volume") == 1 and text.count("name =") == 1
    assert path.stat().st_mode & 0o777 == 0o640  # the file's own mode is kept


def test_save_adds_a_missing_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[lcd]\ndriver = 'headless'\n")
    save_volume(path, 10)
    save_device_name(path, "kitchen")
    config = load_config(path)
    assert (config.device.name, config.audio.volume, config.lcd.driver) == (
        "kitchen",
        10,
        "headless",
    )


def test_save_to_a_read_only_file_system_names_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*_args: object, **_kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    path = tmp_path / "config.toml"
    path.write_text(DEFAULT_CONFIG_TEXT)
    monkeypatch.setattr("pysnac.config.atomic_write_text", read_only)
    with pytest.raises(ConfigError) as caught:
        save_device_name(path, "kitchen")
    assert str(caught.value) == f"{path}: key 'device.name': cannot save: Read-only file system"
    assert path.read_text() == DEFAULT_CONFIG_TEXT


def test_save_failure_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.toml"
    with pytest.raises(ConfigError, match=r"gone.toml: key 'audio.volume': cannot read"):
        save_volume(missing, 4)
    broken = tmp_path / "broken.toml"
    broken.write_text("[device\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_device_name(broken, "x")
    assert broken.read_text() == "[device\n"


@pytest.mark.parametrize("bad", ["", " lead", "x" * 16])
def test_refused_names_say_why(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(DEFAULT_CONFIG_TEXT)
    with pytest.raises(PhonebookError, match=r"empty|spaces|longer"):
        save_device_name(path, bad)
    assert path.read_text() == DEFAULT_CONFIG_TEXT


def test_volume_is_checked_and_defaults_match_the_codec(tmp_path: Path) -> None:
    from pysnac.media.codec import CodecParams

    path = tmp_path / "config.toml"
    path.write_text(DEFAULT_CONFIG_TEXT)
    assert load_config(path).codec.bitrate == CodecParams().bitrate == 32000
    path.write_text("[audio]\nvolume = 11\n")
    with pytest.raises(ConfigError, match=r"audio\.volume"):
        load_config(path)


def run_main(
    *args: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, **env},
        input="quit\n",
    )


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[codec]\nframe_ms = 25\n")
    result = run_main("--config", str(path), "run", "--lcd", "headless", env={})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"pysnac: {path}: key 'codec.frame_ms': 25 is not one of 10, 20, 40"
    ]
    missing = run_main("--config", str(tmp_path / "nope.toml"), env={})
    assert missing.returncode == 2 and "nope.toml" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_cli_first_run_creates_config_and_key_and_says_where(tmp_path: Path) -> None:
    # The default config's rendezvous is `lan` (mDNS): the phone runs in a private network
    # namespace (`unshare -n`, only a down loopback), never on the host's own network.
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1): the default config would send mDNS")
    path = tmp_path / "home" / "config.toml"
    result = run_main(
        "run", "--lcd", "stdio", env={"PYSNAC_CONFIG": str(path)}, prefix=("unshare", "-n")
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote a default config to {path}" in result.stderr
    key_file = path.parent / "identity.key"
    assert f"created identity key {key_file}" in result.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert '"type": "ready"' in result.stdout


def test_files_the_phone_writes_are_private(tmp_path: Path) -> None:
    from pysnac.channel.identity import Identity
    from pysnac.contacts import Contact
    from pysnac.history import CallRecord, History
    from pysnac.phonebook import Phonebook

    config, created = load_or_create(tmp_path / "new" / "config.toml")
    assert created
    History(config.folder / "history.json").add(CallRecord("in", "bob", 0.0, "Missed call"))
    Phonebook(config.folder / "contacts.jsonl", []).add(
        Contact("bob", Identity.generate().signing_public, None)
    )
    assert config.folder.stat().st_mode & 0o777 == 0o700
    for name in ("config.toml", "history.json", "contacts.jsonl"):
        assert (config.folder / name).stat().st_mode & 0o777 == 0o600, name
