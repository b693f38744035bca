"""Assemble and run a phone from a config: model + machine + state-machine thread + timers
+ LCD + call service.

`build_phone(config, lcd=..., call_service_factory=...)` returns a `Phone` (not started);
`run_appliance(config)` is `main.py run`: it loads the identity, builds the phone with the
configured drivers, serves the LCD's input on the main thread until the user quits or a
signal arrives, then stops and joins everything.

The call service is a seam: `call_service_factory(post) -> CallService`.
`default_call_service_factory` builds the UDP call service of `pysnac.call` from the
config; `NullCallService` (every call attempt is UNREACHABLE "No network") remains for
tests and benches that want a phone without a network.

The rendezvous is the other seam: given a `rendezvous_opener` (run_appliance passes the
config's backends), `build_phone` adds a `Directory` (pysnac/runtime/directory.py) over the
same phonebook and wraps the call service in a `DirectoryCallService`, so a contact with
no static address is looked up before it is called. `Phone.start` publishes this device
(its identity, name and UDP port) and `Phone.stop` withdraws and joins it. Without an
opener (most tests) the phone has no rendezvous at all.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drivers.lcd.base import LcdDriver
from pysnac.call_events import (
    CallEvent,
    CallService,
    EventName,
    Failure,
    LinkStats,
    PostEvent,
)
from pysnac.config import Config, save_device_name, save_volume
from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac.history import HISTORY_FILE_NAME, History
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from pysnac.runtime import power
from pysnac.runtime.call_service import PRELOAD_WAIT_S
from pysnac.runtime.directory import Directory, RendezvousOpener, config_rendezvous_opener
from pysnac.runtime.directory_calls import DirectoryCallService
from pysnac.runtime.factory import ice_configured
from pysnac.runtime.loop import StateMachineLoop
from pysnac.runtime.power import CommandRunner
from pysnac.runtime.sd_notify import Notifier
from pysnac.runtime.timers import Timers
from pysnac_fsm import table
from pysnac_fsm.machine import build_machine
from pysnac_fsm.phone import PhoneModel

if TYPE_CHECKING:
    from pysnac.runtime.ice_calls import IceCalls

log = logging.getLogger(__name__)

CallServiceFactory = Callable[[PostEvent], CallService]
# The background start (audio check: open and close the device; rendezvous: open the
# backends' sockets) never waits on a peer; Phone.stop waits this long for it.
BACKGROUND_START_JOIN_S = 10.0


class NullCallService:
    """A placeholder call service with no network: every call attempt is UNREACHABLE."""

    def __init__(self, post: PostEvent) -> None:
        self._post = post

    def start(self) -> None: ...
    def close(self) -> None: ...

    def wait_ready(self, timeout_s: float) -> bool:
        return True

    @property
    def local_address(self) -> tuple[str, int] | None:
        return None

    def place_call(self, contact: Contact) -> None:
        self._post(CallEvent(EventName.UNREACHABLE, Failure("No network", "no call service")))

    def cancel_call(self) -> None: ...
    def answer_call(self) -> None: ...
    def reject_call(self) -> None: ...
    def hang_up(self) -> None: ...
    def start_media(self) -> None: ...
    def stop_media(self) -> None: ...
    def set_volume(self, level: int) -> None: ...
    def start_tone(self, tone: str, level: int) -> None: ...
    def stop_tone(self) -> None: ...
    def set_muted(self, muted: bool) -> None: ...

    def link_stats(self) -> LinkStats:
        return LinkStats()


class Phone:
    """A running phone: `start()`, `post(event)` from any thread, `state`, `stop()`."""

    def __init__(
        self,
        model: PhoneModel,
        machine: Any,
        loop: StateMachineLoop,
        timers: Timers,
        lcd: LcdDriver,
        service: CallService,
        directory: Directory | None = None,
        start_in_background: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.directory = directory
        self._start_in_background = start_in_background
        self._background_start: threading.Thread | None = None
        self.machine = machine
        self.loop = loop
        self.timers = timers
        self.lcd = lcd
        self.service = service
        self._changed = threading.Condition()
        self._settled_state = model.state  # published after the loop armed the state's timers
        loop.observers.append(self._notify)

    @property
    def state(self) -> str:
        return self.model.state

    def start(self) -> None:
        self.service.start()
        self.timers.start()
        self.lcd.attach(self.loop.post_button)
        self.loop.start()
        if self._start_in_background is not None:  # the audio check and importing a backend
            self._background_start = threading.Thread(  # (pyrebase, ~0.7 s) take time: not on
                target=self._start_in_background, name="background-start", daemon=True
            )  # the thread serving buttons
            self._background_start.start()

    def stop(self) -> None:
        """End any call, then stop and join the state-machine, timer and rendezvous
        threads, then close the call service."""
        self.loop.stop()
        self.timers.stop()
        if self._background_start is not None:
            self._background_start.join(BACKGROUND_START_JOIN_S)
            if self._background_start.is_alive():
                log.error("start-up checks did not finish in %.0f s", BACKGROUND_START_JOIN_S)
        if self.directory is not None:
            self.directory.stop()
        try:
            self.service.close()
        except Exception:
            log.exception("closing the call service failed")

    def post(self, event: CallEvent) -> None:
        self.loop.post(event)

    def wait_for_state(self, state: str, timeout_s: float) -> bool:
        """Block until the phone has entered `state` and armed its timers (tests, bench)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._settled_state == state, timeout=timeout_s)

    def _notify(self, old: str, new: str, model: Any, now: float) -> None:
        with self._changed:
            self._settled_state = new
            self._changed.notify_all()


