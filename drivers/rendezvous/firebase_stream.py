"""Firebase streaming and HTTP plumbing for firebase.py (pyrebase4 is passed in, never
imported here).

`EventStream` runs pyrebase's `ClosableSSEClient` (Firebase REST streaming: a GET with
`Accept: text/event-stream`, then `put`/`patch`/`keep-alive`/`cancel`/`auth_revoked`
events) on a daemon thread that ends on any error or disconnection instead of
reconnecting by itself; the owner reconnects with back-off and a fresh token. Malformed
events are counted and skipped, not fatal. `apply_event` keeps the watched node's value
from `put` (replace at a path) and `patch` (merge children at a path) events, as
https://firebase.google.com/docs/reference/rest/database#section-streaming describes.
`TimeoutAdapter` gives every request on a session a timeout (pyrebase sets none).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

STREAM_JOIN_S = 2.0

log = logging.getLogger(__name__)

call_timeout = threading.local()  # per-thread HTTP timeout for the shared session


class TimeoutAdapter(HTTPAdapter):
    """Gives every request a timeout: the calling thread's, else `default_s`."""

    def __init__(self, default_s: float) -> None:
        super().__init__()
        self.default_s = default_s

    def send(self, request: Any, timeout: Any = None, **kwargs: Any) -> Any:
        if timeout is None:
            timeout = getattr(call_timeout, "timeout_s", None) or self.default_s
        return super().send(request, timeout=timeout, **kwargs)


def mount_timeouts(session: requests.Session, default_s: float) -> None:
    adapter = TimeoutAdapter(default_s)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def apply_event(node: Any, path: str, data: Any, merge: bool) -> Any:
    """Apply a streamed `put` (replace) or `patch` (merge children) at `path` to `node`."""
    keys = [k for k in path.split("/") if k]
    if not keys:
        if merge and isinstance(node, dict) and isinstance(data, dict):
            return {**node, **data}
        return data
    root = dict(node) if isinstance(node, dict) else {}
    parent = root
    for key in keys[:-1]:
        child = parent.get(key)
        parent[key] = dict(child) if isinstance(child, dict) else {}
        parent = parent[key]
    last = keys[-1]
    if merge and isinstance(parent.get(last), dict) and isinstance(data, dict):
        parent[last] = {**parent[last], **data}
    elif data is None:
        parent.pop(last, None)
    else:
        parent[last] = data
    return root


class EventStream:
    """One pyrebase event stream on a daemon thread that ends instead of reconnecting."""

    def __init__(
        self,
        pyrebase: Any,
        url: str,
        on_event: Callable[[str, Any], None],
        build_headers: Callable[..., dict[str, str]],
        token: str,
        read_timeout_s: float,
        on_end: Callable[[], None],
        on_malformed: Callable[[], None],
    ) -> None:
        self.token = token
        self.ended = threading.Event()
        self.failed = False  # ended by an error rather than by close()
        self.token_expired = False
        self._closing = False
        self._sse: Any = None
        self._on_event, self._on_end, self._on_malformed = on_event, on_end, on_malformed
        session = pyrebase.KeepAuthSession()
        mount_timeouts(session, read_timeout_s)
        self._make_sse = lambda: pyrebase.ClosableSSEClient(
            url, session=session, build_headers=build_headers
        )
        self._thread = threading.Thread(target=self._run, name="rdv-firebase-stream", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            sse = self._make_sse()  # connects; raises on refusal or HTTP error
            sse.retry = 0
            sse.should_connect = False  # its reconnect now ends the iteration instead
            self._sse = sse
            if self._closing:
                return
            for msg in sse:
                if msg is None:  # keep-alive
                    continue
                if msg.event in ("cancel", "auth_revoked"):
                    self.token_expired = msg.event == "auth_revoked"
                    self.failed = True
                    return
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    self._on_malformed()
                    continue
                self._on_event(msg.event, data)
            self.failed = not self._closing
        except Exception as exc:  # the stream's end is reported, not raised on its thread
            self.failed = not self._closing
            if self.failed:
                log.info("firebase stream ended: %s", type(exc).__name__)
        finally:
            self.ended.set()
            self._on_end()

    def close(self) -> None:
        self._closing = True
        sse = self._sse
        if sse is not None:
            sse.running = False
            sse.should_connect = False
            try:
                sse.close()  # pyrebase's close; can raise AttributeError
            except (AttributeError, OSError):
                try:
                    sse.resp.raw._connection.sock.shutdown(socket.SHUT_RDWR)
                except (AttributeError, OSError):
                    sse.resp.close()
        self._thread.join(STREAM_JOIN_S)
