"""Calls between two phones: the wire format, per-call signalling and the endpoint, all
pure (`now` in; datagrams, events and deadlines out). The runtime joins them to a UDP
socket and a sound device (`pysnac.runtime.call_service`). See docs/architecture.md.
"""
