# The targets here are exactly what CI runs (.ci/run calls `make test`).
VENV ?= .venv
PY := $(VENV)/bin/python
CB := $(VENV)/bin/chainbreaker
WS ?= cb-workspace
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: demo setup system-deps web-assets test lint typecheck contracts bench clean
WEB_ASSETS := src/chainbreaker/faces/web/assets

## First command of the README: install everything, then run the demo on a generated province.
demo: setup
	$(CB) --workspace $(WS) demo --out $(WS)/report
	@echo "网页界面 / web UI: 先建用户 (create a user):  $(CB) --workspace $(WS) users add admin --role admin --password-stdin"
	@echo "  再启动 (then serve):  $(CB) --workspace $(WS) serve   → 浏览器打开 http://127.0.0.1:8000/ （群众举报 /public）"

## Second command of the README: the whole test suite (lint, types, tests).
test: setup lint typecheck contracts
	$(PY) -m pytest -n 2 --dist loadfile -q

setup: system-deps $(VENV)/.installed web-assets domain-model

# The domain-name model is trained here from ../shared/data/domains (~20 s), never committed: the
# lists are third-party data. Without them `tech domains classify` says how to train one.
DOMAIN_MODEL := src/chainbreaker/chains/tech/models/domain_model.joblib
domain-model: $(DOMAIN_MODEL)

$(DOMAIN_MODEL): $(VENV)/.installed
	@if [ -d ../shared/data/domains ]; then \
	  $(PY) -m chainbreaker.faces.cli.main tech domains train --data ../shared/data/domains >/dev/null && echo "domain model trained: $@"; \
	else \
	  echo "../shared/data/domains missing: no domain model (chainbreaker tech domains train --data DIR)"; \
	fi

# The web UI's libraries (htmx, ECharts, Cytoscape.js) from npm, pinned by package-lock.json and copied
# into faces/web/static/vendor (gitignored). Without npm the UI still runs and says charts are off.
web-assets: $(WEB_ASSETS)/node_modules/.installed

$(WEB_ASSETS)/node_modules/.installed: $(WEB_ASSETS)/package-lock.json $(WEB_ASSETS)/copy-assets.mjs
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(WEB_ASSETS) && npm ci --no-audit --no-fund --loglevel=error && node copy-assets.mjs && touch node_modules/.installed; \
	else \
	  echo "npm missing: the web UI runs without its charts (apt-get install npm, then make setup)"; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,spark,mariadb,postgres,ftm]"
	touch $@

# Debian's chromium (headless browser for the tech chain and report screenshots), CJK fonts, and ICU
# headers for pyicu (the FollowTheMoney export).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk" \
	    || ! pkg-config --exists icu-uc 2>/dev/null; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk libicu-dev pkg-config g++ >/dev/null; \
	  else \
	    echo "chromium / fonts-noto-cjk missing: run as root or install them (apt-get install chromium fonts-noto-cjk)"; \
	  fi; \
	fi

lint: setup
	$(VENV)/bin/ruff check src tests bench

typecheck: setup
	$(VENV)/bin/mypy

# The layers of docs/architecture.md as import-linter contracts (pyproject.toml [tool.importlinter]).
contracts: setup
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(WS) .pytest_cache .mypy_cache .ruff_cache
