"""A PROTOCOL TEST SERVER for Firebase Realtime Database and sign-in, on loopback.

Not Firebase: a small stand-in that speaks the documented wire protocols so the real
pyrebase4 client and our sign-in code can be tested without the internet
(https://firebase.google.com/docs/reference/rest/database and .../rest/auth):

- Database REST: GET/PUT/PATCH/POST/DELETE on `/<path>.json`, JSON bodies, `?auth=ID_TOKEN`
  required and checked (401 `{"error": "Permission denied"}` otherwise); POST answers
  `{"name": <push id>}`; PATCH takes multi-path keys (`"a/b": 1`).
- Server values: `{".sv": "timestamp"}` anywhere in a written value is replaced by the
  server's time (`clock`, Unix ms) before it is stored, streamed and echoed in the reply.
- Streaming: GET with `Accept: text/event-stream` answers `put` `{"path": "/", "data": ...}`
  at once, then `put`/`patch` events for writes at or below the path (a write above it
  arrives as a `put` of the whole node), `keep-alive` when idle, and `auth_revoked` when
  the token expires.
- Sign-in in the Firebase Auth emulator's URL layout (`/identitytoolkit.googleapis.com/v1/
  accounts:signInWithPassword`, `accounts:signInWithCustomToken`,
  `/securetoken.googleapis.com/v1/token`).

Hooks for tests: `write_allowed(uid, keys)` plays the database rules, `clock` drives token
expiry and server timestamps, `send_raw` pushes arbitrary (malformed) bytes down open
streams, `revoke_tokens`, and `stop` takes the server down with streams open.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_LIFETIME_S = 3600
KEEPALIVE_S = 30.0
POLL_S = 0.02  # how fast stop() takes effect

_CLOSE = object()


def _keys(path: str) -> list[str]:
    return [k for k in path.split("/") if k]


def _get(tree: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _set(tree: Any, keys: list[str], value: Any) -> Any:
    """A new tree with `value` at `keys` (None deletes; empty objects vanish, as in RTDB)."""
    if not keys:
        return value if value not in ({}, []) else None
    node = dict(tree) if isinstance(tree, dict) else {}
    child = _set(node.get(keys[0]), keys[1:], value)
    if child is None:
        node.pop(keys[0], None)
    else:
        node[keys[0]] = child
    return node or None


def _resolve(value: Any, now_ms: int) -> Any:
    """Replace server values (`{".sv": "timestamp"}`) by the server's time, as Firebase does."""
    if isinstance(value, dict):
        if value == {".sv": "timestamp"}:
            return now_ms
        return {k: _resolve(v, now_ms) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, now_ms) for v in value]
    return value


