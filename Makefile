# leadsync: `make demo` runs the job on the local world, `make test` runs every check.
# Both create the virtual environments they need: .venv (application and tests),
# .venv-sam (the SAM CLI, which pins its own boto3 and pydantic), .venv-checkov (checkov) and
# .venv-docs (mkdocs-material, which builds the docs/ site).

# The functions run on AWS Lambda's python3.13 runtime (python3.11 functions can no longer be
# created or updated since 2026); every venv and `sam build` use the same interpreter:
# python3.13 from the PATH, else pyenv's 3.13, else PYTHON=/path/to/python3.13.
PYTHON ?= $(shell python3.13 -c '' >/dev/null 2>&1 && command -v python3.13 || \
  ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1)
ifeq ($(strip $(PYTHON)),)
  $(error Python 3.13 not found: install it (pyenv install 3.13, or apt-get install python3.13) or pass PYTHON=)
endif
PYTHON_DIR := $(dir $(PYTHON))
VENV := .venv
SAMVENV := .venv-sam
CHECKOVVENV := .venv-checkov
DOCSVENV := .venv-docs
PY := $(VENV)/bin/python
# `sam build` looks for the runtime's interpreter (python3.13) on the PATH
SAM := PATH="$(PYTHON_DIR):$$PATH" SAM_CLI_TELEMETRY=0 $(SAMVENV)/bin/sam
PIP_FLAGS := --quiet --disable-pip-version-check
CODE := layers/leadsync functions local tests benchmarks

.PHONY: demo demo-stop chaos replay test test-fast lint typecheck cfn-lint checkov validate build docs pytest browser bench-simulator bench-limiter bench-coldstart bench-sync bench-calls bench-bulk bench-realtime clean

$(VENV)/.installed-py313: requirements-dev.txt layers/leadsync/requirements.txt
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements-dev.txt
	touch $@

$(SAMVENV)/.installed-py313: requirements-sam.txt
	rm -rf $(SAMVENV) && $(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(SAMVENV)/bin/pip install $(PIP_FLAGS) -r requirements-sam.txt
	touch $@

$(CHECKOVVENV)/.installed-py313: requirements-checkov.txt
	rm -rf $(CHECKOVVENV) && $(PYTHON) -m venv $(CHECKOVVENV)
	$(CHECKOVVENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(CHECKOVVENV)/bin/pip install $(PIP_FLAGS) -r requirements-checkov.txt
	touch $@

$(DOCSVENV)/.installed-py313: requirements-docs.txt
	rm -rf $(DOCSVENV) && $(PYTHON) -m venv $(DOCSVENV)
	$(DOCSVENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(DOCSVENV)/bin/pip install $(PIP_FLAGS) -r requirements-docs.txt
	touch $@

# Debian's chromium renders the digest e-mail to a picture and tesseract reads it back
# (tests/e2e/test_digest_png.py); installed once, when missing.
browser:
	@command -v chromium >/dev/null && command -v tesseract >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium tesseract-ocr fonts-dejavu-core >/dev/null; }

demo: $(VENV)/.installed-py313 browser
	$(PY) -m local.demo $(if $(KEEP),--keep) $(ARGS)

demo-stop: $(VENV)/.installed-py313
	$(PY) -m local.demo --stop

# The sync over several Marketo days while Marketo, AWS and LiveChat misbehave and upload and
# bulk processes are killed; every visitor accounted for. ARGS="--visitors 1500 --days 2"
# changes the run (see local/chaos/cli.py).
chaos: $(VENV)/.installed-py313
	PYTHONPATH=layers/leadsync $(PY) -m local.chaos $(ARGS)

# Re-drive the dead letters and the error store's records after a fix: on the world a
# `make demo KEEP=1` left running, then delivered to the upload; with STACK=name, on AWS.
# DRY_RUN=1 shows what would be re-driven; ARGS="--since 2026-01-15 --max 100" narrows it.
replay: $(VENV)/.installed-py313
	PYTHONPATH=layers/leadsync $(PY) -m $(if $(STACK),leadsync.ops.cli replay --stack $(STACK),local.replay) $(if $(DRY_RUN),--dry-run) $(ARGS)

test: lint typecheck cfn-lint checkov validate build docs pytest

lint: $(VENV)/.installed-py313
	$(VENV)/bin/ruff check $(CODE)

typecheck: $(VENV)/.installed-py313
	$(VENV)/bin/mypy $(CODE)

cfn-lint: $(VENV)/.installed-py313
	$(VENV)/bin/cfn-lint template.yaml

# Security checks of template.yaml; every skip is justified beside its resource (Metadata).
# --skip-download: no call to the vendor's platform, the checks shipped with checkov only.
checkov: $(CHECKOVVENV)/.installed-py313
	$(CHECKOVVENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

validate: $(SAMVENV)/.installed-py313
	$(SAM) validate --lint

build: $(SAMVENV)/.installed-py313
	$(SAM) build

# The docs/ site (mkdocs.yml); --strict turns every warning (a broken link, a page missing
# from the nav) into a failure. The site is written under .local/, which git ignores.
docs: $(DOCSVENV)/.installed-py313
	NO_MKDOCS_2_WARNING=1 $(DOCSVENV)/bin/mkdocs build --strict --site-dir .local/site

pytest: $(VENV)/.installed-py313 browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The inner loop, under a minute: the product's unit tests, the simulators', the local world's
# unit-level pieces and the contract tests; no moto server, no stack, no browser. Hypothesis's
# property tests (marked `hypothesis` by its plugin) are the slow half and run in `make test`.
test-fast: $(VENV)/.installed-py313
	$(VENV)/bin/pytest -q -m "not e2e and not integration and not hypothesis" \
	  tests/unit tests/simulators tests/local tests/contract $(PYTEST_ARGS)

bench-simulator: $(VENV)/.installed-py313
	$(PY) benchmarks/marketo_sim_throughput.py

bench-limiter: $(VENV)/.installed-py313
	$(PY) benchmarks/limiter_bench.py $(ARGS)

bench-coldstart: $(VENV)/.installed-py313
	$(PY) benchmarks/coldstart.py $(ARGS)

bench-sync: $(VENV)/.installed-py313
	$(PY) benchmarks/sync_scaling.py $(ARGS)

# Marketo calls of one sync on Grouparoo's two published workloads (300 and 1,000 changed
# users, 5 lists) against their arithmetic and the lower bound.
bench-calls: $(VENV)/.installed-py313
	$(PY) benchmarks/calls_bench.py $(ARGS)

# 100,000 visitors through the REST path only, then through the automatic REST-or-bulk
# choice; ARGS="--visitors 20000 --rows-per-second 500" changes the run.
bench-bulk: $(VENV)/.installed-py313
	$(PY) benchmarks/bulk_bench.py $(ARGS)

# Webhook latency (send to lead in Marketo) while the hourly run keeps its lane at the budget.
bench-realtime: $(VENV)/.installed-py313
	$(PY) benchmarks/realtime_bench.py $(ARGS)

clean:
	rm -rf .aws-sam .local .mypy_cache .pytest_cache .ruff_cache .venv-docs
