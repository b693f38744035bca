"""Attackers built from the product's own code, for the adversarial tests, `make attack`,
`make fuzz` and the security bench. Nothing here runs on a phone."""
