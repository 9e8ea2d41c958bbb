# vodkit: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

PLAYER := tests/e2e/player

.PHONY: demo cluster-demo test lint bench install dev web wheel screenshots browser promtool wrk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python web
	$(PIP) -e '.[api]'

dev: $(BIN)/python web
	$(PIP) -e '.[dev]'

# The web page (web/, npm; pinned by its package-lock.json) built into the package, where
# `vodkit serve` serves it at /. Without npm the API still works and / says how to build it.
WEB := web
STATIC := src/vodkit/entrypoints/http/static
WEB_SOURCES := $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(wildcard $(WEB)/src/*.* $(WEB)/src/*/*.*)

$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

$(STATIC)/index.html: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	cd $(WEB) && npm run --silent build -- --logLevel warn

web:  ## the web page's static bundle (npm ci, then Vite)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(STATIC)/index.html; \
	else echo "no npm: the web page is not built (the API works; / says how to build it)"; fi

# The sdist, and the wheel built from it, carry the web page: dev builds it first (and
# tests/e2e/test_install.py builds a wheel the same way, then installs it extra by extra).
wheel: dev  ## dist/: the sdist and the wheel, with the web page
	$(BIN)/python -m build --outdir dist .

screenshots: dev browser  ## refresh web/screenshots/ from the web page's browser tests
	SE_OFFLINE=true VODKIT_SCREENSHOTS=web/screenshots $(BIN)/python -m pytest tests/e2e/test_web.py -q

demo: install  ## make a sample clip and run it through the embedded pipeline
	$(BIN)/vodkit demo

cluster-demo: dev  ## one upload through a cluster on this machine (moto S3, local PostgreSQL and RabbitMQ)
	$(BIN)/python bench/cluster_demo.py

# Real players (hls.js, dash.js from npm) in headless Chromium (Debian's package) prove
# that outputs play. Installing Chromium needs root; without it the playback tests skip
# (and fail under CI=true).
$(PLAYER)/node_modules: $(PLAYER)/package.json $(PLAYER)/package-lock.json
	cd $(PLAYER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# $(call apt_need,COMMANDS,DEBIAN PACKAGES,WHAT GOES WITHOUT THEM): Debian's packages, when
# root and one of the commands is missing.
define apt_need
@missing=; for c in $(1); do command -v $$c >/dev/null || missing=1; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
    apt-get install -y -q $(2) >/dev/null 2>&1 || \
    { apt-get update -q >/dev/null && apt-get install -y -q $(2) >/dev/null; }; \
  else echo "no $(1), and not root: $(3)"; fi; \
fi
endef

browser: $(PLAYER)/node_modules
	$(call apt_need,chromium chromedriver,chromium chromium-driver,the playback tests will skip)

# promtool (Debian's prometheus package) checks and unit-tests deploy/prometheus/alerts.yml.
promtool:
	$(call apt_need,promtool,prometheus,the alert-rule tests will skip)

# wrk loads the API in bench/api.py (without it: a Python load generator, which takes CPU
# from the server it measures).
wrk:
	$(call apt_need,wrk,wrk,bench/api.py loads the server from Python)

test: dev browser promtool  ## the whole test suite (unit, contract, integration, e2e, playback)
	SE_OFFLINE=true $(BIN)/python -m pytest

# checkov pins old versions of shared libraries, so it lives in a venv of its own.
TOOLS := .tools
$(TOOLS)/bin/checkov:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov>=3.2'

lint: dev $(TOOLS)/bin/checkov  ## ruff, mypy, cfn-lint and checkov (zero findings)
	$(BIN)/ruff check src tests bench infra
	$(BIN)/ruff format --check src tests bench infra
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/aws/template.yaml
	$(TOOLS)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	  -f infra/aws/template.yaml

bench: dev wrk  ## speed and memory, as ratios against baselines run alongside
	$(BIN)/python bench/transcode.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/cluster.py
	$(BIN)/python bench/chunked.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/codec_factors.py

clean:
	rm -rf $(VENV) $(TOOLS) vodkit-data dist
