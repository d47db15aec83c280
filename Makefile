# The two commands: `make run` starts the whole system on this machine, `make test` tests it.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench bench-read-model bench-faults histories clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reentry up

# The import contracts first: an upward import fails in seconds, before the suite starts.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python bench/throughput.py --cases 300

bench-read-model: $(STAMP)
	$(VENV)/bin/python bench/read_model.py

bench-faults: $(STAMP)
	$(VENV)/bin/python bench/faults.py --cases 500

# Record anew, from the current code, the histories that the replay test replays (before
# the first release: docs/versioning.md). Releases' histories in tests/histories/*/ stay.
histories: $(STAMP)
	rm -f tests/histories/*.json
	REENTRY_RECORD_HISTORIES=1 $(VENV)/bin/pytest tests/workflows -q --ignore=tests/workflows/test_replay.py

clean:
	rm -rf $(VENV) .data
