"""Build the UDP call service a phone runs with, from its config (the app's seam).

`udp_call_service_factory(config)` returns `factory(post) -> UdpCallService`, which
`Phone.start` starts: the identity from `device.key_file`, a UDP socket on
`network.bind:udp_port` (with STUN or TURN configured, shared with the calls' ICE sessions:
pysnac/runtime/ice_transport.py), the codec from `[codec]`, a fresh sound device of
`audio.driver` for each call, and the pinned contacts from the phonebook beside the config
(read at each call, so pairing takes effect at once). When the environment names
`PYSNAC_CALL_LOG`, each finished call appends one JSON line of statistics there (`make
demo` and `bench/bench_call.py` read it). The ring and ring-back play through a `Ringer`
on the same speaker (tone_params).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pysnac.call_events import PostEvent

if TYPE_CHECKING:
    from drivers.audio.base import AudioDevice, AudioParams
    from drivers.net.base import DatagramTransport
    from pysnac.config import Config
    from pysnac.runtime.call_service import UdpCallService
    from pysnac.runtime.ice import IceSettings

from pysnac.media.limits import SAMPLE_RATE_HZ
from pysnac.runtime.ringer import Ringer

CALL_LOG_ENV = "PYSNAC_CALL_LOG"
# Seconds this phone's wall clock is off (the demo's `--clock-skew`; a Pi without a
# real-time clock or time server is off by any amount): only invite stamps use it.
CLOCK_SKEW_ENV = "PYSNAC_CLOCK_SKEW_S"
DEFAULT_DEVICE = "default"
TONES_WAV_SUFFIX = "-tones.wav"  # wav driver: where the ring and ring-back are recorded


def audio_params(config: Config) -> AudioParams:
    from drivers.audio import AudioParams

    def device(value: str | int) -> str | None:
        return None if value == DEFAULT_DEVICE else str(value)

    audio = config.audio
    return AudioParams(
        frame_samples=SAMPLE_RATE_HZ * config.codec.frame_ms // 1000,  # the codec's frame
        input_device=device(audio.input_device),
        output_device=device(audio.output_device),
        input_wav=audio.input_wav,
        output_wav=audio.output_wav,
    )


def ice_configured(config: Config) -> bool:
    """STUN or TURN is set: only then does the phone load ICE (asyncio and aioice, about
    11 MiB resident)."""
    return config.network.stun_server is not None or config.network.turn_server is not None


def ice_settings(config: Config) -> IceSettings:
    """STUN/TURN from `[network]` (no servers: ICE is off and calls go as on a LAN)."""
    from pysnac.config import read_turn_password
    from pysnac.runtime.ice import IceSettings

    network = config.network
    if network.turn_server is None:
        return IceSettings(stun_server=network.stun_server)
    return IceSettings(
        stun_server=network.stun_server,
        turn_server=network.turn_server,
        turn_username=network.turn_username,
        turn_password=read_turn_password(config),
    )


def tone_params(params: AudioParams) -> AudioParams:
    """The ringer's device: the call's speaker, no microphone. With the wav driver the tones
    are recorded beside the call's recording (`NAME-tones.wav`), not over it."""
    output = params.output_wav
    if output is not None:
        output = Path(output).with_name(f"{Path(output).stem}{TONES_WAV_SUFFIX}")
    return dataclasses.replace(params, input_wav=None, output_wav=output)


def udp_call_service_factory(config: Config) -> Callable[[PostEvent], UdpCallService]:
    def factory(post: PostEvent) -> UdpCallService:
        from drivers.audio import open_audio_device
        from drivers.clock import MonotonicClock
        from drivers.net.udp import UdpTransport
        from pysnac.channel.identity import Identity
        from pysnac.media.codec import CodecParams
        from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
        from pysnac.runtime.call_service import UdpCallService
        from pysnac.stamp_file import STAMPS_FILE_NAME

        identity, _ = Identity.load_or_create(config.device.key_file)
        phonebook = Phonebook(config.state_folder / PHONEBOOK_FILE_NAME, config.contacts)
        params = audio_params(config)
        ring_params = tone_params(params)

        def open_device() -> AudioDevice:
            return open_audio_device(config.audio.driver, params)

        codec = CodecParams(
            frame_ms=config.codec.frame_ms,
            bitrate=config.codec.bitrate,
            fec=config.codec.fec,
            dtx=config.codec.dtx,
        )
        transport: DatagramTransport = UdpTransport((config.network.bind, config.network.udp_port))
        # across NATs the calls' ICE sessions share the transport
        if ice_configured(config):
            from pysnac.runtime.ice_transport import IceMuxTransport

            transport = IceMuxTransport(transport, ice_settings(config)).start()
        call_log = os.environ.get(CALL_LOG_ENV)
        skew_s = float(os.environ.get(CLOCK_SKEW_ENV, "0") or 0)
        return UdpCallService(
            identity=identity,
            name=config.device.name,
            transport=transport,
            post=post,
            contacts=phonebook.contacts,
            audio_factory=open_device,
            codec=codec,
            call_log=Path(call_log) if call_log else None,
            stamps_path=config.folder / STAMPS_FILE_NAME,
            wall_offset_s=time.time() + skew_s - MonotonicClock().now(),
            ringer=Ringer(lambda: open_audio_device(config.audio.driver, ring_params), ring_params),
            peer_lost_s=config.network.peer_lost_s,
        )

    return factory
