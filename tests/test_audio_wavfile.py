"""WAV input/output and rate changes without scipy (drivers/audio/wavfile.py), checked
against scipy (a test-only dependency) as an independent reference: the resampler gives
scipy.signal.resample_poly's samples, and files scipy writes read back the same."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.audio.wavfile import WavFormatError, read_wav, resample_poly, write_wav_int16


@pytest.mark.parametrize(
    ("up", "down", "n"),
    [(3, 1, 16000), (160, 147, 4410), (1, 3, 4800), (6, 1, 800), (2, 3, 1001), (3, 2, 7)],
)
def test_resampling_matches_scipy(up: int, down: int, n: int) -> None:
    from scipy.signal import resample_poly as reference

    x = np.random.default_rng(up * 1000 + down).standard_normal(n)
    ours = resample_poly(x, up, down)
    theirs = reference(x, up, down)
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) < 1e-9


def test_resampling_keeps_a_tone() -> None:
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 440 * t)
    out = resample_poly(tone, 48000, 16000)
    assert len(out) == 48000
    expected = np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)
    assert np.max(np.abs(out[1000:-1000] - expected[1000:-1000])) < 1e-3
    assert np.array_equal(resample_poly(tone, 2, 2), tone)


@pytest.mark.parametrize("dtype", ["u1", "<i2", "<i4", "<f4", "<f8"])
def test_reads_what_scipy_writes(tmp_path: Path, dtype: str) -> None:
    from scipy.io import wavfile

    rng = np.random.default_rng(7)
    info = np.dtype(dtype)
    if info.kind == "f":
        data = rng.uniform(-1, 1, (500, 2)).astype(dtype)
        expected = data.astype(np.float64)
    elif info == np.uint8:
        data = rng.integers(0, 256, (500, 2)).astype(dtype)
        expected = (data.astype(np.float64) - 128) / 128
    else:
        data = rng.integers(np.iinfo(info).min, np.iinfo(info).max, (500, 2)).astype(dtype)
        expected = data.astype(np.float64) / -float(np.iinfo(info).min)
    wavfile.write(tmp_path / "x.wav", 22050, data)
    rate, samples = read_wav(tmp_path / "x.wav")
    assert rate == 22050
    assert np.array_equal(samples, expected)


def test_reads_24_bit_and_writes_16_bit(tmp_path: Path) -> None:
    values = np.array([0, 1, -1, (1 << 23) - 1, -(1 << 23)], dtype=np.int64)
    raw = b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in values)
    with wave.open(str(tmp_path / "x24.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(8000)
        out.writeframes(raw)
    rate, samples = read_wav(tmp_path / "x24.wav")
    assert rate == 8000
    assert np.array_equal(samples, values / float(1 << 23))
    write_wav_int16(tmp_path / "y.wav", np.array([0, 1000, -32768]), 48000)
    with wave.open(str(tmp_path / "y.wav"), "rb") as back:
        assert (back.getframerate(), back.getsampwidth(), back.getnchannels()) == (48000, 2, 1)
        assert np.array_equal(np.frombuffer(back.readframes(3), "<i2"), [0, 1000, -32768])


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"WAVE" + b"".join(
        cid + struct.pack("<I", len(c)) + c + b"\x00" * (len(c) % 2) for cid, c in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt(tag: int, channels: int, rate: int, bits: int, extra: bytes = b"") -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits) + extra


def test_extensible_format_and_chunks_in_any_order(tmp_path: Path) -> None:
    sub = struct.pack("<HHI", 22, 16, 0x4) + struct.pack("<H", 1) + bytes(14)  # PCM GUID
    path = tmp_path / "ext.wav"
    path.write_bytes(
        riff((b"LIST", b"odd"), (b"fmt ", fmt(0xFFFE, 1, 16000, 16, sub)), (b"data", b"\x00\x40"))
    )
    rate, samples = read_wav(path)
    assert rate == 16000 and samples.tolist() == [0.5]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"RIFF1234WAVEnope", "no fmt chunk"),
        (b"not a wav at all", "not a RIFF/WAVE file"),
        (riff((b"fmt ", fmt(1, 1, 8000, 16))), "no data chunk"),
        (riff((b"fmt ", fmt(6, 1, 8000, 8)), (b"data", b"\x00")), "unsupported sample format"),
        (riff((b"fmt ", fmt(1, 0, 8000, 16)), (b"data", b"")), "inconsistent fmt chunk"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(WavFormatError, match=message):
        read_wav(path)
