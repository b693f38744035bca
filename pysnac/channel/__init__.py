"""The secure channel: device identity, the call handshake, and voice-packet transport.

Built on `pysnac.noise`; pure (no sockets, threads or clocks). `identity` holds the
device's Ed25519 key and its file; `call_handshake` runs Noise IK or XX with the call
set-up payload; `transport` seals and opens packets with explicit counters and the
`replay` window; `sas` gives the 4-character check string; `limits` names every limit;
`errors` is the typed error family the state machine turns into LCD reasons.
"""
