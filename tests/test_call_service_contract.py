"""Every `CallService` the phone can be built with conforms to the whole contract in
`pysnac/call_events.py`: the same members, each with the same parameters, so the model
and the runtime call them directly (no probing for optional methods)."""

from __future__ import annotations

import inspect

import pytest

from pysnac.call_events import CallService
from pysnac.runtime.app import NullCallService
from pysnac.runtime.call_service import UdpCallService
from pysnac.runtime.directory_calls import DirectoryCallService
from tests.fake_call_service import FakeCallService

CONTRACT = {
    name: member
    for name, member in vars(CallService).items()
    if not name.startswith("_") and (callable(member) or isinstance(member, property))
}


def required_parameters(function: object) -> list[str]:
    """The parameters a caller of the contract must be able to pass (defaults may be extra)."""
    return [
        p.name
        for p in inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        if p.name != "self"
    ]


def test_the_contract_has_lifecycle_and_call_requests() -> None:
    lifecycle = {"start", "close", "wait_ready", "local_address"}
    calls = {"place_call", "cancel_call", "answer_call", "reject_call", "hang_up"}
    assert lifecycle | calls <= set(CONTRACT)


@pytest.mark.parametrize(
    "implementation", [UdpCallService, NullCallService, DirectoryCallService, FakeCallService]
)
def test_implementation_conforms(implementation: type) -> None:
    for name, member in CONTRACT.items():
        assert name in dir(implementation), f"{implementation.__name__} lacks {name}"
        real = inspect.getattr_static(implementation, name)
        if isinstance(member, property):
            assert isinstance(real, property), f"{implementation.__name__}.{name}: property"
            continue
        wanted = required_parameters(member)
        got = required_parameters(real)
        assert got[: len(wanted)] == wanted, (implementation.__name__, name, got, wanted)
        extra = list(inspect.signature(real).parameters.values())[len(wanted) + 1 :]
        assert all(p.default is not inspect.Parameter.empty for p in extra), (
            implementation.__name__,
            name,
        )
