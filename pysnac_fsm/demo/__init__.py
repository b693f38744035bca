"""`make demo`: two phone processes on this machine, alice calls bob; and its scoring."""
