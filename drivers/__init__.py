"""Hardware and network edges, each a `typing.Protocol` with real and simulated twins.

A real driver imports its hardware library only when it is chosen, so the project runs
and is tested on a machine without a Raspberry Pi, sound card or internet.
"""
