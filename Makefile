# omnirecon: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo dev test lock clean docs bench

install: $(INSTALLED)

# Re-installs only when the pinned dependencies or the package metadata change.
$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

demo: install
	$(BIN)/omnirecon demo

dev: install
	$(BIN)/omnirecon dev

test: install
	$(BIN)/python -m pytest -n auto --dist loadfile

# Per-stage benchmark of the whole pipeline (docs/benchmark.md): one run per size in BENCH_SIZES (orders a day across channels),
# each over BENCH_DAYS days (3+: PSPs settle a day or two later), a JSON report each in .omnirecon/bench/.
BENCH_SIZES ?= 500 2000
BENCH_DAYS ?= 3
BENCH_SEED ?= 1
# Then the incremental figure: the newest day's pull, close and 15-minute ATS cycle on top of each history in
# BENCH_HISTORY (days), at BENCH_HISTORY_ORDERS a day (BENCH_HISTORY= skips it).
BENCH_HISTORY ?= 1 30
BENCH_HISTORY_ORDERS ?= 200
# After the last of BENCH_SIZES: settlement matching at each of BENCH_MATCHING_AT orders a day (its marts repeated to that
# size), dbt's matching models against the one-statement baseline (BENCH_MATCHING_AT= skips it).
BENCH_MATCHING_AT ?= 100000 300000 1000000
bench: install
	@set -e; for n in $(BENCH_SIZES); do \
	  at=; if [ $$n = "$(lastword $(BENCH_SIZES))" ] && [ -n "$(strip $(BENCH_MATCHING_AT))" ]; then \
	    at="--matching-at $(BENCH_MATCHING_AT)"; fi; \
	  $(BIN)/omnirecon bench --orders-per-day $$n --days $(BENCH_DAYS) --seed $(BENCH_SEED) $$at \
	    --json .omnirecon/bench/bench-$$n-x$(BENCH_DAYS).json; \
	done
	@if [ -n "$(strip $(BENCH_HISTORY))" ]; then \
	  $(BIN)/omnirecon bench --orders-per-day $(BENCH_HISTORY_ORDERS) --seed $(BENCH_SEED) \
	    --history-days $(BENCH_HISTORY) --json .omnirecon/bench/bench-incremental-$(BENCH_HISTORY_ORDERS).json; \
	fi

# dbt docs and Great Expectations Data Docs of the local warehouse, into .omnirecon/docs/{dbt,great_expectations}.
# Needs the warehouse `make demo` builds: without it, it says so and stops.
docs: install
	@$(BIN)/python -m orchestration.data_quality.docs || { echo "make docs failed: without a local warehouse, run 'make demo' first"; exit 1; }

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip && .lock-venv/bin/python -m pip install --quiet .
	{ echo "# Exact versions for every install (make install uses pip install -c constraints.txt)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .lock-venv/bin/python -m pip freeze --exclude omnirecon; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf .omnirecon dbt_project/target dbt_project/logs
