"""Benchmarks for the inbox store; run `python bench/run.py` from the repository root."""
