"""PySNAC core: the pure layers (Noise, secure channel, media, call signalling, state table).

Nothing in this package opens a socket, starts a thread or reads the clock, except the
`runtime` and `cli` modules at the edge, which wire the pure cores to the drivers.
"""
