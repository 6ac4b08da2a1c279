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

# Rebuild the burn surrogates that ship in src/lawful/burn/surrogate/models (about 30 minutes on 2 cores).
# network:energy weight:error limit:predictor substeps. c12 trains with energy weight 3 (held-out energy p99 7e-3
# against 1.2-1.5e-2 with 0.1); aprox13's net corrects two RODAS3 substeps (energy p99 0.0089 behind the guard with
# the error detector, against 0.020 with one step; docs/burn.md).
SURROGATES = c12:3.0:1:1 aprox13:0.1:1:2
surrogates: $(STAMP)
	for spec in $(SURROGATES); do \
	  net=$${spec%%:*} rest=$${spec#*:} && ew=$${rest%%:*} rest=$${rest#*:} && \
	  limit=$${rest%%:*} k=$${rest#*:} && \
	  $(VENV)/bin/lawful burn surrogate generate --network $$net --out runs/surrogate/data_$$net && \
	  $(VENV)/bin/lawful burn surrogate train --data runs/surrogate/data_$$net --energy-weight $$ew \
	    --error-limit $$limit --predictor-substeps $$k --out runs/surrogate/model_$$net && \
	  mkdir -p src/lawful/burn/surrogate/models/$$net && \
	  cp runs/surrogate/model_$$net/model.pt src/lawful/burn/surrogate/models/$$net/ || exit 1; \
	done

clean:
	rm -rf $(VENV) runs benchmarks/_build
