"""`make demo` and its rigs, apart from the product: two phone processes on this machine
(alice calls bob) and their scoring; the offline simulator with its network model; WAV
input/output for scoring; the private PulseAudio rig the real-audio tests and demo use.
"""
