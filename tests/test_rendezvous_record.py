"""The signed record (pure): round trip, one rejection test per fault, fuzzed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.rendezvous.base import (
    BadRecordSignature,
    ExpiredRecord,
    FutureRecord,
    MalformedRecord,
    RecordError,
    UnsignedRecord,
)
from drivers.rendezvous.record import (
    MAX_CLOCK_SKEW_MS,
    MAX_LIFETIME_MS,
    RECORD_LIFETIME_MS,
    SIGNATURE_BYTES,
    fresh_by_server_time,
    from_text,
    key_id,
    sign_record,
    to_text,
    verify_record,
    verify_text,
)
from pysnac.channel.identity import Identity

NOW_MS = 1_790_000_000_000
ALICE = Identity(bytes(range(32)))
ADDRESSES = [("192.0.2.1", 47000), ("2001:db8::1", 47001), ("alice.example", 5)]


def test_round_trip_through_text() -> None:
    blob = sign_record(ALICE, "Alice ☎", ADDRESSES, NOW_MS)
    record = verify_text(to_text(blob), NOW_MS + 1000)
    assert record.name == "Alice ☎"
    assert record.public_key == ALICE.signing_public
    assert record.addresses == ADDRESSES
    assert record.timestamp_ms == NOW_MS
    assert record.expires_ms == NOW_MS + RECORD_LIFETIME_MS


def test_key_id_is_a_lower_case_dns_label() -> None:
    kid = key_id(ALICE.signing_public)
    assert len(kid) == 52 and kid == kid.lower() and kid.isalnum()
    assert key_id(Identity.generate().signing_public) != kid


def test_every_flipped_byte_is_refused() -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x40
        with pytest.raises(RecordError):
            verify_record(bytes(tampered), NOW_MS)


def test_unsigned_record() -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    with pytest.raises(UnsignedRecord):
        verify_record(blob[:-SIGNATURE_BYTES], NOW_MS)


def test_signature_by_another_key() -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    forged = blob[:-SIGNATURE_BYTES] + Identity.generate().sign(blob[:-SIGNATURE_BYTES])
    with pytest.raises(BadRecordSignature):
        verify_record(forged, NOW_MS)


def test_expired_at_exactly_the_expiry() -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    verify_record(blob, NOW_MS + RECORD_LIFETIME_MS - 1)
    with pytest.raises(ExpiredRecord):
        verify_record(blob, NOW_MS + RECORD_LIFETIME_MS)


def test_future_dated_beyond_clock_skew() -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    verify_record(blob, NOW_MS - MAX_CLOCK_SKEW_MS)  # within the allowed skew
    with pytest.raises(FutureRecord):
        verify_record(blob, NOW_MS - MAX_CLOCK_SKEW_MS - 1)


def test_signing_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        sign_record(ALICE, "", ADDRESSES, NOW_MS)
    with pytest.raises(ValueError):
        sign_record(ALICE, "alice", [], NOW_MS)
    with pytest.raises(ValueError):
        sign_record(ALICE, "alice", [("bad host!", 1)], NOW_MS)
    with pytest.raises(ValueError):
        sign_record(ALICE, "alice", ADDRESSES, NOW_MS, lifetime_ms=MAX_LIFETIME_MS + 1)


@pytest.mark.parametrize(
    "text", [None, 42, "", "!!!!", "PSR1", "A" * 5000, to_text(b"PSR1" + bytes(60))]
)
def test_garbage_text_is_malformed(text: object) -> None:
    with pytest.raises(MalformedRecord):
        verify_text(text, NOW_MS)


def test_text_form_is_strict_base64url() -> None:
    with pytest.raises(MalformedRecord):
        from_text("ab cd")
    assert from_text(to_text(b"\xfb\xff")) == b"\xfb\xff"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1100))
def test_random_bytes_only_ever_raise_record_errors(blob: bytes) -> None:
    with pytest.raises(RecordError):
        verify_record(blob, NOW_MS)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=8))
def test_truncated_or_extended_records_are_refused(cut: int, extra: bytes) -> None:
    blob = sign_record(ALICE, "alice", ADDRESSES, NOW_MS)
    with pytest.raises(RecordError):
        verify_record(blob[: len(blob) - 1 - cut % len(blob)], NOW_MS)
    with pytest.raises(RecordError):
        verify_record(blob + extra, NOW_MS)


def test_a_live_announcement_is_not_judged_by_our_clock() -> None:
    """A LAN record from a phone whose clock is a day off either way is accepted when no
    `now_ms` is given (the LAN: freshness by arrival); its signature still counts."""
    for skew_ms in (-86_400_000, 86_400_000):
        blob = sign_record(ALICE, "bob", ADDRESSES, NOW_MS + skew_ms)
        assert verify_record(blob, None).timestamp_ms == NOW_MS + skew_ms
        with pytest.raises((ExpiredRecord, FutureRecord)):
            verify_record(blob, NOW_MS)
    forged = bytearray(sign_record(ALICE, "bob", ADDRESSES, NOW_MS))
    forged[-1] ^= 1
    with pytest.raises(RecordError):
        verify_record(bytes(forged), None)


def test_a_stored_record_is_fresh_for_its_lifetime_from_the_servers_write() -> None:
    """The publisher's clock is a day off: only the server's times count."""
    blob = sign_record(ALICE, "alice", [("192.0.2.1", 47000)], NOW_MS + 86_400_000)
    record = verify_record(blob, None)
    written_ms = 5_000_000
    assert fresh_by_server_time(record, written_ms, written_ms) == record
    older = fresh_by_server_time(record, written_ms, written_ms + 60_000)
    assert older.expires_ms - older.timestamp_ms == RECORD_LIFETIME_MS - 60_000
    assert fresh_by_server_time(record, written_ms, None) == record  # no server time known
    with pytest.raises(ExpiredRecord):
        fresh_by_server_time(record, written_ms, written_ms + RECORD_LIFETIME_MS)
    for bad in (None, "5000000", True, -1, 1.5):
        with pytest.raises(MalformedRecord):
            fresh_by_server_time(record, bad, written_ms)
