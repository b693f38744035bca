"""The `firebase` rendezvous: the user's Firebase Realtime Database through pyrebase4.

Our signed record lives at `/phones/<key_id>` as `{"record": "<text>", "at": <ms>}`; the
database rules (docs/rendezvous.md) let each device write only its own node, and `at` only
as the server's time of the write (written as the server value `{".sv": "timestamp"}`).
Freshness never compares two phones' clocks: a record is fresh for its own lifetime
(expires - timestamp, both the publisher's) from `at`, and the database's current time is
the `at` of our own last write plus the time passed since on our monotonic clock. Records
are ordered by their signed timestamp, which the publisher keeps growing (one more than
its last record's when its clock is behind, the last read back from the database at
start), and one older than the newest seen for its key is refused as a replay. One daemon
supervisor thread signs in, publishes and refreshes our record before it expires, and
keeps one event stream (Firebase REST streaming, `text/event-stream` with `put`/`patch`
events) open per watched key. Any failure marks the backend offline and retries with a
doubling back-off; LAN and static keep working meanwhile.

pyrebase4 is imported only here, in the constructor, and its hazards (below)
are handled: its `Stream` (a non-daemon thread whose `close` can raise AttributeError or
spin forever when the connection failed) is not used; each stream is pyrebase's own
`ClosableSSEClient` on a daemon thread of ours that ends instead of reconnecting, so we
reconnect with back-off and a fresh token, and its `close` errors are caught. A fresh
`Database` path builder is made per call (they are not thread-safe), and every HTTP
request gets a timeout (pyrebase sets none) through an adapter on its session. Sign-in is
firebase_auth.py (pyrebase's `Auth` cannot be pointed at anything but Google).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from drivers.rendezvous.base import (
    MAX_OFFER_CHARS,
    Address,
    MalformedRecord,
    OfferWatcher,
    PeerRecord,
    RecordError,
    RejectCounter,
    ReplayedRecord,
    Report,
    SigningIdentity,
    StatusReporter,
    WatchList,
    WrongKeyRecord,
    expand_wildcards,
)
from drivers.rendezvous.firebase_auth import (
    FirebaseAuthRejected,
    FirebaseConfig,
    FirebaseUnreachable,
    TokenSource,
)
from drivers.rendezvous.firebase_stream import (
    EventStream,
    apply_event,
    call_timeout,
    mount_timeouts,
)
from drivers.rendezvous.record import (
    RECORD_LIFETIME_MS,
    fresh_by_server_time,
    key_id,
    sign_record,
    to_text,
    verify_text,
)

NAME = "firebase"
PHONES_PATH = "phones"
RECORD_FIELD = "record"
ARRIVED_FIELD = "at"  # the server's time of the write, Unix ms
SERVER_TIMESTAMP = {".sv": "timestamp"}  # Firebase REST server value, resolved on write
PROBE_KEY = "probe"  # an empty node read to test reachability (any key id is readable)
HTTP_TIMEOUT_S = 10.0  # one REST call, connect and read
STREAM_READ_TIMEOUT_S = 90.0  # Firebase sends keep-alive every ~30 s; silence means dead
RETRY_MIN_S = 1.0  # back-off after a failure, doubling up to RETRY_MAX_S
RETRY_MAX_S = 300.0
STOP_JOIN_S = 5.0  # a supervisor stuck in a hung HTTP call ends by its own timeout

log = logging.getLogger(__name__)


class FirebaseRendezvous:
    """Firebase backend. Construct, then `start` to publish; `lookup`/`watch` work anyway."""

    def __init__(
        self,
        config: FirebaseConfig,
        report: Report | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        lifetime_ms: int = RECORD_LIFETIME_MS,
        retry_min_s: float = RETRY_MIN_S,
        retry_max_s: float = RETRY_MAX_S,
        stream_read_timeout_s: float = STREAM_READ_TIMEOUT_S,
        http_timeout_s: float = HTTP_TIMEOUT_S,
    ) -> None:
        import pyrebase.pyrebase as pyrebase  # heavy (~0.7 s): only when this backend is chosen

        self._pyrebase = pyrebase
        self._clock = clock
        self._monotonic = monotonic
        self._server_anchor: tuple[int, float] | None = None  # (server ms, our monotonic s)
        self._last_sequence: int | None = None  # our last record's timestamp, once known
        self._newest: dict[bytes, int] = {}  # per key: the newest record timestamp accepted
        self._lifetime_ms = lifetime_ms
        self._retry_min_s, self._retry_max_s = retry_min_s, retry_max_s
        self._stream_read_timeout_s = stream_read_timeout_s
        self._http_timeout_s = http_timeout_s
        self._app = pyrebase.initialize_app(config.pyrebase_dict())
        mount_timeouts(self._app.requests, http_timeout_s)
        self._tokens = TokenSource(config, self._post_json)
        self._token_lock = threading.Lock()
        self.rejected = RejectCounter()
        self.stream_failures = 0
        self._status = StatusReporter(NAME, report)
        self._watchers = WatchList()
        self._offer_watchers: list[OfferWatcher] = []
        self._last_offer: dict[bytes, str] = {}  # per watched key: delivered once
        self._lock = threading.Lock()
        self._identity: SigningIdentity | None = None
        self._name = ""
        self._addresses: list[Address] = []
        self._publish_due = False
        self._next_publish_at = 0.0
        self._streams: dict[bytes, EventStream] = {}
        self._stream_retry_at: dict[bytes, float] = {}
        self._stream_backoff_s: dict[bytes, float] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._supervise, name="rdv-firebase", daemon=True)
        self._worker.start()

    # -- HTTP and tokens ----------------------------------------------------------------
    def _post_json(self, url: str, body: dict[str, Any], timeout_s: float) -> tuple[int, Any]:
        try:
            reply = self._app.requests.post(url, json=body, timeout=timeout_s)
        except requests.RequestException as exc:
            raise FirebaseUnreachable(f"sign-in service unreachable: {type(exc).__name__}") from exc
        try:
            return reply.status_code, reply.json()
        except ValueError:
            return reply.status_code, None

    def _token(self, timeout_s: float) -> str:
        # a bounded wait: another thread may be stuck signing in against a hung server
        if not self._token_lock.acquire(timeout=timeout_s):
            raise FirebaseUnreachable("sign-in still in progress")
        try:
            return self._tokens.token(self._clock(), timeout_s)
        finally:
            self._token_lock.release()

    def _rest(self, call: Callable[[Any, str], Any], timeout_s: float) -> Any:
        """Run one pyrebase call with a fresh path builder (they are not thread-safe),
        mapping its errors to ours. A 401 on a token we thought valid (revoked, or our
        clock is behind) gets one retry with a fresh token."""
        call_timeout.timeout_s = timeout_s
        try:
            for attempt in (1, 2):
                token = self._token(timeout_s)
                try:
                    return call(self._app.database(), token)
                except requests.HTTPError as exc:
                    response = getattr(exc.args[0], "response", None) if exc.args else None
                    status = getattr(response, "status_code", 0)
                    if status not in (401, 403):
                        raise FirebaseUnreachable(f"database answered {status}") from exc
                    with self._token_lock:
                        self._tokens.invalidate()
                    if attempt == 2:
                        raise FirebaseAuthRejected(f"database refused ({status})") from exc
            raise AssertionError("unreachable")
        except (requests.RequestException, ValueError) as exc:
            raise FirebaseUnreachable(f"database unreachable: {type(exc).__name__}") from exc
        finally:
            call_timeout.timeout_s = None

    # -- records ------------------------------------------------------------------------
    def _server_now_ms(self) -> int | None:
        """The database's current time, from our last write's `at` (None before one)."""
        with self._lock:
            anchor = self._server_anchor
        if anchor is None:
            return None
        server_ms, at_s = anchor
        return server_ms + int((self._monotonic() - at_s) * 1000)

    def _verify_node(self, public_key: bytes, node: Any, source: str) -> PeerRecord | None:
        if node is None:
            return None
        try:
            if not isinstance(node, Mapping):
                raise MalformedRecord("node is not an object")
            record = verify_text(node.get(RECORD_FIELD), None)
            if record.public_key != public_key:
                raise WrongKeyRecord(source)
            record = fresh_by_server_time(record, node.get(ARRIVED_FIELD), self._server_now_ms())
            with self._lock:
                if record.timestamp_ms < self._newest.get(public_key, -1):
                    raise ReplayedRecord(f"older than the newest seen for {source}")
                self._newest[public_key] = record.timestamp_ms
        except RecordError as exc:
            self.rejected.add(exc.reason, source)
            return None
        return record

    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        with self._lock:
            self._identity, self._name = identity, name
            self._addresses = expand_wildcards(addresses)
            self._publish_due = True
        self._wake.set()

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        with self._lock:
            self._addresses = expand_wildcards(addresses)
            self._name = self._name if name is None else name
            self._publish_due = True
        self._reconnect()
        self._wake.set()

    def _reconnect(self) -> None:
        """Our address moved: pooled connections and streams from the old one are dead
        (their answers go to an address we no longer have) until their timeouts; drop
        them now so the next request and the reopened streams use the new address."""
        for adapter in self._app.requests.adapters.values():
            pool = getattr(adapter, "poolmanager", None)
            if pool is not None:
                pool.clear()
        for stream in list(self._streams.values()):
            stream.close()

    def _publish(self) -> None:
        with self._lock:  # snapshot and clear together: an update() from now on is due again
            identity, name, addresses = self._identity, self._name, list(self._addresses)
            self._publish_due = False
        assert identity is not None
        kid = key_id(identity.signing_public)
        try:
            if self._last_sequence is None:  # after a restart: continue above what is out
                self._last_sequence = self._published_sequence(identity.signing_public, kid)
            sequence = max(int(self._clock() * 1000), self._last_sequence + 1)
            text = to_text(sign_record(identity, name, addresses, sequence, self._lifetime_ms))
            node = {RECORD_FIELD: text, ARRIVED_FIELD: SERVER_TIMESTAMP}
            # update, not set: a set would erase the node's `offer`, and a re-publish (the
            # addresses are re-gathered during a call) could wipe an answer in flight
            written = self._rest(
                lambda db, t: db.child(PHONES_PATH, kid).update(node, t), self._http_timeout_s
            )
            self._last_sequence = sequence
            at = written.get(ARRIVED_FIELD) if isinstance(written, Mapping) else None
            if isinstance(at, int) and not isinstance(at, bool):
                with self._lock:
                    self._server_anchor = (at, self._monotonic())
        except BaseException:
            with self._lock:
                self._publish_due = True
            raise

    def _published_sequence(self, public_key: bytes, kid: str) -> int:
        """The signed timestamp of our record in the database (-1 if none or not ours)."""
        node = self._rest(
            lambda db, t: db.child(PHONES_PATH, kid).get(t).val(), self._http_timeout_s
        )
        try:
            record = verify_text(
                node.get(RECORD_FIELD) if isinstance(node, Mapping) else None, None
            )
        except RecordError:
            return -1
        return record.timestamp_ms if record.public_key == public_key else -1

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        kid = key_id(public_key)
        try:
            node = self._rest(lambda db, t: db.child(PHONES_PATH, kid).get(t).val(), timeout_s)
        except (FirebaseUnreachable, FirebaseAuthRejected) as exc:
            log.info("firebase lookup failed: %s", exc)
            self._status.set(False)
            self._wake.set()
            return None
        self._status.set(True)
        return self._verify_node(public_key, node, f"firebase:{kid}")

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        self._watchers.add(public_key, on_change)
        self._wake.set()

    def status(self) -> dict[str, bool]:
        return {NAME: self._status.online}

    # -- call offers (pysnac/call/offer.py: sealed, so the database only stores them) ----
    def publish_offer(self, text: str) -> bool:
        """Put `text` in our node's `offer` slot, which our contacts' streams carry."""
        with self._lock:
            identity = self._identity
        if identity is None or len(text) > MAX_OFFER_CHARS:
            return False
        kid = key_id(identity.signing_public)
        try:
            self._rest(
                lambda db, t: db.child(PHONES_PATH, kid).update({"offer": text}, t),
                self._http_timeout_s,
            )
        except (FirebaseUnreachable, FirebaseAuthRejected) as exc:
            log.warning("firebase offer not published: %s", exc)
            return False
        return True

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        """`on_offer(public_key, text)` on a stream thread for each new offer a watched
        key publishes (the current one too, when its stream opens: it is checked as fresh
        by whoever opens it)."""
        with self._lock:
            self._offer_watchers.append(on_offer)

    def _offer_seen(self, public_key: bytes, node: Any) -> None:
        text = node.get("offer") if isinstance(node, Mapping) else None
        if not isinstance(text, str) or len(text) > MAX_OFFER_CHARS:
            return
        with self._lock:
            if self._last_offer.get(public_key) == text:
                return
            self._last_offer[public_key] = text
            watchers = list(self._offer_watchers)
        for watcher in watchers:
            try:
                watcher(public_key, text)
            except Exception:  # a watcher's bug must not kill the stream thread
                log.exception("offer watcher failed")

    # -- the supervisor thread ----------------------------------------------------------
    def _supervise(self) -> None:
        backoff_s = self._retry_min_s
        while not self._stopping.is_set():
            try:
                wait_s = self._step()
                self._status.set(True)
                backoff_s = self._retry_min_s
            except Exception as exc:  # unreachable, refused, no address, or a bug: retry
                if self._stopping.is_set():
                    break
                expected = isinstance(exc, FirebaseUnreachable | FirebaseAuthRejected)
                log.log(
                    logging.WARNING if expected else logging.ERROR,
                    "firebase offline (%s); retry in %.0f s",
                    exc if expected else repr(exc),
                    backoff_s,
                )
                self._status.set(False)
                wait_s, backoff_s = backoff_s, min(backoff_s * 2, self._retry_max_s)
            self._wake.wait(max(wait_s, 0.0))
            self._wake.clear()
        self._close_streams()

    def _step(self) -> float:
        """Do whatever is due; return seconds until something else is."""
        self._token(self._http_timeout_s)  # sign in / refresh (raises when refused or unreachable)
        now = self._clock()
        with self._lock:
            started = self._identity is not None
            due = self._publish_due or now >= self._next_publish_at
        if started and due:
            self._publish()
            self._next_publish_at = now + self._lifetime_ms / 3000  # a third of the lifetime
        elif not self._status.online:
            # nothing else went over the network: only a real answer may say "online"
            self._rest(lambda db, t: db.child(PHONES_PATH, PROBE_KEY).get(t), self._http_timeout_s)
        deadlines = [self._tokens.refresh_at() - now]
        if started:
            deadlines.append(self._next_publish_at - now)
        deadlines.extend(self._tend_streams(now))
        return min(deadlines)

    def _tend_streams(self, now: float) -> list[float]:
        """Open a stream per watched key; restart ended ones with back-off."""
        if any(s.ended.is_set() and s.token_expired for s in self._streams.values()):
            with self._token_lock:
                self._tokens.invalidate()  # auth_revoked: reconnect with a fresh token
        token = self._token(self._http_timeout_s)
        deadlines = []
        for public_key in self._watchers.watched_keys():
            stream = self._streams.get(public_key)
            if stream is not None and not stream.ended.is_set():
                if stream.token == token:
                    continue
                stream.close()  # the token was refreshed: reconnect with the new one
            if stream is not None:
                del self._streams[public_key]
                if stream.failed:
                    self._stream_failed(public_key, now)
            retry_at = self._stream_retry_at.get(public_key, 0.0)
            if now < retry_at:
                deadlines.append(retry_at - now)
                continue
            self._streams[public_key] = self._open_stream(public_key, token)
        return deadlines

    def _stream_failed(self, public_key: bytes, now: float) -> None:
        """A stream died: probe with one REST read so a dead network backs off as a whole
        (and an update missed meanwhile is delivered), then retry this key with back-off."""
        self.stream_failures += 1
        record = self.lookup(public_key, self._http_timeout_s)
        if not self._status.online:
            raise FirebaseUnreachable("stream ended and the database is unreachable")
        if record is not None:
            self._watchers.offer(record)
        backoff = self._stream_backoff_s.get(public_key, self._retry_min_s)
        self._stream_retry_at[public_key] = now + backoff
        self._stream_backoff_s[public_key] = min(backoff * 2, self._retry_max_s)

    def _open_stream(self, public_key: bytes, token: str) -> EventStream:
        kid = key_id(public_key)
        db = self._app.database()
        url = db.child(PHONES_PATH, kid).build_request_url(token)
        node: list[Any] = [None]

        def on_event(event: str, data: Any) -> None:
            if event in ("put", "patch"):
                if not isinstance(data, dict) or not isinstance(data.get("path"), str):
                    self.rejected.add("malformed", f"firebase-stream:{kid}")
                    return
                node[0] = apply_event(node[0], data["path"], data.get("data"), event == "patch")
                self._offer_seen(public_key, node[0])
                record = self._verify_node(public_key, node[0], f"firebase-stream:{kid}")
                if record is not None:
                    self._stream_backoff_s.pop(public_key, None)
                    self._watchers.offer(record)

        return EventStream(
            self._pyrebase,
            url,
            on_event,
            db.build_headers,
            token,
            self._stream_read_timeout_s,
            on_end=self._wake.set,
            on_malformed=lambda: self.rejected.add("malformed", f"firebase-stream:{kid}"),
        )

    def _close_streams(self) -> None:
        for stream in list(self._streams.values()):
            stream.close()
        self._streams.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._worker.join(min(STOP_JOIN_S, self._http_timeout_s + 1.0))
        self._close_streams()
        self._status.set(False)
