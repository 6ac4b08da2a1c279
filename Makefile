# lawful: `make demo` sets everything up and runs the main job; `make test` runs the default test suite.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: demo test test-slow bench surrogates clean

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
	$(PY) benchmarks/lattice_command.py
	$(PY) benchmarks/burn_integrator.py
	$(PY) benchmarks/eos.py
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/hydro.py
	$(PY) benchmarks/threads.py
	$(PY) benchmarks/burn_surrogate.py --network c12
	$(PY) benchmarks/burn_surrogate.py --network aprox13
	$(PY) benchmarks/burn_surrogate_sweep.py

# Rebuild the burn surrogates that ship in src/lawful/burn/surrogate/models from the generate.toml and train.toml
# beside each model (about 40 minutes on 2 cores; docs/burn.md gives each part's time).
MODELS = src/lawful/burn/surrogate/models
surrogates: $(STAMP)
	for net in aprox13 c12; do \
	  $(VENV)/bin/lawful burn surrogate generate --config $(MODELS)/$$net/generate.toml --scheduler local \
	    --workers 2 --out runs/surrogate/data_$$net && \
	  $(VENV)/bin/lawful burn surrogate train --config $(MODELS)/$$net/train.toml --data runs/surrogate/data_$$net \
	    --out runs/surrogate/model_$$net && \
	  cp runs/surrogate/model_$$net/model.pt $(MODELS)/$$net/ || exit 1; \
	done

clean:
	rm -rf $(VENV) runs benchmarks/_build