def load_fingerprint(config: Config) -> tuple[str, bool]:
    """This device's key fingerprint, creating the identity key on first run."""
    from pysnac.channel.identity import Identity, fingerprint

    identity, created = Identity.load_or_create(config.device.key_file)
    return fingerprint(identity.signing_public), created


def build_phone(
    config: Config,
    *,
    lcd: LcdDriver,
    call_service_factory: CallServiceFactory,
    clock: Any = None,
    fingerprint: str | None = None,
    history: History | None = None,
    rendezvous_opener: RendezvousOpener | None = None,
    check_audio_at_start: bool = False,
) -> Phone:
    """Wire a phone (not started). `clock` has `now()` and `wait_until()` (default: real).
    With `rendezvous_opener`, the phone publishes itself and finds its contacts there; with
    `check_audio_at_start`, a missing sound device shows on the home screen at power-on."""
    if fingerprint is None:
        fingerprint, _ = load_fingerprint(config)
    holder: dict[str, StateMachineLoop] = {}

    def post_internal(trigger: str, data: Any) -> None:
        holder["loop"].post_internal(trigger, data)

    def post(event: CallEvent) -> None:
        holder["loop"].post(event)

    phonebook = Phonebook(config.state_folder / PHONEBOOK_FILE_NAME, config.contacts)
    service = call_service_factory(post)
    directory = start_directory = None
    inner = service
    if rendezvous_opener is not None:
        directory = Directory(config.rendezvous.backends, rendezvous_opener, phonebook)
        inner = service
        ice = ice_calls(config, inner, directory, phonebook)
        service = DirectoryCallService(inner, directory, post, ice=ice)

        def start_directory() -> None:
            from pysnac.channel.identity import Identity

            identity, _ = Identity.load_or_create(config.device.key_file)
            assert directory is not None
            try:
                addresses = published_addresses(config, inner)
                directory.start(post, identity, config.device.name, addresses)
                if ice is not None:  # re-gather and re-publish as the network changes
                    watch_reachability(config, inner, directory, addresses[0], ice)
                elif "firebase" in directory.kinds:  # the LAN backend follows the network
                    directory.follow_host_addresses(addresses)  # itself; static publishes none
            except Exception:  # a rendezvous fault never stops the phone
                log.exception("the rendezvous could not start")

    model = PhoneModel(
        service,
        post=post_internal,
        phonebook=phonebook,
        history=history or History(config.state_folder / HISTORY_FILE_NAME),
        device_name=config.device.name,
        fingerprint=fingerprint,
        save_device_name=device_renamer(config, inner, directory),
        new_keys=directory,
        volume=config.audio.volume,
        save_volume=lambda level: save_volume(config.path, level),
    )
    machine = build_machine(model)
    timers = Timers(post, clock)  # timer events go straight to the loop's queue
    loop = StateMachineLoop(model, lcd, timers, clock=timers.clock)
    holder["loop"] = loop
    if directory is not None:  # discovery offers wait for the home screen, never take a
        offers = directory  # button meant for something else
        offers.ready_for_offer = lambda: model.state == table.IDLE
        loop.observers.append(
            lambda _old, new, _model, _now: offers.offer_next() if new == table.IDLE else None
        )
    starts = [
        *([lambda: check_audio(config, post, inner)] if check_audio_at_start else []),
        *([start_directory] if start_directory is not None else []),
    ]
    if starts:  # they import packages the service is preloading: never two importers at once
        starts.insert(0, lambda: service.wait_ready(PRELOAD_WAIT_S))

    def start_in_background() -> None:
        for start in starts:
            try:
                start()
            except Exception:  # one step's fault must not keep the next from running
                log.exception("a start-up step failed")

    background = start_in_background if starts else None
    return Phone(model, machine, loop, timers, lcd, service, directory, background)


