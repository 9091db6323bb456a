# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MANIFEST := dbt_project/target/manifest.json
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
UI_PORT ?= 3000

.PHONY: setup run test test-ui ui bench bench-reports lint clean

setup: $(STAMP) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml cohaesie_pipeline/policy.yaml
	$(BIN)/python -m cohaesie_pipeline.dbt_env

$(DAGSTER_HOME)/dagster.yaml: ops/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp ops/dagster.yaml $@

run: setup
	@if [ ! -d "$${COHAESIE_DATA_DIR:-data}/inbox" ]; then $(BIN)/cohaesie demo-data; fi
	$(BIN)/cohaesie run

test: setup
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=12

# the real-browser smoke test; `make test` runs it too where Chromium is already present
test-ui: setup
	sh ops/install-chromium.sh
	$(BIN)/pytest -q tests/test_ui_browser.py

ui: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

# ratios against the floors in one run (docs/performance.md): make bench [BENCH_PRACTICES=1000]
BENCH_PRACTICES ?= 200
bench: setup
	$(BIN)/python bench/run_benchmarks.py --practices $(BENCH_PRACTICES)

# practice-report rendering on the data root `make run` built (all 8 quarters)
bench-reports: setup
	$(BIN)/python bench/render_reports.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache
