"""Calls between two phones: the wire format, per-call signalling, the endpoint (all pure),
and the runtime that joins them to a UDP socket and a sound device (`service`,
`media_workers`). See docs/architecture.md, "Wire format" and "Threads and who owns what".
"""
