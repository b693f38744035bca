"""No wall-clock window: phones whose clocks are a day apart call each other both ways, a
clock step in either direction changes nothing, and an INVITE replayed after the callee
restarted is refused (its stamps are kept on disk). Pure endpoints on a stepped clock."""

from __future__ import annotations

from pysnac.call import wire
from pysnac.call_events import EventName
from pysnac.stamp_file import load_stamps, save_stamps
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, Phone, make_phone

DAY_S = 86_400.0


def pair() -> tuple[Net, Phone, Phone]:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    return Net(alice, bob), alice, bob


def call_and_hang_up(net: Net, caller: Phone, callee: Phone) -> None:
    caller.events.clear()
    callee.events.clear()
    net.act(caller, "place_call", callee.contact())
    net.act(callee, "answer_call")
    assert caller.names()[-1] == EventName.CALL_ESTABLISHED
    assert callee.names()[-1] == EventName.CALL_ESTABLISHED
    net.act(caller, "hang_up")
    net.advance(1.0)


def test_clocks_a_day_apart_and_clock_steps_both_ways() -> None:
    net, alice, bob = pair()
    bob.endpoint.wall_offset_s += DAY_S  # bob's clock runs a day ahead
    call_and_hang_up(net, alice, bob)
    call_and_hang_up(net, bob, alice)
    bob.endpoint.wall_offset_s -= 2 * DAY_S  # a time server steps it to a day behind
    call_and_hang_up(net, bob, alice)
    call_and_hang_up(net, alice, bob)
    alice.endpoint.wall_offset_s += 10 * DAY_S  # and alice's jumps forward
    call_and_hang_up(net, alice, bob)
    call_and_hang_up(net, bob, alice)


def test_a_replay_after_the_callee_restarts_is_refused_and_calls_still_work(tmp_path) -> None:
    net, alice, bob = pair()
    captured: list[bytes] = []
    net.drop = lambda d, s, t: d[0] == wire.PacketType.INVITE and captured.append(d) is not None
    call_and_hang_up(net, alice, bob)
    net.drop = lambda d, s, t: False
    path = tmp_path / "invite-stamps"
    save_stamps(path, bob.endpoint.stamps)
    net.advance(120.0)  # the call id cache has long forgotten the call
    restarted = Phone("bob", B_ADDR, bob.identity, contacts=bob.contacts, stamps=load_stamps(path))
    restarted.endpoint.wall_offset_s -= DAY_S  # and its clock came back a day behind
    net.phones[B_ADDR] = restarted
    restarted.endpoint.receive(captured[0], A_ADDR, net.now)
    assert restarted.endpoint.take_output().events == []
    assert restarted.endpoint.counters["stale_invite"] == 1
    call_and_hang_up(net, alice, restarted)
    call_and_hang_up(net, restarted, alice)