class FirebaseTestServer:
    """Start with `start()`; `url` is the databaseURL, `auth_host` the authEmulatorHost."""

    def __init__(
        self,
        api_key: str = "test-api-key",
        clock: Callable[[], float] = time.time,
        keepalive_s: float = KEEPALIVE_S,
        token_lifetime_s: int = TOKEN_LIFETIME_S,
        write_allowed: Callable[[str, list[str]], bool] | None = None,
    ) -> None:
        self.api_key = api_key
        self.clock = clock
        self.keepalive_s = keepalive_s
        self.token_lifetime_s = token_lifetime_s
        self.write_allowed = write_allowed
        self.on_write: Callable[[str, list[str]], None] | None = None  # (method, keys), pre-reply
        self.users: dict[str, tuple[str, str]] = {}  # email -> (password, uid)
        self.custom_tokens: dict[str, str] = {}  # token -> uid
        self.tokens: dict[str, tuple[str, float]] = {}  # id token -> (uid, expires_at)
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> uid
        self.tree: Any = None
        self.log: list[tuple[str, str, str | None, float]] = []  # method, path, uid, monotonic
        self.lock = threading.Lock()
        self._activity = threading.Condition()
        self._streams: list[tuple[list[str], queue.Queue[Any], str]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.host = "127.0.0.1"

    # -- set-up and test hooks ----------------------------------------------------------
    def add_user(self, email: str, password: str, uid: str) -> None:
        self.users[email] = (password, uid)

    def add_custom_token(self, token: str, uid: str) -> None:
        self.custom_tokens[token] = uid

    def start(self, port: int = 0, host: str = "127.0.0.1") -> FirebaseTestServer:
        server = self
        self.host = host

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(POLL_S,), daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def auth_host(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        """Go down: stop listening and cut every open stream."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self.lock:
            for _, q, _ in self._streams:
                q.put(_CLOSE)

    def get_raw(self, path: str) -> Any:
        with self.lock:
            return _get(self.tree, _keys(path))

    def set_raw(self, path: str, value: Any) -> None:
        """Write as the console would (no rules), notifying streams."""
        self._write(_keys(path), value, merge=False)

    def send_raw(self, text: str) -> None:
        """Push raw text down every open stream (to test malformed events)."""
        with self.lock:
            for _, q, _ in self._streams:
                q.put(text)

    def revoke_tokens(self) -> None:
        """Expire every ID token now (streams get `auth_revoked`)."""
        with self.lock:
            self.tokens = {t: (uid, 0.0) for t, (uid, _) in self.tokens.items()}
            for _, q, _ in self._streams:
                q.put(None)  # wake the stream to notice

    def open_streams(self) -> int:
        with self.lock:
            return len(self._streams)

    def record(self, method: str, path: str, uid: str | None) -> None:
        with self._activity:
            self.log.append((method, path, uid, time.monotonic()))
            self._activity.notify_all()

    def calls(self, method: str, fragment: str) -> list[tuple[str, str, str | None, float]]:
        with self._activity:
            return [e for e in self.log if e[0] == method and fragment in e[1]]

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Block until `predicate()` holds, re-checked after every request or stream end."""
        with self._activity:
            if not self._activity.wait_for(predicate, timeout_s):
                raise AssertionError("the server never saw what the test waited for")

    def _notify(self) -> None:
        with self._activity:
            self._activity.notify_all()

    # -- internals ----------------------------------------------------------------------
    def issue(self, uid: str) -> dict[str, Any]:
        id_token, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[id_token] = (uid, self.clock() + self.token_lifetime_s)
            self.refresh_tokens[refresh] = uid
        return {
            "idToken": id_token,
            "refreshToken": refresh,
            "expiresIn": str(self.token_lifetime_s),
            "localId": uid,
        }

    def uid_for(self, token: str | None) -> str | None:
        with self.lock:
            entry = self.tokens.get(token or "")
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def _write(self, keys: list[str], value: Any, merge: bool) -> Any:
        value = _resolve(value, int(self.clock() * 1000))
        with self.lock:
            if merge:
                for sub, v in value.items():
                    self.tree = _set(self.tree, keys + _keys(sub), v)
            else:
                self.tree = _set(self.tree, keys, value)
            for stream_keys, q, _ in self._streams:
                event = _event_for(stream_keys, keys, value, merge, self.tree)
                if event is not None:
                    q.put(event)
        self._notify()
        return value

    def subscribe(self, keys: list[str], token: str) -> queue.Queue[Any]:
        q: queue.Queue[Any] = queue.Queue()
        with self.lock:
            q.put(_sse("put", {"path": "/", "data": _get(self.tree, keys)}))
            self._streams.append((keys, q, token))
        return q

    def unsubscribe(self, q: queue.Queue[Any]) -> None:
        with self.lock:
            self._streams = [s for s in self._streams if s[1] is not q]
        self._notify()


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _event_for(
    stream: list[str], write: list[str], value: Any, merge: bool, tree: Any
) -> str | None:
    """The event a stream at `stream` sees for a write at `write`, if any."""
    if write[: len(stream)] == stream:  # at or below the stream's node
        rel = "/" + "/".join(write[len(stream) :])
        return _sse("patch" if merge else "put", {"path": rel, "data": value})
    if stream[: len(write)] == write:  # above it: send the node's new value
        return _sse("put", {"path": "/", "data": _get(tree, stream)})
    return None


class _Handler(BaseHTTPRequestHandler):
    owner: FirebaseTestServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        return json.loads(raw or b"null")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith(
            ("/identitytoolkit.googleapis.com/", "/securetoken.googleapis.com/")
        ):
            self.owner.record(method, parts.path, None)
            self._auth(parts.path, query)
            return
        if not parts.path.endswith(".json"):
            self._reply(404, {"error": "404 Not Found"})
            return
        keys = _keys(parts.path.removesuffix(".json"))
        owner = self.owner
        uid = owner.uid_for(query.get("auth"))
        owner.record(method, parts.path, uid)
        if uid is None:
            expired = query.get("auth") in owner.tokens
            self._reply(401, {"error": "Auth token is expired" if expired else "Permission denied"})
            return
        if method == "GET":
            if "text/event-stream" in (self.headers.get("Accept") or ""):
                self._stream(keys, query["auth"])
            else:
                self._reply(200, owner.get_raw(parts.path.removesuffix(".json")))
            return
        if owner.write_allowed is not None and not owner.write_allowed(uid, keys):
            self._reply(401, {"error": "Permission denied"})
            return
        try:
            body = self._body() if method != "DELETE" else None
        except ValueError:
            self._reply(
                400, {"error": "Invalid data; couldn't parse JSON object, array, or value."}
            )
            return
        if owner.on_write is not None:
            owner.on_write(method, keys)
        if method == "PUT":
            self._reply(200, owner._write(keys, body, merge=False))
        elif method == "PATCH":
            if not isinstance(body, dict):
                self._reply(400, {"error": "Invalid data; couldn't parse JSON object."})
                return
            self._reply(200, owner._write(keys, body, merge=True))
        elif method == "POST":
            name = "-" + secrets.token_urlsafe(14)
            owner._write([*keys, name], body, merge=False)
            self._reply(200, {"name": name})
        elif method == "DELETE":
            owner._write(keys, None, merge=False)
            self._reply(200, None)

    def _auth(self, path: str, query: dict[str, str]) -> None:
        owner = self.owner
        if query.get("key") != owner.api_key:
            self._reply(400, {"error": {"code": 400, "message": "API key not valid."}})
            return
        body = self._body()
        endpoint = path.rsplit("/", 1)[-1]
        if endpoint == "accounts:signInWithPassword":
            entry = owner.users.get(body.get("email"))
            if entry is None or entry[0] != body.get("password"):
                self._reply(400, {"error": {"code": 400, "message": "INVALID_LOGIN_CREDENTIALS"}})
                return
            self._reply(
                200, {"kind": "identitytoolkit#VerifyPasswordResponse", **owner.issue(entry[1])}
            )
        elif endpoint == "accounts:signInWithCustomToken":
            uid = owner.custom_tokens.get(body.get("token"))
            if uid is None:
                self._reply(400, {"error": {"code": 400, "message": "INVALID_CUSTOM_TOKEN"}})
                return
            reply = owner.issue(uid)
            del reply["localId"]  # the real reply has none
            self._reply(200, reply)
        elif endpoint == "token" and body.get("grant_type") == "refresh_token":
            uid = owner.refresh_tokens.get(body.get("refresh_token"))
            if uid is None:
                self._reply(400, {"error": {"code": 400, "message": "INVALID_REFRESH_TOKEN"}})
                return
            issued = owner.issue(uid)
            self._reply(
                200,
                {
                    "expires_in": issued["expiresIn"],
                    "token_type": "Bearer",
                    "refresh_token": issued["refreshToken"],
                    "id_token": issued["idToken"],
                    "user_id": uid,
                    "project_id": "test",
                },
            )
        else:
            self._reply(404, {"error": {"code": 404, "message": "NOT_FOUND"}})

    def _stream(self, keys: list[str], token: str) -> None:
        owner = self.owner
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        q = owner.subscribe(keys, token)
        try:
            while True:
                try:
                    item = q.get(timeout=owner.keepalive_s)
                except queue.Empty:
                    item = "event: keep-alive\ndata: null\n\n"
                if item is _CLOSE:
                    return
                if owner.uid_for(token) is None:
                    self.wfile.write(
                        b"event: auth_revoked\ndata: credential is no longer valid\n\n"
                    )
                    self.wfile.flush()
                    return
                if item is not None:
                    self.wfile.write(item.encode())
                    self.wfile.flush()
        except OSError:
            return
        finally:
            owner.unsubscribe(q)
            self.close_connection = True

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")
