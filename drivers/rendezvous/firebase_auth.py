"""The user's Firebase project: its config file, and signing in to get database tokens.

The config is the web-app JSON the Firebase console gives (`apiKey`, `authDomain`,
`databaseURL`, `projectId`, `storageBucket`, ...) plus an `auth` object saying how this
device signs in: `{"email": ..., "password": ...}` or `{"customToken": ...}`. It holds a
secret, so it must be mode 0600 (like an SSH key) and is never logged.

Sign-in uses the documented Identity Toolkit REST API
(https://firebase.google.com/docs/reference/rest/auth: `accounts:signInWithPassword`,
`accounts:signInWithCustomToken`, and `securetoken.googleapis.com/v1/token` to refresh
the one-hour ID token). pyrebase4's own `Auth` is not used: it hard-codes the legacy v3
hosts, calls module-level `requests.post` with no timeout and cannot be pointed at a test
server. `authEmulatorHost` (the Firebase Auth emulator's convention) sends these calls to
`http://HOST/identitytoolkit.googleapis.com/...` instead, which is how the tests run.
Pure of threads: the caller owns the clock and the HTTP session.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.rendezvous.base import RendezvousError
from pysnac.errors import ConfigError

IDENTITY_HOST = "https://identitytoolkit.googleapis.com"
SECURETOKEN_HOST = "https://securetoken.googleapis.com"
TOKEN_REFRESH_MARGIN_S = 300.0  # refresh an ID token this long before it expires
DEFAULT_TOKEN_LIFETIME_S = 3600.0  # when the server does not say (expiresIn)
REQUIRED_KEYS = ("apiKey", "databaseURL")


class FirebaseUnreachable(RendezvousError):
    """The database or the sign-in service did not answer (network, DNS, 5xx)."""


class FirebaseAuthRejected(RendezvousError):
    """Sign-in or a database call was refused (wrong password, token, rules)."""


@dataclass(frozen=True)
class FirebaseConfig:
    api_key: str
    database_url: str
    auth_domain: str | None
    storage_bucket: str | None
    email: str | None = None
    password: str | None = None
    custom_token: str | None = None
    auth_emulator_host: str | None = None

    def __repr__(self) -> str:  # never print the password or token
        return f"FirebaseConfig(database_url={self.database_url!r}, email={self.email!r})"

    def pyrebase_dict(self) -> dict[str, Any]:
        """What `pyrebase.initialize_app` needs (its required keys may be None)."""
        return {
            "apiKey": self.api_key,
            "authDomain": self.auth_domain,
            "databaseURL": self.database_url,
            "storageBucket": self.storage_bucket,
        }


def parse_firebase_config(
    data: object, where: object, database_url: str | None = None
) -> FirebaseConfig:
    """Check a config object; `database_url` (from --firebase-url) overrides the file's."""
    if not isinstance(data, dict):
        raise ConfigError(where, None, "a Firebase config is a JSON object")
    if database_url:
        data = {**data, "databaseURL": database_url}
    for key in REQUIRED_KEYS:
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(where, key, "missing (copy it from the Firebase console)")
    auth = data.get("auth")
    if not isinstance(auth, dict):
        raise ConfigError(where, "auth", 'needs {"email", "password"} or {"customToken"}')
    email, password, token = auth.get("email"), auth.get("password"), auth.get("customToken")
    if not ((isinstance(email, str) and isinstance(password, str)) or isinstance(token, str)):
        raise ConfigError(where, "auth", 'needs {"email", "password"} or {"customToken"}')
    emulator = data.get("authEmulatorHost")
    if emulator is not None and not isinstance(emulator, str):
        raise ConfigError(where, "authEmulatorHost", "is HOST:PORT")
    return FirebaseConfig(
        api_key=data["apiKey"],
        database_url=data["databaseURL"],
        auth_domain=data.get("authDomain"),
        storage_bucket=data.get("storageBucket"),
        email=email if isinstance(email, str) else None,
        password=password if isinstance(password, str) else None,
        custom_token=token if isinstance(token, str) else None,
        auth_emulator_host=emulator,
    )


