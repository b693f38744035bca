"""The phone's state machine: the table (`table`), the model its callbacks live on
(`phone`, split by concern into `dial`, `menus`, `text_entry`, `pairing`, `calls` and
`call_endings`), the `transitions` machine built from the table (`machine`), the nested
drawing of the same table (`diagram`) and the snapshot a screen draws from
(`screen_context`, `snapshot`). The events it exchanges with the call service are
`pysnac.call_events`. Pure: no sockets, threads or clocks; the runtime drives it.
"""
