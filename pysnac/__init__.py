"""PySNAC, the product: the pure cores (Noise, the secure channel, media, call signalling),
the data they share (contacts, call history, config, limits, the screen vocabulary), and
the runtime that wires them to the drivers (`runtime/`, the only place with threads).

The state machine and its table are `pysnac_fsm`; the screens are `states`; the I/O edges
are `drivers`. Nothing pure imports the runtime or a driver.
"""