def device_renamer(
    config: Config, service: CallService, directory: Directory | None
) -> Callable[[str], None]:
    """Rename = save to the config (raises ConfigError/PhonebookError: nothing changed),
    then the next call's INVITE and our rendezvous record carry the new name at once."""

    def rename(name: str) -> None:
        save_device_name(config.path, name)
        rename_calls = getattr(service, "rename", None)  # the UDP service; test doubles lack it
        if callable(rename_calls):
            rename_calls(name)
        if directory is not None:
            directory.rename(name)
        log.info("device renamed to %r", name)

    return rename


def check_audio(config: Config, post: PostEvent, service: CallService | None = None) -> None:
    """Power-on check: open the configured sound device as a call would, and close it. A
    missing one is named on the home screen and in the log (which points to `main.py
    devices`) now, not at the first call, and the call service refuses callers with "no
    audio" instead of ringing; the phone stays up either way."""
    from drivers.audio import open_audio_device
    from pysnac.runtime.factory import audio_params

    tell_service = getattr(service, "set_audio_ok", None)  # the UDP service; doubles lack it
    device = open_audio_device(config.audio.driver, audio_params(config))
    try:
        device.start()
    except PysnacError as exc:
        log.error("%s", exc)
        if callable(tell_service):
            tell_service(False)
        post(CallEvent(EventName.AUDIO_STATUS, Failure(exc.reason, str(exc))))
        return
    finally:
        device.stop()
    if callable(tell_service):
        tell_service(True)
    post(CallEvent(EventName.AUDIO_STATUS, None))


def published_addresses(config: Config, service: CallService) -> list[tuple[str, int]]:
    """Where peers reach this phone: the bound host (0.0.0.0 = every local IPv4, expanded
    by the backends) and the port the call service really bound (udp_port may be 0), then
    the configured public address (a port forward), if any."""
    local = service.local_address
    port = int(local[1]) if local else config.network.udp_port
    public = [config.network.public_address] if config.network.public_address else []
    return [(config.network.bind, port), *public]


def watch_reachability(
    config: Config,
    service: CallService,
    directory: Directory,
    bound: tuple[str, int],
    ice: IceCalls,
) -> None:
    """Host, server-reflexive and public addresses, re-published when they change."""
    if not ice_configured(config):
        return
    from drivers.rendezvous.base import expand_wildcards
    from pysnac.runtime.ice_transport import IceMuxTransport

    transport = getattr(service, "transport", None)
    if isinstance(transport, IceMuxTransport):
        transport.watch_reachability(
            hosts=lambda: expand_wildcards([bound]),
            public=config.network.public_address,
            publish=directory.update,
            on_change=ice.network_changed,
        )


def ice_calls(
    config: Config, service: CallService, directory: Directory, phonebook: Phonebook
) -> IceCalls | None:
    """Call offers and ICE when the call service runs on the ICE transport (STUN/TURN
    configured); None otherwise (calls go to the record's address, as on a LAN)."""
    if not ice_configured(config):
        return None
    from pysnac.runtime.ice_transport import IceMuxTransport

    transport = getattr(service, "transport", None)
    if not isinstance(transport, IceMuxTransport):
        return None
    from pysnac.channel.identity import Identity
    from pysnac.runtime.ice_calls import IceCalls

    identity, _ = Identity.load_or_create(config.device.key_file)
    calls = IceCalls(
        identity,
        transport.agent,
        publish=directory.publish_offer,
        is_pinned=lambda key: phonebook.find_by_key(key) is not None,
    )
    directory.watch_offers(calls.on_offer)
    return calls


