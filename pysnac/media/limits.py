"""Every limit of the media pipeline, in one place, with its unit in its name.

Values chosen from measurements in docs/media.md; the comments say why.
"""

from __future__ import annotations

SAMPLE_RATE_HZ = 48000
CHANNELS = 1
SAMPLE_BYTES = 2  # int16 little-endian mono PCM everywhere
FRAME_MS_CHOICES = (10, 20, 40)
BITRATE_MIN_BPS = 6000
BITRATE_MAX_BPS = 128000
OPUS_MAX_PACKET_BYTES = 1275  # RFC 6716 section 3.4 (R2)
OPUS_LOOKAHEAD_SAMPLES = 312  # libopus 1.3 VOIP at 48 kHz (2.5 ms + 4 ms delay compensation)

# Media frame wire format (frames.py).
FRAME_VERSION = 1
MAX_REDUNDANT_FRAMES = 3  # RFC 2198 style: at most three earlier encoded frames per packet
LOSS_REPORT_SCALE = 255  # loss fraction is carried as round(fraction * 255) in one byte
BURST_REPORT_SCALE = 16  # mean burst length is carried in 1/16 frames in one byte
MAX_REDUNDANT_BACK_FRAMES = 6  # the deepest copy carried: n-6 (bursty loss)

# Receiver loss measurement (session.py): a sliding window over sequence numbers.
LOSS_WINDOW_PACKETS = 64  # ~1.3 s at 20 ms: fast enough to switch redundancy on in time
BURST_GUARD_PACKETS = 10  # the burst measure skips the newest 200 ms: reordered, not lost

# Redundancy policy (redundancy.py), driven by the loss the far end reports.
REDUNDANCY_ONE_AT_LOSS = 0.005  # any measured loss: add the previous frame
REDUNDANCY_TWO_AT_LOSS = 0.04  # offline: 1 frame 3.94, 2 frames 4.38 MOS at 10 % loss
BURSTY_MEAN_FRAMES = 2.4  # mean burst for copies of n-1, n-3, n-6 (random 10 %: 1.1, noisy)
REDUNDANCY_HOLD_S = 10.0  # keep a level this long after loss falls, so it does not flap
START_PROTECT_S = 2.0  # protected start: the far end's 64-packet window (1.3 s) + a round trip
START_REDUNDANT_FRAMES = 2  # copies carried from the first packet until then
# Copies come from a second encoder at a lower rate, and the primary steps down while they
# are carried (offline, whole 8 s calls at 10 % loss, 4 seeds: 32k+16k copies 4.12 at
# 80 kbit/s on the wire; 24k+16k 4.09 at 72; 32k+12k 4.05 at 71; 24k+12k 4.00 at 62.5).
COPY_BITRATE_BPS = 12000  # each redundant copy
PROTECTED_BITRATE_BPS = 24000  # the primary while copies are carried: <= 64 kbit/s on the wire
FEC_HINT_MAX_PERCENT = 30  # the encoder's packet-loss hint is clamped to this

# Jitter buffer (jitter.py).
DELAY_WINDOW_PACKETS = 500  # ~10 s of availability history for the min and the quantile
DELAY_QUANTILE = 0.995  # of when frames became playable (40 +- 20 ms: 0.985 4.02, 0.993 4.16)
QUANTILE_EVERY_PACKETS = 8  # recompute the quantile every N arrivals (sorting 500 floats)
START_TARGET_S = 0.0  # the measured jitter starts at 0; the seed and the floor cover it
TARGET_MARGIN_S = 0.001  # slack above the quantile, so slow drift is caught in pauses
MIN_TARGET_S = 0.045  # floor: a 40 ms stall of either phone's process conceals nothing
SEED_JITTER_PER_RTT = 1.0  # the handshake round trip -> the jitter expected at the start
SEED_JITTER_MAX_S = 0.150  # a slow handshake (a retransmission) must not seed a huge delay
SEED_HOLD_PACKETS = 250  # the seed is a floor for the first 5 s, until the window speaks
# Steering inside speech costs PESQ ~0.1-0.2 per pitch period stretched (a 20 ms PLC
# frame: 0.5-0.9), so speech is stretched only when far off target; pauses do the rest.
SPEECH_EXPAND_BELOW_S = 0.005  # lengthen speech when the delay is this far below target
# Shorten speech only this far above target: a deep start (a slow handshake seeds a deep
# buffer) then waits for a pause (offline, 6 calls at 40 +- 20 ms, whole call both ways:
# 40 ms 4.13 / 4.23, 80 ms 4.20 / 4.27, mouth-to-ear p50 the same).
SPEECH_ACCELERATE_ABOVE_S = 0.080
DROP_HYSTERESIS_FRAMES = 0.1  # drop a whole quiet frame above target + 1.1 frames
MAX_BUFFER_S = 1.0  # a packet further ahead than this resets the buffer (clock jump)
MAX_CONCEAL_FRAMES = 5  # after 100 ms of PLC a longer gap is skipped, not concealed
PLC_FADE_FRAMES = 10  # after this many concealed frames in a row play silence instead
QUIET_DBFS = -40.0  # a frame below this RMS level may be dropped or stretched
QUIET_RUN_FRAMES = 10  # ... only after 200 ms of quiet: a pause between phrases, not a dip
# Link score (link_score.py, session.py).
LINK_WINDOW_FRAMES = 150  # concealed/recovered fractions averaged over ~3 s of playout
LINK_OUTAGE_S = 0.8  # no packet for this long: the bars drop to zero (shown within 1 s)
SEQ_MODULO = 1 << 16
TIMESTAMP_MODULO = 1 << 32