def load_firebase_config(
    path: str | os.PathLike[str], database_url: str | None = None
) -> FirebaseConfig:
    """Read the project JSON; refuse it if others can read it (it holds a secret)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(path, None, f"holds a password: run 'chmod 600 {path}'")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, None, f"not JSON (line {exc.lineno})") from exc
    return parse_firebase_config(data, path, database_url)


PostJson = Callable[[str, dict[str, Any], float], tuple[int, Any]]  # url, body, timeout


class TokenSource:
    """Holds the current ID token; signs in or refreshes when it is near expiry.

    `post_json(url, body, timeout_s) -> (status, json)` does the HTTP (the backend passes
    one built on its requests session); `now` is seconds.
    """

    def __init__(self, config: FirebaseConfig, post_json: PostJson) -> None:
        self._config = config
        self._post_json = post_json
        self._id_token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self.uid: str | None = None

    def _url(self, host: str, path: str) -> str:
        emulator = self._config.auth_emulator_host
        if emulator:
            host = f"http://{emulator}/{host.removeprefix('https://')}"
        return f"{host}{path}?key={self._config.api_key}"

    def invalidate(self) -> None:
        """The server said the token is no longer valid: get a new one next time."""
        self._expires_at = 0.0

    def needs_refresh(self, now: float) -> bool:
        return self._id_token is None or now >= self._expires_at - TOKEN_REFRESH_MARGIN_S

    def refresh_at(self) -> float:
        return self._expires_at - TOKEN_REFRESH_MARGIN_S

    def token(self, now: float, timeout_s: float) -> str:
        """A valid ID token, signing in or refreshing first if needed."""
        if not self.needs_refresh(now):
            assert self._id_token is not None
            return self._id_token
        if self._refresh_token is not None:
            try:
                self._refresh(now, timeout_s)
                assert self._id_token is not None
                return self._id_token
            except FirebaseAuthRejected:
                self._refresh_token = None  # revoked: sign in again from the config
        self._sign_in(now, timeout_s)
        assert self._id_token is not None
        return self._id_token

    def _sign_in(self, now: float, timeout_s: float) -> None:
        config = self._config
        if config.custom_token is not None:
            url = self._url(IDENTITY_HOST, "/v1/accounts:signInWithCustomToken")
            body: dict[str, Any] = {"token": config.custom_token, "returnSecureToken": True}
        else:
            url = self._url(IDENTITY_HOST, "/v1/accounts:signInWithPassword")
            body = {"email": config.email, "password": config.password, "returnSecureToken": True}
        reply = self._call(url, body, timeout_s)
        self._store(now, reply.get("idToken"), reply.get("refreshToken"), reply.get("expiresIn"))
        self.uid = reply.get("localId") if isinstance(reply.get("localId"), str) else self.uid

    def _refresh(self, now: float, timeout_s: float) -> None:
        url = self._url(SECURETOKEN_HOST, "/v1/token")
        body = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        reply = self._call(url, body, timeout_s)
        self._store(now, reply.get("id_token"), reply.get("refresh_token"), reply.get("expires_in"))
        self.uid = reply.get("user_id") if isinstance(reply.get("user_id"), str) else self.uid

    def _call(self, url: str, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        status, reply = self._post_json(url, body, timeout_s)
        if status >= 500:
            raise FirebaseUnreachable(f"sign-in service answered {status}")
        if status != 200 or not isinstance(reply, dict):
            message = reply.get("error", {}) if isinstance(reply, dict) else {}
            message = message.get("message", "") if isinstance(message, dict) else ""
            raise FirebaseAuthRejected(f"sign-in refused ({status} {message})".strip())
        return reply

    def _store(self, now: float, id_token: object, refresh: object, expires_in: object) -> None:
        if not isinstance(id_token, str) or not id_token:
            raise FirebaseAuthRejected("sign-in reply has no ID token")
        try:
            lifetime_s = float(expires_in) if expires_in is not None else DEFAULT_TOKEN_LIFETIME_S
        except (TypeError, ValueError):
            lifetime_s = DEFAULT_TOKEN_LIFETIME_S
        self._id_token = id_token
        self._refresh_token = refresh if isinstance(refresh, str) and refresh else None
        self._expires_at = now + lifetime_s
