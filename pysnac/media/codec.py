"""Opus over opuslib 3.0.1: the encoder and decoder a call uses, with settings verified.

opuslib 3.0.1's `inband_fec` setter raises and its `dtx` setter does nothing, so
every setting goes through the low-level `encoder_ctl` and is read back with the matching
get ctl; a setting that did not take raises `CodecError`. The decoder wrapper names the
three ways to get a frame out: decode a packet, rebuild a lost frame from the next packet's
in-band FEC (RFC 6716 section 2.1.7, LBRR), or conceal it (PLC). `has_lbrr` reads the LBRR
flag from a packet so the receiver knows whether FEC data is really there.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysnac.errors import PysnacError
from pysnac.media import limits


class CodecError(PysnacError, ValueError):
    """Bad codec parameters, or libopus refused a setting or a packet."""


@dataclass(frozen=True)
class CodecParams:
    """What both ends agree on for a call: 48 kHz mono Opus, VOIP application (RFC 7587)."""

    sample_rate: int = limits.SAMPLE_RATE_HZ
    frame_ms: int = 20  # 10, 20 or 40
    bitrate: int = 32000  # bit/s; PESQ-WB 4.33 on our clip (24k: 4.31), docs/media.md
    fec: bool = True
    dtx: bool = False
    complexity: int = 9  # +0.02..0.06 MOS over 5 for ~130 us more per frame (docs/media.md)

    def __post_init__(self) -> None:
        if self.sample_rate != limits.SAMPLE_RATE_HZ:
            raise CodecError(f"sample rate must be {limits.SAMPLE_RATE_HZ} Hz")
        if self.frame_ms not in limits.FRAME_MS_CHOICES:
            raise CodecError(f"frame must be one of {limits.FRAME_MS_CHOICES} ms")
        if not limits.BITRATE_MIN_BPS <= self.bitrate <= limits.BITRATE_MAX_BPS:
            raise CodecError(
                f"bitrate must be {limits.BITRATE_MIN_BPS}..{limits.BITRATE_MAX_BPS} bit/s"
            )
        if not 0 <= self.complexity <= 10:
            raise CodecError("complexity must be 0..10")

    @property
    def frame_samples(self) -> int:
        """Samples per frame: 960 at 48 kHz / 20 ms."""
        return self.sample_rate * self.frame_ms // 1000

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * limits.SAMPLE_BYTES * limits.CHANNELS

    @property
    def frame_s(self) -> float:
        return self.frame_ms / 1000.0


class OpusEncoder:
    """One call's encoder. `set_loss_hint` follows the loss the far end reports."""

    def __init__(self, params: CodecParams) -> None:
        import opuslib
        import opuslib.api.ctl as ctl
        import opuslib.api.encoder as api

        self.params = params
        self._ctl = ctl
        self._api = api
        self._enc = opuslib.Encoder(params.sample_rate, limits.CHANNELS, opuslib.APPLICATION_VOIP)
        self._state = self._enc.encoder_state
        self._set(ctl.set_bitrate, ctl.get_bitrate, params.bitrate)
        self._bitrate = params.bitrate
        self._set(ctl.set_complexity, ctl.get_complexity, params.complexity)
        self._set(ctl.set_inband_fec, ctl.get_inband_fec, int(params.fec))
        self._set(ctl.set_dtx, ctl.get_dtx, int(params.dtx))
        self._loss_hint = -1
        self.set_loss_hint(0)

    def _set(self, setter: object, getter: object, value: int) -> None:
        self._api.encoder_ctl(self._state, setter, value)
        got = self._api.encoder_ctl(self._state, getter)
        if got != value:
            raise CodecError(f"libopus did not take the setting: wanted {value}, got {got}")

    def get(self, name: str) -> int:
        """Read back one encoder setting by ctl name (`get_inband_fec`, `get_dtx`, ...)."""
        return int(self._api.encoder_ctl(self._state, getattr(self._ctl, name)))

    def set_bitrate(self, bps: int) -> None:
        """OPUS_SET_BITRATE, read back; a no-op when unchanged (called every frame)."""
        if bps != self._bitrate:
            self._set(self._ctl.set_bitrate, self._ctl.get_bitrate, bps)
            self._bitrate = bps

    @property
    def loss_hint_percent(self) -> int:
        return self._loss_hint

    def set_loss_hint(self, percent: int) -> None:
        """OPUS_SET_PACKET_LOSS_PERC: how much LBRR (FEC) the encoder spends bits on."""
        percent = max(0, min(limits.FEC_HINT_MAX_PERCENT, int(percent)))
        if percent != self._loss_hint:
            ctl = self._ctl
            self._set(ctl.set_packet_loss_perc, ctl.get_packet_loss_perc, percent)
            self._loss_hint = percent

    def encode(self, pcm: bytes) -> bytes:
        """One frame of int16 mono PCM in, one Opus packet out (1-2 bytes in DTX silence)."""
        if len(pcm) != self.params.frame_bytes:
            raise CodecError(f"PCM frame must be {self.params.frame_bytes} bytes, got {len(pcm)}")
        return self._enc.encode(pcm, self.params.frame_samples)


class OpusDecoder:
    """One call's decoder: decode, FEC-recover or conceal exactly one frame per call."""

    def __init__(self, params: CodecParams) -> None:
        import opuslib

        self.params = params
        self._dec = opuslib.Decoder(params.sample_rate, limits.CHANNELS)
        self._n = params.frame_samples
        self._exc = opuslib.OpusError

    def decode(self, packet: bytes) -> bytes:
        try:
            return self._dec.decode(packet, self._n)
        except self._exc as exc:
            raise CodecError(f"undecodable Opus packet: {exc}") from exc

    def decode_fec(self, next_packet: bytes) -> bytes:
        """Rebuild the lost frame before `next_packet` from its LBRR data."""
        try:
            return self._dec.decode(next_packet, self._n, decode_fec=True)
        except self._exc as exc:
            raise CodecError(f"undecodable Opus packet: {exc}") from exc

    def conceal(self) -> bytes:
        """Opus PLC (decode of an empty packet; `None` raises in opuslib 3.0.1)."""
        return self._dec.decode(b"", self._n)


def _first_frame(packet: bytes) -> bytes:
    """The first Opus frame's bytes after the TOC (RFC 6716 section 3.2), or b""."""
    code = packet[0] & 0x3
    if code in (0, 1):
        return packet[1:]
    if code == 2 and len(packet) >= 2:
        size = packet[1]
        skip = 2
        if size >= 252 and len(packet) >= 3:
            size += 4 * packet[2]
            skip = 3
        return packet[skip : skip + size]
    return b""  # code 3 (VBR/CBR frame counts) is never produced at our frame sizes


def has_lbrr(packet: bytes) -> bool:
    """True when `packet` carries in-band FEC (LBRR) for the frame before it.

    Same test as libopus 1.5's opus_packet_has_lbrr: SILK and hybrid modes only (TOC config
    below 16), and the LBRR flag follows the VAD flags in the first byte of the first frame.
    """
    if len(packet) < 2:
        return False
    config = packet[0] >> 3
    if config >= 16:  # CELT-only: no LBRR
        return False
    frame_ms = (10, 20, 40, 60)[config & 0x3] if config < 12 else (10, 20)[config & 0x1]
    silk_frames = max(1, frame_ms // 20)
    data = _first_frame(packet)
    if not data:
        return False
    return bool((data[0] >> (7 - silk_frames)) & 0x1)
