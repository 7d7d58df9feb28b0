# make train: set up a virtual environment (if needed) and train the default experiment (cartpole).
# make test:  set up the environment (if needed), lint, and run the test suite (notebooks included).
# make test-fast: the suite without the `slow` tests (under 3 minutes); make docs: the site in site/;
# make vendor: the shared checks' generated blocks in the network files.
# make bench: speed measurements; make soak: the 1M-step memory soak (both write benchmarks/results/).
# make bench-peers: CartPole (DQN) and Pendulum (TD3) against Stable-Baselines3, in its own .venv-peers (optional, ~45 minutes).
#
# Two stacks, picked by the Python that builds the environment (PYTHON=..., else the first supported
# one found): Python 3.9-3.11 -> the current stack in .venv (TensorFlow 2.15, dm-reverb: everything);
# Python 3.12/3.13 -> the modern stack in .venv-modern (TensorFlow 2.21 + tf-keras; no Reverb, so no
# prioritized replay and no distributed roles). Example: make test PYTHON=python3.13
PYTHON ?= $(shell for p in python3.11 python3.10 python3.9 python3 python3.13 python3.12; do \
	$$p -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1 \
	&& { command -v $$p; break; }; done)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STACK  := $(if $(filter 3.9 3.10 3.11,$(PYVER)),current,$(if $(filter 3.12 3.13,$(PYVER)),modern,none))
VENV   := $(if $(filter modern,$(STACK)),.venv-modern,.venv)
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PIP    := $(PY) -m pip install -q

.PHONY: setup train test test-fast lint vendor docs bench bench-peers soak clean stack

stack:
ifeq ($(STACK),none)
	@echo "make: no supported Python ('$(PYTHON)' is '$(if $(PYVER),$(PYVER),not found)'). Install Python 3.11" \
	      "(the current stack: TensorFlow 2.15 with Reverb) or Python 3.12/3.13 (the modern stack: TensorFlow" \
	      "2.21, no Reverb), then run: make $(or $(MAKECMDGOALS),setup) PYTHON=python3.11" >&2; exit 1
endif
	@echo "stack: $(STACK) (Python $(PYVER) from $(PYTHON), environment $(VENV))"

$(STAMP): requirements/current.txt requirements/modern.txt requirements/envs.txt requirements/dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
ifeq ($(STACK),modern)
	$(PIP) -r requirements/modern.txt -r requirements/envs.txt -r requirements/dev.txt
	$(PIP) --no-deps tf-agents==0.19.0
	$(PIP) --no-deps -e .
	$(PY) -m pip check | grep -v '^tf-agents 0.19.0 ' || true   # tf-agents' own stale pins, known and unused
else
	$(PIP) -r requirements/current.txt -r requirements/envs.txt -r requirements/dev.txt
	$(PIP) --no-deps -e .
	$(PY) -m pip check
endif
	touch $(STAMP)

setup: stack $(STAMP)

train: stack $(STAMP)
	$(VENV)/bin/tfa-nets train cartpole

lint: stack $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) tools/vendor_networks.py --check

# The docs site (guides, the README as its home page, the API reference from the docstrings) into site/;
# --strict: a warning, a broken link or a name that does not resolve fails the build.
docs: stack $(STAMP)
	$(PY) -m mkdocs build --strict

# Writes the generated block at the end of each network file from tfa_custom_nets/networks/_shared.py.
vendor: stack $(STAMP)
	$(PY) tools/vendor_networks.py

test: lint
	$(PY) -m pytest -n 2   # two workers (pytest-xdist): the two cores of the CI machine

# The inner loop: everything but the tests marked `slow` (whole training runs, subprocess round trips).
test-fast: stack $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow"

bench: stack $(STAMP)
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/reverb_sampling.py
	$(PY) benchmarks/time_to_solve.py
	$(PY) benchmarks/replay_memory.py
	$(PY) benchmarks/branching_update.py
	$(PY) benchmarks/robot_arm_paths.py
	$(PY) benchmarks/distributed.py

# Stable-Baselines3 (CPU torch) in its own environment: never beside TensorFlow. Python 3.11, as the CPU
# torch wheel kept in /opt/wheels (installed first where it exists; PyPI's default torch is the CUDA build).
PEERS_PYTHON ?= python3.11
PEERS := .venv-peers
$(PEERS)/.installed: requirements/peers.txt
	test -x $(PEERS)/bin/python || $(PEERS_PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl) -r requirements/peers.txt
	touch $@

bench-peers: stack $(STAMP) $(PEERS)/.installed
	$(PY) benchmarks/peers.py --peers-python $(PEERS)/bin/python
	$(PY) benchmarks/peers.py --preset pendulum_td3 --seeds 1 2 3 4 5 --peers-python $(PEERS)/bin/python

# About 30 minutes on 2 cores: 1M env steps of cartpole per replay backend, resident memory every 50k steps.
soak: stack $(STAMP)
	$(PY) benchmarks/soak.py
	$(PY) benchmarks/soak.py --set "replay.backend='memory'" --out soak_memory

clean:
	rm -rf .venv .venv-modern .venv-peers runs .pytest_cache .ruff_cache
