.PHONY: test lint docs docs-check cov ci bench

test:
	pytest

lint:
	ruff check .
	ruff format --check .
	mypy --strict
	lint-imports

docs:
	python scripts/gen_docs.py

docs-check:
	python scripts/gen_docs.py --check

# The coverage floor .ci/run enforces.
cov:
	pytest --cov=conductor_integrations --cov-report=term-missing:skip-covered --cov-fail-under=90

# Every gate, from a fresh virtual environment (.venv): what CI runs.
ci:
	.ci/run

bench:
	python benchmarks/bench.py
