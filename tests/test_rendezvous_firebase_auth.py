"""Signing in and refreshing the Firebase ID token (pure: a scripted HTTP function)."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.rendezvous.firebase_auth import (
    TOKEN_REFRESH_MARGIN_S,
    FirebaseAuthRejected,
    FirebaseConfig,
    FirebaseUnreachable,
    TokenSource,
)

CONFIG = FirebaseConfig("KEY", "https://db.example", None, None, email="a@b", password="pw")


class Http:
    """Answers queued per URL fragment; records what was asked."""

    def __init__(self, *answers: tuple[str, int, Any]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: dict[str, Any], timeout_s: float) -> tuple[int, Any]:
        self.calls.append((url, body))
        fragment, status, reply = self.answers.pop(0)
        assert fragment in url, (fragment, url)
        return status, reply


def signed_in(token: str = "t1") -> tuple[str, int, Any]:
    reply = {"idToken": token, "refreshToken": "r1", "expiresIn": "3600", "localId": "u"}
    return ("accounts:signInWithPassword?key=KEY", 200, reply)


def test_signs_in_once_then_reuses_the_token() -> None:
    http = Http(signed_in())
    tokens = TokenSource(CONFIG, http)
    assert tokens.token(1000.0, 5) == "t1"
    assert tokens.token(1000.0 + 3600 - TOKEN_REFRESH_MARGIN_S - 1, 5) == "t1"
    assert len(http.calls) == 1
    assert http.calls[0][0].startswith("https://identitytoolkit.googleapis.com/v1/")
    assert tokens.uid == "u"


def test_refreshes_before_expiry_with_the_refresh_token() -> None:
    refreshed = {"id_token": "t2", "refresh_token": "r2", "expires_in": "3600", "user_id": "u"}
    http = Http(signed_in(), ("securetoken.googleapis.com/v1/token", 200, refreshed))
    tokens = TokenSource(CONFIG, http)
    tokens.token(0.0, 5)
    assert tokens.token(3600 - TOKEN_REFRESH_MARGIN_S, 5) == "t2"
    assert http.calls[1][1] == {"grant_type": "refresh_token", "refresh_token": "r1"}


def test_a_revoked_refresh_token_falls_back_to_signing_in() -> None:
    revoked = {"error": {"message": "TOKEN_EXPIRED"}}
    http = Http(signed_in(), ("securetoken", 400, revoked), signed_in("t3"))
    tokens = TokenSource(CONFIG, http)
    tokens.token(0.0, 5)
    tokens.invalidate()
    assert tokens.token(1.0, 5) == "t3"


def test_refusal_and_outage_are_told_apart() -> None:
    refused = ("signInWithPassword", 400, {"error": {"message": "INVALID_LOGIN_CREDENTIALS"}})
    with pytest.raises(FirebaseAuthRejected, match="INVALID_LOGIN_CREDENTIALS"):
        TokenSource(CONFIG, Http(refused)).token(0.0, 5)
    with pytest.raises(FirebaseUnreachable):
        TokenSource(CONFIG, Http(("signInWithPassword", 503, None))).token(0.0, 5)
    with pytest.raises(FirebaseAuthRejected):
        TokenSource(CONFIG, Http(("signInWithPassword", 200, {"no": "token"}))).token(0.0, 5)


def test_emulator_host_and_custom_token() -> None:
    config = FirebaseConfig(
        "KEY", "http://x", None, None, custom_token="jwt", auth_emulator_host="127.0.0.1:9"
    )
    reply = {"idToken": "t", "refreshToken": "r", "expiresIn": "60"}
    http = Http(("signInWithCustomToken", 200, reply))
    TokenSource(config, http).token(0.0, 5)
    url, body = http.calls[0]
    assert (
        url
        == "http://127.0.0.1:9/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=KEY"
    )
    assert body == {"token": "jwt", "returnSecureToken": True}