def default_call_service_factory(config: Config) -> CallServiceFactory:
    """THE seam for the call layer: the UDP call service of `pysnac.call`."""
    from pysnac.runtime.factory import udp_call_service_factory

    return udp_call_service_factory(config)


def state_record(old: str, new: str, model: PhoneModel, now: float) -> dict[str, Any]:
    """The JSON line stdio mode prints on each state change (the demo's summary)."""
    call = model.call or model.last_call
    record: dict[str, Any] = {
        "type": "state",
        "from": old,
        "state": new,
        "peer": call.peer if call else None,
        "sas": (call.sas or None) if call else None,
        "reason": model.reason or None,
        "duration_s": round(model.duration_s, 2),
    }
    if old == table.IN_CALL:
        record["link"] = dataclasses.asdict(model.link)
    return record


def check_rendezvous_config(config: Config) -> None:
    """A bad Firebase project file stops `run` with the loader's one line (file, key, fix)
    before anything starts, instead of a directory that never comes online."""
    if "firebase" in config.rendezvous.backends and config.rendezvous.firebase_config:
        from drivers.rendezvous.firebase_auth import load_firebase_config

        load_firebase_config(config.rendezvous.firebase_config)


def run_appliance(
    config: Config,
    lcd_kind: str | None = None,
    *,
    lcd: LcdDriver | None = None,
    run_command: CommandRunner = power.run_command,
) -> int:
    """`main.py run`: serve the phone until the user quits, SIGINT/SIGTERM, or the menu's
    "Shut down" (then, once the phone has stopped, run `device.power_off_command` through
    `run_command`). `lcd` replaces the configured driver (tests)."""
    from drivers.lcd import STDIO_KINDS, open_lcd

    check_rendezvous_config(config)
    fingerprint, created = load_fingerprint(config)
    if created:
        print(f"pysnac: created identity key {config.device.key_file}", file=sys.stderr)
    kind = lcd_kind or config.lcd.driver
    if lcd is None:
        lcd = open_lcd(kind)
    if kind == "terminal":  # the screen is the terminal: the log must not draw over it
        from pysnac.runtime.logs import LOG_FILE_NAME, divert_to_file

        log_path = config.folder / LOG_FILE_NAME
        print(f"pysnac: the log is in {log_path}", file=sys.stderr)
        divert_to_file(log_path)
    phone = build_phone(
        config,
        lcd=lcd,
        call_service_factory=default_call_service_factory(config),
        fingerprint=fingerprint,
        rendezvous_opener=config_rendezvous_opener(config),
        check_audio_at_start=True,
    )
    # The journal's (or stderr's) record of each state change: peer, reason, link stats;
    # `transitions` says the same thing in several lines per callback: only with DEBUG.
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("transitions").setLevel(logging.WARNING)
    phone.loop.observers.append(lambda *args: log.info("%s", json.dumps(state_record(*args))))
    emit = getattr(lcd, "emit", None)
    if kind in STDIO_KINDS and emit is not None:
        phone.loop.observers.append(lambda *args: emit(state_record(*args)))
        emit({"type": "ready", "device": config.device.name, "fingerprint": fingerprint})
    if kind == "terminal":  # quitting during a call asks first
        lcd.busy = lambda: phone.state in table.CALL_STATES  # type: ignore[attr-defined]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # HUP: terminal closed
        signal.signal(signum, lambda *_: stop.set())

    def stop_when_off(old: str, new: str, model: Any, now: float) -> None:
        if new == table.OFF:  # the menu's "Shut down": the machine has stopped itself
            stop.set()

    phone.loop.observers.append(stop_when_off)
    notifier = Notifier()  # systemd: READY=1, WATCHDOG=1 from the state-machine thread
    phone.loop.heartbeat = notifier.heartbeat
    phone.loop.heartbeat_s = notifier.ping_interval_s
    phone.start()  # the Idle screen is drawn before this returns
    notifier.ready(f"{config.device.name}: {phone.state}")
    try:
        lcd.serve(stop)
    finally:
        notifier.stopping()
        phone.stop()
        lcd.close()
        notifier.close()
    if phone.model.power_off_requested:
        power.power_off(config.device.power_off_command, run_command)
    return 0
