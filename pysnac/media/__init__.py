"""The media pipeline: Opus codec, media frames, adaptive jitter buffer, loss recovery.

Everything here is pure: bytes and `now` (float seconds) in, bytes and stats out; no
sockets, threads or clocks. `MediaSession` (session.py) is the one object a call uses;
`demo/simulate.py` runs two of them over a seeded network model (`demo/netsim.py`) on a simulated
clock and scores the result with PESQ-WB. See docs/media.md for the design and numbers.
"""
