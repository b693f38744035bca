"""The Opus wrapper: settings really take effect (opuslib 3.0.1 setters are broken), FEC/LBRR
is really produced and detected, PLC and FEC decode give whole frames."""

from __future__ import annotations

import pytest

from pysnac.media.codec import CodecError, CodecParams, OpusDecoder, OpusEncoder, has_lbrr
from tests.media_helpers import PARAMS, clip, speech_packets


def test_defaults_are_48k_mono_20ms():
    assert PARAMS.frame_samples == 960
    assert PARAMS.frame_bytes == 1920
    assert 24000 <= PARAMS.bitrate <= 32000


@pytest.mark.parametrize(("frame_ms", "samples"), [(10, 480), (20, 960), (40, 1920)])
def test_frame_sizes(frame_ms, samples):
    params = CodecParams(frame_ms=frame_ms)
    assert params.frame_samples == samples
    encoder, decoder = OpusEncoder(params), OpusDecoder(params)
    pcm = clip()[48000 : 48000 + samples].tobytes()
    assert len(decoder.decode(encoder.encode(pcm))) == 2 * samples


@pytest.mark.parametrize(
    "bad",
    [
        {"frame_ms": 30},
        {"sample_rate": 16000},
        {"bitrate": 1000},
        {"bitrate": 999999},
        {"complexity": 11},
    ],
)
def test_bad_params_raise_typed_error(bad):
    with pytest.raises(CodecError):
        CodecParams(**bad)


@pytest.mark.parametrize(("fec", "dtx"), [(True, False), (False, True), (True, True)])
def test_fec_and_dtx_settings_take_effect(fec, dtx):
    encoder = OpusEncoder(CodecParams(fec=fec, dtx=dtx, bitrate=28000, complexity=7))
    assert encoder.get("get_inband_fec") == int(fec)
    assert encoder.get("get_dtx") == int(dtx)
    assert encoder.get("get_bitrate") == 28000
    assert encoder.get("get_complexity") == 7


def test_loss_hint_is_set_clamped_and_read_back():
    encoder = OpusEncoder(PARAMS)
    encoder.set_loss_hint(12)
    assert encoder.get("get_packet_loss_perc") == 12
    encoder.set_loss_hint(90)
    assert encoder.get("get_packet_loss_perc") == encoder.loss_hint_percent == 30


def test_lbrr_only_with_a_loss_hint():
    plain = speech_packets(0)
    protected = speech_packets(10)
    assert not any(has_lbrr(p) for p in plain)
    assert sum(has_lbrr(p) for p in protected) > 0.5 * len(protected)  # not in silence


def test_has_lbrr_rejects_short_and_celt_packets():
    assert not has_lbrr(b"")
    assert not has_lbrr(b"\xf8")
    assert not has_lbrr(bytes([16 << 3, 0xFF, 0xFF]))  # CELT-only config: never LBRR


def test_fec_decode_differs_from_plc_when_lbrr_present():
    packets = speech_packets(10)
    n = next(i for i in range(60, 190) if has_lbrr(packets[i + 1]))
    fec_dec, plc_dec, ref_dec = OpusDecoder(PARAMS), OpusDecoder(PARAMS), OpusDecoder(PARAMS)
    for p in packets[:n]:
        fec_dec.decode(p)
        plc_dec.decode(p)
        ref_dec.decode(p)
    reference = ref_dec.decode(packets[n])
    fec = fec_dec.decode_fec(packets[n + 1])
    plc = plc_dec.conceal()
    assert len(fec) == len(plc) == PARAMS.frame_bytes
    assert fec != plc
    import numpy as np

    ref = np.frombuffer(reference, "<i2").astype(float)
    err_fec = np.mean((np.frombuffer(fec, "<i2") - ref) ** 2)
    err_plc = np.mean((np.frombuffer(plc, "<i2") - ref) ** 2)
    assert err_fec < err_plc


def test_wrong_pcm_length_and_garbage_packet_raise_codec_error():
    with pytest.raises(CodecError):
        OpusEncoder(PARAMS).encode(b"\x00" * 100)
    with pytest.raises(CodecError):
        OpusDecoder(PARAMS).decode(b"\xff\xff\xff\xff")
