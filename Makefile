# The two commands: `make run` starts the whole system on this machine, `make test` tests it.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test install browser lint bench bench-budget bench-read-model bench-faults bench-pages bench-replay bench-cold chaos screenshots histories clean

$(STAMP): pyproject.toml web/assets/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	# The web front's styles: NL Design System's components and the Utrecht design tokens.
	npm ci --prefix web/assets --no-audit --no-fund --loglevel=error
	mkdir -p web/static/vendor
	cp web/assets/node_modules/@utrecht/component-library-css/dist/index.css web/static/vendor/utrecht-components.css
	cp web/assets/node_modules/@utrecht/design-tokens/dist/theme.css web/static/vendor/utrecht-theme.css
	touch $(STAMP)

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reentry up

# The import contracts first: an upward import fails in seconds, before the suite starts.
test: $(STAMP) browser
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python bench/throughput.py --cases 300

bench-budget: $(STAMP)
	$(VENV)/bin/python bench/budget.py

bench-read-model: $(STAMP)
	$(VENV)/bin/python bench/read_model.py

bench-faults: $(STAMP)
	$(VENV)/bin/python bench/faults.py --cases 500

bench-pages: $(STAMP)
	$(VENV)/bin/python bench/pages.py

bench-replay: $(STAMP)
	$(VENV)/bin/python bench/replay.py

bench-cold: $(STAMP)
	$(VENV)/bin/python bench/cold_case.py

chaos: $(STAMP)
	$(VENV)/bin/python bench/chaos.py
	$(VENV)/bin/python bench/chaos.py --database postgresql://postgres@127.0.0.1:5432/test

# A screenshot of every page the browser tests open, for docs/web.md and the README.
screenshots: $(STAMP) browser
	REENTRY_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest tests/web/test_browser.py -q

# Record anew, from the current code, the histories that the replay test replays (before
# the first release: docs/versioning.md). Releases' histories in tests/histories/*/ stay.
histories: $(STAMP)
	rm -f tests/histories/*.json
	REENTRY_RECORD_HISTORIES=1 $(VENV)/bin/pytest tests/workflows -q --ignore=tests/workflows/test_replay.py

clean:
	rm -rf $(VENV) .data web/assets/node_modules web/static/vendor
