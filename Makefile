# lawful: `make demo` sets everything up and runs the main job; `make test` runs the default test suite.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: demo test test-slow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lawful demo

test: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q -rA

bench: $(STAMP)
	$(PY) benchmarks/lattice_hmc.py
	$(PY) benchmarks/burn_integrator.py
	$(PY) benchmarks/eos.py
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/hydro.py

clean:
	rm -rf $(VENV) runs benchmarks/_build
