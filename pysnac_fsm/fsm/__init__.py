"""The phone's state machine: the table (`table`), the model its callbacks live on
(`phone`), and the `transitions` machine built from the table (`machine`)."""
