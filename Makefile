# Everyday commands. `make run` and `make test` are the two a newcomer needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)

.PHONY: run test lint typecheck fmt pytest migrate lock bench clean-venv sysdeps

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: sysdeps $(STAMP)

# libmagic is the one system library the runtime needs; installed only when missing.
sysdeps:
	@scripts/sysdeps.sh

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: migrate
	@$(BIN)/python manage.py first_steps
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy .

pytest: venv
	scripts/pytest-all.sh

test: lint typecheck pytest

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:
	uv pip compile pyproject.toml --all-extras --generate-hashes --python-version 3.11 -o requirements.lock

bench: venv
	$(BIN)/python bench/p1_hashing.py
	$(BIN)/python bench/p2_ingest.py
	$(BIN)/python bench/p3_pdq.py
	$(BIN)/python bench/p4_index.py
	$(BIN)/python bench/p5_nudenet.py
