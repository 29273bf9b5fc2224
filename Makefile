# Everyday commands. `make run` and `make test` are the two a newcomer needs (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)

.PHONY: run test lint typecheck fmt pytest migrate lock bench clean-venv sysdeps sysdeps-test assets

# The lock is complete (uv resolves every dependency), so it is installed with --no-deps: that keeps out what
# requirements-overrides.txt removed (torch and opencv-python, declared by the watermark tests' encoder).
# --no-compile: pip would compile every module of every package (105 → 59 s for the install on a 2-core VM,
# before anything else can start); Python compiles what is imported, once, on first import instead.
$(STAMP): requirements.lock pyproject.toml requirements-overrides.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --no-compile -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: sysdeps $(STAMP) assets

# System packages (libmagic, the report font, gettext; with --test also poppler and Chromium), only when missing.
sysdeps:
	@scripts/sysdeps.sh

# After `sysdeps`, never beside it: `make -j` would otherwise run two apt-gets, and one would find dpkg locked.
sysdeps-test: sysdeps
	@scripts/sysdeps.sh --test

# The portal's front-end packages come from the npm registry at build time (package-lock.json) and are served
# from our own static files: the network the portal runs on has no CDN. Catalogues are compiled here too.
ASSETS := portal/static/portal/vendor/.installed-$(shell cat package-lock.json | sha256sum | cut -c1-16)
$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@rm -rf portal/static/portal/vendor && mkdir -p portal/static/portal/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/cytoscape/dist/cytoscape.min.js portal/static/portal/vendor/
	cp node_modules/vis-timeline/standalone/umd/vis-timeline-graph2d.min.js \
	   node_modules/vis-timeline/styles/vis-timeline-graph2d.min.css portal/static/portal/vendor/
	@touch $(ASSETS)

assets: sysdeps $(ASSETS) $(STAMP)
	@$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules >/dev/null

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: migrate
	@$(BIN)/python manage.py first_steps
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python scripts/check_layers.py

typecheck: venv
	$(BIN)/mypy .

pytest: venv sysdeps-test
	scripts/pytest-all.sh

# Lint, types and the suite at once, each printing its report as a block: mypy holds one core for about 50 s
# (a clean clone has no cache), which the suite's workers share instead of waiting, and the set-up they share
# runs its independent steps side by side (npm beside pip). Any of the three failing fails `make test`.
test:
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck pytest

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:
	uv pip compile pyproject.toml --all-extras --generate-hashes --python-version 3.11 \
		--override requirements-overrides.txt -o requirements.lock

bench: venv
	$(BIN)/python bench/p1_hashing.py
	$(BIN)/python bench/p2_ingest.py
	$(BIN)/python bench/p3_pdq.py
	$(BIN)/python bench/p4_index.py
	$(BIN)/python bench/p5_nudenet.py
	$(BIN)/python bench/p6_report.py
	$(BIN)/python bench/p7_portal.py
