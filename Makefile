PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench demo clean

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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
