.PHONY: test lint docs bench

test:
	pytest

lint:
	ruff check .
	ruff format --check .
	mypy

docs:
	python scripts/gen_docs.py

bench:
	python benchmarks/bench.py
