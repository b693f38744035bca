"""One module per state of the phone: what its LCD screen shows and what each button does."""
