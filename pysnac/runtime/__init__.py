"""The runtime: every thread and lock of a running phone. The state-machine thread
(`loop`), the timer thread (`timers`), the call service with its socket and timer threads
(`call_service`), per-call media workers (`media_workers`), the directory's watcher
(`directory`, `directory_calls`) and the appliance that wires them to drivers (`app`).
"""
