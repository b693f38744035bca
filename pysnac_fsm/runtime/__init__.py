"""The runtime edge: the one state-machine thread (`loop`) and the timer thread (`timers`)."""
