"""The [network] keys for calls between homes: STUN/TURN servers, the TURN credentials
(password in a private file), a public address; each error names the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pysnac.config import load_config, parse_config, read_turn_password
from pysnac.errors import ConfigError

ICE = """
[network]
stun_server = "198.18.0.1:3478"
turn_server = "198.18.0.1:3478"
turn_username = "alice-phone"
turn_password_file = "turn-password"
public_address = "203.0.113.7:47000"
"""


def test_the_keys_parse(tmp_path: Path) -> None:
    network = parse_config(tmp_path / "config.toml", ICE).network
    assert network.stun_server == ("198.18.0.1", 3478)
    assert network.turn_server == ("198.18.0.1", 3478)
    assert network.turn_username == "alice-phone"
    assert network.turn_password_file == (tmp_path / "turn-password").resolve()
    assert network.public_address == ("203.0.113.7", 47000)


def test_without_them_nothing_changes(tmp_path: Path) -> None:
    network = parse_config(tmp_path / "config.toml", "").network
    assert (network.stun_server, network.turn_server, network.public_address) == (None,) * 3


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[network]\nstun_server = "nowhere"\n', "network.stun_server"),
        ('[network]\npublic_address = "1.2.3.4:0"\n', "network.public_address"),
        ('[network]\nturn_server = "1.2.3.4:3478"\n', "network.turn_server"),
        ('[network]\nturn_servers = "1.2.3.4:3478"\n', "network.turn_servers"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config(tmp_path / "config.toml", text)


def test_the_password_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(ICE, encoding="utf-8")
    secret = tmp_path / "turn-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o644)
    config = load_config(path)
    with pytest.raises(ConfigError, match="readable by others"):
        read_turn_password(config)
    secret.chmod(0o600)
    assert read_turn_password(config) == "s3cret"
    secret.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        read_turn_password(config)
