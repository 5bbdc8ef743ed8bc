PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-province bench-load demo clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m monitor init
	$(PY) -m streamlit run app.py

demo: $(STAMP)
	$(PY) -m monitor demo

# One test process per core; a module's tests stay together, so its server or demo is built once.
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadscope

lint: $(STAMP)
	$(VENV)/bin/ruff check monitor tests bench app.py app_pages ui
	$(VENV)/bin/mypy monitor

bench: $(STAMP)
	$(PY) bench/bench.py

bench-province: $(STAMP)
	$(PY) bench/province.py

# Many people at once on a running server: the district (SQLite, one process), then the province
# (PostgreSQL at MONITOR_TEST_DATABASE_URL, two processes).
bench-load: $(STAMP)
	$(PY) bench/load.py --scenario district
	$(PY) bench/load.py --scenario province

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
