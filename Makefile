# PySNAC: every target installs what it needs first (scripts/setup.sh is idempotent).
PY := .venv/bin/python

.PHONY: setup test test-all test-nat demo diagram bench attack fuzz lint clean pi-check

setup:
	@bash scripts/setup.sh

test: setup
	@bash scripts/run-tests.sh

# Every pair of home-router kinds, a real call each, and the longer NAT scenarios (root;
# several minutes).
test-nat: setup
	$(PY) -m pytest tests/test_netns_rig.py tests/test_nat_calls.py tests/test_nat_phones.py -m "netns or nat_matrix"

demo: setup
	$(PY) main.py demo

diagram: setup
	$(PY) main.py diagram

bench: setup
	$(PY) bench/run_all.py

attack: setup
	$(PY) -m demo.attacks.sas_grinder --tries 10000000

fuzz: setup
	$(PY) -m demo.attacks.fuzz --datagrams 1000000

# The Pi install in a Debian Bookworm arm64 root under qemu: slow (minutes), needs root.
pi-check:
	bash scripts/pi-check.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

clean:
	rm -rf .venv results out .pytest_cache .ruff_cache .hypothesis
