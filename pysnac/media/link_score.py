"""What the listener hears, as one number: a simplified ITU-T G.107 E-model rating.

The LCD's bars and the call log show this for both directions. Each phone scores what it
receives (as an RTCP receiver report would describe it) and reports its score to the other
in every media frame, so each side knows both directions.

    R = 93.2 - Id - Ie_eff                                  (G.107 section 3, defaults)
    Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)            (the usual simplification of Id)
    Ie_eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)      (G.107 section 3.6)

d is the one-way mouth-to-ear delay in ms. Ppl is the loss *after the recovery actually
used*: frames the listener got as concealment count fully, frames rebuilt from a redundant
copy or in-band FEC count RECOVERED_LOSS_WEIGHT (the copy is coded at a lower rate), so
15 % loss that redundancy repairs reads "good", not "bad". BurstR is G.107's burst ratio,
b (1 - P) for a mean loss burst of b packets at loss P (1 for random loss). Ie = 0: the
codec alone is transparent at our rate. Bpl = 25, G.113's figure for a codec with good PLC.
No packets for LINK_OUTAGE_S is an outage: R = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

R_DEFAULT = 93.2  # G.107 Ro - Is with every default parameter
IE_CODEC = 0.0  # equipment impairment of the codec itself (Opus wideband at 24-32 kbit/s)
BPL = 25.0  # packet-loss robustness (G.113 Appendix I: a codec with PLC)
ID_KNEE_MS = 177.3  # mouth-to-ear delay beyond which interactivity suffers fast
RECOVERED_LOSS_WEIGHT = 0.1  # a frame rebuilt from a lower-rate copy counts this much lost
BAR_R = (50.0, 60.0, 70.0, 80.0)  # G.107 Annex B user satisfaction: each step one bar
BARS_MAX = len(BAR_R)
REPORT_LEVELS = 15  # the score travels in 4 bits: 0 = none yet, 1..15 = R 0..100


@dataclass(frozen=True)
class LinkScore:
    r: float  # 0..100
    mos: float  # 1..4.5 (G.107 Annex B)
    bars: int  # 0..BARS_MAX
    outage: bool = False


def delay_impairment(mouth_to_ear_ms: float) -> float:
    d = max(0.0, mouth_to_ear_ms)
    return 0.024 * d + (0.11 * (d - ID_KNEE_MS) if d > ID_KNEE_MS else 0.0)


def r_factor(
    concealed_fraction: float,
    recovered_fraction: float,
    mean_burst_frames: float,
    loss_fraction: float,
    mouth_to_ear_ms: float,
) -> float:
    """The E-model rating for what a listener got: see the module docstring."""
    ppl = 100.0 * (
        max(0.0, concealed_fraction) + RECOVERED_LOSS_WEIGHT * max(0.0, recovered_fraction)
    )
    burst_r = max(1.0, mean_burst_frames * (1.0 - min(0.99, max(0.0, loss_fraction))))
    ie_eff = IE_CODEC + (95.0 - IE_CODEC) * ppl / (ppl / burst_r + BPL)
    return max(0.0, min(100.0, R_DEFAULT - delay_impairment(mouth_to_ear_ms) - ie_eff))


def mos_from_r(r: float) -> float:
    """G.107 Annex B (B-4): the estimated listening MOS for a rating R."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6


def bars_from_r(r: float) -> int:
    return sum(1 for step in BAR_R if r >= step)


def score(r: float, *, outage: bool = False) -> LinkScore:
    if outage:
        return LinkScore(0.0, 1.0, 0, outage=True)
    return LinkScore(r, mos_from_r(r), bars_from_r(r))


def encode_report(r: float | None) -> int:
    """A rating as the 4-bit report carried in media frames (0: nothing measured yet)."""
    if r is None:
        return 0
    return 1 + round(max(0.0, min(100.0, r)) / 100.0 * (REPORT_LEVELS - 1))


def decode_report(report: int) -> float | None:
    if report <= 0:
        return None
    return (min(report, REPORT_LEVELS) - 1) / (REPORT_LEVELS - 1) * 100.0
