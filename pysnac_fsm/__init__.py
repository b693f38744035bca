"""The phone's state machine: the table (`table`), the model its callbacks live on
(`phone`), the `transitions` machine built from the table (`machine`), the events it
exchanges with the call service (`call_events`) and the snapshot a screen draws from
(`screen_context`). Pure: no sockets, threads or clocks; the runtime drives it.
"""
